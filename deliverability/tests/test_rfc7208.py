"""RFC 7208 conformance: the OpenSPF test suite (release 2014.04) against our check_host().

``data/rfc7208-tests.yml`` is the published suite, copied unchanged from pyspf
2.0.14's source distribution (its licence in ``data/rfc7208-tests.LICENSE``).
Each test runs ``spf_eval.check_host`` -- the code path ``spf.check`` uses for
sending IPs -- over an in-memory resolver built from the scenario's zonedata:
the one place the engine is not tested against a real DNS server, because the
suite is defined by its zonedata (timeouts included), not by a zone file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from deliverability.dns import Answer, DnsStatus
from deliverability.spf_eval import check_host

SUITE = Path(__file__).parent / "data" / "rfc7208-tests.yml"
MAX_CNAME_HOPS = 8


class ZoneDataResolver:
    """Our ``Resolver`` protocol answered from a suite scenario's zonedata.

    As the suite's drivers do: an ``SPF`` record stands for a TXT record when the
    name has no TXT, ``NONE`` for no record of the type; ``TIMEOUT`` for a name
    makes its lookups time out, for a record type makes that type time out;
    labels over 63 octets are a DNS error.
    """

    def __init__(self, zonedata: dict) -> None:
        self.zone = {name.lower().rstrip("."): self._records(entries) for name, entries in zonedata.items()}

    @staticmethod
    def _records(entries: list) -> list[tuple[str, object]]:
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        out = []
        for entry in entries:
            if entry == "TIMEOUT":
                out.append(("TIMEOUT", None))
                continue
            ((rtype, value),) = entry.items()
            if rtype == "SPF":
                if has_txt:
                    continue
                rtype = "TXT"
            if value == "NONE":
                continue  # a placeholder: the name has no record of that type
            if rtype == "TXT" and value != "TIMEOUT":
                value = "".join([value] if isinstance(value, str) else value)
            out.append((rtype, value))
        return out

    async def query(self, name: str, rtype: str) -> Answer:
        key = name.lower().rstrip(".")
        if any(len(label) > 63 for label in key.split(".")):
            return Answer(name, rtype, DnsStatus.ERROR, error="label longer than 63 octets")
        cnames: list[str] = []
        for _hop in range(MAX_CNAME_HOPS):
            entries = self.zone.get(key)
            if entries is None:
                return Answer(name, rtype, DnsStatus.NXDOMAIN, cnames=tuple(cnames))
            records = []
            for etype, value in entries:
                if etype == "TIMEOUT" and not records:
                    return Answer(name, rtype, DnsStatus.TIMEOUT)
                if etype == rtype:
                    if value == "TIMEOUT":
                        return Answer(name, rtype, DnsStatus.TIMEOUT)
                    records.append(self._text(rtype, value))
            if records:
                return Answer(name, rtype, DnsStatus.OK, tuple(records), tuple(cnames), 300)
            alias = next((v for t, v in entries if t == "CNAME"), None)
            if alias is None:
                return Answer(name, rtype, DnsStatus.NODATA, cnames=tuple(cnames))
            key = str(alias).lower().rstrip(".")
            cnames.append(key)
        return Answer(name, rtype, DnsStatus.ERROR, error="CNAME chain too long")

    @staticmethod
    def _text(rtype: str, value) -> str:
        if rtype == "MX":
            priority, exchange = value
            return f"{priority} {str(exchange).rstrip('.')}."
        if rtype == "PTR":
            return f"{str(value).rstrip('.')}."
        return str(value)


def _cases():
    with SUITE.open("rb") as handle:
        scenarios = list(yaml.safe_load_all(handle))
    for scenario in scenarios:
        for name, test in scenario["tests"].items():
            yield pytest.param(scenario, test, id=f"{scenario['description']}::{name}")


@pytest.mark.parametrize("scenario, test", list(_cases()))
def test_openspf_rfc7208(scenario, test):
    resolver = ZoneDataResolver(scenario.get("zonedata") or {})
    sender, helo = test.get("mailfrom", ""), test.get("helo", "")
    host = asyncio.run(check_host(str(test["host"]), sender, helo, resolver))
    expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
    assert host.result in expected, f"{test.get('description', '')} {host.reason}"
    if "explanation" in test:  # DEFAULT: the receiver's own text, i.e. no exp= explanation was used
        assert (host.exp or "DEFAULT") == test["explanation"]
