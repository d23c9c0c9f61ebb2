"""Arbitrary text to the SPF parser and merge functions: a result or our parse error, nothing else."""

from __future__ import annotations

from unittest.mock import patch

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import spf as pyspf
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.spf_record import (
    SpfSyntaxError,
    merge_records,
    merged_record,
    parse,
    txt_line,
)
from deliverability.testing.no_dns import no_dns

WORDS = st.sampled_from(
    [
        "v=spf1",
        "V=SPF1",
        "include:",
        "include:_spf.flectra.com",
        "a",
        "mx",
        "ptr",
        "exists:",
        "ip4:",
        "ip6:",
        "all",
        "+all",
        "-all",
        "~all",
        "?all",
        "redirect=",
        "exp=",
        "/",
        "//",
        ":",
        "=",
        "%{",
        "}",
        "%{d}",
        "%{i1r}",
        "%%",
        "%_",
        "%-",
        "192.0.2.1",
        "2001:db8::",
        "/24",
        "//64",
        "example.com",
        ".",
        "-",
        "+",
        " ",
        "  ",
        "\t",
        "\x00",
        "é",
        "moo=cow",
    ]
)
SPFISH = st.lists(WORDS, max_size=12).map("".join) | st.lists(WORDS, max_size=10).map(" ".join)
TEXT = st.text(max_size=120) | SPFISH | SPFISH.map(lambda s: "v=spf1 " + s)
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(TEXT)
def test_parse_gives_a_record_or_a_positioned_error(text):
    try:
        record = parse(text)
    except SpfSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        assert exc.message
        return
    assert all(text[t.position : t.position + len(t.raw)] == t.raw for t in record.terms)
    assert all(t.name == "all" for t in record.evaluated[-1:] if record.all)


PROVIDER_IP = "192.0.2.77"


def _pyspf(record: str, include: str) -> str:
    """pyspf's result (an independent implementation) for the provider's server sending as
    ``example.org`` publishing ``record``, over an in-memory DNS where ``include`` authorizes that
    server and every other name answers nothing."""

    def lookup(name, qtype, *args, **kwargs):
        if name.rstrip(".").lower() == include and qtype == "TXT":
            return [((name, "TXT"), [f"v=spf1 ip4:{PROVIDER_IP} -all".encode()])]
        return []

    with patch.object(pyspf, "DNSLookup", lookup):
        return pyspf.query(i=PROVIDER_IP, s="postmaster@example.org", h="example.org").check(spf=record)[0]


def test_merged_record_is_spf_with_the_include():
    """A receiver lets the provider's server send under the merged record, unless the owner's own
    terms were already an error for it (the check says so, with its position); how many merged
    records pyspf judged is asserted."""
    judged = []

    @FAST
    @given(
        st.one_of(st.none(), TEXT), st.sampled_from(["_spf.flectra.com", "_spf.odoo.com", "spf.example.com"])
    )
    def merged_authorizes_the_provider(existing, include):
        merged = merged_record(existing, include)
        assert merged.startswith("v=spf1 ")
        assert merged_record(merged, include) == merged  # publishing the fix and checking again: no change
        if existing is None or _pyspf(existing, include) != "permerror":
            assert _pyspf(merged, include) == "pass", merged
            judged.append(merged)

    with no_dns():  # pyspf asks the in-memory DNS only
        merged_authorizes_the_provider()
    assert len(judged) >= 100, len(judged)


def test_merge_records_never_raises():
    judged = []

    @FAST
    @given(st.lists(TEXT, max_size=4))
    def merged_authorizes_the_provider(records):
        merged = merge_records(records, "_spf.flectra.com")
        if all(_pyspf(record, "_spf.flectra.com") != "permerror" for record in records):
            assert _pyspf(merged, "_spf.flectra.com") == "pass", merged
            judged.append(merged)

    with no_dns():
        merged_authorizes_the_provider()
    assert len(judged) >= 50, len(judged)


@FAST
@given(st.text(max_size=700) | TEXT)
def test_txt_line_strings_fit_and_join_back(text):
    line = txt_line("example.com", text)
    assert line.startswith("example.com. IN TXT ")
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, line.split(" IN TXT ", 1)[1])
    assert all(len(s) <= 255 for s in rdata.strings)
    assert b"".join(rdata.strings) == text.encode("utf-8")
