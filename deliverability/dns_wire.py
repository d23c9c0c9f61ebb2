"""DNS datagrams as the resolver sends and reads them: the query it sends, and the parts of an
answer it uses, read straight from the wire.

dnspython's ``Message`` builds an object for every name, record and record set of an answer;
the resolver needs the header, the question, the records of the answer and authority sections
as text and the extended RCODE: read here, they cost a check about a third less CPU time in all.
Names and records are checked as dnspython checks them (compression pointers only go backwards,
a name fits in 255 octets, each record fills its length exactly, no trailing octets); record
types this module does not know are left to dnspython, which prints them.
"""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.ipv6
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

EDNS_PAYLOAD = 1232

_HEADER = struct.Struct("!HHHHHH")
_QUESTION_TAIL = struct.Struct("!HH")
_RR_HEADER = struct.Struct("!HHIH")
_U16 = struct.Struct("!H")
_OPT = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, 0, 0)  # EDNS0, no flag, no option

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, DNAME, OPT = (
    int(dns.rdatatype.from_text(t))
    for t in ("A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "DNAME", "OPT")
)
IN = int(dns.rdataclass.IN)
_NAME_TARGETS = frozenset({NS, CNAME, PTR, DNAME})
_SINGLETONS = frozenset(int(t) for t in dns.rdatatype.RdataType if dns.rdatatype.is_singleton(t))
_PLAIN_LABEL = re.compile(rb"[A-Za-z0-9_*+/=-]+")  # printed as is by dnspython (no escape)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?")  # read as is by dnspython

Name = tuple  # a name's labels, as on the wire (their case kept)


class WireError(ValueError):
    """The datagram is not a well-formed DNS message."""


def query_name(text: str) -> dns.name.Name:
    """``dns.name.from_text(text)``, the plain names checks ask built directly (its parser reads
    every character for escapes and IDNA). Raises dnspython's errors for a name too long."""
    if _PLAIN_NAME.fullmatch(text):
        return dns.name.Name((*text.rstrip(".").encode("ascii").split(b"."), b""))
    return dns.name.from_text(text)


def query_wire(qid: int, qname: dns.name.Name, qtype: int) -> bytes:
    """The query ``dns.message.make_query(qname, qtype, use_edns=0, payload=1232)`` with id ``qid``."""
    return (
        _HEADER.pack(qid, dns.flags.RD, 1, 0, 0, 1)
        + qname.to_wire()
        + _QUESTION_TAIL.pack(qtype, dns.rdataclass.IN)
        + _OPT
    )


def name_key(labels: Name) -> tuple[bytes, ...]:
    """What names are compared by: their labels in lower case (DNS names ignore ASCII case)."""
    return tuple(label.lower() for label in labels)


def name_text(labels: Name) -> str:
    """``labels`` as dnspython prints an absolute name, without the final dot."""
    if all(_PLAIN_LABEL.fullmatch(label) for label in labels):
        return b".".join(labels).decode("ascii")
    return dns.name.Name((*labels, b"")).to_text(omit_final_dot=True)


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record: its owner, type, class and TTL, and its data as the resolver shows it
    (``Answer.records``): TXT strings joined and decoded, a name target's text, ``rdata.to_text()``
    otherwise; the SOA's ``minimum`` in ``minimum``, and ``target`` for CNAME, NS, PTR, DNAME."""

    owner: Name
    rtype: int
    rclass: int
    ttl: int
    text: str
    same: tuple  # what tells two records of one set apart (dnspython's rdata equality)
    target: Name = ()
    minimum: int = 0


@dataclass(frozen=True, slots=True)
class Response:
    """What the resolver reads of an answer. ``question`` is ``(name, type, class)`` triples;
    a truncated answer (TC) carries its header and question only."""

    id: int
    flags: int
    rcode: int
    question: tuple[tuple[Name, int, int], ...]
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()

    def rrset(self, owner: tuple[bytes, ...], rtype: int) -> tuple[list[Record], int] | None:
        """The answer section's records of ``owner`` (a ``name_key``) and ``rtype`` in class IN,
        with the set's TTL; None when there are none."""
        return _rrset(self.answer, owner, rtype, IN)

    def soa(self) -> tuple[Record, int] | None:
        """The authority section's SOA and its TTL (a negative answer's), None when it has none."""
        first = next((record for record in self.authority if record.rtype == SOA), None)
        if first is None:
            return None
        records, ttl = _rrset(self.authority, name_key(first.owner), SOA, first.rclass)
        return records[0], ttl


def _rrset(section, owner, rtype, rclass) -> tuple[list[Record], int] | None:
    """The records of ``owner``, ``rtype`` and ``rclass`` in ``section`` as dnspython makes a set of
    them: duplicates dropped, the last one only for a type that has one (SOA, CNAME, DNAME), the
    least TTL of all."""
    found: dict[tuple, Record] = {}
    ttl = 0
    for record in section:
        if record.rtype == rtype and record.rclass == rclass and name_key(record.owner) == owner:
            ttl = min(ttl, record.ttl) if found else record.ttl
            if rtype in _SINGLETONS:
                found.clear()
            found.setdefault(record.same, record)
    return (list(found.values()), ttl) if found else None


def read(wire: bytes) -> Response:
    """Read a DNS answer from ``wire``. Raises ``WireError`` when it is malformed."""
    try:
        return _Reader(wire).response()
    except WireError:
        raise
    except (IndexError, ValueError, struct.error, dns.exception.DNSException) as exc:  # dnspython's rdata too
        raise WireError(f"{type(exc).__name__}: {exc}") from None


class _Reader:
    def __init__(self, wire: bytes) -> None:
        self.wire = wire
        self.at = 0

    def response(self) -> Response:
        wire = self.wire
        qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
        self.at = 12
        question = []
        for _ in range(qdcount):
            name = self.name()
            qtype, qclass = _QUESTION_TAIL.unpack_from(wire, self.at)
            self.at += 4
            question.append((name, qtype, qclass))
        rcode = flags & 0x000F
        if flags & dns.flags.TC:
            return Response(qid, flags, rcode, tuple(question))
        answer = tuple(self.record() for _ in range(ancount))
        authority = tuple(self.record() for _ in range(nscount))
        for _ in range(arcount):  # only EDNS's OPT is read there: its upper 8 bits of the RCODE
            self.name()
            rtype, _rclass, ttl, rdlength = _RR_HEADER.unpack_from(wire, self.at)
            self.at += 10 + rdlength
            if rtype == OPT:
                rcode |= (ttl >> 24) << 4
        if self.at != len(wire):
            raise WireError("trailing octets" if self.at < len(wire) else "record beyond the datagram")
        return Response(qid, flags, rcode, tuple(question), answer, authority)

    def name(self) -> Name:
        """The name at the current offset, compression pointers followed (each must point before
        the last, as dnspython requires: no loop), then the offset moved past it."""
        wire, at = self.wire, self.at
        labels = []
        size = 1
        lowest = at  # a pointer must point before this
        after = None
        while True:
            count = wire[at]
            if count == 0:
                at += 1
                break
            if count < 64:
                label = wire[at + 1 : at + 1 + count]
                if len(label) != count:
                    raise WireError("label beyond the datagram")
                labels.append(label)
                size += count + 1
                if size > 255:
                    raise WireError("name longer than 255 octets")
                at += count + 1
            elif count >= 0xC0:
                pointer = (count & 0x3F) << 8 | wire[at + 1]
                if pointer >= lowest:
                    raise WireError("compression pointer does not point backwards")
                if after is None:
                    after = at + 2
                lowest = at = pointer
            else:
                raise WireError("unknown label type")
        self.at = at if after is None else after
        return tuple(labels)

    def record(self) -> Record:
        wire = self.wire
        owner = self.name()
        rtype, rclass, ttl, rdlength = _RR_HEADER.unpack_from(wire, self.at)
        start = self.at + 10
        end = start + rdlength
        if end > len(wire):
            raise WireError("record beyond the datagram")
        if ttl > 0x7FFFFFFF:
            ttl = 0  # as dnspython reads it (RFC 2181 section 8)
        target: Name = ()
        minimum = 0
        self.at = start
        if rtype == TXT:
            strings = []
            while self.at < end:
                count = wire[self.at]
                strings.append(wire[self.at + 1 : self.at + 1 + count])
                self.at += 1 + count
            data = b"".join(strings)
            text, same = data.decode("utf-8", "replace"), tuple(strings)
        elif rtype in _NAME_TARGETS:
            target = self.name()
            text, same = name_text(target) + ".", name_key(target)
        elif rtype == MX:
            (preference,) = _U16.unpack_from(wire, start)
            self.at += 2
            exchange = self.name()
            text, same = f"{preference} {name_text(exchange)}.", (preference, name_key(exchange))
        elif rtype == A and rdlength == 4:
            text = socket.inet_ntoa(wire[start:end])
            same = (text,)
            self.at = end
        elif rtype == AAAA and rdlength == 16:
            text = dns.ipv6.inet_ntoa(wire[start:end])
            same = (text,)
            self.at = end
        elif rtype == SOA:
            mname, rname = self.name(), self.name()
            fields = struct.unpack_from("!IIIII", wire, self.at)
            self.at += 20
            minimum = fields[4]
            text = f"{name_text(mname)}. {name_text(rname)}. " + " ".join(map(str, fields))
            same = (name_key(mname), name_key(rname), fields)
        else:  # a type read here in no other way, or a malformed A or AAAA: dnspython reads it
            rdata = dns.rdata.from_wire(rclass, rtype, wire, start, rdlength)
            text = rdata.to_text()
            same = (rdata,)
            self.at = end
        if self.at != end:
            raise WireError("record data does not fill its length")
        return Record(owner, rtype, rclass, ttl, text, same, target, minimum)
