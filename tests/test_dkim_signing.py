"""Signing on the send path: mail sent by ``mail.mail`` (a chatter notification, a mass mail) arrives at
a real SMTP sink on 127.0.0.1 signed, and its signatures verify against the keys NSD serves."""

import base64
from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from ..deliverability import dkim_sign
from .dkim_common import DkimCase, SinkMixin

LOGGER = "odoo.addons.mail_domain_health.models.ir_mail_server"
BODY = "<p>Hello</p>\n<pre>\n.a line that starts with a dot\n..and one with two\n.\n</pre>\n"
SUBJECT = "A subject long enough to be folded: " + "quarterly report and minutes of the meeting " * 4


@tagged("post_install", "-at_install")
class TestDkimSigning(SinkMixin, DkimCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["mail.dkim.key"].search([]).action_check_dns()
        cls.user = new_test_user(
            cls.env, "zoe", groups="base.group_user", name="Zoë Ünïcode-Lévêque", email="zoe@signed.test"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Çustomer", "email": "customer@example.org"})

    def attachment(self):
        return self.env["ir.attachment"].create(
            {
                "name": "résumé.txt",
                "datas": base64.b64encode(b".dot line\r\n" * 200),
                "mimetype": "text/plain",
            }
        )

    def assert_signed(self, data, mail):
        selectors = [self.rsa.selector, self.ed.selector]
        self.assertEqual(sorted(self.verify(data)), sorted((s, "pass") for s in selectors))
        self.assertIn("DKIM: signed for signed.test", mail.mdh_sender_explanation)
        self.assertIn(self.rsa.selector, mail.mdh_sender_explanation)

    def test_chatter_notification(self):
        with self.sending() as received:
            message = self.customer.message_post(
                body=BODY, subject=SUBJECT, partner_ids=self.customer.ids, message_type="comment",
                subtype_xmlid="mail.mt_comment", attachment_ids=self.attachment().ids,
                author_id=self.user.partner_id.id, email_from=self.user.email_formatted,
                mail_auto_delete=False,
            )  # fmt: skip
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
        self.assertEqual(len(received), 1, mails.mapped("failure_reason"))
        data = received[0].data
        self.assertIn(b"Content-Disposition: attachment", data)
        self.assert_signed(data, mails)

    def test_mass_mail(self):
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "email_from": self.user.email_formatted,
                        "email_to": f'"Récipient {i}" <person{i}@example.org>',
                        "subject": SUBJECT,
                        "body_html": BODY,
                        "attachment_ids": self.attachment().ids,
                        "headers": {"List-Unsubscribe": f"<https://signed.test/unsubscribe/{i}>"},
                    }
                    for i in range(3)
                ]
            )
        )
        keys = type(self.env["mail.dkim.key"])
        with (
            self.sending() as received,
            patch.object(keys, "_dkim_signers", autospec=True, side_effect=keys._dkim_signers) as signers,
        ):
            mails.send()
        self.assertEqual(signers.call_count, 1, "the signers are read once per send, not per message")
        self.assertEqual(len(received), 3, mails.mapped("failure_reason"))
        for item, mail in zip(received, mails, strict=True):
            self.assert_signed(item.data, mail)
            self.assertIn(b"\r\n.a line that starts with a dot", item.data)  # dot-stuffed on the wire
            self.assertIn(b"list-unsubscribe", item.data.split(b"\r\n\r\n")[0].lower().split(b"h=")[1])
        altered = received[0].data.replace(b".a line that starts", b".a line that began", 1)
        self.assertEqual({result for _selector, result in self.verify(altered)}, {"fail"})

    def send_from(self, email):
        self.user.email = email
        mail = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "email_from": self.user.email_formatted,
                    "email_to": "person@example.org",
                    "subject": "x",
                    "body_html": BODY,
                }
            )
        )
        with self.sending() as received:
            mail.send()
        self.assertEqual(len(received), 1, mail.failure_reason)
        return received[0].data, mail

    def test_unpublished_key_does_not_sign_unless_forced(self):
        self.server.from_filter = "unpublished.test,nokey.test"  # the sender rules keep these authors
        data, mail = self.send_from("zoe@unpublished.test")
        self.assertNotIn(b"DKIM-Signature", data)
        self.assertIn("not published yet", mail.mdh_sender_explanation)
        self.unpublished.force_signing = True
        data, mail = self.send_from("zoe@unpublished.test")
        self.assertEqual(self.verify(data), [(self.unpublished.selector, "permerror")])
        data, mail = self.send_from("zoe@nokey.test")
        self.assertNotIn(b"DKIM-Signature", data)
        self.assertNotIn("DKIM", mail.mdh_sender_explanation)  # no key: nothing to say

    def test_signing_failure_sends_unsigned(self):
        with (
            patch.object(dkim_sign, "sign_message", side_effect=ValueError("broken")),
            self.assertLogs(LOGGER, "WARNING") as logs,
        ):
            data, mail = self.send_from("zoe@signed.test")
        self.assertNotIn(b"DKIM-Signature", data)
        self.assertEqual(mail.state, "sent")
        self.assertIn("sent unsigned: broken", logs.output[0])
        self.assertIn("signing failed", mail.mdh_sender_explanation)
