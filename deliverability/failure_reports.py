"""DMARC failure reports (RFC 6591 ARF, RFC 9991) and SMTP TLS reports (RFC 8460), read from the mail
that carries them.

A failure report is a ``multipart/report`` mail with a ``message/feedback-report`` part (the
reporter's fields: source IP, authentication results, arrival date...) and usually the failed
message or its headers, redacted by the reporter. ``read_failure_report`` returns what an
administrator needs from it, or raises ``ReportError`` saying why it is not one. A TLS report is
JSON (often gzipped); ``read_tls_report`` summarises it (this module does not store them).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import ipaddress
import json
import quopri
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

from .dmarc_reports import ReportError
from .report_archive import DEFAULT_LIMITS, Limits

FEEDBACK_TYPE = "message/feedback-report"
ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
TLS_TYPES = ("application/tlsrpt+json", "application/tlsrpt+gzip")
MAX_VALUE = 2000  # characters kept of any one field


@dataclass(frozen=True)
class FailureReport:
    """One failed message as a receiver reported it (``None``: the reporter did not say)."""

    reporter: str
    feedback_type: str | None
    source_ip: str | None
    authentication_results: str | None
    auth_failure: str | None
    delivery_result: str | None
    reported_domain: str | None
    original_mail_from: str | None
    original_rcpt_to: str | None
    arrival_date: datetime | None  # aware
    reported_from: str | None
    reported_subject: str | None
    reported_message_id: str | None


@dataclass(frozen=True)
class TlsPolicy:
    domain: str
    policy_type: str
    successful: int
    failed: int


@dataclass(frozen=True)
class TlsReport:
    """The summary of an SMTP TLS report: who reported, which period, sessions per policy."""

    organization: str
    report_id: str
    begin: str
    end: str
    policies: tuple[TlsPolicy, ...]

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self.policies)

    @property
    def successful(self) -> int:
        return sum(p.successful for p in self.policies)


def message_of(data: bytes | Message) -> Message:
    if isinstance(data, Message):
        return data
    if data.startswith(b"From "):  # an mbox separator line before the headers
        data = data.partition(b"\n")[2]
    return email.message_from_bytes(data, policy=email.policy.compat32)


def is_failure_report(data: bytes | Message) -> bool:
    """A ``multipart/report`` that is not a delivery status notification (a bounce) nor a TLS report."""
    message = message_of(data)
    if message.get_content_type() != "multipart/report":
        return False
    report_type = (message.get_param("report-type") or "").lower()
    return report_type not in ("delivery-status", "disposition-notification", "tlsrpt") and not _tls_parts(
        message
    )


def read_failure_report(data: bytes | Message) -> FailureReport:
    """The failure report carried by a mail; ``ReportError`` when the mail is not one."""
    message = message_of(data)
    if message.get_content_type() != "multipart/report":
        raise ReportError("the mail is not a report (multipart/report)")
    feedback = original = None
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == FEEDBACK_TYPE and feedback is None:
            feedback = _feedback_fields(part)
        elif content_type in ORIGINAL_TYPES and original is None:
            original = _original_headers(part)
    if feedback is None:
        raise ReportError(
            "the mail is a report without the machine-readable part of a DMARC failure report "
            "(message/feedback-report, RFC 6591): not read, kept as received"
        )
    feedback_type = _field(feedback, "Feedback-Type", lower=True)
    if feedback_type not in (None, "auth-failure"):
        raise ReportError(
            f"the report is a {feedback_type!r} feedback report (RFC 5965), not a DMARC failure report "
            "(auth-failure): not read, kept as received"
        )
    source_ip = _field(feedback, "Source-IP")
    if source_ip:
        try:
            source_ip = str(ipaddress.ip_address(source_ip.strip("[]")))
        except ValueError:
            raise ReportError(f"the report's Source-IP {source_ip[:60]!r} is not an IP address") from None
    original = original or Message()
    return FailureReport(
        reporter=_address(message.get("From")) or _field(feedback, "Reporting-MTA") or "",
        feedback_type=feedback_type,
        source_ip=source_ip,
        authentication_results=_field(feedback, "Authentication-Results"),
        auth_failure=_field(feedback, "Auth-Failure", lower=True),
        delivery_result=_field(feedback, "Delivery-Result", lower=True),
        reported_domain=_field(feedback, "Reported-Domain", lower=True),
        original_mail_from=_field(feedback, "Original-Mail-From"),
        original_rcpt_to=_field(feedback, "Original-Rcpt-To"),
        arrival_date=_date(_field(feedback, "Arrival-Date") or _field(feedback, "Received-Date")),
        reported_from=_author(original.get("From")),
        reported_subject=_decoded(original.get("Subject")),
        reported_message_id=_field(original, "Message-ID") or _field(feedback, "Message-ID"),
    )


def _feedback_fields(part: Message) -> Message:
    """The fields of a feedback part, whatever its transfer encoding (some reporters use base64)."""
    encoding = (part.get("Content-Transfer-Encoding") or "").strip().lower()
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses message/* parts as messages
        inner = payload[0] if payload else Message()
        if encoding not in ("base64", "quoted-printable"):
            return inner
        # The encoded lines have no colon: all of them are the body of the parsed message, which a
        # mail gateway may have given a charset and so a transfer encoding of its own (Odoo does).
        body = inner.get_payload(decode=bool(inner.get("Content-Transfer-Encoding")))
        raw = body.encode("ascii", "replace") if isinstance(body, str) else bytes(body or b"")
    else:
        raw = payload.encode("ascii", "replace") if isinstance(payload, str) else bytes(payload or b"")
    if encoding == "base64":
        try:
            raw = base64.b64decode(b"".join(raw.split()))
        except (binascii.Error, ValueError):
            raise ReportError("the report's feedback part is not valid base64") from None
    elif encoding == "quoted-printable":
        raw = quopri.decodestring(raw)
    return email.message_from_bytes(raw.lstrip(b"\r\n"), policy=email.policy.compat32)


def _original_headers(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload else Message()
    text = part.get_payload(decode=True) or b""
    return email.message_from_bytes(text.lstrip(b"\r\n"), policy=email.policy.compat32)


def _field(fields: Message, name: str, lower: bool = False) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    value = " ".join(str(value).split())[:MAX_VALUE]
    return (value.lower() if lower else value) or None


def _decoded(value) -> str | None:
    if value is None:
        return None
    try:
        text = str(make_header(decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError):
        text = str(value)
    return " ".join(text.split())[:MAX_VALUE] or None


def _author(value) -> str | None:
    """A From header as a person reads it: the display name decoded, then the address."""
    if value is None:
        return None
    name, address = parseaddr(str(value))
    name = _decoded(name)
    if not address:
        return _decoded(value)
    return f"{name} <{address}>" if name else address


def _address(value) -> str | None:
    return parseaddr(str(value))[1] or None if value else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- SMTP TLS reports


def _tls_parts(message: Message) -> list[Message]:
    return [
        part
        for part in message.walk()
        if part.get_content_type() in TLS_TYPES
        or (part.get_filename() or "").lower().endswith((".json", ".json.gz"))
    ]


def tls_report_in(message: bytes | Message, limits: Limits = DEFAULT_LIMITS) -> TlsReport | None:
    """The SMTP TLS report attached to a mail; ``None`` when it carries none."""
    parts = _tls_parts(message_of(message))
    if not parts:
        return None
    return read_tls_report(parts[0].get_payload(decode=True) or b"", limits)


def read_tls_report(data: bytes, limits: Limits = DEFAULT_LIMITS) -> TlsReport:
    """An SMTP TLS report (RFC 8460 JSON, gzipped or not); ``ReportError`` when it is not one."""
    if data[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflate.decompress(data, limits.max_size + 1)
        except zlib.error as exc:
            raise ReportError(f"the TLS report is not a readable gzip file: {exc}") from None
        if len(data) > limits.max_size:
            raise ReportError(f"the TLS report unpacks to more than {limits.max_size // 2**20} MiB: refused")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeError) as exc:
        raise ReportError(f"the TLS report is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("policies"), list):
        raise ReportError("the JSON is not an SMTP TLS report (RFC 8460): no policies")
    dates = document.get("date-range") if isinstance(document.get("date-range"), dict) else {}
    policies = []
    for entry in document["policies"]:
        policy = entry.get("policy") if isinstance(entry, dict) else None
        summary = entry.get("summary") if isinstance(entry, dict) else None
        if not isinstance(policy, dict) or not isinstance(summary, dict):
            raise ReportError("the SMTP TLS report has a policy without its policy or summary")
        policies.append(
            TlsPolicy(
                domain=str(policy.get("policy-domain") or ""),
                policy_type=str(policy.get("policy-type") or ""),
                successful=_count(summary.get("total-successful-session-count")),
                failed=_count(summary.get("total-failure-session-count")),
            )
        )
    return TlsReport(
        organization=str(document.get("organization-name") or document.get("contact-info") or ""),
        report_id=str(document.get("report-id") or ""),
        begin=str(dates.get("start-datetime") or ""),
        end=str(dates.get("end-datetime") or ""),
        policies=tuple(policies),
    )


def _count(value) -> int:
    if isinstance(value, int) and value >= 0:
        return value
    raise ReportError(f"the SMTP TLS report has a session count that is not a number: {value!r}")
