"""Answers read from the wire (``dns_wire.read``) say what dnspython reads in them: the same header,
question, record sets, TTLs and texts, on answers dnspython writes (compressed, mixed case, odd
labels, duplicates, types read only by dnspython) and on damaged copies of them."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverability import dns_wire

labels = st.one_of(
    st.sampled_from([b"mail", b"_dmarc", b"_domainkey", b"Brand01", b"s1", b"*", b"news", b"xn--bcher-kva"]),
    st.binary(min_size=1, max_size=12),  # spaces, dots, quotes, bytes above 127: printed escaped
)
names = st.lists(labels, min_size=1, max_size=4).map(lambda parts: dns.name.Name((*parts, b"")))
ttls = st.sampled_from([0, 60, 300, 3600, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])


@st.composite
def rdatas(draw):
    """``(type, rdata)`` of a type the resolver asks, or one only dnspython reads (SRV, CAA)."""
    kind = draw(st.sampled_from(["A", "AAAA", "TXT", "MX", "CNAME", "NS", "PTR", "SOA", "SRV", "CAA"]))
    if kind == "A":
        text = ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    elif kind == "AAAA":
        text = draw(
            st.sampled_from(["2001:db8::25", "::1", "::ffff:192.0.2.1", "::192.0.2.1", "2001:db8:0:1::"])
        )
    elif kind == "TXT":
        strings = draw(st.lists(st.binary(max_size=40), min_size=1, max_size=3))
        return kind, dns.rdata.from_wire(
            dns.rdataclass.IN,
            "TXT",
            b"".join(bytes([len(s)]) + s for s in strings),
            0,
            sum(len(s) + 1 for s in strings),
        )
    elif kind == "MX":
        text = f"{draw(st.integers(0, 65535))} {draw(names).to_text()}"
    elif kind in ("CNAME", "NS", "PTR"):
        text = draw(names).to_text()
    elif kind == "SOA":
        minimum = draw(st.integers(0, 86400))
        text = f"{draw(names).to_text()} {draw(names).to_text()} 1 7200 3600 1209600 {minimum}"
    elif kind == "SRV":
        text = f"0 5 25 {draw(names).to_text()}"
    else:
        text = '0 issue "ca.test"'
    return kind, dns.rdata.from_text(dns.rdataclass.IN, kind, text)


@st.composite
def responses(draw):
    qname = draw(names)
    qtype = draw(st.sampled_from(["TXT", "A", "AAAA", "MX", "PTR", "CNAME"]))
    query = dns.message.make_query(qname, qtype, use_edns=0, payload=1232)
    response = dns.message.make_response(query)
    response.set_rcode(
        draw(st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.BADVERS]))
    )
    for section in (response.answer, response.authority, response.additional):
        for _ in range(draw(st.integers(0, 4))):
            owner = draw(st.one_of(st.just(qname), names))
            if draw(st.booleans()):  # the same name in another case
                owner = dns.name.Name([label.swapcase() for label in owner.labels])
            kind, rdata = draw(rdatas())
            rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdata.rdtype)
            rrset.add(rdata, draw(ttls))
            same_kind = rdatas().filter(lambda r, kind=kind: r[0] == kind).map(lambda r: r[1])
            for _ in range(draw(st.integers(0, 2))):  # more records, or the same one again
                rrset.add(draw(st.one_of(st.just(rdata), same_kind)))
            section.append(rrset)
    return response


def dnspython_view(message: dns.message.Message, section) -> dict:
    """``{(owner in lower case, type): (texts, ttl)}`` of a section, read by dnspython."""

    def text(rdata) -> str:
        if rdata.rdtype == dns.rdatatype.TXT:
            return b"".join(rdata.strings).decode("utf-8", "replace")
        return rdata.to_text()

    view = {}
    for rrset in section:
        if rrset.rdclass == dns.rdataclass.IN:
            key = (tuple(label.lower() for label in rrset.name.labels[:-1]), rrset.rdtype)
            view[key] = ([text(rd) for rd in rrset], rrset.ttl)
    return view


def our_view(response: dns_wire.Response, section) -> dict:
    view = {}
    for record in section:
        key = (dns_wire.name_key(record.owner), record.rtype)
        if key not in view and record.rclass == dns_wire.IN:
            if section is response.answer:
                records, ttl = response.rrset(*key)
                view[key] = ([r.text for r in records], ttl)
            else:
                view[key] = ([record.text], record.ttl)
    return view


def assert_same(wire: bytes, message: dns.message.Message) -> None:
    ours = dns_wire.read(wire)
    assert (ours.id, ours.flags, ours.rcode) == (message.id, message.flags, message.rcode())
    assert [(dns_wire.name_key(n), t, c) for n, t, c in ours.question] == [
        (tuple(label.lower() for label in q.name.labels[:-1]), q.rdtype, q.rdclass) for q in message.question
    ]
    assert our_view(ours, ours.answer) == dnspython_view(message, message.answer)
    soa = next((rrset for rrset in message.authority if rrset.rdtype == dns.rdatatype.SOA), None)
    assert ours.soa() == (None if soa is None else (ours.soa()[0], soa.ttl))
    if soa is not None:
        assert ours.soa()[0].text == soa[0].to_text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses())
def test_answers_read_as_dnspython_reads_them(response):
    wire = response.to_wire()
    assert_same(wire, dns.message.from_wire(wire))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.data())
def test_damaged_answers_are_refused_or_read_as_dnspython_reads_them(response, data):
    """A damaged datagram is a ``WireError`` (junk) or, when dnspython reads it, read the same."""
    wire = bytearray(response.to_wire())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(wire) - 1))
        wire[at] = data.draw(st.integers(0, 255))
    wire = bytes(wire[: data.draw(st.integers(0, len(wire)))]) if data.draw(st.booleans()) else bytes(wire)
    try:
        message = dns.message.from_wire(wire, raise_on_truncation=True)
    except Exception:  # noqa: BLE001 - dnspython calls it junk: ours may too, or read more leniently
        try:
            dns_wire.read(wire)
        except dns_wire.WireError:
            pass
        return
    assert_same(wire, message)


def test_a_truncated_answer_keeps_its_header_and_question():
    query = dns.message.make_query("big.example.test", "TXT")
    response = dns.message.make_response(query)
    response.flags |= dns.flags.TC
    ours = dns_wire.read(response.to_wire())
    assert ours.flags & dns.flags.TC and ours.answer == ()
    assert ours.question == (((b"big", b"example", b"test"), dns.rdatatype.TXT, dns.rdataclass.IN),)


@pytest.mark.parametrize(
    "wire, why",
    [
        (b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x10\x00\x01", "pointer to itself"),
        (b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x04ab", "label beyond the datagram"),
        (b"\x00\x01\x81\x80\x00\x00\x00\x00\x00\x00\x00\x00junk", "trailing octets"),
        (b"\x00\x01\x81\x80", "short header"),
        (b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x41", "unknown label type"),
    ],
)
def test_malformed_answers_are_wire_errors(wire, why):
    with pytest.raises(dns_wire.WireError):
        dns_wire.read(wire)
    with pytest.raises(Exception):  # noqa: B017 - dnspython refuses them too
        dns.message.from_wire(wire)


def test_a_name_longer_than_255_octets_is_refused():
    label = b"\x3f" + b"a" * 63
    wire = b"\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + label * 4 + b"\x00\x00\x10\x00\x01"
    with pytest.raises(dns_wire.WireError, match="255"):
        dns_wire.read(wire)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True), min_size=1, max_size=6).map(".".join),
        st.text(max_size=40),
    ),
    st.booleans(),
)
def test_query_names_are_the_names_dnspython_reads(text, final_dot):
    text += "." if final_dot else ""
    try:
        expected = dns.name.from_text(text)
    except Exception as exc:  # noqa: BLE001 - the same error, then
        with pytest.raises(type(exc)):
            dns_wire.query_name(text)
        return
    assert dns_wire.query_name(text) == expected
    assert dns_wire.query_name(text).labels == expected.labels  # the case kept, too
