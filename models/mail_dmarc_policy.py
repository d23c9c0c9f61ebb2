"""``mail.dmarc.policy``: the DMARC policy of the domains of the database's correspondents (internal
users, contacts), as last looked up by the daily check or the People tab of Domain Health. The send
path reads them (``ir.mail_server``, DMARC-aware relaying): it never queries DNS itself."""

import logging

from odoo import api, fields, models

from ..deliverability.relaying import STRICT_POLICIES, RelayFacts
from .mail_domain_health import domains_of

_logger = logging.getLogger(__name__)

PARTNER_DOMAINS_LIMIT = 500  # the most common contact domains: the look-ups stay bounded


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
    def _dmarc_correspondents(self):
        """``(users, contacts)``: ``{internal user: domain}`` and ``{domain: contacts}`` (contacts that are
        not users, the most common domains first, at most ``PARTNER_DOMAINS_LIMIT`` domains)."""
        users = self.env["res.users"].sudo().search([("share", "=", False), ("email", "!=", False)])
        user_domains = {user: next(iter(domains_of(user.email, addresses_only=True)), None) for user in users}
        partners = (
            self.env["res.partner"]
            .sudo()
            .search([("email", "!=", False), ("user_ids", "=", False), ("active", "=", True)])
        )
        by_domain = {}
        for partner in partners:
            for domain in domains_of(partner.email, addresses_only=True)[:1]:
                by_domain.setdefault(domain, self.env["res.partner"])
                by_domain[domain] |= partner
        common = sorted(by_domain, key=lambda d: -len(by_domain[d]))[:PARTNER_DOMAINS_LIMIT]
        return {u: d for u, d in user_domains.items() if d}, {d: by_domain[d] for d in common}

    @api.model
    def _dmarc_look_up(self, domains):
        """``{domain: policy}`` of ``domains`` looked up now (``mail.domain.health`` settings), kept as
        the last known policies; a domain DNS did not answer for is left out and keeps what was known."""
        policies = self.env["mail.domain.health"]._health_dmarc_policies(sorted(set(domains)))
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
        return policies

    @api.model
    def _dmarc_refresh(self):
        """The daily check's part: look up again the correspondents' domains and those already known."""
        users, contacts = self._dmarc_correspondents()
        known = self.sudo().search([]).mapped("domain")
        return self._dmarc_look_up([*users.values(), *contacts, *known])

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
