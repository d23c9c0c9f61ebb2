"""One-click unsubscribe on the wire: a mass mailing sent through ``mass_mailing`` as the UI does (launch,
then the queue's cron) and a ``mail.mail`` with a long List-Unsubscribe arrive at a real SMTP sink with
the fields valid (never encoded words, URLs unchanged) and covered by DKIM signatures that verify
against the keys NSD serves."""

import asyncio
import email.policy
from email import message_from_bytes

from odoo.tests import new_test_user, tagged

from ..deliverability import bulk_senders, unsubscribe, verdict
from .common import cron_test_mode
from .dkim_common import DkimCase, SinkMixin

BASE_URL = "https://a-database-with-a-rather-long-name.signed.test"


@tagged("post_install", "-at_install")
class TestUnsubscribeOnTheWire(SinkMixin, DkimCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["mail.dkim.key"].search([]).action_check_dns()
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", BASE_URL)
        cls.user = new_test_user(
            cls.env, "mia", groups="base.group_user", name="Mia", email="mia@signed.test"
        )

    def one_click(self, data):
        """One-click unsubscribe as the receiver reads the bytes received."""
        received = message_from_bytes(data, policy=email.policy.compat32)
        passing = [(d, s) for d, s, result in self.verified(data) if result == "pass"]
        self.assertEqual(len(passing), 2, self.verified(data))
        return unsubscribe.one_click(received.items(), bulk_senders.signed_fields(data, passing))

    def verified(self, data):
        return [
            (r.domain, r.selector, r.result) for r in asyncio.run(verdict._verify_dkim(data, self.resolver()))
        ]

    def test_mail_with_long_list_unsubscribe(self):
        url = f"{BASE_URL}/unsubscribe?token=" + "0123456789abcdef" * 8
        value = f"<{url}>, <mailto:unsubscribe@signed.test?subject=unsubscribe>"
        mail = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "email_from": self.user.email_formatted,
                    "email_to": "person@example.org",
                    "subject": "Digest",
                    "body_html": "<p>Hello</p>",
                    "headers": {"List-Unsubscribe": value, "List-Unsubscribe-Post": unsubscribe.ONE_CLICK},
                }
            )
        )
        with self.sending() as received:
            mail.send()
        self.assertEqual(len(received), 1, mail.failure_reason)
        data = received[0].data
        self.assertNotIn(b"=?", data.split(b"\r\n\r\n")[0])
        found = self.one_click(data)
        self.assertEqual(found.problems, ())
        self.assertEqual(found.urls, (url, "mailto:unsubscribe@signed.test?subject=unsubscribe"))
        headers = message_from_bytes(data, policy=email.policy.default)
        self.assertEqual(str(headers["List-Unsubscribe"]), value)

    def test_mass_mailing(self):
        if "mailing.mailing" not in self.env:
            self.skipTest("mass_mailing is not installed (tools/run_tests.sh installs it)")
        contacts = self.env["mailing.contact"].create(
            [{"name": f"Contact {i}", "email": f"contact{i}@example.org"} for i in range(4)]
        )
        mailing_list = self.env["mailing.list"].create({"name": "News", "contact_ids": contacts.ids})
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Our news",
                "email_from": self.user.email_formatted,
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": mailing_list.ids,
                "body_html": '<p>News</p><a href="/unsubscribe_from_list">Unsubscribe</a>',
                "mail_server_id": self.server.id,
            }
        )
        mailing.action_launch()  # the Send button
        with self.sending() as received, cron_test_mode(self):
            self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").sudo().method_direct_trigger()  # its cron
        self.assertEqual(mailing.state, "done")
        self.assertEqual(sorted(r.rcpt_to for r in received), [(c.email,) for c in contacts])
        for item in received:
            found = self.one_click(item.data)
            self.assertEqual(found.problems, ())
            (url,) = found.urls
            self.assertTrue(url.startswith(f"{BASE_URL}/mailing/{mailing.id}/unsubscribe_oneclick?"), url)
            self.assertGreater(len(url), 78)
            self.assertIn(f"List-Unsubscribe: <{url}>\r\n".encode(), item.data)
