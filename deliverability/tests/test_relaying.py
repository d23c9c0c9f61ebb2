"""DMARC-aware relaying: which authors go out as the default sender, decided from looked-up policies
(a real NSD on loopback: strict, lax, missing and unanswered domains)."""

from __future__ import annotations

from deliverability.checks import dmarc_policies
from deliverability.domains import organizational_domain
from deliverability.relaying import RelayFacts
from deliverability.sender import parse_mailbox

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


def test_an_address_on_a_lax_domain_is_not_parsed(monkeypatch):
    """The send path asks for every message: a plain address whose domain is not strict is answered
    from the text after its last "@"."""
    from deliverability import relaying

    parsed = []
    monkeypatch.setattr(relaying, "parse_mailbox", lambda text: parsed.append(text) or parse_mailbox(text))
    facts = RelayFacts.of({"reject.test": "reject"}, [])
    assert facts.policy("pat@other.test") is None
    assert facts.policy('"Pat" <pat@Other.Test>') is None
    assert parsed == []
    assert facts.policy("pat@reject.test") == ("reject.test", "reject")
    assert parsed == ["pat@reject.test"]


def test_the_quick_look_at_the_domain_agrees_with_parsing_the_address():
    """``policy`` reads the domain after the last "@" without parsing the address when it can: for
    every form of address it answers what parsing the address answers."""
    facts = RelayFacts.of({"reject.test": "reject", "xn--bcher-kva.test": "quarantine"}, ["ours.test"])

    def parsed(author):  # the rule, from the parsed address only
        mailbox = parse_mailbox(author)
        policy = facts.strict.get(mailbox.domain_key) if mailbox else None
        if policy is None or organizational_domain(mailbox.domain_key) in facts.own:
            return None
        return mailbox.domain_key, policy

    forms = [
        "{a}", "<{a}>", "Pat <{a}>", '"Pat" <{a}>', '"x@other.test" <{a}>', "{a} ", " <{a}> ", "{a} (Pat)",
        "Pat <{a}> (work)", "{a}, q@other.test", "q@other.test, {a}", "Pat <{a}>,",
    ]  # fmt: skip
    addresses = [
        "pat@reject.test", "pat@REJECT.Test", "pat@reject.test.", "pat@other.test", "pat@bücher.test",
        "pat@xn--bcher-kva.test", "pat@sub.reject.test", "pat@ours.test", "@reject.test", "pat@",
    ]  # fmt: skip
    checked = 0
    for form in forms:
        for address in addresses:
            author = form.format(a=address)
            assert facts.policy(author) == parsed(author), author
            checked += 1
    assert checked == len(forms) * len(addresses)
    assert facts.policy("Pat <pat@bücher.test>") == ("xn--bcher-kva.test", "quarantine")  # parsed: IDNA
