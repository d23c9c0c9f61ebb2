"""Preview how a message would be sent: From, envelope sender, server, rule, and DMARC alignment."""

from odoo import api, fields, models

from ..deliverability import sender
from ..deliverability.findings import Status

STATES = [(status.value, status.value.capitalize()) for status in Status]
RULES = [(rule.value, rule.label) for rule in sender.Rule]


class MailSendPreview(models.TransientModel):
    _name = "mail.send.preview"
    _description = "Sending Preview"

    author = fields.Char(help='An address as it would appear in From, e.g. "Jane Doe" <jane@example.com>.')
    partner_id = fields.Many2one("res.partner", "Or a Contact")
    user_id = fields.Many2one("res.users", "Or a User")
    mail_server_id = fields.Many2one(
        "ir.mail_server", "Force a Server", help="Empty: the server is chosen as for any message."
    )
    alias_domain_id = fields.Many2one(
        "mail.alias.domain",
        "Alias Domain",
        default=lambda self: self.env.company.alias_domain_id,
        help="The alias domain of the record the message is sent for (by default the company's).",
    )
    sent_as = fields.Char("Author Used", compute="_compute_result")
    result_from = fields.Char("From", compute="_compute_result")
    result_envelope = fields.Char("Envelope Sender", compute="_compute_result")
    result_server = fields.Char("Server", compute="_compute_result")
    result_from_filter = fields.Char("From Filter", compute="_compute_result")
    result_rule = fields.Selection(RULES, "Rule", compute="_compute_result")
    result_envelope_rule = fields.Selection(RULES, "Envelope Rule", compute="_compute_result")
    result_explanation = fields.Text("Why", compute="_compute_result")
    result_settings = fields.Text("Settings in Effect", compute="_compute_result")
    alignment_state = fields.Selection(STATES, "SPF/DMARC Alignment", compute="_compute_result")
    alignment_details = fields.Text("Alignment Details", compute="_compute_result")

    def _author_text(self):
        self.ensure_one()
        if self.author:
            return self.author
        partner = self.partner_id or self.user_id.partner_id
        return partner.email_formatted or partner.email or False

    @api.depends("author", "partner_id", "user_id", "mail_server_id", "alias_domain_id")
    def _compute_result(self):
        servers = self.env["ir.mail_server"].sudo()
        for wizard in self:
            author = wizard._author_text()
            decision, sources = servers._mdh_preview(
                author or None, wizard.mail_server_id, wizard.alias_domain_id
            )
            verdict = sender.alignment(
                decision.header_from, decision.envelope_from, wizard._mdh_domain_health
            )
            wizard.update(
                {
                    "sent_as": author,
                    "result_from": decision.header_from,
                    "result_envelope": decision.envelope_from,
                    "result_server": decision.server.name if decision.server else False,
                    "result_from_filter": decision.from_filter or False,
                    "result_rule": decision.rule.value,
                    "result_envelope_rule": decision.envelope_rule.value,
                    "result_explanation": decision.explain(),
                    "result_settings": "\n".join(sources) or False,
                    "alignment_state": verdict.status.value,
                    "alignment_details": "\n".join(verdict.reasons),
                }
            )

    def _mdh_domain_health(self, domain):
        """The last known health of ``domain`` from its Domain Health record (no DNS), or None."""
        facts = self.env["mail.domain.health"]._health_facts(domain)
        if not facts:
            return None

        def status(key):
            value = facts.get(key)
            return Status(value) if value in Status._value2member_map_ else None

        return sender.DomainHealth(
            spf=status("spf"),
            dkim=status("dkim"),
            dmarc=status("dmarc"),
            dmarc_policy=facts.get("dmarc_policy") or None,
        )
