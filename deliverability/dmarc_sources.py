"""The sources of mail that DMARC reports name: who they are, and when administrators hear of them.

A source is an IP address. It is the database's own (one of its sending IPs), the
sending provider's (it passes the provider's SPF record), another known sender (the
SPF record of a domain it sends as authorizes it) or unknown. Its name is the
reverse DNS name, trusted when the name's addresses include the IP (forward-confirmed).
All DNS goes through the caller's ``Resolver``.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dns.reversename

from . import event_loop, spf_eval
from .dns import DnsStatus, Resolver
from .domains import normalize_domain, organizational_domain
from .options import RunOptions

MIN_VOLUME = 10  # unaligned messages before a source is worth an alert
FAILING_SHARE = 0.1  # and at least this share of its messages
MAX_DOMAINS = 5  # SPF records looked at per source


class Kind(str, enum.Enum):
    OWN = "own"
    PROVIDER = "provider"
    KNOWN = "known"
    UNKNOWN = "unknown"

    @property
    def authorized(self) -> bool:
        return self is not Kind.UNKNOWN


@dataclass(frozen=True)
class SourceFacts:
    """What DNS says of a source. ``settled`` is False when DNS did not answer: ask again later."""

    ip: str
    kind: Kind
    reason: str
    reverse_name: str | None = None
    reverse_confirmed: bool = False
    settled: bool = True

    @property
    def group(self) -> str:
        """The organization the source belongs to: the organizational domain of its confirmed name."""
        if not (self.reverse_name and self.reverse_confirmed):
            return ""
        try:
            return organizational_domain(normalize_domain(self.reverse_name))
        except ValueError:
            return ""


async def reverse_name(ip: str, resolver: Resolver) -> tuple[str | None, bool]:
    """``(name, confirmed)``: the PTR name of ``ip`` (``None`` without one, or when DNS did not
    answer: reverse DNS is often broken, it only names the source) and whether its A/AAAA include ``ip``."""
    address = ipaddress.ip_address(ip)
    answer = await resolver.query(dns.reversename.from_address(str(address)).to_text(), "PTR")
    if answer.status is not DnsStatus.OK:
        return None, False
    name = answer.records[0].rstrip(".").lower()
    forward = await resolver.query(name, "A" if address.version == 4 else "AAAA")
    return name, any(_same_ip(record, address) for record in forward.records)


def _same_ip(text: str, address) -> bool:
    try:
        return ipaddress.ip_address(text) == address
    except ValueError:
        return False


async def identify(
    ip: str,
    domains: Iterable[str],
    resolver: Resolver,
    own_ips: Iterable[str] = (),
    provider_include: str | None = None,
) -> SourceFacts:
    """Classify ``ip``, which reports show sending as ``domains``.

    SPF is evaluated (RFC 7208 check_host) against the provider's include, then against
    each domain's own record; a temperror leaves the source unsettled.
    """
    address = ipaddress.ip_address(ip)
    name, confirmed = await reverse_name(ip, resolver)
    facts = {"reverse_name": name, "reverse_confirmed": confirmed, "settled": True}
    if any(_same_ip(own, address) for own in own_ips):
        return SourceFacts(str(address), Kind.OWN, "one of this database's sending IPs", **facts)
    if provider_include:
        host = await spf_eval.check_host(
            str(address), f"postmaster@{provider_include}", provider_include, resolver
        )
        if host.result == "pass":
            return SourceFacts(
                str(address), Kind.PROVIDER, f"in the sending provider's SPF ({provider_include})", **facts
            )
        facts["settled"] &= host.result != "temperror"
    names = list(dict.fromkeys(domains))[:MAX_DOMAINS]
    results = await asyncio.gather(*(spf_eval.evaluate(str(address), d, resolver) for d in names))
    for domain, evaluation in zip(names, results, strict=True):
        if evaluation.result == "pass":
            return SourceFacts(str(address), Kind.KNOWN, f"authorized by the SPF record of {domain}", **facts)
    facts["settled"] &= all(e.result != "temperror" for e in results)
    listed = ", ".join(names) or "its domains"
    return SourceFacts(str(address), Kind.UNKNOWN, f"not authorized by the SPF record of {listed}", **facts)


def identify_sources(
    sources: Mapping[str, Iterable[str]],
    run_options: RunOptions,
    own_ips: Iterable[str] = (),
    provider_include: str | None = None,
) -> dict[str, SourceFacts]:
    """Blocking entry point: classify every ``ip -> domains`` of ``sources`` concurrently."""
    own = tuple(own_ips)

    async def run() -> dict[str, SourceFacts]:
        resolver = run_options.resolver()

        async def one(ip: str, domains: Iterable[str]) -> SourceFacts:
            try:
                return await asyncio.wait_for(
                    identify(ip, domains, resolver, own, provider_include), run_options.domain_deadline
                )
            except asyncio.TimeoutError:
                return SourceFacts(ip, Kind.UNKNOWN, "DNS did not answer in time", settled=False)

        found = await asyncio.gather(*(one(ip, list(domains)) for ip, domains in sources.items()))
        return {facts.ip: facts for facts in found}

    return event_loop.run(run())


# ----------------------------------------------------------------------------- alerts


class Alert(str, enum.Enum):
    NEW_FAILING = "new_failing"  # a source not authorized by the domain fails DMARC with volume
    AUTHORIZED_FAILING = "authorized_failing"  # an authorized source that passed starts failing
    RECOVERED = "recovered"  # an authorized source passes again


@dataclass(frozen=True)
class AlertState:
    """What was already said of a source: alerts are given once, not every day."""

    alerted_new: bool = False
    failing: bool = False


def failing(aligned: int, unaligned: int, min_volume: int = MIN_VOLUME) -> bool:
    """Failing with volume: at least ``min_volume`` messages and ``FAILING_SHARE`` of them fail DMARC."""
    total = aligned + unaligned
    return unaligned >= min_volume and unaligned >= FAILING_SHARE * total


def next_alert(
    kind: Kind,
    state: AlertState,
    total: tuple[int, int],
    new: tuple[int, int],
    min_volume: int = MIN_VOLUME,
) -> tuple[AlertState, Alert | None]:
    """The alert due for a source, and its new state.

    ``total`` and ``new`` are ``(aligned, unaligned)`` message counts: all reported so
    far, and those of the reports not yet looked at. An unknown source is reported
    once, when its failing volume crosses the bar; an authorized one when the new
    reports show it failing, then again only after it passed in between.
    """
    if not kind.authorized:
        if not state.alerted_new and failing(*total, min_volume):
            return AlertState(True, state.failing), Alert.NEW_FAILING
        return state, None
    aligned, unaligned = new
    if not state.failing and failing(aligned, unaligned, min_volume):
        return AlertState(state.alerted_new, True), Alert.AUTHORIZED_FAILING
    if state.failing and aligned and not failing(aligned, unaligned, min_volume):
        return AlertState(state.alerted_new, False), Alert.RECOVERED
    return state, None
