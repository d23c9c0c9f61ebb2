"""RFC 7208 check_host() for a sending IP: spftrace's evaluator over our resolver and its shared cache."""

from __future__ import annotations

import re
from dataclasses import dataclass

import spftrace
from spftrace.evaluator import valid_domain
from spftrace.macros import MacroContext, expand, truncate_domain

from .dns import DnsStatus, Resolver
from .findings import SpfEvaluation

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
_RCODES = {
    DnsStatus.OK: "NOERROR",
    DnsStatus.NODATA: "NOERROR",
    DnsStatus.NXDOMAIN: "NXDOMAIN",
    DnsStatus.SERVFAIL: "SERVFAIL",
    DnsStatus.TIMEOUT: "TIMEOUT",
    DnsStatus.ERROR: "SERVFAIL",  # malformed name or CNAME loop: a DNS error, temperror
}
_EXPLAIN_TEXT = re.compile(r"^[\x20-\x7e]*$")


class ResolverBridge(spftrace.BaseResolver):
    """spftrace's DNS transport answered by our ``Resolver`` (and so by its shared TTL cache).

    TIMEOUT, SERVFAIL and ERROR become rcodes spftrace turns into temperror.
    """

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    async def _lookup(self, name: str, rtype: str) -> tuple[str, list[str]]:
        if not name.strip("."):
            return "NOERROR", []  # the root, as in a null MX ("0 ."): no address there
        answer = await self.resolver.query(name, rtype)
        return _RCODES.get(answer.status, "SERVFAIL"), [_value(rtype, r) for r in answer.records]


def _value(rtype: str, record: str) -> str:
    if rtype == "MX":
        return record.split()[-1].rstrip(".")
    if rtype == "PTR":
        return record.rstrip(".")
    return record


class _ExplainContext(MacroContext):
    def ip_macro(self) -> str:
        """%{i} of an IPv6 address in explanation text: upper-case nibbles, as the OpenSPF suite expects."""
        return super().ip_macro() if self.is_v4 else super().ip_macro().upper()


class _Evaluator(spftrace.Evaluator):
    async def _explanation(self, ip, domain, sender, helo, exp_term) -> str | None:
        """RFC 7208 section 6.2: the exp= text, macros expanded; ``None`` on any error.

        spftrace 0.3.0 rejects every explanation containing a space (it checks
        the whole text against the macro-literal set), so this is done here.
        """
        ctx = _ExplainContext(
            ip=ip, sender=sender, helo=helo, domain=domain, receiver=self.receiver, session=self.session
        )
        try:
            with self.session.void_exempt():
                target = truncate_domain(await expand(exp_term.arg or "", ctx))
                if not valid_domain(target):
                    return None
                _, answers = await self.session.query(target, "TXT")
            if len(answers) != 1 or not _EXPLAIN_TEXT.match(answers[0]):
                return None
            words = [await expand(word, ctx, exp=True) for word in answers[0].split(" ")]
        except (spftrace.SpfError, spftrace.DnsError, ValueError):
            return None
        return " ".join(words)


@dataclass(frozen=True)
class HostResult:
    """check_host()'s result, why, and the domain's own explanation (``exp=``) on a fail."""

    result: str
    reason: str
    exp: str | None = None

    def evaluation(self, ip: str) -> SpfEvaluation:
        text = f"{self.reason}; the domain explains: {self.exp}" if self.exp else self.reason
        return SpfEvaluation(ip, self.result, text)


async def check_host(ip: str, sender: str, helo: str, resolver: Resolver) -> HostResult:
    """Evaluate SPF for mail from ``sender`` (or ``helo`` when empty) sent by ``ip``."""
    evaluator = _Evaluator(ResolverBridge(resolver), spftrace.Limits())
    traced = await evaluator.evaluate(ip, sender, helo)
    return HostResult(traced.result, _reason(traced), traced.explanation)


def _reason(traced: spftrace.Result) -> str:
    """Why: the error that ended the evaluation, or the chain of mechanisms that matched."""
    events = traced.trace.events
    if traced.result in ("none", "permerror", "temperror"):
        exits = [e.data.get("reason") for e in events if e.kind == "exit"]
        return str(exits[-1]) if exits else f"check_host() gave {traced.result}"
    done = max((i for i, e in enumerate(events) if e.kind == "eval_done"), default=None)
    if done is None:
        return f"check_host() gave {traced.result}"
    domain = events[done].data["domain"]
    if events[done].data.get("reason") == "default":
        return f"no mechanism of {domain} matched: {traced.result} by default"
    chain, depth = [], events[done].depth
    for event in reversed(events[:done]):
        if event.kind == "mech_match" and event.depth == depth:
            chain.append(event.data["raw"])
            if event.data["mechanism"] != "include":
                break
            depth += 1
    return f"matched {' > '.join(chain)} in the record of {domain}"


async def evaluate(ip: str, domain: str, resolver: Resolver) -> SpfEvaluation:
    """check_host() for ``ip`` sending as ``postmaster@<domain>`` with HELO ``domain``."""
    host = await check_host(ip, f"postmaster@{domain}", domain, resolver)
    return host.evaluation(ip)
