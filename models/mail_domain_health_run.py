from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .mail_domain_health import STATES


class MailDomainHealthRun(models.Model):
    """The results of checking one domain, kept while they stay the same.

    A new run is stored only when a verdict changes; a re-check giving the same
    results moves ``last_seen`` forward. The history of a domain therefore shows
    exactly when it changed. Runs are what was measured: only the checks write them
    (administrators read them), and the last run of a domain is never deleted.
    """

    _name = "mail.domain.health.run"
    _description = "Domain Health Check Run"
    _order = "date desc, id desc"
    _rec_name = "date"

    health_id = fields.Many2one("mail.domain.health", required=True, ondelete="cascade", index=True)
    date = fields.Datetime(string="First Seen", required=True, default=fields.Datetime.now, index=True)
    last_seen = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    state = fields.Selection(STATES, required=True)
    check_ids = fields.One2many("mail.domain.health.check", "run_id", string="Verdicts")
    spf_evaluations = fields.Text(
        string="SPF Evaluations", help="RFC 7208 result of each sending IP, one per line."
    )
    changes = fields.Text(help="What changed since the previous run.")

    @api.depends("health_id", "date")
    def _compute_display_name(self):
        for run in self:
            run.display_name = f"{run.health_id.name} {fields.Datetime.to_string(run.date)}"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_last_run(self):
        last = self.filtered(lambda run: run.health_id.last_run_id == run)
        if last:
            raise UserError(
                _(
                    "The last check of %s cannot be deleted: it is the domain's current result.",
                    ", ".join(last.health_id.mapped("name")),
                )
            )

    def _signature(self):
        """What makes two runs the same: every verdict with its fix, and the SPF evaluations."""
        self.ensure_one()
        return (
            sorted(
                (c._check_key(), c.status, c.summary, c.fix or "", c.details or "") for c in self.check_ids
            ),
            self.spf_evaluations or "",
        )
