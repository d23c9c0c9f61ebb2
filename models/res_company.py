"""``res.company``: its bounce and catchall addresses are the identity the administrator set
(``identity.effective`` of its alias domain and the system parameters), whatever records exist."""

from odoo import models, tools

from ..deliverability import identity

ADDRESS_FIELDS = ("bounce_email", "bounce_formatted", "catchall_email", "catchall_formatted")


class ResCompany(models.Model):
    _inherit = "res.company"

    def _mdh_identity(self):
        """``identity.AliasDomain`` of the company's identity, or None when none is known."""
        self.ensure_one()
        alias_domain = self.sudo().alias_domain_id
        parameters = self.env["ir.config_parameter"].sudo()._mdh_identity_parameters()
        return identity.effective(parameters, alias_domain._mdh_values() if alias_domain else None)

    def _compute_bounce(self):
        """Odoo's, then the identity set: an alias domain deleted or detached keeps the parameters'."""
        super()._compute_bounce()
        self._mdh_identity_address("bounce")

    def _compute_catchall(self):
        super()._compute_catchall()
        self._mdh_identity_address("catchall")

    def _mdh_identity_address(self, kind):
        """Set ``<kind>_email`` and ``<kind>_formatted`` (bounce, catchall) to the identity's address."""
        for company in self:
            found = company._mdh_identity()
            address = getattr(found, f"{kind}_email", None) if found is not None else None
            if address:
                company[f"{kind}_email"] = address
                company[f"{kind}_formatted"] = tools.formataddr((company.name, address))
