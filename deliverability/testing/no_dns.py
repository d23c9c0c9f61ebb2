"""A guard for code that must not ask DNS: ``with no_dns(): ...`` fails when anything inside asks.

It watches every way this module can ask DNS: its own resolver (``deliverability.dns.DnsResolver``,
its asyncio datagram endpoints and its TCP retry), dnspython (the resolvers and ``dns.query`` /
``dns.asyncquery``), and the socket layer, through an audit hook (``getaddrinfo`` of a name,
``gethostbyname``, ``gethostbyaddr``, ``getnameinfo``, and any UDP datagram or connection to
port 53 over IP, whatever library sends it). A question is refused with ``DnsRefused`` (an ``OSError``, as a
network failure would be) and recorded; on leaving the block ``DnsAsked`` (an ``AssertionError``)
names every question, also those the code under test caught and recovered from.

Plain Python (no Odoo import): the Odoo tests and the benchmarks use the same guard. While a guard is
open it watches the whole process (every thread), as the patched functions are shared.
"""

from __future__ import annotations

import inspect
import ipaddress
import socket
import sys
import threading
from contextlib import ExitStack
from unittest.mock import patch

import dns.asyncquery
import dns.asyncresolver
import dns.query
import dns.resolver

from .. import dns as own_dns

_QUERIES = ("udp", "tcp", "tls", "https", "quic", "udp_with_fallback", "xfr", "inbound_xfr")
_RESOLVES = ("resolve", "resolve_address", "resolve_name", "query", "canonical_name", "try_ddr")
_NAME_EVENTS = ("socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo")
_SEND_EVENTS = ("socket.sendto", "socket.sendmsg", "socket.connect")
_DNS_PORT = 53
_active: list[NoDns] = []
_lock = threading.RLock()
_hooked = False


class DnsRefused(OSError):
    """Raised where DNS was asked while a guard is open."""


class DnsAsked(AssertionError):
    """Raised when a guard closes after DNS was asked inside it; ``questions`` says how, in order."""

    def __init__(self, questions: list[str]) -> None:
        super().__init__(f"DNS was asked {len(questions)} time(s): " + "; ".join(questions))
        self.questions = questions


def _targets():
    """``(owner, attribute, label)`` of every Python-level entry point to DNS that exists here."""
    yield own_dns.DnsResolver, "query", "deliverability.dns.DnsResolver.query"
    yield own_dns._Endpoint, "exchange", "deliverability.dns datagram endpoint"
    for module in (dns.query, dns.asyncquery):
        for name in _QUERIES:
            if hasattr(module, name):
                yield module, name, f"{module.__name__}.{name}"
    for cls in (dns.resolver.Resolver, dns.asyncresolver.Resolver):
        for name in _RESOLVES:
            if name in vars(cls):
                yield cls, name, f"{cls.__module__}.Resolver.{name}"


class NoDns:
    """The guard; ``questions`` lists what was asked so far (``no_dns()`` makes one)."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self._stack: ExitStack | None = None

    def refuse(self, what: str) -> DnsRefused:
        self.questions.append(what)
        return DnsRefused(f"no DNS here: {what}")

    def _refusing(self, original, label: str, method: bool):
        def question(args, kwargs):
            return f"{label}{_shown(args[1:] if method else args, kwargs)}"

        if inspect.iscoroutinefunction(original):

            async def refused_async(*args, **kwargs):
                raise self.refuse(question(args, kwargs))

            return refused_async

        def refused(*args, **kwargs):
            raise self.refuse(question(args, kwargs))

        return refused

    def __enter__(self) -> NoDns:
        _install_hook()
        stack = ExitStack()
        for owner, name, label in _targets():
            refused = self._refusing(getattr(owner, name), label, inspect.isclass(owner))
            stack.enter_context(patch.object(owner, name, refused))
        with _lock:
            _active.append(self)
        stack.callback(_deactivate, self)
        self._stack = stack
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stack.close()
        if self.questions:
            raise DnsAsked(list(self.questions)) from exc


def no_dns() -> NoDns:
    """A guard: use it as ``with no_dns() as guard:``."""
    return NoDns()


def _deactivate(guard: NoDns) -> None:
    with _lock:
        _active.remove(guard)


def _shown(args: tuple, kwargs: dict) -> str:
    """The question, shortly: the first argument that is a name or a message."""
    for value in (*args, *kwargs.values()):
        if getattr(value, "question", None):  # a dns.message.Message
            value = value.question[0]
        if isinstance(value, str | bytes) or type(value).__module__.startswith("dns."):
            return f"({str(value)[:80]})"
    return ""


def _install_hook() -> None:
    """Add the audit hook once per process (audit hooks cannot be removed); it acts while a guard is open."""
    global _hooked
    with _lock:
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked = True


def _is_address(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).partition("%")[0])
    except ValueError:
        return False
    return True


def _audit(event: str, args: tuple) -> None:
    if not _active or not event.startswith("socket."):
        return
    what = None
    if event == "socket.getaddrinfo":
        if args[0] is not None and not _is_address(args[0]):
            what = f"socket.getaddrinfo({args[0]!r})"
    elif event in _NAME_EVENTS:
        if not (event == "socket.gethostbyname" and _is_address(args[0])):
            what = f"{event}{args!r}"
    elif event in _SEND_EVENTS and len(args) > 1:
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return  # a local socket (syslog's, say): not the network
        port = address[1] if isinstance(address, tuple) and len(address) > 1 else None
        datagram = sock.type == socket.SOCK_DGRAM
        if datagram or port == _DNS_PORT:
            what = f"{event} {'UDP' if datagram else 'TCP'} to {address!r}"
    if what is not None:
        with _lock:
            errors = [guard.refuse(what) for guard in _active]
        if errors:
            raise errors[0]
