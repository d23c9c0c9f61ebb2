from markupsafe import Markup
from odoo import _, api, fields, models

from ..deliverability.records import parse_fix
from .engine_texts import translated
from .mail_domain_health import STATES, check_key


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
    summary = fields.Char(string="Summary (English)", required=True)
    summary_text = fields.Char(
        string="Summary", compute="_compute_summary_text", help="The summary in the reader's language."
    )
    details = fields.Text(string="Details (English)")
    details_text = fields.Text(
        string="Details", compute="_compute_details_text", help="The details in the reader's language."
    )
    fix = fields.Char(
        string="Record to Publish",
        help="The exact DNS record(s) to create or update, as zone-file lines.",
    )
    fix_host = fields.Char(
        string="Host", compute="_compute_fix_fields", help="The name to type in the registrar's form."
    )
    fix_type = fields.Char(string="Type", compute="_compute_fix_fields")
    fix_value = fields.Char(string="Value", compute="_compute_fix_fields")
    fix_count = fields.Integer(string="Records", compute="_compute_fix_fields")
    fix_table = fields.Html(
        string="Records to Publish",
        compute="_compute_fix_fields",
        sanitize=False,
        help="Each record as Host / Type / Value, as a registrar's DNS form asks for it.",
    )
    dmarc_policy = fields.Char(string="DMARC Policy")
    key_bits = fields.Integer(string="DKIM Key Size")

    @api.depends("summary")
    @api.depends_context("lang")
    def _compute_summary_text(self):
        for line in self:
            line.summary_text = translated(line.env, line.summary)

    @api.depends("details")
    @api.depends_context("lang")
    def _compute_details_text(self):
        for line in self:
            lines = (line.details or "").splitlines()
            line.details_text = "\n".join(translated(line.env, text) for text in lines) or False

    @api.depends("check")
    def _compute_sequence(self):
        order = {"spf": 1, "dkim": 2, "dmarc": 3, "mx": 4}
        for line in self:
            line.sequence = order.get(line.check, 9)

    @api.depends("fix")
    def _compute_fix_fields(self):
        """Host / Type / Value of the record to publish (of the first when there are several)."""
        head = Markup("<tr><th>%s</th><th>%s</th><th>%s</th></tr>") % (_("Host"), _("Type"), _("Value"))
        for line in self:
            records = parse_fix(line.fix)
            first = records[0] if records else None
            line.fix_count = len(records)
            line.fix_host = first.host() if first else False
            line.fix_type = first.type if first else False
            line.fix_value = first.value if first else False
            rows = Markup().join(
                Markup("<tr><td><code>%s</code></td><td>%s</td><td><code>%s</code></td></tr>")
                % (record.host(), record.type, record.value)
                for record in records
            )
            line.fix_table = (
                Markup('<table class="table table-sm o_mail_domain_health_records">%s%s</table>')
                % (head, rows)
                if records
                else False
            )

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
        return check_key({"check": self.check, "selector": self.selector})
