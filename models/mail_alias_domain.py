"""``mail.alias.domain``: one identity with the system parameters (see deliverability/identity.py).

Saving an identity parameter writes it through to the alias domain it describes
(``_mdh_apply_parameters``, called by ``ir.config_parameter``); editing that alias domain writes the
new values back to the parameters that are set. Odoo then reads one identity everywhere: From,
envelope sender, Return-Path header, Reply-To, bounce recognition and alias routing. When that alias
domain is deleted or detached, the identity still holds: records take the alias domain the parameters
name (``_mdh_named_by_parameters``, see ``base``), companies resolve their addresses from the
parameters (``res.company``).
"""

from odoo import api, models

from ..deliverability import identity

IDENTITY_FIELDS = tuple(identity.FIELD_PARAMETERS)
SYNCING = "mdh_identity_sync"  # context key: a write of the synchronization itself, not an edit


class MailAliasDomain(models.Model):
    _inherit = "mail.alias.domain"

    def _mdh_values(self):
        self.ensure_one()
        return identity.AliasDomain(
            name=self.name,
            catchall_alias=self.catchall_alias or None,
            bounce_alias=self.bounce_alias or None,
            default_from=self.default_from or None,
        )

    @api.model
    def _mdh_named_by_parameters(self):
        """The alias domain ``mail.catchall.domain`` names (empty when no record has that name), or None
        when the parameter is not set."""
        domain = self.env["ir.config_parameter"].sudo()._mdh_identity_parameters().catchall_domain
        if not domain:
            return None
        return self.sudo().search([("name", "=ilike", domain)], limit=1)

    @api.model
    def _mdh_company_domains(self):
        companies = self.env["res.company"].sudo().with_context(active_test=False).search([])
        return companies, companies.alias_domain_id

    @api.model
    def _mdh_apply_parameters(self, previous_domain=None):
        """Write the identity parameters that are set through to the alias domains they describe:
        the one named by ``mail.catchall.domain`` (made every company's), else the alias domain of
        every company. When ``mail.catchall.domain`` changed from ``previous_domain`` to a name no
        alias domain has, that alias domain is renamed; with neither, one is created as Odoo's
        ``_migrate_icp_to_domain`` creates it."""
        parameters = self.env["ir.config_parameter"].sudo()._mdh_identity_parameters()
        if not parameters.any_set:
            return
        domains = self.sudo().with_context(**{SYNCING: True})
        companies, targets = self._mdh_company_domains()
        targets = targets.with_context(**{SYNCING: True})
        if parameters.catchall_domain:
            targets = domains.search([("name", "=ilike", parameters.catchall_domain)], limit=1)
            if not targets and previous_domain:
                targets = domains.search([("name", "=ilike", previous_domain)], limit=1)
            if not targets:
                targets = domains.create(identity.alias_domain_values(parameters, None))
            stray = companies.filtered(lambda company: company.alias_domain_id != targets)
            if stray:
                stray.write({"alias_domain_id": targets.id})
        for target in targets:
            values = identity.alias_domain_values(parameters, target._mdh_values())
            if values:
                target.write(values)

    def write(self, vals):
        """Odoo's write; an edit of an alias domain the set parameters describe updates them."""
        if self.env.context.get(SYNCING) or not set(vals) & set(IDENTITY_FIELDS):
            return super().write(vals)
        icp = self.env["ir.config_parameter"].sudo()
        parameters = icp._mdh_identity_parameters()
        if not parameters.any_set:
            return super().write(vals)
        _companies, in_use = self._mdh_company_domains()
        before = {domain: domain._mdh_values() for domain in self}
        described = [
            domain for domain in self if identity.describes(parameters, before[domain], domain in in_use)
        ]
        result = super().write(vals)
        updates = {}
        for domain in described:
            updates.update(identity.parameter_values(parameters, before[domain], domain._mdh_values()))
        if updates:
            syncing = icp.with_context(**{SYNCING: True})
            for key, value in updates.items():
                syncing.set_param(key, value)
            self._mdh_apply_parameters()  # the other alias domains the parameters describe
        return result
