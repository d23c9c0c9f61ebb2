"""Run every check on many domains concurrently, sharing one resolver and its cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import dkim, dmarc, judgement, mx, spf
from .dns import DnsResolver, Nameserver, Resolver
from .domains import normalize_domain
from .findings import DomainReport
from .providers import FLECTRA, Provider

if TYPE_CHECKING:
    from .dkim_keys import OwnKey


@dataclass(frozen=True)
class CheckOptions:
    """What to check a domain against.

    ``dkim_selectors`` are checked besides the provider's own selectors;
    ``sending_ips`` are evaluated with SPF check_host(); ``own_keys`` are the database's own DKIM
    keys, each checked on its domain against the key stored (``dkim_keys.check``).
    """

    provider: Provider = FLECTRA
    dkim_selectors: tuple[str, ...] = ()
    sending_ips: tuple[str, ...] = ()
    own_keys: tuple[OwnKey, ...] = ()

    @property
    def selectors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.provider.selectors + self.dkim_selectors))


@dataclass
class RunOptions:
    """How to reach DNS for a run."""

    nameservers: Sequence[Nameserver] = field(default_factory=list)
    timeout: float = 2.0
    lifetime: float = 5.0
    concurrency: int = 64
    domain_deadline: float = 30.0

    def resolver(self) -> DnsResolver:
        """A resolver (with its cache) for one run, as these options say."""
        return DnsResolver(
            list(self.nameservers), timeout=self.timeout, lifetime=self.lifetime, concurrency=self.concurrency
        )


async def check_domain(domain: str, resolver: Resolver, options: CheckOptions) -> DomainReport:
    """Every check on one domain. DMARC is judged last: it depends on SPF and DKIM.

    Raises ``ValueError`` when ``domain`` is not a domain name.
    """
    return await _check_normalized(normalize_domain(domain), resolver, options)


async def _check_normalized(domain: str, resolver: Resolver, options: CheckOptions) -> DomainReport:
    own = {key.selector: key for key in options.own_keys if key.domain == domain}
    (spf_finding, evaluations), provider_dkim, own_dkim, mx_finding = await asyncio.gather(
        spf.check(domain, resolver, options.provider.spf_include, options.sending_ips),
        asyncio.gather(
            *(
                dkim.check(domain, resolver, selector, options.provider.dkim_target(selector))
                for selector in options.selectors
                if selector not in own
            )
        ),
        asyncio.gather(*(_own_key(key, resolver) for key in own.values())),
        mx.check(domain, resolver),
    )
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
    dmarc_finding = await dmarc.check(domain, resolver, facts.spf, facts.dkim)
    facts = judgement.with_policy(facts, dmarc_finding.judgement)
    checks = (spf_finding, *provider_dkim, *(finding for _, finding in own_dkim), dmarc_finding, mx_finding)
    return DomainReport(domain, checks, tuple(evaluations), facts)


async def _own_key(key: OwnKey, resolver: Resolver):
    from . import dkim_keys  # cryptography is only loaded for a database's own keys

    return await dkim_keys.check(key, resolver)


async def check_domains(
    domains: Iterable[str],
    resolver: Resolver,
    options: CheckOptions,
    *,
    deadline: float = 30.0,
    on_report: Callable[[DomainReport], None] | None = None,
    parallel: int = 128,
) -> list[DomainReport]:
    """Check ``domains`` concurrently; each domain is isolated and bounded by ``deadline`` seconds.

    At most ``parallel`` domains are in flight; a domain's deadline starts when it
    does, so a long list neither times out waiting in line nor piles up queries.
    A domain that runs out of time, or whose checks raise, gets a report whose
    checks are all ``unknown``; a name that is not a domain name, one whose checks
    all ``fail`` (the others are checked either way). Reports come back in the order of ``domains``.
    """
    slots = asyncio.Semaphore(parallel)

    async def one(domain: str) -> DomainReport:
        try:
            name = normalize_domain(domain)
        except ValueError as exc:
            report = DomainReport.invalid(domain, options.selectors, str(exc))
        else:
            async with slots:
                try:
                    report = await asyncio.wait_for(_check_normalized(name, resolver, options), deadline)
                except asyncio.TimeoutError:
                    report = DomainReport.timed_out(domain, options.selectors, deadline)
                except Exception as exc:  # noqa: BLE001  (one domain's bug must not lose the others)
                    report = DomainReport.crashed(domain, options.selectors, exc)
        if on_report is not None:
            on_report(report)
        return report

    return list(await asyncio.gather(*(one(d) for d in domains)))


def run(domains: Iterable[str], options: CheckOptions, run_options: RunOptions) -> list[DomainReport]:
    """Blocking entry point (Odoo, scripts): builds the resolver and runs the event loop."""
    resolver = run_options.resolver()
    return asyncio.run(check_domains(domains, resolver, options, deadline=run_options.domain_deadline))
