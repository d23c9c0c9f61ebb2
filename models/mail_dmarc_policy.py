"""``mail.dmarc.policy``: the DMARC policy of the domains of the database's correspondents (internal
users, contacts), as last looked up by the daily check or the People tab of Domain Health. The send
path reads them (``ir.mail_server``, DMARC-aware relaying): it never queries DNS itself."""

from odoo import api, fields, models

from ..deliverability.relaying import STRICT_POLICIES, RelayFacts
from .mail_domain_health import domains_of


class MailDmarcPolicy(models.Model):
    _name = "mail.dmarc.policy"
    _description = "DMARC Policy of a Correspondent's Domain"
    _order = "domain"
    _rec_name = "domain"

    domain = fields.Char(required=True, index=True, readonly=True)
    policy = fields.Selection(
        [("none", "p=none"), ("quarantine", "p=quarantine"), ("reject", "p=reject"), ("absent", "No DMARC")],
        string="DMARC Policy",
        required=True,
        readonly=True,
    )
    checked = fields.Datetime("Looked Up", readonly=True)

    @api.model
    def _dmarc_store(self, policies):
        """Keep ``{domain: policy}`` (answered look-ups; None: no DMARC record) as the last known
        policies; a domain left out (DNS did not answer) keeps what was known."""
        existing = {r.domain: r for r in self.sudo().search([("domain", "in", list(policies))])}
        now = fields.Datetime.now()
        new = []
        for domain, policy in policies.items():
            values = {"policy": policy or "absent", "checked": now}
            if domain in existing:
                existing[domain].write(values)
            else:
                new.append({"domain": domain, **values})
        self.sudo().create(new)

    @api.model
    def _dmarc_refresh_domains(self):
        """The domains whose policies the daily check looks up again: those the People tab asks about
        and those already known."""
        user_domains, _by_domain, partner_domains = self.env["mail.domain.health.wizard"]._people_addresses()
        known = self.sudo().search([]).mapped("domain")
        return sorted({*filter(None, user_domains.values()), *partner_domains, *known})

    @api.model
    def _dmarc_own_domains(self):
        """The domains the database sends for: its alias domains and mail parameters, the domains it
        has DKIM keys for and those whose mail passed their DMARC policy at the last check. An outgoing
        server's From filter alone does not make a domain the database's: it may list a contact's."""
        own = set()
        for alias_domain in self.env["mail.alias.domain"].sudo().search([]):
            own.update(domains_of(alias_domain.name))
            own.update(domains_of(alias_domain.default_from_email, addresses_only=True))
        icp = self.env["ir.config_parameter"].sudo()
        own.update(domains_of(icp.get_param("mail.catchall.domain")))
        own.update(domains_of(icp.get_param("mail.default.from"), addresses_only=True))
        own.update(domains_of(icp.get_param("mail.default.from_filter")))
        own.update(self.env["mail.dkim.key"].sudo().search([]).mapped("domain"))
        own.update(
            self.env["mail.domain.health"].sudo().search([("dmarc_state", "=", "pass")]).mapped("name")
        )
        return own

    @api.model
    def _dmarc_relay_facts(self):
        """``RelayFacts`` of the send path: the stored strict policies and, when there are any, the
        domains the database sends for (read once per send; one query when no policy is strict)."""
        strict = self.sudo().search_read([("policy", "in", STRICT_POLICIES)], ["domain", "policy"])
        own = self._dmarc_own_domains() if strict else ()
        return RelayFacts.of({r["domain"]: r["policy"] for r in strict}, own)
