"""What a relay's refusal means for a mail: try again later, or never.

A refusal is judged by its reply code (RFC 5321 §4.2: ``4yz`` transient, ``5yz`` permanent), its
enhanced status code (RFC 3463: ``4.x.x`` / ``5.x.x``) and, for the ``5yz`` replies the large relays
give when a sending quota is reached, its text: Gmail ``550 5.4.5 Daily user sending limit
exceeded``, Microsoft 365 ``554 5.2.0 ... SubmissionQuotaExceededException``, Amazon SES
``454 Throttling failure: Maximum sending rate exceeded``. A quota refusal, a ``421`` (the relay
closes the connection) and a refusal before any recipient is named concern every mail sent through
that server; a temporary refusal of one recipient (greylisting, a full mailbox) concerns that mail
only. A permanent refusal (``550 5.1.1`` unknown user) is final, as is anything that is not a
refusal by the relay (a TLS or configuration error).

A deferred mail is tried again after a delay; a relay that refuses it for ``GIVE_UP_AFTER`` (RFC 5321
§4.5.4.1: "at least 4-5 days") makes the refusal final.
"""

from __future__ import annotations

import datetime
import enum
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass


class Kind(str, enum.Enum):
    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    QUOTA = "quota"


class Scope(str, enum.Enum):
    MAIL = "mail"  # this mail only: the next one may go
    SERVER = "server"  # every mail through this server waits


class Stage(str, enum.Enum):
    """Where in the SMTP dialogue the relay refused."""

    CONNECT = "connect"  # greeting, EHLO, STARTTLS, AUTH
    SENDER = "sender"  # MAIL FROM
    RECIPIENT = "recipient"  # RCPT TO
    DATA = "data"
    UNKNOWN = "unknown"


TEMPORARY_DELAY = datetime.timedelta(minutes=15)
QUOTA_DELAY = datetime.timedelta(hours=1)
GIVE_UP_AFTER = datetime.timedelta(days=5)

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Sending-quota wording of the large relays; a full mailbox ("over quota", X.2.2) is not one.
_QUOTA_TEXT = re.compile(
    r"sending limit|sending quota|send(?:ing)? rate|submissionquota|throttl|rate limit|rate exceeded"
    r"|limit exceeded|too many (?:messages|emails|mails)|message limit|messages? per",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Refusal:
    kind: Kind
    scope: Scope
    code: int | None
    enhanced: str | None
    text: str

    @property
    def deferred(self) -> bool:
        return self.kind is not Kind.PERMANENT

    def reason(self) -> str:
        """The refusal as the relay gave it: ``421 4.7.0 Try again later``."""
        head = " ".join(str(part) for part in (self.code, self.enhanced) if part)
        text = self.text
        if self.enhanced and text.startswith(self.enhanced):
            text = text[len(self.enhanced) :].lstrip()
        return f"{head} {text}".strip()

    def retry_at(self, now: datetime.datetime) -> datetime.datetime:
        return now + (QUOTA_DELAY if self.kind is Kind.QUOTA else TEMPORARY_DELAY)


def classify(code: int | None, text: str, stage: Stage = Stage.UNKNOWN) -> Refusal:
    """The meaning of the reply ``code`` with ``text`` (enhanced status code first, if any)."""
    text = " ".join(text.split())
    match = _ENHANCED.search(text)
    enhanced = ".".join(match.groups()) if match else None
    klass = match.group(1) if match else str(code or "")[:1]
    mailbox_full = bool(match) and match.group(2, 3) == ("2", "2")
    if not mailbox_full and (_QUOTA_TEXT.search(text) or enhanced in ("5.4.5", "4.4.5")):
        kind = Kind.QUOTA
    elif klass == "4" or (code is not None and 400 <= code < 500):
        kind = Kind.TEMPORARY
    elif code is None and not match:
        kind = Kind.TEMPORARY  # the connection broke: nothing was refused
    else:
        kind = Kind.PERMANENT
    server_wide = kind is Kind.QUOTA or code == 421 or stage not in (Stage.RECIPIENT, Stage.DATA)
    return Refusal(kind, Scope.SERVER if server_wide else Scope.MAIL, code, enhanced, text)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def from_exception(exc: BaseException) -> Refusal | None:
    """The relay's refusal behind ``exc`` (an ``smtplib`` error, a network error, or an error that
    was raised while handling one, as Odoo's ``MailDeliveryException``), None when it is no refusal
    by the relay (TLS, configuration, a bad message): those keep Odoo's handling."""
    for error in _chain(exc):
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            refusals = [
                classify(code, _text(text), Stage.RECIPIENT) for code, text in error.recipients.values()
            ]
            if not refusals:
                return None
            permanent = [r for r in refusals if not r.deferred]
            return (permanent or [r for r in refusals if r.scope is Scope.SERVER] or refusals)[0]
        if isinstance(error, smtplib.SMTPResponseException):
            stage = (
                Stage.SENDER if isinstance(error, smtplib.SMTPSenderRefused)
                else Stage.DATA if isinstance(error, smtplib.SMTPDataError)
                else Stage.CONNECT
                if isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                                      smtplib.SMTPAuthenticationError))
                else Stage.UNKNOWN
            )  # fmt: skip
            return classify(error.smtp_code, _text(error.smtp_error), stage)
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return classify(None, str(error) or "the server closed the connection")
        if isinstance(error, ssl.SSLError):
            return None
        if isinstance(error, socket.gaierror):  # the relay's host name does not resolve (yet)
            return classify(None, f"the relay's host name could not be resolved ({error})", Stage.CONNECT)
        if isinstance(error, OSError):  # refused, unreachable, timed out
            return classify(None, f"{type(error).__name__}: {error}".rstrip(": "), Stage.CONNECT)
    return None


def given_up(deferred_since: datetime.datetime | None | bool, now: datetime.datetime) -> bool:
    """Whether a mail first deferred at ``deferred_since`` has waited long enough: refused now, final."""
    return bool(deferred_since) and now - deferred_since >= GIVE_UP_AFTER


class Deferred(BaseException):  # noqa: N818 - a signal, not an error
    """Stops Odoo's loop over a batch at a refusal that defers the mail being sent. A
    ``BaseException``: no ``except Exception`` on the way takes it for a failure of the mail."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.reason())
        self.refusal = refusal


class Deferrals:
    """The deferral state of one ``mail.mail`` send: the batch going out and the mails of the
    batches after it, the mail being sent, whether a refusal may still defer it (not when it waited
    ``GIVE_UP_AFTER``, nor once one of its messages went out: it would go twice), the messages sent
    and not yet counted, the servers that refused during the send (``{server id or None: (until,
    reason)}``) and the usage record of each server (``{server id or None: record id}``)."""

    __slots__ = ("batch_ids", "mail_id", "mail_sent", "may_defer", "messages", "paused", "pending", "usage")

    def __init__(self):
        self.batch_ids: list[int] = []
        self.pending: list[int] = []
        self.mail_id: int | None = None
        self.may_defer = True
        self.mail_sent = 0
        self.messages = 0
        self.paused: dict[int | None, tuple[datetime.datetime, str]] = {}
        self.usage: dict[int | None, int] = {}
