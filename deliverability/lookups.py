"""Blocking DNS look-ups for callers without an event loop (the Odoo layer): the addresses of SMTP
hosts and the DMARC policies of other domains, through the nameservers of a run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from . import dmarc
from .checks import RunOptions
from .dns import DnsStatus
from .domains import normalize_domain


def host_addresses(names: Iterable[str], run_options: RunOptions) -> list[str]:
    """The A and AAAA addresses of host ``names``; a name that does not resolve gives none."""
    names = list(dict.fromkeys(names))
    if not names:
        return []

    async def resolve() -> list[str]:
        resolver = run_options.resolver()
        queries = [resolver.query(name, rtype) for name in names for rtype in ("A", "AAAA")]
        answers = await asyncio.gather(*queries)
        return [record for answer in answers if answer.status is DnsStatus.OK for record in answer.records]

    return asyncio.run(resolve())


def dmarc_policies(names: Iterable[str], run_options: RunOptions) -> dict[str, str | None]:
    """``{domain: policy}``: the DMARC policy (none, quarantine, reject) that applies to each domain
    DNS answered for within the run's domain deadline, None when it has no usable record. A domain
    DNS did not answer for, or that is not a valid name, is left out: its policy is not known."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}

    async def lookup() -> dict[str, str | None]:
        resolver = run_options.resolver()

        async def one(name: str) -> tuple[str, dmarc.Discovery | None]:
            try:
                found = dmarc.discover(normalize_domain(name), resolver)
                return name, await asyncio.wait_for(found, run_options.domain_deadline)
            except (asyncio.TimeoutError, ValueError):
                return name, None

        found = await asyncio.gather(*(one(name) for name in names))
        return {name: d.policy for name, d in found if d is not None and not d.dns_error}

    return asyncio.run(lookup())
