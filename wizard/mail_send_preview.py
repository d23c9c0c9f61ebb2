"""Preview how a message would be sent: From, envelope sender, server, rule, and DMARC alignment."""

from odoo import _, api, fields, models

from ..deliverability import identity, judgement, sender
from ..models.engine_texts import translated, translated_lines
from ..models.mail_domain_health import OUTCOMES, STATES

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
    result_return_path = fields.Char("Return-Path", compute="_compute_result")
    result_reply_to = fields.Char(
        "Reply-To",
        compute="_compute_result",
        help="Where replies go: the catchall address of the alias domain.",
    )
    result_server = fields.Char("Server", compute="_compute_result")
    result_from_filter = fields.Char("From Filter", compute="_compute_result")
    result_rule = fields.Selection(RULES, "Rule", compute="_compute_result")
    result_envelope_rule = fields.Selection(RULES, "Envelope Rule", compute="_compute_result")
    result_explanation = fields.Text("Why", compute="_compute_result")
    result_settings = fields.Text("Settings in Effect", compute="_compute_result")
    alignment_state = fields.Selection(STATES, "SPF/DMARC Alignment", compute="_compute_result")
    mail_outcome = fields.Selection(OUTCOMES, "Receivers", compute="_compute_result")
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
            try:
                sent, server_name, found = servers._mdh_preview(
                    author or None, wizard.mail_server_id, wizard.alias_domain_id
                )
            except AssertionError as error:  # Odoo refuses to send it (no sender address at all)
                sent, reason = None, _("Odoo would not send this message: %s", error.args[0])
            else:
                reason = _("The preview could not be made: see the server log.")
            if sent is None:
                wizard.update(dict.fromkeys(self._mdh_result_fields(), False))
                wizard.sent_as = author
                wizard.result_explanation = reason
                continue
            verdict = wizard._mdh_judgement(sent)
            wizard.update(
                {
                    "sent_as": author,
                    "result_from": sent.header_from,
                    "result_envelope": sent.envelope_from,
                    "result_return_path": sent.return_path or False,
                    "result_reply_to": sent.reply_to or False,
                    "result_server": server_name,
                    "result_from_filter": sent.from_filter or False,
                    "result_rule": sent.rule.value,
                    "result_envelope_rule": sent.envelope_rule.value,
                    "result_explanation": translated_lines(wizard.env, sent.explain_lines(server_name)),
                    "result_settings": wizard._mdh_settings_text(found),
                    "alignment_state": verdict.status.value,
                    "mail_outcome": verdict.outcome.value,
                    "alignment_details": wizard._mdh_judgement_text(verdict),
                }
            )

    @api.model
    def _mdh_result_fields(self):
        return [name for name in self._fields if name.startswith(("result_", "alignment_", "mail_"))]

    def _mdh_settings_text(self, found):
        """Lines of "Settings in Effect": each address of the identity and where it comes from."""
        alias_domain = self.alias_domain_id or self.env.company.alias_domain_id
        lines = []
        for label, address in (
            (_("Default sender"), found.default_from),
            (_("Bounce address"), found.bounce),
            (_("Reply-To (catchall)"), found.catchall),
        ):
            source = address.source.label
            if address.source is identity.Source.ALIAS_DOMAIN:
                source = f"{source} {alias_domain.name}"
            lines.append(f"{label}: {address.value or _('none')} ({source})")
        return "\n".join(lines)

    def _mdh_judgement(self, sent):
        """``judgement.judge`` of the message as it would be sent, with the facts the last Domain
        Health check stored for its From and envelope domains (no DNS): Domain Health's answer."""
        from_domain = sender.domain_of(sent.header_from)
        envelope_domain = sender.domain_of(sent.envelope_from)
        health = self.env["mail.domain.health"]
        facts = {d: health._health_mail_facts(d) for d in (from_domain, envelope_domain) if d}
        unknown = [d for d in (from_domain, envelope_domain) if d and facts.get(d) is None]
        if not from_domain or not envelope_domain:
            return judgement.unknown(from_domain, envelope_domain, _("no usable address"))
        if unknown:
            return judgement.unknown(
                from_domain,
                envelope_domain,
                _(
                    "No Domain Health check has judged the mail of %s yet: run the check (a check DNS "
                    "did not answer judges nothing).",
                    ", ".join(dict.fromkeys(unknown)),
                ),
            )
        author, envelope = facts[from_domain], facts[envelope_domain]
        return judgement.judge(from_domain, envelope_domain, envelope.spf, author.dkim, author.policy)

    def _mdh_judgement_text(self, verdict):
        lines = []
        if verdict.from_domain and verdict.envelope_domain:
            lines.append(
                _(
                    "SPF is checked on the envelope domain: %s.",
                    judgement.alignment_words(verdict.envelope_domain, verdict.from_domain),
                )
            )
        outcome = translated(self.env, verdict.outcome.label)
        lines.append(f"{outcome[:1].upper()}{outcome[1:]}: {translated(self.env, verdict.reason)}.")
        if verdict.fixes:
            lines.append(translated_lines(self.env, verdict.fixes))
        return "\n".join(lines)
