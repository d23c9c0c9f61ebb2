"""The providers table, which provider a database is assumed to send through, and the settings of a run."""

import pytest

from deliverability import domains, health_settings, lookups, options, providers
from deliverability.dns import Nameserver
from deliverability.providers import DkimSetup, Reason

ZONES = {
    "mailer.test": "smtp IN A 192.0.2.25\nsmtp IN AAAA 2001:db8::25\nlocal IN A 127.0.0.1",
}


def test_the_table_covers_the_common_smtp_services():
    expected = {
        "google": "_spf.google.com",
        "microsoft": "spf.protection.outlook.com",
        "amazon_ses": "amazonses.com",
        "sendgrid": "sendgrid.net",
        "mailgun": "mailgun.org",
        "brevo": "spf.brevo.com",
        "postmark": "spf.mtasv.net",
        "mailjet": "spf.mailjet.com",
        "zoho": "zoho.com",
        "ovh": "mx.ovh.com",
        "odoo": "_spf.odoo.com",
        "flectra": "_spf.flectra.com",
    }
    assert {name: providers.PROVIDERS[name].spf_include for name in expected} == expected
    for provider in providers.TABLE:
        # a selector list matches how the provider publishes its keys
        assert bool(provider.selectors) == (provider.dkim_setup is not DkimSetup.ACCOUNT_SELECTORS)
        targets = [key.target for key in provider.dkim]
        assert all(targets) == (provider.dkim_setup is DkimSetup.DELEGATED) or not targets
        assert (
            provider.label in providers.__doc__.replace("OVHcloud", "OVHcloud") or provider.name == "zoho_eu"
        )


def test_several_selectors_and_per_account_targets():
    microsoft = providers.PROVIDERS["microsoft"]
    assert microsoft.selectors == ("selector1", "selector2")
    assert microsoft.dkim_target("selector1") is None, "the CNAME target is per tenant"
    assert providers.FLECTRA.dkim_target("flectra") == "flectra._domainkey.flectra.com"
    checked = options.CheckOptions(microsoft, dkim_selectors=("selector2", "own"))
    assert checked.selectors == ("selector1", "selector2", "own")


@pytest.mark.parametrize(
    "host, name",
    [
        ("smtp.gmail.com", "google"),
        ("smtp-relay.gmail.com", "google"),
        ("SMTP.Office365.com.", "microsoft"),
        ("contoso-com.mail.protection.outlook.com", "microsoft"),
        ("email-smtp.eu-west-1.amazonaws.com", "amazon_ses"),
        ("smtp.sendgrid.net", "sendgrid"),
        ("smtp.eu.mailgun.org", "mailgun"),
        ("smtp-relay.sendinblue.com", "brevo"),
        ("smtp-relay.brevo.com", "brevo"),
        ("smtp.postmarkapp.com", "postmark"),
        ("in-v3.mailjet.com", "mailjet"),
        ("smtppro.zoho.eu", "zoho_eu"),
        ("smtp.zoho.com", "zoho"),
        ("ssl0.ovh.net", "ovh"),
        ("ec2-1-2-3-4.compute.amazonaws.com", None),
        ("mail.example.com", None),
        ("gmail.com.example.org", None),
    ],
)
def test_smtp_hosts_name_their_provider(host, name):
    found = providers.for_smtp_host(host)
    assert (found.name if found else None) == name


def test_the_first_known_host_decides_else_the_platform_else_the_own_servers():
    first = providers.assume(["mail.example.com", "smtp.sendgrid.net", "smtp.gmail.com"])
    assert (first.provider.name, first.reason, first.host) == (
        "sendgrid",
        Reason.SMTP_HOST,
        "smtp.sendgrid.net",
    )
    # self-hosted: whatever the servers, the database's own relay, authorized by its addresses
    own = providers.assume(["mail.example.com"])
    assert (own.provider, own.reason, own.unknown_hosts) == (
        providers.OWN,
        Reason.OWN_SERVERS,
        ("mail.example.com",),
    )
    assert providers.assume([]).provider == providers.OWN
    assert (providers.OWN.spf_include, providers.OWN.selectors, providers.OWN.authorized_by_ips) == (
        "",
        (),
        True,
    )
    # Odoo.sh: the platform's servers send when the database has none of its own; not otherwise
    assert providers.assume([], "odoo") == providers.Assumption(providers.ODOO, Reason.PLATFORM)
    assert providers.assume(["mail.example.com"], "odoo").provider == providers.OWN
    assert providers.assume([], "flectra").provider == providers.FLECTRA
    assert providers.assume([], "some fork").provider == providers.OWN


def test_the_setting_wins_and_bad_settings_say_why():
    chosen = health_settings.choose_provider("mailjet", None, ["smtp.gmail.com"])
    assert (chosen.provider.name, chosen.reason) == ("mailjet", Reason.SETTING)
    assert health_settings.choose_provider(None, None, ["smtp.gmail.com"]).provider.name == "google"
    custom = health_settings.choose_provider("custom", "_SPF.Example.com", []).provider
    assert (custom.spf_include, custom.selectors) == ("_spf.example.com", ())
    with pytest.raises(ValueError, match="no SPF include"):
        health_settings.choose_provider("custom", " ", [])
    with pytest.raises(ValueError, match="'192.0.2.1' is not a domain name: an SPF include names a domain"):
        health_settings.choose_provider("custom", "192.0.2.1", [])
    own = health_settings.choose_provider("own", None, ["smtp.gmail.com"])
    assert (own.provider, own.reason) == (providers.OWN, Reason.SETTING)
    with pytest.raises(ValueError, match="unknown sending provider 'nope'"):
        health_settings.choose_provider("nope", None, [])


def test_the_smtp_hosts_are_resolved_by_the_run_through_its_nameservers(nsd):
    params = {"nameservers": nsd.address, "dkim_selectors": "S1, s2", "dns_timeout": "0.5"}
    hosts = ["smtp.mailer.test", "local.mailer.test", "198.51.100.4", "smtp.sendgrid.net"]
    settings = health_settings.resolve(params, hosts, system_nameservers=None, extra_selectors=("k1",))
    assert settings.assumption.provider.name == "sendgrid"
    assert settings.options.selectors == ("s1", "s2", "k1")
    # the names are looked up by the run, beside its checks: none is asked while settings are read
    assert settings.options.sending_ips == ("198.51.100.4",)
    assert settings.options.sending_hosts == ("smtp.mailer.test", "local.mailer.test", "smtp.sendgrid.net")
    # literal first, then the names' addresses; loopback left out; sendgrid.net is not served: no address
    resolved = lookups.sending_ips(settings.options, settings.run_options)
    assert resolved == ("198.51.100.4", "192.0.2.25", "2001:db8::25")
    assert settings.run_options.nameservers == [Nameserver(nsd.host, nsd.port)]
    assert (settings.run_options.timeout, settings.run_options.lifetime) == (0.5, 1.25)

    configured = health_settings.resolve(
        {**params, "sending_ips": "203.0.113.9 not-an-ip ::1"}, hosts, system_nameservers=None
    )
    # the Sending IPs setting is used as given (the settings form refuses loopback and private ones)
    assert (configured.options.sending_ips, configured.ignored_ips) == (
        ("203.0.113.9", "::1"),
        ("not-an-ip",),
    )
    assert configured.options.sending_hosts == ()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("192.0.2.25", None),  # documentation ranges are addresses like any other
        ("2001:db8::25", None),
        ("203.0.113.9", None),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.20.0.5", "private"),
        ("192.168.1.10", "private"),
        ("100.64.0.1", "private"),
        ("fd00::5", "private"),
        ("169.254.0.1", "not the address of a host"),
        ("0.0.0.0", "not the address of a host"),
        ("mail.example.com", "not an IP address"),
    ],
)
def test_addresses_receivers_never_see_are_named_with_the_reason(text, problem):
    found = domains.address_problem(text)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "No nameserver configured"),
        ({"nameservers": "ns.example.com"}, "is not an IP address"),
        ({"nameservers": "127.0.0.1", "dns_timeout": "soon"}, "'soon' is not a number of seconds"),
        ({"nameservers": "127.0.0.1", "domain_deadline": "0"}, "must be a positive number"),
    ],
)
def test_unusable_settings_are_a_readable_error(params, message):
    with pytest.raises(ValueError, match=message):
        health_settings.resolve(params, [], system_nameservers=None)


def test_the_system_resolvers_are_used_only_when_allowed():
    found = [Nameserver("127.0.0.1", 5399)]
    assert health_settings.nameservers("", lambda: found) == found
    with pytest.raises(ValueError, match="none found in /etc/resolv.conf"):
        health_settings.nameservers(None, lambda: [])
