"""Defer, never drop: Odoo's real send path against a scripted relay on 127.0.0.1 that accepts, refuses
for quota, answers ``421`` mid-batch or refuses an unknown user; and the daily sending limit. Every mail
is accounted for: received exactly once by the relay, or still queued with its reason."""

import datetime
from unittest.mock import patch

from odoo import fields, tools
from odoo.tests import tagged
from odoo.tests.common import TransactionCase
from odoo.tools import mute_logger

from ..deliverability.testing.smtp_sink import CLOSING, QUOTA, Script, SmtpSink
from .dkim_common import SinkMixin

MAIL_LOGGER = "odoo.addons.mail.models.mail_mail"
THROTTLING = "454 Throttling failure: Maximum sending rate exceeded."
MICROSOFT = (
    "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message"
)


@tagged("post_install", "-at_install")
class TestDefer(SinkMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Customer", "email": "customer@example.org"})

    def setUp(self):
        super().setUp()
        self.sink.script = Script()
        del self.sink.refused[:]

    def mails(self, count, server=None, prefix="to"):
        Mail = self.env["mail.mail"].sudo()
        return Mail.create([
            {
                "email_from": "sender@example.com", "email_to": f"{prefix}{i}@example.org",
                "subject": f"Mail {i}", "body_html": f"<p>Mail {i}</p>", "auto_delete": False,
                "mail_server_id": server.id if server else False,
            }
            for i in range(count)
        ])  # fmt: skip

    def recipients(self, received):
        return [r.rcpt_to[0] for r in received]

    def usage(self, server=None):
        server = self.server if server is None else server
        return self.env["mail.server.usage"].search([("server_id", "=", server.id or False)])

    def alerts(self, usage):
        """The alert activities of a server (nothing else schedules activities on its usage)."""
        return usage.activity_ids

    def time_passes(self, mails, usage):
        """The retry time has come: the queue picks the mails again."""
        past = fields.Datetime.now() - datetime.timedelta(seconds=1)
        mails.scheduled_date = past
        usage.paused_until = past

    def assert_waiting(self, mails, reason, after):
        for mail in mails:
            self.assertEqual(mail.state, "outgoing")
            self.assertIn(reason, mail.failure_reason)
            self.assertGreaterEqual(mail.scheduled_date, after)

    def test_quota_refusal_defers_the_rest_and_loses_none(self):
        self.sink.script = Script(accept=2, stage="mail", refusal=QUOTA)
        mails = self.mails(5)
        start = fields.Datetime.now().replace(microsecond=0)
        with self.sending() as received:
            mails.send()
        self.assertEqual(self.recipients(received), ["to0@example.org", "to1@example.org"])
        self.assertEqual(mails[:2].mapped("state"), ["sent", "sent"])
        # one refusal: the relay is not asked again for the other mails of the batch
        self.assertEqual(self.sink.refused, [("mail", QUOTA)])
        self.assert_waiting(
            mails[2:], "550 5.4.5 Daily user sending limit exceeded", start + datetime.timedelta(hours=1)
        )
        self.assertTrue(mails[2].mdh_deferred_since)
        usage = self.usage()
        self.assertEqual(usage.sent, 2)
        self.assertEqual(self.server.mdh_sent_today, 2)
        self.assertIn("5.4.5", self.server.mdh_pause_reason)
        alerts = self.alerts(usage)
        self.assertEqual(len(alerts), len(usage._health_admins()))
        self.assertIn("refuses mail for quota", alerts[0].summary)

        # sent again before the pause ends: nothing is tried, nothing is lost
        with self.sending() as received:
            mails[2:].send()
        self.assertEqual((received, len(self.sink.refused)), ([], 1))
        self.assertEqual(mails[2:].mapped("state"), ["outgoing"] * 3)

        # a second quota refusal the same day does not alert again
        self.time_passes(mails[2:], usage)
        self.sink.script = Script(accept=0, stage="data", refusal=MICROSOFT)
        with self.sending() as received:
            mails[2:].send()
        self.assertEqual(len(self.alerts(usage)), len(alerts))
        self.assertEqual(mails[2:].mapped("state"), ["outgoing"] * 3)
        self.assertIn("SubmissionQuotaExceededException", mails[2].failure_reason)
        self.assertEqual(received, [])

        # the relay accepts again: the queue sends each waiting mail once
        self.time_passes(mails[2:], usage)
        self.sink.script = Script()
        with self.sending() as received:
            self.env["mail.mail"].process_email_queue(mails.ids)
        self.assertEqual(sorted(self.recipients(received)), [f"to{i}@example.org" for i in (2, 3, 4)])
        self.assertEqual(mails.mapped("state"), ["sent"] * 5)
        self.assertFalse(mails.filtered("failure_reason"))
        self.assertEqual(self.usage().sent, 5)

    def test_421_mid_batch_closes_the_session_and_the_other_batches_go(self):
        """smtplib closes the session on a 421: the mails after it wait (they are not failed with
        SMTPServerDisconnected), send() does not raise on quit(), and another server's batch goes."""
        with SmtpSink() as other:
            server = self.env["ir.mail_server"].create({
                "name": "Other", "smtp_host": "127.0.0.1", "smtp_port": other.port,
                "smtp_encryption": "none", "sequence": 20,
            })  # fmt: skip
            self.sink.script = Script(accept=1, stage="data", refusal=CLOSING)
            mails = self.mails(3, self.server)
            others = self.mails(2, server, prefix="other")
            with self.sending() as received:
                (mails | others).send()
            self.assertEqual(self.recipients(received), ["to0@example.org"])
            self.assertEqual(
                sorted(self.recipients(other.received)), ["other0@example.org", "other1@example.org"]
            )
        self.assertEqual(self.sink.refused, [("data", CLOSING)])
        self.assertEqual((mails | others).mapped("state"), ["sent", "outgoing", "outgoing", "sent", "sent"])
        self.assert_waiting(
            mails[1:], "421 4.7.0 Try again later", fields.Datetime.now().replace(microsecond=0)
        )
        self.assertFalse(self.alerts(self.usage()), "a 421 is no quota")

    def test_refused_connection_defers_the_batch(self):
        self.sink.script = Script(accept=0, stage="connect", refusal=CLOSING)
        mails = self.mails(3)
        with self.sending() as received:
            mails.send()
        self.assertEqual(received, [])
        self.assert_waiting(mails, "421 4.7.0", fields.Datetime.now().replace(microsecond=0))
        self.assertEqual(mails.mapped("failure_type"), [False] * 3)
        usage = self.usage()
        self.assertIn("cannot reach", self.alerts(usage)[0].summary)
        self.assertEqual(len(self.alerts(usage)), len(usage._health_admins()))

    @mute_logger(MAIL_LOGGER)
    def test_greylisted_recipient_waits_alone_unknown_user_fails(self):
        self.sink.script = Script(unknown=("to1@example.org",), greylisted=("to2@example.org",))
        mails = self.mails(4)
        with self.sending() as received:
            mails.send()
        self.assertEqual(self.recipients(received), ["to0@example.org", "to3@example.org"])
        self.assertEqual(mails.mapped("state"), ["sent", "exception", "outgoing", "sent"])
        self.assertIn("5.1.1", mails[1].failure_reason)
        self.assertIn("451 4.7.1", mails[2].failure_reason)
        self.assertFalse(self.usage().paused_until, "a greylisted recipient does not stop the server")

    def test_the_author_sees_the_deferral(self):
        self.sink.script = Script(accept=0, stage="mail", refusal=THROTTLING)
        with self.sending() as received:
            message = self.partner.message_post(
                body="Hello", partner_ids=self.partner.ids, message_type="comment",
                subtype_xmlid="mail.mt_comment", mail_auto_delete=False,
            )  # fmt: skip
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == self.partner)
        mail = notification.mail_mail_id
        self.assertEqual(received, [])
        self.assertEqual((mail.state, notification.notification_status), ("outgoing", "ready"))
        self.assertFalse(notification.failure_type)
        self.assertIn("454 Throttling failure", notification.failure_reason)
        self.time_passes(mail, self.usage())
        self.sink.script = Script()
        with self.sending() as received:
            self.env["mail.mail"].process_email_queue(mail.ids)
        self.assertEqual(self.recipients(received), ["customer@example.org"])
        self.assertEqual(notification.notification_status, "sent")

    @mute_logger(MAIL_LOGGER)
    def test_refused_for_five_days_fails(self):
        self.sink.script = Script(accept=0, stage="mail", refusal=QUOTA)
        mails = self.mails(2)
        mails[0].mdh_deferred_since = fields.Datetime.now() - datetime.timedelta(days=5, minutes=1)
        with self.sending():
            mails.send()
        self.assertEqual(mails.mapped("state"), ["exception", "outgoing"])
        self.assertIn("5.4.5", mails[0].failure_reason)

    def test_connection_refused_for_five_days_fails(self):
        self.sink.script = Script(accept=0, stage="connect", refusal=CLOSING)
        mails = self.mails(2)
        mails[0].mdh_deferred_since = fields.Datetime.now() - datetime.timedelta(days=5, minutes=1)
        with self.sending() as received:
            mails.send()
        self.assertEqual(received, [])
        self.assertEqual(mails.mapped("state"), ["exception", "outgoing"])
        self.assertIn("421 4.7.0", mails[0].failure_reason)
        self.assertTrue(mails[1].mdh_deferred_since, "a refused connection starts the count")
        self.assertIn("421 4.7.0", mails[1].failure_reason)

    @mute_logger(MAIL_LOGGER)
    def test_a_partly_sent_mail_is_not_sent_twice(self):
        """Two recipients, the relay refuses the second message: resending the mail would send the
        first one twice, so it fails as Odoo fails it (its first notification is sent)."""
        partners = self.partner | self.env["res.partner"].create({"name": "B", "email": "b@example.org"})
        self.sink.script = Script(accept=1, stage="mail", refusal=QUOTA)
        with self.sending() as received:
            message = self.partner.message_post(
                body="Hello", partner_ids=partners.ids, message_type="comment",
                subtype_xmlid="mail.mt_comment", mail_auto_delete=False,
            )  # fmt: skip
        self.assertEqual(len(received), 1)
        statuses = message.notification_ids.filtered(lambda n: n.res_partner_id in partners)
        self.assertEqual(sorted(statuses.mapped("notification_status")), ["exception", "sent"])

    def test_daily_limit_puts_mails_off_in_order(self):
        self.server.mdh_daily_limit = 3
        mails = self.mails(8)
        today = fields.Datetime.now().date()
        with self.sending() as received:
            mails[:6].send()
        self.assertEqual(self.recipients(received), [f"to{i}@example.org" for i in range(3)])
        self.assertEqual(self.server.mdh_sent_today, 3)
        midnight = datetime.datetime.combine(today, datetime.time.min)
        days = [(mail.scheduled_date - midnight).days for mail in mails[3:6]]
        self.assertEqual(days, [1, 1, 1])
        self.assertIn("Daily sending limit of 3", mails[3].failure_reason)
        usage = self.usage()
        self.assertEqual(len(self.alerts(usage)), len(usage._health_admins()))
        # more mails the same day: after those already put off, one day's limit per day
        with self.sending() as received:
            mails[6:].send()
        self.assertEqual(received, [])
        self.assertEqual([(mail.scheduled_date - midnight).days for mail in mails[6:]], [2, 2])
        self.assertEqual(len(self.alerts(usage)), len(usage._health_admins()), "alerted once")
        # the next day: the oldest mails first, within the limit
        tomorrow = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(0, 5))
        with patch.object(fields.Datetime, "now", return_value=tomorrow), self.sending() as received:
            mails[3:6].send()
            self.assertEqual(self.server.mdh_sent_today, 3)
        self.assertEqual(self.recipients(received), [f"to{i}@example.org" for i in (3, 4, 5)])
        self.assertEqual(mails.mapped("state"), ["sent"] * 6 + ["outgoing"] * 2)
        self.assertEqual([(mail.scheduled_date - midnight).days for mail in mails[6:]], [2, 2])

    def test_daily_limit_of_the_configuration_file_server(self):
        self.env["ir.mail_server"].search([]).unlink()
        self.env["ir.config_parameter"].set_param("mail_domain_health.daily_limit", "1")
        smtp = {"smtp_server": "127.0.0.1", "smtp_port": self.sink.port, "smtp_ssl": False,
                "smtp_user": False, "smtp_password": False}  # fmt: skip
        mails = self.mails(2)
        with patch.dict(tools.config.options, smtp), self.sending() as received:
            mails.send()
        self.assertEqual(self.recipients(received), ["to0@example.org"])
        self.assertEqual(mails.mapped("state"), ["sent", "outgoing"])
        usage = self.usage(self.env["ir.mail_server"])
        self.assertEqual((usage.sent, usage.display_name), (1, "the SMTP server of the configuration file"))
        settings = self.env["res.config.settings"].create({})
        self.assertEqual((settings.domain_health_daily_limit, settings.domain_health_sent_today), (1, 1))
