"""Run every check on many domains concurrently, sharing one resolver and its cache.

Every question goes out as soon as the answer it depends on is in, the longest chains first
(every domain's SPF record and the provider include's SPF tree before anything else): a
domain's SPF, DKIM, MX and DMARC look-ups start together (DMARC is judged once SPF and DKIM
are known), the sending hosts' addresses and the other domains' DMARC policies a run is asked
for are looked up beside them, and what one domain's SPF walk learnt is reused by the others
in the same run only (``spf_tree.Memo``). A report is handed over (``on_report``) as soon as
its domain is done; ``run`` hands over together the reports done by the time it waits for answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import dkim, dmarc, event_loop, judgement, mx, spf, spf_tree
from .dns import DnsStatus, Resolver, urgently
from .domains import NOT_AN_IP, address_problem, normalize_domain
from .findings import DomainReport
from .options import DOMAINS_AT_ONCE, CheckOptions, RunOptions

if TYPE_CHECKING:
    from .dkim_keys import OwnKey


@dataclass(frozen=True)
class RunResult:
    """What a run found: a report per domain checked, in order, and the DMARC policy (none,
    quarantine, reject; None without a usable record) of each domain it was asked about that DNS
    answered for."""

    reports: list[DomainReport]
    policies: dict[str, str | None] = field(default_factory=dict)


def usable_ips(addresses: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(usable, ignored)``: addresses receivers never see a message come from (loopback, private,
    link-local, unspecified: ``domains.address_problem``) are dropped; ``ignored`` are the items that
    are not IP addresses."""
    usable, ignored = [], []
    for text in addresses:
        problem = address_problem(text)
        if problem is None:
            usable.append(str(ipaddress.ip_address(text.strip())))
        elif problem == NOT_AN_IP:
            ignored.append(text)
    return tuple(dict.fromkeys(usable)), tuple(ignored)


async def sending_ips(options: CheckOptions, resolver: Resolver) -> tuple[str, ...]:
    """``options.sending_ips``, then the usable addresses (A, AAAA) of ``options.sending_hosts``;
    a host that does not resolve gives none."""
    hosts = dict.fromkeys(options.sending_hosts)
    answers = await asyncio.gather(*(resolver.query(h, t) for h in hosts for t in ("A", "AAAA")))
    found = [record for answer in answers if answer.status is DnsStatus.OK for record in answer.records]
    return tuple(dict.fromkeys((*options.sending_ips, *usable_ips(found)[0])))


async def dmarc_policies(names: Iterable[str], resolver: Resolver, deadline: float) -> dict[str, str | None]:
    """``{domain: policy}``: the DMARC policy (none, quarantine, reject) that applies to each of
    ``names`` DNS answered for within ``deadline`` seconds, None when it has no usable record. A name
    DNS did not answer for, or that is not a valid domain, is left out: its policy is not known."""

    async def one(name: str) -> tuple[str, dmarc.Discovery | None]:
        try:
            return name, await asyncio.wait_for(dmarc.discover(normalize_domain(name), resolver), deadline)
        except (asyncio.TimeoutError, ValueError):
            return name, None

    found = await asyncio.gather(*(one(name) for name in dict.fromkeys(names)))
    return {name: d.policy for name, d in found if d is not None and not d.dns_error}


class _Run:
    """What the domains of one run share: the resolver, the options, the sending IPs (a future
    while the sending hosts are looked up) and the SPF subtrees walked so far."""

    def __init__(self, resolver: Resolver, options: CheckOptions) -> None:
        self.resolver = resolver
        self.options = options
        self.memo = spf_tree.Memo()
        self.spf_records: dict[str, asyncio.Future] = {}
        self.ahead: list[asyncio.Future] = []
        self.ips: Sequence[str] | asyncio.Future[Sequence[str]] = options.sending_ips
        if options.sending_hosts:
            self.ips = asyncio.ensure_future(sending_ips(options, resolver))

    def ask_spf(self, domains: Iterable[str]) -> None:
        """Ask now, before any other question, the provider include's SPF tree and the SPF records
        of ``domains`` (normalized): the longest chains of questions start there; their answers
        are read before the others' (``urgently``)."""
        include = self.options.provider.spf_include
        if include and not self.ahead:
            self.ahead.append(urgently(spf_tree.ask_ahead(include, self.resolver)))
        for domain in domains:
            if domain not in self.spf_records:
                self.spf_records[domain] = urgently(self.resolver.query(domain, "TXT"))

    async def close(self) -> None:
        """Stop looking up the sending hosts, and what was asked ahead, if no domain is left to wait
        for them."""
        pending = [*self.ahead, *self.spf_records.values()]
        pending += [self.ips] if isinstance(self.ips, asyncio.Future) else []
        for future in pending:
            future.cancel()  # nothing when done
        if pending:
            await asyncio.wait(pending)

    async def check(self, domain: str) -> DomainReport:
        """Every check on ``domain`` (normalized), its look-ups all started at once, its SPF record
        first: the longest chain of questions starts there (the walk shares the question)."""
        options, resolver = self.options, self.resolver
        own = {key.selector: key for key in options.own_keys if key.domain == domain}
        ips = asyncio.shield(self.ips) if isinstance(self.ips, asyncio.Future) else self.ips
        spf_record = self.spf_records.pop(domain, None)
        if spf_record is None:
            spf_record = urgently(resolver.query(domain, "TXT"))
        try:
            (
                (spf_finding, evaluations),
                provider_dkim,
                own_dkim,
                mx_finding,
                dmarc_found,
            ) = await asyncio.gather(
                urgently(spf.check(domain, resolver, options.provider.spf_include, ips, self.memo)),
                asyncio.gather(
                    *(
                        dkim.check(domain, resolver, selector, options.provider.dkim_target(selector))
                        for selector in options.selectors
                        if selector not in own
                    )
                ),
                asyncio.gather(*(_own_key(key, resolver) for key in own.values())),
                mx.check(domain, resolver),
                dmarc.inspect(domain, resolver),
            )
        finally:
            spf_record.cancel()  # nothing when done (the walk waited for it)
            await asyncio.wait((spf_record,))
        facts = judgement.domain_facts(
            domain,
            options.provider,
            spf_finding,
            evaluations,
            provider_dkim,
            zip(own.values(), own_dkim, strict=True),
        )
        if any(r.signer is judgement.Signer.DATABASE and r.result == "pass" for r in facts.dkim):
            # the database signs with its own published key: the provider's selectors are not needed
            provider_dkim = [f for f in provider_dkim if f.selector not in options.provider.selectors]
        if not provider_dkim and not own_dkim and options.provider.authorized_by_ips:
            provider_dkim = [dkim.unsigned(domain)]  # the database signs, or nothing does
        dmarc_finding = dmarc.judge(dmarc_found, facts.spf, facts.dkim)
        facts = judgement.with_policy(facts, dmarc_finding.judgement)
        findings = (spf_finding, *provider_dkim, *(f for _, f in own_dkim), dmarc_finding, mx_finding)
        return DomainReport(domain, findings, tuple(evaluations), facts)


async def _own_key(key: OwnKey, resolver: Resolver):
    from . import dkim_keys  # cryptography is only loaded for a database's own keys

    return await dkim_keys.check(key, resolver)


async def check_domain(domain: str, resolver: Resolver, options: CheckOptions) -> DomainReport:
    """Every check on one domain. DMARC is judged last: it depends on SPF and DKIM.

    Raises ``ValueError`` when ``domain`` is not a domain name.
    """
    name = normalize_domain(domain)
    run = _Run(resolver, options)
    try:
        return await run.check(name)
    finally:
        await run.close()


async def check_domains(
    domains: Iterable[str],
    resolver: Resolver,
    options: CheckOptions,
    *,
    deadline: float = 30.0,
    on_report: Callable[[DomainReport], None] | None = None,
    parallel: int = DOMAINS_AT_ONCE,
) -> list[DomainReport]:
    """Check ``domains`` concurrently; each domain is isolated and bounded by ``deadline`` seconds.

    At most ``parallel`` domains are in flight; a domain's deadline starts when it
    does, so a long list neither times out waiting in line nor piles up queries.
    A domain that runs out of time, or whose checks raise, gets a report whose
    checks are all ``unknown``; a name that is not a domain name, one whose checks
    all ``fail`` (the others are checked either way). Reports come back in the order of ``domains``.
    """
    slots = asyncio.Semaphore(parallel)
    run = _Run(resolver, options)
    domains = list(domains)
    starting = []  # the domains that start at once (the first ``parallel`` valid ones)
    for domain in domains:
        try:
            starting.append(normalize_domain(domain))
        except ValueError:
            continue
        if len(starting) == parallel:
            break
    run.ask_spf(starting)

    async def one(domain: str) -> DomainReport:
        try:
            name = normalize_domain(domain)
        except ValueError as exc:
            report = DomainReport.invalid(domain, options.selectors, str(exc))
        else:
            async with slots:
                try:
                    report = await asyncio.wait_for(run.check(name), deadline)
                except asyncio.TimeoutError:
                    report = DomainReport.timed_out(domain, options.selectors, deadline)
                except Exception as exc:  # noqa: BLE001  (one domain's bug must not lose the others)
                    report = DomainReport.crashed(domain, options.selectors, exc)
        if on_report is not None:
            on_report(report)
        return report

    try:
        return list(await asyncio.gather(*(one(d) for d in domains)))
    finally:
        await run.close()


def run(
    domains: Iterable[str],
    options: CheckOptions,
    run_options: RunOptions,
    policies_of: Iterable[str] | Callable[[], Iterable[str]] = (),
    on_reports: Callable[[list[DomainReport]], None] | None = None,
    on_policies: Callable[[dict[str, str | None]], None] | None = None,
) -> RunResult:
    """Blocking entry point (Odoo, scripts): one resolver, one event loop, every look-up at once:
    the checks of ``domains`` and the DMARC policies of ``policies_of``.

    ``policies_of`` may be a function that returns those names: it is called in the run's thread
    once the first questions are out, before ``on_reports``, so that what the caller does there
    (its own preparation) takes no time of its own; what it raises, ``run`` raises. ``on_reports``
    is called, in the run's thread while the other look-ups go on, with the reports done since
    its last call, when the run has nothing else to do but wait for answers (those done meanwhile
    come together, to be stored at once); what it does there is time an answer coming meanwhile
    waits. ``on_policies`` is called the same way, once, with the policies as soon as they are
    all found (the policies ``run`` returns); what it raises, ``run`` raises."""

    async def everything() -> RunResult:
        resolver = run_options.resolver()
        deadline = run_options.domain_deadline
        done: list[DomainReport] = []

        def hand_over() -> None:
            if done:
                reports = done[:]
                done.clear()
                on_reports(reports)

        def collect(report: DomainReport) -> None:
            if not done:
                event_loop.call_when_idle(hand_over)  # not while answers wait to be read
            done.append(report)

        async def policies() -> dict[str, str | None]:
            names = await prepared if prepared is not None else policies_of
            found = await dmarc_policies(names, resolver, deadline)
            if on_policies is not None:
                await event_loop.when_idle(lambda: on_policies(found))
            return found

        # asked first: called before the reports are handed over (idle work is done in order)
        prepared = asyncio.ensure_future(event_loop.when_idle(policies_of)) if callable(policies_of) else None
        reports, found = await asyncio.gather(
            check_domains(
                domains, resolver, options, deadline=deadline, on_report=collect if on_reports else None
            ),
            policies(),
        )
        hand_over()  # those done since the run last waited
        return RunResult(reports, found)

    return event_loop.run(everything())
