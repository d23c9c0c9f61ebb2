"""DKIM against a real NSD: provider delegation by CNAME, key records, key sizes, flags, failures."""

from __future__ import annotations

import asyncio
import base64

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability import dkim
from deliverability.dns import DnsResolver, Nameserver
from deliverability.findings import Check, Status
from deliverability.providers import FLECTRA

PROVIDER = "flectra._domainkey.provider.test"


def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _spki(private) -> str:
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def txt(owner: str, value: str) -> str:
    """A zone line for a TXT record, split into strings of at most 255 characters."""
    chunks = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    return f"{owner} IN TXT {chunks}"


KEYS = {bits: _rsa(bits) for bits in (512, 1024, 2048)}
PROVIDER_KEY = _rsa(2048)
ED25519 = ed25519.Ed25519PrivateKey.generate()
ED25519_RAW = base64.b64encode(
    ED25519.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()
EC_KEY = ec.generate_private_key(ec.SECP256R1())

ZONES = {
    "example.test": "\n".join(
        [
            # delegation to the provider's key
            f"flectra._domainkey.good IN CNAME {PROVIDER}.",
            "flectra._domainkey.chain IN CNAME hop.example.test.",
            f"hop IN CNAME {PROVIDER}.",
            "flectra._domainkey.wrong IN CNAME other._domainkey.provider.test.",
            "flectra._domainkey.dangling IN CNAME gone._domainkey.provider.test.",
            "flectra._domainkey.nokey IN CNAME flectra._domainkey.empty.provider.test.",
            "flectra._domainkey.weak IN CNAME weak._domainkey.provider.test.",
            txt("flectra._domainkey.copy", f"v=DKIM1; k=rsa; p={_spki(PROVIDER_KEY)}"),
            txt("flectra._domainkey.own", f"v=DKIM1; k=rsa; p={_spki(KEYS[2048])}"),
            "flectra._domainkey.loop IN CNAME flectra._domainkey.loop.example.test.",
            "something.missing IN A 192.0.2.1",
            # self-managed keys under their own selectors
            txt("rsa2048._domainkey", f"v=DKIM1; k=rsa; p={_spki(KEYS[2048])}"),
            txt("rsa1024._domainkey", f"v=DKIM1; p={_spki(KEYS[1024])}"),
            txt("rsa512._domainkey", f"v=DKIM1; k=rsa; p={_spki(KEYS[512])}"),
            txt("ed._domainkey", f"v=DKIM1; k=ed25519; p={ED25519_RAW}"),
            txt("testing._domainkey", f"v=DKIM1; t=y; p={_spki(KEYS[2048])}"),
            txt("sha1._domainkey", f"v=DKIM1; h=sha1; p={_spki(KEYS[2048])}"),
            txt("notmail._domainkey", f"v=DKIM1; s=other; p={_spki(KEYS[2048])}"),
            'revoked._domainkey IN TXT "v=DKIM1; k=rsa; p="',
            'badb64._domainkey IN TXT "v=DKIM1; p=MIIB!!notbase64"',
            'notkey._domainkey IN TXT "v=DKIM1; p=aGVsbG8gd29ybGQ="',
            txt("eckey._domainkey", f"v=DKIM1; k=rsa; p={_spki(EC_KEY)}"),
            'ed33._domainkey IN TXT "v=DKIM1; k=ed25519; p=' + base64.b64encode(bytes(33)).decode() + '"',
            'junk._domainkey IN TXT "hello world"',
            txt("multi._domainkey", f"v=DKIM1; p={_spki(KEYS[2048])}"),
            txt("multi._domainkey", f"v=DKIM1; p={_spki(KEYS[1024])}"),
        ]
    ),
    "provider.test": "\n".join(
        [
            txt("flectra._domainkey", f"v=DKIM1; k=rsa; p={_spki(PROVIDER_KEY)}"),
            txt("other._domainkey", f"v=DKIM1; k=rsa; p={_spki(KEYS[2048])}"),
            txt("weak._domainkey", f"v=DKIM1; k=rsa; p={_spki(KEYS[1024])}"),
        ]
    ),
}
BROKEN_ZONES = ("broken.test",)


def check(run, resolver, domain, selector="flectra", target=PROVIDER):
    finding = run(dkim.check(domain, resolver, selector, target))
    assert finding.check is Check.DKIM and finding.selector == selector
    return finding


def test_cname_to_the_provider_passes(resolver, run):
    finding = check(run, resolver, "good.example.test")
    assert finding.status is Status.PASS
    assert (finding.key_type, finding.key_bits) == ("rsa", 2048)
    assert "DKIM is enabled" in finding.summary
    assert finding.fix is None
    assert f"flectra._domainkey.good.example.test -> {PROVIDER}" in finding.details


def test_chain_through_the_provider_passes(resolver, run):
    finding = check(run, resolver, "chain.example.test")
    assert finding.status is Status.PASS
    assert finding.details[0] == f"flectra._domainkey.chain.example.test -> hop.example.test -> {PROVIDER}"


def test_missing_record_fix_is_the_seed_line(resolver, run):
    finding = check(run, resolver, "missing.example.test", target=FLECTRA.dkim_target("flectra"))
    assert finding.status is Status.FAIL
    assert "DKIM is not enabled" in finding.summary
    assert finding.fix == "flectra._domainkey.missing.example.test. IN CNAME flectra._domainkey.flectra.com."


def test_cname_to_another_target_fails_and_names_it(resolver, run):
    finding = check(run, resolver, "wrong.example.test")
    assert finding.status is Status.FAIL
    assert f"points to other._domainkey.provider.test instead of {PROVIDER}" in finding.summary
    assert finding.key_bits == 2048  # the key found there is still described
    assert finding.fix == f"flectra._domainkey.wrong.example.test. IN CNAME {PROVIDER}."


def test_dangling_cname_fails(resolver, run):
    finding = check(run, resolver, "dangling.example.test")
    assert finding.status is Status.FAIL
    assert "gone._domainkey.provider.test, which does not exist (dangling CNAME)" in finding.summary
    assert finding.fix == f"flectra._domainkey.dangling.example.test. IN CNAME {PROVIDER}."


def test_provider_key_missing_is_not_the_domains_fault(resolver, run):
    finding = check(run, resolver, "nokey.example.test", target="flectra._domainkey.empty.provider.test")
    assert finding.status is Status.FAIL
    assert "provider's key" in finding.summary and finding.fix is None
    assert any("the provider must publish its key" in d for d in finding.details)


def test_weak_provider_key_warns_without_fix(resolver, run):
    finding = check(run, resolver, "weak.example.test", target="weak._domainkey.provider.test")
    assert finding.status is Status.WARNING
    assert finding.key_bits == 1024 and finding.fix is None


def test_copy_of_the_provider_key_warns(resolver, run):
    finding = check(run, resolver, "copy.example.test")
    assert finding.status is Status.WARNING
    assert "copy of the provider's key" in finding.summary
    assert finding.fix == f"flectra._domainkey.copy.example.test. IN CNAME {PROVIDER}."


def test_copy_with_unreachable_provider_warns(resolver, run):
    finding = check(run, resolver, "copy.example.test", target="flectra._domainkey.broken.test")
    assert finding.status is Status.WARNING
    assert any("could not be fetched" in d for d in finding.details)


def test_own_key_instead_of_the_provider_fails(resolver, run):
    finding = check(run, resolver, "own.example.test")
    assert finding.status is Status.FAIL
    assert "holds a key itself: mail signed by the provider will fail DKIM" in finding.summary
    assert finding.fix.endswith(f"IN CNAME {PROVIDER}.")


def test_cname_loop_fails(resolver, run):
    finding = check(run, resolver, "loop.example.test")
    assert finding.status is Status.FAIL and "CNAME loop" in finding.summary


@pytest.mark.parametrize(
    "selector, status, key_type, bits, words",
    [
        ("rsa2048", Status.PASS, "rsa", 2048, "RSA 2048-bit DKIM key published"),
        ("rsa1024", Status.WARNING, "rsa", 1024, "2048 bits is the recommended size"),
        ("rsa512", Status.FAIL, "rsa", 512, "receivers ignore keys under 1024 bits"),
        ("ed", Status.PASS, "ed25519", 256, "ed25519 256-bit DKIM key published"),
        ("testing", Status.WARNING, "rsa", 2048, "t=y"),
        ("sha1", Status.FAIL, "rsa", 2048, "allows only h=sha1"),
        ("notmail", Status.FAIL, "rsa", 2048, "not for email"),
        ("revoked", Status.FAIL, None, None, "revoked"),
        ("badb64", Status.FAIL, None, None, "not valid base64"),
        ("notkey", Status.FAIL, None, None, "not an RSA public key"),
        ("eckey", Status.FAIL, None, None, "p= holds a key of type EC, not RSA"),
        ("ed33", Status.FAIL, None, None, "32 raw bytes"),
        ("junk", Status.FAIL, None, None, "is not tag=value"),
    ],
)
def test_self_managed_keys(resolver, run, selector, status, key_type, bits, words):
    finding = check(run, resolver, "example.test", selector, None)
    assert finding.status is status, finding.summary
    assert (finding.key_type, finding.key_bits) == (key_type, bits)
    assert words in finding.summary
    if status is Status.FAIL:
        assert finding.fix.startswith(f'{selector}._domainkey.example.test. IN TXT "v=DKIM1;')


def test_several_key_records_fail(resolver, run):
    finding = check(run, resolver, "example.test", "multi", None)
    assert finding.status is Status.FAIL
    assert "2 TXT records at multi._domainkey.example.test: there must be exactly one" in finding.summary
    assert finding.details[-1] == "delete all but the current key record" and finding.fix is None


def test_missing_self_managed_selector_asks_for_its_key(resolver, run):
    finding = check(run, resolver, "example.test", "s2024", None)
    assert finding.status is Status.FAIL
    assert "no DKIM key is published for selector 's2024'" in finding.summary
    assert finding.fix.startswith('s2024._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p=')


def test_invalid_selector_is_a_clear_failure(resolver, run):
    finding = check(run, resolver, "example.test", "bad selector", None)
    assert finding.status is Status.FAIL and "not a valid DKIM selector" in finding.summary


def test_servfail_and_timeout_are_unknown(resolver, silent_resolver, run):
    assert check(run, resolver, "broken.test").status is Status.UNKNOWN
    finding = check(run, silent_resolver, "good.example.test")
    assert finding.status is Status.UNKNOWN and "timeout" in finding.summary


def _dnsfunc(nsd):
    """A dkimpy DNS hook that asks our resolver (a fresh event loop per lookup)."""

    def get_txt(name: bytes, timeout: float = 5):
        resolver = DnsResolver([Nameserver(nsd.host, nsd.port)])
        answer = asyncio.run(resolver.query(name.decode(), "TXT"))
        return answer.records[0].encode() if len(answer.records) == 1 else None

    return get_txt


MESSAGE = b"From: Jane <jane@good.example.test>\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"


def _pem(private) -> bytes:
    pkcs1 = serialization.PrivateFormat.TraditionalOpenSSL
    return private.private_bytes(serialization.Encoding.PEM, pkcs1, serialization.NoEncryption())


def test_published_records_verify_real_signatures(nsd):
    """dkimpy verifies signatures against the served records, through the CNAME to the provider too."""
    own = dkimpy.sign(MESSAGE, b"rsa2048", b"example.test", _pem(KEYS[2048]))
    assert dkimpy.verify(own + MESSAGE, dnsfunc=_dnsfunc(nsd))
    delegated = dkimpy.sign(MESSAGE, b"flectra", b"good.example.test", _pem(PROVIDER_KEY))
    assert dkimpy.verify(delegated + MESSAGE, dnsfunc=_dnsfunc(nsd))
    # the wrong target holds another key: the provider's signature fails, as the check says
    wrong = dkimpy.sign(MESSAGE, b"flectra", b"wrong.example.test", _pem(PROVIDER_KEY))
    assert not dkimpy.verify(wrong + MESSAGE, dnsfunc=_dnsfunc(nsd))


@pytest.mark.parametrize(
    "text, record",
    [
        ("p=abc", dkim.DkimRecord("abc")),
        (
            " v = DKIM1 ;k=ed25519; h=sha256 : sha1; s=email;t=y:s; n=hi there;p=ab c\t d;",
            dkim.DkimRecord("abcd", "ed25519", ("sha256", "sha1"), ("email",), ("y", "s"), "hi there"),
        ),
        ("v=DKIM1; p=; x_unknown=1", dkim.DkimRecord("")),
    ],
)
def test_parse_dkim_record(text, record):
    assert dkim.parse_dkim_record(text) == record


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty tag at character 1"),
        ("v=DKIM1; p=a;; k=rsa", "empty tag at character 14"),
        ("v=DKIM1; p", "'p' at character 10 is not tag=value"),
        ("v=DKIM1; 1p=a", "invalid tag name '1p' at character 10"),
        ("v=DKIM1; p=a; p=b", "tag 'p' appears twice"),
        ("v=DKIM1; p=é", "invalid character 'é'"),
        ("k=rsa; v=DKIM1; p=a", "v= must be the first tag"),
        ("v=DKIM2; p=a", "exactly DKIM1"),
        ("v=DKIM1; k=rsa", "p= tag (the public key) is missing"),
        ("v=DKIM1; k=dsa; p=a", "unknown key type k='dsa'"),
    ],
)
def test_parse_errors_name_the_fault(text, message):
    with pytest.raises(dkim.DkimParseError) as error:
        dkim.parse_dkim_record(text)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


_SPKI = (
    rsa.generate_private_key(public_exponent=65537, key_size=1024)
    .public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
)


def test_the_der_fast_path_agrees_with_cryptography():
    """Whatever the fast path accepts, cryptography loads as the same RSA key (what it refuses goes to
    cryptography itself: nothing to compare). About a third of the examples are accepted, counted."""
    accepted = []

    @settings(max_examples=300, deadline=None)
    @given(st.integers(0, len(_SPKI) - 1), st.integers(0, 255), st.integers(-2, 2))
    def agrees(position, value, cut):
        der = bytearray(_SPKI)
        der[position] = value
        der = bytes(der[: len(der) + cut] if cut < 0 else der + b"\0" * cut)
        bits = dkim._rsa_spki_bits(der)
        if bits:
            key = load_der_public_key(der)
            assert isinstance(key, rsa.RSAPublicKey) and key.key_size == bits
            accepted.append(der)

    agrees()
    assert len(set(accepted)) >= 30, f"only {len(set(accepted))} of 300 examples exercised the fast path"
