"""DMARC against a real NSD: discovery and inheritance, validation, report authorization, the seed's rule."""

from __future__ import annotations

import pytest

from deliverability import dmarc, spf
from deliverability.findings import Check, DkimFinding, Finding, Status

ZONES = {
    "example.com": "\n".join(
        [
            '_dmarc IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com"',
            '_dmarc.own IN TXT "v=DMARC1; p=none"',
            "mail IN A 192.0.2.1",
            '_dmarc.b IN TXT "v=DMARC1; p=none"',
            '_dmarc.2.3.4.5.6.7 IN TXT "v=DMARC1; p=none"',
        ]
    ),
    "example.org": '_dmarc IN TXT "v=DMARC1; p=reject"',
    "provider.test": '_spf IN TXT "v=spf1 ip4:192.0.2.0/25 ~all"',
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
    finding = run(dmarc.check(domain, resolver, spf, tuple(dkim), **kwargs))
    assert finding.check is Check.DMARC
    return finding


def test_reject_with_spf_passes(resolver, run):
    finding = check(run, resolver, "reject.example.test")
    assert finding.status is Status.PASS
    assert (finding.policy, finding.record_domain) == ("reject", "reject.example.test")
    assert finding.summary == "DMARC policy p=reject is met: mail passes SPF"
    assert "pct=50: the policy applies to 50% of failing mail" in finding.details


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
    assert len(finding.details) == 2


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


def test_tree_walk_finds_the_closest_parent(resolver, run):
    plain = check(run, resolver, "a.b.example.com")
    assert plain.record_domain == "example.com"
    walked = check(run, resolver, "a.b.example.com", tree_walk=True)
    assert (walked.record_domain, walked.policy) == ("b.example.com", "none")


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
        ("v=DMARC1", "p= tag (the policy) is missing"),
        ("v=DMARC1; p=reject; P=none", "tag 'p' appears twice"),
        ("v=DMARC1; p=reject; sp=all", "sp='all' is invalid"),
        ("v=DMARC1; p=reject; pct=101", "pct='101' is invalid: expected a whole number from 0 to 100"),
        ("v=DMARC1; p=reject; pct=-1", "pct='-1' is invalid"),
        ("v=DMARC1; p=reject; adkim=x", "adkim='x' is invalid: expected r or s"),
        ("v=DMARC1; p=reject; fo=2", "fo='2' is invalid: expected a colon-separated list of 0, 1, d, s"),
        ("v=DMARC1; p=reject; ri=1h", "ri='1h' is invalid"),
        ("v=DMARC1; p=reject; rua=dmarc@example.com", "is not a URI (write mailto:address@domain)"),
        ("v=DMARC1; p=reject; rua=mailto:dmarc", "'mailto:dmarc' is not a valid mailto: address"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com!10x", "size limit !10x is invalid"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com,", "'' is not a URI"),
        ("v=DMARC1; p=reject; x=é", "invalid character 'é'"),
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
    assert finding.summary == "DMARC policy p=reject is met: mail passes SPF (see its warnings)"


def test_spf_with_warnings_without_the_provider_does_not(resolver, run):
    spf_finding, _ = run(spf.check("bare.spf.test", resolver, "_spf.provider.test", ()))
    assert spf_finding.status is Status.FAIL and not spf_finding.authorizes_provider
    assert "will be rejected" in check(run, resolver, "bare.spf.test", spf_finding).summary
