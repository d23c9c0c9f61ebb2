"""The sending preview wizard: same decision as the send path, alignment from the last known health."""

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .test_sender_send import SenderCase


@tagged("post_install", "-at_install", "mdh_sender")
class TestSendPreview(SenderCase):
    def preview(self, **values):
        return self.env["mail.send.preview"].create(values)

    def test_author_text(self):
        wizard = self.preview(author='"Jane Doe" <jane@gmail.com>')
        self.assertEqual(wizard.result_from, f"Jane Doe <{self.notif}>")
        self.assertEqual(wizard.result_envelope, self.notif)
        self.assertEqual(wizard.result_server, self.mail_server_notification.name)
        self.assertEqual(wizard.result_rule, "encapsulated")
        self.assertEqual(wizard.result_envelope_rule, "from_address")
        self.assertEqual(wizard.result_return_path, self.bounce)
        self.assertEqual(wizard.result_reply_to, f"{self.alias_catchall}@{self.alias_domain}")
        self.assertIn("the server sends only as that address", wizard.result_explanation)
        self.assertIn(
            f"Default sender: {self.notif} (the alias domain {self.alias_domain})", wizard.result_settings
        )
        self.assertIn(
            f"Reply-To (catchall): {self.alias_catchall}@{self.alias_domain}", wizard.result_settings
        )
        self.assertNotIn("seed", (wizard.result_explanation + wizard.result_settings).lower())

    def test_matches_what_is_sent(self):
        for author in [
            '"Jane Doe" <jane@gmail.com>',
            '"Ann" <ann@test.mycompany.com>',
            "specific_user@test.mycompany.com",
        ]:
            with self.subTest(author=author):
                wizard = self.preview(author=author)
                mail = self.env["mail.mail"].create(
                    {
                        "body_html": "x",
                        "email_to": "d@example.org",
                        "email_from": author,
                        "auto_delete": False,
                    }
                )
                with self.mock_smtplib_connection():
                    mail.send()
                self.assertEqual(self.emails[0]["smtp_from"], wizard.result_envelope)
                self.assertEqual(str(self.emails[0]["msg_from"]), wizard.result_from)
                self.assertEqual(mail.mdh_sent_from, str(self.emails[0]["msg_from"]))
                self.assertEqual(mail.mdh_sender_rule, wizard.result_rule)
                self.assertEqual(mail.mdh_mail_server_id.name, wizard.result_server)

    def test_partner_user_and_forced_server(self):
        partner = self.env["res.partner"].create({"name": "Jane Doe", "email": "jane@gmail.com"})
        self.assertEqual(self.preview(partner_id=partner.id).result_from, f"Jane Doe <{self.notif}>")
        wizard = self.preview(user_id=self.user_employee.id, mail_server_id=self.mail_server_domain.id)
        self.assertEqual(wizard.sent_as, self.user_employee.partner_id.email_formatted)
        self.assertEqual(wizard.result_server, self.mail_server_domain.name)
        self.assertEqual(wizard.result_from, f"Ernest Employee <{self.notif}>")
        self.assertEqual(wizard.result_envelope, self.bounce)

    def test_system_parameter_is_the_alias_domain_value(self):
        self.set_params(mail_default_from="noreply@test.mycompany.com")
        wizard = self.preview(author="jane@gmail.com")
        self.assertEqual(wizard.result_from, "jane <noreply@test.mycompany.com>")
        self.assertIn(
            f"Default sender: noreply@test.mycompany.com (the alias domain {self.alias_domain})",
            wizard.result_settings,
        )

    def test_full_address_parameter_without_alias_domain(self):
        self.env.company.alias_domain_id = False
        self.set_params(mail_default_from="noreply@test.mycompany.com")
        wizard = self.preview(author="jane@gmail.com")
        self.assertEqual(wizard.result_from, "jane <noreply@test.mycompany.com>")
        self.assertIn("(the system parameters mail.catchall.domain,", wizard.result_settings)
        self.assertIn("Reply-To (catchall): none", wizard.result_settings)

    def test_nothing_to_send_from_is_said(self):
        self.env.company.alias_domain_id = False
        wizard = self.preview(author="")
        self.assertFalse(wizard.result_from)
        self.assertIn("Odoo would not send this message", wizard.result_explanation)

    def test_form_recomputes_live(self):
        with Form(self.env["mail.send.preview"]) as form:
            form.author = "ann@test.mycompany.com"
            self.assertEqual(form.result_rule, "author_matches")
            form.author = "ann@gmail.com"
            self.assertEqual(form.result_rule, "encapsulated")

    def test_menu_action_and_server_button(self):
        action = self.env.ref("mail_domain_health.action_mail_send_preview")
        self.assertEqual(
            self.env.ref("mail_domain_health.menu_mail_send_preview").parent_id,
            self.env.ref("base.menu_email"),
        )
        arch = self.env["ir.mail_server"].get_view(view_type="form")["arch"]
        self.assertIn(f'name="{action.id}"', arch)

    def test_only_administrators(self):
        with self.assertRaises(AccessError):
            self.env["mail.send.preview"].with_user(self.user_employee).create({"author": "a@example.com"})
