"""MX against a real NSD: hosts by preference, null MX, unresolvable hosts, implicit MX, failures."""

from __future__ import annotations

import pytest

from deliverability import mx
from deliverability.findings import Check, Status
from deliverability.texts import translate

ZONES = {
    "example.test": "\n".join(
        [
            "good IN MX 20 mx2.example.test.",
            "good IN MX 10 mx1.example.test.",
            "mx1 IN A 192.0.2.10",
            "mx2 IN AAAA 2001:db8::25",
            "null IN MX 0 .",
            "nullmix IN MX 0 .",
            "nullmix IN MX 10 mx1.example.test.",
            "dead IN MX 10 gone.example.test.",
            "dead IN MX 20 noaddr.example.test.",
            'noaddr IN TXT "no address here"',
            "half IN MX 10 mx1.example.test.",
            "half IN MX 20 gone.example.test.",
            "alias IN MX 10 mailalias.example.test.",
            "mailalias IN CNAME mx1.example.test.",
            "literal IN MX 10 192.0.2.25.",
            "literalmix IN MX 10 192.0.2.25.",
            "literalmix IN MX 20 mx1.example.test.",
            "away IN MX 10 mx.broken.test.",
            "awaymix IN MX 10 mx1.example.test.",
            "awaymix IN MX 20 mx.broken.test.",
            "implicit IN A 192.0.2.30",
            'nothing IN TXT "v=spf1 -all"',
            "intobroken IN MX 10 mxalias.example.test.",
            "mxalias IN CNAME mx.broken.test.",
            "looping IN MX 10 loopa.example.test.",
            "loopa IN CNAME loopb.example.test.",
            "loopb IN CNAME loopa.example.test.",
            "loopmix IN MX 10 mx1.example.test.",
            "loopmix IN MX 20 loopa.example.test.",
            "dangle IN MX 10 dangling.example.test.",
            "dangling IN CNAME gone.example.test.",
            "several IN MX 0 .",
            "several IN MX 10 mailalias.example.test.",
            "several IN MX 20 192.0.2.25.",
            "several IN MX 30 mx.broken.test.",
        ]
    ),
}
BROKEN_ZONES = ("broken.test",)


def check(run, resolver, domain):
    finding = run(mx.check(domain, resolver))
    assert finding.check is Check.MX
    return finding


def test_hosts_listed_by_preference(resolver, run):
    finding = check(run, resolver, "good.example.test")
    assert finding.status is Status.PASS
    assert finding.summary == (
        "mail to good.example.test is delivered to mx1.example.test (10), mx2.example.test (20)"
    )
    assert finding.details == (
        "MX 10 mx1.example.test resolves: 192.0.2.10",
        "MX 20 mx2.example.test resolves: 2001:db8::25",
    )
    assert finding.fix is None


def test_null_mx_fails(resolver, run):
    finding = check(run, resolver, "null.example.test")
    assert finding.status is Status.FAIL
    assert "accepts no mail (null MX, RFC 7505)" in finding.summary
    assert "replies to chatter messages cannot come back" in finding.summary


def test_null_mx_beside_others_warns(resolver, run):
    finding = check(run, resolver, "nullmix.example.test")
    assert finding.status is Status.WARNING and "null MX (0 .) is published beside" in finding.summary


def test_no_host_resolves_fails(resolver, run):
    finding = check(run, resolver, "dead.example.test")
    assert finding.status is Status.FAIL
    assert (
        "no MX host of dead.example.test resolves (gone.example.test, noaddr.example.test)" in finding.summary
    )
    assert "MX 20 noaddr.example.test has no address (A/AAAA)" in finding.details


def test_some_hosts_unresolvable_warns(resolver, run):
    finding = check(run, resolver, "half.example.test")
    assert finding.status is Status.WARNING
    assert "some MX hosts do not resolve (gone.example.test)" in finding.summary


def test_several_problems_are_each_translated_in_one_summary(resolver, run):
    finding = check(run, resolver, "several.example.test")
    assert finding.status is Status.UNKNOWN
    assert finding.summary == (
        "mail to several.example.test goes to mailalias.example.test (10), 192.0.2.25 (20), mx.broken.test "
        "(30), but a null MX (0 .) is published beside other MX records (RFC 7505), and some MX hosts do not "
        "resolve (192.0.2.25), and an MX host is an alias (CNAME), which RFC 5321 forbids, and an MX record "
        "names an IP address instead of a host, and some MX hosts could not be resolved"
    )
    fr = {
        "mail to %(domain)s goes to %(targets)s, but %(problems)s": "le courrier pour %(domain)s va à "
        "%(targets)s, mais %(problems)s",
        "%(problem)s, and %(more)s": "%(problem)s ; %(more)s",
        "a null MX (0 .) is published beside other MX records (RFC 7505)": "un MX nul est publié",
        "some MX hosts do not resolve (%(hosts)s)": "des hôtes MX ne résolvent pas (%(hosts)s)",
        "an MX host is an alias (CNAME), which RFC 5321 forbids": "un hôte MX est un alias",
        "an MX record names an IP address instead of a host": "un MX nomme une adresse IP",
        "some MX hosts could not be resolved": "des hôtes MX n'ont pas pu être résolus",
    }
    expected = (
        "le courrier pour several.example.test va à mailalias.example.test (10), 192.0.2.25 (20), "
        "mx.broken.test (30), mais un MX nul est publié ; des hôtes MX ne résolvent pas (192.0.2.25) ; un "
        "hôte MX est un alias ; un MX nomme une adresse IP ; des hôtes MX n'ont pas pu être résolus"
    )
    assert translate(finding.summary, fr) == expected
    assert translate(str(finding.summary), fr) == expected  # read back from the database


def test_cname_target_warns(resolver, run):
    finding = check(run, resolver, "alias.example.test")
    assert finding.status is Status.WARNING and "alias (CNAME)" in finding.summary
    assert finding.details == ("MX 10 mailalias.example.test is an alias (CNAME): 192.0.2.10",)


def test_ip_literal_target(resolver, run):
    only = check(run, resolver, "literal.example.test")
    assert only.status is Status.FAIL
    assert only.details == ("MX 10 192.0.2.25 is an IP address, not a host name",)
    mixed = check(run, resolver, "literalmix.example.test")
    assert mixed.status is Status.WARNING and "names an IP address" in mixed.summary


def test_implicit_mx_warns_with_explicit_record(resolver, run):
    finding = check(run, resolver, "implicit.example.test")
    assert finding.status is Status.WARNING
    assert "no MX record: senders fall back to its address 192.0.2.30 (implicit MX)" in finding.summary
    assert finding.fix == "implicit.example.test. IN MX 10 implicit.example.test."


@pytest.mark.parametrize(
    "domain, words",
    [("nothing.example.test", "no MX record and no address"), ("absent.example.test", "does not exist")],
)
def test_no_mail_host_at_all_fails(resolver, run, domain, words):
    finding = check(run, resolver, domain)
    assert finding.status is Status.FAIL and words in finding.summary


def test_dns_failures_are_unknown(resolver, silent_resolver, run):
    assert check(run, resolver, "broken.test").status is Status.UNKNOWN
    assert check(run, resolver, "away.example.test").status is Status.UNKNOWN
    partly = check(run, resolver, "awaymix.example.test")
    assert partly.status is Status.UNKNOWN and "could not be resolved" in partly.summary
    silent = check(run, silent_resolver, "good.example.test")
    assert silent.status is Status.UNKNOWN and "timeout" in silent.summary


def test_parse_mx_sorts_and_marks_null():
    hosts = mx.parse_mx(("20 B.example.test.", "10 a.example.test.", "0 ."))
    assert hosts == [mx.MxHost(0, ""), mx.MxHost(10, "a.example.test"), mx.MxHost(20, "b.example.test")]
    assert hosts[0].null and not hosts[1].null


def test_an_alias_into_a_failing_zone_is_unknown_not_pass(resolver, run):
    finding = check(run, resolver, "intobroken.example.test")
    assert finding.status is Status.UNKNOWN
    assert "could not be resolved" in finding.summary and "alias (CNAME)" in finding.summary
    assert finding.details == (
        "MX 10 mxalias.example.test could not be resolved "
        "(an alias of mx.broken.test, which RFC 5321 forbids)",
    )


def test_an_alias_loop_never_resolves(resolver, run):
    finding = check(run, resolver, "looping.example.test")
    assert finding.status is Status.FAIL
    assert finding.summary.startswith("no MX host of looping.example.test resolves (loopa.example.test)")
    assert finding.details == (
        "MX 10 loopa.example.test is a broken alias (CNAME) chain that loops or never ends: "
        "it never resolves",
    )
    mixed = check(run, resolver, "loopmix.example.test")
    assert mixed.status is Status.WARNING
    assert "some MX hosts do not resolve (loopa.example.test)" in mixed.summary
    assert "alias (CNAME)" in mixed.summary


def test_a_dangling_alias_fails_with_its_warning(resolver, run):
    finding = check(run, resolver, "dangle.example.test")
    assert finding.status is Status.FAIL and "alias (CNAME)" in finding.summary
    assert "an alias of gone.example.test" in finding.details[0]
