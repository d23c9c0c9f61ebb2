"""DNS records to publish, as zone-file lines and as the Host / Type / Value a registrar's form asks for."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from .domains import organizational_domain

_LINE = re.compile(r"^\s*(?P<name>\S+)\s+(?:\d+\s+)?IN\s+(?P<type>[A-Z0-9]+)\s+(?P<rdata>.*?)\s*$", re.I)
_DECIMAL_ESCAPE = re.compile(rb"\\(\d{3})")


@dataclass(frozen=True)
class DnsRecord:
    """One record: ``name`` absolute without the final dot, ``value`` as typed in a registrar's form.

    For TXT the value is the record's text (its strings joined, unquoted); for other types the
    record data as it appears in the zone line.
    """

    name: str
    type: str
    value: str
    zone_line: str

    def host(self, zone: str | None = None) -> str:
        """The name relative to ``zone`` (default: the organizational domain), ``@`` for the apex."""
        zone = (zone or organizational_domain(self.name)).rstrip(".").lower()
        name = self.name.lower()
        if name == zone:
            return "@"
        if name.endswith("." + zone):
            return self.name[: -len(zone) - 1]
        return self.name + "."


def parse_zone_line(line: str) -> DnsRecord:
    """A ``DnsRecord`` from a zone-file line ``name. IN TYPE rdata``; ``ValueError`` if it is not one."""
    match = _LINE.match(line)
    if not match:
        raise ValueError(f"not a zone-file record line: {line!r}")
    rtype = match["type"].upper()
    rdata = match["rdata"]
    value = _txt_value(rdata) if rtype == "TXT" else rdata
    return DnsRecord(match["name"].rstrip("."), rtype, value, line.strip())


def parse_fix(fix: str | None) -> tuple[DnsRecord, ...]:
    """The records of a finding's ``fix`` (one zone line per line); lines that are not records are skipped."""
    records = []
    for line in (fix or "").splitlines():
        try:
            records.append(parse_zone_line(line))
        except ValueError:
            continue
    return tuple(records)


def _txt_value(rdata: str) -> str:
    """The text of TXT record data: its quoted strings joined, zone-file escapes undone."""
    try:
        strings = shlex.split(rdata.replace("\\\\", "\x00"), posix=True)
    except ValueError:
        return rdata
    raw = _DECIMAL_ESCAPE.sub(lambda m: bytes([int(m[1])]), "".join(strings).encode())
    return raw.replace(b"\x00", b"\\").decode("utf-8", "replace")
