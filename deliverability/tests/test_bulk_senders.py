"""Bulk-sender requirements judged one by one on real signed messages against a real NSD (forward and
reverse zones): a compliant mass mailing, a notification, and messages that miss each requirement."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

from deliverability import dkim_keys, dkim_sign, unsubscribe, verdict
from deliverability.bulk_senders import Kind, Requirement, judge
from deliverability.findings import Status

KEY = dkim_keys.generate("rsa")
IP, BAD_PTR, NO_PTR = "192.0.2.25", "192.0.2.26", "192.0.2.27"
URL = "https://news.pass.test/mailing/7/unsubscribe_oneclick?document_id=12&hash_token=" + "ab" * 40


def _zone(domain, spf, dmarc=None):
    lines = [f'@ IN TXT "{spf}"', dkim_keys.zone_line("mdh1", domain, KEY.algorithm, KEY.public_key)]
    if dmarc:
        lines.append(f'_dmarc IN TXT "v=DMARC1; {dmarc}"')
    return "\n".join(lines)


ZONES = {
    "pass.test": _zone("pass.test", f"v=spf1 ip4:{IP} ip4:{BAD_PTR} ip4:{NO_PTR} -all", "p=none")
    + f"\nsmtp IN A {IP}\nother IN A 198.51.100.9",
    "nodmarc.test": _zone("nodmarc.test", f"v=spf1 ip4:{IP} -all"),
    "2.0.192.in-addr.arpa": "25 IN PTR smtp.pass.test.\n26 IN PTR other.pass.test.",
}
BROKEN_ZONES = ()


def message(author="Ann <ann@pass.test>", sign=("pass.test",), one_click=True, extra=()):
    """A message as received; ``one_click``: True (as this module sends it), "encoded" (as the email
    package alone does), False (none)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = author
    msg["To"] = "someone@example.org"
    msg["Subject"] = "News"
    msg["Date"] = email.utils.formatdate()
    msg["Message-Id"] = email.utils.make_msgid(domain="pass.test")
    if one_click:
        msg["List-Unsubscribe"] = f"<{URL}>"
        msg["List-Unsubscribe-Post"] = unsubscribe.ONE_CLICK
    for name, value in extra:
        msg.set_raw(name, value)
    msg.set_content("Hello\n")
    if one_click is True:
        unsubscribe.keep_intact(msg)
    wire = dkim_sign.wire_bytes(msg, "bounce@pass.test", ["someone@example.org"])
    signatures = b""
    for domain in sign:
        signer = dkim_sign.Signer.from_pem(domain, "mdh1", KEY.private_pem)
        signatures += dkim_sign.sign(wire, signer)
    return signatures + wire


def statuses(run, resolver, data, kind, ips=(IP,), envelope="bounce@pass.test"):
    result = run(verdict.judge(data, envelope, list(ips), resolver))
    judged = run(judge(data, result, list(ips), resolver, kind))
    return {j.requirement: j for j in judged}


def test_compliant_mass_mailing(run, resolver):
    found = statuses(run, resolver, message(), Kind.MASS_MAILING)
    assert {r: j.status for r, j in found.items()} == dict.fromkeys(Requirement, Status.PASS)
    assert found[Requirement.ONE_CLICK].detail == URL
    assert found[Requirement.FCRDNS].detail == f"{IP}: smtp.pass.test (confirmed)"
    assert all(j.fix is None for j in found.values())


def test_notification_needs_no_unsubscribe(run, resolver):
    found = statuses(run, resolver, message(one_click=False), Kind.NOTIFICATION)
    assert found[Requirement.ONE_CLICK].status is None
    found = statuses(run, resolver, message(one_click=False), Kind.MASS_MAILING)
    assert found[Requirement.ONE_CLICK].status is Status.FAIL
    assert "no List-Unsubscribe header" in found[Requirement.ONE_CLICK].detail


def test_encoded_unsubscribe_fails(run, resolver):
    """What Odoo sent before: the email package's encoded words."""
    found = statuses(run, resolver, message(one_click="encoded"), Kind.MASS_MAILING)
    assert found[Requirement.ONE_CLICK].status is Status.FAIL
    assert "encoded" in found[Requirement.ONE_CLICK].detail
    assert "mass mailing" in found[Requirement.ONE_CLICK].fix


def test_unsigned_and_unaligned(run, resolver):
    found = statuses(run, resolver, message("Ann <ann@nodmarc.test>", sign=()), Kind.MASS_MAILING)
    assert found[Requirement.DKIM].status is Status.FAIL
    assert "create a DKIM key for nodmarc.test" in found[Requirement.DKIM].fix
    assert found[Requirement.DMARC_RECORD].status is Status.FAIL
    assert found[Requirement.DMARC_RECORD].fix.startswith(
        'publish _dmarc.nodmarc.test. IN TXT "v=DMARC1; p=none'
    )
    assert found[Requirement.ALIGNMENT].status is Status.FAIL
    assert "no verified DKIM signature covers" in found[Requirement.ONE_CLICK].detail
    assert found[Requirement.SPF].status is Status.PASS  # the envelope is on pass.test


def test_reverse_dns_and_headers(run, resolver):
    data = message(extra=[("Date", email.utils.formatdate())])
    found = statuses(run, resolver, data, Kind.NOTIFICATION, ips=(IP, BAD_PTR, NO_PTR))
    fcrdns = found[Requirement.FCRDNS]
    assert fcrdns.status is Status.FAIL
    assert fcrdns.detail == (
        f"{IP}: smtp.pass.test (confirmed); {BAD_PTR}: other.pass.test (not confirmed); "
        f"{NO_PTR}: no PTR (not confirmed)"
    )
    assert found[Requirement.HEADERS].status is Status.FAIL
    assert found[Requirement.HEADERS].detail == "the message has 2 Date headers"
    found = statuses(run, resolver, message(), Kind.NOTIFICATION, ips=())
    assert found[Requirement.FCRDNS].status is Status.UNKNOWN
    assert found[Requirement.SPF].status is Status.UNKNOWN
