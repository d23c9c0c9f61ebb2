"""Every model: the alias domain of a record is the one the system parameters name, when they name one."""

from odoo import models


class Base(models.AbstractModel):
    _inherit = "base"

    def _mail_get_alias_domains(self, default_company=False):
        """Odoo's alias domain of each record (its company's); when ``mail.catchall.domain`` is set, the
        alias domain of that name for every record, or none when no record has that name (deleted,
        never created): Odoo then reads the company's addresses, which ``res.company`` resolves from
        the parameters (see deliverability/identity.py)."""
        found = super()._mail_get_alias_domains(default_company=default_company)
        named = self.env["mail.alias.domain"]._mdh_named_by_parameters()
        return found if named is None else dict.fromkeys(found, named)
