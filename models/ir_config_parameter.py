"""System parameters: the seed's mail keys are validated on save (a bad address or domain is refused,
nothing is saved), and show the health of the domain they name."""

from odoo import api, models
from odoo.exceptions import ValidationError

from ..deliverability import sender
from .mail_domain_health import MAIL_DOMAIN_KEYS, domains_of


class IrConfigParameter(models.Model):
    _name = "ir.config_parameter"
    _inherit = ["ir.config_parameter", "mail.domain.health.mixin"]

    # --- Domain health: the domains a mail parameter names (see mail.domain.health.mixin) ---

    def _domain_health_depends(self):
        return ["key", "value"]

    def _domain_health_applies(self):
        return self.key in MAIL_DOMAIN_KEYS

    def _domain_health_names(self, in_use):
        """The domains the value names: a domain, addresses, or a from filter."""
        self.ensure_one()
        if self.key not in MAIL_DOMAIN_KEYS:
            return []
        return domains_of(self.value, addresses_only=self.key == "mail.default.from")

    # --- Validation of the seed's parameters ---

    @api.model
    def _mdh_check_sender_parameter(self, key, value):
        """Raise ``ValidationError`` when ``value`` is not valid for the sender parameter ``key``."""
        error = sender.parameter_error(key, value)
        if error:
            raise ValidationError(
                self.env._("Invalid system parameter %(key)s: %(error)s", key=key, error=error)
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._mdh_check_sender_parameter(vals.get("key"), vals.get("value"))
        return super().create(vals_list)

    def write(self, vals):
        if "key" in vals or "value" in vals:
            for param in self:
                self._mdh_check_sender_parameter(vals.get("key", param.key), vals.get("value", param.value))
        return super().write(vals)
