"""The SPF check of a domain: one valid record, the provider's include in it, within RFC 7208 limits,
and the sending IPs authorized.

Verdicts:

- FAIL: no record, several records, a syntax error, a broken limit (10 lookups,
  2 void lookups, 10 MX), an include loop or an include without SPF record
  (all permerror for receivers), the provider include missing, ``+all``, or a
  sending IP that gets fail, softfail or permerror. Softfail fails too: the IP
  is not authorized, and DMARC does not count a softfail as an SPF pass.
- WARNING: ``ptr``, ``?all`` or no ``all``, terms after ``all``, a ``redirect=``
  made useless by ``all``, a record over 450 characters (its DNS answer may not
  fit a 512-byte UDP reply), 9-10 lookups (no room left), a sending IP that
  gets neutral or none.
- UNKNOWN: DNS did not answer (timeout, SERVFAIL), or a sending IP got temperror.

The fix is the record to publish as a zone-file line (``spf_record.merged_record``).
Re-exported here for the Odoo layer: ``parse``, ``SpfSyntaxError``,
``merged_record``, ``merge_records``, ``txt_line``, ``walk``, ``SpfTree``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from .dns import Resolver
from .findings import Check, Finding, SpfEvaluation, Status
from .spf_eval import check_host, evaluate
from .spf_record import SpfSyntaxError, merge_records, merged_record, parse, txt_line
from .spf_tree import MAX_LOOKUPS, Problem, SpfTree, walk

__all__ = [
    "SpfAnalysis", "SpfSyntaxError", "SpfTree", "analyze", "check", "check_host", "evaluate",
    "merge_records", "merged_record", "parse", "txt_line", "walk",
]

LONG_RECORD = 450
_IP_STATUS = {
    "pass": Status.PASS,
    "fail": Status.FAIL,
    "softfail": Status.FAIL,
    "permerror": Status.FAIL,
    "neutral": Status.WARNING,
    "none": Status.WARNING,
    "temperror": Status.UNKNOWN,
}


@dataclass(frozen=True)
class SpfAnalysis:
    """Everything the SPF check found: the finding, the tree walked, the IP evaluations."""

    finding: Finding
    tree: SpfTree
    evaluations: tuple[SpfEvaluation, ...]

    @property
    def record(self) -> str | None:
        """The domain's SPF record, when it has exactly one."""
        return self.tree.root.text


async def check(
    domain: str, resolver: Resolver, provider_include: str, sending_ips: Sequence[str]
) -> tuple[Finding, tuple[SpfEvaluation, ...]]:
    """The SPF finding for ``domain`` and check_host() of each sending IP."""
    analysis = await analyze(domain, resolver, provider_include, sending_ips)
    return analysis.finding, analysis.evaluations


async def analyze(
    domain: str, resolver: Resolver, provider_include: str, sending_ips: Sequence[str] = ()
) -> SpfAnalysis:
    domain = domain.rstrip(".")
    ips = [ip for ip in sending_ips if _is_ip(ip)]
    tree, evaluations = await asyncio.gather(
        walk(domain, resolver, provider_include),
        asyncio.gather(*(evaluate(ip, domain, resolver) for ip in ips)),
    )
    bad_ips = [ip for ip in sending_ips if ip not in ips]
    finding = _judge(domain, provider_include, tree, tuple(evaluations), bad_ips)
    return SpfAnalysis(finding, tree, tuple(evaluations))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _judge(domain: str, include: str, tree: SpfTree, evaluations, bad_ips) -> Finding:
    root = tree.root
    if not root.answer.answered:
        return Finding(Check.SPF, Status.UNKNOWN, tree.problems[0].message)
    if not root.records:
        fix = txt_line(domain, merged_record(None, include))
        summary = f"{domain} has no SPF record: receivers cannot tell which servers may send its mail."
        details = (f"Publish one TXT record at {domain} that includes {include} (below).",)
        return Finding(Check.SPF, Status.FAIL, summary, details, fix)
    problems = list(tree.problems)
    fix = None
    if len(root.records) > 1:
        fix = txt_line(domain, merge_records(root.records, include))
        listed = " | ".join(f'"{r}"' for r in root.records)
        problems = [
            Problem(Status.FAIL, f"{domain} has {len(root.records)} SPF records: merge them into one "
                                 "(receivers return permerror when there are several)."),
            Problem(Status.FAIL, f"Delete these TXT records: {listed} and publish the merged one instead."),
        ]
    elif root.record is not None:
        problems += _record_problems(domain, include, tree)
        suggested = merged_record(root.text, include)
        if suggested != root.text and _fixable(tree):
            fix = txt_line(domain, suggested)
    problems += _ip_problems(evaluations, bad_ips)
    return _finding(domain, include, tree, problems, evaluations, fix)


def _record_problems(domain: str, include: str, tree: SpfTree) -> list[Problem]:
    root, out = tree.root, []
    if not tree.include_found:
        line = (f"The SPF record of {domain} does not include {include}: mail sent through the provider "
                "fails SPF. Add include:" + include + " before the other terms.")
        if root.record.redirect is not None and root.record.all is None:
            line += (f" The record delegates everything to {root.record.redirect.target} with redirect=; "
                     "keep the redirect after the include so other senders still follow that policy.")
        out.append(Problem(Status.FAIL, line))
    size = len(root.text)
    if size > LONG_RECORD:
        out.append(Problem(Status.WARNING, f"The SPF record is {size} characters long: with other TXT "
                                           "records its DNS answer may not fit a 512-byte UDP reply; "
                                           "some receivers then fail the lookup. Shorten it."))
    if tree.lookups in (MAX_LOOKUPS - 1, MAX_LOOKUPS):
        out.append(Problem(Status.WARNING, f"The SPF record needs {tree.lookups} of the {MAX_LOOKUPS} DNS "
                                           "lookups RFC 7208 allows: one more include will break it."))
    return out


def _fixable(tree: SpfTree) -> bool:
    """True when the merged record changes something wrong: the include, ``all``, ignored terms."""
    record = tree.root.record
    last = record.all
    return (
        not tree.include_found
        or (last is None and record.redirect is None)
        or (last is not None and (last.qualifier == "+" or record.redirect is not None))
        or bool(record.ignored)
    )


def _ip_problems(evaluations, bad_ips) -> list[Problem]:
    out = []
    for ev in evaluations:
        status = _IP_STATUS.get(ev.result, Status.UNKNOWN)
        if status is Status.PASS:
            continue
        verdict = {
            Status.FAIL: "is not authorized: receivers may reject its mail or mark it as spam",
            Status.WARNING: "is not listed: receivers treat its mail as unauthenticated",
            Status.UNKNOWN: "could not be checked: DNS did not answer",
        }[status]
        out.append(Problem(status, f"Sending IP {ev.ip} {verdict} (SPF {ev.result}: {ev.explanation})."))
    out += [Problem(Status.WARNING, f"{ip!r} is not an IP address; not evaluated.") for ip in bad_ips]
    return out


def _finding(domain, include, tree: SpfTree, problems: list[Problem], evaluations, fix) -> Finding:
    status = Status.worst(p.status for p in problems)
    ranked = sorted(problems, key=lambda p: -p.status.severity)
    if ranked:
        summary = ranked[0].message.splitlines()[0]
    else:
        summary = f"SPF is valid for {domain}: {include} is included, {tree.lookups} of {MAX_LOOKUPS} lookups"
        summary += ", every sending IP passes." if evaluations else "."
    details = [line for p in ranked for line in p.message.splitlines()][1 if ranked else 0:]
    details.append(f"SPF tree ({tree.lookups} of {MAX_LOOKUPS} DNS lookups, {tree.voids} void):")
    details += tree.render()
    return Finding(Check.SPF, status, summary, tuple(details), fix)
