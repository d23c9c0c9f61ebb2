"""DMARC: find the policy that applies to a domain as receivers do, validate it, and judge what it means.

Receivers follow RFC 9989 (May 2026, replacing RFC 7489): policy discovery by the
DNS tree walk, ``np=`` for subdomains that do not exist, ``t=y`` for testing,
unknown tags ignored, and a tag whose value is invalid replaced by its default
(an invalid ``p``/``sp``/``np`` gives ``p=none`` when ``rua`` has a valid URI, and
no DMARC at all otherwise). Where a receiver still applying RFC 7489 (the
organizational domain from the public suffix list, ``pct``) would differ, the
details say so. Reporting addresses outside the domain's organization must be
authorized by the destination (RFC 7489 7.1, kept by RFC 9989's reporting).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import judgement
from .dns import Answer, DnsStatus, Resolver
from .domains import normalize_domain, organizational_domain, public_suffix
from .findings import Check, DmarcFinding, Status
from .texts import _lt

POLICIES = ("none", "quarantine", "reject")
MAX_WALK_LABELS = 8
KNOWN_TAGS = ("v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "fo", "rua", "ruf")
LEGACY_TAGS = ("pct", "rf", "ri")  # RFC 7489 tags that RFC 9989 removed
FAILURE_OPTIONS = ("0", "1", "d", "s")
WHY_DMARC = "Gmail and Yahoo require a DMARC record from bulk senders, and receivers trust mail more with one"

_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(;|\Z)")
_TAG_NAME = re.compile(r"[A-Za-z]+\Z")
_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SIZE = re.compile(r"[0-9]+[kmgtKMGT]?\Z")
_WSP = " \t\r\n"


class DmarcParseError(ValueError):
    """A DMARC record that receivers cannot use: they apply no DMARC to the domain."""


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
    """A DMARC record as receivers read it.

    ``warnings`` are problems receivers work around (unknown tags, invalid values
    replaced by their default, odd URIs); ``legacy`` says how a receiver still
    applying RFC 7489 reads the record differently (``pct``, ``np``, ``t``, no ``p``).
    """

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
    legacy: tuple[str, ...] = ()

    def policy_for(self, subdomain: bool, exists: bool = True) -> str:
        """The published policy for the record's own domain, or a subdomain (``np`` if it does not exist)."""
        if not subdomain:
            return self.policy
        if not exists and self.nonexistent_policy:
            return self.nonexistent_policy
        return self.subdomain_policy or self.policy


def parse_dmarc_record(text: str) -> DmarcRecord:
    """Parse a DMARC record as RFC 9989 receivers do.

    Raises ``DmarcParseError`` (a ``ValueError``) only when receivers apply no DMARC:
    the record does not start with ``v=DMARC1``, a tag appears twice, or ``p``,
    ``sp`` or ``np`` is invalid and ``rua`` has no valid URI.
    """
    if not is_dmarc(text):
        raise DmarcParseError("a DMARC record must start with v=DMARC1")
    warnings: list[str] = []
    tags: dict[str, str] = {}
    for spec in text.split(";")[1:]:
        name, sep, value = (part.strip(_WSP) for part in spec.partition("="))
        if not sep:
            if name:
                warnings.append(f"{name!r} is not a tag (name=value) and is ignored")
            continue
        if not _TAG_NAME.match(name):
            warnings.append(f"{name!r} is not a tag name; {spec.strip(_WSP)!r} is ignored")
            continue
        name = name.lower()
        if name in tags:
            raise DmarcParseError(f"tag {name!r} appears twice")
        tags[name] = value
    warnings += [f"unknown tag {name}= is ignored" for name in tags if name not in KNOWN_TAGS + LEGACY_TAGS]
    rua, rua_warnings = _uris("rua", tags.get("rua"))
    ruf, ruf_warnings = _uris("ruf", tags.get("ruf"))
    warnings += rua_warnings + ruf_warnings
    legacy: list[str] = []
    policies, invalid = {}, []
    for tag in ("p", "sp", "np"):
        if tag in tags:
            if tags[tag].lower() in POLICIES:
                policies[tag] = tags[tag].lower()
            else:
                invalid.append(f"{tag}={tags[tag]!r} is invalid: expected {' or '.join(POLICIES)}")
    if invalid:
        if not rua:
            raise DmarcParseError("; ".join(invalid) + " (and no valid rua= address, so receivers ignore it)")
        warnings += [
            f"{problem}: with a valid rua= receivers act as if the record said p=none" for problem in invalid
        ]
        policies = {"p": "none"}
    elif "p" not in tags:
        warnings.append("the p= tag (the policy) is missing: receivers act as if it said p=none")
        if not rua:
            legacy.append("receivers still applying RFC 7489 ignore a record without p= (and without rua=)")
        policies["p"] = "none"
    pct = _legacy_integer("pct", tags.get("pct"), 100, warnings)
    if pct is not None:
        legacy.append(
            f"pct={pct}: receivers still applying RFC 7489 apply the policy to {pct}% of failing mail; "
            "RFC 9989 receivers ignore pct (t=y is its replacement)"
        )
    rf = tuple(item.strip().lower() for item in tags.get("rf", "afrf").split(":"))
    if rf != ("afrf",):
        warnings.append(f"rf={tags['rf']}: receivers only know afrf")
    testing = _flag("t", tags.get("t"), ("y", "n"), "n", warnings) == "y"
    record = DmarcRecord(
        policy=policies["p"],
        subdomain_policy=policies.get("sp"),
        nonexistent_policy=policies.get("np"),
        pct=100 if pct is None else pct,
        rua=rua,
        ruf=ruf,
        adkim=_flag("adkim", tags.get("adkim"), ("r", "s"), "r", warnings),
        aspf=_flag("aspf", tags.get("aspf"), ("r", "s"), "r", warnings),
        fo=_failure_options(tags.get("fo"), warnings),
        ri=_legacy_integer("ri", tags.get("ri"), 2**32 - 1, warnings) or 86400,
        rf=rf,
        psd=_flag("psd", tags.get("psd"), ("y", "n", "u"), None, warnings),
        testing=testing,
        warnings=tuple(warnings),
    )
    if record.nonexistent_policy and record.nonexistent_policy != (record.subdomain_policy or record.policy):
        legacy.append(
            "receivers still applying RFC 7489 do not know np=: they apply sp= or p= to "
            "subdomains that do not exist"
        )
    if testing and record.policy != "none":
        legacy.append("receivers still applying RFC 7489 do not know t=: they apply the policy as written")
    return replace(record, legacy=tuple(legacy))


def _flag(tag: str, value: str | None, allowed: tuple[str, ...], default, warnings: list[str]):
    if value is None:
        return default
    if value.lower() in allowed:
        return value.lower()
    shown = f"the default {tag}={default}" if default else f"no {tag}="
    warnings.append(f"{tag}={value!r} is invalid (expected {' or '.join(allowed)}): receivers use {shown}")
    return default


def _failure_options(value: str | None, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ("0",)
    items = tuple(item.strip().lower() for item in value.split(":"))
    if all(items) and set(items) <= set(FAILURE_OPTIONS) and not {"0", "1"} <= set(items):
        return items
    warnings.append(
        f"fo={value!r} is invalid (expected a colon-separated list of {', '.join(FAILURE_OPTIONS)}): "
        "receivers use fo=0"
    )
    return ("0",)


def _legacy_integer(tag: str, value: str | None, maximum: int, warnings: list[str]) -> int | None:
    """``pct``/``ri``: removed by RFC 9989, read by RFC 7489 receivers; ``None`` when absent or invalid."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) > maximum:
        warnings.append(
            f"{tag}={value!r} is invalid (expected a whole number from 0 to {maximum}) and is ignored"
        )
        return None
    return int(value)


def _uris(tag: str, value: str | None) -> tuple[tuple[ReportUri, ...], list[str]]:
    """Parse a comma list of report URIs (a ``!size`` suffix is obsolete); invalid ones are ignored."""
    if value is None:
        return (), []
    uris, warnings = [], []
    for item in (part.strip(_WSP) for part in value.split(",")):
        uri, _, size = item.partition("!")
        if not _SCHEME.match(uri) or not _VALUE.match(item):
            warnings.append(f"{tag}: {item!r} is not a URI (write mailto:address@domain); it is ignored")
            continue
        if size and not _SIZE.match(size):
            warnings.append(f"{tag}: size limit !{size} is invalid and ignored (e.g. !10m)")
            size = ""
        domain = None
        if uri.lower().startswith("mailto:"):
            address = urllib.parse.unquote(uri[7:].partition("?")[0])
            local, at, host = address.rpartition("@")
            try:
                domain = normalize_domain(host) if local and at else None
            except ValueError:
                domain = None
            if domain is None:
                warnings.append(f"{tag}: {uri!r} is not a valid mailto: address; it is ignored")
                continue
        else:
            warnings.append(f"{tag}: receivers only send reports to mailto: URIs, not {uri}")
        uris.append(ReportUri(uri, size or None, domain))
    return tuple(uris), warnings


@dataclass(frozen=True)
class Discovery:
    """What DMARC discovery found for ``domain``.

    ``record_domain`` is where the applicable record was found (or the records that
    cannot be used); ``error`` says why records of the domain cannot be used (several
    records, invalid record), ``dns_error`` why DNS did not tell. ``org_domain`` is
    the organizational domain of the tree walk, ``exists`` False when the domain
    does not exist (``np=`` applies), ``legacy`` how an RFC 7489 receiver differs.
    """

    domain: str
    record_domain: str | None = None
    record: DmarcRecord | None = None
    texts: tuple[str, ...] = ()
    error: str = ""
    dns_error: str = ""
    ignored: tuple[str, ...] = ()
    org_domain: str | None = None
    exists: bool = True
    legacy: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def inherited(self) -> bool:
        return self.record is not None and self.record_domain != self.domain

    @property
    def tag(self) -> str:
        """The tag whose policy applies: ``p``, ``sp`` or ``np``."""
        if not self.inherited or self.record is None:
            return "p"
        if not self.exists and self.record.nonexistent_policy:
            return "np"
        return "sp" if self.record.subdomain_policy else "p"

    @property
    def written_policy(self) -> str | None:
        """The value of the tag that applies, as published."""
        return self.record.policy_for(self.inherited, self.exists) if self.record else None

    @property
    def policy(self) -> str | None:
        """The policy receivers apply: the published one, one step milder with ``t=y`` (RFC 9989)."""
        written = self.written_policy
        if written and self.record.testing and written != "none":
            return POLICIES[POLICIES.index(written) - 1]
        return written


def _walk_names(domain: str) -> list[str]:
    """The RFC 9989 DNS tree walk: the domain, then its parents from at most 7 labels up to the TLD."""
    labels = domain.split(".")
    names = [domain]
    if len(labels) > MAX_WALK_LABELS:
        labels = labels[-(MAX_WALK_LABELS - 1) :]
        names.append(".".join(labels))
    while len(labels) > 1:
        labels = labels[1:]
        names.append(".".join(labels))
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class _Found:
    """The DMARC records at one ``_dmarc`` name."""

    name: str
    answer: Answer
    texts: tuple[str, ...]
    ignored: tuple[str, ...]
    record: DmarcRecord | None = None
    error: str = ""

    @classmethod
    def of(cls, name: str, answer: Answer) -> _Found:
        texts = tuple(t for t in answer.records if is_dmarc(t))
        ignored = tuple(t for t in answer.records if not is_dmarc(t) and "dmarc" in t.lower())
        if len(texts) > 1:
            error = f"{len(texts)} DMARC records at _dmarc.{name}: receivers ignore them all"
            return cls(name, answer, texts, ignored, error=error)
        if texts:
            try:
                return cls(name, answer, texts, ignored, parse_dmarc_record(texts[0]))
            except DmarcParseError as exc:
                error = f"the DMARC record at _dmarc.{name} cannot be used: {exc}"
                return cls(name, answer, texts, ignored, error=error)
        return cls(name, answer, texts, ignored)

    @property
    def several(self) -> bool:
        return len(self.texts) > 1


async def discover(domain: str, resolver: Resolver, *, tree_walk: bool = True) -> Discovery:
    """Find the DMARC record that applies to ``domain``, as an RFC 9989 receiver does.

    ``_dmarc.<domain>``, then the tree walk up to the top-level domain for the
    organizational domain, whose record (or its public suffix's, ``psd=y``) applies.
    A lookup that fails at a public suffix (where a record is rare) is a note, not a
    DNS error. With ``tree_walk=False``, RFC 7489 discovery (the public suffix list).
    """
    own = _Found.of(domain, await resolver.query(f"_dmarc.{domain}", "TXT"))
    if own.record is not None or not own.answer.answered:  # both discoveries stop here
        found = _modern(domain, [domain], {domain: own})
        return replace(found, legacy=own.record.legacy if own.record else ())
    walk = _walk_names(domain)
    org = organizational_domain(domain)
    names = walk[1:] if org in walk else [*walk[1:], org]
    answers = await asyncio.gather(*(resolver.query(f"_dmarc.{name}", "TXT") for name in names))
    found = {name: _Found.of(name, answer) for name, answer in zip(names, answers, strict=True)}
    found[domain] = own
    legacy = _legacy(domain, org, found)
    if not tree_walk:
        return legacy
    modern = _modern(domain, walk, found)
    if modern.inherited and modern.record.nonexistent_policy:  # does the domain exist (RFC 9989 np=)?
        answer = await resolver.query(domain, "MX")  # shared with the MX check
        modern = replace(modern, exists=answer.status is not DnsStatus.NXDOMAIN)
    return replace(modern, legacy=_differences(modern, legacy))


def _modern(domain: str, walk: list[str], found: dict[str, _Found]) -> Discovery:
    """RFC 9989 4.10: the domain's own record, else its organizational domain's, else its public suffix's."""
    own = found[domain]
    if not own.answer.answered:
        return Discovery(domain, dns_error=f"_dmarc.{domain}: {own.answer.status.value}")
    if own.record is not None:
        return Discovery(domain, domain, own.record, own.texts, ignored=own.ignored, org_domain=domain)
    base = Discovery(
        domain, domain if own.texts else None, texts=own.texts, error=own.error, ignored=own.ignored
    )
    if own.texts and not own.several:
        return base  # an unusable record: receivers apply no DMARC (several records are skipped instead)
    walked: list[_Found] = []
    notes: list[str] = []
    for name in walk[1:]:
        item = found[name]
        if not item.answer.answered:
            if name == public_suffix(name):
                status = item.answer.status.value
                notes.append(f"_dmarc.{name} could not be checked for a public suffix policy ({status})")
                continue
            return Discovery(domain, dns_error=f"_dmarc.{name}: {item.answer.status.value}")
        if item.record is not None:
            walked.append(item)
            if item.record.psd in ("y", "n"):
                break
    base = replace(base, notes=tuple(notes), org_domain=domain)
    if not walked:
        return base
    top = walked[-1]
    policy_item, org_name = top, top.name
    if top.record.psd == "y":  # a public suffix's record: the organizational domain is one label below it
        org_name = ".".join(domain.split(".")[-(top.name.count(".") + 2) :])
        below = found.get(org_name)
        if below is not None and below.record is not None:
            policy_item = below
    return replace(
        base,
        record_domain=policy_item.name,
        record=policy_item.record,
        texts=own.texts + policy_item.texts,
        org_domain=org_name,
    )


def _legacy(domain: str, org: str, found: dict[str, _Found]) -> Discovery:
    """RFC 7489 6.6.3: ``_dmarc.<domain>``, then ``_dmarc.<organizational domain>`` (public suffix list)."""
    for name in dict.fromkeys((domain, org)):
        item = found[name]
        if not item.answer.answered:
            return Discovery(domain, dns_error=f"_dmarc.{name}: {item.answer.status.value}", org_domain=org)
        if item.error:
            return Discovery(
                domain, name, texts=item.texts, error=item.error, ignored=item.ignored, org_domain=org
            )
        if item.record is not None:
            return Discovery(domain, name, item.record, item.texts, ignored=item.ignored, org_domain=org)
    return Discovery(domain, ignored=found[domain].ignored, org_domain=org)


def _differences(modern: Discovery, legacy: Discovery) -> tuple[str, ...]:
    """What a receiver still applying RFC 7489 does differently, in words."""
    out = list(modern.record.legacy) if modern.record is not None else []
    if legacy.dns_error or modern.dns_error:
        return tuple(out)
    legacy_policy = legacy.record.policy_for(legacy.inherited) if legacy.record else None
    if (legacy.record_domain if legacy.record else None, legacy_policy) != (
        modern.record_domain if modern.record else None,
        modern.written_policy,
    ):
        where = f"organizational domain {legacy.org_domain} from the public suffix list"
        if legacy.record is None:
            out.append(f"receivers still applying RFC 7489 ({where}) apply no DMARC policy")
        else:
            out.append(
                f"receivers still applying RFC 7489 ({where}) apply p={legacy_policy} "
                f"from _dmarc.{legacy.record_domain}"
            )
    return tuple(out)


async def policy_of(domain: str, resolver: Resolver) -> str | None:
    """The DMARC policy (none, quarantine, reject) that applies to ``domain`` or an address's domain.

    ``None`` when there is no usable record or DNS did not answer. Raises ``ValueError``
    for something that is not a domain name.
    """
    return (await discover(normalize_domain(domain), resolver)).policy


def record_fix(domain: str) -> str:
    """The starting DMARC record: reports only, sent to the domain's postmaster."""
    return f'_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@{domain}"'


@dataclass(frozen=True)
class Inspection:
    """What DNS says about the DMARC of a domain, before SPF and DKIM are known: the record that
    applies (``found``) and what its report destinations say: ``problems`` (unauthorized),
    ``notes`` (authorized, or not answering) and the records they must publish (``fixes``)."""

    found: Discovery
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()


async def inspect(domain: str, resolver: Resolver, *, tree_walk: bool = True) -> Inspection:
    """Discover the DMARC record of ``domain`` and check its report authorizations (no judgement:
    it needs no SPF or DKIM finding, so it runs beside them)."""
    found = await discover(domain, resolver, tree_walk=tree_walk)
    if found.dns_error or found.record is None:
        return Inspection(found)
    problems, notes, fixes = await _report_authorizations(found.record_domain, found.record, resolver)
    return Inspection(found, tuple(problems), tuple(notes), tuple(fixes))


async def check(
    domain: str,
    resolver: Resolver,
    spf: Sequence[judgement.SpfResult],
    dkim: Sequence[judgement.DkimResult],
    *,
    tree_walk: bool = True,
) -> DmarcFinding:
    """Judge the DMARC policy of ``domain`` and whether its mail passes it (``inspect``, then
    ``judge``)."""
    return judge(await inspect(domain, resolver, tree_walk=tree_walk), spf, dkim)


def judge(
    inspection: Inspection, spf: Sequence[judgement.SpfResult], dkim: Sequence[judgement.DkimResult]
) -> DmarcFinding:
    """The DMARC verdict of an inspected domain: ``spf`` and ``dkim`` are the facts of mail From the
    domain with an envelope on it (``judgement.spf_facts`` / ``dkim_facts``); the finding's
    ``judgement`` is ``judgement.judge`` of them, the answer every screen gives. ``policy`` is the
    policy receivers apply (RFC 9989).
    """
    found = inspection.found
    domain = found.domain
    verdict = judgement.judge(domain, domain, spf, dkim, judgement.policy_of(found))
    ignored = tuple(
        _lt("ignored TXT record (does not start with v=DMARC1): %(record)s") % {"record": t}
        for t in found.ignored
    )
    if found.dns_error:
        summary = _lt("DMARC could not be checked: DNS did not answer for %(name)s") % {
            "name": found.dns_error
        }
        return DmarcFinding(Check.DMARC, Status.UNKNOWN, summary, judgement=verdict)
    said = _said(domain, verdict)
    if found.error and found.record is None:
        details = (
            *(_lt("record: %(record)s") % {"record": t} for t in found.texts),
            *ignored,
            *found.notes,
            said,
        )
        return DmarcFinding(
            Check.DMARC,
            Status.FAIL,
            found.error,
            details,
            record_domain=found.record_domain,
            judgement=verdict,
        )
    if found.record is None:
        summary = f"{domain} has no DMARC record: {WHY_DMARC}"
        details = (*ignored, *found.notes, *found.legacy)
        details += (_lt("start with p=none to receive reports, then move to quarantine or reject"), said)
        return DmarcFinding(
            Check.DMARC, Status.WARNING, summary, details, record_fix(domain), judgement=verdict
        )
    return _judge(inspection, verdict, ignored)


def _said(domain: str, verdict: judgement.Judgement) -> str:
    """What the one judgement says of mail from ``domain``, as a detail line."""
    return _lt("mail from %(domain)s %(outcome)s: %(reason)s") % {
        "domain": domain,
        "outcome": verdict.outcome.label,
        "reason": verdict.reason,
    }


def _judge(
    inspection: Inspection,
    verdict: judgement.Judgement,
    ignored: tuple[str, ...],
) -> DmarcFinding:
    found = inspection.found
    record, policy, tag = found.record, found.policy, found.tag
    label = f"{tag}={found.written_policy}" + (
        f" (inherited from {found.record_domain})" if found.inherited else ""
    )
    details = [
        _lt("record at _dmarc.%(domain)s: %(record)s")
        % {"domain": found.record_domain, "record": found.texts[-1]}
    ]
    if found.error:
        details[:0] = [_lt("record: %(record)s") % {"record": t} for t in found.texts[:-1]]
    if found.inherited:
        whose = (
            _lt("%(domain)s does not exist in DNS; the %(tag)s= of %(parent)s applies")
            if tag == "np"
            else _lt("%(domain)s has no record of its own; the %(tag)s= of %(parent)s applies")
        )
        details.append(whose % {"domain": found.domain, "tag": tag, "parent": found.record_domain})
    if record.testing and found.written_policy != "none":
        label += f", testing (t=y): receivers apply {policy}"
        details.append(_lt("t=y: the domain is testing DMARC; receivers apply the next milder policy"))
    problems = [*record.warnings, *inspection.problems, *ignored]
    details += [*inspection.notes, *found.notes, *found.legacy]
    if policy == "none":
        status = Status.WARNING
        summary = _lt(
            "DMARC policy %(label)s: receivers only send reports; it neither protects the domain "
            "from spoofing nor affects deliverability"
        ) % {"label": label}
        details.append(_said(found.domain, verdict))
    else:
        status, summary = _consequence(policy, label, verdict)
    if problems:
        status = Status.worst((status, Status.WARNING))
        details += problems
    if found.error:  # the domain's own records are ignored: a parent's policy applies instead
        status, summary = Status.FAIL, f"{found.error}; {summary}"
    return DmarcFinding(
        Check.DMARC,
        status,
        summary,
        tuple(details),
        "\n".join(inspection.fixes) or None,
        policy=policy,
        record_domain=found.record_domain,
        judgement=verdict,
    )


def _consequence(policy: str, label: str, verdict: judgement.Judgement) -> tuple[Status, str]:
    """The documented rule: with quarantine/reject the domain's mail must pass aligned SPF or DKIM
    (``judgement.judge``: the same answer as the Sending Preview and Test Deliverability)."""
    passing = [w for w, ok in (("SPF", verdict.spf_aligned), ("DKIM", verdict.dkim_aligned)) if ok]
    if passing:
        passes = (
            _lt("%(spf)s and %(dkim)s") % {"spf": passing[0], "dkim": passing[1]}
            if len(passing) > 1
            else passing[0]
        )
        return Status.PASS, _lt("DMARC policy %(label)s is met: mail passes %(passes)s") % {
            "label": label,
            "passes": passes,
        }
    if verdict.outcome is judgement.Outcome.UNKNOWN:
        return Status.UNKNOWN, _lt("DMARC policy %(label)s: SPF or DKIM could not be checked") % {
            "label": label
        }
    return Status.FAIL, (
        _lt(
            "DMARC policy %(label)s: mail from this domain will be quarantined (sent to spam), "
            "because it is neither SPF compliant nor signed with DKIM; publish the SPF and DKIM records"
        )
        if policy == "quarantine"
        else _lt(
            "DMARC policy %(label)s: mail from this domain will be rejected, "
            "because it is neither SPF compliant nor signed with DKIM; publish the SPF and DKIM records"
        )
    ) % {"label": label}


def _related(a: str, b: str) -> bool:
    """True when one domain is the other or below it: one organization, no public suffix list needed."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


async def _report_authorizations(
    record_domain: str, record: DmarcRecord, resolver: Resolver
) -> tuple[list[str], list[str], list[str]]:
    """RFC 7489 7.1: a destination outside the organization must publish ``<domain>._report._dmarc.<dest>``.

    Returns the problems, the notes and the records the destinations must publish.
    """
    uris = record.rua + record.ruf
    outside = [u.domain for u in uris if u.domain and not _related(u.domain, record_domain)]
    org = organizational_domain(record_domain) if outside else record_domain  # the list loads only if needed
    destinations = list(dict.fromkeys(d for d in outside if organizational_domain(d) != org))
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
