"""DMARC against a real NSD: discovery and inheritance, validation, report authorization, the seed's rule."""

from __future__ import annotations

import pytest

from deliverability import dmarc, judgement, spf
from deliverability.findings import Check, DkimFinding, Finding, Status

ZONES = {
    "example.com": "\n".join(
        [
            '_dmarc IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com"',
            '_dmarc.own IN TXT "v=DMARC1; p=none"',
            "mail IN A 192.0.2.1",
            '_dmarc.b IN TXT "v=DMARC1; p=none"',
            '_dmarc.2.3.4.5.6.7 IN TXT "v=DMARC1; p=none"',
            '_dmarc.psdn IN TXT "v=DMARC1; p=none; psd=n"',
            '_dmarc.twice IN TXT "v=DMARC1; p=none"',
            '_dmarc.twice IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com"',
        ]
    ),
    "example.org": '_dmarc IN TXT "v=DMARC1; p=reject"',
    "provider.test": '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 ~all"',
    "np.test": '_dmarc IN TXT "v=DMARC1; p=none; np=reject"\nreal IN A 192.0.2.1',
    "psd.test": "\n".join(
        [
            '_dmarc IN TXT "v=DMARC1; p=reject; sp=quarantine; psd=y"',
            '_dmarc.giant IN TXT "v=DMARC1; p=none"',
            "mega IN A 192.0.2.1",
        ]
    ),
    "spf.test": "\n".join(
        [
            *(f'_dmarc.{name} IN TXT "v=DMARC1; p=reject"' for name in ("ptr", "neutral", "nine", "bare")),
            'ptr IN TXT "v=spf1 include:_spf.provider.test ptr -all"',
            'neutral IN TXT "v=spf1 include:_spf.provider.test ?all"',
            'nine IN TXT "v=spf1 include:_spf.provider.test a mx a:h1.spf.test a:h2.spf.test a:h3.spf.test '
            'a:h4.spf.test a:h5.spf.test a:h6.spf.test -all"',
            *(f"{name} IN A 192.0.2.9" for name in ("nine", "h1", "h2", "h3", "h4", "h5", "h6")),
            "nine IN MX 10 h1.spf.test.",
            'bare IN TXT "v=spf1 ptr ?all"',
        ]
    ),
    "example.net": "\n".join(
        [
            'ext.example.test._report._dmarc IN TXT "v=DMARC1"',
            'dmarc IN TXT "v=DMARC1; p=quarantine"',
        ]
    ),
    "example.test": "\n".join(
        [
            '_dmarc.reject IN TXT "v=DMARC1; p=reject; pct=50"',
            '_dmarc.quarantine IN TXT "v=DMARC1; p=quarantine"',
            '_dmarc.none IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@none.example.test"',
            '_dmarc.multi IN TXT "v=DMARC1; p=none"',
            '_dmarc.multi IN TXT "v=DMARC1; p=reject"',
            '_dmarc.invalid IN TXT "v=DMARC1; p=block"',
            '_dmarc.invalidrua IN TXT "v=DMARC1; p=block; rua=mailto:d@invalidrua.example.test"',
            '_dmarc.nop IN TXT "v=DMARC1; rua=mailto:d@nop.example.test"',
            '_dmarc.testing IN TXT "v=DMARC1; p=reject; t=y"',
            '_dmarc.badvalues IN TXT "v=DMARC1; p=quarantine; adkim=x; fo=2; pct=101; rua=dmarc@x; bogus"',
            '_dmarc.lookalike IN TXT "v=dmarc1; p=reject"',
            '_dmarc.lookalike IN TXT "google-site-verification=abc"',
            '_dmarc.unknowntag IN TXT "v=DMARC1; p=reject; foo=bar"',
            '_dmarc.ext IN TXT "v=DMARC1; p=none; rua=mailto:r@example.net"',
            '_dmarc.noauth IN TXT "v=DMARC1; p=none; rua=mailto:r@example.net,mailto:x@noauth.example.test"',
            '_dmarc.away IN TXT "v=DMARC1; p=none; ruf=mailto:r@reports.broken.test"',
            "_dmarc.cname IN CNAME dmarc.example.net.",
            '_dmarc.spf IN TXT "v=spf1 -all"',
        ]
    ),
}
BROKEN_ZONES = ("broken.test",)

SPF_PASS = Finding(Check.SPF, Status.PASS, "SPF ok")
SPF_FAIL = Finding(Check.SPF, Status.FAIL, "no SPF")
SPF_UNKNOWN = Finding(Check.SPF, Status.UNKNOWN, "DNS down")


def dkim_finding(status: Status) -> DkimFinding:
    return DkimFinding(Check.DKIM, status, "dkim", selector="flectra")


def check(run, resolver, domain, spf=SPF_PASS, dkim=(), **kwargs):
    """DMARC of ``domain`` whose SPF and DKIM checks gave ``spf`` and ``dkim``, through the facts
    every screen judges with."""
    spf_facts = judgement.spf_facts(domain, spf, (), "_spf.provider.test")
    dkim_facts = judgement.dkim_facts(domain, dkim, ())
    finding = run(dmarc.check(domain, resolver, spf_facts, dkim_facts, **kwargs))
    assert finding.check is Check.DMARC
    return finding


def test_reject_with_spf_passes(resolver, run):
    finding = check(run, resolver, "reject.example.test")
    assert finding.status is Status.PASS
    assert (finding.policy, finding.record_domain) == ("reject", "reject.example.test")
    assert finding.summary == "DMARC policy p=reject is met: mail passes SPF"
    assert (
        "pct=50: receivers still applying RFC 7489 apply the policy to 50% of failing mail; "
        "RFC 9989 receivers ignore pct (t=y is its replacement)"
    ) in finding.details


@pytest.mark.parametrize(
    "spf, dkim, status, words",
    [
        (SPF_FAIL, [dkim_finding(Status.PASS)], Status.PASS, "mail passes DKIM"),
        (SPF_FAIL, [dkim_finding(Status.WARNING)], Status.PASS, "mail passes DKIM"),
        (SPF_PASS, [dkim_finding(Status.PASS)], Status.PASS, "mail passes SPF and DKIM"),
        (SPF_FAIL, [dkim_finding(Status.FAIL)], Status.FAIL, "will be rejected"),
        (SPF_FAIL, [], Status.FAIL, "neither SPF compliant nor signed with DKIM"),
        (SPF_UNKNOWN, [dkim_finding(Status.FAIL)], Status.UNKNOWN, "could not be checked"),
        (SPF_FAIL, [dkim_finding(Status.UNKNOWN)], Status.UNKNOWN, "could not be checked"),
    ],
)
def test_reject_needs_spf_or_dkim(resolver, run, spf, dkim, status, words):
    finding = check(run, resolver, "reject.example.test", spf, dkim)
    assert finding.status is status
    assert words in finding.summary
    assert finding.policy == "reject"


def test_quarantine_without_authentication_fails(resolver, run):
    finding = check(run, resolver, "quarantine.example.test", SPF_FAIL, [dkim_finding(Status.FAIL)])
    assert finding.status is Status.FAIL
    assert "will be quarantined (sent to spam)" in finding.summary


def test_p_none_warns_and_explains(resolver, run):
    finding = check(run, resolver, "none.example.test", SPF_FAIL)
    assert finding.status is Status.WARNING
    assert finding.policy == "none"
    assert "only send reports" in finding.summary and "nor affects deliverability" in finding.summary
    assert finding.fix is None


def test_no_record_warns_with_the_record_to_publish(resolver, run):
    finding = check(run, resolver, "missing.example.test")
    assert finding.status is Status.WARNING
    assert "Gmail and Yahoo require a DMARC record" in finding.summary
    record = '"v=DMARC1; p=none; rua=mailto:postmaster@missing.example.test"'
    assert finding.fix == f"_dmarc.missing.example.test. IN TXT {record}"
    assert finding.policy is None and finding.record_domain is None


def test_lookalike_record_is_ignored_and_said(resolver, run):
    finding = check(run, resolver, "lookalike.example.test")
    assert finding.status is Status.WARNING and finding.policy is None
    assert any("v=dmarc1; p=reject" in d and "does not start with v=DMARC1" in d for d in finding.details)
    assert not any("google-site-verification" in d for d in finding.details)


def test_a_txt_without_dmarc_is_no_record(resolver, run):
    assert check(run, resolver, "spf.example.test").fix.startswith("_dmarc.spf.example.test. IN TXT")


def test_multiple_records_fail(resolver, run):
    finding = check(run, resolver, "multi.example.test")
    assert finding.status is Status.FAIL
    assert "2 DMARC records at _dmarc.multi.example.test: receivers ignore them all" in finding.summary
    assert finding.policy is None and finding.record_domain == "multi.example.test"
    assert finding.details[:2] == ("record: v=DMARC1; p=none", "record: v=DMARC1; p=reject")


def test_invalid_record_fails_naming_the_tag(resolver, run):
    finding = check(run, resolver, "invalid.example.test")
    assert finding.status is Status.FAIL
    assert "p='block' is invalid: expected none or quarantine or reject" in finding.summary


def test_unknown_tag_warns(resolver, run):
    finding = check(run, resolver, "unknowntag.example.test")
    assert finding.status is Status.WARNING and finding.policy == "reject"
    assert "unknown tag foo= is ignored" in finding.details


def test_subdomain_inherits_sp_from_the_organizational_domain(resolver, run):
    finding = check(run, resolver, "mail.example.com", SPF_FAIL)
    assert (finding.policy, finding.record_domain) == ("quarantine", "example.com")
    assert finding.status is Status.FAIL
    assert "sp=quarantine (inherited from example.com)" in finding.summary
    assert "the sp= of example.com applies" in finding.details[1]


def test_subdomain_inherits_p_without_sp(resolver, run):
    finding = check(run, resolver, "deep.mail.example.org")
    assert (finding.policy, finding.record_domain) == ("reject", "example.org")
    assert "p=reject (inherited from example.org)" in finding.summary


def test_subdomain_record_wins_and_org_domain_keeps_p(resolver, run):
    assert check(run, resolver, "own.example.com").policy == "none"
    org = check(run, resolver, "example.com")
    assert (org.policy, org.record_domain) == ("reject", "example.com")


def test_the_organizational_domain_is_the_top_record_of_the_tree_walk(resolver, run):
    # RFC 9989: _dmarc.b.example.com (p=none) only applies to b.example.com itself
    walked = check(run, resolver, "a.b.example.com", SPF_FAIL)
    assert (walked.record_domain, walked.policy) == ("example.com", "quarantine")
    assert check(run, resolver, "b.example.com").policy == "none"
    assert check(run, resolver, "a.b.example.com", tree_walk=False).record_domain == "example.com"


def test_psd_n_makes_an_organizational_domain_that_rfc7489_receivers_miss(resolver, run):
    finding = check(run, resolver, "a.psdn.example.com", SPF_FAIL)
    assert (finding.record_domain, finding.policy) == ("psdn.example.com", "none")
    assert (
        "receivers still applying RFC 7489 (organizational domain example.com from the public suffix list) "
        "apply p=quarantine from _dmarc.example.com"
    ) in finding.details


def test_a_public_suffix_record_applies_below_its_organizational_domains(resolver, run):
    own = check(run, resolver, "giant.psd.test")
    assert (own.record_domain, own.policy) == ("giant.psd.test", "none")
    below = check(run, resolver, "mail.giant.psd.test")
    assert (below.record_domain, below.policy) == ("giant.psd.test", "none")  # giant.psd.test is its org
    other = check(run, resolver, "mega.psd.test", SPF_FAIL)
    assert (other.record_domain, other.policy) == ("psd.test", "quarantine")


def test_np_applies_to_subdomains_that_do_not_exist(resolver, run):
    real = check(run, resolver, "real.np.test", SPF_FAIL)
    assert (real.policy, real.status) == ("none", Status.WARNING)
    ghost = check(run, resolver, "ghost.np.test", SPF_FAIL)
    assert (ghost.policy, ghost.status) == ("reject", Status.FAIL)
    assert "np=reject (inherited from np.test)" in ghost.summary
    assert "ghost.np.test does not exist in DNS; the np= of np.test applies" in ghost.details
    assert any("do not know np=" in d for d in ghost.details)
    assert run(dmarc.policy_of("ghost.np.test", resolver)) == "reject"


def test_an_invalid_p_with_a_valid_rua_acts_as_p_none(resolver, run):
    finding = check(run, resolver, "invalidrua.example.test", SPF_FAIL)
    assert (finding.policy, finding.status) == ("none", Status.WARNING)
    assert any("p='block' is invalid" in d and "as if the record said p=none" in d for d in finding.details)


def test_a_record_without_p_acts_as_p_none(resolver, run):
    finding = check(run, resolver, "nop.example.test", SPF_FAIL)
    assert finding.policy == "none"
    assert any("p= tag (the policy) is missing" in d for d in finding.details)


def test_testing_applies_the_next_milder_policy(resolver, run):
    finding = check(run, resolver, "testing.example.test", SPF_FAIL)
    assert finding.policy == "quarantine"
    assert "p=reject, testing (t=y): receivers apply quarantine" in finding.summary
    assert "will be quarantined" in finding.summary
    assert any("do not know t=" in d for d in finding.details)


def test_invalid_values_fall_back_to_their_defaults(resolver, run):
    finding = check(run, resolver, "badvalues.example.test")
    assert (finding.policy, finding.status) == ("quarantine", Status.WARNING)
    details = "\n".join(finding.details)
    for words in (
        "adkim='x' is invalid",
        "fo='2' is invalid",
        "pct='101' is invalid",
        "'dmarc@x' is not a URI",
        "'bogus' is not a tag",
    ):
        assert words in details


def test_tree_walk_skips_to_seven_labels(resolver, run):
    walked = check(run, resolver, "1.2.3.4.5.6.7.example.com", tree_walk=True)
    assert walked.record_domain == "example.com"  # _dmarc.2.3.4.5.6.7.example.com (8 labels) is skipped
    assert (
        check(run, resolver, "2.3.4.5.6.7.example.com", tree_walk=True).record_domain
        == "2.3.4.5.6.7.example.com"
    )


def test_record_behind_a_cname(resolver, run):
    finding = check(run, resolver, "cname.example.test")
    assert (finding.policy, finding.status) == ("quarantine", Status.PASS)


def test_authorized_external_reports(resolver, run):
    finding = check(run, resolver, "ext.example.test")
    assert finding.status is Status.WARNING  # p=none only
    assert "example.net accepts DMARC reports for ext.example.test" in finding.details
    assert finding.fix is None


def test_unauthorized_external_reports_warn_with_the_record(resolver, run):
    finding = check(run, resolver, "noauth.example.test")
    assert any("reports to example.net will not be sent" in d for d in finding.details)
    assert finding.fix == 'noauth.example.test._report._dmarc.example.net. IN TXT "v=DMARC1"'
    same_org = check(run, resolver, "example.com")
    assert not any("_report._dmarc" in d for d in same_org.details)


def test_unreachable_report_destination_is_a_note(resolver, run):
    finding = check(run, resolver, "away.example.test")
    assert finding.status is Status.WARNING and finding.fix is None
    assert any("could not check that reports.broken.test accepts reports" in d for d in finding.details)


def test_dns_failures_are_unknown(resolver, silent_resolver, run):
    servfail = check(run, resolver, "x.broken.test")
    assert servfail.status is Status.UNKNOWN and "servfail" in servfail.summary
    assert check(run, silent_resolver, "reject.example.test").status is Status.UNKNOWN


@pytest.mark.parametrize(
    "domain, policy",
    [
        ("example.org", "reject"),
        ("jane@mail.example.org", "reject"),
        ("mail.example.com", "quarantine"),
        ("none.example.test", "none"),
        ("missing.example.test", None),
        ("multi.example.test", None),
    ],
)
def test_policy_of(resolver, run, domain, policy):
    assert run(dmarc.policy_of(domain, resolver)) == policy


def test_policy_of_unknown_and_bad_input(resolver, silent_resolver, run):
    assert run(dmarc.policy_of("example.org", silent_resolver)) is None
    with pytest.raises(ValueError):
        run(dmarc.policy_of("not a domain", resolver))


def test_parse_full_record():
    record = dmarc.parse_dmarc_record(
        "v=DMARC1;P=Reject; sp=none; np=quarantine; pct=0; adkim=s; aspf=S; fo=1:d; ri=3600; psd=n; t=y;"
        " rua=mailto:a@example.com!10m, mailto:b%40x@Example.NET ; ruf=https://example.com/r"
    )
    assert (record.policy, record.subdomain_policy, record.nonexistent_policy) == (
        "reject",
        "none",
        "quarantine",
    )
    assert (record.pct, record.adkim, record.aspf, record.fo, record.ri) == (0, "s", "s", ("1", "d"), 3600)
    assert (record.psd, record.testing) == ("n", True)
    assert record.rua == (
        dmarc.ReportUri("mailto:a@example.com", "10m", "example.com"),
        dmarc.ReportUri("mailto:b%40x@Example.NET", None, "example.net"),
    )
    assert record.ruf == (dmarc.ReportUri("https://example.com/r"),)
    assert record.warnings == ("ruf: receivers only send reports to mailto: URIs, not https://example.com/r",)
    assert record.policy_for(subdomain=True) == "none"


def test_parse_defaults_and_tolerated_empty_tags():
    record = dmarc.parse_dmarc_record("v = DMARC1 ;; p=none;")
    assert record == dmarc.DmarcRecord("none")
    assert record.policy_for(subdomain=True) == "none"


@pytest.mark.parametrize(
    "text, message",
    [
        ("p=reject; v=DMARC1", "must start with v=DMARC1"),
        ("v=DMARC2; p=reject", "must start with v=DMARC1"),
        ("v=DMARC1; p=reject; P=none", "tag 'p' appears twice"),
        ("v=DMARC1; p=reject; sp=all", "sp='all' is invalid"),
        ("v=DMARC1; p=block; rua=dmarc@example.com", "and no valid rua= address"),
        ("v=DMARC1; np=maybe", "np='maybe' is invalid"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(dmarc.DmarcParseError) as error:
        dmarc.parse_dmarc_record(text)
    assert message in str(error.value)


@pytest.mark.parametrize("name", ["ptr", "neutral", "nine"])
def test_spf_with_warnings_that_authorizes_the_provider_meets_the_policy(resolver, run, name):
    domain = f"{name}.spf.test"
    spf_finding, _ = run(spf.check(domain, resolver, "_spf.provider.test", ()))
    assert spf_finding.status is Status.WARNING and spf_finding.authorizes_provider
    finding = check(run, resolver, domain, spf_finding)
    assert finding.status is Status.PASS
    assert finding.summary == "DMARC policy p=reject is met: mail passes SPF"


def test_spf_with_warnings_without_the_provider_does_not(resolver, run):
    spf_finding, _ = run(spf.check("bare.spf.test", resolver, "_spf.provider.test", ()))
    assert spf_finding.status is Status.FAIL and not spf_finding.authorizes_provider
    assert "will be rejected" in check(run, resolver, "bare.spf.test", spf_finding).summary


@pytest.mark.parametrize(
    "text, warning",
    [
        ("v=DMARC1", "p= tag (the policy) is missing: receivers act as if it said p=none"),
        ("v=DMARC1; p=reject; pct=101", "pct='101' is invalid (expected a whole number from 0 to 100)"),
        ("v=DMARC1; p=reject; pct=-1", "pct='-1' is invalid"),
        (
            "v=DMARC1; p=reject; adkim=x",
            "adkim='x' is invalid (expected r or s): receivers use the default adkim=r",
        ),
        ("v=DMARC1; p=reject; fo=2", "fo='2' is invalid (expected a colon-separated list of 0, 1, d, s)"),
        ("v=DMARC1; p=reject; ri=1h", "ri='1h' is invalid"),
        (
            "v=DMARC1; p=reject; rua=dmarc@example.com",
            "is not a URI (write mailto:address@domain); it is ignored",
        ),
        ("v=DMARC1; p=reject; rua=mailto:dmarc", "'mailto:dmarc' is not a valid mailto: address"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com!10x", "size limit !10x is invalid"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com,", "'' is not a URI"),
        ("v=DMARC1; p=reject; x=é", "unknown tag x= is ignored"),
        ("v=DMARC1; p=reject; psd=maybe", "psd='maybe' is invalid"),
        ("v=DMARC1; p=reject; t=yes", "t='yes' is invalid"),
    ],
)
def test_invalid_values_are_replaced_not_fatal(text, warning):
    record = dmarc.parse_dmarc_record(text)
    assert any(warning in w for w in record.warnings), record.warnings
    assert record.policy == ("none" if text == "v=DMARC1" else "reject")


def test_several_records_are_skipped_and_the_parent_policy_applies(resolver, run):
    finding = check(run, resolver, "twice.example.com", SPF_FAIL)
    assert finding.status is Status.FAIL
    assert finding.summary.startswith(
        "2 DMARC records at _dmarc.twice.example.com: receivers ignore them all; "
    )
    assert "sp=quarantine (inherited from example.com)" in finding.summary
    assert (finding.policy, finding.record_domain) == ("quarantine", "example.com")
