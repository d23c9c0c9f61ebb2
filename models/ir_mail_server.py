from odoo import api, fields, models

from .mail_domain_health import STATES, Status, domains_of


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    # --- Domain health (mail_domain_health.py): the health of the domains this server sends for ---

    domain_health_ids = fields.Many2many(
        "mail.domain.health",
        string="Domain Health",
        compute="_compute_domain_health",
        groups="base.group_system",
        help="The domains this server sends for: its From Filter, or every domain in use without one.",
    )
    domain_health_state = fields.Selection(
        STATES,
        string="Domain Health State",
        compute="_compute_domain_health",
        groups="base.group_system",
    )
    domain_health_last_check = fields.Datetime(
        string="Domains Last Checked",
        compute="_compute_domain_health",
        groups="base.group_system",
        help="When every domain of this server was last checked.",
    )

    @api.depends("from_filter")
    @api.depends_context("uid")
    def _compute_domain_health(self):
        health = self.env["mail.domain.health"].sudo()
        in_use = None
        for server in self:
            names = domains_of(server.from_filter)
            if not server.from_filter:
                in_use = health._health_domains_in_use() if in_use is None else in_use
                names = list(in_use)
            records = health.search([("name", "in", names)]) if names else health
            checked = records.filtered("state")
            server.domain_health_ids = records
            server.domain_health_state = (
                Status.worst(Status(r.state) for r in checked).value if checked else False
            )
            server.domain_health_last_check = (
                min(checked.mapped("last_check")) if checked and len(checked) == len(names) else False
            )

    def _domain_health_names(self):
        self.ensure_one()
        names = domains_of(self.from_filter)
        return names or list(self.env["mail.domain.health"]._health_domains_in_use())

    def action_check_domain_health(self):
        health = self.env["mail.domain.health"]
        health._health_sync_domains()
        names = list(dict.fromkeys(name for server in self for name in server._domain_health_names()))
        health._health_ensure(names)._health_check()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
