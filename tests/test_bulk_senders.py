"""Bulk-sender requirements in Test Deliverability: a notification and a mass mailing (chosen, or
built by the wizard) through the real send path, judged one by one against a real NSD serving the
forward and reverse zones of the sending IP."""

from odoo.tests import new_test_user, tagged

from .dkim_common import SENDING_IP, DkimCase, SinkMixin

BASE_URL = "https://a-database-with-a-rather-long-name.signed.test"


@tagged("post_install", "-at_install")
class TestBulkSenderRequirements(SinkMixin, DkimCase):
    @classmethod
    def zones(cls):
        zones = super().zones()
        zones["signed.test"] += f"\nsmtp IN A {SENDING_IP}"
        zones["2.0.192.in-addr.arpa"] = f"{SENDING_IP.rsplit('.', 1)[1]} IN PTR smtp.signed.test."
        return zones

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.send_from_signed_domain()
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", BASE_URL)
        cls.user = new_test_user(
            cls.env, "bea", groups="base.group_user", name="Bea", email="bea@signed.test"
        )

    def run_test(self, **values):
        wizard = self.env["mail.deliverability.test"].create(
            {"author_type": "user", "user_id": self.user.id, **values}
        )
        with self.sending() as received:
            wizard.action_run()
        self.assertEqual(received, [])
        return {line.requirement: line for line in wizard.requirement_ids}

    def assert_all_pass(self, found, but=()):
        self.assertEqual(
            {r: line.status for r, line in found.items() if r not in but},
            dict.fromkeys(set(found) - set(but), "pass"),
            {r: line.detail for r, line in found.items()},
        )

    def test_notification(self):
        found = self.run_test(mail_kind="notification")
        self.assertEqual(
            list(found), ["spf", "dkim", "dmarc_record", "alignment", "one_click", "fcrdns", "headers"]
        )
        self.assert_all_pass(found, but=["one_click"])
        self.assertEqual(found["one_click"].status, "na")
        self.assertEqual(found["fcrdns"].detail, f"{SENDING_IP}: smtp.signed.test (confirmed)")
        self.assertEqual(found["dmarc_record"].detail, "p=reject at signed.test")
        self.assertIn("Microsoft", found["spf"].providers)

    def test_mass_mailing_built_or_chosen(self):
        if "mailing.mailing" not in self.env:
            self.skipTest("mass_mailing is not installed (tools/run_tests.sh installs it)")
        mailings = self.env["mailing.mailing"].search([])
        found = self.run_test(mail_kind="mass_mailing")
        self.assert_all_pass(found)
        self.assertTrue(
            found["one_click"].detail.startswith(f"{BASE_URL}/mailing/"), found["one_click"].detail
        )
        self.assertEqual(self.env["mailing.mailing"].search([]), mailings, "the built mailing is removed")
        mailing = self.env["mailing.mailing"].create(
            {"subject": "Spring news", "email_from": self.user.email_formatted, "body_html": "<p>News</p>"}
        )
        found = self.run_test(mail_kind="mass_mailing", mailing_ref=f"mailing.mailing,{mailing.id}")
        self.assert_all_pass(found)
        self.assertIn(f"/mailing/{mailing.id}/unsubscribe_oneclick", found["one_click"].detail)

    def test_unsigned_author_misses_the_requirements(self):
        """An author on a domain without a key, through a server that sends for it: each requirement
        says what is missing and how to fix it."""
        self.server.from_filter = "unpublished.test,signed.test"
        found = self.run_test(
            author_type="address", email_from="ul@unpublished.test", mail_kind="notification"
        )
        self.assertEqual(found["dkim"].status, "fail")
        self.assertEqual(found["alignment"].status, "fail")
        self.assertIn("sign with a DKIM key of unpublished.test", found["alignment"].fix)
        self.assertEqual(found["spf"].status, "pass")  # the envelope is the bounce address on signed.test
