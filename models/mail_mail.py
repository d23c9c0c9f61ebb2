"""How each outgoing ``mail.mail`` was sent: From, envelope sender, Reply-To, server, and the rule."""

import logging

from odoo import _, fields, models

from .. import seams
from ..deliverability import refusals, sending_limit
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
    mdh_deferred_since = fields.Datetime(
        "Deferred Since",
        readonly=True,
        copy=False,
        help="When the relay first refused this mail, or its connection, for now (a quota, a temporary "
        "refusal): it waits in the queue, and fails if the relay still refuses it after 5 days.",
    )

    def send(self, auto_commit=False, raise_exception=False, **kwargs):
        """Odoo's sending, with one ``Sending`` for all its batches: ``ir.mail_server`` starts a batch
        on each connection and puts in it how each message went out. When the relay
        refuses a connection for now (``refusals.Deferred`` from ``ir.mail_server.connect``), that
        batch waits in the queue and Odoo goes on with the others."""
        sending = Sending()
        mails = self.with_context(mdh_sending=sending)
        while mails:
            try:
                return super(MailMail, mails).send(
                    auto_commit=auto_commit, raise_exception=raise_exception, **kwargs
                )
            except refusals.Deferred as deferred:
                mails = mails._mdh_connection_refused(deferred.refusal, sending)
                if auto_commit is True:
                    self.env.cr.commit()
        return None

    # --- Defer, never drop: the daily limit, and the relay's temporary and quota refusals ---------
    #
    # Odoo 17, 18 and 19 send the same way: ``send()`` splits the mails into batches
    # (``_split_by_mail_configuration``), connects, and ``_send`` loops over a batch; per mail it
    # writes ``exception`` first, prepares (``_prepare_outgoing_list``) and sends, then
    # ``_postprocess_sent_message`` marks the notifications. The overrides below take those steps
    # with Odoo's arguments passed through as given: their signatures differ between the series.

    def _split_by_mail_configuration(self):
        """Odoo's batches, each within its server's daily limit and while its relay accepts: the mails
        beyond wait in the queue (``_mdh_defer``)."""
        batches = list(super()._split_by_mail_configuration())
        sending = self.env.context.get("mdh_sending")
        if sending is None or not batches:
            yield from batches
            return
        now = fields.Datetime.now()
        allowed = self._mdh_allot(sending, batches, now)
        deferrals = sending.deferrals
        for index, (server_id, alias_domain_id, smtp_from, batch_ids) in enumerate(batches):
            server_key = server_id or None
            batch = [mail_id for mail_id in batch_ids if mail_id in allowed]
            deferrals.batch_ids = batch
            deferrals.pending = [i for later in batches[index + 1 :] for i in later[3] if i in allowed]
            paused = deferrals.paused.get(server_key)
            if paused and batch:  # its relay refused earlier in this send
                self.browse(batch)._mdh_defer(paused[1], paused[0])
                continue
            if batch:
                yield server_id, alias_domain_id, smtp_from, batch

    def _mdh_allot(self, sending, batches, now):
        """The ids that may go now: per server, none while its relay refuses, and, under a daily limit,
        the oldest that fit today; the others are put off (``sending_limit.allot``)."""
        by_server = {}
        for server_id, _alias, _from, batch_ids in batches:
            by_server.setdefault(server_id or None, []).extend(batch_ids)
        usages = self.env["mail.server.usage"]._mdh_for(list(by_server))
        allowed = set()
        for server_key, ids in by_server.items():
            usage = usages[server_key]
            sending.deferrals.usage[server_key] = usage.id
            if usage.paused_until and usage.paused_until > now:
                sending.deferrals.paused[server_key] = (usage.paused_until, usage.pause_reason)
                self.browse(ids)._mdh_defer(usage.pause_reason, usage.paused_until)
                continue
            limit = usage._mdh_limit()
            if not limit:
                allowed.update(ids)
                continue
            mails = self.browse(sorted(ids))
            weights = (
                (
                    mail.id,
                    sending_limit.messages(len(mail.recipient_ids), bool(mail.email_to or mail.email_cc)),
                )
                for mail in mails
            )
            allotment = sending_limit.allot(limit, usage._mdh_state(), now.date(), weights)
            allowed.update(allotment.now)
            if allotment.reached:
                reason = _("Daily sending limit of %(limit)s messages reached on %(server)s.",
                           limit=limit, server=usage.display_name)  # fmt: skip
                for day, day_ids in allotment.later.items():
                    self.browse(day_ids)._mdh_defer(reason, sending_limit.window_start(day))
                usage._mdh_reached(allotment, limit)
        return allowed

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, **kwargs):
        """Odoo's sending of one batch. A refusal that defers the mail being sent
        (``refusals.Deferred``, raised by ``ir.mail_server.send_email``) stops Odoo's loop: that mail
        waits in the queue, with the rest of the batch when the relay refuses them all (a quota,
        a ``421``), else Odoo goes on with the next mails."""
        sending = self.env.context.get("mdh_sending")
        mails = self
        if sending is None:  # called without send()
            server = kwargs.get("mail_server")
            sending = Sending(server.id if server else None, server.name if server else "")
            mails = self.with_context(mdh_sending=sending)
        while mails:
            try:
                return super(MailMail, mails)._send(
                    auto_commit=auto_commit, raise_exception=raise_exception, smtp_session=smtp_session,
                    **kwargs,
                )  # fmt: skip
            except refusals.Deferred as deferred:
                mails = mails._mdh_refused(deferred.refusal, sending, smtp_session)
                if auto_commit is True:
                    self.env.cr.commit()
        return True

    def _mdh_refused(self, refusal, sending, smtp_session):
        """The relay refused the mail being sent of this batch (``refusal``): it waits; so does the
        rest when the refusal concerns the server. Return the mails Odoo may go on with."""
        deferrals = sending.deferrals
        sending.sent = None  # recorded when the mail goes
        ids = self.ids
        position = ids.index(deferrals.mail_id) if deferrals.mail_id in ids else -1
        current, rest = self.browse(ids[position : position + 1]), self.browse(ids[position + 1 :])
        now = fields.Datetime.now()
        until, reason = refusal.retry_at(now), refusal.reason()
        _logger.info("Mail %s deferred until %s: %s", current.ids, until, reason)
        current._mdh_defer(reason, until, refused=True)
        if refusal.scope is refusals.Scope.MAIL:
            return rest
        self._mdh_pause(sending, refusal, until)
        rest.filtered(lambda mail: mail.state == "outgoing")._mdh_defer(reason, until)
        smtp = getattr(smtp_session, "__obj__", smtp_session)  # Odoo's SMTPConnection wraps smtplib's
        if smtp is not None and getattr(smtp, "sock", True) is None:
            # smtplib closed the session on the 421; Odoo's send() still calls quit() on it, which
            # raises on a closed session (Odoo 17, 18) and would stop the other batches.
            smtp.quit = smtp.close
        return self.browse()

    def _mdh_defer(self, reason, until, refused=False):
        """These mails wait in the queue until ``until`` for ``reason`` (shown on the mail and to
        its author as *Ready*, not *Exception*); ``refused``: the relay refused them (the first
        refusal starts the ``refusals.GIVE_UP_AFTER`` count)."""
        if not self:
            return
        values = {
            "state": "outgoing",
            "scheduled_date": until,
            "failure_reason": reason,
            "failure_type": False,
        }
        mails = self.sudo()
        if refused:
            first_refused = mails.filtered(lambda mail: not mail.mdh_deferred_since)
            first_refused.mdh_deferred_since = fields.Datetime.now()
        mails.write(values)
        notifications = self.env["mail.notification"].sudo().search([
            ("mail_mail_id", "in", self.ids),
            ("notification_type", "=", "email"),
            ("notification_status", "in", ("ready", "process", "exception")),
        ])  # fmt: skip
        notifications.write({"notification_status": "ready", "failure_type": False, "failure_reason": reason})

    def _prepare_outgoing_list(self, *args, **kwargs):
        """Odoo's messages of this mail; Odoo sends them next: the ``Sending`` knows which mail it
        is and whether a refusal may still defer it."""
        sending = self.env.context.get("mdh_sending")
        if sending is not None and len(self) == 1:
            sending.deferrals.mail_id = self.id
            sending.deferrals.mail_sent = 0
            sending.deferrals.may_defer = not refusals.given_up(
                self.mdh_deferred_since, fields.Datetime.now()
            )
        return super()._prepare_outgoing_list(*args, **kwargs)

    def _postprocess_sent_message(self, success_pids, *args, **kwargs):
        """Odoo calls it for every mail, sent or failed: record what the mail was sent as and count
        its messages sent."""
        sending = self.env.context.get("mdh_sending")
        if sending is None:
            return super()._postprocess_sent_message(success_pids, *args, **kwargs)
        deferrals = sending.deferrals
        sent = sending.sent if len(self) == 1 else None
        if sent is not None:
            sending.sent = None
            try:
                self._mdh_record(sent, sending)
            except Exception:
                _logger.warning("Could not record how mail %s was sent", self.id, exc_info=True)
        if deferrals.messages:
            usage = self.env["mail.server.usage"].browse(deferrals.usage.get(sending.server_id))
            if usage:
                usage._mdh_count(deferrals.messages)
            deferrals.messages = 0
        return super()._postprocess_sent_message(success_pids, *args, **kwargs)

    def _mdh_connection_refused(self, refusal, sending):
        """The relay refused the connection of the current batch for now: its mails wait, and so do
        the server's next batches in this send; a mail refused so for ``refusals.GIVE_UP_AFTER``
        fails, as Odoo fails the mails of a server it cannot reach. Return the mails of the batches
        still to send."""
        deferrals = sending.deferrals
        now = fields.Datetime.now()
        until = refusal.retry_at(now)
        batch = self.browse(deferrals.batch_ids)
        given_up = batch.filtered(lambda mail: refusals.given_up(mail.mdh_deferred_since, now))
        _logger.info("Connection to %s refused, %s mails wait until %s, %s fail: %s", sending.server_name,
                     len(batch - given_up), until, len(given_up), refusal.reason())  # fmt: skip
        self._mdh_pause(sending, refusal, until, connection=True)
        (batch - given_up)._mdh_defer(refusal.reason(), until, refused=True)
        if given_up:
            seams.mark_not_sent(given_up.sudo().with_context(mdh_sending=None), refusal.reason())
        return self.browse(deferrals.pending)

    def _mdh_pause(self, sending, refusal, until, connection=False):
        """The relay of the current batch's server refuses every mail until ``until``."""
        sending.deferrals.paused[sending.server_id] = (until, refusal.reason())
        usage = self.env["mail.server.usage"].browse(sending.deferrals.usage.get(sending.server_id))
        if usage:
            usage._mdh_pause(until, refusal, connection)

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
