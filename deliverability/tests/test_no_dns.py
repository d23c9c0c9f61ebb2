"""The no-DNS guard (deliverability/testing/no_dns.py): every way this module can ask DNS reaches the
real NSD without it, and is refused and reported with it -- also when the code asking recovers."""

from __future__ import annotations

import asyncio
import socket

import dns.asyncquery
import dns.asyncresolver
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.resolver
import pytest

from deliverability import dns as own_dns
from deliverability.dns import DnsResolver, DnsStatus, Nameserver
from deliverability.testing.no_dns import DnsAsked, DnsRefused, no_dns

ZONES = {"guarded.test": '@ IN A 192.0.2.7\n@ IN TXT "v=spf1 -all"'}
NAME = "guarded.test"


def _own_resolver(nsd):
    answer = asyncio.run(DnsResolver([Nameserver(nsd.host, nsd.port)], timeout=1.0).query(NAME, "A"))
    assert answer.status is DnsStatus.OK, answer
    return list(answer.records)


def _own_endpoint(nsd):
    """The resolver's datagram endpoint, used on its own."""

    async def ask():
        loop = asyncio.get_running_loop()
        _transport, endpoint = await loop.create_datagram_endpoint(own_dns._Endpoint, family=socket.AF_INET)
        try:
            server = own_dns._Server.of(Nameserver(nsd.host, nsd.port))
            return await endpoint.exchange(server, dns.name.from_text(NAME), dns.rdatatype.A, 1.0)
        finally:
            endpoint.close()

    return [record.text for record in asyncio.run(ask()).answer]


def _asyncio_datagram(nsd):
    """Any asyncio datagram endpoint (a library other than ours and dnspython's) sending a query."""

    class Protocol(asyncio.DatagramProtocol):
        def __init__(self):
            self.reply = asyncio.get_running_loop().create_future()

        def datagram_received(self, data, addr):
            self.reply.set_result(data)

        def error_received(self, exc):
            self.reply.set_exception(exc)

    async def ask():
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            Protocol, family=socket.AF_INET
        )
        try:
            transport.sendto(dns.message.make_query(NAME, "A").to_wire(), (nsd.host, nsd.port))
            return dns.message.from_wire(await asyncio.wait_for(protocol.reply, 1.0))
        finally:
            transport.close()

    return [rd.address for rd in asyncio.run(ask()).answer[0]]


def _own_tcp_retry(nsd):
    """The stream the resolver opens when an answer is truncated (dnspython's asyncquery.tcp)."""
    reply = asyncio.run(dns.asyncquery.tcp(dns.message.make_query(NAME, "A"), nsd.host, 1.0, nsd.port))
    return [rd.address for rd in reply.answer[0]]


def _dnspython_resolver(nsd):
    stub = dns.resolver.Resolver(configure=False)
    stub.nameservers, stub.port = [nsd.host], nsd.port
    return [rd.address for rd in stub.resolve(NAME, "A")]


def _dnspython_async_resolver(nsd):
    stub = dns.asyncresolver.Resolver(configure=False)
    stub.nameservers, stub.port = [nsd.host], nsd.port
    return [rd.address for rd in asyncio.run(stub.resolve(NAME, "A"))]


def _dnspython_query(nsd):
    reply = dns.query.udp(dns.message.make_query(NAME, "A"), nsd.host, 1.0, nsd.port)
    return [rd.address for rd in reply.answer[0]]


def _plain_udp_socket(nsd):
    """A datagram from a bare socket (the socket layer, whatever library sends it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.0)
        sock.sendto(dns.message.make_query(NAME, "A").to_wire(), (nsd.host, nsd.port))
        return [rd.address for rd in dns.message.from_wire(sock.recv(512)).answer[0]]


WAYS = [
    ("deliverability.dns.DnsResolver.query", _own_resolver),
    ("deliverability.dns datagram endpoint", _own_endpoint),
    ("socket.sendto UDP", _asyncio_datagram),
    ("dns.asyncquery.tcp", _own_tcp_retry),
    ("dns.resolver.Resolver.resolve", _dnspython_resolver),
    ("dns.asyncresolver.Resolver.resolve", _dnspython_async_resolver),
    ("dns.query.udp", _dnspython_query),
    ("socket.sendto UDP", _plain_udp_socket),
]


@pytest.mark.parametrize("label, ask", WAYS, ids=[way.__name__.strip("_") for _label, way in WAYS])
def test_every_way_to_ask_reaches_nsd_without_the_guard_and_is_caught_with_it(nsd, label, ask):
    assert ask(nsd) == ["192.0.2.7"]  # the path is real: NSD answers it
    with pytest.raises(DnsAsked) as caught, no_dns():
        with pytest.raises(Exception):  # noqa: B017 - refused: a DnsRefused, or the caller's error status
            ask(nsd)
    (question,) = caught.value.questions
    assert question.startswith(label), question


async def _loop_getaddrinfo(host):
    """The event loop's lookup: socket.getaddrinfo in a thread of its executor."""
    return await asyncio.get_running_loop().getaddrinfo(host, 25)


@pytest.mark.parametrize(
    "ask",
    [
        lambda: socket.getaddrinfo("localhost", 25),
        lambda: socket.gethostbyname("localhost"),
        lambda: socket.gethostbyname_ex("localhost"),
        lambda: socket.gethostbyaddr("127.0.0.1"),
        lambda: socket.getnameinfo(("127.0.0.1", 25), 0),
        lambda: asyncio.run(_loop_getaddrinfo("localhost")),
    ],
    ids=[
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname_ex",
        "gethostbyaddr",
        "getnameinfo",
        "loop.getaddrinfo",
    ],
)
def test_system_name_lookups_are_refused_before_they_are_made(ask):
    """Only ``localhost`` is named: the audit hook refuses before the lookup, and were it made it
    would not leave the machine."""
    with pytest.raises(DnsAsked) as caught, no_dns():
        with pytest.raises(DnsRefused):
            ask()
    assert len(caught.value.questions) == 1 and "socket." in caught.value.questions[0]


def test_a_question_the_code_recovers_from_is_still_reported(nsd):
    """The resolver turns every failure into a status: the guard reports at the end all the same."""
    resolver = DnsResolver([Nameserver(nsd.host, nsd.port)], timeout=1.0)
    with pytest.raises(DnsAsked, match=r"DnsResolver.query\(guarded.test\)"), no_dns():
        try:
            asyncio.run(resolver.query(NAME, "TXT"))
        except OSError:
            pass


def test_addresses_and_streams_that_are_not_dns_pass(nsd, tmp_path):
    """Addresses as literals (no lookup), a TCP connection to another port than 53 (an SMTP server),
    a datagram on a local socket (syslog's kind)."""
    with no_dns() as guard:
        with (
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as local,
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender,
        ):
            local.bind(str(tmp_path / "log"))
            sender.sendto(b"a log line", str(tmp_path / "log"))
            assert local.recv(64) == b"a log line"
        assert socket.getaddrinfo("127.0.0.1", 25)[0][4][0] == "127.0.0.1"
        assert socket.gethostbyname("127.0.0.1") == "127.0.0.1"
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            socket.create_connection(listener.getsockname(), timeout=1.0).close()
    assert guard.questions == []
    assert _own_resolver(nsd) == ["192.0.2.7"]  # everything is back once the guard is closed
