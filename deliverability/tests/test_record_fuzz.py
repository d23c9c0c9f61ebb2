"""Arbitrary text to the DKIM and DMARC record parsers: a record or our parse error, never another error."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverability import dkim, dmarc
from deliverability.findings import Status

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
SPKI = _KEY.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

SPACE = st.sampled_from(["", " ", "\t", "  ", "\r\n "])
VALUE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(
    ["é", "\x00", "\n", ";"]
)
DKIM_TAGS = st.sampled_from(["v", "k", "p", "h", "s", "t", "n", "g", "x", "V", "1a", ""])
DMARC_TAGS = st.sampled_from(
    [
        "v",
        "p",
        "sp",
        "np",
        "pct",
        "rua",
        "ruf",
        "adkim",
        "aspf",
        "fo",
        "ri",
        "rf",
        "psd",
        "t",
        "P",
        "x_y",
        "9",
    ]
)
DKIM_VALUES = st.sampled_from(
    ["DKIM1", "rsa", "ed25519", "sha256", "sha1:sha256", "email", "*", "y", "s", "y:s", "", "=", "a b"]
) | st.text(VALUE_CHARS, max_size=20)
DMARC_VALUES = st.sampled_from(
    [
        "DMARC1",
        "none",
        "reject",
        "Quarantine",
        "100",
        "0",
        "101",
        "-1",
        "r",
        "s",
        "1:d",
        "afrf",
        "mailto:a@example.com",
        "mailto:a@example.com!10m",
        "mailto:a@example.com!x",
        "mailto:@",
        "mailto:a@-bad-",
        "https://example.com",
        "mailto:a%40b@example.net, mailto:c@example.org",
        "y",
        "n",
        "u",
        "",
    ]
) | st.text(VALUE_CHARS, max_size=20)


def tag_lists(names, values):
    spec = st.tuples(SPACE, names, SPACE, st.sampled_from(["=", "", "=="]), SPACE, values, SPACE).map("".join)
    return st.lists(spec, max_size=8).map(";".join)


POLICY = ["none", "reject", "Quarantine", "block"]
URIS = [
    "mailto:a@example.com",
    "mailto:a@example.com!10m,mailto:b@example.net",
    "mailto:x",
    "https://example.com/r",
]
PLAUSIBLE_DMARC = {
    "p": POLICY,
    "sp": POLICY,
    "np": POLICY,
    "pct": ["0", "50", "100", "101"],
    "rua": URIS,
    "ruf": URIS,
    "adkim": ["r", "s", "x"],
    "aspf": ["r", "S"],
    "fo": ["0", "1:d", "s", "2"],
    "ri": ["86400", "1h"],
    "rf": ["afrf", "iodef"],
    "psd": ["y", "n", "u", "q"],
    "t": ["y", "n"],
    "zz": ["1"],
}


def plausible_dmarc():
    """Records of known tags with mostly valid values, so that parsing goes deep."""
    tags = st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in PLAUSIBLE_DMARC.items()})
    return tags.map(lambda tags: "; ".join(["v=DMARC1", *(f"{k}={v}" for k, v in tags.items())]))


def key_values():
    """base64 of real, truncated or altered keys, of random bytes, and non-base64 text."""
    altered = st.tuples(st.integers(0, len(SPKI)), st.binary(max_size=8)).map(lambda c: SPKI[: c[0]] + c[1])
    raw = st.just(SPKI) | st.binary(min_size=32, max_size=32) | altered | st.binary(max_size=64)
    return raw.map(lambda b: base64.b64encode(b).decode()) | st.text(VALUE_CHARS, max_size=30)


@FUZZ
@given(st.text(max_size=200) | tag_lists(DKIM_TAGS, DKIM_VALUES))
def test_dkim_parser_returns_a_record_or_its_error(text):
    try:
        record = dkim.parse_dkim_record(text)
    except dkim.DkimParseError as exc:
        assert str(exc)
        return
    assert isinstance(record, dkim.DkimRecord)
    assert record.key_type in dkim.KEY_TYPES


@FUZZ
@given(st.sampled_from(["rsa", "ed25519"]), key_values(), st.sampled_from(["", "t=y;", "h=sha1;", "s=x;"]))
def test_dkim_key_judgement_never_raises(key_type, key, extra):
    text = f"v=DKIM1; k={key_type}; {extra} p={key}"
    verdict = dkim.judge_record(text, "s._domainkey.example.test")
    assert isinstance(verdict.status, Status) and verdict.summary
    assert (verdict.key_bits is None) == (verdict.key_type is None)


@FUZZ
@given(
    st.text(max_size=200)
    | tag_lists(DMARC_TAGS, DMARC_VALUES)
    | tag_lists(DMARC_TAGS, DMARC_VALUES).map(lambda t: "v=DMARC1; " + t)
    | plausible_dmarc()
)
def test_dmarc_parser_returns_a_record_or_its_error(text):
    try:
        record = dmarc.parse_dmarc_record(text)
    except dmarc.DmarcParseError as exc:
        assert str(exc)
        return
    assert record.policy in dmarc.POLICIES
    assert 0 <= record.pct <= 100
    assert record.policy_for(subdomain=True) in dmarc.POLICIES
    assert all(u.domain is not None for u in record.rua + record.ruf if u.uri.lower().startswith("mailto:"))
