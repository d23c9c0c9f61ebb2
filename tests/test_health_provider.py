"""The sending provider the checks assume: the setting, else the outgoing servers' hosts, else Odoo
on Odoo.sh without an outgoing server, else the database's own SMTP server; the wizard and the
settings say which and why."""

import os
from unittest.mock import patch

from odoo.tests import Form, tagged

from ..deliverability import lookups, providers
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

    def test_without_a_known_server_the_own_servers_send(self):
        """Self-hosted, servers of no known provider: its own SMTP server, SPF by its addresses (the
        outgoing server's host resolves to 192.0.2.25 in the test zone), no include, no Odoo CNAME."""
        self.set_servers("smtp.mailer.test")
        settings = self.Health._health_settings()
        self.assertEqual(settings.options.provider, providers.OWN)
        self.assertEqual(settings.options.sending_hosts, ("smtp.mailer.test",))  # looked up by the run
        resolved = lookups.sending_ips(settings.options, settings.run_options)
        self.assertEqual(resolved, ("192.0.2.25", "2001:db8::25"))
        self.assertEqual(settings.options.selectors, ("mdh",), "the settings' selectors only")
        note = self.Health._health_provider_explanation()
        self.assertIn("My own SMTP server: the outgoing servers (smtp.mailer.test) are not a provider", note)
        self.assertIn("the addresses of the outgoing servers' hosts must pass each domain's record", note)
        self.assertIn("the database signs with its own keys", note)
        self.assertNotIn("odoo", note.lower().replace("odoo.sh", ""))
        with patch.dict(os.environ, {"ODOO_STAGE": "production"}):  # Odoo.sh with a server of its own
            self.assertEqual(self.Health._health_settings().options.provider, providers.OWN)

    def test_on_odoo_sh_without_a_server_odoo_sends(self):
        self.set_servers()
        self.assertEqual(self.Health._health_settings().options.provider, providers.OWN)
        with patch.dict(os.environ, {"ODOO_STAGE": "production"}):
            self.assertEqual(self.Health._health_settings().options.provider, providers.ODOO)
            note = self.Health._health_provider_explanation()
            self.assertIn("this database runs on Odoo.sh and has no outgoing server of its own", note)

    def test_own_server_spf_needs_no_include(self):
        """The own relay authorized by ip4: in good.test's include chain passes SPF without Odoo's include."""
        self.set_servers("smtp.mailer.test")
        good = self.health("good.test")
        good._health_check()
        self.assertEqual(self.verdict(good, "spf").status, "pass", self.verdict(good, "spf").summary)
        self.assertNotIn("_spf.odoo.com", self.verdict(good, "spf").summary)

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
        self.assertEqual(choices["own"], "My own SMTP server (authorized by its addresses)")
        self.assertEqual(choices["microsoft"], "Microsoft 365 (spf.protection.outlook.com)")
