"""``mail.domain.health``: the settings of the checks, gathered from the database.

The model gathers raw values (system parameters, outgoing servers' hosts, the hosting platform);
``deliverability.health_settings`` turns them into the options of a run, and chooses the
sending provider with ``deliverability.providers``.
"""

import dataclasses
import logging
import os

from odoo import _, api, models, tools

from .. import seams
from ..deliverability import health_settings, providers
from ..deliverability.dns import system_nameservers

_logger = logging.getLogger(__name__)

PARAM = "mail_domain_health.%s"
SETTING_KEYS = (
    "provider", "spf_include", "dkim_selectors", "nameservers", "sending_ips", "dns_timeout",
    "domain_deadline",
)  # fmt: skip


class MailDomainHealth(models.Model):
    _inherit = "mail.domain.health"

    @api.model
    def _health_param(self, key, default=""):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM % key) or default

    @api.model
    def _health_hosted_on(self):
        """The hosting platform whose servers send this database's mail when it has no outgoing
        server of its own: ``odoo`` on Odoo.sh, None when self-hosted.

        Odoo.sh sets the ``ODOO_STAGE`` environment variable (production, staging, dev) in every
        container it runs; a self-hosted server does not. (Odoo Online and Flectra's cloud do not
        install third-party modules: a Flectra database is self-hosted, or says so in the settings.)
        """
        return "odoo" if os.environ.get("ODOO_STAGE") else None

    @api.model
    def _health_smtp_hosts(self):
        """The hosts of the active outgoing servers in priority order, else the configuration file's
        (on Odoo.sh the configuration file's server is the platform's: not the database's own)."""
        servers = self.env["ir.mail_server"].sudo().search([("smtp_host", "!=", False)])
        hosts = servers.mapped("smtp_host")
        if not hosts and tools.config.get("smtp_server") and not self._health_hosted_on():
            hosts = [tools.config["smtp_server"]]
        return list(dict.fromkeys(host.strip().lower() for host in hosts if host.strip()))

    @api.model
    def _health_dkim_selectors(self):
        """DKIM selectors every domain is checked for besides the provider's and the settings' ones.

        Extension point: a module that signs mail with its own keys returns their selectors here
        (``return super()._health_dkim_selectors() + (...)``).
        """
        return ()

    @api.model
    def _health_system_nameservers(self):
        """The machine's resolvers; None in tests, which only ever talk to loopback."""
        return None if seams.testing(self.env) else system_nameservers

    @api.model
    def _health_params(self):
        return {key: self._health_param(key) or None for key in SETTING_KEYS}

    @api.model
    def _health_settings(self):
        """The ``HealthSettings`` of a run; ``ValueError`` with a readable message when unusable."""
        settings = health_settings.resolve(
            self._health_params(),
            self._health_smtp_hosts(),
            self._health_hosted_on(),
            system_nameservers=self._health_system_nameservers(),
            extra_selectors=tuple(self._health_dkim_selectors()),
        )
        for text in settings.ignored_ips:
            _logger.warning("Domain health: ignoring sending IP %r: not an IP address", text)
        own_keys = self.env["mail.dkim.key"]._dkim_own_keys()  # each checked on its domain
        return dataclasses.replace(settings, options=dataclasses.replace(settings.options, own_keys=own_keys))

    @api.model
    def _health_assumption(self, setting=None, spf_include=None):
        """The sending provider the checks assume and why (no DNS), for the saved settings or the
        given ``setting`` and ``spf_include``; ``ValueError`` when the setting is unusable."""
        if setting is None:
            setting, spf_include = self._health_param("provider"), self._health_param("spf_include")
        return health_settings.choose_provider(
            setting, spf_include, self._health_smtp_hosts(), self._health_hosted_on()
        )

    @api.model
    def _health_provider_explanation(self, setting=None, spf_include=None):
        """One or two sentences saying which provider the checks assume, why, and how its DKIM is
        checked (arguments as for ``_health_assumption``)."""
        try:
            assumption = self._health_assumption(setting, spf_include)
        except ValueError as exc:
            return _("The sending provider cannot be used: %s", exc)
        provider, reason = assumption.provider, assumption.reason
        if reason is providers.Reason.SETTING:
            why = _("%(provider)s, as chosen in the settings.", provider=provider.label)
        elif reason is providers.Reason.SMTP_HOST:
            why = _(
                "%(provider)s: the outgoing server %(host)s is theirs.",
                provider=provider.label,
                host=assumption.host,
            )
        elif reason is providers.Reason.PLATFORM:
            why = _(
                "%(provider)s: this database runs on Odoo.sh and has no outgoing server of its own, so the "
                "platform's servers send its mail.",
                provider=provider.label,
            )
        elif assumption.unknown_hosts:
            why = _(
                "%(provider)s: the outgoing servers (%(hosts)s) are not a provider this module knows. If "
                "they relay through a provider, choose it in Sending Provider.",
                provider=provider.label,
                hosts=", ".join(assumption.unknown_hosts),
            )
        else:
            why = _(
                "%(provider)s: no outgoing server is configured, so Odoo sends through the SMTP server of "
                "this machine.",
                provider=provider.label,
            )
        dkim = self._health_dkim_explanation(provider)
        return f"{why} {dkim}" if dkim else why

    @api.model
    def _health_dkim_explanation(self, provider):
        if provider.authorized_by_ips:
            ips = ", ".join(health_settings.split_values(self._health_param("sending_ips")))
            spf = (
                _("SPF: the sending IPs %s must pass each domain's record (ip4:/ip6:).", ips)
                if ips
                else _(
                    "SPF: the addresses of the outgoing servers' hosts must pass each domain's record "
                    "(ip4:/ip6:); give the public addresses in Sending IPs if they are not those."
                )
            )
            return _(
                "%s DKIM: the database signs with its own keys (DKIM Keys in the technical settings).", spf
            )
        selectors = ", ".join(provider.selectors)
        setup = provider.dkim_setup
        if setup is providers.DkimSetup.DELEGATED:
            targets = ", ".join(f"{k.selector} → {k.target}" for k in provider.dkim)
            return _("DKIM: each domain points its selector to the provider's key (%s).", targets)
        if setup is providers.DkimSetup.ACCOUNT_TARGET:
            return _(
                "DKIM: the selectors %(selectors)s must lead to the keys your %(provider)s account names "
                "(copy the records from its console).",
                selectors=selectors,
                provider=provider.label,
            )
        if setup is providers.DkimSetup.OWN_KEY:
            return _(
                "DKIM: the key of selector %(selectors)s is made for each domain in the %(provider)s "
                "console and published as a TXT record.",
                selectors=selectors,
                provider=provider.label,
            )
        if setup is providers.DkimSetup.ACCOUNT_SELECTORS:
            extra = ", ".join(health_settings.split_values(self._health_param("dkim_selectors")))
            if extra:
                return _(
                    "DKIM: %(provider)s gives the selectors of each domain; checked: %(selectors)s.",
                    provider=provider.label,
                    selectors=extra,
                )
            return _(
                "DKIM: %(provider)s gives the selectors of each domain in its console: add them to DKIM "
                "Selectors in the settings, or DKIM is not checked.",
                provider=provider.label,
            )
        return ""
