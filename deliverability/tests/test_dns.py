"""The DNS layer against a real NSD: answers, CNAME chains, negative answers, failures, TCP, cache."""

from __future__ import annotations

import asyncio
import errno
import os
import select
import socket
import time

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import pytest

from deliverability import dns as engine_dns
from deliverability import dns_wire
from deliverability.dns import DnsResolver, DnsStatus, Nameserver

ZONES = {
    "example.test": "\n".join(
        [
            '@ IN TXT "v=spf1 -all"',
            "@ IN MX 10 mx",
            "mx IN A 192.0.2.10",
            "alias IN CNAME target.other.test.",
            "dangling IN CNAME missing.other.test.",
            "loop1 IN CNAME loop2",
            "loop2 IN CNAME loop1",
            "tobroken IN CNAME host.broken.test.",
            *(f'big IN TXT "{i:02d}{"x" * 200}"' for i in range(20)),
        ]
    ),
    "other.test": 'target IN TXT "hello" "world"',
}
BROKEN_ZONES = ("broken.test",)


def test_txt_strings_are_joined(resolver, run):
    answer = run(resolver.query("example.test", "TXT"))
    assert answer.status is DnsStatus.OK
    assert answer.records == ("v=spf1 -all",)
    assert answer.ttl == 300


def test_cname_chain_across_zones(resolver, run):
    answer = run(resolver.query("alias.example.test", "TXT"))
    assert answer.status is DnsStatus.OK
    assert answer.records == ("helloworld",)
    assert answer.cnames == ("target.other.test",)


def test_dangling_cname_is_nxdomain_with_chain(resolver, run):
    answer = run(resolver.query("dangling.example.test", "TXT"))
    assert answer.status is DnsStatus.NXDOMAIN
    assert answer.cnames == ("missing.other.test",)


def test_cname_loop_is_an_error_not_a_hang(resolver, run):
    answer = run(resolver.query("loop1.example.test", "TXT"))
    assert answer.status is DnsStatus.ERROR
    assert not answer.answered


@pytest.mark.parametrize(
    "name, status",
    [("nothere.example.test", DnsStatus.NXDOMAIN), ("mx.example.test", DnsStatus.NODATA)],
)
def test_negative_answers(resolver, run, name, status):
    answer = run(resolver.query(name, "TXT"))
    assert answer.status is status
    assert answer.answered and answer.records == ()


def test_servfail_and_refused_map_to_servfail(resolver, run):
    assert run(resolver.query("x.broken.test", "TXT")).status is DnsStatus.SERVFAIL
    assert run(resolver.query("not-served.test", "TXT")).status is DnsStatus.SERVFAIL


def test_truncated_answer_retried_over_tcp(resolver, run):
    answer = run(resolver.query("big.example.test", "TXT"))
    assert answer.status is DnsStatus.OK
    assert len(answer.records) == 20


def test_timeout_is_a_status(silent_resolver, run):
    answer = run(silent_resolver.query("example.test", "TXT"))
    assert answer.status is DnsStatus.TIMEOUT
    assert not answer.answered


def test_cache_and_inflight_sharing(nsd):
    resolver = DnsResolver([Nameserver(nsd.host, nsd.port)])

    async def many():
        return await asyncio.gather(*(resolver.query("Example.test.", "MX") for _ in range(50)))

    answers = asyncio.run(many())
    assert {a.records for a in answers} == {("10 mx.example.test.",)}
    assert resolver.stats.sent == 1
    assert resolver.stats.cache_hits == 49


def test_second_nameserver_used_when_first_is_silent(nsd, silent_resolver, run):
    resolver = DnsResolver(silent_resolver.nameservers + [Nameserver(nsd.host, nsd.port)], timeout=0.2)
    assert run(resolver.query("example.test", "TXT")).status is DnsStatus.OK
    assert resolver.stats.timeouts == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]:5300", Nameserver("::1", 5300)),
    ],
)
def test_nameserver_parse(text, expected):
    assert Nameserver.parse(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:x", "[::1", "1.2.3.4:70000"])
def test_nameserver_parse_rejects(text):
    with pytest.raises(ValueError, match="bad nameserver"):
        Nameserver.parse(text)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_sockets_are_reused_then_closed(resolver, run):
    before = _open_fds()

    async def many():
        return await asyncio.gather(*(resolver.query(f"n{i}.example.test", "TXT") for i in range(300)))

    answers = run(many())
    assert {a.status for a in answers} == {DnsStatus.NXDOMAIN}
    assert resolver.stats.sent == 300
    assert _open_fds() == before


def test_cancelled_lookups_leave_no_socket_open(silent_resolver, run):
    before = _open_fds()

    async def cancelled():
        lookups = [asyncio.wait_for(silent_resolver.query(f"n{i}.example.test", "A"), 0.05) for i in range(9)]
        return await asyncio.gather(*lookups, return_exceptions=True)

    assert all(isinstance(r, asyncio.TimeoutError) for r in run(cancelled()))
    assert _open_fds() == before


@pytest.mark.parametrize(
    "name", ["example.test", "Mixed.Case.example.", "_dmarc.x.test", "a" * 63 + ".test", "."]
)
@pytest.mark.parametrize("rtype", ["TXT", "MX", "A", "AAAA", "CNAME"])
def test_query_wire_is_the_dnspython_query(name, rtype):
    query = dns.message.make_query(name, rtype, use_edns=0, payload=1232)
    wire = dns_wire.query_wire(query.id, dns.name.from_text(name), dns.rdatatype.from_text(rtype))
    assert wire == query.to_wire()


def test_an_answer_to_another_query_is_skipped(nsd, run):
    """A late answer to an earlier query on a reused socket must not pass for the answer awaited now."""
    server = engine_dns._Server.of(Nameserver(nsd.host, nsd.port))

    earlier = dns.message.make_query("example.test", "MX", use_edns=0, payload=1232)
    arrived = []  # every datagram the socket delivered, in order

    class Recording(engine_dns._Endpoint):
        def datagram_received(self, data, addr):
            arrived.append(dns.message.from_wire(data))
            super().datagram_received(data, addr)

    async def exchange():
        loop = asyncio.get_running_loop()
        transport, endpoint = await loop.create_datagram_endpoint(Recording, family=server.family)
        try:
            transport.sendto(earlier.to_wire(), server.address)
            time.sleep(0.2)  # its answer now waits in the socket, ahead of the next one
            name = dns.name.from_text("example.test")
            return await endpoint.exchange(server, name, dns.rdatatype.TXT, 2.0)
        finally:
            transport.close()

    response = run(exchange())
    assert [record.rtype for record in response.answer] == [dns.rdatatype.TXT]
    # the stale answer did arrive first, on the socket the exchange read: it was skipped, not missed
    assert [(m.id, m.question[0].rdtype) for m in arrived] == [
        (earlier.id, dns.rdatatype.MX),
        (response.id, dns.rdatatype.TXT),
    ]


@pytest.fixture
def no_ipv6_sockets(monkeypatch):
    """The resolver's IPv6 UDP sockets fail to open, as on a host without IPv6."""
    original = engine_dns._Socket.__init__

    def open_socket(self, family, protocol):
        if family == socket.AF_INET6:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        original(self, family, protocol)

    monkeypatch.setattr(engine_dns._Socket, "__init__", open_socket)


def test_a_socket_that_fails_to_open_is_a_status_for_every_lookup(nsd, no_ipv6_sockets, run):
    resolver = DnsResolver([Nameserver("::1", nsd.port)], timeout=0.5, lifetime=1.0)

    async def concurrent():
        lookups = (resolver.query("example.test", "MX") for _ in range(5))
        return await asyncio.wait_for(asyncio.gather(*lookups), 5)

    answers = run(concurrent())
    assert {a.status for a in answers} == {DnsStatus.ERROR}
    assert resolver.stats.sent == 5  # at once, each: a failure is not cached


def test_a_server_whose_socket_fails_is_skipped(nsd, no_ipv6_sockets, run):
    resolver = DnsResolver([Nameserver("::1", nsd.port), Nameserver(nsd.host, nsd.port)], timeout=0.5)
    first = run(resolver.query("example.test", "MX"))
    second = run(resolver.query("mx.example.test", "A"))
    assert (first.status, second.status) == (DnsStatus.OK, DnsStatus.OK)
    assert resolver.stats.sent == 3  # the failing server was asked once, then last


def test_waiters_ask_again_when_the_lookup_they_share_is_cancelled(resolver, run):
    async def scenario():
        owner = asyncio.ensure_future(resolver.query("example.test", "MX"))
        await asyncio.sleep(0)  # the owner's query is in flight
        waiter = asyncio.ensure_future(resolver.query("example.test", "MX"))
        await asyncio.sleep(0)
        owner.cancel()
        return await asyncio.wait_for(waiter, 3)

    answer = run(scenario())
    assert answer.records == ("10 mx.example.test.",)


def test_a_silent_first_server_is_asked_last_for_the_rest_of_the_run(nsd, silent_resolver, run):
    resolver = DnsResolver(silent_resolver.nameservers + [Nameserver(nsd.host, nsd.port)], timeout=0.2)
    names = ["example.test", "mx.example.test", "alias.example.test", "big.example.test"]
    answers = [run(resolver.query(name, "TXT")) for name in names]
    assert all(a.answered for a in answers)
    assert resolver.stats.timeouts == 1
    assert resolver.stats.sent == len(names) + 1
    fresh = DnsResolver(silent_resolver.nameservers + [Nameserver(nsd.host, nsd.port)], timeout=0.2)
    run(fresh.query("example.test", "TXT"))
    assert fresh.stats.timeouts == 1  # the order is the run's (the resolver's), not the process's


def test_failure_answers_keep_followed_aliases_out_of_records(resolver, run):
    loop = run(resolver.query("loop1.example.test", "A"))
    assert loop.records == () and loop.cnames
    broken = run(resolver.query("tobroken.example.test", "A"))
    assert broken.status is DnsStatus.SERVFAIL
    assert (broken.records, broken.cnames) == ((), ("host.broken.test",))


def test_an_urgent_answer_is_read_before_the_others_that_came_with_it(resolver, run, monkeypatch):
    """Answers that arrive together: the urgent lookup's is read at once, the others a few per turn."""
    names = [f"name{i}.example.test" for i in range(12)]
    done = []
    endpoints = []
    make_endpoint = resolver._endpoint

    def recorded_endpoint(family):
        endpoint = make_endpoint(family)
        endpoints.append(endpoint)
        return endpoint

    monkeypatch.setattr(resolver, "_endpoint", recorded_endpoint)

    async def lookup(name):
        await resolver.query(name, "TXT")
        done.append(name)

    def every_answer_waits_in_its_socket():
        sockets = {endpoint.transport.sock for endpoint in endpoints}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            readable, _, _ = select.select(list(sockets), [], [], 0.05)
            sockets -= set(readable)
            if not sockets:
                return
        raise AssertionError("NSD did not answer every query within 5 s")

    async def main():
        others = [asyncio.ensure_future(lookup(name)) for name in names]
        urgent = engine_dns.urgently(lookup("example.test"))
        while len(endpoints) < len(names) + 1 or any(e.waiter is None for e in endpoints):
            await asyncio.sleep(0)  # until every query is sent and waits for its answer
        every_answer_waits_in_its_socket()  # the loop is blocked: they are all read in the next turn
        await asyncio.gather(urgent, *others)

    run(main())
    assert done[0] == "example.test"
    assert sorted(done[1:]) == sorted(names)


def test_lookups_sharing_a_query_wake_in_turn_after_the_urgent_ones(resolver, run):
    done = []

    async def lookup(tag):
        await resolver.query("example.test", "TXT")
        done.append(tag)

    async def main():
        owner = engine_dns.urgently(lookup("owner"))
        await asyncio.sleep(0)  # its query is in flight: the others share it
        others = [asyncio.ensure_future(lookup(f"n{i}")) for i in range(8)]
        urgent = engine_dns.urgently(lookup("urgent"))
        await asyncio.gather(owner, urgent, *others)

    run(main())
    assert done[:2] == ["owner", "urgent"]  # though the others asked before it
    assert sorted(done[2:]) == [f"n{i}" for i in range(8)]
    assert resolver.stats.sent == 1


def test_an_urgent_lookup_sharing_a_query_gets_its_answer_in_the_next_turn(resolver, run):
    """The owner of a shared query hands its answer over itself: an urgent lookup that shares it
    goes on in the turn after the owner's, not after callbacks scheduled from turn to turn."""
    turns = 0
    done = {}

    async def ticker():
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def lookup(tag):
        await resolver.query("example.test", "TXT")
        done[tag] = turns

    async def main():
        ticking = asyncio.ensure_future(ticker())
        owner = engine_dns.urgently(lookup("owner"))
        await asyncio.sleep(0)  # its query is in flight: the other one shares it
        sharer = engine_dns.urgently(lookup("sharer"))
        await asyncio.gather(owner, sharer)
        ticking.cancel()

    run(main())
    assert done["sharer"] - done["owner"] <= 1


def test_an_answer_waiting_for_its_turn_at_the_timeout_is_read():
    async def main():
        endpoint = engine_dns._Endpoint()
        waiter = asyncio.get_running_loop().create_future()
        endpoint.received.append((b"answer", ("127.0.0.1", 53)))
        endpoint._expire(waiter, 1.0)
        assert waiter.result() is None  # woken, not timed out
        empty = engine_dns._Endpoint()
        waiter = asyncio.get_running_loop().create_future()
        empty._expire(waiter, 1.0)
        with pytest.raises(dns.exception.Timeout):
            waiter.result()

    asyncio.run(main())


def _holders(slots):
    """``(order, release, use)``: ``use(name)`` holds one of ``slots`` until ``release`` is set;
    ``order``: the names in the order they got one."""
    order, release = [], asyncio.Event()

    async def use(name):
        async with slots:
            order.append(name)
            await release.wait()

    return order, release, use


def test_urgent_lookups_are_first_in_line_for_a_slot(run):
    async def main():
        slots = engine_dns._Slots(1)
        order, release, use = _holders(slots)
        first = asyncio.ensure_future(use("first"))
        await asyncio.sleep(0)
        waiting = [asyncio.ensure_future(use(name)) for name in ("b", "c")]
        urgent = engine_dns.urgently(use("urgent"))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, urgent, *waiting)
        return order, slots.free

    assert run(main()) == (["first", "urgent", "b", "c"], 1)


def test_the_last_slots_are_kept_for_urgent_lookups(run):
    async def main():
        slots = engine_dns._Slots(4, reserved=2)
        entered, release, use = _holders(slots)
        others = [asyncio.ensure_future(use(f"n{i}")) for i in range(3)]
        await asyncio.sleep(0)
        before_urgent = entered[:]
        urgent = [engine_dns.urgently(use(f"u{i}")) for i in range(2)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*others, *urgent)
        return before_urgent, entered, slots.free

    # n2 waits while only the kept slots are free; the urgent lookups take them at once
    assert run(main()) == (["n0", "n1"], ["n0", "n1", "u0", "u1", "n2"], 4)


def test_a_slot_is_not_lost_to_a_lookup_cancelled_while_it_waits(run):
    async def main():
        slots = engine_dns._Slots(1)
        order = []
        release = asyncio.Event()
        tasks = {}

        async def use(name):
            async with slots:
                order.append(name)
                await release.wait()
            if name == "first":
                tasks["given"].cancel()  # handed the slot just now, cancelled before it runs

        tasks["first"] = asyncio.ensure_future(use("first"))
        await asyncio.sleep(0)
        for name in ("waiting", "given", "last"):
            tasks[name] = asyncio.ensure_future(use(name))
        await asyncio.sleep(0)
        tasks["waiting"].cancel()  # cancelled in line
        release.set()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        return order, slots.free, [name for name, task in tasks.items() if task.cancelled()]

    assert run(main()) == (["first", "last"], 1, ["waiting", "given"])
