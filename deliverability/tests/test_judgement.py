"""One judgement: the Domain Health check of a domain, the facts it stores for the Sending Preview and
a real message judged by Test Deliverability give the same answer, for a relay authorized by its
addresses and for a provider (include + CNAME), against a real NSD."""

from __future__ import annotations

import dataclasses
import email.policy
import email.utils
import json
from email.message import EmailMessage

import pytest

from deliverability import checks, dkim_keys, dkim_sign, judgement, verdict
from deliverability.dkim_keys import OwnKey
from deliverability.findings import Check, Status
from deliverability.judgement import DomainFacts, Outcome, Signer
from deliverability.options import CheckOptions
from deliverability.providers import OWN, DkimKey, DkimSetup, Provider

KEY = dkim_keys.generate("rsa")
PROVIDER_KEY = dkim_keys.generate("rsa")
IP = "192.0.2.25"
ACME = Provider(
    "acme", "Acme", "_spf.acme.test", (DkimKey("acme", "acme._domainkey.acme.test"),), DkimSetup.DELEGATED
)


def _zone(domain, spf, key=True, dmarc="p=reject", extra=()):
    lines = [f'@ IN TXT "{spf}"', f'_dmarc IN TXT "v=DMARC1; {dmarc}"', "@ IN MX 10 mx.acme.test.", *extra]
    if key:
        lines.append(dkim_keys.zone_line("mdh1", domain, KEY.algorithm, KEY.public_key))
    return "\n".join(lines)


ZONES = {
    "acme.test": "\n".join(
        [
            f'_spf IN TXT "v=spf1 ip4:{IP} -all"',
            "mx IN A 192.0.2.30",
            dkim_keys.zone_line("acme", "acme.test", PROVIDER_KEY.algorithm, PROVIDER_KEY.public_key),
        ]
    ),
    "own.test": _zone("own.test", f"v=spf1 ip4:{IP} -all"),
    "unpublished.test": _zone("unpublished.test", f"v=spf1 ip4:{IP} -all", key=False),
    "wrongip.test": _zone("wrongip.test", "v=spf1 ip4:198.51.100.1 -all", key=False),
    "wrongip-signed.test": _zone("wrongip-signed.test", "v=spf1 ip4:198.51.100.1 -all"),
    "noip.test": _zone("noip.test", "v=spf1 mx -all", key=False, dmarc="p=none"),
    "norecord.test": '_dmarc IN TXT "v=DMARC1; p=none"',
    "provider.test": _zone(
        "provider.test",
        "v=spf1 include:_spf.acme.test -all",
        key=False,
        extra=("acme._domainkey IN CNAME acme._domainkey.acme.test.",),
    ),
    # a provider domain whose own key is published too: the database signs, the CNAME is not needed
    "provider-own.test": _zone("provider-own.test", "v=spf1 include:_spf.acme.test -all"),
}


def own_key(domain, required=True):
    return OwnKey(domain, "mdh1", KEY.algorithm, KEY.public_key, required)


def report(run, resolver, domain, provider=OWN, ips=(IP,), keys=()):
    options = CheckOptions(provider=provider, sending_ips=tuple(ips), own_keys=tuple(keys))
    return run(checks.check_domain(domain, resolver, options))


def status(result, check):
    found = [f.status for f in result.checks if f.check is check]
    return Status.worst(found) if found else None


def message(domain, signed):
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f"Ann <ann@{domain}>"
    msg["To"] = "someone@example.org"
    msg["Reply-To"] = f"catchall@{domain}"
    msg["Subject"] = "Test"
    msg["Date"] = email.utils.formatdate()
    msg["Message-Id"] = email.utils.make_msgid(domain=domain)
    msg.set_content("Hello\n")
    wire = dkim_sign.wire_bytes(msg, f"bounce@{domain}", ["someone@example.org"])
    if not signed:
        return wire
    return dkim_sign.sign(wire, dkim_sign.Signer.from_pem(domain, "mdh1", KEY.private_pem)) + wire


def three_answers(run, resolver, domain, provider=OWN, ips=(IP,), keys=(), signed=False):
    """``(Domain Health, Sending Preview, Test Deliverability)`` judgements of mail From ``domain``."""
    health = report(run, resolver, domain, provider, ips, keys)
    stored = DomainFacts.from_json(health.facts.to_json())  # what the preview reads back
    preview = judgement.judge(domain, domain, stored.spf, stored.dkim, stored.policy)
    tested = run(
        verdict.judge(
            message(domain, signed), f"bounce@{domain}", ips, resolver, catchall_domain=domain,
            facts={domain: health.facts},
        )
    )  # fmt: skip
    return health, preview, tested


def same(*answers):
    return {(a.outcome, a.spf_aligned, a.dkim_aligned) for a in answers}


def test_own_relay_all_right_is_green_everywhere(run, resolver):
    health, preview, tested = three_answers(
        run, resolver, "own.test", keys=[own_key("own.test")], signed=True
    )
    assert [status(health, c) for c in (Check.SPF, Check.DKIM, Check.DMARC)] == [Status.PASS] * 3, health
    assert same(health.judgement, preview, tested) == {(Outcome.DELIVERED, True, True)}
    assert not tested.header_problems and tested.additions() == ()
    assert [r.signer for r in health.facts.dkim] == [Signer.DATABASE]


def test_what_a_real_message_adds_is_said_never_the_opposite(run, resolver):
    """The key is published but the message went out unsigned (signing broke): Test Deliverability
    says so beside Domain Health's answer, which it keeps as ``expected``."""
    health, preview, tested = three_answers(
        run, resolver, "own.test", keys=[own_key("own.test")], signed=False
    )
    assert same(health.judgement, preview, tested.expected) == {(Outcome.DELIVERED, True, True)}
    assert (tested.outcome, tested.spf_aligned, tested.dkim_aligned) == (Outcome.DELIVERED, True, False)
    unsigned = "the message is not signed with mdh1._domainkey.own.test, published for it"
    assert tested.additions() == (unsigned,)
    # had DNS not answered for the key, nothing was promised: the message adds nothing to say of it
    unanswered = tuple(dataclasses.replace(r, result="temperror") for r in tested.expected.dkim)
    unsure = dataclasses.replace(tested, expected=dataclasses.replace(tested.expected, dkim=unanswered))
    assert unsure.additions() == ()


def test_own_key_unpublished_spf_still_aligned(run, resolver):
    health, preview, tested = three_answers(
        run, resolver, "unpublished.test", keys=[own_key("unpublished.test")], signed=False
    )
    assert status(health, Check.SPF) is Status.PASS
    assert status(health, Check.DKIM) is Status.FAIL  # the key is not published: mail is not signed
    assert status(health, Check.DMARC) is Status.PASS
    assert health.facts.dkim == ()
    assert same(health.judgement, preview, tested) == {(Outcome.DELIVERED, True, False)}


def test_wrong_relay_ip(run, resolver):
    health, preview, tested = three_answers(
        run, resolver, "wrongip.test", keys=[own_key("wrongip.test")], signed=False
    )
    spf = next(f for f in health.checks if f.check is Check.SPF)
    assert spf.status is Status.FAIL and f"ip4:{IP}" in spf.fix  # the record to publish authorizes it
    assert "ip4:198.51.100.1" in spf.fix
    assert status(health, Check.DMARC) is Status.FAIL
    assert same(health.judgement, preview, tested) == {(Outcome.REJECTED, False, False)}
    # the same relay with a published key: DMARC passes through DKIM, on every screen
    health, preview, tested = three_answers(
        run, resolver, "wrongip-signed.test", keys=[own_key("wrongip-signed.test")], signed=True
    )
    assert status(health, Check.DMARC) is Status.PASS
    assert same(health.judgement, preview, tested) == {(Outcome.DELIVERED, False, True)}


def test_a_provider_include_and_cname(run, resolver):
    """No sending IP known: the include stands for the provider's servers; the provider signs after
    the mail left (the captured message is unsigned), and Test Deliverability counts its key."""
    health, preview, tested = three_answers(run, resolver, "provider.test", ACME, ips=())
    assert [status(health, c) for c in (Check.SPF, Check.DKIM, Check.DMARC)] == [Status.PASS] * 3, health
    assert [(r.ip, r.result) for r in health.facts.spf] == [("", "pass")]
    assert [(r.selector, r.signer) for r in tested.dkim] == [("acme", Signer.PROVIDER)]
    assert same(health.judgement, preview, tested) == {(Outcome.DELIVERED, True, True)}


def test_an_own_published_key_passes_dkim_whatever_the_provider(run, resolver):
    health = report(run, resolver, "provider-own.test", ACME, ips=(), keys=[own_key("provider-own.test")])
    dkim = [f for f in health.checks if f.check is Check.DKIM]
    assert [f.selector for f in dkim] == ["mdh1"] and dkim[0].status is Status.PASS
    # without it, the provider's missing CNAME fails DKIM
    without = report(run, resolver, "provider-own.test", ACME, ips=())
    assert status(without, Check.DKIM) is Status.FAIL


def test_own_relay_needs_no_include(run, resolver):
    spf = next(f for f in report(run, resolver, "own.test").checks if f.check is Check.SPF)
    assert spf.status is Status.PASS, spf
    assert "include" not in spf.summary and "every sending IP passes" in spf.summary
    # no sending IP known: said, not judged
    unknown = report(run, resolver, "noip.test", ips=())
    spf = next(f for f in unknown.checks if f.check is Check.SPF)
    assert spf.status is Status.WARNING and "No sending IP is known" in spf.summary
    assert unknown.judgement.outcome is Outcome.SPAM
    # nobody signs its mail: said, as a warning (DMARC rests on SPF alone)
    dkim = [f for f in unknown.checks if f.check is Check.DKIM]
    assert [(f.status, f.selector) for f in dkim] == [(Status.WARNING, "")]
    assert "not DKIM-signed: create a DKIM key" in dkim[0].summary
    # no record: the one to publish authorizes the sending IPs
    missing = next(f for f in report(run, resolver, "norecord.test").checks if f.check is Check.SPF)
    assert missing.status is Status.FAIL and f"v=spf1 ip4:{IP} ~all" in missing.fix


def test_stored_facts_round_trip_and_refuse_garbage():
    facts = DomainFacts(
        "a.test",
        (judgement.SpfResult("192.0.2.1", "a.test", "pass", "ok"),),
        (judgement.DkimResult("a.test", "s", "pass", "ok", Signer.PROVIDER),),
        judgement.Policy("reject", "a.test", "s", "r", False),
    )
    assert DomainFacts.from_json(facts.to_json()) == facts
    stored = json.dumps(facts.to_json())  # as the database keeps it: as it always did
    assert stored == json.dumps(dataclasses.asdict(facts))
    assert DomainFacts.from_json(json.loads(stored)) == facts
    assert DomainFacts.from_json({"domain": "a.test"}) is None
    assert DomainFacts.from_json({**facts.to_json(), "dkim": [{"signer": "someone"}]}) is None


@pytest.mark.parametrize(
    "outcome, dmarc_pass, expected",
    [
        (Outcome.DELIVERED, True, Status.PASS),
        (Outcome.DELIVERED, False, Status.WARNING),
        (Outcome.UNKNOWN, False, Status.UNKNOWN),
        (Outcome.SPAM, False, Status.FAIL),
        (Outcome.REJECTED, False, Status.FAIL),
    ],
)
def test_status_of_a_judgement(outcome, dmarc_pass, expected):
    found = judgement.Judgement(
        outcome, "", (), "a.test", "a.test", (), (), dmarc_pass, False, judgement.Policy()
    )
    assert found.status is expected


def test_alignment_words():
    assert judgement.alignment_words("a.test", "a.test") == "a.test is the From domain"
    assert "relaxed alignment" in judgement.alignment_words("mail.a.test", "a.test")
    assert "not aligned" in judgement.alignment_words("b.test", "a.test")


def fx(domain, spf="pass", dkim=None, policy="reject"):
    dkim_results = (judgement.DkimResult(domain, "s", dkim, "", Signer.DATABASE),) if dkim else ()
    return DomainFacts(
        domain,
        (judgement.SpfResult(IP, domain, spf, ""),),
        dkim_results,
        judgement.Policy(policy, domain if policy else None),
    )


@pytest.mark.parametrize(
    "from_domain, envelope_domain, known, outcome, spf_aligned",
    [
        ("example.com", "example.com", [fx("example.com", dkim="pass")], Outcome.DELIVERED, True),
        # relaxed alignment: the organizational domain is the same
        ("mail.example.com", "example.com", [fx("mail.example.com"), fx("example.com")],
         Outcome.DELIVERED, True),
        ("example.co.uk", "mail.example.co.uk", [fx("example.co.uk"), fx("mail.example.co.uk")],
         Outcome.DELIVERED, True),
        # SPF passes for another domain only, no DKIM: the documentation's DMARC failure (yahoo.com)
        ("yahoo.com", "example.com", [fx("yahoo.com", "fail"), fx("example.com")], Outcome.REJECTED, False),
        ("weak.example", "example.com", [fx("weak.example", "fail", policy="none"), fx("example.com")],
         Outcome.DELIVERED, False),
        ("a.example", "example.com", [fx("a.example", policy="quarantine"), fx("example.com", "temperror")],
         Outcome.UNKNOWN, False),
    ],
)  # fmt: skip
def test_judge_from_stored_facts(from_domain, envelope_domain, known, outcome, spf_aligned):
    """What the Sending Preview does: the envelope domain's SPF, the From domain's DKIM and policy."""
    by_domain = {f.domain: f for f in known}
    found = judgement.judge(
        from_domain,
        envelope_domain,
        by_domain[envelope_domain].spf,
        by_domain[from_domain].dkim,
        by_domain[from_domain].policy,
    )
    assert (found.outcome, found.spf_aligned) == (outcome, spf_aligned), found
    assert found.reason
