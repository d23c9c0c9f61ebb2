"""The SPF record to suggest, walked as a published one would be before it is shown.

``spf_record.merge_records`` puts the provider's include into the domain's record;
the result can break RFC 7208's limits (10 lookups, 2 void lookups) or fail in
other ways. ``suggest`` walks it (lookups, voids, loops) and, when only a limit is
broken, tries remedies in turn, walking again after each: drop an include that
another include already reaches, drop ``a``/``mx`` terms that resolve to nothing,
then replace ``a``/``mx`` terms by the ``ip4``/``ip6`` addresses they resolve to
today (the record then needs upkeep when those addresses change). When nothing
stays within the limits there is no record to suggest, and the reason says so.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .dns import Resolver
from .findings import Status
from .spf_record import Term, merge_records, parse
from .spf_tree import MAX_LOOKUPS, MAX_MX, MAX_VOIDS, Memo, RecordNode, SpfTree, walk_record

_CIDR = re.compile(r"(?:/(\d+))?(?://(\d+))?\Z")


@dataclass(frozen=True)
class Suggestion:
    """The record to publish (``None`` when none works), its walk, and what was changed to make it fit.

    ``changes`` are sentences for the administrator (some need upkeep); ``reason``
    says why no record is suggested.
    """

    text: str | None
    tree: SpfTree
    changes: tuple[str, ...] = ()
    reason: str = ""


def sound(tree: SpfTree, include: str) -> bool:
    """True when receivers evaluate the record without permerror and it authorizes the provider
    (a relay authorized by its addresses has no ``include``)."""
    return (tree.include_found or not include) and not any(p.status is Status.FAIL for p in tree.problems)


async def suggest(
    domain: str, records: Sequence[str], include: str, resolver: Resolver, memo: Memo | None = None
) -> Suggestion:
    """The merged record of ``records`` and ``include`` for ``domain``, within the limits, or why not
    (``memo``: the subtrees the run walked already)."""
    text = merge_records(records, include)
    tree = await walk_record(domain, text, resolver, include, memo)
    if sound(tree, include):
        return Suggestion(text, tree)
    other = [p for p in tree.problems if p.status is Status.FAIL and not p.limit]
    if other or not (tree.include_found or not include):
        first = other[0].message.splitlines()[0] if other else f"it would not include {include}"
        return Suggestion(
            None, tree, reason=f"No record can be suggested: merged, it would still fail ({first})"
        )
    changes: list[str] = []
    for word, via in _duplicate_includes(tree):
        text = _replace(text, word, [])
        changes.append(f"{word} is left out of the record below: {via} already includes it.")
    if changes:
        tree = await walk_record(domain, text, resolver, include, memo)
    for term in reversed(_address_terms(text)):
        if sound(tree, include):
            break
        words = await _addresses(term, domain, resolver)
        if words is None:
            continue  # DNS did not answer: the term stays
        text = _replace(text, term.raw, words)
        if words:
            changes.append(
                f"{term.raw} is replaced by the addresses it resolves to today ({' '.join(words)}) to stay "
                f"within {MAX_LOOKUPS} DNS lookups: update the record whenever those addresses change."
            )
        else:
            changes.append(f"{term.raw} is left out of the record below: it resolves to no address (void).")
        tree = await walk_record(domain, text, resolver, include, memo)
    if sound(tree, include):
        return Suggestion(text, tree, tuple(changes))
    return Suggestion(
        None,
        tree,
        tuple(changes),
        f"No record can be suggested: with {include} the record needs {tree.lookups} DNS lookups "
        f"(RFC 7208 allows {MAX_LOOKUPS}) and {tree.voids} void lookups (allows {MAX_VOIDS}), even with "
        "every a and mx term replaced by its addresses. Remove the include of a service you no longer use, "
        "or send some mail from a subdomain with an SPF record of its own.",
    )


def _duplicate_includes(tree: SpfTree) -> list[tuple[str, str]]:
    """Top-level ``include:`` terms whose target another top-level include already reaches."""
    tops = [t for t in tree.root.terms if t.term.name == "include" and t.child is not None]
    reached = {t.term.raw: _reached(t.child) for t in tops}
    out = []
    for term in tops:
        if term.term.qualifier != "+":
            continue
        target = term.child.domain.lower()
        via = next((o.term.raw for o in tops if o is not term and target in reached[o.term.raw]), None)
        if via is not None and not any(via == word for word, _ in out):
            out.append((term.term.raw, via))
    return out


def _reached(node: RecordNode) -> set[str]:
    names = set()
    for item in node.terms:
        if (
            item.child is not None
            and item.term.qualifier == "+"
            and item.term.name in ("include", "redirect")
        ):
            names.add(item.child.domain.lower())
            names |= _reached(item.child)
    return names


def _address_terms(text: str) -> list[Term]:
    record = parse(text)
    return [t for t in record.evaluated if t.name in ("a", "mx") and not t.has_macro]


async def _addresses(term: Term, domain: str, resolver: Resolver) -> list[str] | None:
    """The ``ip4``/``ip6`` words equivalent to ``term`` today; ``None`` when DNS did not answer."""
    target = (term.target or domain).rstrip(".")
    hosts = [target]
    if term.name == "mx":
        answer = await resolver.query(target, "MX")
        if not answer.answered:
            return None
        hosts = [r.split()[-1].rstrip(".") for r in answer.records][:MAX_MX]
        hosts = [h for h in hosts if h]
    answers = await asyncio.gather(*(resolver.query(h, t) for h in hosts for t in ("A", "AAAA")))
    if not all(a.answered for a in answers):
        return None
    cidr = _CIDR.search(term.raw)
    v4, v6 = (f"/{cidr.group(1)}" if cidr.group(1) else ""), (f"/{cidr.group(2)}" if cidr.group(2) else "")
    prefix = term.raw[0] if term.raw[0] in "+-~?" else ""
    words = []
    for answer in answers:
        for address in answer.records:
            kind, suffix = ("ip4", v4) if answer.rtype == "A" else ("ip6", v6)
            words.append(f"{prefix}{kind}:{address}{suffix}")
    return list(dict.fromkeys(words))


def _replace(text: str, raw: str, words: list[str]) -> str:
    """``text`` with its first top-level word ``raw`` replaced by ``words`` (or removed)."""
    parts = text.split(" ")
    index = parts.index(raw)
    return " ".join([*parts[:index], *words, *parts[index + 1 :]])
