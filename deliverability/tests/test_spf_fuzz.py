"""Arbitrary text to the SPF parser and merge functions: a result or our parse error, nothing else."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.spf_record import (
    SpfSyntaxError,
    has_include,
    merge_records,
    merged_record,
    parse,
    txt_line,
)

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


@FAST
@given(st.one_of(st.none(), TEXT), st.sampled_from(["_spf.flectra.com", "_spf.odoo.com", "spf.example.com"]))
def test_merged_record_is_spf_with_the_include(existing, include):
    merged = merged_record(existing, include)
    assert merged.startswith("v=spf1 ")
    assert has_include(merged, include)
    assert merged_record(merged, include) == merged  # publishing the fix and checking again changes nothing


@FAST
@given(st.lists(TEXT, max_size=4))
def test_merge_records_never_raises(records):
    merged = merge_records(records, "_spf.flectra.com")
    assert merged.startswith("v=spf1 include:_spf.flectra.com") or has_include(merged, "_spf.flectra.com")


@FAST
@given(st.text(max_size=700) | TEXT)
def test_txt_line_strings_fit_and_join_back(text):
    line = txt_line("example.com", text)
    assert line.startswith("example.com. IN TXT ")
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, line.split(" IN TXT ", 1)[1])
    assert all(len(s) <= 255 for s in rdata.strings)
    assert b"".join(rdata.strings) == text.encode("utf-8")
