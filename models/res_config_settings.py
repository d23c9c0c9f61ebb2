from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..deliverability import providers
from ..deliverability.dns import Nameserver
from ..deliverability.domains import DKIM_SELECTOR, address_problem
from ..deliverability.health_settings import AUTOMATIC, CUSTOM, OWN_SERVER, split_values
from .mail_server_usage import DAILY_LIMIT_PARAMETER


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    domain_health_provider = fields.Selection(
        lambda self: self._domain_health_provider_choices(),
        string="Sending Provider",
        default=AUTOMATIC,
        required=True,
        config_parameter="mail_domain_health.provider",
        help="Who sends the database's mail: decides what the domains must publish in SPF and DKIM. "
        "Automatic: the provider of the outgoing servers' hosts; else, on Odoo.sh without an outgoing "
        "server, Odoo; else your own SMTP server, authorized by its addresses.",
    )
    domain_health_provider_note = fields.Char(
        string="Provider Assumed", compute="_compute_domain_health_provider_note"
    )
    domain_health_spf_include = fields.Char(
        string="SPF Include",
        config_parameter="mail_domain_health.spf_include",
        help="The domain your SMTP provider asks you to include in SPF, e.g. _spf.example.com.",
    )
    domain_health_dkim_selectors = fields.Char(
        string="DKIM Selectors",
        config_parameter="mail_domain_health.dkim_selectors",
        help="Selectors your mail is signed with besides the provider's, separated by commas.",
    )
    domain_health_nameservers = fields.Char(
        string="DNS Nameservers",
        config_parameter="mail_domain_health.nameservers",
        help="IP addresses (with an optional :PORT) of the nameservers the checks ask, separated by "
        "commas. Empty: the server's own resolvers (/etc/resolv.conf).",
    )
    domain_health_sending_ips = fields.Char(
        string="Sending IPs",
        config_parameter="mail_domain_health.sending_ips",
        help="The public addresses your mail leaves from, evaluated against SPF. Empty: the addresses "
        "of the outgoing mail servers' hosts. Loopback and private addresses are refused: receivers "
        "never see mail come from them.",
    )
    domain_health_retention_days = fields.Integer(
        string="Keep History (days)",
        default=90,
        config_parameter="mail_domain_health.retention_days",
        help="Check results unchanged for longer are removed; 0 keeps everything.",
    )

    domain_health_dmarc_retention_days = fields.Integer(
        string="Keep DMARC Reports (days)",
        default=180,
        config_parameter="mail_domain_health.dmarc_retention_days",
        help="DMARC reports (and their rows) older than this are removed every day; 0 keeps everything.",
    )
    domain_health_daily_limit = fields.Integer(
        string="Daily Sending Limit",
        config_parameter=DAILY_LIMIT_PARAMETER,
        help="Messages the SMTP server of the configuration file may send per day (UTC), as its relay "
        "allows (e.g. 200). The mails beyond it wait in the queue for the next day, in order. 0: no "
        "limit. Each outgoing server has its own.",
    )
    domain_health_sent_today = fields.Integer(
        string="Sent Today", compute="_compute_domain_health_sent_today",
        help="Messages sent today (UTC) through the SMTP server of the configuration file.",
    )  # fmt: skip

    def _compute_domain_health_sent_today(self):
        usage = self.env["mail.server.usage"].sudo().search([("server_id", "=", False)], limit=1)
        for settings in self:
            settings.domain_health_sent_today = usage._mdh_sent_today() if usage else 0

    @api.model
    def _domain_health_provider_choices(self):
        table = [(p.name, f"{p.label} ({p.spf_include})") for p in providers.TABLE]
        return [
            (AUTOMATIC, _("Automatic")),
            (OWN_SERVER, _("My own SMTP server (authorized by its addresses)")),
            *table,
            (CUSTOM, _("Another provider (its SPF include)")),
        ]

    @api.depends("domain_health_provider", "domain_health_spf_include")
    def _compute_domain_health_provider_note(self):
        health = self.env["mail.domain.health"]
        for settings in self:
            settings.domain_health_provider_note = health._health_provider_explanation(
                settings.domain_health_provider or False, settings.domain_health_spf_include, here=True
            )

    @api.constrains(
        "domain_health_provider",
        "domain_health_spf_include",
        "domain_health_dkim_selectors",
        "domain_health_nameservers",
        "domain_health_sending_ips",
        "domain_health_retention_days",
        "domain_health_dmarc_retention_days",
    )
    def _check_domain_health_settings(self):
        for settings in self:
            settings._domain_health_validate()

    def _domain_health_validate(self):
        if self.domain_health_provider == CUSTOM:
            if not self.domain_health_spf_include:
                raise ValidationError(_("A custom sending provider needs the SPF include to check."))
            try:
                providers.spf_include_name(self.domain_health_spf_include)
            except ValueError as exc:
                raise ValidationError(_("SPF include: %s", exc)) from None
        for selector in split_values(self.domain_health_dkim_selectors):
            if not DKIM_SELECTOR.match(selector):  # the DKIM check's own rule
                raise ValidationError(_("DKIM selector %r is not a valid DNS label.", selector))
        for item in split_values(self.domain_health_nameservers):
            try:
                Nameserver.parse(item)
            except ValueError as exc:
                raise ValidationError(_("DNS nameservers: %s", exc)) from None
        for item in split_values(self.domain_health_sending_ips):
            problem = address_problem(item)  # the settings refuse them; the engine takes what it is given
            if problem:
                raise ValidationError(_("Sending IPs: %(ip)s is %(problem)s.", ip=item, problem=problem))
        if self.domain_health_retention_days < 0 or self.domain_health_dmarc_retention_days < 0:
            raise ValidationError(_("A retention cannot be negative."))
