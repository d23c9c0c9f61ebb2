"""One domain, whole process as a user runs it: the CLI against a bare dnspython process, side by side.

    .venv/bin/python benchmarks/one_domain.py [--rounds 9]

A real NSD on loopback serves one healthy domain (SPF with a provider include,
DKIM CNAME to the provider's key, DMARC, MX). Each round runs, alternately:

* ours: ``python -m deliverability check DOMAIN --spf-include ... --dkim-selector ...
  --nameserver 127.0.0.1:PORT`` (startup, imports, every check, the text report);
* bare: a Python process that imports ``dns.resolver`` and asks the same server
  the same questions the check asks (recorded from an in-process run first).

Both run with bytecode caching on, as a user's Python does after a first run
(``PYTHONDONTWRITEBYTECODE`` is dropped from their environment; the warm-up run
writes the caches). Prints both medians, their ratio and the target (ours <= 1.5x
bare; the best of the runs shows the cost without the noise of a shared machine).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deliverability.checks import check_domain  # noqa: E402
from deliverability.dns import DnsResolver, Nameserver  # noqa: E402
from deliverability.options import CheckOptions  # noqa: E402
from deliverability.providers import custom  # noqa: E402
from deliverability.testing.keys import dkim_rsa_record  # noqa: E402
from deliverability.testing.nsd import NsdServer  # noqa: E402

DOMAIN = "shop.example"
INCLUDE = "_spf.mailer.example"
SELECTOR = "mail"
TARGET = 1.5
ZONES = {
    "mailer.example": '_spf IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"\n'
    f"mail._domainkey IN TXT {dkim_rsa_record()}",
    DOMAIN: "\n".join(
        [
            f'@ IN TXT "v=spf1 include:{INCLUDE} -all"',
            "@ IN MX 10 mx",
            "mx IN A 198.51.100.25",
            f"{SELECTOR}._domainkey IN CNAME mail._domainkey.mailer.example.",
            '_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.example"',
        ]
    ),
}
BARE = """
import sys
import dns.exception
import dns.resolver
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [sys.argv[1]]
resolver.port = int(sys.argv[2])
for question in sys.argv[3:]:
    name, rtype = question.split("/")
    try:
        resolver.resolve(name, rtype, raise_on_no_answer=False)
    except dns.exception.DNSException:  # NXDOMAIN, REFUSED: an answer all the same
        pass
"""


class Recorder:
    """Notes the distinct questions a check asks, in order."""

    def __init__(self, inner: DnsResolver) -> None:
        self.inner = inner
        self.questions: dict[tuple[str, str], None] = {}

    async def query(self, name: str, rtype: str):
        self.questions.setdefault((name, rtype), None)
        return await self.inner.query(name, rtype)


def questions(server: Nameserver) -> list[tuple[str, str]]:
    recorder = Recorder(DnsResolver([server]))
    options = CheckOptions(custom(INCLUDE), (SELECTOR,))
    report = asyncio.run(check_domain(DOMAIN, recorder, options))
    assert report.status.value == "pass", report
    return list(recorder.questions)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} exited {done.returncode}: {done.stderr or done.stdout}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed runs of each process (default 9)")
    args = parser.parse_args(argv)
    with NsdServer(ZONES) as nsd:
        server = Nameserver(nsd.host, nsd.port)
        asked = questions(server)
        ours = [sys.executable, "-m", "deliverability", "check", DOMAIN, "--spf-include", INCLUDE]
        ours += ["--dkim-selector", SELECTOR, "--nameserver", nsd.address]
        bare = [sys.executable, "-c", BARE, nsd.host, str(nsd.port), *(f"{n}/{t}" for n, t in asked)]
        timed(ours), timed(bare)  # warm the page cache, the bytecode caches and NSD
        runs: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": []}
        for _ in range(args.rounds):
            runs["ours"].append(timed(ours))
            runs["bare"].append(timed(bare))
    print(f"one domain, {len(asked)} DNS questions ({', '.join(f'{t} {n}' for n, t in asked)})")
    print(f"  {args.rounds} runs each, alternating     wall median  wall best  CPU median")
    figures = {}
    for name, label in (
        ("ours", "python -m deliverability check"),
        ("bare", "python + dns.resolver, same Qs"),
    ):
        walls, cpus = [w for w, _ in runs[name]], [c for _, c in runs[name]]
        figures[name] = statistics.median(walls), min(walls), statistics.median(cpus)
        median, best, cpu = figures[name]
        print(f"  {name} ({label}): {median * 1000:6.0f} ms  {best * 1000:6.0f} ms  {cpu * 1000:6.0f} ms")
    ratios = [o / b for o, b in zip(figures["ours"], figures["bare"], strict=True)]
    print(
        f"  ours / bare: {ratios[0]:.2f}x wall median, {ratios[1]:.2f}x wall best, {ratios[2]:.2f}x CPU "
        f"(target <= {TARGET:g}x)"
    )


if __name__ == "__main__":
    main()
