"""DMARC-aware relaying: which authors go out as the default sender, decided from looked-up policies
(a real NSD on loopback: strict, lax, missing and unanswered domains)."""

from __future__ import annotations

from deliverability.checks import dmarc_policies
from deliverability.relaying import RelayFacts

ZONES = {
    "reject.test": '_dmarc IN TXT "v=DMARC1; p=reject"',
    "quarantine.test": '_dmarc IN TXT "v=DMARC1; p=quarantine"',
    "lax.test": '_dmarc IN TXT "v=DMARC1; p=none"',
    "nodmarc.test": '@ IN TXT "v=spf1 -all"',
    "strictsub.test": '_dmarc IN TXT "v=DMARC1; p=none; sp=reject"',
}
BROKEN_ZONES = ("broken.test",)


def test_lookups_leave_out_what_is_not_known(run, resolver):
    names = ["reject.test", "quarantine.test", "lax.test", "nodmarc.test", "a.strictsub.test", "broken.test",
             "not a domain"]  # fmt: skip
    assert run(dmarc_policies(names, resolver, 5.0)) == {
        "reject.test": "reject",
        "quarantine.test": "quarantine",
        "lax.test": "none",
        "nodmarc.test": None,
        "a.strictsub.test": "reject",
    }


def test_who_is_relayed_as_the_default_sender():
    facts = RelayFacts.of(
        {"reject.test": "reject", "quarantine.test": "quarantine", "lax.test": "none", "nodmarc.test": None,
         "ours.test": "reject", "mail.ours.test": "reject"},
        ["ours.test"],
    )  # fmt: skip
    assert facts.policy('"Pat" <pat@Reject.TEST>') == ("reject.test", "reject")
    assert facts.policy("q@quarantine.test") == ("quarantine.test", "quarantine")
    for kept in ("l@lax.test", "n@nodmarc.test", "u@unknown.test", "me@ours.test", "me@mail.ours.test",
                 None, "", "not an address"):  # fmt: skip
        assert facts.policy(kept) is None, kept
    assert RelayFacts.of({}, []).policy("pat@reject.test") is None
