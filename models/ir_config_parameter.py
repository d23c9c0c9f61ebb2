"""System parameters: the seed's mail keys are validated on save (a bad address or domain is refused,
nothing is saved), and show the health of the domain they name."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..deliverability import sender
from .mail_domain_health import MAIL_DOMAIN_KEYS, STATES, Status, domains_of


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    # --- Domain health: the health of the domain a mail parameter names ---

    domain_health_ids = fields.Many2many(
        "mail.domain.health",
        string="Domain Health",
        compute="_compute_domain_health",
        groups="base.group_system",
    )
    domain_health_state = fields.Selection(
        STATES, string="Domain Health State", compute="_compute_domain_health", groups="base.group_system"
    )
    domain_health_applicable = fields.Boolean(compute="_compute_domain_health", groups="base.group_system")

    @api.depends("key", "value")
    def _compute_domain_health(self):
        health = self.env["mail.domain.health"].sudo()
        for param in self:
            names = param._domain_health_names()
            records = health.search([("name", "in", names)]) if names else health
            checked = records.filtered("state")
            param.domain_health_applicable = param.key in MAIL_DOMAIN_KEYS
            param.domain_health_ids = records
            param.domain_health_state = (
                Status.worst(Status(r.state) for r in checked).value if checked else False
            )

    def _domain_health_names(self):
        """The domains the value names: a domain, addresses, or a from filter."""
        self.ensure_one()
        if self.key not in MAIL_DOMAIN_KEYS:
            return []
        return domains_of(self.value, addresses_only=self.key == "mail.default.from")

    def action_check_domain_health(self):
        names = list(dict.fromkeys(name for param in self for name in param._domain_health_names()))
        health = self.env["mail.domain.health"]
        health._health_ensure(names)._health_check()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

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
