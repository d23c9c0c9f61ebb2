"""Engine test fixtures: a real NSD on loopback serving the zones a test module declares."""

from __future__ import annotations

import asyncio

import pytest

from deliverability.dns import DnsResolver, Nameserver
from deliverability.testing.nsd import NsdServer, SilentServer


@pytest.fixture(scope="module")
def nsd(request):
    """An NSD serving the module's ``ZONES`` (origin -> records) and ``BROKEN_ZONES`` (SERVFAIL)."""
    zones = request.module.ZONES
    broken = tuple(getattr(request.module, "BROKEN_ZONES", ()))
    with NsdServer(zones, broken=broken) as server:
        yield server


@pytest.fixture
def resolver(nsd):
    return DnsResolver([Nameserver(nsd.host, nsd.port)], timeout=1.0, lifetime=3.0)


@pytest.fixture
def silent_resolver():
    """A resolver whose only nameserver never answers."""
    with SilentServer() as silent:
        yield DnsResolver([Nameserver(silent.host, silent.port)], timeout=0.2, lifetime=0.5)


@pytest.fixture
def run():
    """Run a coroutine to completion (the engine is async; tests stay plain functions)."""
    return asyncio.run
