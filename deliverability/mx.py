"""MX: can mail to the domain, such as replies to chatter notifications, come back?

Follows RFC 5321 5.1 (MX hosts, implicit MX from the domain's address) and
RFC 7505 (null MX: the domain accepts no mail).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from .dns import Answer, DnsStatus, Resolver
from .domains import is_ip
from .findings import Check, Finding, Status
from .texts import _lt

IMPACT = _lt("replies to chatter messages cannot come back")


class HostState(str, enum.Enum):
    OK = "ok"
    ALIAS = "alias"
    IP_LITERAL = "ip_literal"
    MISSING = "missing"
    LOOP = "loop"
    UNKNOWN = "unknown"


BROKEN = frozenset({HostState.MISSING, HostState.IP_LITERAL, HostState.LOOP})
_SAID = {
    HostState.OK: _lt("resolves"),
    HostState.ALIAS: _lt("is an alias (CNAME)"),
    HostState.IP_LITERAL: _lt("is an IP address, not a host name"),
    HostState.MISSING: _lt("has no address (A/AAAA)"),
    HostState.LOOP: _lt("is a broken alias (CNAME) chain that loops or never ends: it never resolves"),
    HostState.UNKNOWN: _lt("could not be resolved"),
}


@dataclass(frozen=True)
class MxHost:
    """One MX record; ``host`` is ``""`` for a null MX (``0 .``)."""

    preference: int
    host: str

    @property
    def null(self) -> bool:
        return not self.host


@dataclass(frozen=True)
class _Resolution:
    """What an MX host resolves to; ``alias`` is the CNAME target when the host is an alias."""

    state: HostState
    addresses: tuple[str, ...] = ()
    alias: str | None = None

    def detail(self, host: MxHost) -> str:
        said = _SAID[self.state]
        if self.alias and self.state not in (HostState.ALIAS, HostState.LOOP):
            said = _lt("%(state)s (an alias of %(alias)s, which RFC 5321 forbids)") % {
                "state": said,
                "alias": self.alias,
            }
        values = {"preference": host.preference, "host": host.host, "state": said}
        if not self.addresses:
            return _lt("MX %(preference)s %(host)s %(state)s") % values
        return _lt("MX %(preference)s %(host)s %(state)s: %(addresses)s") % {
            **values,
            "addresses": ", ".join(self.addresses),
        }


def parse_mx(records: tuple[str, ...]) -> list[MxHost]:
    """MX records in presentation form (``10 mx.example.com.``), by preference then name."""
    hosts = []
    for record in records:
        preference, _, host = record.partition(" ")
        hosts.append(MxHost(int(preference), host.strip().rstrip(".").lower()))
    return sorted(hosts, key=lambda h: (h.preference, h.host))


async def _resolve(resolver: Resolver, host: str) -> _Resolution:
    """A failed lookup never gives addresses; an alias is noted whether or not its target resolves."""
    if is_ip(host):
        return _Resolution(HostState.IP_LITERAL)
    answers: tuple[Answer, ...] = await asyncio.gather(
        resolver.query(host, "A"), resolver.query(host, "AAAA")
    )
    alias = next((a.cnames[-1] for a in answers if a.cnames), None)
    addresses = tuple(r for a in answers if a.status is DnsStatus.OK for r in a.records)
    if addresses:
        return _Resolution(HostState.ALIAS if alias else HostState.OK, addresses, alias)
    if any(a.broken_chain for a in answers):
        return _Resolution(HostState.LOOP, (), alias)
    if all(a.answered for a in answers):
        return _Resolution(HostState.MISSING, (), alias)
    return _Resolution(HostState.UNKNOWN, (), alias)


def _listed(problems: list[str]) -> str:
    """``a, and b, and c``, each problem translated in its place (also when read back from the
    database: a separator no other engine text has, and no problem contains)."""
    text = problems[-1]
    for problem in reversed(problems[:-1]):
        text = _lt("%(problem)s, and %(more)s") % {"problem": problem, "more": text}
    return text


async def check(domain: str, resolver: Resolver) -> Finding:
    """Judge the MX records of ``domain``."""
    answer = await resolver.query(domain, "MX")
    if not answer.answered:
        summary = _lt("MX could not be checked: DNS did not answer for %(domain)s (%(status)s)") % {
            "domain": domain,
            "status": answer.status.value,
        }
        return Finding(Check.MX, Status.UNKNOWN, summary)
    if answer.status is DnsStatus.NXDOMAIN:
        summary = _lt("%(domain)s does not exist in DNS: %(impact)s") % {"domain": domain, "impact": IMPACT}
        return Finding(Check.MX, Status.FAIL, summary)
    if not answer.records:
        return await _without_mx(domain, resolver)
    hosts = parse_mx(answer.records)
    if all(h.null for h in hosts):
        summary = _lt("%(domain)s declares that it accepts no mail (null MX, RFC 7505): %(impact)s") % {
            "domain": domain,
            "impact": IMPACT,
        }
        return Finding(
            Check.MX, Status.FAIL, summary, (_lt("MX 0 . — remove it and publish your mail hosts"),)
        )
    real = [h for h in hosts if not h.null]
    resolutions = await asyncio.gather(*(_resolve(resolver, h.host) for h in real))
    resolved = list(zip(real, resolutions, strict=True))
    details = [r.detail(h) for h, r in resolved]
    found = {r.state for r in resolutions}
    broken = [h.host for h, r in resolved if r.state in BROKEN]
    problems: list[tuple[Status, str]] = []
    if len(real) < len(hosts):
        problems.append(
            (Status.WARNING, _lt("a null MX (0 .) is published beside other MX records (RFC 7505)"))
        )
    aliased = any(r.alias for r in resolutions)
    if not found & {HostState.OK, HostState.ALIAS}:
        if HostState.UNKNOWN in found:
            summary = (
                _lt(
                    "MX hosts of %(domain)s could not be resolved (DNS did not answer); "
                    "an MX host is an alias (CNAME), which RFC 5321 forbids"
                )
                if aliased
                else _lt("MX hosts of %(domain)s could not be resolved (DNS did not answer)")
            ) % {"domain": domain}
            return Finding(Check.MX, Status.UNKNOWN, summary, tuple(details))
        summary = (
            _lt(
                "no MX host of %(domain)s resolves (%(hosts)s): %(impact)s; "
                "an MX host is an alias (CNAME), which RFC 5321 forbids"
            )
            if aliased
            else _lt("no MX host of %(domain)s resolves (%(hosts)s): %(impact)s")
        ) % {"domain": domain, "hosts": ", ".join(broken), "impact": IMPACT}
        return Finding(Check.MX, Status.FAIL, summary, tuple(details))
    if broken:
        problems.append(
            (Status.WARNING, _lt("some MX hosts do not resolve (%(hosts)s)") % {"hosts": ", ".join(broken)})
        )
    if aliased:
        problems.append((Status.WARNING, _lt("an MX host is an alias (CNAME), which RFC 5321 forbids")))
    if HostState.IP_LITERAL in found:
        problems.append((Status.WARNING, _lt("an MX record names an IP address instead of a host")))
    if HostState.UNKNOWN in found:
        problems.append((Status.UNKNOWN, _lt("some MX hosts could not be resolved")))
    values = {"domain": domain, "targets": ", ".join(f"{h.host} ({h.preference})" for h in real)}
    if not problems:
        summary = _lt("mail to %(domain)s is delivered to %(targets)s") % values
        return Finding(Check.MX, Status.PASS, summary, tuple(details))
    status = Status.worst(p[0] for p in problems)
    summary = _lt("mail to %(domain)s goes to %(targets)s, but %(problems)s") % {
        **values,
        "problems": _listed([problem for _status, problem in problems]),
    }
    return Finding(Check.MX, status, summary, tuple(details))


async def _without_mx(domain: str, resolver: Resolver) -> Finding:
    """No MX: senders fall back to the domain's own address (implicit MX), if it has one."""
    resolution = await _resolve(resolver, domain)
    state, addresses = resolution.state, resolution.addresses
    if state is HostState.UNKNOWN:
        summary = _lt("%(domain)s has no MX record and its address could not be resolved") % {
            "domain": domain
        }
        return Finding(Check.MX, Status.UNKNOWN, summary)
    if state in BROKEN:
        summary = _lt("%(domain)s has no MX record and no address: %(impact)s") % {
            "domain": domain,
            "impact": IMPACT,
        }
        return Finding(Check.MX, Status.FAIL, summary)
    summary = _lt(
        "%(domain)s has no MX record: senders fall back to its address %(addresses)s (implicit MX)"
    ) % {
        "domain": domain,
        "addresses": ", ".join(addresses),
    }
    details = (
        _lt("publish an MX record naming the host that receives mail for the domain;"),
        _lt(
            "the record below states the implicit MX explicitly: "
            "replace the host if mail is received elsewhere"
        ),
    )
    return Finding(Check.MX, Status.WARNING, summary, details, f"{domain}. IN MX 10 {domain}.")
