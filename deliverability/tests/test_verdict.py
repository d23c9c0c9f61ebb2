"""A receiver's verdict on real signed messages against a real NSD: zones that pass, fail SPF, fail
alignment and lack DKIM."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

import pytest

from deliverability import dkim_keys, dkim_sign, verdict
from deliverability.judgement import Outcome

KEY = dkim_keys.generate("rsa")
IP = "192.0.2.25"


def _zone(domain: str, spf: str, dmarc: str | None, key: bool = True) -> str:
    lines = [f'@ IN TXT "{spf}"']
    if dmarc:
        lines.append(f'_dmarc IN TXT "v=DMARC1; {dmarc}"')
    if key:
        lines.append(dkim_keys.zone_line("mdh1", domain, KEY.algorithm, KEY.public_key))
    return "\n".join(lines)


ZONES = {
    "pass.test": _zone("pass.test", f"v=spf1 ip4:{IP} -all", "p=reject"),
    "spffail.test": _zone("spffail.test", "v=spf1 ip4:198.51.100.1 -all", "p=quarantine", key=False),
    "spffail-none.test": _zone("spffail-none.test", "v=spf1 ip4:198.51.100.1 -all", None, key=False),
    "relay.test": _zone("relay.test", f"v=spf1 ip4:{IP} -all", None, key=False),
    "strict.test": _zone("strict.test", "v=spf1 -all", "p=reject", key=False),
    "nodkim.test": _zone("nodkim.test", f"v=spf1 ip4:{IP} -all", "p=reject", key=False),
    "soft.test": _zone("soft.test", "v=spf1 ~all", "p=none", key=False),
}
BROKEN_ZONES = ("dnsdown.test",)


def message(author: str, sign_as: str | None = None, **headers) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = author
    msg["To"] = "someone@example.org"
    msg["Subject"] = "Test"
    msg["Date"] = email.utils.formatdate()
    msg["Message-Id"] = email.utils.make_msgid(domain="pass.test")
    for name, value in headers.items():
        msg.set_raw(name.replace("_", "-"), value)  # duplicates allowed: hostile messages
    msg.set_content("Hello\n")
    wire = dkim_sign.wire_bytes(msg, "bounce@x.test", ["someone@example.org"])
    if sign_as:
        signer = dkim_sign.Signer.from_pem(sign_as, "mdh1", KEY.private_pem)
        return dkim_sign.sign(wire, signer) + wire
    return wire


def judge(run, resolver, data, envelope, catchall=None):
    return run(verdict.judge(data, envelope, [IP], resolver, catchall_domain=catchall))


def test_passes_spf_and_dkim(run, resolver):
    result = judge(run, resolver, message("Ann <ann@pass.test>", "pass.test"), "bounce@pass.test")
    assert result.outcome is Outcome.DELIVERED, result
    assert (result.spf_result, result.spf_aligned, result.dkim_aligned) == ("pass", True, True)
    assert [d.result for d in result.dkim] == ["pass"]
    assert result.dmarc_policy == "reject" and not result.fixes


def test_fails_spf_quarantine(run, resolver):
    result = judge(run, resolver, message("Ann <ann@spffail.test>"), "bounce@spffail.test")
    assert result.outcome is Outcome.SPAM, result
    assert result.spf_result == "fail"
    assert "quarantine" in result.reason
    assert any("SPF record of spffail.test" in fix and f"ip4:{IP}" in fix for fix in result.fixes)
    assert any("create a DKIM key for spffail.test" in fix for fix in result.fixes)


def test_fails_spf_without_dmarc_rejected(run, resolver):
    result = judge(run, resolver, message("Ann <ann@spffail-none.test>"), "bounce@spffail-none.test")
    assert result.outcome is Outcome.REJECTED, result
    assert "SPF fails" in result.reason


def test_fails_alignment(run, resolver):
    """SPF passes for the relay's envelope domain, which is not the From domain: DMARC p=reject."""
    result = judge(run, resolver, message("Ann <ann@strict.test>"), "bounce@relay.test")
    assert result.outcome is Outcome.REJECTED, result
    assert (result.spf_result, result.spf_aligned) == ("pass", False)
    assert "not aligned" in result.reason
    assert any("envelope sender (Return-Path) on strict.test" in fix for fix in result.fixes)


def test_signature_of_another_domain_does_not_align(run, resolver):
    result = judge(run, resolver, message("Ann <ann@strict.test>", "pass.test"), "bounce@relay.test")
    assert result.outcome is Outcome.REJECTED, result
    assert [d.result for d in result.dkim] == ["pass"] and not result.dkim_aligned
    assert any("sign with a DKIM key of strict.test" in fix for fix in result.fixes)


def test_lacks_dkim_passes_through_spf(run, resolver):
    result = judge(run, resolver, message("Ann <ann@nodkim.test>"), "bounce@nodkim.test")
    assert result.outcome is Outcome.DELIVERED, result
    assert result.dkim == () and result.spf_aligned
    assert any("create a DKIM key for nodkim.test" in fix for fix in result.fixes)


def test_lacks_dkim_key_in_dns(run, resolver):
    result = judge(run, resolver, message("Ann <ann@nodkim.test>", "nodkim.test"), "bounce@relay.test")
    assert result.outcome is Outcome.REJECTED, result
    assert [(d.result, d.reason) for d in result.dkim] == [
        ("permerror", "no key is published at mdh1._domainkey.nodkim.test")
    ]


def test_unauthenticated_softfail_goes_to_spam(run, resolver):
    result = judge(run, resolver, message("Ann <ann@soft.test>"), "bounce@soft.test")
    assert result.outcome is Outcome.SPAM, result
    assert result.spf_result == "softfail"


def test_dns_down_is_not_judged(run, resolver):
    result = judge(run, resolver, message("Ann <ann@dnsdown.test>"), "bounce@dnsdown.test")
    assert result.outcome is Outcome.UNKNOWN, result


@pytest.mark.parametrize(
    "headers, problem, outcome",
    [
        ({"From": "Eve <eve@pass.test>"}, "2 From headers", Outcome.REJECTED),
        ({"Reply-To": "ann@elsewhere.test"}, "not on the catchall domain pass.test", Outcome.SPAM),
        ({"Message-Id": "<second@pass.test>"}, "2 Message-ID headers", Outcome.SPAM),
        ({"Return-Path": "<>"}, "Return-Path (envelope sender) is empty", Outcome.SPAM),
    ],
)
def test_header_sanity(run, resolver, headers, problem, outcome):
    data = message("Ann <ann@pass.test>", "pass.test", **headers)
    result = judge(run, resolver, data, "bounce@pass.test", catchall="pass.test")
    assert result.outcome is outcome, result
    assert any(problem in text for text in result.header_problems), result.header_problems


def test_reply_to_on_catchall_is_sane(run, resolver):
    data = message("Ann <ann@pass.test>", "pass.test", Reply_To="catchall@pass.test")
    result = judge(run, resolver, data, "bounce@pass.test", catchall="pass.test")
    assert result.outcome is Outcome.DELIVERED and result.header_problems == ()
