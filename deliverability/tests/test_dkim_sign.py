"""DKIM keys and signing against a real NSD: published, missing and different keys; signatures on the
bytes an SMTP server on loopback receives, verified by dkimpy against the served keys."""

from __future__ import annotations

import email.policy
import email.utils
import smtplib
from email.message import EmailMessage

import dkim as dkimpy
import pytest

from deliverability import checks, dkim_keys, dkim_sign, verdict
from deliverability.dkim_keys import OwnKey, Publication
from deliverability.findings import Check, Status
from deliverability.options import CheckOptions
from deliverability.providers import custom
from deliverability.testing.keys import receiver_verifies, txt_strings
from deliverability.testing.smtp_sink import SmtpSink

RSA = dkim_keys.generate("rsa")
ED = dkim_keys.generate("ed25519")
OTHER = dkim_keys.generate("rsa")


def _record(selector, pair, domain="signed.test"):
    return dkim_keys.zone_line(selector, domain, pair.algorithm, pair.public_key)


ZONES = {
    "signed.test": "\n".join(
        [
            _record("mdh1", RSA),
            _record("mdh1e", ED),
            _record("stale", OTHER),
            '@ IN TXT "v=spf1 ip4:192.0.2.25 -all"',
            '_dmarc IN TXT "v=DMARC1; p=reject"',
        ]
    ),
}


def own(selector, pair=RSA, required=True):
    return OwnKey("signed.test", selector, pair.algorithm, pair.public_key, required)


def test_generate_and_import_round_trip():
    assert (RSA.algorithm, RSA.bits, ED.algorithm) == ("rsa", 2048, "ed25519")
    assert dkim_keys.import_pem(RSA.private_pem).public_key == RSA.public_key
    assert dkim_keys.import_pem(ED.private_pem).public_key == ED.public_key
    assert "PRIVATE" not in repr(RSA)


@pytest.mark.parametrize(
    "pem, error",
    [
        ("hello", "not a PEM private key"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "could not be read"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "passphrase"),
    ],
)
def test_import_rejects_unusable_pem_without_quoting_it(pem, error):
    with pytest.raises(dkim_keys.DkimKeyError, match=error) as caught:
        dkim_keys.import_pem(pem)
    assert "AAAA" not in str(caught.value)


def test_record_reads_back_as_host_type_value():
    record = dkim_keys.dns_record("mdh1", "signed.test", "rsa", RSA.public_key)
    assert (record.host(), record.type) == ("mdh1._domainkey", "TXT")
    assert record.value == f"v=DKIM1; k=rsa; p={RSA.public_key}"
    assert record.zone_line.startswith("mdh1._domainkey.signed.test. IN TXT ")


@pytest.mark.parametrize("pair", [RSA, ED], ids=["rsa", "ed25519"])
def test_a_receiver_verifies_mail_signed_with_the_key_against_the_record(pair):
    """The zone line and the Host / Value a registrar's form takes, read back as a receiver would
    (dnspython, dkimpy), accept the key's signatures and only those."""
    record = dkim_keys.dns_record("mdh1", "signed.test", pair.algorithm, pair.public_key)
    assert receiver_verifies(record.zone_line, pair.private_pem, "mdh1", "signed.test")
    typed = f"{record.host()}.signed.test. IN {record.type} {txt_strings(record.value)}"
    assert receiver_verifies(typed, pair.private_pem, "mdh1", "signed.test")
    other = OTHER if pair is RSA else dkim_keys.generate("ed25519")
    assert not receiver_verifies(record.zone_line, other.private_pem, "mdh1", "signed.test")
    assert not receiver_verifies(record.zone_line, pair.private_pem, "mdh2", "signed.test")


def test_new_selector_is_unique():
    assert dkim_keys.new_selector("rsa", 2026, 12, set()) == "mdh202612"
    assert dkim_keys.new_selector("ed25519", 2026, 12, {"mdh202612e"}) == "mdh202612e-2"


@pytest.mark.parametrize(
    "key, publication, status",
    [
        (own("mdh1"), Publication.PUBLISHED, Status.PASS),
        (own("mdh1e", ED), Publication.PUBLISHED, Status.PASS),
        (own("absent"), Publication.NOT_PUBLISHED, Status.FAIL),
        (own("absent", required=False), Publication.NOT_PUBLISHED, Status.WARNING),
        (own("stale"), Publication.DIFFERS, Status.FAIL),
        (own("mdh1e"), Publication.DIFFERS, Status.FAIL),  # an ed25519 key where an RSA key is stored
    ],
)
def test_publication(run, resolver, key, publication, status):
    found, finding = run(dkim_keys.check(key, resolver))
    assert (found, finding.status, finding.selector) == (publication, status, key.selector)
    if publication is not Publication.PUBLISHED:  # the line to publish is the stored key's, for a receiver
        pair = next(p for p in (RSA, ED) if p.public_key == key.public_key)
        assert receiver_verifies(finding.fix, pair.private_pem, key.selector, key.domain), finding.fix


def test_publication_unknown_when_dns_is_silent(run, silent_resolver):
    assert run(dkim_keys.check(own("mdh1"), silent_resolver))[0] is Publication.UNKNOWN


def test_health_check_compares_own_keys(run, resolver):
    options = CheckOptions(provider=custom("_spf.x.test"), own_keys=(own("mdh1"), own("stale")))
    report = run(checks.check_domain("signed.test", resolver, options))
    dkim_findings = {f.selector: f for f in report.checks if f.check is Check.DKIM}
    assert dkim_findings["mdh1"].status is Status.PASS
    assert "not the public half" in dkim_findings["stale"].summary


SIGNERS = [
    dkim_sign.Signer.from_pem("signed.test", "mdh1", RSA.private_pem),
    dkim_sign.Signer.from_pem("signed.test", "mdh1e", ED.private_pem),
]


def _message(to="person@example.org") -> EmailMessage:
    """Long header lines, non-ASCII names, dot-leading lines, an attachment."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = '"Zoë Ünïcode, a name long enough to be folded over several lines" <zoe@signed.test>'
    message["To"] = ", ".join([to, *(f'"Pérson {i}" <p{i}@example.org>' for i in range(12))])
    message["Subject"] = "Réunion " * 20
    message["Date"] = email.utils.formatdate()
    message["Message-Id"] = email.utils.make_msgid(domain="signed.test")
    message["Reply-To"] = "catchall@signed.test"
    message["Bcc"] = "hidden@example.org"
    message.set_content(".leading dot\n..two dots\nline\n" * 40)
    message.add_alternative("<p>Bonjour é</p>\n.<b>dot</b>\n", subtype="html")
    attachment = bytes(range(256)) * 40
    message.add_attachment(attachment, maintype="application", subtype="pdf", filename="résumé.pdf")
    return message


def _send_signed(sink, message, smtp_from="bounce@signed.test", rcpt=("person@example.org",)):
    signed = dkim_sign.sign_message(message, smtp_from, rcpt, SIGNERS)
    assert signed["Message-Id"] == message["Message-Id"] and signed["DKIM-Signature"]
    with smtplib.SMTP(sink.host, sink.port) as smtp:
        smtp.send_message(signed, smtp_from, list(rcpt))
    data = sink.received[-1].data
    assert data == signed.as_bytes() and data.startswith(b"DKIM-Signature: ")  # nothing changed on the way
    return data


def test_signed_bytes_received_by_smtp_verify(run, resolver):
    with SmtpSink() as sink:
        data = _send_signed(sink, _message())
    assert b"hidden@example.org" not in data  # Bcc stays out of what is sent and signed
    results = run(verdict._verify_dkim(data, resolver))
    assert [(r.selector, r.result) for r in results] == [("mdh1", "pass"), ("mdh1e", "pass")], results
    fields = dkimpy.util.parse_tag_value(dkimpy.DKIM(data).headers[0][1])
    assert fields[b"c"] == b"relaxed/relaxed"
    signed = [name.strip() for name in fields[b"h"].split(b":")]  # FWS only around the colons
    assert signed.count(b"from") == 2  # From over-signed
    assert {b"to", b"subject", b"date", b"message-id", b"reply-to", b"content-type"} <= set(signed)


def test_international_addresses_sent_as_utf8_verify(run, resolver):
    with SmtpSink() as sink:
        data = _send_signed(sink, _message(to="ïda@exämple.org"), rcpt=("ïda@exämple.org",))
    assert "ïda@exämple.org".encode() in data
    assert all(r.result == "pass" for r in run(verdict._verify_dkim(data, resolver)))


@pytest.mark.parametrize(
    "old, new",
    [
        (b".leading dot", b".leading dog"),
        (b"Reply-To: catchall@", b"Reply-To: attacker@"),
        (b"\r\n\r\n", b"\r\nFrom: x@evil.test\r\n\r\n"),
    ],
)
def test_altered_after_signing_fails(run, resolver, old, new):
    with SmtpSink() as sink:
        data = _send_signed(sink, _message())
    altered = data.replace(old, new, 1)
    assert altered != data
    assert [r.result for r in run(verdict._verify_dkim(altered, resolver))] == ["fail", "fail"]
