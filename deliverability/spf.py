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

A relay authorized by its addresses (the ``OWN`` provider: ``provider_include`` empty) needs no
include: SPF is judged by check_host() of the sending IPs, and the fix adds the ``ip4:``/``ip6:``
terms of those that do not pass.

The fix is the record to publish as a zone-file line (``spf_record.merged_record``),
walked before it is shown (``spf_fix.suggest``): it stays within the limits, with
its changes said, or there is none and the finding says why.
Re-exported here for the Odoo layer: ``parse``, ``SpfSyntaxError``,
``merged_record``, ``merge_records``, ``txt_line``, ``walk``, ``SpfTree``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from .dns import Resolver, in_turn
from .domains import is_ip
from .findings import Check, Finding, SpfEvaluation, SpfFinding, Status
from .spf_record import SpfSyntaxError, merge_records, merged_record, parse, txt_line
from .spf_tree import MAX_LOOKUPS, Memo, Problem, SpfTree, walk
from .texts import _lt

__all__ = [
    "SpfAnalysis",
    "SpfSyntaxError",
    "SpfTree",
    "analyze",
    "check",
    "merge_records",
    "merged_record",
    "parse",
    "txt_line",
    "walk",
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
    domain: str,
    resolver: Resolver,
    provider_include: str,
    sending_ips: Sequence[str] | asyncio.Future[Sequence[str]],
    memo: Memo | None = None,
) -> tuple[Finding, tuple[SpfEvaluation, ...]]:
    """The SPF finding for ``domain`` and check_host() of each sending IP."""
    analysis = await analyze(domain, resolver, provider_include, sending_ips, memo)
    return analysis.finding, analysis.evaluations


async def analyze(
    domain: str,
    resolver: Resolver,
    provider_include: str,
    sending_ips: Sequence[str] | asyncio.Future[Sequence[str]] = (),
    memo: Memo | None = None,
) -> SpfAnalysis:
    """Walk the tree of ``domain`` and evaluate ``sending_ips`` (or the future that gives them: the
    walk does not wait for it), then judge; ``memo`` is the run's (``spf_tree.Memo``)."""
    domain = domain.rstrip(".")

    async def evaluate_ips() -> tuple[Sequence[str], tuple[SpfEvaluation, ...]]:
        given = await sending_ips if isinstance(sending_ips, asyncio.Future) else sending_ips
        ips = [ip for ip in given if is_ip(ip)]
        # mostly waiting for the walk's questions: woken in turn, after the walk has asked its next ones
        return given, tuple(await asyncio.gather(*(in_turn(_evaluate(ip, domain, resolver)) for ip in ips)))

    if sending_ips:
        tree, (given, evaluations) = await asyncio.gather(
            walk(domain, resolver, provider_include, memo), evaluate_ips()
        )
    else:  # no IP to evaluate: no task to wait for
        tree, given, evaluations = await walk(domain, resolver, provider_include, memo), (), ()
    bad_ips = [ip for ip in given if not is_ip(ip)]
    finding = await _judge(domain, provider_include, tree, tuple(evaluations), bad_ips, resolver, memo)
    return SpfAnalysis(finding, tree, tuple(evaluations))


async def _evaluate(ip: str, domain: str, resolver: Resolver) -> SpfEvaluation:
    from .spf_eval import evaluate  # spftrace's evaluator, loaded only when a sending IP is given

    return await evaluate(ip, domain, resolver)


async def _suggest(domain: str, records, include: str, resolver: Resolver, memo: Memo | None):
    from .spf_fix import suggest  # loaded only when there is a record to suggest

    return await suggest(domain, records, include, resolver, memo)


def __getattr__(name: str):
    """``check_host`` and ``evaluate`` (spf_eval), re-exported without loading it at import."""
    if name in ("check_host", "evaluate"):
        from . import spf_eval

        return getattr(spf_eval, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def _judge(
    domain: str, include: str, tree: SpfTree, evaluations, bad_ips, resolver: Resolver, memo: Memo | None
) -> Finding:
    root = tree.root
    if not root.answer.answered:
        return SpfFinding(Check.SPF, Status.UNKNOWN, tree.problems[0].message)
    addresses = _address_record(evaluations, include)
    if not root.records:
        summary = _lt(
            "%(domain)s has no SPF record: receivers cannot tell which servers may send its mail."
        ) % {"domain": domain}
        if not include and not addresses:
            return SpfFinding(Check.SPF, Status.FAIL, summary, (NO_SENDING_IP,))
        suggestion = await _suggest(domain, addresses, include, resolver, memo)
        if suggestion.text is None:
            return SpfFinding(Check.SPF, Status.FAIL, summary, (suggestion.reason,))
        publish = (
            _lt("Publish one TXT record at %(domain)s that includes %(include)s (below).")
            if include
            else _lt("Publish one TXT record at %(domain)s that authorizes the sending IPs (below).")
        ) % {"domain": domain, "include": include}
        return SpfFinding(Check.SPF, Status.FAIL, summary, (publish,), txt_line(domain, suggestion.text))
    problems = list(tree.problems)
    suggestion = None
    if len(root.records) > 1:
        suggestion = await _suggest(domain, [*root.records, *addresses], include, resolver, memo)
        listed = " | ".join(f'"{r}"' for r in root.records)
        problems = [
            Problem(
                Status.FAIL,
                f"{domain} has {len(root.records)} SPF records: merge them into one "
                "(receivers return permerror when there are several).",
            ),
            Problem(
                Status.FAIL,
                f"Delete these TXT records: {listed} and publish the merged one instead."
                if suggestion.text
                else f"Delete these TXT records: {listed} and publish one instead.",
            ),
        ]
    elif root.record is not None:
        problems += _record_problems(domain, include, tree)
        over = any(p.limit for p in tree.problems)
        missing = include and merged_record(root.text, include) != root.text and _fixable(tree)
        if over or addresses or missing:
            suggestion = await _suggest(domain, [root.text, *addresses], include, resolver, memo)
    fix = None
    if suggestion is not None and suggestion.text is None:
        problems.append(Problem(Status.FAIL, suggestion.reason))
    elif suggestion is not None:  # what was changed to fit the limits (some of it needs upkeep)
        problems += [Problem(Status.WARNING, change) for change in suggestion.changes]
        fix = txt_line(domain, suggestion.text)
    problems += _ip_problems(evaluations, bad_ips)
    if not include and not evaluations:
        problems.append(Problem(Status.WARNING, NO_SENDING_IP))
    return _finding(domain, include, tree, problems, evaluations, fix)


NO_SENDING_IP = (
    "No sending IP is known, so SPF cannot say whether your own SMTP server may send: give its public "
    "addresses in the settings (Sending IPs), or the outgoing servers' host names."
)


def _address_record(evaluations, include: str) -> list[str]:
    """For a relay authorized by its addresses (no ``include``): a record of the ``ip4:``/``ip6:``
    terms of the sending IPs that do not pass, to merge into the domain's record; else none."""
    if include:
        return []
    terms = [("ip6:" if ":" in ev.ip else "ip4:") + ev.ip for ev in evaluations if ev.result != "pass"]
    return [" ".join(["v=spf1", *terms])] if terms else []


def _record_problems(domain: str, include: str, tree: SpfTree) -> list[Problem]:
    root, out = tree.root, []
    if include and not tree.include_found:
        line = (
            f"The SPF record of {domain} does not include {include}: mail sent through the provider "
            "fails SPF. Add include:" + include + " before the other terms."
        )
        if root.record.redirect is not None and root.record.all is None:
            line += (
                f" The record delegates everything to {root.record.redirect.target} with redirect=; "
                "keep the redirect after the include so other senders still follow that policy."
            )
        out.append(Problem(Status.FAIL, line))
    size = len(root.text)
    if size > LONG_RECORD:
        out.append(
            Problem(
                Status.WARNING,
                f"The SPF record is {size} characters long: with other TXT "
                "records its DNS answer may not fit a 512-byte UDP reply; "
                "some receivers then fail the lookup. Shorten it.",
            )
        )
    if tree.lookups in (MAX_LOOKUPS - 1, MAX_LOOKUPS):
        out.append(
            Problem(
                Status.WARNING,
                f"The SPF record needs {tree.lookups} of the {MAX_LOOKUPS} DNS "
                "lookups RFC 7208 allows: one more include will break it.",
            )
        )
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
        summary = (
            (
                _lt(
                    "SPF is valid for %(domain)s: %(include)s is included, %(lookups)s of %(max)s lookups, "
                    "every sending IP passes."
                )
                if evaluations
                else _lt(
                    "SPF is valid for %(domain)s: %(include)s is included, %(lookups)s of %(max)s lookups."
                )
            )
            if include
            else (
                _lt("SPF is valid for %(domain)s: %(lookups)s of %(max)s lookups, every sending IP passes.")
                if evaluations
                else _lt("SPF is valid for %(domain)s: %(lookups)s of %(max)s lookups.")
            )
        ) % {"domain": domain, "include": include, "lookups": tree.lookups, "max": MAX_LOOKUPS}
    details = [line for p in ranked for line in p.message.splitlines()][1 if ranked else 0 :]
    details.append(
        _lt("SPF tree (%(lookups)s of %(max)s DNS lookups, %(voids)s void):")
        % {"lookups": tree.lookups, "max": MAX_LOOKUPS, "voids": tree.voids}
    )
    details += tree.render()
    authorizes = (
        (tree.include_found if include else bool(evaluations))
        and status in (Status.PASS, Status.WARNING)
        and all(ev.result == "pass" for ev in evaluations)
    )
    return SpfFinding(Check.SPF, status, summary, tuple(details), fix, authorizes_provider=authorizes)
