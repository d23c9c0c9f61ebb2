"""A real authoritative DNS server (NSD) on loopback, serving zones written by tests.

NSD follows CNAMEs across the zones it serves, as a recursive resolver would,
which the DKIM and DMARC checks rely on. A zone listed in ``broken`` is
configured without a zone file, so NSD answers SERVFAIL for it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rcode

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
_ZONE_ERRORS = re.compile(r"error: zone (\S+) file \S+ read with \d+ errors")


def free_port() -> int:
    """A port free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port")


def zone_text(origin: str, records: str, ttl: int = 300) -> str:
    """A zone file for ``origin`` with SOA and NS, then ``records`` (zone-file lines)."""
    origin = origin.rstrip(".") + "."
    return (
        f"$ORIGIN {origin}\n$TTL {ttl}\n"
        f"@ IN SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 {ttl}\n"
        f"@ IN NS ns.{origin}\n"
        f"{records}\n"
    )


@dataclass
class NsdServer:
    """``zones`` maps an origin to its records (zone-file lines, relative to the origin)."""

    zones: dict[str, str]
    broken: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    servers: int = 1

    def start(self, wait: float = 20.0) -> NsdServer:
        """Start NSD and wait until it serves every zone; on any failure stop it, clean up and raise."""
        self._process = None
        self._dir = Path(tempfile.mkdtemp(prefix="nsd-"))
        try:
            self._start(wait)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, wait: float) -> None:
        config = [
            "server:",
            f"  ip-address: {self.host}@{self.port}",
            '  username: ""',
            f'  zonesdir: "{self._dir}"',
            f'  pidfile: "{self._dir}/nsd.pid"',
            f'  xfrdfile: "{self._dir}/xfrd.state"',
            f'  zonelistfile: "{self._dir}/zone.list"',
            f'  logfile: "{self._dir}/nsd.log"',
            '  database: ""',
            f"  server-count: {self.servers}",
            "  verbosity: 1",
            "  rrl-ratelimit: 0",  # no response rate limiting: tests and benchmarks query fast
            "  hide-version: yes",
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, records in self.zones.items():
            name = origin.rstrip(".").lower()
            (self._dir / f"{name}.zone").write_text(zone_text(name, records))
            config += ["zone:", f"  name: {name}", f'  zonefile: "{name}.zone"']
        for name in self.broken:
            config += ["zone:", f"  name: {name}", f'  zonefile: "{name}.missing"']
        (self._dir / "nsd.conf").write_text("\n".join(config) + "\n")
        self._process = subprocess.Popen(
            [NSD, "-d", "-c", str(self._dir / "nsd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready(wait)

    def _wait_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        pending = {z.rstrip(".").lower(): dns.rcode.NOERROR for z in self.zones}
        pending |= {z.rstrip(".").lower(): dns.rcode.SERVFAIL for z in self.broken}
        while pending:
            if self._process.poll() is not None:
                raise RuntimeError(f"nsd exited: {self._process.stderr.read().decode()} {self.log()}")
            log = self.log()
            if any(m.group(1) in pending for m in _ZONE_ERRORS.finditer(log)):
                errors = [line.partition("error: ")[2] for line in log.splitlines() if "error: " in line]
                raise RuntimeError(f"nsd could not load a zone: {'; '.join(errors)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nsd did not serve {sorted(pending)} in {wait}s: {self.log()}")
            for zone, expected in list(pending.items()):
                try:
                    query = dns.message.make_query(zone, "SOA")
                    reply = dns.query.udp(query, self.host, port=self.port, timeout=0.2)
                except Exception:  # noqa: BLE001 - not up yet
                    continue
                if reply.rcode() == expected:
                    del pending[zone]
            time.sleep(0.05)

    def log(self) -> str:
        path = self._dir / "nsd.log"
        return path.read_text() if path.exists() else ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop NSD (if it runs) and remove its directory; safe to call more than once."""
        process, self._process = getattr(self, "_process", None), None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()
        if getattr(self, "_dir", None) is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> NsdServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SilentServer:
    """A UDP and TCP endpoint on loopback that never answers: a nameserver that times out."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port()

    def __enter__(self) -> SilentServer:
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((self.host, self.port))
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.bind((self.host, self.port))
        self._tcp.listen(1)
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __exit__(self, *exc) -> None:
        self._udp.close()
        self._tcp.close()
