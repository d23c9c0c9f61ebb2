"""The published requirements of Gmail, Yahoo and Microsoft for bulk senders, judged one by one on a
message as received (its bytes and a receiver's ``verdict.Verdict`` of it), each with its fix.

Sources (named in readme/DKIM.rst): Google, "Email sender guidelines"
(support.google.com/a/answer/81126); Yahoo, "Sender Best Practices" (senders.yahooinc.com/best-practices);
Microsoft, "Strengthening Email Ecosystem: Outlook's New Requirements for High-Volume Senders"
(Microsoft Defender for Office 365 blog, techcommunity.microsoft.com, April 2025).
Not judged here (a single message cannot show them): the spam rate (below 0.3%), TLS of the
connection, honouring an unsubscribe within two days.
"""

from __future__ import annotations

import asyncio
import email.policy
import enum
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser

import dkim as dkimpy
from dkim.util import InvalidTagValueList, parse_tag_value

from . import event_loop, judgement, unsubscribe, verdict
from .dns import DnsStatus, Resolver
from .findings import Status


class Kind(str, enum.Enum):
    """What the message is to the receivers: transactional or marketing (bulk, to a list)."""

    NOTIFICATION = "notification"
    MASS_MAILING = "mass_mailing"


class Requirement(str, enum.Enum):
    SPF = "spf"
    DKIM = "dkim"
    DMARC_RECORD = "dmarc_record"
    ALIGNMENT = "alignment"
    ONE_CLICK = "one_click"
    FCRDNS = "fcrdns"
    HEADERS = "headers"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def providers(self) -> tuple[str, ...]:
        return _LABELS[self][1]


_ALL = ("Gmail", "Yahoo", "Microsoft")
_LABELS = {
    Requirement.SPF: ("SPF passes for the envelope sender's domain", _ALL),
    Requirement.DKIM: ("A DKIM signature verifies", _ALL),
    Requirement.DMARC_RECORD: ("The From domain publishes a DMARC record (p=none at least)", _ALL),
    Requirement.ALIGNMENT: ("The From domain is aligned with SPF or DKIM (DMARC passes)", _ALL),
    Requirement.ONE_CLICK: (
        "Marketing mail carries a one-click unsubscribe (RFC 8058), signed by DKIM",
        ("Gmail", "Yahoo"),
    ),
    Requirement.FCRDNS: (
        "The sending IP has forward-confirmed reverse DNS (PTR and A/AAAA agree)",
        ("Gmail", "Yahoo"),
    ),
    Requirement.HEADERS: ("One From, one Date and one Message-ID header (RFC 5322)", ("Gmail", "Yahoo")),
}


@dataclass(frozen=True)
class Judged:
    """One requirement on one message: ``status`` None when it does not apply to this kind of mail."""

    requirement: Requirement
    status: Status | None
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class ReverseDns:
    """Forward-confirmed reverse DNS of one IP: ``confirmed`` None when DNS did not answer."""

    ip: str
    names: tuple[str, ...]
    confirmed: bool | None


def signed_fields(message: bytes, verified: Iterable[tuple[str, str]]) -> set[str]:
    """The lower-case names of the header fields covered (h=) by the DKIM signatures of ``message``
    whose (domain, selector) is in ``verified``."""
    verified = {(d.lower(), s.lower()) for d, s in verified}
    names: set[str] = set()
    for name, value in dkimpy.DKIM(message).headers:
        if name.lower() != b"dkim-signature":
            continue
        try:
            tags = parse_tag_value(value)
        except InvalidTagValueList:
            continue
        key = tuple(tags.get(t, b"").decode("ascii", "replace").strip().lower() for t in (b"d", b"s"))
        if key in verified:
            names.update(n.strip().lower() for n in tags.get(b"h", b"").decode("ascii", "replace").split(":"))
    return names


async def reverse_dns(ip: str, resolver: Resolver) -> ReverseDns:
    """The PTR names of ``ip`` and whether one of them resolves back to it (FCrDNS)."""
    address = ipaddress.ip_address(ip)
    answer = await resolver.query(address.reverse_pointer, "PTR")
    if not answer.answered:
        return ReverseDns(ip, (), None)
    names = tuple(r.rstrip(".").lower() for r in answer.records)
    rtype = "AAAA" if address.version == 6 else "A"
    forward = await asyncio.gather(*(resolver.query(name, rtype) for name in names))
    if any(
        a.status is DnsStatus.OK and any(ipaddress.ip_address(r) == address for r in a.records)
        for a in forward
    ):
        return ReverseDns(ip, names, True)
    return ReverseDns(ip, names, None if any(not a.answered for a in forward) else False)


_CONFIRMED = {True: "confirmed", False: "not confirmed", None: "DNS did not answer"}
_NO_IPS = "the sending IPs are not known"
_SET_IPS = "set the sending IPs in the Domain Health settings"


def requirements(
    message: bytes, result: verdict.Verdict, kind: Kind, reverse: Sequence[ReverseDns]
) -> tuple[Judged, ...]:
    """Each requirement judged on ``message`` (bytes as received), ``result`` (the receiver's verdict on
    it) and the reverse DNS of the sending IPs (empty when they are not known)."""
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(message)
    frm = result.from_domain or "the From domain"
    passing = [r for r in result.dkim if r.result == "pass"]
    return (
        _spf(result),
        _dkim(result, passing, frm),
        _dmarc_record(result, frm),
        _alignment(result, frm),
        _one_click(message, headers, passing, kind),
        _fcrdns(reverse),
        _headers(headers),
    )


def _judged(requirement: Requirement, status: Status | None, detail: str, fix: str | None = None) -> Judged:
    return Judged(requirement, status, detail, None if status in (Status.PASS, None) else fix)


def _spf(result: verdict.Verdict) -> Judged:
    if not result.spf:
        return _judged(Requirement.SPF, Status.UNKNOWN, f"{_NO_IPS}: SPF could not be evaluated", _SET_IPS)
    spf = result.spf_result
    status = Status.PASS if spf == "pass" else Status.UNKNOWN if spf == "temperror" else Status.FAIL
    fix = f"authorize the sending servers in the SPF record of {result.envelope_domain}"
    return _judged(Requirement.SPF, status, f"SPF gives {spf} for {result.envelope_domain}", fix)


def _dkim(result: verdict.Verdict, passing: list, frm: str) -> Judged:
    if passing:
        signed = ", ".join(f"{r.domain} ({r.selector})" for r in passing)
        return _judged(Requirement.DKIM, Status.PASS, f"verifies for {signed}")
    if any(r.result == "temperror" for r in result.dkim):
        return _judged(Requirement.DKIM, Status.UNKNOWN, "DNS did not answer for the DKIM key")
    detail = "; ".join(f"{r.selector}._domainkey.{r.domain}: {r.reason}" for r in result.dkim)
    fix = f"create a DKIM key for {frm} (DKIM Keys in the technical settings) and publish it"
    return _judged(Requirement.DKIM, Status.FAIL, detail or "the message is not signed", fix)


def _dmarc_record(result: verdict.Verdict, frm: str) -> Judged:
    if result.dmarc_policy:
        detail = f"p={result.dmarc_policy} at {result.dmarc_record_domain}"
        return _judged(Requirement.DMARC_RECORD, Status.PASS, detail)
    status = Status.UNKNOWN if result.outcome is judgement.Outcome.UNKNOWN else Status.FAIL
    fix = f'publish _dmarc.{frm}. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@{frm}"'
    return _judged(Requirement.DMARC_RECORD, status, f"no DMARC record applies to {frm}", fix)


def _alignment(result: verdict.Verdict, frm: str) -> Judged:
    through = [w for w, ok in (("SPF", result.spf_aligned), ("DKIM", result.dkim_aligned)) if ok]
    if through:
        return _judged(Requirement.ALIGNMENT, Status.PASS, f"aligned through {' and '.join(through)}")
    detail = f"neither SPF ({result.envelope_domain}) nor a DKIM signature is aligned with {frm}"
    fix = f"sign with a DKIM key of {frm}, or send with an envelope sender (catchall domain) on {frm}"
    return _judged(Requirement.ALIGNMENT, Status.FAIL, detail, fix)


def _one_click(message: bytes, headers, passing: list, kind: Kind) -> Judged:
    if kind is not Kind.MASS_MAILING:
        return _judged(Requirement.ONE_CLICK, None, "not required of notifications (transactional mail)")
    found = unsubscribe.one_click(
        headers.items(), signed_fields(message, [(r.domain, r.selector) for r in passing])
    )
    if found.usable:
        return _judged(Requirement.ONE_CLICK, Status.PASS, ", ".join(found.urls))
    fix = "send it as a mass mailing: Odoo adds both headers, this module keeps them intact and signs them"
    return _judged(Requirement.ONE_CLICK, Status.FAIL, "; ".join(found.problems), fix)


def _fcrdns(reverse: Sequence[ReverseDns]) -> Judged:
    if not reverse:
        return _judged(Requirement.FCRDNS, Status.UNKNOWN, _NO_IPS, _SET_IPS)
    if any(r.confirmed is False for r in reverse):
        status = Status.FAIL
    else:
        status = Status.UNKNOWN if any(r.confirmed is None for r in reverse) else Status.PASS
    detail = "; ".join(
        f"{r.ip}: {', '.join(r.names) or 'no PTR'} ({_CONFIRMED[r.confirmed]})" for r in reverse
    )
    fix = "ask the owner of the sending IPs (your provider) for a PTR record naming a host that resolves back"
    return _judged(Requirement.FCRDNS, status, detail, fix)


def _headers(headers) -> Judged:
    counts = {name: len(headers.get_all(name) or []) for name in ("From", "Date", "Message-ID")}
    problems = [f"the message has {count} {name} headers" for name, count in counts.items() if count != 1]
    fix = "send it through Odoo's send path, which writes each of them once"
    return _judged(
        Requirement.HEADERS,
        Status.FAIL if problems else Status.PASS,
        "; ".join(problems) or "one of each",
        fix,
    )


async def judge(
    message: bytes, result: verdict.Verdict, sending_ips: Sequence[str], resolver: Resolver, kind: Kind
) -> tuple[Judged, ...]:
    """The bulk-sender requirements judged on ``message`` and ``result`` (a receiver's verdict on it,
    ``verdict.judge``), with the reverse DNS of ``sending_ips`` looked up."""
    reverse = await asyncio.gather(*(reverse_dns(ip, resolver) for ip in sending_ips))
    return requirements(message, result, kind, reverse)


def run(message: bytes, result: verdict.Verdict, sending_ips: Sequence[str], run_options, kind: Kind):
    """Blocking ``judge`` (Odoo, scripts), through a resolver made from ``run_options``."""
    return event_loop.run(judge(message, result, sending_ips, run_options.resolver(), kind))
