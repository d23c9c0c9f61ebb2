"""DMARC: find the policy that applies to a domain, validate it, and judge what it means for its mail.

Discovery follows RFC 7489 6.6.3 (``_dmarc.<domain>``, then the organizational
domain from the public suffix list); the RFC 9989 DNS tree walk is available with
``tree_walk=True``. Reporting addresses outside the domain's organization must be
authorized by the destination (RFC 7489 7.1).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from dataclasses import dataclass

from .dkim import TagListError, parse_tag_list
from .dns import Resolver
from .domains import normalize_domain, organizational_domain
from .findings import Check, DkimFinding, DmarcFinding, Finding, Status

POLICIES = ("none", "quarantine", "reject")
MAX_WALK_LABELS = 8
KNOWN_TAGS = ("v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "ri", "rf", "psd", "t")
FAILURE_OPTIONS = ("0", "1", "d", "s")
WHY_DMARC = "Gmail and Yahoo require a DMARC record from bulk senders, and receivers trust mail more with one"

_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(;|\Z)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?\Z")


class DmarcParseError(ValueError):
    """A DMARC record that receivers cannot use as written."""


def is_dmarc(text: str) -> bool:
    """True for a TXT record that receivers take as DMARC: it starts with ``v=DMARC1``."""
    return bool(_VERSION.match(text))


@dataclass(frozen=True)
class ReportUri:
    """One ``rua``/``ruf`` destination; ``domain`` is the mailbox's domain for ``mailto:`` URIs."""

    uri: str
    max_size: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record; ``warnings`` are problems receivers ignore (unknown tags, odd URIs)."""

    policy: str
    subdomain_policy: str | None = None
    nonexistent_policy: str | None = None
    pct: int = 100
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()
    adkim: str = "r"
    aspf: str = "r"
    fo: tuple[str, ...] = ("0",)
    ri: int = 86400
    rf: tuple[str, ...] = ("afrf",)
    psd: str | None = None
    testing: bool = False
    warnings: tuple[str, ...] = ()

    def policy_for(self, subdomain: bool) -> str:
        """The policy for the record's own domain, or for a subdomain that inherits it."""
        return (self.subdomain_policy or self.policy) if subdomain else self.policy


def parse_dmarc_record(text: str) -> DmarcRecord:
    """Parse a DMARC record (RFC 7489 6.3, and the RFC 9989 tags np, psd, t).

    Raises ``DmarcParseError`` (a ``ValueError``) naming the tag at fault.
    """
    if not is_dmarc(text):
        raise DmarcParseError("a DMARC record must start with v=DMARC1")
    try:
        raw = parse_tag_list(text, allow_empty=True)
    except TagListError as exc:
        raise DmarcParseError(str(exc)) from None
    tags: dict[str, str] = {}
    for name, value in raw.items():
        if name.lower() in tags:
            raise DmarcParseError(f"tag {name.lower()!r} appears twice")
        tags[name.lower()] = value
    if "p" not in tags:
        raise DmarcParseError("the p= tag (the policy) is missing")
    warnings = [f"unknown tag {name}= is ignored" for name in tags if name not in KNOWN_TAGS]
    rua, rua_warnings = _uris("rua", tags.get("rua"))
    ruf, ruf_warnings = _uris("ruf", tags.get("ruf"))
    rf = _choices_list("rf", tags.get("rf", "afrf"), None)
    if rf != ("afrf",):
        warnings.append(f"rf={':'.join(rf)}: receivers only know afrf")
    return DmarcRecord(
        policy=_choice("p", tags["p"], POLICIES),
        subdomain_policy=_choice("sp", tags["sp"], POLICIES) if "sp" in tags else None,
        nonexistent_policy=_choice("np", tags["np"], POLICIES) if "np" in tags else None,
        pct=_integer("pct", tags.get("pct", "100"), 100),
        rua=rua,
        ruf=ruf,
        adkim=_choice("adkim", tags.get("adkim", "r"), ("r", "s")),
        aspf=_choice("aspf", tags.get("aspf", "r"), ("r", "s")),
        fo=_choices_list("fo", tags.get("fo", "0"), FAILURE_OPTIONS),
        ri=_integer("ri", tags.get("ri", "86400"), 2**32 - 1),
        rf=rf,
        psd=_choice("psd", tags["psd"], ("y", "n", "u")) if "psd" in tags else None,
        testing=_choice("t", tags.get("t", "n"), ("y", "n")) == "y",
        warnings=tuple(warnings + rua_warnings + ruf_warnings),
    )


def _choice(tag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value.lower() not in allowed:
        raise DmarcParseError(f"{tag}={value!r} is invalid: expected {' or '.join(allowed)}")
    return value.lower()


def _choices_list(tag: str, value: str, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    items = tuple(item.strip().lower() for item in value.split(":"))
    for item in items:
        if not item or (allowed and item not in allowed):
            expected = (
                f"a colon-separated list of {', '.join(allowed)}" if allowed else "a colon-separated list"
            )
            raise DmarcParseError(f"{tag}={value!r} is invalid: expected {expected}")
    return items


def _integer(tag: str, value: str, maximum: int) -> int:
    if not value.isascii() or not value.isdigit() or int(value) > maximum:
        raise DmarcParseError(f"{tag}={value!r} is invalid: expected a whole number from 0 to {maximum}")
    return int(value)


def _uris(tag: str, value: str | None) -> tuple[tuple[ReportUri, ...], list[str]]:
    """Parse a comma list of report URIs with an optional ``!size`` suffix."""
    if value is None:
        return (), []
    uris, warnings = [], []
    for item in (part.strip() for part in value.split(",")):
        uri, _, size = item.partition("!")
        if not _SCHEME.match(uri):
            raise DmarcParseError(f"{tag}: {item!r} is not a URI (write mailto:address@domain)")
        if size and not _SIZE.match(size):
            raise DmarcParseError(f"{tag}: size limit !{size} is invalid (e.g. !10m)")
        domain = None
        if uri.lower().startswith("mailto:"):
            address = urllib.parse.unquote(uri[7:].partition("?")[0])
            local, at, host = address.rpartition("@")
            try:
                domain = normalize_domain(host) if local and at else None
            except ValueError:
                domain = None
            if domain is None:
                raise DmarcParseError(f"{tag}: {uri!r} is not a valid mailto: address")
        else:
            warnings.append(f"{tag}: receivers only send reports to mailto: URIs, not {uri}")
        uris.append(ReportUri(uri, size or None, domain))
    return tuple(uris), warnings


@dataclass(frozen=True)
class Discovery:
    """What DMARC discovery found for ``domain``.

    ``record_domain`` is where the DMARC record(s) were found; ``error`` says why they
    cannot be used (several records, invalid record), ``dns_error`` why DNS did not tell.
    """

    domain: str
    record_domain: str | None = None
    record: DmarcRecord | None = None
    texts: tuple[str, ...] = ()
    error: str = ""
    dns_error: str = ""
    ignored: tuple[str, ...] = ()

    @property
    def inherited(self) -> bool:
        return self.record_domain is not None and self.record_domain != self.domain

    @property
    def policy(self) -> str | None:
        return self.record.policy_for(self.inherited) if self.record else None


def _candidates(domain: str, tree_walk: bool) -> list[str]:
    if not tree_walk:
        org = organizational_domain(domain)
        return [domain] if org == domain else [domain, org]
    labels = domain.split(".")
    names = [domain]
    if len(labels) >= MAX_WALK_LABELS:
        labels = labels[-(MAX_WALK_LABELS - 1) :]
        names.append(".".join(labels))
    while len(labels) > 1:
        labels = labels[1:]
        names.append(".".join(labels))
    return list(dict.fromkeys(names))


async def discover(domain: str, resolver: Resolver, *, tree_walk: bool = False) -> Discovery:
    """Find the DMARC record that applies to ``domain``.

    RFC 7489: ``_dmarc.<domain>``, then ``_dmarc.<organizational domain>``. With
    ``tree_walk`` (RFC 9989), every parent up to the top-level domain, starting at
    most 7 labels up. The first name holding DMARC records ends the search.
    """
    names = _candidates(domain, tree_walk)
    answers = await asyncio.gather(*(resolver.query(f"_dmarc.{name}", "TXT") for name in names))
    ignored: list[str] = []
    for name, answer in zip(names, answers, strict=True):
        if not answer.answered:
            return Discovery(domain, dns_error=f"_dmarc.{name}: {answer.status.value}")
        texts = tuple(t for t in answer.records if is_dmarc(t))
        ignored += [t for t in answer.records if not is_dmarc(t) and "dmarc" in t.lower()]
        if len(texts) > 1:
            error = f"{len(texts)} DMARC records at _dmarc.{name}: receivers ignore them all (RFC 7489)"
            return Discovery(domain, name, texts=texts, error=error, ignored=tuple(ignored))
        if texts:
            try:
                record = parse_dmarc_record(texts[0])
            except DmarcParseError as exc:
                error = f"the DMARC record at _dmarc.{name} is invalid: {exc}"
                return Discovery(domain, name, texts=texts, error=error, ignored=tuple(ignored))
            return Discovery(domain, name, record, texts, ignored=tuple(ignored))
    return Discovery(domain, ignored=tuple(ignored))


async def policy_of(domain: str, resolver: Resolver) -> str | None:
    """The DMARC policy (none, quarantine, reject) that applies to ``domain`` or an address's domain.

    ``None`` when there is no usable record or DNS did not answer. Raises ``ValueError``
    for something that is not a domain name.
    """
    return (await discover(normalize_domain(domain), resolver)).policy


def record_fix(domain: str) -> str:
    """The starting DMARC record: reports only, sent to the domain's postmaster."""
    return f'_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@{domain}"'


async def check(
    domain: str, resolver: Resolver, spf: Finding, dkim: tuple[DkimFinding, ...], *, tree_walk: bool = False
) -> DmarcFinding:
    """Judge the DMARC policy of ``domain`` given its SPF and DKIM findings.

    With p=quarantine or p=reject mail must pass SPF (finding PASS) or DKIM (a finding
    PASS or WARNING: its signatures verify), or receivers quarantine or reject it.
    """
    found = await discover(domain, resolver, tree_walk=tree_walk)
    ignored = tuple(f"ignored TXT record (does not start with v=DMARC1): {t}" for t in found.ignored)
    if found.dns_error:
        summary = f"DMARC could not be checked: DNS did not answer for {found.dns_error}"
        return DmarcFinding(Check.DMARC, Status.UNKNOWN, summary)
    if found.error:
        details = (*(f"record: {t}" for t in found.texts), *ignored)
        return DmarcFinding(Check.DMARC, Status.FAIL, found.error, details, record_domain=found.record_domain)
    if found.record is None:
        summary = f"{domain} has no DMARC record: {WHY_DMARC}"
        details = (*ignored, "start with p=none to receive reports, then move to quarantine or reject")
        return DmarcFinding(Check.DMARC, Status.WARNING, summary, details, record_fix(domain))
    return await _judge(found, resolver, spf, dkim)


async def _judge(
    found: Discovery, resolver: Resolver, spf: Finding, dkim: tuple[DkimFinding, ...]
) -> DmarcFinding:
    record, policy = found.record, found.policy
    tag = "sp" if found.inherited and record.subdomain_policy else "p"
    label = f"{tag}={policy}" + (f" (inherited from {found.record_domain})" if found.inherited else "")
    details = [f"record at _dmarc.{found.record_domain}: {found.texts[0]}"]
    if found.inherited:
        details.append(
            f"{found.domain} has no record of its own; the {tag}= of {found.record_domain} applies"
        )
    if record.pct < 100 and policy != "none":
        details.append(f"pct={record.pct}: the policy applies to {record.pct}% of failing mail")
    if record.testing:
        details.append("t=y: the domain is testing DMARC; receivers apply the next milder policy")
    problems, notes, fixes = await _report_authorizations(found.record_domain, record, resolver)
    problems = [*record.warnings, *problems]
    details += notes
    if policy == "none":
        status = Status.WARNING
        summary = (
            f"DMARC policy {label}: receivers only send reports; it neither protects the domain "
            "from spoofing nor affects deliverability"
        )
    else:
        status, summary = _consequence(policy, label, spf, dkim)
    if problems:
        status = Status.worst((status, Status.WARNING))
        details += problems
    return DmarcFinding(
        Check.DMARC,
        status,
        summary,
        tuple(details),
        "\n".join(fixes) or None,
        policy=policy,
        record_domain=found.record_domain,
    )


def _consequence(policy: str, label: str, spf: Finding, dkim: tuple[DkimFinding, ...]) -> tuple[Status, str]:
    """The seed's rule: with quarantine/reject the domain must be SPF compliant or have DKIM enabled.

    SPF counts when its record authorizes the provider, even with warnings (ptr, ?all, 9-10 lookups);
    DKIM when its signatures verify (PASS or WARNING).
    """
    authorized = spf.status is Status.PASS or getattr(spf, "authorizes_provider", False)
    passing = ["SPF" + (" (see its warnings)" if spf.status is Status.WARNING else "")] if authorized else []
    if any(f.status in (Status.PASS, Status.WARNING) for f in dkim):
        passing.append("DKIM")
    if passing:
        return Status.PASS, f"DMARC policy {label} is met: mail passes {' and '.join(passing)}"
    action = "quarantined (sent to spam)" if policy == "quarantine" else "rejected"
    if spf.status is Status.UNKNOWN or any(f.status is Status.UNKNOWN for f in dkim):
        return Status.UNKNOWN, f"DMARC policy {label}: SPF or DKIM could not be checked"
    return Status.FAIL, (
        f"DMARC policy {label}: mail from this domain will be {action}, "
        "because it is neither SPF compliant nor signed with DKIM; publish the SPF and DKIM records"
    )


async def _report_authorizations(
    record_domain: str, record: DmarcRecord, resolver: Resolver
) -> tuple[list[str], list[str], list[str]]:
    """RFC 7489 7.1: a destination outside the organization must publish ``<domain>._report._dmarc.<dest>``.

    Returns the problems, the notes and the records the destinations must publish.
    """
    org = organizational_domain(record_domain)
    uris = record.rua + record.ruf
    destinations = list(
        dict.fromkeys(u.domain for u in uris if u.domain and organizational_domain(u.domain) != org)
    )
    names = [f"{record_domain}._report._dmarc.{dest}" for dest in destinations]
    answers = await asyncio.gather(*(resolver.query(name, "TXT") for name in names))
    problems, notes, fixes = [], [], []
    for dest, name, answer in zip(destinations, names, answers, strict=True):
        if any(is_dmarc(t) for t in answer.records):
            notes.append(f"{dest} accepts DMARC reports for {record_domain}")
        elif answer.answered:
            problems.append(
                f"reports to {dest} will not be sent: {dest} must authorize them by publishing {name}"
            )
            fixes.append(f'{name}. IN TXT "v=DMARC1"')
        else:
            notes.append(
                f"could not check that {dest} accepts reports for {record_domain} ({answer.status.value})"
            )
    return problems, notes, fixes
