"""Report sources against a real NSD: reverse DNS (forward-confirmed), classification by SPF, and the
alert rules (once per new failing source, once when an authorized source starts failing)."""

from __future__ import annotations

import pytest

from deliverability.dmarc_reports import propose_all
from deliverability.dmarc_sources import (
    Alert,
    AlertState,
    Kind,
    identify,
    identify_sources,
    next_alert,
    reverse_name,
)
from deliverability.dns import Nameserver
from deliverability.options import RunOptions

ZONES = {
    "2.0.192.in-addr.arpa": "\n".join(
        [
            "1 IN PTR mail.example.com.",
            "2 IN PTR spoof.example.org.",
            "3 IN PTR shop.partner.test.",
        ]
    ),
    "51.198.in-addr.arpa": "",
    "8.b.d.0.1.0.0.2.ip6.arpa": "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR mail6.example.com.",
    "example.com": "\n".join(
        [
            '@ IN TXT "v=spf1 ip4:192.0.2.3 include:_spf.provider.test -all"',
            '_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:old@example.com"',
            "mail IN A 192.0.2.1",
            "mail6 IN AAAA 2001:db8::25",
        ]
    ),
    "provider.test": '_spf IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
    "example.org": "spoof IN A 203.0.113.9",
    "partner.test": "shop IN A 192.0.2.3",
}
BROKEN_ZONES = ("broken.test",)


def test_reverse_name_is_forward_confirmed(resolver, run):
    assert run(reverse_name("192.0.2.1", resolver)) == ("mail.example.com", True)
    assert run(reverse_name("192.0.2.2", resolver)) == ("spoof.example.org", False)
    assert run(reverse_name("2001:db8::25", resolver)) == ("mail6.example.com", True)
    assert run(reverse_name("192.0.2.200", resolver)) == (None, False)


def test_broken_reverse_dns_only_leaves_the_source_unnamed(resolver, run):
    facts = run(identify("198.18.0.1", ["example.com"], resolver))  # no reverse zone served: REFUSED
    assert (facts.reverse_name, facts.kind, facts.settled) == (None, Kind.UNKNOWN, True)


@pytest.mark.parametrize(
    "ip, kind, reason, group",
    [
        ("192.0.2.5", Kind.OWN, "one of this database's sending IPs", ""),
        ("198.51.100.7", Kind.PROVIDER, "in the sending provider's SPF (_spf.provider.test)", ""),
        ("192.0.2.3", Kind.KNOWN, "authorized by the SPF record of example.com", "partner.test"),
        ("192.0.2.1", Kind.UNKNOWN, "not authorized by the SPF record of example.com", "example.com"),
        ("192.0.2.2", Kind.UNKNOWN, "not authorized by the SPF record of example.com", ""),
    ],
)
def test_sources_are_classified_by_our_spf_evaluation(resolver, run, ip, kind, reason, group):
    facts = run(
        identify(ip, ["example.com"], resolver, own_ips=["192.0.2.5"], provider_include="_spf.provider.test")
    )
    assert (facts.kind, facts.reason, facts.group, facts.settled) == (kind, reason, group, True)
    assert facts.kind.authorized is (kind is not Kind.UNKNOWN)


def test_a_source_whose_spf_could_not_be_evaluated_is_not_settled(resolver, run):
    facts = run(identify("192.0.2.9", ["broken.test"], resolver))
    assert (facts.kind, facts.settled) == (Kind.UNKNOWN, False)


def test_blocking_entry_points_use_the_nameservers_given(nsd):
    options = RunOptions(nameservers=[Nameserver(nsd.host, nsd.port)], timeout=1.0, lifetime=3.0)
    found = identify_sources({"192.0.2.3": ["example.com"], "192.0.2.1": ["example.com"]}, options)
    assert {ip: f.kind for ip, f in found.items()} == {"192.0.2.3": Kind.KNOWN, "192.0.2.1": Kind.UNKNOWN}
    ours, theirs = propose_all(["example.com", "partner.test"], "dmarc@partner.test", options)
    assert ours.record == (
        '_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; '
        'rua=mailto:old@example.com,mailto:dmarc@partner.test"'
    )
    assert ours.authorization == 'example.com._report._dmarc.partner.test. IN TXT "v=DMARC1"'
    assert theirs.record == '_dmarc.partner.test. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@partner.test"'
    assert theirs.authorization is None


def test_a_silent_nameserver_gives_unsettled_sources_and_proposals_with_the_reason(silent_resolver):
    options = RunOptions(
        nameservers=silent_resolver.nameservers, timeout=0.2, lifetime=0.5, domain_deadline=2
    )
    (facts,) = identify_sources({"192.0.2.3": ["example.com"]}, options).values()
    assert not facts.settled
    (proposal,) = propose_all(["example.com"], "dmarc@example.com", options)
    assert proposal.record is None and "DNS did not answer" in proposal.error


def test_an_unknown_source_is_reported_once_when_its_failures_have_volume():
    state = AlertState()
    state, alert = next_alert(Kind.UNKNOWN, state, total=(0, 9), new=(0, 9))
    assert alert is None  # not yet worth it
    state, alert = next_alert(Kind.UNKNOWN, state, total=(0, 12), new=(0, 3))
    assert alert is Alert.NEW_FAILING and state.alerted_new
    state, alert = next_alert(Kind.UNKNOWN, state, total=(0, 500), new=(0, 488))
    assert alert is None


def test_an_authorized_source_is_reported_when_it_starts_failing_and_again_only_after_passing():
    state = AlertState()
    state, alert = next_alert(Kind.PROVIDER, state, total=(1000, 5), new=(1000, 5))
    assert alert is None  # a few forwarded copies fail: not failing
    state, alert = next_alert(Kind.PROVIDER, state, total=(1000, 105), new=(20, 100))
    assert alert is Alert.AUTHORIZED_FAILING and state.failing
    state, alert = next_alert(Kind.PROVIDER, state, total=(1000, 205), new=(0, 100))
    assert alert is None  # still failing: said once
    state, alert = next_alert(Kind.PROVIDER, state, total=(1300, 205), new=(300, 0))
    assert alert is Alert.RECOVERED and not state.failing
    state, alert = next_alert(Kind.KNOWN, state, total=(1300, 305), new=(0, 100))
    assert alert is Alert.AUTHORIZED_FAILING
