"""Sending providers: the SPF include and DKIM selectors a provider asks domains to publish,
the SMTP hosts that tell it apart, and which provider a database is assumed to send through.

Sources (the providers' own documentation, read in 2026):

- Flectra: its documentation "Use an email domain in Flectra" (quoted in readme/DESCRIPTION.rst)
- Odoo: https://www.odoo.com/documentation/18.0/applications/general/email_communication/email_domain.html
- Google Workspace: https://support.google.com/a/answer/33786 (SPF),
  https://support.google.com/a/answer/174124 (DKIM), https://support.google.com/a/answer/176600 (SMTP)
- Microsoft 365: https://learn.microsoft.com/en-us/defender-office-365/email-authentication-spf-configure,
  https://learn.microsoft.com/en-us/defender-office-365/email-authentication-dkim-configure
- Amazon SES: https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html,
  https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html,
  https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html
- SendGrid: https://www.twilio.com/docs/sendgrid/ui/account-and-settings/how-to-set-up-domain-authentication
- Mailgun: https://documentation.mailgun.com/docs/mailgun/user-manual/domains/domains-verify
- Brevo: https://help.brevo.com/hc/en-us/articles/17286219877778,
  https://help.brevo.com/hc/en-us/articles/16045394674066
- Postmark: https://postmarkapp.com/support/article/1091-how-do-i-set-up-dkim-for-postmark,
  https://postmarkapp.com/support/article/1092-how-do-i-set-up-spf-for-postmark (the include is
  optional there: Postmark's own Return-Path passes SPF)
- Mailjet: https://documentation.mailjet.com/hc/en-us/articles/360042412734
- Zoho Mail: https://www.zoho.com/mail/help/adminconsole/spf-configuration.html,
  https://www.zoho.com/mail/help/adminconsole/dkim-configuration.html
- OVHcloud: https://help.ovhcloud.com/csm/en-dns-zone-spf, https://help.ovhcloud.com/csm/en-dns-zone-dkim

A database that sends through its own SMTP server (``OWN``) has no provider: its relay is
authorized in SPF by its addresses (``ip4:``/``ip6:``), judged by check_host() of the sending IPs,
and its mail is DKIM-signed by the database itself (``mail.dkim.key``).

How each provider's DKIM works differs, and the table says so (``DkimSetup``): only Flectra and
Odoo delegate a selector to one key name that is the same for every customer. Others give fixed
selectors whose CNAME target or key is per account (checked as "a valid key is published there"),
or selectors chosen per domain in their console, which the administrator adds to the selectors
to check.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from .domains import is_ip, normalize_domain


class DkimSetup(str, enum.Enum):
    """How a provider's DKIM keys are published in the customer's zone."""

    DELEGATED = "delegated"  # fixed selectors, CNAME to a key name the same for every customer
    ACCOUNT_TARGET = "account_target"  # fixed selectors, CNAME to a name given per account
    OWN_KEY = "own_key"  # fixed selectors, the key (TXT) is generated per domain in the console
    ACCOUNT_SELECTORS = "account_selectors"  # selectors themselves are given per domain
    NONE = "none"  # no provider key: the selectors of the settings only


@dataclass(frozen=True)
class DkimKey:
    """A provider's selector; ``target`` is the CNAME target when it is the same for every domain."""

    selector: str
    target: str | None = None


@dataclass(frozen=True)
class Provider:
    """What a domain must publish for mail sent through ``label``.

    ``smtp_hosts`` are shell patterns (``*.sendgrid.net``) of the SMTP hosts that are this provider's.
    ``spf_include`` is empty for a relay authorized by its addresses (``OWN``).
    """

    name: str
    label: str
    spf_include: str
    dkim: tuple[DkimKey, ...] = ()
    dkim_setup: DkimSetup = DkimSetup.NONE
    smtp_hosts: tuple[str, ...] = ()

    @property
    def authorized_by_ips(self) -> bool:
        """True when SPF authorizes this sender by its addresses, not by an include."""
        return not self.spf_include

    @property
    def selectors(self) -> tuple[str, ...]:
        return tuple(key.selector for key in self.dkim)

    def dkim_target(self, selector: str) -> str | None:
        """The CNAME target ``selector`` must point to, when the provider has one for every domain."""
        return next((key.target for key in self.dkim if key.selector == selector), None)

    def sends_through(self, host: str) -> bool:
        host = host.strip().lower().rstrip(".")
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.smtp_hosts)


def _keys(*selectors: str) -> tuple[DkimKey, ...]:
    return tuple(DkimKey(selector) for selector in selectors)


FLECTRA = Provider(
    "flectra", "Flectra", "_spf.flectra.com",
    (DkimKey("flectra", "flectra._domainkey.flectra.com"),), DkimSetup.DELEGATED,
)  # fmt: skip
ODOO = Provider(
    "odoo", "Odoo", "_spf.odoo.com",
    (DkimKey("odoo", "odoo._domainkey.odoo.com"),), DkimSetup.DELEGATED,
)  # fmt: skip
TABLE = (
    FLECTRA,
    ODOO,
    Provider(
        "google", "Google Workspace", "_spf.google.com", _keys("google"), DkimSetup.OWN_KEY,
        ("smtp.gmail.com", "smtp-relay.gmail.com", "*.google.com", "*.googlemail.com"),
    ),
    Provider(
        "microsoft", "Microsoft 365", "spf.protection.outlook.com",
        _keys("selector1", "selector2"), DkimSetup.ACCOUNT_TARGET,
        ("smtp.office365.com", "*.mail.protection.outlook.com", "smtp-mail.outlook.com"),
    ),
    Provider(
        "amazon_ses", "Amazon SES", "amazonses.com", (), DkimSetup.ACCOUNT_SELECTORS,
        ("email-smtp.*.amazonaws.com", "email-smtp-fips.*.amazonaws.com"),
    ),
    Provider(
        "sendgrid", "SendGrid", "sendgrid.net", _keys("s1", "s2"), DkimSetup.ACCOUNT_TARGET,
        ("smtp.sendgrid.net", "*.sendgrid.net"),
    ),
    Provider(
        "mailgun", "Mailgun", "mailgun.org", (), DkimSetup.ACCOUNT_SELECTORS,
        ("smtp.mailgun.org", "smtp.eu.mailgun.org", "*.mailgun.org"),
    ),
    Provider(
        "brevo", "Brevo", "spf.brevo.com", _keys("brevo1", "brevo2"), DkimSetup.ACCOUNT_TARGET,
        ("smtp-relay.brevo.com", "smtp-relay.sendinblue.com", "*.brevo.com", "*.sendinblue.com"),
    ),
    Provider(
        "postmark", "Postmark", "spf.mtasv.net", (), DkimSetup.ACCOUNT_SELECTORS,
        ("smtp.postmarkapp.com", "smtp-broadcasts.postmarkapp.com", "*.postmarkapp.com"),
    ),
    Provider(
        "mailjet", "Mailjet", "spf.mailjet.com", _keys("mailjet"), DkimSetup.OWN_KEY,
        ("in-v3.mailjet.com", "in.mailjet.com", "*.mailjet.com"),
    ),
    Provider(
        "zoho", "Zoho Mail", "zoho.com", (), DkimSetup.ACCOUNT_SELECTORS,
        ("smtp.zoho.com", "smtppro.zoho.com", "*.zoho.com"),
    ),
    Provider(
        "zoho_eu", "Zoho Mail (EU)", "zoho.eu", (), DkimSetup.ACCOUNT_SELECTORS,
        ("smtp.zoho.eu", "smtppro.zoho.eu", "*.zoho.eu"),
    ),
    Provider(
        "ovh", "OVHcloud", "mx.ovh.com", (), DkimSetup.ACCOUNT_SELECTORS,
        ("ssl0.ovh.net", "*.mail.ovh.net", "*.ovh.net"),
    ),
)  # fmt: skip
OWN = Provider("own", "My own SMTP server", "")
PROVIDERS = {p.name: p for p in (*TABLE, OWN)}
# The hosting platforms whose own servers send a database's mail when no outgoing server is set.
PLATFORMS = {"odoo": ODOO, "flectra": FLECTRA}


def spf_include_name(text: str) -> str:
    """``text`` as the domain of an ``include:`` (IDNA, lower case); ``ValueError`` with a readable
    message when it is not a domain name (an IP address is not: RFC 7208 includes a name)."""
    value = (text or "").strip()
    if is_ip(value.strip("[]")) or normalize_domain(value).rpartition(".")[2].isdigit():
        raise ValueError(
            f"{value!r} is not a domain name: an SPF include names a domain such as _spf.example.com, "
            "not an IP address"
        )
    return normalize_domain(value)


def custom(spf_include: str, dkim_selector: str | None = None) -> Provider:
    """A self-hosted or other SMTP service: its own include, selectors without a CNAME target."""
    keys = _keys(dkim_selector) if dkim_selector else ()
    return Provider("custom", "Custom", spf_include, keys, DkimSetup.NONE)


def for_smtp_host(host: str) -> Provider | None:
    """The provider whose SMTP service ``host`` is, or None."""
    return next((p for p in TABLE if p.sends_through(host)), None)


class Reason(str, enum.Enum):
    """Why a provider is assumed (each interface words it for its readers)."""

    SETTING = "setting"  # chosen by the administrator (Odoo setting, --provider)
    SMTP_HOST = "smtp_host"  # the host of an outgoing server is the provider's
    PLATFORM = "platform"  # hosted (Odoo.sh) without an outgoing server: the platform's servers send
    OWN_SERVERS = "own_servers"  # self-hosted, or servers of no known provider: their addresses


@dataclass(frozen=True)
class Assumption:
    """The provider a run checks against and why; ``host`` is the SMTP host it was recognized by,
    ``unknown_hosts`` the outgoing servers' hosts that are no known provider."""

    provider: Provider
    reason: Reason
    host: str | None = None
    unknown_hosts: tuple[str, ...] = ()


def assume(smtp_hosts: Iterable[str], hosted_on: str | None = None) -> Assumption:
    """The provider of a database: the first of ``smtp_hosts`` (in server priority order) that is a
    known provider's; else, on a hosting platform (``hosted_on``: ``odoo`` on Odoo.sh) with no
    outgoing server of its own, the platform's servers; else its own servers (``OWN``), authorized
    by their addresses."""
    hosts = tuple(dict.fromkeys(h.strip().lower() for h in smtp_hosts if h and h.strip()))
    for host in hosts:
        provider = for_smtp_host(host)
        if provider is not None:
            return Assumption(provider, Reason.SMTP_HOST, host)
    platform = PLATFORMS.get((hosted_on or "").strip().lower())
    if platform is not None and not hosts:
        return Assumption(platform, Reason.PLATFORM)
    return Assumption(OWN, Reason.OWN_SERVERS, None, hosts)
