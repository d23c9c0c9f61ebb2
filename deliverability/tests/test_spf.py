"""The SPF check against a real NSD: records, tree and limits, the provider include, fixes, evaluations."""

from __future__ import annotations

import dns.resolver
import pytest
import spf as pyspf

from deliverability import spf
from deliverability.dns import DnsResolver, Nameserver
from deliverability.findings import Check, Status
from deliverability.spf_record import SpfSyntaxError, merge_records, merged_record, parse, txt_line
from deliverability.spf_tree import walk_record
from deliverability.testing.pyspf_oracle import pyspf_check

PROVIDER = "_spf.provider.test"
LONG = "v=spf1 include:_spf.provider.test " + " ".join(f"ip4:198.51.100.{i}" for i in range(1, 31)) + " -all"


def _txt(owner: str, text: str) -> str:
    """A zone line; text over 255 characters is split into strings as a DNS hosting panel would."""
    chunks = [text[i : i + 200] for i in range(0, len(text), 200)]
    return f"{owner} IN TXT " + " ".join(f'"{c}"' for c in chunks)


ZONES = {
    "provider.test": "\n".join(
        [
            '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:1::/48 ~all"',
        ]
    ),
    "example.net": "\n".join(
        [
            '_spf IN TXT "v=spf1 ip4:198.51.100.0/24 include:_spf.provider.test ~all"',
            '_spf2 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
        ]
    ),
    "example.test": "\n".join(
        [
            'ok IN TXT "v=spf1 include:_spf.provider.test -all"',
            'ok IN TXT "google-site-verification=abc"',
            'soft IN TXT "v=spf1 include:_spf.provider.test ~all"',
            'neutral IN TXT "v=spf1 include:_spf.provider.test ?all"',
            'none IN TXT "google-site-verification=abc"',
            'multi IN TXT "v=spf1 mx -all"',
            'multi IN TXT "v=spf1 ip4:198.51.100.7 ~all"',
            "multi IN MX 10 mx.example.test.",
            "mx IN A 192.0.2.200",
            'syntax IN TXT "v=spf1 include:_spf.provider.test ip4:192.0.2.300 -all"',
            'seed IN TXT "v=spf1 include:_spf.google.com ~all"',
            'nested IN TXT "v=spf1 include:_spf.example.net -all"',
            'many IN TXT "v=spf1 include:_spf.provider.test a mx include:five.example.test '
            'include:three.example.test -all"',
            "many IN A 192.0.2.201",
            "many IN MX 10 mx.example.test.",
            'five IN TXT "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test a:h4.example.test '
            'a:h5.example.test ~all"',
            'three IN TXT "v=spf1 a:h1.example.test a:h2.example.test a:h3.example.test ~all"',
            *(f"h{i} IN A 203.0.113.{i}" for i in range(1, 6)),
            'wide IN TXT "v=spf1 ' + "include:five.example.test " * 8 + '-all"',
            'nine IN TXT "v=spf1 include:_spf.provider.test include:five.example.test a:h1.example.test '
            'a:h2.example.test -all"',
            'voids IN TXT "v=spf1 include:_spf.provider.test a:gone1.example.test mx:h1.example.test '
            'a:gone3.example.test -all"',
            'loop IN TXT "v=spf1 include:_spf.provider.test include:loopa.example.test -all"',
            'loopa IN TXT "v=spf1 include:loopb.example.test ~all"',
            'loopb IN TXT "v=spf1 include:loopa.example.test ~all"',
            'redir IN TXT "v=spf1 redirect=_spf.example.net"',
            'redir2 IN TXT "v=spf1 redirect=_spf2.example.net"',
            'ptr IN TXT "v=spf1 include:_spf.provider.test ptr -all"',
            'plusall IN TXT "v=spf1 include:_spf.provider.test +all"',
            'after IN TXT "v=spf1 include:_spf.provider.test -all mx"',
            'noall IN TXT "v=spf1 include:_spf.provider.test"',
            'noinc IN TXT "v=spf1 include:_spf.provider.test include:nospf.example.test -all"',
            'nospf IN TXT "not an spf record"',
            'incbroken IN TXT "v=spf1 include:_spf.provider.test include:_spf.broken.test -all"',
            _txt("long", LONG),
            'ten IN TXT "v=spf1 a mx ' + " ".join(f"a:t{i}.example.test" for i in range(1, 9)) + ' ~all"',
            "ten IN A 192.0.2.210",
            "ten IN MX 10 mx.example.test.",
            *(f"t{i} IN A 198.51.100.{10 + i}" for i in range(1, 9)),
            "t8 IN AAAA 2001:db8:8::1",
            'wrap IN TXT "v=spf1 include:five.example.test ~all"',
            'dup IN TXT "v=spf1 include:wrap.example.test include:five.example.test -all"',
            'huge IN TXT "v=spf1 include:wide.example.test -all"',
        ]
    ),
}
BROKEN_ZONES = ("broken.test",)


def check(run, resolver, domain, ips=(), include=PROVIDER):
    finding, evaluations = run(spf.check(domain, resolver, include, ips))
    assert finding.check is Check.SPF
    return finding, {e.ip: e for e in evaluations}


def test_valid_record_passes_with_evaluations(run, resolver):
    finding, evs = check(run, resolver, "ok.example.test", ["192.0.2.10", "2001:db8:1::5"])
    assert finding.status is Status.PASS, finding
    assert finding.fix is None
    assert "1 of 10" in finding.summary
    assert {ip: e.result for ip, e in evs.items()} == {"192.0.2.10": "pass", "2001:db8:1::5": "pass"}
    assert "matched include:_spf.provider.test > ip4:192.0.2.0/25" in evs["192.0.2.10"].explanation


@pytest.mark.parametrize(
    "domain, ip, result, status",
    [
        ("ok.example.test", "203.0.113.5", "fail", Status.FAIL),
        ("soft.example.test", "203.0.113.5", "softfail", Status.FAIL),
        ("neutral.example.test", "203.0.113.5", "neutral", Status.WARNING),
        ("none.example.test", "203.0.113.5", "none", Status.FAIL),
        ("syntax.example.test", "192.0.2.10", "permerror", Status.FAIL),
        ("x.broken.test", "192.0.2.10", "temperror", Status.UNKNOWN),
    ],
)
def test_evaluations_and_their_status(run, resolver, domain, ip, result, status):
    finding, evs = check(run, resolver, domain, [ip])
    assert evs[ip].result == result
    assert finding.status is status


def test_softfail_names_the_ip_and_the_mechanism(run, resolver):
    finding, evs = check(run, resolver, "soft.example.test", ["203.0.113.5"])
    assert "203.0.113.5 is not authorized" in finding.summary
    assert "matched ~all" in evs["203.0.113.5"].explanation


def test_no_record_fails_with_the_record_to_create(run, resolver):
    finding, _ = check(run, resolver, "none.example.test")
    assert finding.status is Status.FAIL
    assert finding.fix == 'none.example.test. IN TXT "v=spf1 include:_spf.provider.test ~all"'
    assert "no SPF record" in finding.summary


def test_default_flectra_record_to_create(run, resolver):
    finding, _ = check(run, resolver, "none.example.test", include="_spf.flectra.com")
    assert finding.fix == 'none.example.test. IN TXT "v=spf1 include:_spf.flectra.com ~all"'


def test_multiple_records_fail_with_the_merged_record(run, resolver):
    finding, _ = check(run, resolver, "multi.example.test")
    assert finding.status is Status.FAIL
    assert "2 SPF records: merge them" in finding.summary
    assert finding.fix == (
        'multi.example.test. IN TXT "v=spf1 include:_spf.provider.test mx ip4:198.51.100.7 -all"'
    )


def test_syntax_error_gives_its_position(run, resolver):
    finding, _ = check(run, resolver, "syntax.example.test")
    assert finding.status is Status.FAIL
    assert "syntax error at character 35: 'ip4:192.0.2.300'" in finding.summary
    pointer = "v=spf1 include:_spf.provider.test ip4:192.0.2.300 -all\n" + " " * 34 + "^"
    assert pointer in "\n".join(finding.details)
    assert finding.fix is None


def test_missing_include_fix_is_the_seed_example(run, resolver):
    finding, _ = check(run, resolver, "seed.example.test", include="_spf.flectra.com")
    assert finding.status is Status.FAIL
    assert "does not include _spf.flectra.com" in finding.summary
    assert finding.fix == (
        'seed.example.test. IN TXT "v=spf1 include:_spf.flectra.com include:_spf.google.com ~all"'
    )


def test_nested_include_is_found(run, resolver):
    finding, evs = check(run, resolver, "nested.example.test", ["192.0.2.10"])
    assert finding.status is Status.PASS, finding.details
    assert evs["192.0.2.10"].result == "pass"
    tree = "\n".join(finding.details)
    assert "include:_spf.example.net" in tree and "    include:_spf.provider.test" in tree


def test_eleven_lookups_name_the_term_and_keep_the_tree(run, resolver):
    analysis = run(spf.analyze("many.example.test", resolver, PROVIDER))
    finding, tree = analysis.finding, analysis.tree
    assert finding.status is Status.FAIL
    assert tree.lookups == 13
    assert finding.summary.startswith(
        "Too many DNS lookups: a:h1.example.test in the record of three.example.test is lookup 11"
    )
    counts = {t.term.raw: (t.lookups, t.first) for t in tree.root.terms}
    assert counts["include:five.example.test"] == (6, 4)
    assert counts["include:three.example.test"] == (4, 10)
    assert "include:three.example.test  [4 lookups #10-13]" in "\n".join(finding.details)


def test_a_wide_tree_is_bounded(run, resolver):
    analysis = run(spf.analyze("wide.example.test", resolver, PROVIDER))
    assert analysis.finding.status is Status.FAIL
    assert analysis.tree.lookups == 33  # five includes walked (6 lookups each), three only counted
    notes = [t.note for t in analysis.tree.root.terms if t.note]
    assert notes == ["not resolved: over 30 lookups already"] * 3


def test_nine_lookups_is_a_warning(run, resolver):
    finding, _ = check(run, resolver, "nine.example.test")
    assert finding.status is Status.WARNING
    assert "9 of the 10" in finding.summary


def test_void_lookups_over_two(run, resolver):
    analysis = run(spf.analyze("voids.example.test", resolver, PROVIDER))
    assert analysis.finding.status is Status.FAIL
    assert analysis.tree.voids == 3
    summary = analysis.finding.summary
    assert "a:gone3.example.test in the record of voids.example.test is the 3rd lookup" in summary


def test_include_loop(run, resolver):
    finding, evs = check(run, resolver, "loop.example.test", ["203.0.113.9"])
    assert finding.status is Status.FAIL
    assert "Include loop: include:loopa.example.test in the record of loopb.example.test" in finding.summary
    assert evs["203.0.113.9"].result == "permerror"


def test_redirect_is_followed(run, resolver):
    finding, evs = check(run, resolver, "redir.example.test", ["192.0.2.10", "203.0.113.5"])
    assert finding.status is Status.FAIL  # 203.0.113.5 softfails; the record itself is fine
    assert "include" not in finding.summary
    assert evs["192.0.2.10"].result == "pass" and evs["203.0.113.5"].result == "softfail"


def test_redirect_only_record_keeps_the_redirect_after_the_include(run, resolver):
    finding, _ = check(run, resolver, "redir2.example.test")
    assert finding.status is Status.FAIL
    assert "keep the redirect after the include" in finding.summary
    assert finding.fix == (
        'redir2.example.test. IN TXT "v=spf1 include:_spf.provider.test redirect=_spf2.example.net"'
    )


def test_ptr_is_a_warning(run, resolver):
    finding, _ = check(run, resolver, "ptr.example.test")
    assert finding.status is Status.WARNING
    assert "ptr is deprecated" in finding.summary


def test_plus_all_fails_and_fix_uses_softfail(run, resolver):
    finding, _ = check(run, resolver, "plusall.example.test")
    assert finding.status is Status.FAIL
    assert "anyone on the Internet may send" in finding.summary
    assert finding.fix == 'plusall.example.test. IN TXT "v=spf1 include:_spf.provider.test ~all"'


def test_question_all_is_a_warning(run, resolver):
    finding, _ = check(run, resolver, "neutral.example.test")
    assert finding.status is Status.WARNING
    assert "?all" in finding.summary


def test_no_all_is_a_warning_and_fix_adds_softfail(run, resolver):
    finding, _ = check(run, resolver, "noall.example.test")
    assert finding.status is Status.WARNING
    assert finding.fix == 'noall.example.test. IN TXT "v=spf1 include:_spf.provider.test ~all"'


def test_text_after_all_is_a_warning(run, resolver):
    finding, _ = check(run, resolver, "after.example.test")
    assert finding.status is Status.WARNING
    assert "mx comes after -all and is ignored" in finding.summary
    assert "mx  [ignored: after all]" in "\n".join(finding.details)


def test_long_record_is_a_warning_and_joined_from_its_strings(run, resolver):
    analysis = run(spf.analyze("long.example.test", resolver, PROVIDER))
    assert analysis.record == LONG
    assert analysis.finding.status is Status.WARNING
    assert f"{len(LONG)} characters long" in analysis.finding.summary


def test_include_without_spf_record_fails(run, resolver):
    finding, _ = check(run, resolver, "noinc.example.test")
    assert finding.status is Status.FAIL
    assert "include:nospf.example.test has no SPF record" in finding.summary


def test_include_that_does_not_answer_is_unknown(run, resolver):
    finding, evs = check(run, resolver, "incbroken.example.test", ["203.0.113.5"])
    assert finding.status is Status.UNKNOWN
    assert "DNS did not answer for the TXT records of _spf.broken.test" in finding.summary
    assert evs["203.0.113.5"].result == "temperror"


def test_servfail_zone_is_unknown(run, resolver):
    finding, _ = check(run, resolver, "x.broken.test")
    assert finding.status is Status.UNKNOWN
    assert "servfail" in finding.summary and finding.fix is None


def test_silent_nameserver_is_unknown_and_temperror(run, silent_resolver):
    finding, evs = check(run, silent_resolver, "ok.example.test", ["192.0.2.10"])
    assert finding.status is Status.UNKNOWN
    assert "timeout" in finding.summary
    assert evs["192.0.2.10"].result == "temperror"


def test_parse_and_merge_are_pure():
    assert merged_record("v=spf1 include:_spf.google.com ~all", "_spf.flectra.com") == (
        "v=spf1 include:_spf.flectra.com include:_spf.google.com ~all"
    )
    # an unknown modifier twice is a permerror for pyspf (found by its fuzzing): kept once, the first
    assert merge_records(["v=spf1 a mod=1 -all", "v=spf1 MOD=2 mx"], "_spf.flectra.com") == (
        "v=spf1 include:_spf.flectra.com a mod=1 mx -all"
    )
    line = txt_line("long.example.test", LONG)
    assert line.count('" "') == 2  # three strings of at most 255 characters, cut after a space
    assert "".join(line.split(" IN TXT ", 1)[1][1:-1].split('" "')) == LONG
    with pytest.raises(SpfSyntaxError) as error:
        parse("v=spf1 mx foo:bar -all")
    assert error.value.position == 10 and "unknown mechanism" in error.value.message


@pytest.mark.filterwarnings("ignore:please use dns.resolver.resolve:DeprecationWarning")
@pytest.mark.parametrize(
    "domain, ip",
    [
        ("ok.example.test", "192.0.2.10"),
        ("ok.example.test", "203.0.113.5"),
        ("soft.example.test", "203.0.113.5"),
        ("neutral.example.test", "203.0.113.5"),
        ("nested.example.test", "192.0.2.10"),
        ("redir.example.test", "198.51.100.3"),
        ("many.example.test", "203.0.113.200"),
        ("loop.example.test", "203.0.113.9"),
        ("syntax.example.test", "192.0.2.10"),
    ],
)
def test_pyspf_agrees(run, resolver, nsd, domain, ip):
    """pyspf as a second opinion, talking to the same NSD."""
    ours = run(spf.evaluate(ip, domain, resolver)).result
    stub = dns.resolver.Resolver(configure=False)
    stub.nameservers, stub.port = [nsd.host], nsd.port
    saved, dns.resolver.default_resolver = dns.resolver.default_resolver, stub
    try:
        theirs, _explanation = pyspf.check2(i=ip, s=f"postmaster@{domain}", h=domain)
    finally:
        dns.resolver.default_resolver = saved
    assert ours == theirs


def test_resolver_cache_is_shared_with_evaluations(nsd, run):
    resolver = DnsResolver([Nameserver(nsd.host, nsd.port)], timeout=1.0, lifetime=3.0)
    check(run, resolver, "ok.example.test", ["192.0.2.10", "203.0.113.5"])
    sent = resolver.stats.sent
    check(run, resolver, "ok.example.test", ["192.0.2.10", "203.0.113.5"])
    assert resolver.stats.sent == sent


def _walk_fix(run, resolver, finding):
    """The suggested record walked as it would be once published at its owner."""
    owner, _, _ = finding.fix.partition(". IN TXT ")
    text = "".join(part for part in finding.fix.partition(" IN TXT ")[2].strip('"').split('" "'))
    return run(walk_record(owner, text, resolver, PROVIDER)), text


# every owner of the zones above whose check suggests a record (seed.example.test too, but its
# include:_spf.google.com is not served here: pyspf can only say temperror about it)
SUGGESTED = ["after", "dup", "five", "multi", "noall", "none", "nospf", "plusall", "redir2", "ten", "three",
             "voids", "wide", "wrap", "absent"]  # fmt: skip


@pytest.mark.parametrize("owner", SUGGESTED)
def test_every_suggested_record_keeps_the_limits_for_pyspf(run, resolver, nsd, owner):
    """pyspf, an independent implementation, evaluates the suggestion as the owner's record against
    the same NSD, for an address no term authorizes (every term evaluated): no error, within the
    limits, and the same lookup counts as our walker."""
    domain = f"{owner}.example.test"
    finding, _ = check(run, resolver, domain)
    assert finding.fix is not None, finding
    tree, text = _walk_fix(run, resolver, finding)
    theirs = pyspf_check(domain, nsd.host, nsd.port, record=text)
    assert theirs.within_limits, (text, theirs)
    assert theirs.lookups <= 10 and theirs.voids <= 2, (text, theirs)
    assert (theirs.lookups, theirs.voids) == (tree.lookups, tree.voids), text


def test_a_merge_over_the_limit_replaces_a_terms_by_their_addresses(run, resolver):
    finding, _ = check(run, resolver, "ten.example.test")
    assert finding.status is Status.FAIL
    tree, text = _walk_fix(run, resolver, finding)
    assert tree.lookups <= 10 and not [p for p in tree.problems if p.status is Status.FAIL]
    assert tree.include_found
    assert "a:t8.example.test" not in text
    assert "ip4:198.51.100.18 ip6:2001:db8:8::1" in text and "a:t7.example.test" in text
    assert any(
        "a:t8.example.test is replaced by the addresses it resolves to today" in d
        and "update the record whenever those addresses change" in d
        for d in finding.details
    )


def test_a_merge_over_the_limit_drops_an_include_another_already_reaches(run, resolver):
    finding, _ = check(run, resolver, "dup.example.test")
    tree, text = _walk_fix(run, resolver, finding)
    assert text == "v=spf1 include:_spf.provider.test include:wrap.example.test -all"
    assert tree.lookups == 8
    assert (
        "include:five.example.test is left out of the record below: "
        "include:wrap.example.test already includes it." in finding.details
    )


def test_no_record_is_suggested_when_none_fits(run, resolver):
    finding, _ = check(run, resolver, "huge.example.test")
    assert finding.status is Status.FAIL and finding.fix is None
    assert any(
        d.startswith("No record can be suggested: with _spf.provider.test the record needs")
        for d in finding.details
    )
