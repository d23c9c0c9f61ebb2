"""DNS access for the checks: one resolver protocol and its implementation (dnspython for names and
TCP; answers read by ``dns_wire``).

The implementation talks to nameservers it is given (never ``/etc/resolv.conf``
behind the caller's back; ``system_nameservers()`` reads it when a caller asks),
bounds every query in time, retries over TCP when a UDP answer is truncated,
limits concurrency, follows CNAME chains, and caches answers for their TTL in a
cache shared by every domain of a run. Failures are statuses, never exceptions.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import enum
import functools
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Protocol

import dns.entropy
import dns.exception
import dns.flags
import dns.inet
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from . import dns_wire
from .dns_wire import EDNS_PAYLOAD

MAX_CNAME_HOPS = 8
CNAME_LOOP = "CNAME loop"
CNAME_TOO_LONG = "CNAME chain too long"
CHAIN_ERRORS = (CNAME_LOOP, CNAME_TOO_LONG)
NEGATIVE_TTL = 300


class DnsStatus(str, enum.Enum):
    OK = "ok"  # records of the asked type
    NODATA = "nodata"  # the name exists, no record of that type
    NXDOMAIN = "nxdomain"  # the name does not exist
    SERVFAIL = "servfail"  # the server failed, or refused
    TIMEOUT = "timeout"  # no server answered in time
    ERROR = "error"  # malformed name, answer, or CNAME loop


@dataclass(frozen=True)
class Answer:
    """The outcome of one lookup.

    ``records`` are in presentation format (``rdata.to_text()``), except TXT
    where each record is its strings joined and decoded as UTF-8.
    ``cnames`` lists the aliases followed, in order, from the queried name.
    """

    name: str
    rtype: str
    status: DnsStatus
    records: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()
    ttl: int = 0
    error: str = ""

    @property
    def answered(self) -> bool:
        """True when DNS gave a definite answer (records, NODATA or NXDOMAIN)."""
        return self.status in (DnsStatus.OK, DnsStatus.NODATA, DnsStatus.NXDOMAIN)

    @property
    def broken_chain(self) -> bool:
        """True for an alias chain that loops or never ends: it does not resolve, whoever asks."""
        return self.status is DnsStatus.ERROR and self.error in CHAIN_ERRORS

    @property
    def final_name(self) -> str:
        return self.cnames[-1] if self.cnames else self.name


_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("deliverability_dns_urgent", default=False)


def urgently(coroutine) -> asyncio.Task:
    """A task of ``coroutine`` whose answers are read before the others' (``DnsResolver``): for the
    longest chains of questions, whose next question waits for the answer."""
    return _task(coroutine, True)


def in_turn(coroutine) -> asyncio.Task:
    """A task of ``coroutine`` whose answers wait their turn, even when started by an urgent one."""
    return _task(coroutine, False)


def _task(coroutine, urgent: bool) -> asyncio.Task:
    context = contextvars.copy_context()
    context.run(_URGENT.set, urgent)
    return asyncio.get_running_loop().create_task(coroutine, context=context)


class Resolver(Protocol):
    async def query(self, name: str, rtype: str) -> Answer: ...


@dataclass(frozen=True)
class Nameserver:
    host: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """Parse ``HOST``, ``HOST:PORT``, ``[V6]:PORT`` or a bare IPv6 address.

        Raises ``ValueError`` with a readable message; HOST must be an IP address.
        """
        text = text.strip()
        host, port = text, "53"
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"bad nameserver {text!r}: expected [IPv6]:PORT")
            port = rest[1:] or "53"
        elif text.count(":") == 1:
            host, port = text.split(":")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"bad nameserver {text!r}: {host!r} is not an IP address") from None
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad nameserver {text!r}: port {port!r} is not in 1-65535")
        return cls(host, int(port))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 53 else f"{host}:{self.port}"


def system_nameservers(path: str = "/etc/resolv.conf") -> list[Nameserver]:
    """The ``nameserver`` entries of a resolv.conf file, in order (port 53).

    Used by callers that want the system's resolvers, explicitly; entries that
    are not IP addresses are skipped, and a missing file gives an empty list.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                found.append(Nameserver(str(ipaddress.ip_address(fields[1]))))
            except ValueError:
                continue
    return found


@dataclass
class QueryStats:
    sent: int = 0  # queries put on the wire (UDP and TCP retries count once)
    cache_hits: int = 0
    timeouts: int = 0


@dataclass
class DnsResolver:
    """A stub resolver against explicit nameservers, with a shared TTL cache.

    ``timeout`` bounds one exchange with one server; ``lifetime`` bounds one
    lookup across servers and CNAME hops, from the moment it gets one of the
    ``concurrency`` slots (waiting in line for a slot is not a DNS timeout; lookups made
    ``urgently`` are first in line, and a quarter of the slots are kept for them).
    Concurrent lookups of the same name and type share one query. A server that
    times out or fails is asked last for the rest of the resolver's life (one run),
    so a dead first nameserver costs one timeout, not one per lookup. While queries
    are in flight their UDP sockets are reused instead of opened per query; a
    datagram that is not the answer to the query waiting on a socket (a late
    answer to an earlier one, junk) is ignored, as dnspython's own resolver does.
    The answers of lookups made ``urgently`` are read as they come; the others a
    few per turn of the event loop (``_Later``), so that a burst of them does not
    hold up the chains of questions that wait for an urgent answer; so are the
    lookups not urgent that share a query.
    """

    nameservers: list[Nameserver]
    timeout: float = 2.0
    lifetime: float = 5.0
    concurrency: int = 128
    stats: QueryStats = field(default_factory=QueryStats)

    def __post_init__(self) -> None:
        if not self.nameservers:
            raise ValueError("at least one nameserver is required")
        self._order = list(self.nameservers)  # the order servers are asked in: failing ones last
        self._cache: dict[tuple[str, str], tuple[float, Answer]] = {}
        # the queries in flight -> the lookups sharing each: (waiter, urgent)
        self._inflight: dict[tuple[str, str], list[tuple[asyncio.Future, bool]]] = {}
        self._slots = _Slots(self.concurrency, reserved=self.concurrency // 4)
        self._idle: dict[int, list[_Endpoint]] = {}  # address family -> sockets
        self._later = _Later()
        self._busy = 0

    async def query(self, name: str, rtype: str) -> Answer:
        key = (name.lower().rstrip("."), rtype.upper())
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            self.stats.cache_hits += 1
            return cached[1]
        sharers = self._inflight.get(key)
        if sharers is not None:
            self.stats.cache_hits += 1
            waiter = asyncio.get_running_loop().create_future()
            sharers.append((waiter, _URGENT.get()))
            answer = await waiter
            return answer if answer is not None else await self.query(name, rtype)  # owner cancelled
        sharers = self._inflight[key] = []
        try:
            answer = await self._resolve(*key)
        except asyncio.CancelledError:
            self._share(sharers, None)  # they ask again
            raise
        except Exception as exc:  # noqa: BLE001  (a status, never a hang for the lookups sharing it)
            answer = Answer(key[0], key[1], DnsStatus.ERROR, error=f"{type(exc).__name__}: {exc}")
        finally:
            del self._inflight[key]
        if answer.answered:
            self._cache[key] = (time.monotonic() + answer.ttl, answer)
        self._share(sharers, answer)
        return answer

    def _share(self, sharers: list[tuple[asyncio.Future, bool]], answer: Answer | None) -> None:
        """Hand ``answer`` to the lookups that shared its query: at once to the urgent ones, in turn
        (``_Later``) to the others; None tells them to ask again."""
        for waiter, urgent in sharers:
            if urgent:
                if not waiter.done():  # not cancelled meanwhile
                    waiter.set_result(answer)
            else:
                self._later.wake(waiter, answer)

    async def _resolve(self, name: str, rtype: str) -> Answer:
        try:
            qname = dns_wire.query_name(name)
            qtype = dns.rdatatype.from_text(rtype)
        except (dns.exception.DNSException, ValueError) as exc:
            return Answer(name, rtype, DnsStatus.ERROR, error=f"invalid query: {exc}")
        cnames: list[str] = []
        ttl = NEGATIVE_TTL
        expires: list[float] = []  # when the lookup's lifetime ends, set by its first exchange
        for _hop in range(MAX_CNAME_HOPS + 1):
            response, error = await self._exchange(qname, qtype, expires)
            if response is None:
                return Answer(name, rtype, error, cnames=tuple(cnames), error=error.value)
            rcode = response.rcode
            if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                refused = rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED)
                status = DnsStatus.SERVFAIL if refused else DnsStatus.ERROR
                return Answer(name, rtype, status, cnames=tuple(cnames), error=dns.rcode.to_text(rcode))
            asked = owner = dns_wire.name_key(qname.labels[:-1])
            records: list[str] = []
            seen = {owner}
            while True:
                found = response.rrset(owner, qtype)
                if found is not None:
                    records = [record.text for record in found[0]]
                    ttl = min(ttl, found[1]) if cnames else found[1]
                    break
                alias = response.rrset(owner, dns_wire.CNAME)
                if alias is None or qtype == dns_wire.CNAME:
                    break
                target = alias[0][0].target
                owner = dns_wire.name_key(target)
                if owner in seen:
                    return Answer(name, rtype, DnsStatus.ERROR, cnames=tuple(cnames), error=CNAME_LOOP)
                seen.add(owner)
                cnames.append(dns_wire.name_text(target).lower())
                ttl = min(ttl, alias[1])
            if records:
                return Answer(name, rtype, DnsStatus.OK, tuple(records), tuple(cnames), ttl)
            if owner != asked and rcode == dns.rcode.NOERROR and not _negative_in(response):
                # a chain leaving the server's zones: ask for its target
                qname = dns.name.Name((*target, b""))
                continue
            ttl = min(ttl, _negative_ttl(response))
            status = DnsStatus.NXDOMAIN if rcode == dns.rcode.NXDOMAIN else DnsStatus.NODATA
            return Answer(name, rtype, status, (), tuple(cnames), ttl)
        return Answer(name, rtype, DnsStatus.ERROR, cnames=tuple(cnames), error=CNAME_TOO_LONG)

    async def _exchange(
        self, qname: dns.name.Name, qtype, expires: list[float]
    ) -> tuple[dns_wire.Response | None, DnsStatus]:
        status = DnsStatus.TIMEOUT
        async with self._slots:
            clock = asyncio.get_running_loop().time
            if not expires:
                expires.append(clock() + self.lifetime)
            self._busy += 1
            try:
                for server in tuple(self._order):
                    timeout = min(self.timeout, expires[0] - clock())
                    if timeout <= 0:
                        break
                    self.stats.sent += 1
                    target = _Server.of(server)
                    endpoint = None
                    reuse = False
                    try:
                        endpoint = self._endpoint(target.family)
                        response = await endpoint.exchange(target, qname, qtype, timeout)
                        reuse = True
                        if response.flags & dns.flags.TC:  # retry over TCP, with a timeout of its own
                            from dns import asyncquery, message  # only for truncated answers: a faster start

                            request = message.make_query(qname, qtype, use_edns=0, payload=EDNS_PAYLOAD)
                            response = await asyncquery.tcp(request, server.host, timeout, server.port)
                            response = dns_wire.read(response.to_wire())
                        return response, DnsStatus.OK
                    except dns.exception.Timeout:
                        reuse = True  # a late answer is told apart by its id and question
                        self.stats.timeouts += 1
                        status = DnsStatus.TIMEOUT
                        self._demote(server)
                    except (dns.exception.DNSException, dns_wire.WireError, OSError, EOFError):
                        status = DnsStatus.ERROR
                        self._demote(server)
                    finally:
                        if endpoint is not None and reuse:
                            self._idle[target.family].append(endpoint)
                        elif endpoint is not None:  # an error, or the lookup was cancelled
                            endpoint.close()
            finally:
                self._busy -= 1
                if not self._busy:
                    self._close_idle()
        return None, status

    def _demote(self, server: Nameserver) -> None:
        """Ask ``server`` last from now on in this run: it timed out or failed (the others go first)."""
        if len(self._order) > 1 and server in self._order[:-1]:
            self._order.remove(server)
            self._order.append(server)

    def _endpoint(self, family: int) -> _Endpoint:
        """A socket of ``family`` an earlier query left idle, else a new one, opened at once (the
        query goes out in this turn of the loop)."""
        idle = self._idle.setdefault(family, [])
        if idle:
            return idle.pop()
        endpoint = _Endpoint()
        endpoint.connection_made(_Socket(family, endpoint))
        endpoint.later = self._later
        return endpoint

    def _close_idle(self) -> None:
        """Close the reused sockets once no query is in flight (they belong to this event loop)."""
        for endpoints in self._idle.values():
            while endpoints:
                endpoints.pop().close()


@dataclass(frozen=True)
class _Server:
    """A nameserver as its socket sees it: family, address tuple, packed address."""

    family: int
    address: tuple
    packed: bytes

    @classmethod
    @functools.lru_cache(maxsize=64)
    def of(cls, server: Nameserver) -> _Server:
        family = dns.inet.af_for_address(server.host)
        address = dns.inet.low_level_address_tuple((server.host, server.port), family)
        return cls(family, address, dns.inet.inet_pton(family, server.host))

    def sent(self, source: tuple) -> bool:
        """True when a datagram from ``source`` comes from this server (dnspython's test)."""
        if source[1:] != self.address[1:]:
            return False
        if source[0] == self.address[0]:
            return True
        try:
            return dns.inet.inet_pton(self.family, source[0]) == self.packed
        except dns.exception.SyntaxError:
            return False


_QUESTION_OPTIONAL = frozenset({dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED})


def _answers(response: dns_wire.Response, qid: int, qname: dns.name.Name, qtype: int) -> bool:
    """``Message.is_response`` for our query: same id and opcode, and the question asked (case aside)."""
    opcode = (response.flags >> 11) & 0xF
    if response.id != qid or not response.flags & dns.flags.QR or opcode != dns.opcode.QUERY:
        return False
    if not response.question:
        return response.rcode in _QUESTION_OPTIONAL
    asked = dns_wire.name_key(qname.labels[:-1])
    return all(
        dns_wire.name_key(name) == asked and rtype == qtype and rclass == dns_wire.IN
        for name, rtype, rclass in response.question
    )


class _Slots:
    """At most ``size`` exchanges at once, the last ``reserved`` of them for lookups made
    ``urgently``; an urgent lookup that waits for a slot gets the next one freed, before the others
    waiting (the next question of a long chain neither waits for a slot held by a burst of other
    questions nor behind them in line)."""

    def __init__(self, size: int, reserved: int = 0) -> None:
        self.free = size
        self.reserved = min(reserved, size - 1)
        self.waiting: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())

    async def __aenter__(self) -> None:
        urgent = _URGENT.get()
        # then nobody of this line waits: a slot freed goes to the first waiting, if any
        if self.free > (0 if urgent else self.reserved):
            self.free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[0 if urgent else 1].append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if not waiter.cancelled():  # given a slot, then cancelled before using it: pass it on
                self._release()
            raise

    async def __aexit__(self, *exc_info) -> None:
        self._release()

    def _release(self) -> None:
        urgent, others = self.waiting
        for line in (urgent, others) if self.free >= self.reserved else (urgent,):
            while line:
                waiter = line.popleft()
                if not waiter.done():  # not cancelled while waiting
                    waiter.set_result(None)
                    return
        self.free += 1


class _Later:
    """Wakes the lookups whose answers are not urgent, ``PER_TURN`` in each turn of the event loop:
    an urgent answer that comes meanwhile is read after a few of them, not after all of them."""

    PER_TURN = 4

    def __init__(self) -> None:
        self.waiters: collections.deque[tuple[asyncio.Future, object]] = collections.deque()

    def wake(self, waiter: asyncio.Future, result: object = None) -> None:
        """Set ``result`` on ``waiter`` in its turn (unless it is done by then: timed out, cancelled)."""
        self.waiters.append((waiter, result))
        if len(self.waiters) == 1:
            asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        for _ in range(min(self.PER_TURN, len(self.waiters))):
            waiter, result = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(result)
        if self.waiters:
            asyncio.get_running_loop().call_soon(self._turn)


class _Socket:
    """The part of a datagram transport an endpoint uses (``sendto``, ``close``), over
    a non-blocking UDP socket that the running loop reads. Opened at once, where
    ``create_datagram_endpoint`` takes three turns of the loop and three times the work: a run
    opens one for each query in flight."""

    def __init__(self, family: int, protocol: asyncio.DatagramProtocol) -> None:
        self.loop = asyncio.get_running_loop()
        self.protocol = protocol
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            self.loop.add_reader(self.sock.fileno(), self._read)
        except BaseException:
            self.sock.close()
            raise

    def _read(self) -> None:
        try:
            data, address = self.sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # an error the socket reports (ICMP)
            self.protocol.error_received(exc)
        else:
            self.protocol.datagram_received(data, address)

    def sendto(self, data: bytes, address) -> None:
        self.sock.sendto(data, address)

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


class _Endpoint(asyncio.DatagramProtocol):
    """A UDP socket used by one query at a time; datagrams that come while none is waiting are dropped.
    The query waiting is woken at once when it is urgent or ``later`` is None, else by ``later``."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.received: collections.deque = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.active = False
        self.urgent = False
        self.later: _Later | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self._put((data, addr))

    def error_received(self, exc: Exception) -> None:
        self._put(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._put(exc or EOFError("socket closed"))

    def _put(self, item) -> None:
        if self.active:
            self.received.append(item)
            if self.waiter is not None and not self.waiter.done():
                if self.urgent or self.later is None:
                    self.waiter.set_result(None)
                else:
                    self.later.wake(self.waiter)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _expire(self, waiter: asyncio.Future, timeout: float) -> None:
        if not waiter.done():
            if self.received:  # an answer came in time: it waits for its turn (``_Later``)
                waiter.set_result(None)
            else:
                waiter.set_exception(dns.exception.Timeout(timeout=timeout))

    async def exchange(
        self, server: _Server, qname: dns.name.Name, qtype: int, timeout: float
    ) -> dns_wire.Response:
        """Send the query to ``server`` and return its answer (with the TC flag when truncated).

        Datagrams from elsewhere, junk and answers to other queries are skipped, as
        ``dns.asyncquery.udp(ignore_unexpected=True, ignore_errors=True)`` does. Raises
        ``dns.exception.Timeout`` when no answer came within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        qid = dns.entropy.random_16()
        expires = loop.time() + timeout
        self.active = True
        self.urgent = _URGENT.get()
        try:
            self.transport.sendto(dns_wire.query_wire(qid, qname, qtype), server.address)
            while True:
                while not self.received:
                    self.waiter = loop.create_future()
                    timer = loop.call_at(expires, self._expire, self.waiter, timeout)
                    try:
                        await self.waiter
                    finally:
                        timer.cancel()
                        self.waiter = None
                item = self.received.popleft()
                if isinstance(item, BaseException):
                    raise item
                data, source = item
                if not server.sent(source):
                    continue
                try:
                    response = dns_wire.read(data)  # truncated: TCP is asked when it answers this query
                except dns_wire.WireError:  # an unparsable datagram is junk, as for dnspython
                    continue
                if _answers(response, qid, qname, qtype):
                    return response
        finally:
            self.active = False
            self.received.clear()


def _negative_in(response: dns_wire.Response) -> bool:
    """True when the authority section carries a SOA, i.e. the server is authoritative for the target."""
    return response.soa() is not None


def _negative_ttl(response: dns_wire.Response) -> int:
    soa = response.soa()
    return NEGATIVE_TTL if soa is None else min(soa[1], soa[0].minimum)
