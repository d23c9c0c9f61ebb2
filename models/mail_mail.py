"""How each outgoing ``mail.mail`` was sent: From used, envelope sender, server, and the rule that decided."""

from odoo import fields, models

from ..deliverability.sender import Rule
from .ir_mail_server import Scratch

RULES = [(rule.value, rule.label) for rule in Rule]
NOT_SENT = dict.fromkeys(
    ("mdh_sent_from", "mdh_envelope_from", "mdh_mail_server_id", "mdh_smtp_server", "mdh_sender_rule",
     "mdh_sender_explanation", "mdh_dkim_signature"),
    False,
)  # fmt: skip


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
    mdh_dkim_signature = fields.Char("DKIM", readonly=True, copy=False, groups="base.group_system")

    def send(self, auto_commit=False, raise_exception=False, post_send_callback=None):
        """Odoo's sending; the sender settings are resolved once for all its batches."""
        return super(MailMail, self.with_context(mdh_send_cache=Scratch())).send(
            auto_commit=auto_commit, raise_exception=raise_exception, post_send_callback=post_send_callback
        )

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, alias_domain_id=False,
              mail_server=False, post_send_callback=None):  # fmt: skip
        """Odoo's sending, collecting how each message goes out (see ir.mail_server)."""
        context = {"mdh_sender_log": Scratch()}
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

    def write(self, vals):
        """Odoo's state update after sending a mail carries how it was sent (no extra query).

        ``_send`` handles one mail at a time: what was sent since the last state update is this
        mail's (several mails of one message share their Message-Id, so it cannot be the key).
        Every state update during sending sets these fields, cleared when nothing was sent, so
        that Odoo still flushes the batch in one UPDATE.
        """
        log = self.env.context.get("mdh_sender_log")
        if log is not None and "state" in vals and len(self) == 1:
            values = log.pop("last", None)
            if self.env.su or self.env.user.has_group("base.group_system"):
                vals = {**vals, **(values or NOT_SENT)}
            elif values:
                self.sudo().write(values)
        return super().write(vals)

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        """A mail Odoo did not send (no valid recipient) keeps the sender it would have used."""
        log = self.env.context.get("mdh_sender_log")
        values = log.pop("last", None) if log and len(self) == 1 else None
        if values:
            self.sudo().write(values)
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
