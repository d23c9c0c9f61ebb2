"""DMARC reports setup: the address receivers send reports to, and the records each domain publishes
for it; with the share of each domain's mail a p=reject policy would refuse today."""

from datetime import timedelta

from markupsafe import Markup
from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..deliverability.dmarc_reports import RejectShare, propose_all
from ..deliverability.domains import organizational_domain
from ..deliverability.records import parse_fix

ALIAS = "mail_domain_health.mail_alias_dmarc_reports"
WINDOW_DAYS = 30


class MailDmarcSetup(models.TransientModel):
    _name = "mail.dmarc.setup"
    _description = "DMARC Reports Setup"

    address = fields.Char(
        string="Report Address",
        default=lambda s: s._default_address(),
        help="Where receivers send the DMARC reports: the reports alias of the database.",
    )
    state = fields.Selection([("draft", "To Propose"), ("done", "Proposed")], default="draft", readonly=True)
    line_ids = fields.One2many(
        "mail.dmarc.setup.line", "setup_id", string="Domains", default=lambda s: s._default_lines()
    )

    def _compute_display_name(self):
        self.display_name = _("DMARC Reports")

    @api.model
    def _default_address(self):
        alias = self.env.ref(ALIAS, raise_if_not_found=False)
        if alias and alias.alias_domain_id:
            return alias.alias_full_name
        return False

    @api.model
    def _default_lines(self):
        """The domains the database sends from or watches, and those the reports are about."""
        health = self.env["mail.domain.health"].search(["|", ("in_use", "=", True), ("manual", "=", True)])
        reported = self.env["mail.dmarc.report"]._read_group([("state", "=", "done")], ["domain"])
        names = list(dict.fromkeys([*health.mapped("name"), *(d for (d,) in reported if d)]))
        since = fields.Date.today() - timedelta(days=WINDOW_DAYS)
        groups = self.env["mail.dmarc.report.record"]._read_group(
            [("date", ">=", since), ("domain", "in", names)], ["domain"], ["count:sum", "refused_count:sum"]
        )
        figures = {domain: (total, refused) for domain, total, refused in groups}
        return [
            Command.create({"domain": name, "message_count": figures.get(name, (0, 0))[0],
                            "refused_count": figures.get(name, (0, 0))[1]})
            for name in names
        ]  # fmt: skip

    def action_propose(self):
        """Look up each domain's DMARC record and show what to publish for the report address."""
        self.ensure_one()
        if not self.address or "@" not in self.address:
            raise UserError(_("Set the report address first (an address of the reports alias)."))
        try:
            run_options = self.env["mail.domain.health"]._health_settings().run_options
        except ValueError as exc:
            raise UserError(_("The DNS settings of the domain health checks are unusable: %s", exc)) from None
        lines = self.line_ids.filtered("domain")
        try:
            proposals = propose_all(lines.mapped("domain"), self.address.strip(), run_options)
        except ValueError as exc:
            raise UserError(_("Cannot propose records: %s", exc)) from None
        for line, proposal in zip(lines, proposals, strict=True):
            line.write({"records": line._records_html(proposal), "note": proposal.error or False})
        self.state = "done"
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }


class MailDmarcSetupLine(models.TransientModel):
    _name = "mail.dmarc.setup.line"
    _description = "DMARC Reports Setup Domain"
    _order = "id"

    setup_id = fields.Many2one("mail.dmarc.setup", required=True, ondelete="cascade")
    domain = fields.Char(required=True)
    message_count = fields.Integer(string="Messages (30 days)", readonly=True)
    refused_count = fields.Integer(string="Failing DMARC", readonly=True)
    reject_share = fields.Float(string="Refused at p=reject (%)", compute="_compute_reject_share")
    records = fields.Html(string="To Publish", readonly=True, sanitize=False)
    note = fields.Char(readonly=True)

    @api.depends("message_count", "refused_count")
    def _compute_reject_share(self):
        for line in self:
            line.reject_share = RejectShare(line.message_count, line.refused_count).percent

    def _records_html(self, proposal):
        """The records of ``proposal`` as a registrar's form asks for them: zone, host, type, value."""
        rows = Markup().join(
            Markup("<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td><code>%s</code></td></tr>")
            % (organizational_domain(record.name), record.host(), record.type, record.value)
            for record in parse_fix(proposal.fix)
        )
        if not rows and proposal.error:
            return False  # nothing could be proposed: the note says why
        if not rows:
            return Markup("<p>%s</p>") % _("Nothing to publish: the DMARC record already sends reports here.")
        head = Markup("<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            _("DNS Zone"),
            _("Host"),
            _("Type"),
            _("Value"),
        )
        return Markup('<table class="table table-sm">%s%s</table>') % (head, rows)
