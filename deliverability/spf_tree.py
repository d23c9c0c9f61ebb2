"""The whole SPF include/redirect tree of a domain, with RFC 7208 lookup counts, whatever the sending IP.

check_host() stops at the first mechanism that matches, so its counts depend
on the IP. An administrator needs the worst case -- an IP that matches
nothing before ``all`` -- which is what this walk counts: every DNS-querying
term (include, a, mx, ptr, exists, redirect) in evaluation order, per term and
in total (limit 10), and void lookups (limit 2; an ``a`` or MX host counts as
void when it has neither A nor AAAA). The tree is built even when a limit is
broken; the problem names the term at fault. Targets built from macros depend
on the sender and are counted, not followed. Every question of the tree is asked
as soon as the answer it depends on is in (``_warm``: the records of sibling
includes all at once, each one's subtree as soon as its record is in, at most
``MAX_FOLLOWED`` lookups); the walk itself counts in evaluation order, so results
do not depend on timing.

The subtree of an include (a provider's, met in thousands of domains) is walked
once per run and reused (``Memo``, made by the run and handed to ``walk``) wherever
it gives exactly what a walk would: its DNS answers are unchanged, it cannot break
a limit there and it meets no name of the path that leads to it; elsewhere it is
walked in place. Nothing is remembered beyond the run that learnt it.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace

from .dns import Answer, DnsStatus, Resolver
from .findings import Status
from .spf_record import SpfRecord, SpfSyntaxError, Term, parse, select

MAX_LOOKUPS = 10
MAX_VOIDS = 2
MAX_MX = 10
MAX_FOLLOWED = 30  # lookups after which terms are counted but not resolved (a hostile tree stays finite)


@dataclass(frozen=True)
class Problem:
    """A problem of the tree; ``limit`` is True for a broken lookup or void limit (a count, not a term)."""

    status: Status
    message: str
    limit: bool = False


@dataclass(frozen=True)
class TermNode:
    """A term; ``lookups`` counts it and its subtree, ``first`` is its place in the count (1-based)."""

    term: Term
    lookups: int = 0
    first: int = 0
    voids: int = 0
    child: RecordNode | None = None
    note: str = ""


@dataclass(frozen=True)
class RecordNode:
    """The SPF record at ``domain``, reached from its parent ``via`` include or redirect ("" for the root).

    ``error`` says why the node could not be walked (no record, several, a
    syntax error, DNS not answering); ``answer`` is the TXT lookup.
    """

    domain: str
    via: str
    answer: Answer
    records: tuple[str, ...] = ()
    record: SpfRecord | None = None
    terms: tuple[TermNode, ...] = ()
    error: str = ""

    @property
    def lookups(self) -> int:
        return sum(t.lookups for t in self.terms)

    @property
    def text(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None


@dataclass(frozen=True)
class SpfTree:
    root: RecordNode
    lookups: int
    voids: int
    problems: tuple[Problem, ...]
    include_found: bool

    @property
    def status(self) -> Status:
        return Status.worst(p.status for p in self.problems)

    def render(self) -> list[str]:
        """The tree as indented lines, for details and terminals."""
        return _render(self.root, 0)


class _TooMany(Exception):
    """A subtree walked alone breaks a limit on its own: it is walked in place instead."""


@dataclass(frozen=True)
class _Subtree:
    """An include or redirect target walked alone: lookups are numbered from 1, the path is just it.

    ``node`` is ``None`` when the subtree broke a limit on its own (it never fits).
    """

    answer: Answer  # its TXT lookup
    deps: tuple[tuple[str, str, Answer], ...]  # every other lookup it was walked from
    node: RecordNode | None = None
    lookups: int = 0
    voids: int = 0
    problems: tuple[Problem, ...] = ()
    include_found: bool = False
    targets: frozenset[str] = frozenset()  # every include/redirect target met below it
    shifted: dict[int, RecordNode] = field(default_factory=dict, compare=False)

    def fits(self, lookups: int, voids: int, path: tuple[str, ...]) -> bool:
        """True when reusing it after ``lookups`` and ``voids``, below ``path``, gives what a walk would."""
        return (
            self.node is not None
            and lookups + self.lookups <= MAX_LOOKUPS
            and voids + self.voids <= MAX_VOIDS
            and not self.targets.intersection(path)
        )

    def at(self, offset: int) -> RecordNode:
        """The node with its terms numbered after ``offset`` lookups."""
        node = self.shifted.get(offset)
        if node is None:
            node = self.shifted[offset] = _shift(self.node, offset)
        return node


def _shift(node: RecordNode, offset: int) -> RecordNode:
    terms = tuple(
        replace(
            t,
            first=t.first + offset if t.first else 0,
            child=_shift(t.child, offset) if t.child is not None else None,
        )
        for t in node.terms
    )
    return replace(node, terms=terms)


class Memo:
    """The subtrees one run walked, by (target, via, passing, include), or the future of one
    being walked by another domain of the run; least recently used dropped first. Made by a run
    (one event loop) and dropped with it."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple, _Subtree | asyncio.Future] = OrderedDict()
        self._targets: Counter[str] = Counter()  # how many items each target has

    def __contains__(self, target: str) -> bool:
        """True when a subtree of ``target`` (lower case) is kept, or being walked, in this run."""
        return self._targets[target] > 0

    def get(self, key: tuple) -> _Subtree | asyncio.Future | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple, item: _Subtree | asyncio.Future) -> None:
        if key not in self._items:
            self._targets[key[0]] += 1
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            dropped, _ = self._items.popitem(last=False)
            self._targets[dropped[0]] -= 1

    def drop(self, key: tuple, item: _Subtree | asyncio.Future) -> None:
        """Forget ``key`` if it still holds ``item``."""
        if self._items.get(key) is item:
            del self._items[key]
            self._targets[key[0]] -= 1


class _Recorder:
    """Passes queries to a resolver, keeping the answers (a subtree is valid while they are)."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.answers: dict[tuple[str, str], Answer] = {}
        self.stable = True  # False once a lookup failed or changed during the walk

    async def query(self, name: str, rtype: str) -> Answer:
        answer = await self.resolver.query(name, rtype)
        known = self.answers.setdefault((name, rtype), answer)
        self.stable = self.stable and answer.answered and known == answer
        return answer

    @property
    def deps(self) -> tuple[tuple[str, str, Answer], ...]:
        return tuple((name, rtype, answer) for (name, rtype), answer in self.answers.items())


@dataclass
class _Walker:
    resolver: Resolver
    include: str
    lookups: int = 0
    voids: int = 0
    include_found: bool = False
    problems: list[Problem] = field(default_factory=list)
    memo: Memo | None = None  # the run's walked subtrees (None: every include walked in place)
    alone: bool = False  # walking a subtree alone, for the memo: limits end it, no nested reuse
    targets: set[str] = field(default_factory=set)

    def problem(self, status: Status, message: str, limit: bool = False) -> None:
        self.problems.append(Problem(status, message, limit))

    async def record(
        self, domain: str, via: str, path: tuple[str, ...], passing: bool, answer: Answer | None = None
    ) -> RecordNode:
        answer = answer or await self.resolver.query(domain, "TXT")
        node = RecordNode(domain, via, answer)
        where = f"{via}:{domain}" if via else domain
        if not answer.answered:
            self.problem(
                Status.UNKNOWN, f"DNS did not answer for the TXT records of {domain} ({answer.status.value})."
            )
            return replace(node, error=f"DNS: {answer.status.value}")
        records = tuple(select(answer.records))
        node = replace(node, records=records)
        if not records:
            if via:
                self.problem(
                    Status.FAIL,
                    f"{where} has no SPF record: receivers treat that as a permanent error (permerror).",
                )
            return replace(node, error="no SPF record")
        if len(records) > 1:
            self.problem(
                Status.FAIL,
                f"{domain} publishes {len(records)} SPF records; there must be "
                "exactly one (receivers return permerror).",
            )
            return replace(node, error=f"{len(records)} SPF records")
        try:
            record = parse(records[0])
        except SpfSyntaxError as exc:
            self.problem(
                Status.FAIL,
                f"The SPF record of {domain} has a syntax error {exc} "
                f"(receivers return permerror):\n{exc.pointer()}",
            )
            return replace(node, error=f"syntax error {exc}")
        self._judge_record(domain, via, record, passing)
        terms = await self._terms(domain, record, path, passing)
        return replace(node, record=record, terms=terms)

    def _judge_record(self, domain: str, via: str, record: SpfRecord, passing: bool) -> None:
        final = via in ("", "redirect")  # this record's all decides the domain's result
        last = record.all
        if last is not None and last.qualifier == "+" and passing:
            whom = f"The record of {domain}" if final else f"include:{domain}"
            self.problem(
                Status.FAIL,
                f"{whom} ends with {last.raw}: anyone on the Internet may send "
                "mail as this domain. Use ~all or -all.",
            )
        elif final and last is not None and last.qualifier == "?":
            self.problem(
                Status.WARNING,
                f"The record of {domain} ends with ?all (neutral): receivers "
                "treat unlisted senders as if there were no SPF. Prefer ~all.",
            )
        elif final and last is None and record.redirect is None:
            self.problem(
                Status.WARNING,
                f"The record of {domain} has no all mechanism: unlisted senders "
                "get neutral, as if there were no SPF. End it with ~all.",
            )
        if record.ignored:
            ignored = " ".join(t.raw for t in record.ignored)
            self.problem(
                Status.WARNING,
                f"In the record of {domain}, {ignored} comes after {last.raw} "
                "and is ignored by every receiver.",
            )
        if last is not None and record.redirect is not None:
            self.problem(
                Status.WARNING,
                f"In the record of {domain}, {record.redirect.raw} is ignored "
                f"because the record ends with {last.raw}.",
            )

    async def _terms(
        self, domain: str, record: SpfRecord, path: tuple[str, ...], passing: bool
    ) -> tuple[TermNode, ...]:
        order = self._order(record)
        answers = await self._prefetch(domain, order)
        nodes = {t.position: TermNode(t, note=self._idle_note(t, record)) for t in record.terms}
        for term in order:
            nodes[term.position] = await self._term(domain, term, answers, path, passing)
        return tuple(nodes[p] for p in sorted(nodes))

    @staticmethod
    def _order(record: SpfRecord) -> list[Term]:
        """The terms as check_host() evaluates them: the mechanisms, then a redirect without all."""
        order = list(record.evaluated)
        if record.all is None and record.redirect is not None:
            order.append(record.redirect)
        return order

    @staticmethod
    def _idle_note(term: Term, record: SpfRecord) -> str:
        if term.is_mechanism:
            return "ignored: after all"
        if term.name == "redirect":
            return "ignored: the record has all"
        return "" if term.name == "exp" else "unknown modifier, ignored"

    async def _prefetch(self, domain: str, order: list[Term]) -> dict[tuple[str, str], Answer]:
        keys = []
        budget = MAX_FOLLOWED - self.lookups
        for term in order:
            if not term.is_lookup or term.has_macro or term.name == "ptr":
                continue
            budget -= 1
            if budget < 0:
                break
            target = (term.target or domain).rstrip(".")
            keys += [(target, t) for t in _RTYPES[term.name]]
        keys = list(dict.fromkeys(keys))
        answers = await asyncio.gather(*(self.resolver.query(*k) for k in keys))
        return dict(zip(keys, answers, strict=True))

    async def _term(self, domain: str, term: Term, answers, path, passing) -> TermNode:
        if not term.is_lookup:
            return TermNode(term)
        self.lookups += 1
        if self.alone and self.lookups >= MAX_LOOKUPS:
            raise _TooMany  # with the include term itself it would break the limit anywhere
        first, voids_before = self.lookups, self.voids
        where = f"{term.raw} in the record of {domain}"
        if self.lookups == MAX_LOOKUPS + 1:
            self.problem(
                Status.FAIL,
                f"Too many DNS lookups: {where} is lookup {self.lookups}; RFC 7208 "
                f"allows {MAX_LOOKUPS} (receivers return permerror).",
                limit=True,
            )
        target = (term.target or domain).rstrip(".")
        child, note = None, ""
        if self.lookups > MAX_FOLLOWED:
            note = f"not resolved: over {MAX_FOLLOWED} lookups already"
        elif term.name == "ptr":
            self.problem(
                Status.WARNING,
                f"{where}: ptr is deprecated (RFC 7208 5.5), slow, and ignored "
                "by some receivers. List the addresses with ip4:/ip6: instead.",
            )
            note = "deprecated"
        elif term.has_macro:
            note = "target depends on the sender (macro): not followed"
        elif term.name in ("include", "redirect"):
            child, note = await self._follow(term, target, answers[(target, "TXT")], path, passing)
        elif term.name == "mx":
            note = await self._mx(where, target, answers[(target, "MX")])
        else:
            note = self._addresses(where, target, [answers[(target, t)] for t in _RTYPES[term.name]])
        return TermNode(term, self.lookups - first + 1, first, self.voids - voids_before, child, note)

    async def _follow(self, term: Term, target: str, answer: Answer, path, passing):
        name = target.lower()
        self.targets.add(name)
        if term.name == "include" and passing and term.qualifier == "+" and name == self.include:
            self.include_found = True
        if name in path:
            self.problem(
                Status.FAIL,
                f"Include loop: {term.raw} in the record of {path[-1]} leads back to "
                f"{target} (receivers return permerror).",
            )
            return None, "loop"
        self._void(answer, term, path[-1])
        child_passing = passing and (term.name == "redirect" or term.qualifier == "+")
        if self.memo is not None and not self.alone and answer.records and self.lookups < MAX_LOOKUPS:
            sub = await self._subtree(target, term.name, child_passing, answer)
            if sub.fits(self.lookups, self.voids, path):
                node = sub.at(self.lookups)
                self.lookups += sub.lookups
                self.voids += sub.voids
                self.problems += sub.problems
                self.include_found = self.include_found or sub.include_found
                return node, ""
        child = await self.record(target, term.name, (*path, name), child_passing, answer)
        return child, ""

    async def _subtree(self, target: str, via: str, passing: bool, answer: Answer) -> _Subtree:
        """``target`` walked alone: from the memo while its answers are unchanged (asked again: in
        a run they are the resolver's cached answers, no round trip), else walked now."""
        key = (target.lower(), via, passing, self.include)
        known = self.memo.get(key)
        if isinstance(known, asyncio.Future):  # another domain of the run is walking it: its walk
            await asyncio.wait((known,))
            known = None if known.cancelled() else known.result()
        if known is not None and known.answer == answer:
            for name, rtype, dep in known.deps:
                if await self.resolver.query(name, rtype) != dep:
                    break
            else:
                return known
        walking = asyncio.get_running_loop().create_future()
        self.memo.put(key, walking)
        recorder = _Recorder(self.resolver)
        walker = _Walker(recorder, self.include, alone=True)
        sub = None
        try:
            node = await walker.record(target, via, (target.lower(),), passing, answer)
        except _TooMany:
            sub = _Subtree(answer, recorder.deps)  # the same answers end the same way
        else:
            sub = _Subtree(
                answer,
                recorder.deps,
                node,
                walker.lookups,
                walker.voids,
                tuple(walker.problems),
                walker.include_found,
                frozenset(walker.targets),
            )
        finally:
            kept = sub if sub is not None and recorder.stable else None
            walking.set_result(kept)  # None: the domains waiting for it walk it themselves
            if kept is not None:
                self.memo.put(key, kept)
            else:
                self.memo.drop(key, walking)
        return sub

    async def _mx(self, where: str, target: str, answer: Answer) -> str:
        if not self._answered(where, answer) or self._void(answer, None, where):
            return "no MX" if answer.answered else "DNS did not answer"
        exchanges = [r.split()[-1].rstrip(".") for r in answer.records]
        if len(exchanges) > MAX_MX:
            self.problem(
                Status.FAIL,
                f"{where}: {target} has {len(exchanges)} MX records; RFC 7208 allows "
                f"{MAX_MX} (receivers return permerror).",
            )
        addresses = await asyncio.gather(
            *(self.resolver.query(x, t) for x in exchanges[:MAX_MX] if x for t in ("A", "AAAA"))
        )
        notes = []
        for index, exchange in enumerate(x for x in exchanges[:MAX_MX] if x):
            pair = addresses[2 * index : 2 * index + 2]
            notes.append(self._addresses(f"{where} (MX {exchange})", exchange, pair) or exchange)
        return ", ".join(notes)

    def _addresses(self, where: str, target: str, answers: list[Answer]) -> str:
        if not all(self._answered(where, a) for a in answers):
            return "DNS did not answer"
        if any(a.records for a in answers):
            return ""
        self.voids += 1
        self._check_voids(where, target)
        return "no address"

    def _answered(self, where: str, answer: Answer) -> bool:
        if not answer.answered:
            self.problem(
                Status.UNKNOWN,
                f"DNS did not answer for {answer.rtype} {answer.name} "
                f"({answer.status.value}), needed by {where}.",
            )
        return answer.answered

    def _void(self, answer: Answer, term: Term | None, where: str) -> bool:
        if not answer.answered or answer.records:
            return False
        self.voids += 1
        self._check_voids(f"{term.raw} in the record of {where}" if term else where, answer.name)
        return True

    def _check_voids(self, where: str, target: str) -> None:
        if self.alone and self.voids > MAX_VOIDS:
            raise _TooMany
        if self.voids == MAX_VOIDS + 1:
            self.problem(
                Status.FAIL,
                f"Too many void lookups: {where} is the {self.voids}rd lookup that "
                f"finds nothing ({target}); RFC 7208 allows {MAX_VOIDS} "
                "(receivers return permerror).",
                limit=True,
            )


_RTYPES = {"include": ("TXT",), "redirect": ("TXT",), "a": ("A", "AAAA"), "mx": ("MX",), "exists": ("A",)}


async def walk(domain: str, resolver: Resolver, include: str, memo: Memo | None = None) -> SpfTree:
    """Walk the SPF tree of ``domain``; ``include`` is the provider include looked for in it;
    ``memo`` the subtrees its run walked already (the tree is the same with or without)."""
    walker = _Walker(resolver, include.lower().rstrip("."), memo=memo)
    return await _walked(walker, domain, await resolver.query(domain, "TXT"))


async def walk_record(
    domain: str, text: str, resolver: Resolver, include: str, memo: Memo | None = None
) -> SpfTree:
    """Walk ``text`` as if it were the SPF record published at ``domain`` (a record to suggest)."""
    walker = _Walker(resolver, include.lower().rstrip("."), memo=memo)
    return await _walked(walker, domain, Answer(domain, "TXT", DnsStatus.OK, (text,), ttl=0))


async def _walked(walker: _Walker, domain: str, answer: Answer) -> SpfTree:
    """The tree of ``answer`` (the TXT records of ``domain``), its questions asked ahead by ``_warm``."""
    warming = asyncio.ensure_future(
        _warm(walker.resolver, domain, answer, {domain.lower()}, [MAX_FOLLOWED], walker.memo, root=True)
    )
    try:
        root = await walker.record(domain, "", (domain.lower(),), True, answer)
    finally:
        if not warming.done():
            warming.cancel()  # what it still asks, the walk did not need
        await asyncio.wait((warming,))
    return SpfTree(root, walker.lookups, walker.voids, tuple(walker.problems), walker.include_found)


async def ask_ahead(name: str, resolver: Resolver) -> None:
    """Ask the SPF record of ``name`` and every question it leads to, each as soon as the answer
    it depends on is in: a run asks its provider's include so, before any of its domains names it
    (their walks then find the answers in the resolver's cache, or on their way)."""
    answer = await resolver.query(name, "TXT")
    await _warm(resolver, name, answer, {name.lower()}, [MAX_FOLLOWED], None)


async def _warm(
    resolver: Resolver,
    domain: str,
    answer: Answer,
    seen: set[str],
    budget: list[int],
    memo: Memo | None,
    root: bool = False,
) -> None:
    """Ask every question the SPF record in ``answer`` leads to, each as soon as the answer it
    depends on is in: the records of all its includes at once, then what each leads to as soon as
    it is in (``_ask``): their records, MX hosts' addresses.

    The walk, which counts in evaluation order, then finds them answered or on their way (the
    resolver shares a question in flight). ``seen`` are the records asked already, ``budget``
    the lookups still allowed for the whole tree (``MAX_FOLLOWED``, as the walk follows); the
    subtrees the run's ``memo`` holds were asked by the walk that made them. Of the ``root``
    record, only what leads further is asked here: the walk asks its own terms at once.
    """
    records = select(answer.records) if answer.answered else []
    if len(records) != 1:
        return
    try:
        record = parse(records[0])
    except SpfSyntaxError:
        return
    keys = []
    deeper = False  # an include before: the walk comes to the next terms only after its subtree
    for term in _Walker._order(record):
        if not term.is_lookup or term.has_macro or term.name == "ptr":
            continue
        if budget[0] <= 0:
            break
        budget[0] -= 1
        target = (term.target or domain).rstrip(".")
        if term.name in ("include", "redirect"):
            if target.lower() in seen:
                continue
            seen.add(target.lower())
            if root and memo is not None and target.lower() in memo:
                continue
            deeper = True
        elif root and not (term.name == "mx" and deeper):
            continue  # the walk asks it at once, and its hosts as soon as it comes to it
        keys += [(target, rtype) for rtype in _RTYPES[term.name]]
    await asyncio.gather(*(_ask(resolver, key, seen, budget, memo) for key in dict.fromkeys(keys)))


async def _ask(
    resolver: Resolver, key: tuple[str, str], seen: set[str], budget: list[int], memo: Memo | None
) -> None:
    """Ask ``key`` for ``_warm``, then what its answer leads to, as soon as it is in (not once its
    siblings' are: the next question of a chain goes out in the turn of the loop its answer is read)."""
    name, rtype = key
    found = await resolver.query(name, rtype)
    if rtype == "TXT" and found.records and not (memo is not None and name.lower() in memo):
        await _warm(resolver, name, found, seen, budget, memo)
    elif rtype == "MX":
        exchanges = [r.split()[-1].rstrip(".") for r in found.records][:MAX_MX]
        await asyncio.gather(*(resolver.query(x, t) for x in exchanges if x for t in ("A", "AAAA")))


def _render(node: RecordNode, depth: int) -> list[str]:
    pad = "  " * depth
    text = f' "{node.text}"' if node.text is not None else ""
    suffix = f"  ({node.error})" if node.error else f"  [{_count(node.lookups)}]"
    lines = [f"{pad}{node.domain}{text}{suffix}"]
    for item in node.terms:
        facts = []
        if item.lookups:
            span = f"#{item.first}" if item.lookups == 1 else f"#{item.first}-{item.first + item.lookups - 1}"
            facts.append(f"{_count(item.lookups)} {span}")
        if item.voids:
            facts.append(f"{item.voids} void")
        if item.note:
            facts.append(item.note)
        lines.append(f"{pad}  {item.term.raw}" + (f"  [{'; '.join(facts)}]" if facts else ""))
        if item.child is not None:
            lines += _render(item.child, depth + 2)
    return lines


def _count(n: int) -> str:
    return f"{n} lookup" + ("" if n == 1 else "s")
