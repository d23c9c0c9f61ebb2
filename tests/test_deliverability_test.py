"""Test Deliverability: a real message from a chosen author, built and signed by the real send path,
judged as a receiver would against zones that pass, fail SPF, fail alignment and lack DKIM."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..deliverability.testing.nsd import free_port
from .dkim_common import SENDING_IP, DkimCase, SinkMixin


@tagged("post_install", "-at_install")
class TestDeliverabilityTest(SinkMixin, DkimCase):
    @classmethod
    def zones(cls):
        zones = super().zones()
        zones.update(
            {
                "spffail.test": (
                    '@ IN TXT "v=spf1 ip4:198.51.100.1 -all"\n_dmarc IN TXT "v=DMARC1; p=quarantine"'
                ),
                "align.test": f'@ IN TXT "v=spf1 ip4:{SENDING_IP} -all"\n_dmarc IN TXT "v=DMARC1; p=reject"',
            }
        )
        return zones

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.send_from_signed_domain()
        cls.user = new_test_user(
            cls.env, "ann", groups="base.group_user", name="Ann", email="ann@signed.test"
        )

    def run_test(self, **values):
        wizard = self.env["mail.deliverability.test"].create(values)
        with self.sending() as received:
            action = wizard.action_run()
        self.assertEqual(
            (action["res_id"], action["name"]), (wizard.id, "Test Deliverability"), "the dialog title"
        )
        return wizard, received

    def test_passes(self):
        wizard, received = self.run_test(author_type="user", user_id=self.user.id)
        self.assertEqual(wizard.outcome, "delivered", wizard.reason)
        self.assertIn("DMARC passes through aligned SPF and DKIM", wizard.reason)
        self.assertIn(f"{SENDING_IP}: pass for signed.test", wizard.spf_result)
        self.assertIn(f"{self.rsa.selector}._domainkey.signed.test: pass", wizard.dkim_result)
        self.assertIn("p=reject", wizard.dmarc_result)
        self.assertEqual((wizard.envelope_from, wizard.header_problems), ("bounce@signed.test", False))
        self.assertIn("DKIM-Signature", wizard.message_headers)
        self.assertEqual(received, [])  # captured, not delivered
        self.assertFalse(self.env["mail.mail"].search([("subject", "=", "Deliverability test")]))

    def test_fails_spf(self):
        """A contact on a domain whose SPF does not list the sending IP, and the envelope on it."""
        partner = self.env["res.partner"].create({"name": "Sam", "email": "sam@spffail.test"})
        self.env["ir.config_parameter"].set_param("mail.catchall.domain", "spffail.test")
        wizard, _received = self.run_test(author_type="partner", partner_id=partner.id)
        self.assertEqual(wizard.outcome, "spam", wizard.reason)
        self.assertIn(f"{SENDING_IP}: fail for spffail.test", wizard.spf_result)
        self.assertIn("quarantine", wizard.reason)
        self.assertIn("SPF record of spffail.test", wizard.fixes)
        self.assertIn("Create a DKIM key for spffail.test", wizard.fixes)

    def test_fails_alignment(self):
        """SPF passes for the catchall domain, which is not the author's: DMARC p=reject refuses it.
        (The server sends for both domains: the sender rules keep the author and the bounce address.)"""
        self.server.from_filter = "align.test,signed.test"
        wizard, _received = self.run_test(author_type="address", email_from="Al <al@align.test>")
        self.assertEqual(wizard.outcome, "rejected", (wizard.reason, wizard.envelope_from, wizard.sent_from))
        self.assertIn(f"{SENDING_IP}: pass for signed.test", wizard.spf_result)
        self.assertIn("SPF aligned: no", wizard.dmarc_result)
        self.assertIn("not aligned with align.test", wizard.reason)
        self.assertIn("the message is not signed", wizard.dkim_result)

    def test_lacks_dkim(self):
        """A key that is not published does not sign: DMARC has nothing aligned left."""
        self.server.from_filter = "unpublished.test,signed.test"
        wizard, _received = self.run_test(author_type="address", email_from="ul@unpublished.test")
        self.assertEqual(wizard.outcome, "rejected", (wizard.reason, wizard.envelope_from, wizard.sent_from))
        self.assertIn("no DKIM signature", wizard.reason)
        self.assertIn("Create a DKIM key for unpublished.test", wizard.fixes)

    def test_recipient_gets_the_bytes_judged(self):
        wizard, received = self.run_test(
            author_type="user",
            user_id=self.user.id,
            recipient="check@example.org",
            mail_server_id=self.server.id,
        )
        self.assertEqual(wizard.outcome, "delivered", wizard.reason)
        self.assertEqual(
            [(r.mail_from, r.rcpt_to) for r in received], [("bounce@signed.test", ("check@example.org",))]
        )
        self.assertEqual(
            sorted(self.verify(received[0].data)),
            sorted([(self.ed.selector, "pass"), (self.rsa.selector, "pass")]),
        )

    def test_bad_input_and_rights(self):
        with self.assertRaises(UserError):
            self.run_test(author_type="address", email_from="")
        dead = self.env["ir.mail_server"].create(
            {"name": "Dead", "smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_encryption": "none"}
        )
        with self.assertRaisesRegex(UserError, "could not be delivered to x@example.org"):
            self.run_test(
                author_type="user", user_id=self.user.id, recipient="x@example.org", mail_server_id=dead.id
            )
        internal = new_test_user(self.env, "tester", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["mail.deliverability.test"].with_user(internal).create({"author_type": "user"})
