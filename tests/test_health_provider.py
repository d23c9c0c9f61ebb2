"""The sending provider the checks assume: the setting, else the outgoing servers' hosts, else the
platform; the wizard and the settings say which and why."""

from unittest.mock import patch

from odoo import release
from odoo.tests import Form, tagged

from ..deliverability import providers
from .common import DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthProvider(DomainHealthCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        icp = cls.env["ir.config_parameter"].sudo()
        icp.set_param("mail_domain_health.provider", False)  # not chosen: automatic
        cls.servers = cls.env["ir.mail_server"].search([])

    def set_servers(self, *hosts):
        self.servers.unlink()
        for sequence, host in enumerate(hosts):
            self.env["ir.mail_server"].create({"name": host, "smtp_host": host, "sequence": sequence})

    def test_without_a_known_server_the_platform_decides(self):
        self.set_servers("smtp.mailer.test")
        with patch.object(release, "product_name", "Odoo"):  # the platform, whichever this is
            self.assertEqual(self.Health._health_settings().options.provider, providers.ODOO)
            note = self.Health._health_provider_explanation()
        self.assertIn("Odoo, the platform this database runs on", note)
        self.assertIn("(smtp.mailer.test) are not a provider this module knows", note)
        with patch.object(release, "product_name", "Flectra"):
            self.assertEqual(self.Health._health_settings().options.provider, providers.FLECTRA)

    def test_the_outgoing_servers_hosts_suggest_the_provider_in_priority_order(self):
        self.set_servers("smtp.mailer.test", "smtp.sendgrid.net", "smtp.gmail.com")
        options = self.Health._health_settings().options
        self.assertEqual(options.provider.name, "sendgrid")
        self.assertEqual(options.selectors, ("s1", "s2", "mdh"), "its selectors, then the settings' ones")
        note = self.Health._health_provider_explanation()
        self.assertIn("SendGrid: the outgoing server smtp.sendgrid.net is theirs.", note)
        self.assertIn("the selectors s1, s2 must lead to the keys your SendGrid account names", note)

        good = self.health("good.test")
        good._health_check()
        spf = self.verdict(good, "spf")
        self.assertEqual(spf.status, "fail")
        self.assertIn("does not include sendgrid.net", spf.summary)

    def test_a_provider_with_selectors_per_domain_asks_for_them(self):
        self.set_servers("smtp.eu.mailgun.org")
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.dkim_selectors", False)
        self.assertEqual(self.Health._health_settings().options.selectors, ())
        note = self.Health._health_provider_explanation()
        self.assertIn("add them to DKIM Selectors in the settings", note)

    def test_the_setting_wins_and_the_wizard_says_so(self):
        self.set_servers("smtp.gmail.com")
        settings = Form(self.env["res.config.settings"])
        self.assertEqual(settings.domain_health_provider, "auto")
        note = settings.domain_health_provider_note
        self.assertIn("Google Workspace: the outgoing server smtp.gmail.com", note)
        settings.domain_health_provider = "postmark"
        self.assertIn("Postmark, as chosen in the settings.", settings.domain_health_provider_note)
        settings.save().execute()
        self.assertEqual(self.Health._health_settings().options.provider.name, "postmark")
        wizard = self.env["mail.domain.health.wizard"].create({})
        self.assertIn("Postmark, as chosen in the settings.", wizard.provider_note)
        arch = wizard.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="provider_note"', arch)

    def test_every_provider_of_the_table_can_be_chosen(self):
        field = self.env["res.config.settings"]._fields["domain_health_provider"]
        choices = dict(field._description_selection(self.env))
        self.assertEqual(set(choices), {"auto", "custom", *providers.PROVIDERS})
        self.assertEqual(choices["microsoft"], "Microsoft 365 (spf.protection.outlook.com)")
