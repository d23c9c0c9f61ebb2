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
        for company in self:
            found = company._mdh_identity()
            if found is not None and found.bounce_email:
                company.bounce_email = found.bounce_email
                company.bounce_formatted = tools.formataddr((company.name, found.bounce_email))

    def _compute_catchall(self):
        super()._compute_catchall()
        for company in self:
            found = company._mdh_identity()
            if found is not None and found.catchall_email:
                company.catchall_email = found.catchall_email
                company.catchall_formatted = tools.formataddr((company.name, found.catchall_email))
