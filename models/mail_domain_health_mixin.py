import functools

from odoo import api, fields, models

from .mail_domain_health import STATES, Status


class MailDomainHealthMixin(models.AbstractModel):
    """The health of the sending domains a record names (an outgoing server, a mail parameter).

    A model using it says which domains a record names (``_domain_health_names``) and on which
    of its fields they depend (``_domain_health_depends``); the form shows them with the named
    list view ``mail_domain_health.view_mail_domain_health_list_compact``.
    """

    _name = "mail.domain.health.mixin"
    _description = "Health of the Sending Domains a Record Names"

    domain_health_ids = fields.Many2many(
        "mail.domain.health",
        string="Domain Health",
        compute="_compute_domain_health",
        groups="base.group_system",
    )
    domain_health_state = fields.Selection(
        STATES,
        string="Domain Health State",
        compute="_compute_domain_health",
        groups="base.group_system",
        help="The worst state of the domains, as last checked.",
    )
    domain_health_last_check = fields.Datetime(
        string="Domains Last Checked",
        compute="_compute_domain_health",
        groups="base.group_system",
        help="When every domain was last checked (empty while one was never checked).",
    )
    domain_health_applicable = fields.Boolean(compute="_compute_domain_health", groups="base.group_system")

    def _domain_health_depends(self):
        """The fields the named domains depend on."""
        return []

    def _domain_health_names(self, in_use):
        """The normalized domains this record names; ``in_use()`` returns
        ``mail.domain.health._health_domains_in_use()`` (computed once per call)."""
        return []

    def _domain_health_applies(self):
        """Whether this record is about sending domains at all (else its health is not shown)."""
        return True

    def _domain_health_in_use(self):
        return functools.cache(lambda: self.env["mail.domain.health"].sudo()._health_domains_in_use())

    @api.depends(lambda self: self._domain_health_depends())
    @api.depends_context("uid")
    def _compute_domain_health(self):
        health = self.env["mail.domain.health"].sudo()
        in_use = self._domain_health_in_use()
        for record in self:
            applies = record._domain_health_applies()
            names = record._domain_health_names(in_use) if applies else []
            records = health.search([("name", "in", names)]) if names else health
            checked = records.filtered("state")
            record.domain_health_applicable = applies
            record.domain_health_ids = records
            record.domain_health_state = (
                Status.worst(Status(r.state) for r in checked).value if checked else False
            )
            record.domain_health_last_check = (
                min(checked.mapped("last_check")) if checked and len(checked) == len(names) else False
            )

    def action_check_domain_health(self):
        """Check the domains the records name; the form then reloads the saved record and a
        notification says what the check found."""
        health = self.env["mail.domain.health"]
        health._health_sync_domains()
        in_use = self._domain_health_in_use()
        names = list(dict.fromkeys(name for record in self for name in record._domain_health_names(in_use)))
        checked = health._health_ensure(names)
        checked._health_check()
        return checked._health_checked_notification()
