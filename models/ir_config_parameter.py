"""System parameters: the documented mail keys are validated on save (a bad address or domain is
refused, nothing is saved) and the identity ones written through to the alias domains; and they show
the health of the domain they name."""

import logging

from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..deliverability import identity, sender
from .mail_alias_domain import SYNCING
from .mail_domain_health import MAIL_DOMAIN_KEYS, domains_of
from .res_company import ADDRESS_FIELDS

_logger = logging.getLogger(__name__)


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

    # --- The identity parameters: validated, and one with the alias domains ---

    @api.model
    def _mdh_check_sender_parameter(self, key, value):
        """Raise ``ValidationError`` when ``value`` is not valid for the sender parameter ``key``."""
        error = sender.parameter_error(key, value)
        if error:
            raise ValidationError(_("Invalid system parameter %(key)s: %(error)s", key=key, error=error))

    @api.model
    def _mdh_identity_parameters(self):
        """The identity parameters that are set and valid (``identity.Parameters``); a value stored
        before this module validated them that is not valid is ignored, with a warning."""
        values = {}
        for key in identity.PARAMETER_FIELDS:
            value = self.get_param(key) or None
            error = value and sender.parameter_error(key, value)
            if error:
                _logger.warning("Ignoring system parameter %s=%r: %s", key, value, error)
                value = None
            values[key] = value
        return identity.Parameters.from_mapping(values)

    def _mdh_apply_identity(self, keys, previous_domain=None):
        """After ``keys`` changed: the companies' addresses are resolved again, and the identity
        parameters written through to the alias domains (``previous_domain``: the value
        ``mail.catchall.domain`` had)."""
        if not set(keys) & set(identity.PARAMETER_FIELDS):
            return
        self.env["res.company"].invalidate_model(list(ADDRESS_FIELDS))  # resolved from the parameters
        if self.env.context.get(SYNCING):
            return
        if "mail.alias.domain" in self.env:
            self.env["mail.alias.domain"]._mdh_apply_parameters(previous_domain)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._mdh_check_sender_parameter(vals.get("key"), vals.get("value"))
        records = super().create(vals_list)
        self._mdh_apply_identity([vals.get("key") for vals in vals_list])
        return records

    def write(self, vals):
        if "key" not in vals and "value" not in vals:
            return super().write(vals)
        keys = {*self.mapped("key"), vals.get("key")}
        previous = {param.key: param.value for param in self}
        for param in self:
            self._mdh_check_sender_parameter(vals.get("key", param.key), vals.get("value", param.value))
        result = super().write(vals)
        self._mdh_apply_identity(keys, previous.get("mail.catchall.domain"))
        return result
