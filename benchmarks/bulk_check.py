"""Bulk-check benchmark: N generated domains served by a real NSD on loopback.

    /work/engine-venv/bin/python benchmarks/bulk_check.py [--domains 2000]

Every domain is its own zone with an SPF record (``mx``, the checked provider's
include and one of four other providers' includes, all nested), a DKIM CNAME to
the provider's key, a DMARC record and an MX; a few are deliberately broken (no
DKIM CNAME, no provider include, p=reject). One run measures:

* the full check (``checks.check_domains``, one ``DnsResolver`` and its cache):
  domains/s, DNS queries/s on the wire, p50/p99 latency per domain (its first
  query to its report), peak RSS of this process;
* (a) the raw ceiling: dnspython's ``dns.asyncquery.udp`` over the distinct lookups
  the full check made, as many at once as the check's resolver (one socket and one parse
  per query, no checking work);
* (b) checkdmarc's SPF + DMARC checks on the same domains (one domain at a time, in
  its own virtualenv, see ``checkdmarc_run.py``; warm: its imports done and a few
  domains checked before the clock starts) against our SPF + DMARC checks alone
  (128 domains at once sharing one resolver and its cache), and
  against the whole command line process as a user runs it (``python -m
  deliverability check DOMAIN... --json``: startup, imports, every check of every
  domain, the JSON written).

``--rtt-ms N`` puts ``delay_relay.py`` between the checkers and NSD (this kernel
has no netem) so every query waits N ms: concurrency, not CPU, decides then;
checkdmarc gets a sample of 100 domains there and the raw ceiling is skipped.
Only 127.0.0.1 is contacted. ``--no-checkdmarc`` skips (b).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dns.asyncquery  # noqa: E402
import dns.message  # noqa: E402

from deliverability import dmarc, judgement, spf, spf_tree  # noqa: E402
from deliverability.checks import check_domains  # noqa: E402
from deliverability.dns import Answer, DnsResolver, Nameserver  # noqa: E402
from deliverability.findings import Status  # noqa: E402
from deliverability.options import CheckOptions, RunOptions  # noqa: E402
from deliverability.providers import DkimKey, Provider  # noqa: E402
from deliverability.testing.keys import dkim_rsa_record  # noqa: E402
from deliverability.testing.nsd import NsdServer  # noqa: E402

PROVIDER = Provider(
    "bench", "Bench", "_spf.sender.example", (DkimKey("bench", "bench._domainkey.sender.example"),)
)
OTHERS = ("p1.example", "p2.example", "p3.example", "p4.example")
CHECKDMARC_VENV = Path("/work/checkdmarc-venv")
TARGETS = {"spf_dmarc_vs_checkdmarc": 2.0, "full_vs_raw_qps": 0.6, "rss_mb_10000": 200.0}


def domain_name(index: int) -> str:
    return f"d{index:05d}.test"


def zones(count: int) -> dict[str, str]:
    """Provider zones with nested SPF includes and a DKIM key, and ``count`` customer zones."""
    chunks = dkim_rsa_record()
    result = {
        "sender.example": "\n".join(
            [
                '_spf IN TXT "v=spf1 include:_n1._spf.sender.example include:_n2._spf.sender.example ~all"',
                '_n1._spf IN TXT "v=spf1 ip4:198.51.100.0/26 ip4:198.51.100.64/26 ~all"',
                '_n2._spf IN TXT "v=spf1 ip6:2001:db8:100::/48 include:_n3._spf.sender.example ~all"',
                '_n3._spf IN TXT "v=spf1 ip4:203.0.113.0/28 ~all"',
                f"bench._domainkey IN TXT {chunks}",
            ]
        )
    }
    for n, origin in enumerate(OTHERS, start=1):
        result[origin] = "\n".join(
            [
                f'_spf IN TXT "v=spf1 include:_a._spf.{origin} include:_b._spf.{origin} ?all"',
                f'_a._spf IN TXT "v=spf1 ip4:192.0.2.{n * 16}/28 ~all"',
                f'_b._spf IN TXT "v=spf1 ip6:2001:db8:{n}::/48 ~all"',
            ]
        )
    for i in range(count):
        name = domain_name(i)
        other = OTHERS[i % len(OTHERS)]
        include = "" if i % 13 == 0 else f"include:{PROVIDER.spf_include} "
        policy = "reject" if i % 7 == 0 else "quarantine"
        records = [
            f'@ IN TXT "v=spf1 mx {include}include:_spf.{other} ~all"',
            "@ IN MX 10 mx",
            f"mx IN A 192.0.2.{i % 250 + 1}",
            f'_dmarc IN TXT "v=DMARC1; p={policy}; rua=mailto:dmarc@{name}"',
        ]
        if i % 10 != 0:
            records.append(f"bench._domainkey IN CNAME {PROVIDER.dkim_target('bench')}.")
        result[name] = "\n".join(records)
    return result


class TimedResolver:
    """Passes queries to a resolver, noting each domain's first query and every distinct lookup."""

    def __init__(self, inner: DnsResolver, domains: set[str]) -> None:
        self.inner = inner
        self.domains = domains
        self.started: dict[str, float] = {}
        self.lookups: dict[tuple[str, str], None] = {}

    async def query(self, name: str, rtype: str) -> Answer:
        self.lookups.setdefault((name, rtype), None)
        owner = ".".join(name.rsplit(".", 2)[-2:])
        if owner in self.domains and owner not in self.started:
            self.started[owner] = time.perf_counter()
        return await self.inner.query(name, rtype)


CONCURRENCY = RunOptions.concurrency  # queries at once: the check's resolver (as a run's) and the raw ceiling


def resolver_for(server: Nameserver) -> DnsResolver:
    return DnsResolver([server], timeout=2.0, lifetime=5.0, concurrency=CONCURRENCY)


def full_check(server: Nameserver, domains: list[str]) -> dict:
    """One run of ``checks.check_domains`` over ``domains`` with a fresh resolver."""
    inner = resolver_for(server)
    timed = TimedResolver(inner, set(domains))
    finished: dict[str, float] = {}
    statuses: Counter = Counter()

    def on_report(report) -> None:
        finished[report.domain] = time.perf_counter()
        statuses[report.status.value] += 1

    options = CheckOptions(PROVIDER)
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(check_domains(domains, timed, options, deadline=60.0, on_report=on_report))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    latencies = sorted(finished[d] - timed.started.get(d, start) for d in domains)
    return {
        "wall": wall,
        "cpu": cpu,
        "domains_per_s": len(domains) / wall,
        "queries": inner.stats.sent,
        "queries_per_s": inner.stats.sent / wall,
        "cache_hits": inner.stats.cache_hits,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "statuses": dict(statuses),
        "lookups": list(timed.lookups),
    }


def raw_ceiling(server: Nameserver, lookups: list[tuple[str, str]]) -> dict:
    """``dns.asyncquery.udp`` over ``lookups``, ``CONCURRENCY`` at once as the check's resolver: one
    socket and one parse per query, no other work."""

    async def run() -> None:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(name: str, rtype: str) -> None:
            async with slots:
                request = dns.message.make_query(name, rtype, use_edns=0, payload=1232)
                await dns.asyncquery.udp(request, server.host, timeout=2.0, port=server.port)

        await asyncio.gather(*(one(name, rtype) for name, rtype in lookups))

    start = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - start
    return {"queries": len(lookups), "wall": wall, "queries_per_s": len(lookups) / wall}


def spf_dmarc_only(server: Nameserver, domains: list[str], parallel: int = 128) -> dict:
    """Our SPF and DMARC checks alone (what checkdmarc's check_spf + check_dmarc cover)."""
    resolver = resolver_for(server)
    memo = spf_tree.Memo()  # the run's SPF subtrees, as checks.check_domains keeps them
    judged: Counter = Counter()

    async def one(domain: str, slots: asyncio.Semaphore) -> None:
        async with slots:
            (spf_finding, evaluations), found = await asyncio.gather(
                spf.check(domain, resolver, PROVIDER.spf_include, (), memo), dmarc.inspect(domain, resolver)
            )
            facts = judgement.spf_facts(domain, spf_finding, evaluations, PROVIDER.spf_include)
            dmarc_finding = dmarc.judge(found, facts, ())
        judged["spf"] += spf_finding.status is not Status.UNKNOWN
        judged["dmarc"] += dmarc_finding.status is not Status.UNKNOWN

    async def run() -> None:
        slots = asyncio.Semaphore(parallel)
        await asyncio.gather(*(one(d, slots) for d in domains))

    start = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - start
    return {"wall": wall, "domains_per_s": len(domains) / wall, "queries": resolver.stats.sent, **judged}


def cli_process(server: Nameserver, domains: list[str]) -> dict:
    """The command line as a user runs it over ``domains``: one whole process, wall time."""
    command = [sys.executable, "-m", "deliverability", "check", *domains, "--spf-include"]
    command += [PROVIDER.spf_include, "--dkim-selector", PROVIDER.selectors[0], "--json"]
    command += ["--nameserver", str(server), "--timeout", "4"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    reports = json.loads(done.stdout)["domains"]
    unknown = sum(any(c["status"] == "unknown" for c in r["checks"]) for r in reports)
    return {"wall": wall, "domains_per_s": len(domains) / wall, "exit": done.returncode, "unknown": unknown}


def checkdmarc(server: Nameserver, domains: list[str], venv: Path) -> dict:
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating {venv} with checkdmarc ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "checkdmarc"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(domains))
        listing.flush()
        output = subprocess.run(
            [
                str(python),
                str(Path(__file__).with_name("checkdmarc_run.py")),
                server.host,
                str(server.port),
                listing.name,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(output)
    result["domains_per_s"] = result["domains"] / result["seconds"]
    return result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=2000, help="how many domains (default 2000)")
    parser.add_argument("--nsd-servers", type=int, default=2, help="NSD server-count (default 2)")
    parser.add_argument("--no-checkdmarc", action="store_true", help="skip the checkdmarc comparison")
    parser.add_argument("--checkdmarc-venv", type=Path, default=CHECKDMARC_VENV)
    parser.add_argument(
        "--checkdmarc-sample",
        type=int,
        help="give checkdmarc only the first N domains (default: all; 100 with --rtt-ms)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="add this round-trip time with delay_relay.py (no raw ceiling then)",
    )
    args = parser.parse_args(argv)

    domains = [domain_name(i) for i in range(args.domains)]
    sample = domains[: args.checkdmarc_sample or (100 if args.rtt_ms else len(domains))]
    log(f"serving {len(domains)} domains + {1 + len(OTHERS)} provider zones from NSD ...")
    begin = time.perf_counter()
    with NsdServer(zones(len(domains)), servers=args.nsd_servers) as server:
        log(f"NSD ready in {time.perf_counter() - begin:.1f}s on {server.address}")
        with delayed(Nameserver(server.host, server.port), args.rtt_ms) as target:
            raw = None
            if not args.rtt_ms:
                log("warm-up pass ...")
                lookups = full_check(target, domains)["lookups"]  # warms NSD and this process; the query mix
                log("raw ceiling ...")
                raw = raw_ceiling(target, lookups)
            log("full check ...")
            full = full_check(target, domains)
            rss = peak_rss_mb()
            log("SPF + DMARC only ...")
            ours = spf_dmarc_only(target, domains)
            log("the command line, one whole process ...")
            cli = cli_process(target, domains)
            theirs = None
            if not args.no_checkdmarc:
                log(f"checkdmarc SPF + DMARC on {len(sample)} domains (sequential) ...")
                theirs = checkdmarc(target, sample, args.checkdmarc_venv)
    report(len(domains), args, full, rss, raw, ours, theirs, cli)


@contextlib.contextmanager
def delayed(server: Nameserver, rtt_ms: float):
    """``server`` itself, or with ``rtt_ms`` a delaying relay in front of it (this kernel has no netem)."""
    if not rtt_ms:
        yield server
        return
    relay = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("delay_relay.py")), str(server.port), str(rtt_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(relay.stdout.readline())
        log(f"relay on 127.0.0.1:{port} adds {rtt_ms:g} ms of round trip")
        yield Nameserver("127.0.0.1", port)
    finally:
        relay.terminate()
        relay.wait()
        relay.stdout.close()


def report(
    count: int, args, full: dict, rss: float, raw: dict | None, ours: dict, theirs: dict | None, cli: dict
):
    setup = f"NSD server-count {args.nsd_servers}, resolver concurrency {CONCURRENCY}, 128 domains in flight"
    if args.rtt_ms:
        setup += f", {args.rtt_ms:g} ms RTT added by a relay"
    lines = [
        f"domains: {count}  ({setup})",
        f"full check:   {full['wall']:.2f}s wall, {full['cpu']:.2f}s CPU  "
        f"{full['domains_per_s']:.0f} domains/s  {full['queries_per_s']:.0f} DNS queries/s "
        f"({full['queries']} sent, {full['cache_hits']} cache hits)",
        f"  per domain: p50 {full['p50_ms']:.1f} ms  p99 {full['p99_ms']:.1f} ms  "
        f"verdicts {full['statuses']}",
        f"  peak RSS:   {rss:.1f} MB"
        + (f" (target < {TARGETS['rss_mb_10000']:.0f} MB)" if count >= 10000 else ""),
    ]
    if raw is None:
        lines.append("raw ceiling:  not measured with --rtt-ms")
    else:
        ratio = full["queries_per_s"] / raw["queries_per_s"]
        lines += [
            f"raw ceiling:  {raw['queries_per_s']:.0f} queries/s (dns.asyncquery.udp, {CONCURRENCY} at once "
            f"as the check, over the {raw['queries']} distinct lookups of the check, no checking work, "
            f"{raw['wall']:.2f}s)",
            f"  full check / raw ceiling: {ratio:.2f} (target >= {TARGETS['full_vs_raw_qps']})",
        ]
    lines.append(
        f"SPF+DMARC ours:       {ours['wall']:.2f}s  {ours['domains_per_s']:.0f} domains/s "
        f"({ours['queries']} queries)"
    )
    lines.append(
        f"CLI, whole process:   {cli['wall']:.2f}s  {cli['domains_per_s']:.0f} domains/s "
        f"(every check, {count} domains, exit {cli['exit']}, {cli['unknown']} with an unknown check)"
    )
    if theirs is not None:
        speedup = ours["domains_per_s"] / theirs["domains_per_s"]
        target = 20.0 if args.rtt_ms else TARGETS["spf_dmarc_vs_checkdmarc"]
        lines += [
            f"SPF+DMARC checkdmarc: {theirs['seconds']:.2f}s  {theirs['domains_per_s']:.1f} domains/s "
            f"on {theirs['domains']} domains "
            f"(valid SPF {theirs['spf_valid']}, valid DMARC {theirs['dmarc_valid']})",
            f"  ours / checkdmarc: {speedup:.1f}x (target >= {target:g}; ours checks 128 domains at once "
            "with one shared DNS cache, checkdmarc one domain at a time)",
            f"  CLI whole process / checkdmarc warm: {cli['domains_per_s'] / theirs['domains_per_s']:.1f}x "
            f"(target >= {target:g}; the CLI also 128 domains at once, one cache)",
        ]
    print("\n".join(lines))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
