"""check_domains against a real NSD: bounded domains in flight, deadlines, isolated failures, dead servers."""

from __future__ import annotations

import asyncio

import pytest

from deliverability import checks
from deliverability.checks import check_domains
from deliverability.dns import DnsResolver, Nameserver
from deliverability.findings import Status
from deliverability.options import CheckOptions, RunOptions
from deliverability.providers import OWN, custom
from deliverability.testing.nsd import SilentServer

DOMAINS = [f"d{i}.example.test" for i in range(6)]
ZONES = {
    "example.test": "\n".join(
        line
        for name in DOMAINS
        for line in (
            f'{name}. IN TXT "v=spf1 ip4:192.0.2.1 -all"',
            f"{name}. IN MX 10 mx.example.test.",
            f'_dmarc.{name}. IN TXT "v=DMARC1; p=none"',
        )
    )
    + "\nmx IN A 192.0.2.25\nsmtp IN A 192.0.2.1\nsmtp IN AAAA 2001:db8::1\nlocal IN A 127.0.0.1",
}


class Watched:
    """Passes queries to a real resolver, after ``delay`` seconds, noting which domains are in flight."""

    def __init__(self, inner, delay: float = 0.0) -> None:
        self.inner = inner
        self.delay = delay
        self.started: set[str] = set()
        self.finished: set[str] = set()
        self.peak = 0

    async def query(self, name: str, rtype: str):
        owner = next((d for d in DOMAINS if name == d or name.endswith("." + d)), None)
        if owner is not None:
            self.started.add(owner)
            self.peak = max(self.peak, len(self.started - self.finished))
        await asyncio.sleep(self.delay)
        return await self.inner.query(name, rtype)

    def on_report(self, report) -> None:
        self.finished.add(report.domain)


def test_domains_in_flight_are_bounded(resolver, run):
    watched = Watched(resolver)
    reports = run(check_domains(DOMAINS, watched, CheckOptions(), on_report=watched.on_report, parallel=2))
    assert [r.domain for r in reports] == DOMAINS
    assert watched.peak == 2
    assert all(r.checks[0].status is not Status.UNKNOWN for r in reports)


class Recorder:
    """Passes queries to a real resolver, noting each question in the order it is asked."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.asked: list[tuple[str, str]] = []

    async def query(self, name: str, rtype: str):
        self.asked.append((name, rtype))
        return await self.inner.query(name, rtype)


def test_the_longest_chains_are_asked_first(resolver, run):
    """The provider include's SPF tree and every domain's SPF record are asked before any other
    question: their answers name the questions after them (up to ten includes deep)."""
    recorder = Recorder(resolver)
    options = CheckOptions(provider=custom("_spf.mailer.example.test"))
    run(check_domains(DOMAINS, recorder, options))
    first = [("_spf.mailer.example.test", "TXT"), *((d, "TXT") for d in DOMAINS)]
    assert recorder.asked[: len(first)] == first
    assert len(recorder.asked) > 4 * len(DOMAINS)  # and then the others: DKIM, DMARC, MX


def test_deadline_counts_from_when_a_domain_starts(resolver, run):
    # each domain takes a few rounds of 0.05 s; all of them in line take far longer than the deadline
    watched = Watched(resolver, delay=0.05)
    reports = run(check_domains(DOMAINS, watched, CheckOptions(), deadline=0.8, parallel=1))
    summaries = [c.summary for r in reports for c in r.checks]
    assert not any("did not answer within" in s for s in summaries)
    assert all(r.checks[0].status is Status.FAIL for r in reports)  # no flectra include: a real verdict


def test_an_invalid_name_fails_alone(resolver, run):
    seen = []
    names = [DOMAINS[0], "not a domain", "", DOMAINS[1]]
    options = CheckOptions(dkim_selectors=("extra",))
    reports = run(check_domains(names, resolver, options, on_report=seen.append))
    assert [r.domain for r in reports] == names
    assert len(seen) == len(names)
    for report in (reports[0], reports[3]):  # checked over DNS as if alone
        assert report.checks[-1].status is Status.PASS
        assert report.checks[-1].summary == f"mail to {report.domain} is delivered to mx.example.test (10)"
    for report in reports[1:3]:
        assert [c.check.value for c in report.checks] == ["spf", "dkim", "dkim", "dmarc", "mx"]
        assert [c.selector for c in report.checks[1:3]] == ["flectra", "extra"]
        assert all(c.status is Status.FAIL for c in report.checks)
        assert all("is not a valid domain name" in c.summary for c in report.checks)
        assert report.status is Status.FAIL
    assert reports[2].checks[0].details == ("empty domain name",)


class Faulty(Watched):
    """A real resolver whose callers fail on one domain's lookups, as a bug in a check would."""

    async def query(self, name: str, rtype: str):
        if name.endswith(DOMAINS[1]) and rtype == "MX":
            raise RuntimeError("a bug in a check")
        return await self.inner.query(name, rtype)


def test_a_domain_whose_check_raises_is_unknown_alone(resolver, run):
    reports = run(check_domains(DOMAINS[:3], Faulty(resolver), CheckOptions()))
    assert [r.domain for r in reports] == DOMAINS[:3]
    crashed = reports[1]
    assert {c.status for c in crashed.checks} == {Status.UNKNOWN}
    assert crashed.checks[0].details == ("RuntimeError: a bug in a check",)
    for report in (reports[0], reports[2]):
        assert report.checks[-1].status is Status.PASS


def test_a_silent_first_nameserver_costs_one_round_of_timeouts(nsd, run):
    with SilentServer() as silent:
        servers = [Nameserver(silent.host, silent.port), Nameserver(nsd.host, nsd.port)]
        resolver = DnsResolver(servers, timeout=0.3, lifetime=2.0)
        report = run(check_domains([DOMAINS[0]], resolver, CheckOptions()))[0]
    assert Status.UNKNOWN not in {c.status for c in report.checks}
    first_round = 5  # SPF TXT, DKIM, DMARC and MX lookups start together; later ones ask NSD first
    assert resolver.stats.timeouts <= first_round < resolver.stats.sent - resolver.stats.timeouts


class Stalled(Watched):
    """A real resolver that never answers one domain's SPF record (its check runs out of time)."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.asked: list[tuple[str, str]] = []

    async def query(self, name: str, rtype: str):
        self.asked.append((name, rtype))
        if (name, rtype) == (DOMAINS[0], "TXT"):
            await asyncio.sleep(10)
        return await self.inner.query(name, rtype)


def test_the_sending_hosts_are_looked_up_once_beside_the_checks(resolver, run):
    stalled = Stalled(resolver)
    hosts = ("smtp.example.test", "local.example.test", "gone.example.test")
    options = CheckOptions(sending_ips=("198.51.100.7",), sending_hosts=hosts)
    reports = run(check_domains(DOMAINS[:3], stalled, options, deadline=1.0))
    assert {c.status for c in reports[0].checks} == {Status.UNKNOWN}  # out of time, the others not
    for report in reports[1:]:  # the given IP, then the hosts' usable addresses (loopback left out)
        assert [(e.ip, e.result) for e in report.spf_evaluations] == [
            ("198.51.100.7", "fail"),
            ("192.0.2.1", "pass"),
            ("2001:db8::1", "fail"),
        ]
    asked = [q for q in stalled.asked if q[0] in hosts]
    assert sorted(asked) == sorted((h, t) for h in hosts for t in ("A", "AAAA")), "once for the run"


class SlowFirst:
    """A run's resolver whose answers for DOMAINS[0] (and the names below it) take a while."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def query(self, name: str, rtype: str):
        if name.endswith(DOMAINS[0]):
            await asyncio.sleep(0.2)
        return await self.inner.query(name, rtype)


def test_run_hands_over_the_reports_done_while_it_waits_at_once(nsd):
    """Every report once, in the run: those done by the time the run waits for DNS together, the
    others when they are done."""
    cache = {}

    class Warm(RunOptions):
        def resolver(self):  # its cache warm but for DOMAINS[0]
            resolver = super().resolver()
            resolver._cache = cache
            return SlowFirst(resolver)

    run_options = Warm([Nameserver(nsd.host, nsd.port)])
    # no provider include: NSD would refuse it, a refusal is not cached, and d1..d5 would wait for it
    options = CheckOptions(provider=OWN)
    checks.run(DOMAINS[1:], options, run_options)
    handed = []

    def on_reports(reports):
        asyncio.get_running_loop()  # raises outside the run
        handed.append([report.domain for report in reports])

    result = checks.run([*DOMAINS, "not a domain"], options, run_options, on_reports=on_reports)
    assert handed == [["not a domain", *DOMAINS[1:]], [DOMAINS[0]]]
    assert [report.domain for report in result.reports] == [*DOMAINS, "not a domain"]


def test_run_calls_the_callers_preparation_once_the_first_questions_are_out(nsd):
    """``policies_of`` as a function: called once, when every domain's first questions are out and
    before any report is handed over; its names' DMARC policies are looked up in the run."""
    resolvers = []

    class Counted(RunOptions):
        def resolver(self):
            resolvers.append(super().resolver())
            return resolvers[-1]

    seen = []

    def prepare():
        seen.append(("prepare", resolvers[0].stats.sent))
        return [DOMAINS[5]]

    def on_reports(reports):
        seen.append(("reports", len(reports)))

    run_options = Counted([Nameserver(nsd.host, nsd.port)])
    result = checks.run(DOMAINS[:2], CheckOptions(), run_options, prepare, on_reports)
    first_questions = 2 * 4  # each domain's SPF record, DKIM selector, DMARC record and MX at once
    assert seen[0][0] == "prepare" and seen[0][1] >= first_questions
    assert [kind for kind, _ in seen[1:]] == ["reports"] * (len(seen) - 1)
    assert sum(count for _, count in seen[1:]) == 2
    assert result.policies == {DOMAINS[5]: "none"}


def test_what_the_callers_preparation_raises_the_run_raises(nsd):
    def prepare():
        raise LookupError("the preparation failed")

    with pytest.raises(LookupError, match="the preparation failed"):
        checks.run(DOMAINS[:2], CheckOptions(), RunOptions([Nameserver(nsd.host, nsd.port)]), prepare)


def test_run_hands_over_the_policies_while_the_checks_wait(nsd):
    """``on_policies``: called once, in the run, with the policies it returns, as soon as they are
    all found: before the report of a domain whose answers are still to come. What it raises, the
    run raises."""

    class SlowRun(RunOptions):
        def resolver(self):
            return SlowFirst(super().resolver())

    seen = []

    def on_policies(policies):
        asyncio.get_running_loop()  # raises outside the run
        seen.append(policies)

    run_options = SlowRun([Nameserver(nsd.host, nsd.port)])
    options = CheckOptions(provider=OWN)
    result = checks.run(DOMAINS[:1], options, run_options, [DOMAINS[5]], seen.append, on_policies)
    assert seen == [{DOMAINS[5]: "none"}, result.reports]
    assert result.policies == {DOMAINS[5]: "none"}

    def refuse(policies):
        raise LookupError("storing the policies failed")

    with pytest.raises(LookupError, match="storing the policies failed"):
        checks.run(DOMAINS[:1], options, run_options, [DOMAINS[5]], on_policies=refuse)
