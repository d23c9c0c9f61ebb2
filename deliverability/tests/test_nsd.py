"""The test NSD itself: a zone that fails to load stops it and leaves neither its port nor its files."""

from __future__ import annotations

import socket

import pytest

from deliverability.testing.nsd import NsdServer


def test_a_zone_that_fails_to_load_stops_nsd_and_cleans_up():
    server = NsdServer({"good.test": "@ IN A 192.0.2.1", "bad.test": "@ IN A not-an-address"})
    with pytest.raises(RuntimeError, match="invalid IPv4 address 'not-an-address'"):
        server.start(wait=10)
    assert not server._dir.exists()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind((server.host, server.port))  # nsd no longer holds its port
        tcp.bind((server.host, server.port))
    server.stop()  # stopping again is harmless
