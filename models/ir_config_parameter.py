from odoo import api, fields, models

from .mail_domain_health import MAIL_DOMAIN_KEYS, STATES, Status, domains_of


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    # --- Domain health (mail_domain_health.py): the health of the domain a mail parameter names ---

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
