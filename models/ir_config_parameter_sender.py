"""Validation of the seed's system parameters: a bad address or domain is refused, nothing is saved."""

from odoo import api, models
from odoo.exceptions import ValidationError

from ..deliverability import sender


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

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
