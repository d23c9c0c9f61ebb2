"""How each outgoing ``mail.mail`` was sent: From used, envelope sender, server, and the rule that decided."""

from odoo import fields, models

from ..deliverability.sender import Rule

RULES = [(rule.value, rule.label) for rule in Rule]
# Failures after which Odoo keeps an auto-delete mail (see MailMail._postprocess_sent_message)
DELETED_AFTER = (False, None, "mail_email_invalid", "mail_email_missing")


class MailMail(models.Model):
    _inherit = "mail.mail"

    mdh_sent_from = fields.Char("Sent As (From)", readonly=True, copy=False, groups="base.group_system")
    mdh_envelope_from = fields.Char(
        "Envelope Sender",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="MAIL FROM / Return-Path: the address SPF is checked on.",
    )
    mdh_mail_server_id = fields.Many2one(
        "ir.mail_server",
        "Sent Through",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="base.group_system",
    )
    mdh_smtp_server = fields.Char("SMTP Server", readonly=True, copy=False, groups="base.group_system")
    mdh_sender_rule = fields.Selection(
        RULES, "Sender Rule", readonly=True, copy=False, groups="base.group_system"
    )
    mdh_sender_explanation = fields.Text("Why", readonly=True, copy=False, groups="base.group_system")

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, alias_domain_id=False,
              mail_server=False, post_send_callback=None):  # fmt: skip
        """Odoo's sending, collecting how each message goes out (see ir.mail_server)."""
        context = {"mdh_sender_log": {}}
        if alias_domain_id:
            context["mdh_alias_domain_id"] = alias_domain_id
        return super(MailMail, self.with_context(**context))._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=smtp_session,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        log = self.env.context.get("mdh_sender_log")
        if log:
            for mail in self:
                values = log.pop(mail.message_id or "", None)
                if values and not (mail.auto_delete and failure_type in DELETED_AFTER):
                    mail.sudo().write(values)
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
