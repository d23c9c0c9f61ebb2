"""A receiving server's verdict on one message, as it would judge it on arrival.

SPF ``check_host()`` of the envelope domain for each sending IP, every DKIM signature verified by
dkimpy against the keys in DNS, DMARC alignment of the From domain with the SPF and DKIM domains and
the policy that applies, and the header sanity receivers enforce (one From, Date, Message-ID).
The outcome: delivered, sent to spam, rejected (or not judged when DNS did not answer), with the
reason and the fixes.
"""

from __future__ import annotations

import asyncio
import email.policy
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.parser import BytesHeaderParser

import dkim as dkimpy
from dkim.util import InvalidTagValueList, parse_tag_value

from . import dmarc, spf_eval
from .dns import DnsResolver, Resolver
from .domains import normalize_domain, organizational_domain
from .texts import _lt

LOST_REPLIES = "replies do not come back to the chatter"
_SPF_ORDER = ("pass", "neutral", "none", "softfail", "fail", "permerror", "temperror")


class Outcome(str, enum.Enum):
    DELIVERED = "delivered"
    SPAM = "spam"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # DNS did not answer: a receiver would defer it

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.DELIVERED: "would be delivered",
    Outcome.SPAM: "would be sent to spam",
    Outcome.REJECTED: "would be rejected",
    Outcome.UNKNOWN: "could not be judged: DNS did not answer",
}
_RANK = {Outcome.DELIVERED: 0, Outcome.SPAM: 1, Outcome.UNKNOWN: 2, Outcome.REJECTED: 3}


@dataclass(frozen=True)
class SpfResult:
    ip: str
    domain: str
    result: str  # RFC 7208 result
    reason: str


@dataclass(frozen=True)
class DkimResult:
    domain: str
    selector: str
    result: str  # pass, fail, temperror, permerror
    reason: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    fixes: tuple[str, ...]
    from_domain: str | None
    envelope_domain: str | None
    spf: tuple[SpfResult, ...]
    dkim: tuple[DkimResult, ...]
    spf_aligned: bool
    dkim_aligned: bool
    dmarc_policy: str | None
    dmarc_record_domain: str | None
    header_problems: tuple[str, ...]

    @property
    def spf_result(self) -> str:
        """The worst result over the sending IPs (the relay may use any of them); ``none`` without IPs."""
        return max((r.result for r in self.spf), key=_SPF_ORDER.index, default="none")

    @property
    def dmarc_pass(self) -> bool:
        return self.spf_aligned or self.dkim_aligned


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


def aligned(domain: str | None, from_domain: str | None, mode: str = "r") -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): strict is equality, relaxed the same organizational
    domain."""
    if not domain or not from_domain:
        return False
    if mode == "s":
        return domain == from_domain
    return organizational_domain(domain) == organizational_domain(from_domain)


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
) -> Verdict:
    """What a receiver would do with ``message`` sent with MAIL FROM ``envelope_from`` from
    ``sending_ips``."""
    author = from_address(message)
    from_domain = _domain(author.addr_spec) if author else None
    envelope_domain = _domain(envelope_from) or (helo or None)
    fatal, spam = _header_problems(message, envelope_from, catchall_domain)
    spf_results: list[SpfResult] = []
    if envelope_domain:
        sender = envelope_from if _domain(envelope_from) else f"postmaster@{envelope_domain}"
        hosts = await asyncio.gather(
            *(spf_eval.check_host(ip, sender, helo or envelope_domain, resolver) for ip in sending_ips)
        )
        spf_results = [
            SpfResult(ip, envelope_domain, h.result, h.reason)
            for ip, h in zip(sending_ips, hosts, strict=True)
        ]
    dkim_results, discovery = await asyncio.gather(
        _verify_dkim(message, resolver),
        dmarc.discover(from_domain, resolver) if from_domain else _nothing(),
    )
    record = discovery.record if discovery else None
    adkim, aspf = (record.adkim, record.aspf) if record else ("r", "r")
    spf = max((r.result for r in spf_results), key=_SPF_ORDER.index, default="none")
    spf_aligned = bool(spf_results) and spf == "pass" and aligned(envelope_domain, from_domain, aspf)
    dkim_aligned = any(r.result == "pass" and aligned(r.domain, from_domain, adkim) for r in dkim_results)
    policy = discovery.policy if discovery else None
    outcome, reason, fixes = _decide(
        from_domain, envelope_domain, spf, spf_results, sending_ips, dkim_results, spf_aligned, dkim_aligned,
        discovery, fatal, spam,
    )  # fmt: skip
    return Verdict(
        outcome,
        reason,
        tuple(fixes),
        from_domain,
        envelope_domain,
        tuple(spf_results),
        dkim_results,
        spf_aligned,
        dkim_aligned,
        policy,
        discovery.record_domain if discovery else None,
        (*fatal, *spam),
    )


def run(message: bytes, envelope_from: str, sending_ips: Sequence[str], run_options, **kwargs) -> Verdict:
    """Blocking ``judge`` (Odoo, scripts), through a resolver built from ``run_options``
    (``checks.RunOptions``)."""

    async def main():
        resolver = DnsResolver(
            list(run_options.nameservers), timeout=run_options.timeout, lifetime=run_options.lifetime
        )
        return await judge(message, envelope_from, sending_ips, resolver, **kwargs)

    return asyncio.run(main())


async def _nothing():
    return None


def _decide(from_domain, envelope_domain, spf, spf_results, sending_ips, dkim_results, spf_aligned,
            dkim_aligned, discovery, fatal, spam):  # fmt: skip
    fixes: list[str] = []
    if not from_domain:
        return Outcome.REJECTED, fatal[0] if fatal else _lt("the From header has no usable address"), fixes
    passing = [r for r in dkim_results if r.result == "pass"]
    if spf != "pass" and spf_results:
        ips = " ".join(("ip6:" if ":" in ip else "ip4:") + ip for ip in sending_ips)
        fixes.append(
            f"authorize the sending servers in the SPF record of {envelope_domain}"
            f" ({ips}, or your provider's include:)"
        )
    elif spf == "pass" and not spf_aligned:
        fixes.append(f"send with an envelope sender (Return-Path) on {from_domain}: set the catchall domain")
    if not dkim_results:
        fixes.append(f"create a DKIM key for {from_domain} (DKIM Keys in the technical settings), publish it")
    elif not passing:
        fixes += [f"DKIM {r.selector}._domainkey.{r.domain}: {r.reason}" for r in dkim_results]
    elif not dkim_aligned:
        signed = ", ".join(r.domain for r in passing)
        fixes.append(f"sign with a DKIM key of {from_domain}: the signatures are for {signed}")
    if fatal:
        return Outcome.REJECTED, fatal[0], fixes
    policy = discovery.policy if discovery else None
    label = (
        _lt("DMARC p=%(policy)s of %(domain)s") % {"policy": policy, "domain": discovery.record_domain}
        if policy
        else _lt("no DMARC policy for %(domain)s") % {"domain": from_domain}
    )
    if spf_aligned or dkim_aligned:
        through = _lt("SPF and DKIM") if spf_aligned and dkim_aligned else "SPF" if spf_aligned else "DKIM"
        if spam:
            return (
                Outcome.SPAM,
                _lt("DMARC passes through %(through)s, but %(spam)s")
                % {
                    "through": through,
                    "spam": spam[0],
                },
                fixes,
            )
        return (
            Outcome.DELIVERED,
            _lt("DMARC passes through aligned %(through)s (%(label)s)")
            % {
                "through": through,
                "label": label,
            },
            fixes,
        )
    temporary = [r for r in dkim_results if r.result == "temperror"]
    if spf == "temperror" or temporary or (discovery is not None and discovery.dns_error):
        return (
            Outcome.UNKNOWN,
            _lt("DNS did not answer for SPF, DKIM or DMARC: a receiver would retry later"),
            fixes,
        )
    why = _unauthenticated(from_domain, envelope_domain, spf, spf_results, dkim_results, passing)
    if policy in ("reject", "quarantine"):
        outcome = Outcome.REJECTED if policy == "reject" else Outcome.SPAM
        return (
            outcome,
            _lt("DMARC fails (%(why)s) and %(label)s asks receivers to %(policy)s it")
            % {
                "why": why,
                "label": label,
                "policy": policy,
            },
            fixes,
        )
    if spf == "pass" or passing:
        if spam:
            return (
                Outcome.SPAM,
                _lt("%(spam)s; DMARC would fail (%(why)s)") % {"spam": spam[0], "why": why},
                fixes,
            )
        return (
            Outcome.DELIVERED,
            _lt("authenticated but DMARC would fail (%(why)s); %(label)s: delivered")
            % {
                "why": why,
                "label": label,
            },
            fixes,
        )
    if spf == "fail":
        return (
            Outcome.REJECTED,
            _lt("SPF fails for %(domain)s and no signature verifies (%(label)s)")
            % {
                "domain": envelope_domain,
                "label": label,
            },
            fixes,
        )
    return (
        Outcome.SPAM,
        _lt("the message is not authenticated (%(why)s; %(label)s)")
        % {
            "why": why,
            "label": label,
        },
        fixes,
    )


def _unauthenticated(from_domain, envelope_domain, spf, spf_results, dkim_results, passing) -> str:
    parts = []
    if not spf_results:
        parts.append(_lt("SPF could not be evaluated: no sending IP is known"))
    elif spf == "pass":
        parts.append(
            _lt("SPF passes for %(envelope)s, which is not aligned with %(domain)s")
            % {"envelope": envelope_domain, "domain": from_domain}
        )
    else:
        parts.append(_lt("SPF gives %(result)s for %(domain)s") % {"result": spf, "domain": envelope_domain})
    if not dkim_results:
        parts.append(_lt("no DKIM signature"))
    elif passing:
        signed = ", ".join(r.domain for r in passing)
        parts.append(
            _lt("DKIM verifies for %(signed)s, not aligned with %(domain)s")
            % {"signed": signed, "domain": from_domain}
        )
    else:
        parts.append(_lt("no DKIM signature verifies"))
    return _lt("%(spf)s, %(dkim)s") % {"spf": parts[0], "dkim": parts[1]}
