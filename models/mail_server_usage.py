"""``mail.server.usage``: what an outgoing server (or the configuration file's) sent today, the mails
put off past its daily limit, and whether its relay refuses for now.

One record per server, kept by the send path (``mail.mail``); the counter is raised in SQL, in the
transaction that marks the mail sent. The administrators are alerted once a day when a server
reaches its limit or its relay starts refusing for quota (``mail.domain.health.alert.mixin``).
"""

from markupsafe import Markup
from odoo import _, api, fields, models

from ..deliverability import refusals, sending_limit
from .ir_mail_server import CONFIGURATION_SERVER

DAILY_LIMIT_PARAMETER = "mail_domain_health.daily_limit"


class MailServerUsage(models.Model):
    _name = "mail.server.usage"
    _inherit = ["mail.thread", "mail.domain.health.alert.mixin"]
    _description = "Outgoing Server Usage"

    server_id = fields.Many2one("ir.mail_server", "Outgoing Server", ondelete="cascade", index=True)
    day = fields.Date("Day Counted", readonly=True, help="The UTC day Sent counts.")
    sent = fields.Integer("Sent", readonly=True, help="Messages sent on the day counted.")
    tail_day = fields.Date("Mails Put Off Until", readonly=True)
    tail_count = fields.Integer("Put Off to That Day", readonly=True)
    paused_until = fields.Datetime("Relay Refusing Until", readonly=True)
    pause_reason = fields.Char("Relay Refusal", readonly=True)
    alerted_on = fields.Date("Alerted On", readonly=True)

    def init(self):
        # one record per server, the configuration file's (no server) included
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS mail_server_usage_server_uniq"
            " ON mail_server_usage (COALESCE(server_id, 0))"
        )

    @api.depends("server_id")
    def _compute_display_name(self):
        for usage in self:
            usage.display_name = usage.server_id.name or CONFIGURATION_SERVER

    @api.model
    def _mdh_for(self, server_ids):
        """``{server id or None: usage}`` of these servers, created when missing."""
        usages = self.sudo().search(
            ["|", ("server_id", "in", [sid for sid in server_ids if sid]), ("server_id", "=", False)]
        )
        found = {usage.server_id.id or None: usage for usage in usages}
        for server_id in set(server_ids) - set(found):
            found[server_id] = self.sudo().create({"server_id": server_id})
        return found

    def _mdh_limit(self):
        """The daily limit of the server (0: none)."""
        self.ensure_one()
        if self.server_id:
            return self.server_id.mdh_daily_limit
        value = self.env["ir.config_parameter"].sudo().get_param(DAILY_LIMIT_PARAMETER) or "0"
        return int(value) if value.strip().isdigit() else 0

    def _mdh_state(self):
        self.ensure_one()
        return sending_limit.Usage(self.day or None, self.sent, self.tail_day or None, self.tail_count)

    def _mdh_sent_today(self):
        self.ensure_one()
        return self._mdh_state().sent_on(fields.Datetime.now().date())

    def _mdh_count(self, messages):
        """``messages`` more sent through the server today (in SQL: concurrent sends add up)."""
        today = fields.Datetime.now().date()
        self.env.cr.execute(
            "UPDATE mail_server_usage SET sent = CASE WHEN day = %s THEN sent + %s ELSE %s END, day = %s"
            " WHERE id = %s",
            (today, messages, messages, today, self.id),
        )
        self.invalidate_recordset(["day", "sent"])

    def _mdh_reached(self, allotment, limit):
        """The limit is reached: remember where mails are put off to, alert once."""
        self.sudo().write({"tail_day": allotment.tail_day, "tail_count": allotment.tail_count})
        self._mdh_alert_once(
            _("%(server)s reached its daily sending limit", server=self.display_name),
            _(
                "%(server)s reached its daily limit of %(limit)s messages: the mails beyond it wait "
                "in the queue for the next days, in order (up to %(day)s).",
                server=self.display_name,
                limit=limit,
                day=allotment.tail_day,
            ),  # fmt: skip
        )

    def _mdh_pause(self, until, refusal, connection=False):
        """The relay refuses (``refusals.Refusal``) every mail until ``until``; alert once for a quota
        or a refused ``connection`` (mails are held and nothing shows as failed)."""
        self.sudo().write({"paused_until": until, "pause_reason": refusal.reason()})
        values = {"server": self.display_name, "reason": refusal.reason(), "until": until}
        if refusal.kind is refusals.Kind.QUOTA:
            summary = _("The relay of %(server)s refuses mail for quota", **values)
            note = _(
                "The relay of %(server)s refused a mail for quota (%(reason)s). The mails wait in the "
                "queue and are tried again from %(until)s UTC; none is lost. Check the relay's sending "
                "limit and set it as the server's Daily Sending Limit.",
                **values,
            )
        elif connection:
            summary = _("Odoo cannot reach %(server)s", **values)
            note = _(
                "Odoo could not connect to %(server)s (%(reason)s). The mails wait in the queue and are "
                "tried again from %(until)s UTC; none is lost. Check the server with Test Connection.",
                **values,
            )
        else:
            return
        self._mdh_alert_once(summary, note)

    def _mdh_alert_once(self, summary, note):
        today = fields.Datetime.now().date()
        if self.alerted_on == today:
            return
        self.sudo().alerted_on = today
        # called while mails are being sent: the alert's own mail is queued, not sent in their midst
        self.with_context(mail_notify_force_send=False)._health_alert(summary, Markup("<p>%s</p>") % note)
