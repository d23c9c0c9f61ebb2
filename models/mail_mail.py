"""How each outgoing ``mail.mail`` was sent: From, envelope sender, Reply-To, server, and the rule."""

import logging

from odoo import fields, models

from ..deliverability.sender import Rule, Sending
from .ir_mail_server import CONFIGURATION_SERVER

_logger = logging.getLogger(__name__)
RULES = [(rule.value, rule.label) for rule in Rule]


class MailMail(models.Model):
    _inherit = "mail.mail"

    mdh_sent_from = fields.Char("Sent As (From)", readonly=True, copy=False, groups="base.group_system")
    mdh_envelope_from = fields.Char(
        "Envelope Sender",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="MAIL FROM / Return-Path: the address SPF is checked on, where bounces come back.",
    )
    mdh_reply_to = fields.Char(
        "Reply-To Sent",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Where replies go: the catchall address brings them back to the document's chatter.",
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

    # The arguments of send, _send and _postprocess_sent_message differ between Odoo series (17: no
    # callback; 19: success_emails): they are passed on as they come.

    def send(self, *args, **kwargs):
        """Odoo's sending, with one ``Sending`` for all its batches: ``ir.mail_server`` starts a batch
        on each connection and puts in it how each message went out, ``_postprocess_sent_message``
        records that on the mail."""
        return super(MailMail, self.with_context(mdh_sending=Sending())).send(*args, **kwargs)

    def _send(self, *args, **kwargs):
        """Odoo's sending of one batch; called without ``send()``, with a ``Sending`` of its own."""
        mails = self
        if self.env.context.get("mdh_sending") is None:
            mails = self.with_context(mdh_sending=Sending())
        return super(MailMail, mails)._send(*args, **kwargs)

    def _postprocess_sent_message(self, *args, **kwargs):
        """Odoo calls it for every mail, sent or failed: record what the mail was sent as."""
        sending = self.env.context.get("mdh_sending")
        sent = sending.sent if sending is not None and len(self) == 1 else None
        if sent is not None:
            sending.sent = None
            try:
                self._mdh_record(sent, sending)
            except Exception:
                _logger.warning("Could not record how mail %s was sent", self.id, exc_info=True)
        return super()._postprocess_sent_message(*args, **kwargs)

    def _mdh_record(self, sent, sending):
        """Write ``sent`` (``sender.SentAs``) on the Sent As tab of this mail."""
        server = self.mail_server_id or self.env["ir.mail_server"].browse(sending.server_id)
        name = server.sudo().name or sending.server_name or CONFIGURATION_SERVER
        self.sudo().write(
            {
                "mdh_sent_from": sent.header_from,
                "mdh_envelope_from": sent.envelope_from,
                "mdh_reply_to": sent.reply_to or False,
                "mdh_mail_server_id": server.id,
                "mdh_smtp_server": name,
                "mdh_sender_rule": sent.rule.value,
                "mdh_sender_explanation": sent.explain(name),
            }
        )
