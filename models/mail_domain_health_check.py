from odoo import api, fields, models

from .mail_domain_health import STATES


class MailDomainHealthCheck(models.Model):
    """One verdict of one check (SPF, DKIM per selector, DMARC, MX) in one check run of a domain."""

    _name = "mail.domain.health.check"
    _description = "Domain Health Check Result"
    _order = "domain, sequence, selector"

    run_id = fields.Many2one("mail.domain.health.run", required=True, ondelete="cascade", index=True)
    health_id = fields.Many2one(related="run_id.health_id", store=True, index=True)
    domain = fields.Char(related="run_id.health_id.name", store=True)
    date = fields.Datetime(related="run_id.date", string="First Seen")
    last_seen = fields.Datetime(related="run_id.last_seen")
    check = fields.Selection(
        [("spf", "SPF"), ("dkim", "DKIM"), ("dmarc", "DMARC"), ("mx", "MX")], required=True
    )
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    selector = fields.Char(help="DKIM selector this verdict is about.")
    status = fields.Selection(STATES, required=True)
    summary = fields.Char(required=True)
    details = fields.Text()
    fix = fields.Char(
        string="Record to Publish",
        help="The exact DNS record(s) to create or update, as zone-file lines.",
    )
    dmarc_policy = fields.Char(string="DMARC Policy")
    key_bits = fields.Integer(string="DKIM Key Size")

    @api.depends("check")
    def _compute_sequence(self):
        order = {"spf": 1, "dkim": 2, "dmarc": 3, "mx": 4}
        for line in self:
            line.sequence = order.get(line.check, 9)

    @api.depends("check", "selector", "domain")
    def _compute_display_name(self):
        labels = dict(self._fields["check"]._description_selection(self.env))
        for line in self:
            label = labels.get(line.check, "")
            if line.selector:
                label = f"{label} ({line.selector})"
            line.display_name = f"{line.domain}: {label}" if line.domain else label

    def _check_key(self):
        """Identifies the same check across runs (DKIM: one per selector)."""
        self.ensure_one()
        return f"{self.check}:{self.selector}" if self.selector else self.check
