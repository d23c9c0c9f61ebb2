"""A relay's refusal judged by code, enhanced status code and text; the exceptions smtplib raises."""

from __future__ import annotations

import datetime
import smtplib
import socket
import ssl

import pytest

from deliverability.refusals import GIVE_UP_AFTER, Kind, Scope, Stage, classify, from_exception, given_up
from deliverability.testing.smtp_sink import CLOSING, QUOTA, Script, SmtpSink

T, Q, P = Kind.TEMPORARY, Kind.QUOTA, Kind.PERMANENT
M, S = Scope.MAIL, Scope.SERVER


@pytest.mark.parametrize(
    ("code", "text", "stage", "kind", "scope", "enhanced"),
    [
        # the quota refusals of the large relays
        (
            550,
            "5.4.5 Daily user sending limit exceeded. For more information...",
            Stage.SENDER,
            Q,
            S,
            "5.4.5",
        ),
        (550, "5.4.5 Daily user sending limit exceeded.", Stage.DATA, Q, S, "5.4.5"),
        (
            554,
            "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process",
            Stage.DATA,
            Q,
            S,
            "5.2.0",
        ),
        (454, "Throttling failure: Maximum sending rate exceeded.", Stage.SENDER, Q, S, None),
        (550, "5.7.1 Daily SMTP relay limit exceeded for customer", Stage.SENDER, Q, S, "5.7.1"),
        # temporary refusals
        (421, "4.7.0 Try again later, closing connection.", Stage.SENDER, T, S, "4.7.0"),
        (421, "4.7.0 Try again later", Stage.RECIPIENT, T, S, "4.7.0"),
        (451, "4.7.1 Greylisted, please try again in 300 seconds", Stage.RECIPIENT, T, M, "4.7.1"),
        (451, "4.3.0 Temporary local problem", Stage.SENDER, T, S, "4.3.0"),
        (452, "4.5.3 Too many recipients", Stage.RECIPIENT, T, M, "4.5.3"),
        (
            452,
            "4.2.2 The email account that you tried to reach is over quota",
            Stage.RECIPIENT,
            T,
            M,
            "4.2.2",
        ),
        (450, "mailbox unavailable", Stage.DATA, T, M, None),
        # permanent refusals stay what they are
        (
            550,
            "5.1.1 The email account that you tried to reach does not exist.",
            Stage.RECIPIENT,
            P,
            M,
            "5.1.1",
        ),
        (
            552,
            "5.2.2 The email account that you tried to reach is over quota",
            Stage.RECIPIENT,
            P,
            M,
            "5.2.2",
        ),
        (554, "5.7.1 Relaying denied", Stage.RECIPIENT, P, M, "5.7.1"),
        (535, "5.7.8 Username and Password not accepted", Stage.CONNECT, P, S, "5.7.8"),
        (552, "5.3.4 Message size exceeds fixed limit", Stage.DATA, P, M, "5.3.4"),
        # the enhanced code wins over the reply code
        (550, "4.2.0 greylisted", Stage.RECIPIENT, T, M, "4.2.0"),
    ],
)
def test_classify(code, text, stage, kind, scope, enhanced):
    refusal = classify(code, text, stage)
    assert (refusal.kind, refusal.scope, refusal.enhanced) == (kind, scope, enhanced)
    assert refusal.deferred is (kind is not P)
    assert refusal.reason().startswith(str(code))


def test_reason_is_the_relay_reply_once():
    refusal = classify(421, "4.7.0  Try again\r\n later", Stage.DATA)
    assert refusal.reason() == "421 4.7.0 Try again later"
    assert classify(454, "Throttling failure").reason() == "454 Throttling failure"


def test_retry_delay_by_kind():
    now = datetime.datetime(2026, 12, 6, 10, 0)
    assert classify(451, "4.7.1 later", Stage.RECIPIENT).retry_at(now) == now + datetime.timedelta(minutes=15)
    assert classify(550, "5.4.5 Daily user sending limit exceeded").retry_at(now) == now + datetime.timedelta(
        hours=1
    )


@pytest.mark.parametrize(
    ("exc", "kind", "scope", "code"),
    [
        (smtplib.SMTPSenderRefused(550, b"5.4.5 Daily user sending limit exceeded", "a@x.test"), Q, S, 550),
        (smtplib.SMTPDataError(421, b"4.7.0 Try again later"), T, S, 421),
        (smtplib.SMTPDataError(554, b"5.2.0 SubmissionQuotaExceededException"), Q, S, 554),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"5.1.1 no such user")}), P, M, 550),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (451, b"4.7.1 greylisted")}), T, M, 451),
        # a permanent refusal of one recipient decides; a 421 of any decides for the server
        (
            smtplib.SMTPRecipientsRefused({"a@x.test": (451, b"4.7.1 grey"), "b@x.test": (550, b"5.1.1 no")}),
            P,
            M,
            550,
        ),
        (
            smtplib.SMTPRecipientsRefused(
                {"a@x.test": (451, b"4.7.1 grey"), "b@x.test": (421, b"4.7.0 bye")}
            ),
            T,
            S,
            421,
        ),
        (smtplib.SMTPConnectError(421, b"4.7.0 Too many connections"), T, S, 421),
        (smtplib.SMTPAuthenticationError(454, b"4.7.0 Temporary authentication failure"), T, S, 454),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), P, S, 535),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), T, S, None),
        (ConnectionRefusedError(111, "Connection refused"), T, S, None),
        (TimeoutError("timed out"), T, S, None),
        (socket.gaierror(-2, "Name or service not known"), T, S, None),
    ],
)
def test_from_exception(exc, kind, scope, code):
    refusal = from_exception(exc)
    assert (refusal.kind, refusal.scope, refusal.code) == (kind, scope, code)


def test_a_host_name_that_does_not_resolve_is_said_so():
    refusal = from_exception(socket.gaierror(-2, "Name or service not known"))
    assert "host name could not be resolved" in refusal.reason()


def test_from_exception_behind_odoos_wrapper():
    """Odoo raises its own exception while handling smtplib's: the refusal is found in the chain."""
    try:
        try:
            raise smtplib.SMTPDataError(550, b"5.4.5 Daily user sending limit exceeded")
        except smtplib.SMTPDataError:
            raise RuntimeError("Mail Delivery Failed")  # noqa: B904 - as Odoo does
    except RuntimeError as wrapped:
        refusal = from_exception(wrapped)
    assert (refusal.kind, refusal.code, refusal.enhanced) == (Q, 550, "5.4.5")


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad header"),
        ssl.SSLError(1, "certificate verify failed"),
        smtplib.SMTPRecipientsRefused({}),
    ],
)
def test_not_a_refusal(exc):
    assert from_exception(exc) is None


def test_given_up_after_five_days():
    now = datetime.datetime(2026, 12, 6, 10, 0)
    assert not given_up(None, now)
    assert not given_up(now - GIVE_UP_AFTER + datetime.timedelta(seconds=1), now)
    assert given_up(now - GIVE_UP_AFTER, now)


def _send(sink, rcpt="to@x.test"):
    """One message through a fresh session to ``sink``: None when accepted, else the refusal."""
    try:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            smtp.sendmail("from@x.test", [rcpt], b"Subject: t\r\n\r\nbody\r\n")
    except smtplib.SMTPException as exc:
        return from_exception(exc)
    return None


@pytest.mark.parametrize(
    ("stage", "refusal", "kind", "code"),
    [
        ("mail", QUOTA, Q, 550),
        ("data", "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", Q, 554),
        ("mail", "454 Throttling failure: Maximum sending rate exceeded.", Q, 454),
        ("data", CLOSING, T, 421),
        ("connect", CLOSING, T, 421),
    ],
)
def test_the_scripted_relay_refuses_as_relays_do(stage, refusal, kind, code):
    with SmtpSink(script=Script(accept=1, stage=stage, refusal=refusal)) as sink:
        assert _send(sink) is None
        found = _send(sink)
        assert (found.kind, found.scope, found.code) == (kind, S, code)
        assert len(sink.received) == 1 and sink.refused == [(stage, refusal)]


def test_the_scripted_relay_closes_after_a_421():
    with SmtpSink(script=Script(accept=0, stage="mail", refusal=CLOSING)) as sink:
        smtp = smtplib.SMTP(sink.host, sink.port, timeout=5)
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.sendmail("from@x.test", ["to@x.test"], b"Subject: t\r\n\r\nbody\r\n")
        assert smtp.sock is None  # smtplib closed its side: the next command raises
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.sendmail("from@x.test", ["to@x.test"], b"Subject: t\r\n\r\nbody\r\n")


def test_the_scripted_relay_refuses_recipients():
    with SmtpSink(script=Script(unknown=("nobody@x.test",), greylisted=("grey@x.test",))) as sink:
        unknown, grey = _send(sink, "nobody@x.test"), _send(sink, "grey@x.test")
        assert (unknown.kind, unknown.enhanced, grey.kind, grey.scope) == (P, "5.1.1", T, M)
        assert _send(sink) is None and len(sink.received) == 1
