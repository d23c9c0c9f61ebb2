"""DMARC aggregate reports (RFC 7489 appendix C, RFC 9990, and the drafts receivers still send).

``read_report`` parses a report as a stream (lxml ``iterparse``; no DTD, no entity
expansion, no network) and yields its rows one at a time, so a report of a hundred
thousand rows never sits in memory whole. Elements are located by local name:
RFC 7489 reports have no namespace, RFC 9990 ones ``urn:ietf:params:xml:ns:dmarc-2.0``,
the drafts ``http://dmarc.org/dmarc-xml/0.1``. A report that is not one is refused
with ``ReportError`` saying why. Values are whitespace-stripped; results, dispositions
and policies are lower-cased, domains too; no RFC default is filled in.

The module also holds what the reports are read for: whether a row passes DMARC
(aligned), the share of mail a ``p=reject`` policy would refuse today, and the
``rua=`` to add to a domain's DMARC record (with the authorization record another
domain must publish to receive the reports).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from . import dmarc, event_loop
from .dmarc import DmarcParseError, parse_dmarc_record
from .dns import Resolver
from .domains import normalize_domain, organizational_domain
from .options import RunOptions
from .report_archive import DEFAULT_LIMITS, Limits, Payload, UnpackError, unpack
from .spf_record import txt_line

NAMESPACES = frozenset({None, "urn:ietf:params:xml:ns:dmarc-2.0", "http://dmarc.org/dmarc-xml/0.1"})
MAX_VALUE = 1024  # characters of any one value
MAX_ROWS = 1_000_000
POLICY_TAGS = ("domain", "p", "sp", "pct", "adkim", "aspf", "np", "fo", "testing", "discovery_method")
_LOWER = frozenset({"p", "sp", "adkim", "aspf", "np", "testing", "discovery_method", "domain"})


class ReportError(ValueError):
    """Not a usable DMARC aggregate report; the message says why, for an administrator."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One ``auth_results`` entry: the domain, the DKIM selector or SPF scope, and the raw result."""

    domain: str | None
    result: str | None
    selector: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    type: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class Row:
    """One ``<record>``: ``count`` messages from ``source_ip`` and how the receiver judged them.

    ``dkim`` and ``spf`` are the DMARC-aligned results of ``policy_evaluated`` (absent in
    2012 drafts: ``None``).
    """

    source_ip: str
    count: int
    disposition: str | None
    dkim: str | None
    spf: str | None
    header_from: str | None
    envelope_from: str | None = None
    envelope_to: str | None = None
    reasons: tuple[Reason, ...] = ()
    dkim_results: tuple[AuthResult, ...] = ()
    spf_results: tuple[AuthResult, ...] = ()

    @property
    def aligned(self) -> bool:
        """Passes DMARC: an aligned DKIM or SPF pass (reported, or derived from the raw results)."""
        if self.dkim is not None or self.spf is not None:
            return "pass" in (self.dkim, self.spf)
        return _derived_pass(self)


@dataclass(frozen=True)
class Header:
    """Who reports, on which period (``begin``/``end``: Unix time), and the policy they saw."""

    org_name: str
    email: str | None
    report_id: str
    begin: int
    end: int
    policy: dict[str, str | None]
    version: str | None = None
    namespace: str | None = None
    errors: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.policy["domain"] or ""

    @property
    def key(self) -> tuple[str, str]:
        """What makes two reports the same: the reporting organization (else its address's domain)
        and the report id."""
        org = self.org_name or (self.email or "").rpartition("@")[2]
        return org.strip().casefold(), self.report_id


@dataclass
class Report:
    """A whole report, rows in a list (for small reports and tests; ``read_report`` streams)."""

    header: Header
    rows: list[Row] = field(default_factory=list)
    layers: tuple[str, ...] = ()

    @property
    def message_count(self) -> int:
        return sum(row.count for row in self.rows)


class ReportReader:
    """Iterate the rows of one report; ``header`` is set before the first row is given."""

    def __init__(self, stream: BinaryIO, name: str = "report") -> None:
        self.stream, self.name = stream, name
        self.header: Header | None = None
        self.rows = 0

    def __iter__(self) -> Iterator[Row]:
        try:
            yield from self._rows()
        except etree.XMLSyntaxError as exc:
            raise ReportError(f"{self.name} is not well-formed XML: {exc.msg}") from None
        except (etree.LxmlError, RecursionError) as exc:
            raise ReportError(f"{self.name} could not be read as XML: {exc}") from None
        except UnicodeError as exc:
            raise ReportError(f"{self.name} is not in the encoding it declares: {exc}") from None

    def _rows(self) -> Iterator[Row]:
        events = etree.iterparse(
            self.stream,
            events=("start", "end"),
            tag=("{*}feedback", "{*}report_metadata", "{*}policy_published", "{*}record"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        feedback = metadata = policy = None
        checked = False
        for event, element in events:
            if not checked:
                _refuse_dtd(element, self.name)
                checked = True
            if feedback is None:
                parent = element.getparent()
                if (
                    event == "start"
                    and _local(element) == "feedback"
                    and (parent is None or parent.getparent() is None)
                ):
                    feedback = element
                    namespace = etree.QName(element).namespace
                    if namespace not in NAMESPACES:
                        raise ReportError(f"{self.name}: unknown XML namespace {namespace!r} for <feedback>")
                continue
            if event == "start" or element.getparent() is not feedback:
                continue
            name = _local(element)
            if name == "record":
                if self.header is None:
                    self.header = _header(feedback, metadata, policy, self.name)
                self.rows += 1
                if self.rows > MAX_ROWS:
                    raise ReportError(f"{self.name} has more than {MAX_ROWS} records: refused")
                yield _row(element, self.rows, self.name)
                element.clear()
                while element.getprevious() is not None:
                    del feedback[0]
            elif name == "report_metadata":
                metadata = element
            elif name == "policy_published":
                policy = element
        if getattr(events, "root", None) is not None:
            _refuse_dtd(events.root, self.name)
        if feedback is None:
            raise ReportError(f"{self.name} is not a DMARC aggregate report: no <feedback> element")
        if self.header is None:
            self.header = _header(feedback, metadata, policy, self.name)


def read_report(stream: BinaryIO, name: str = "report") -> ReportReader:
    """A reader of the rows of the report in ``stream`` (iterate it once; ``ReportError`` when invalid)."""
    return ReportReader(stream, name)


def parse_reports(data: bytes, name: str = "report", limits: Limits = DEFAULT_LIMITS) -> list[Report]:
    """Every report in ``data`` (XML, gzip, zip, e-mail), rows in lists; ``ReportError`` if one is bad."""
    reports = []
    for payload in open_reports(data, name, limits):
        reader = read_report(payload.stream, payload.name)
        try:
            rows = list(reader)
        except UnpackError as exc:
            raise ReportError(str(exc)) from None
        reports.append(Report(reader.header, rows, payload.layers))
    return reports


def open_reports(data: bytes, name: str = "report", limits: Limits = DEFAULT_LIMITS) -> list[Payload]:
    """The payloads of ``data`` (see ``report_archive.unpack``), ``ReportError`` when there is none."""
    try:
        return unpack(data, name, limits)
    except UnpackError as exc:
        raise ReportError(str(exc)) from None


# ----------------------------------------------------------------------------- elements


def _local(element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _refuse_dtd(root, name: str) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ReportError(f"{name} declares a DTD (<!DOCTYPE>): refused, reports never need one")


def _index(element) -> dict[str, list]:
    """The children of ``element`` by local name, in document order."""
    found: dict[str, list] = {}
    if element is not None:
        for child in element:
            tag = child.tag
            if isinstance(tag, str):
                found.setdefault(tag[tag.rfind("}") + 1 :], []).append(child)
    return found


def _value(index: dict[str, list], name: str, lower: bool = False) -> str | None:
    """The stripped text of the first ``name`` child; ``None`` when absent, ``""`` when empty."""
    items = index.get(name)
    if not items:
        return None
    value = (items[0].text or "").strip()
    if len(value) > MAX_VALUE:
        raise ReportError(f"<{name}> is longer than {MAX_VALUE} characters: refused")
    return value.lower() if lower else value


def _text(element, *path: str, lower: bool = False) -> str | None:
    for name in path[:-1]:
        items = _index(element).get(name)
        if not items:
            return None
        element = items[0]
    return _value(_index(element), path[-1], lower)


def _integer(value: str | None, what: str) -> int:
    if value is None or value == "":
        raise ReportError(f"{what} is missing")
    try:
        number = int(value)
    except ValueError:
        try:
            number = int(float(value))
        except (ValueError, OverflowError):
            raise ReportError(f"{what} is not a number: {value[:40]!r}") from None
    if number < 0:
        raise ReportError(f"{what} is negative: {number}")
    return number


def _header(feedback, metadata, policy, name: str) -> Header:
    if metadata is None:
        raise ReportError(f"{name} has no <report_metadata>")
    if policy is None:
        raise ReportError(f"{name} has no <policy_published>")
    meta = _index(metadata)
    report_id = _value(meta, "report_id")
    if not report_id:
        raise ReportError(f"{name} has no report id")
    published = _index(policy)
    values = {tag: _value(published, tag, lower=tag in _LOWER) for tag in POLICY_TAGS}
    if not values["domain"]:
        raise ReportError(f"{name} does not say which domain it is about (policy_published/domain)")
    dates = _index((meta.get("date_range") or [None])[0])
    return Header(
        org_name=_value(meta, "org_name") or "",
        email=_value(meta, "email"),
        report_id=report_id,
        begin=_integer(_value(dates, "begin"), "the start of the report period"),
        end=_integer(_value(dates, "end"), "the end of the report period"),
        policy=values,
        version=_text(feedback, "version"),
        namespace=etree.QName(feedback).namespace,
        errors=tuple((e.text or "").strip() for e in meta.get("error", ())),
    )


def _row(record, index: int, name: str) -> Row:
    parts = _index(record)
    row = _index(_first(parts, "row"))
    evaluated = _index(_first(row, "policy_evaluated"))
    identifiers = _index(_first(parts, "identifiers"))
    results = _index(_first(parts, "auth_results"))
    source_ip = _value(row, "source_ip")
    try:
        source_ip = str(ipaddress.ip_address(source_ip or ""))
    except ValueError:
        raise ReportError(f"{name}, record {index}: source_ip {source_ip!r} is not an IP address") from None
    return Row(
        source_ip=source_ip,
        count=_integer(_value(row, "count"), f"{name}, record {index}: the message count"),
        disposition=_value(evaluated, "disposition", lower=True),
        dkim=_value(evaluated, "dkim", lower=True),
        spf=_value(evaluated, "spf", lower=True),
        header_from=_value(identifiers, "header_from", lower=True),
        envelope_from=_value(identifiers, "envelope_from", lower=True),
        envelope_to=_value(identifiers, "envelope_to", lower=True),
        reasons=tuple(
            Reason(_value(r, "type", lower=True), _value(r, "comment"))
            for r in map(_index, evaluated.get("reason", ()))
        ),
        dkim_results=tuple(
            AuthResult(
                _value(d, "domain", lower=True),
                _value(d, "result", lower=True),
                selector=_value(d, "selector"),
            )
            for d in map(_index, results.get("dkim", ()))
        ),
        spf_results=tuple(
            AuthResult(
                _value(s, "domain", lower=True),
                _value(s, "result", lower=True),
                scope=_value(s, "scope", lower=True),
            )
            for s in map(_index, results.get("spf", ()))
        ),
    )


def _first(index: dict[str, list], name: str):
    items = index.get(name)
    return items[0] if items else None


# ----------------------------------------------------------------------------- what reports say


def _same_organization(one: str | None, other: str | None) -> bool:
    if not one or not other:
        return False
    try:
        return organizational_domain(normalize_domain(one)) == organizational_domain(normalize_domain(other))
    except ValueError:
        return False


def _derived_pass(row: Row) -> bool:
    """Relaxed alignment from the raw results, for reports that do not give the DMARC verdicts."""
    return any(
        r.result == "pass" and _same_organization(r.domain, row.header_from)
        for r in (*row.dkim_results, *row.spf_results)
    )


@dataclass(frozen=True)
class RejectShare:
    """Of ``total`` messages, ``refused`` fail DMARC: a ``p=reject`` policy would refuse them today."""

    total: int
    refused: int

    @property
    def percent(self) -> float:
        return 100.0 * self.refused / self.total if self.total else 0.0


def reject_share(rows: Iterable[tuple[int, bool]]) -> RejectShare:
    """The "would be refused at p=reject" share of ``(count, aligned)`` pairs.

    Receivers' local overrides (forwarding, mailing lists) are not counted on: at
    ``p=reject`` a message that fails DMARC is one the domain asked to refuse.
    """
    total = refused = 0
    for count, aligned in rows:
        total += count
        if not aligned:
            refused += count
    return RejectShare(total, refused)


# ----------------------------------------------------------------------------- rua proposal


@dataclass(frozen=True)
class RuaProposal:
    """What ``domain`` publishes to have its aggregate reports sent to ``address``.

    ``record`` is the DMARC record zone line with the ``rua=`` merged in (``None`` when the
    published record already has it); ``authorization`` the zone line the address's domain
    must publish when it is outside the domain's organization (RFC 7489 7.1).
    """

    domain: str
    address: str
    record: str | None
    authorization: str | None
    error: str = ""

    @property
    def fix(self) -> str:
        return "\n".join(line for line in (self.record, self.authorization) if line)


def propose_rua(
    domain: str, address: str, published: str | None, record_domain: str | None = None
) -> RuaProposal:
    """Merge ``rua=mailto:<address>`` into ``published`` (the DMARC record in force, or ``None``).

    ``record_domain`` is where ``published`` lives (the organizational domain when the
    domain inherits it); the merged record goes there. The result is checked with the
    DMARC record parser. ``error`` says when ``published`` cannot be used as a base.
    """
    domain = normalize_domain(domain)
    mailbox, _at, dest = address.strip().rpartition("@")
    dest = normalize_domain(dest)
    address = f"{mailbox}@{dest}"
    uri = f"mailto:{address}"
    owner = record_domain or domain
    authorization = None
    if organizational_domain(dest) != organizational_domain(owner):
        authorization = txt_line(f"{owner}._report._dmarc.{dest}", "v=DMARC1")
    if published is None:
        text = f"v=DMARC1; p=none; rua={uri}"
    else:
        try:
            record = parse_dmarc_record(published)
        except DmarcParseError as exc:
            return RuaProposal(
                domain, address, None, authorization, f"the published DMARC record is invalid: {exc}"
            )
        if any(u.uri.lower() == uri.lower() for u in record.rua):
            return RuaProposal(domain, address, None, authorization)
        text = _with_rua(published, uri)
    parse_dmarc_record(text)  # a merge that breaks the record is a bug: let it raise
    return RuaProposal(domain, address, txt_line(f"_dmarc.{owner}", text), authorization)


async def propose(domain: str, address: str, resolver: Resolver) -> RuaProposal:
    """The rua proposal for ``domain`` from the DMARC record in force (found through ``resolver``)."""
    domain = normalize_domain(domain)
    found = await dmarc.discover(domain, resolver)
    if found.dns_error:
        return RuaProposal(domain, address, None, None, f"DNS did not answer: {found.dns_error}")
    if found.error:
        return RuaProposal(domain, address, None, None, found.error)
    published = found.texts[0] if found.record else None
    return propose_rua(domain, address, published, found.record_domain)


def propose_all(domains: Iterable[str], address: str, run_options: RunOptions) -> list[RuaProposal]:
    """Blocking entry point: ``propose`` for every domain, concurrently, in the order given."""

    async def run() -> list[RuaProposal]:
        resolver = run_options.resolver()
        return list(await asyncio.gather(*(propose(d, address, resolver) for d in domains)))

    return event_loop.run(run())


def _with_rua(published: str, uri: str) -> str:
    """``published`` with ``uri`` appended to its ``rua`` tag (added after ``p=`` when it has none)."""
    tags = [part.strip() for part in published.split(";")]
    tags = [t for t in tags if t]
    for index, tag in enumerate(tags):
        name, _eq, value = tag.partition("=")
        if name.strip().lower() == "rua":
            current = value.strip()
            tags[index] = f"rua={current},{uri}" if current else f"rua={uri}"
            break
    else:
        position = next((i + 1 for i, t in enumerate(tags) if t.partition("=")[0].strip().lower() == "p"), 1)
        tags.insert(position, f"rua={uri}")
    return "; ".join(tags)
