"""Property: every SPF record the check suggests, once served, walks within RFC 7208's limits -- or the
finding says that no record can be suggested. Records are drawn from terms over served zones."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverability import spf
from deliverability.dns import DnsResolver, Nameserver
from deliverability.findings import Status
from deliverability.spf_tree import MAX_LOOKUPS, MAX_VOIDS, walk
from deliverability.testing.keys import txt_strings
from deliverability.testing.nsd import NsdServer

PROVIDER = "_spf.provider.test"
DOMAIN = "gen.test"
BASE = {
    "provider.test": '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 include:_n.provider.test ~all"\n'
    '_n IN TXT "v=spf1 ip4:192.0.2.128/25 ~all"',
    "example.test": "\n".join(
        [
            'five IN TXT "v=spf1 ' + " ".join(f"a:h{i}.example.test" for i in range(1, 6)) + ' ~all"',
            'three IN TXT "v=spf1 a:h1.example.test a:h2.example.test mx:h3.example.test ~all"',
            'wrap IN TXT "v=spf1 include:five.example.test ~all"',
            'loop IN TXT "v=spf1 include:loop.example.test ~all"',
            *(f"h{i} IN A 203.0.113.{i}" for i in range(1, 9)),
            "h3 IN MX 10 h4.example.test.",
            "h8 IN AAAA 2001:db8::8",
        ]
    ),
}
TERMS = st.sampled_from(
    [
        "a",
        "mx",
        *(f"a:h{i}.example.test" for i in range(1, 9)),
        "a:h2.example.test/24",
        "-a:h8.example.test//64",
        "mx:h3.example.test",
        "a:gone.example.test",
        "include:five.example.test",
        "include:three.example.test",
        "include:wrap.example.test",
        f"include:{PROVIDER}",
        "include:loop.example.test",
        "ip4:198.51.100.0/24",
        "ptr",
        "exists:%{i}.e.example.test",
    ]
)
RECORDS = st.builds(
    lambda terms, last: " ".join(["v=spf1", *terms, *last]),
    st.lists(TERMS, max_size=12),
    st.sampled_from([["-all"], ["~all"], ["?all"], []]),
)


def _zones(record: str) -> dict[str, str]:
    return {
        **BASE,
        DOMAIN: f"@ IN TXT {txt_strings(record)}\n@ IN A 192.0.2.200\n@ IN MX 10 h1.example.test.",
    }


async def _check(server: NsdServer, record_only: bool = False):
    resolver = DnsResolver([Nameserver(server.host, server.port)], timeout=1.0, lifetime=3.0)
    if record_only:
        return await walk(DOMAIN, resolver, PROVIDER)
    finding, _ = await spf.check(DOMAIN, resolver, PROVIDER, ())
    return finding


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RECORDS)
def test_every_suggested_record_walks_within_the_limits_or_is_flagged(record):
    with NsdServer(_zones(record)) as server:
        finding = asyncio.run(_check(server))
    if finding.fix is None:
        if finding.status is Status.FAIL:  # flagged, or broken in a way only its owner can repair (a loop)
            said = (finding.summary, *finding.details)
            assert any(t.startswith(("No record can be suggested", "Include loop")) for t in said), finding
        return
    text = "".join(finding.fix.partition(" IN TXT ")[2].strip('"').split('" "'))
    with NsdServer(_zones(text)) as server:
        tree = asyncio.run(_check(server, record_only=True))
    assert tree.root.text == text  # served as suggested
    assert tree.lookups <= MAX_LOOKUPS and tree.voids <= MAX_VOIDS, (record, text)
    assert tree.include_found
    assert not [p for p in tree.problems if p.status is Status.FAIL], (record, text, tree.problems)
