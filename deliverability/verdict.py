"""A receiving server's verdict on one message, as it would judge it on arrival.

Every DKIM signature verified by dkimpy against the keys in DNS, and the header sanity receivers
enforce (one From, Date, Message-ID, a Reply-To on the catchall domain): what a real message adds to
the judgement Domain Health makes of its domains (``judgement.judge``, the same function, with the
same SPF and DMARC facts). The outcome: delivered, sent to spam, rejected (or not judged when DNS
did not answer), with the reason and the fixes.
"""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from email.headerregistry import Address
from email.parser import BytesHeaderParser

import dkim as dkimpy
from dkim.util import InvalidTagValueList, parse_tag_value

from . import checks, dmarc, event_loop, judgement, spf_eval
from .dns import Resolver
from .domains import normalize_domain
from .judgement import LOST_REPLIES, DkimResult, SpfResult
from .texts import _lt


@dataclass(frozen=True)
class Verdict(judgement.Judgement):
    """A ``Judgement`` of a real message, with the header problems receivers enforce; ``expected``
    is the judgement of its domains' facts alone (Domain Health's and the Sending Preview's answer),
    when they were given."""

    header_problems: tuple[str, ...] = ()
    expected: judgement.Judgement | None = None

    def additions(self) -> tuple[str, ...]:
        """What the real message adds to ``expected``: its header problems, and its signatures where
        they are not what the database's published keys promised."""
        if self.expected is None:
            return ()
        lines = list(self.header_problems)
        promised = {  # the database's keys Domain Health found published as stored
            (r.domain, r.selector)
            for r in self.expected.dkim
            if r.signer is judgement.Signer.DATABASE and r.result == "pass"
        }
        carried = {(r.domain, r.selector): r for r in self.dkim if r.signer is judgement.Signer.MESSAGE}
        for domain, selector in sorted(promised - set(carried)):
            lines.append(
                _lt("the message is not signed with %(selector)s._domainkey.%(domain)s, published for it")
                % {"selector": selector, "domain": domain}
            )
        lines += [
            _lt("its signature %(selector)s._domainkey.%(domain)s gives %(result)s (%(reason)s)")
            % {"selector": r.selector, "domain": r.domain, "result": r.result, "reason": r.reason}
            for key, r in sorted(carried.items())
            if r.result != "pass"
        ]
        return tuple(lines)

    @property
    def dmarc_policy(self) -> str | None:
        return self.policy.policy

    @property
    def dmarc_record_domain(self) -> str | None:
        return self.policy.record_domain


class _Log:
    """Collects what dkimpy says while verifying (its errors are the reasons)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def error(self, text, *args) -> None:
        self.messages.append(str(text) % args if args else str(text))

    warning = info = error

    def debug(self, *args) -> None:
        pass

    def isEnabledFor(self, level) -> bool:  # noqa: N802 - logging's name
        return False


def _domain(address: str | None) -> str | None:
    local, at, domain = (address or "").strip().strip("<>").rpartition("@")
    if not at or not local:
        return None
    try:
        return normalize_domain(domain)
    except ValueError:
        return None


async def _verify_dkim(message: bytes, resolver: Resolver) -> tuple[DkimResult, ...]:
    log = _Log()
    verifier = dkimpy.DKIM(message, logger=log)
    signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    tags = []
    for value in signatures:
        try:
            fields = parse_tag_value(value)
        except InvalidTagValueList:
            fields = {}
        tags.append(tuple(fields.get(tag, b"").decode("ascii", "replace") for tag in (b"d", b"s")))
    names = {f"{s}._domainkey.{d}" for d, s in tags if d and s}
    answers = dict(zip(names, await asyncio.gather(*(resolver.query(n, "TXT") for n in names)), strict=True))

    def dnsfunc(name, timeout=5):
        answer = answers.get(name.decode("ascii", "replace").rstrip("."))
        return answer.records[0].encode() if answer and len(answer.records) == 1 else None

    results = []
    for index, (domain, selector) in enumerate(tags):
        answer = answers.get(f"{selector}._domainkey.{domain}")
        if answer is not None and not answer.answered:
            reason = f"DNS did not answer for the key ({answer.status.value})"
            results.append(DkimResult(domain, selector, "temperror", reason))
            continue
        if answer is not None and not answer.records:
            reason = f"no key is published at {selector}._domainkey.{domain}"
            results.append(DkimResult(domain, selector, "permerror", reason))
            continue
        log.messages.clear()
        try:
            ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
        except dkimpy.DKIMException as exc:
            ok, log.messages = False, [str(exc)]
        reason = "the signature verifies" if ok else (log.messages or ["the signature does not verify"])[-1]
        results.append(DkimResult(domain, selector, "pass" if ok else "fail", reason))
    return tuple(results)


def _header_problems(message: bytes, envelope_from: str, catchall_domain: str | None) -> tuple[list, list]:
    """``(fatal, spam)``: header problems receivers refuse a message for, and those that send it to spam."""
    headers = BytesHeaderParser(policy=email.policy.default).parsebytes(message)
    fatal, spam = [], []
    froms = headers.get_all("From") or []
    addresses = [a for h in froms for a in getattr(h, "addresses", ())]
    if len(froms) != 1:
        fatal.append(f"the message has {len(froms)} From headers: it must have exactly one")
    elif len(addresses) != 1:
        fatal.append(f"the From header names {len(addresses)} addresses: it must name one")
    for name in ("Date", "Message-ID"):
        count = len(headers.get_all(name) or [])
        if count != 1:
            spam.append(f"the message has {count} {name} headers: it must have exactly one")
    reply_to = [a for h in headers.get_all("Reply-To") or [] for a in getattr(h, "addresses", ())]
    if catchall_domain:
        outside = [a.addr_spec for a in reply_to if _domain(a.addr_spec) != catchall_domain]
        if not reply_to:
            spam.append(f"there is no Reply-To on the catchall domain {catchall_domain}: {LOST_REPLIES}")
        elif outside:
            where = f"Reply-To {', '.join(outside)} is not on the catchall domain {catchall_domain}"
            spam.append(f"{where}: {LOST_REPLIES}")
    return_path = headers.get("Return-Path")
    empty_header = return_path is not None and not str(return_path).strip("<> ")
    if not (envelope_from or "").strip("<> ") or empty_header:
        spam.append("the Return-Path (envelope sender) is empty: receivers take the message for a bounce")
    return fatal, spam


def from_address(message: bytes) -> Address | None:
    """The single address of the message's From header, if it has one."""
    header = BytesHeaderParser(policy=email.policy.default).parsebytes(message).get("From")
    addresses = getattr(header, "addresses", ()) if header is not None else ()
    return addresses[0] if len(addresses) == 1 else None


async def judge(
    message: bytes,
    envelope_from: str,
    sending_ips: Sequence[str],
    resolver: Resolver,
    *,
    helo: str | None = None,
    catchall_domain: str | None = None,
    facts: Mapping[str, judgement.DomainFacts] | None = None,
) -> Verdict:
    """What a receiver would do with ``message`` sent with MAIL FROM ``envelope_from`` from
    ``sending_ips``: ``judgement.judge`` of its real signatures and headers.

    ``facts`` (``checks`` reports' facts by domain, as Domain Health has them) give the SPF of the
    envelope domain, the DMARC policy of the From domain and the signatures the provider adds after
    the message left the database, so that the answer is Domain Health's plus what the real
    message adds; without them SPF is check_host() of ``sending_ips`` and the policy is looked up.
    """
    author = from_address(message)
    from_domain = _domain(author.addr_spec) if author else None
    envelope_domain = _domain(envelope_from) or (helo or None)
    fatal, spam = _header_problems(message, envelope_from, catchall_domain)
    facts = facts or {}
    envelope_facts, from_facts = facts.get(envelope_domain or ""), facts.get(from_domain or "")
    signatures = await _verify_dkim(message, resolver)
    if envelope_facts is not None:
        spf_results = envelope_facts.spf
    else:
        spf_results = await _spf(envelope_from, envelope_domain, sending_ips, helo, resolver)
    if from_facts is not None:
        policy = from_facts.policy
        signatures += tuple(r for r in from_facts.dkim if r.signer is judgement.Signer.PROVIDER)
    else:
        policy = judgement.policy_of(await dmarc.discover(from_domain, resolver) if from_domain else None)
    found = judgement.judge(
        from_domain, envelope_domain, spf_results, signatures, policy, fatal=fatal, spam=spam
    )
    expected = None
    if envelope_facts is not None and from_facts is not None:
        expected = judgement.judge(
            from_domain, envelope_domain, envelope_facts.spf, from_facts.dkim, from_facts.policy
        )
    values = {f.name: getattr(found, f.name) for f in fields(found)}
    return Verdict(**values, header_problems=(*fatal, *spam), expected=expected)


async def _spf(envelope_from, envelope_domain, sending_ips, helo, resolver) -> tuple[SpfResult, ...]:
    if not envelope_domain:
        return ()
    sender = envelope_from if _domain(envelope_from) else f"postmaster@{envelope_domain}"
    hosts = await asyncio.gather(
        *(spf_eval.check_host(ip, sender, helo or envelope_domain, resolver) for ip in sending_ips)
    )
    return tuple(
        SpfResult(ip, envelope_domain, h.result, h.reason) for ip, h in zip(sending_ips, hosts, strict=True)
    )


def run(message: bytes, envelope_from: str, options, run_options, **kwargs) -> Verdict:
    """Blocking ``judge`` (Odoo, scripts) with the facts of a Domain Health check (``checks``, with
    ``options``) of the From and envelope domains, through one resolver built from ``run_options``."""

    async def main():
        resolver = run_options.resolver()
        author = from_address(message)
        names = {d for d in (_domain(author.addr_spec) if author else None, _domain(envelope_from)) if d}
        reports = await checks.check_domains(
            sorted(names), resolver, options, deadline=run_options.domain_deadline
        )
        facts = {r.domain: r.facts for r in reports if r.facts is not None}
        return await judge(message, envelope_from, options.sending_ips, resolver, facts=facts, **kwargs)

    return event_loop.run(main())
