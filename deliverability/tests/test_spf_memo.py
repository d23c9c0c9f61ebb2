"""The SPF tree reuses a subtree its run walked (``spf_tree.Memo``) only where a walk in place gives
the same tree (real NSD)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from deliverability import spf_tree
from deliverability.dns import DnsResolver, Nameserver
from deliverability.findings import Status
from deliverability.testing.nsd import NsdServer

PROVIDER = "_spf.provider.test"
PROVIDER_ZONE = [
    '_spf IN TXT "v=spf1 include:_n1._spf.provider.test include:_n2._spf.provider.test ~all"',
    '_n1._spf IN TXT "v=spf1 ip4:192.0.2.0/26 ~all"',
    '_n2._spf IN TXT "v=spf1 a:gone.provider.test include:_n3._spf.provider.test ~all"',
    '_n3._spf IN TXT "v=spf1 ip4:192.0.2.64/26 ~all"',
]
ZONES = {
    "provider.test": "\n".join(PROVIDER_ZONE),
    "example.test": "\n".join(
        [
            'plain IN TXT "v=spf1 include:_spf.provider.test -all"',
            'late IN TXT "v=spf1 a mx include:h1.example.test include:_spf.provider.test -all"',
            'over IN TXT "v=spf1 a mx include:five.example.test include:_spf.provider.test -all"',
            'voids IN TXT "v=spf1 a:gone1.example.test a:gone2.example.test include:_spf.provider.test -all"',
            'wide IN TXT "v=spf1 ' + "include:three.example.test " * 4 + '-all"',
            'twice IN TXT "v=spf1 include:_spf.provider.test ?include:_spf.provider.test -all"',
            'redir IN TXT "v=spf1 include:three.example.test redirect=_spf.provider.test"',
            'loop IN TXT "v=spf1 include:mid.example.test -all"',
            'mid IN TXT "v=spf1 include:loop.example.test ~all"',
            'other IN TXT "v=spf1 include:mid.example.test -all"',
            'five IN TXT "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test a:h4.example.test '
            'a:h5.example.test ~all"',
            'three IN TXT "v=spf1 a:h1.example.test a:h2.example.test mx:h3.example.test ~all"',
            'h1 IN TXT "v=spf1 ip4:203.0.113.9 ~all"',
            *(f"h{i} IN A 203.0.113.{i}" for i in range(1, 6)),
            "h3 IN MX 10 h4.example.test.",
            "@ IN A 198.51.100.1",
            "@ IN MX 10 h1.example.test.",
            *(f"{name} IN A 198.51.100.2" for name in ("late", "over")),
            *(f"{name} IN MX 10 h2.example.test." for name in ("late", "over")),
        ]
    ),
}
DOMAINS = [
    f"{name}.example.test"
    for name in ("plain", "late", "over", "voids", "wide", "twice", "redir", "loop", "other")
]


@pytest.fixture
def fresh_memo():
    return spf_tree.Memo()


def walk(run, resolver, domain, memo):
    return run(spf_tree.walk(domain, resolver, PROVIDER, memo))


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_reused_subtree_gives_the_tree_of_a_walk_in_place(run, resolver, fresh_memo, domain):
    in_place = walk(run, resolver, domain, None)  # no memo: every include walked in place
    for other in (*DOMAINS, *DOMAINS):  # fills the memo, then reuses it
        walk(run, resolver, other, fresh_memo)
    reused = walk(run, resolver, domain, fresh_memo)
    assert reused == in_place
    assert reused.render() == in_place.render()


def test_numbers_and_limits_are_those_of_the_whole_tree(run, resolver, fresh_memo, monkeypatch):
    for domain in DOMAINS:
        walk(run, resolver, domain, fresh_memo)
    with monkeypatch.context() as memo_only:
        memo_only.setattr(spf_tree, "_Recorder", None)  # walking a subtree alone again would fail
        late = walk(run, resolver, "late.example.test", fresh_memo)  # reused after 4 lookups
        twice = walk(run, resolver, "twice.example.test", fresh_memo)  # reused after 0, then after 5
    assert (late.lookups, late.voids, late.status) == (8, 1, Status.PASS)
    rendered = late.render()
    assert "  include:_spf.provider.test  [5 lookups #4-8; 1 void]" in rendered
    assert "      include:_n2._spf.provider.test  [3 lookups #6-8; 1 void]" in rendered
    assert (twice.lookups, twice.voids, twice.include_found) == (10, 2, True)
    assert "  ?include:_spf.provider.test  [5 lookups #6-10; 1 void]" in twice.render()
    over = walk(run, resolver, "over.example.test", fresh_memo)  # 8 lookups before it: walked in place
    assert over.lookups == 13
    assert [p.message for p in over.problems] == [
        "Too many DNS lookups: include:_n2._spf.provider.test in the record of _spf.provider.test is "
        "lookup 11; RFC 7208 allows 10 (receivers return permerror)."
    ]
    voids = walk(run, resolver, "voids.example.test", fresh_memo)  # 2 voids before it: walked in place
    assert voids.voids == 3
    assert [p.message for p in voids.problems] == [
        "Too many void lookups: a:gone.provider.test in the record of _n2._spf.provider.test is the 3rd "
        "lookup that finds nothing (gone.provider.test); RFC 7208 allows 2 (receivers return permerror)."
    ]


def test_a_loop_through_the_path_is_found_after_reuse(run, resolver, fresh_memo):
    other = walk(run, resolver, "other.example.test", fresh_memo)  # mid walked alone: its loop is back to mid
    assert [p.message for p in other.problems if "loop" in p.message] == [
        "Include loop: include:mid.example.test in the record of loop.example.test leads back to "
        "mid.example.test (receivers return permerror)."
    ]
    loop = walk(run, resolver, "loop.example.test", fresh_memo)  # from loop, mid's subtree leads back to loop
    assert [p.message for p in loop.problems if "loop" in p.message] == [
        "Include loop: include:loop.example.test in the record of mid.example.test leads back to "
        "loop.example.test (receivers return permerror)."
    ]


def test_changed_answers_are_walked_again(run, fresh_memo, nsd):
    first = DnsResolver([Nameserver(nsd.host, nsd.port)])
    before = walk(run, first, "plain.example.test", fresh_memo)
    changed = dict(
        ZONES, **{"provider.test": "\n".join([*PROVIDER_ZONE[:3], '_n3._spf IN TXT "v=spf1 ptr ~all"'])}
    )
    with NsdServer(changed) as server:
        changed_resolver = DnsResolver([Nameserver(server.host, server.port)])
        after = walk(run, changed_resolver, "plain.example.test", fresh_memo)
    assert not any("ptr" in p.message for p in before.problems)
    assert any("ptr is deprecated" in p.message for p in after.problems)


def test_the_domains_of_a_run_walk_a_shared_include_once(run, resolver, fresh_memo, monkeypatch):
    walked, subtree = [], spf_tree._Subtree

    def noted(answer, *args):
        walked.append(answer.name)
        return subtree(answer, *args)

    monkeypatch.setattr(spf_tree, "_Subtree", noted)
    domains = ("plain.example.test", "late.example.test", "plain.example.test")

    async def together():
        return await asyncio.gather(*(spf_tree.walk(d, resolver, PROVIDER, fresh_memo) for d in domains))

    trees = run(together())
    assert walked.count(PROVIDER) == 1, "walked for the first domain, waited for by the others"
    assert trees == [walk(run, resolver, domain, None) for domain in domains]


def test_asking_ahead_follows_each_answer_without_waiting_for_its_siblings(resolver, run):
    """The next question of a chain goes out as soon as its answer is in: a slow sibling include
    (``_n1``, answered once ``_n3`` is asked, or after 2 s) does not hold up the questions that
    ``_n2``'s record leads to."""
    events = []
    deeper = []  # set once _n3 is asked

    class Slow:
        async def query(self, name, rtype):
            events.append(("asked", name))
            if name.startswith("_n3."):
                deeper[0].set()
            if name.startswith("_n1."):
                deeper.append(asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(deeper[0].wait(), 2)
            answer = await resolver.query(name, rtype)
            events.append(("answered", name))
            return answer

    run(spf_tree.ask_ahead(PROVIDER, Slow()))
    assert events.index(("asked", "_n3._spf.provider.test")) < events.index(
        ("answered", "_n1._spf.provider.test")
    )
    assert ("asked", "gone.provider.test") in events
