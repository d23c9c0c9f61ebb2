"""Health on ir.mail_server and ir.config_parameter, and the settings that drive the checks."""

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from ..deliverability import providers
from .common import DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthFields(DomainHealthCase):
    def test_mail_server_shows_the_health_of_its_domains_and_checks_now(self):
        server = self.env["ir.mail_server"].create(
            {"name": "Both", "smtp_host": "smtp.mailer.test", "from_filter": "good.test, news@bad.test"}
        )
        self.assertFalse(server.domain_health_state, "never checked")
        action = server.action_check_domain_health()
        self.assertEqual(action["tag"], "soft_reload")
        server.invalidate_recordset()
        self.assertEqual(server.domain_health_ids.mapped("name"), ["bad.test", "good.test"])
        self.assertEqual(server.domain_health_state, "fail")
        self.assertTrue(server.domain_health_last_check)

        server.from_filter = "good.test"
        self.assertEqual(server.domain_health_state, "pass")

    def test_mail_server_without_from_filter_sends_for_every_domain_in_use(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", "bad.test")
        server = self.env["ir.mail_server"].create({"name": "Any", "smtp_host": "smtp.mailer.test"})
        server.action_check_domain_health()
        server.invalidate_recordset()
        self.assertEqual(set(server.domain_health_ids.mapped("name")), {"good.test", "bad.test"})

    def test_mail_server_views_render_the_badges(self):
        views = self.env["ir.mail_server"].get_views([(False, "list"), (False, "form")])
        self.assertIn('name="domain_health_state"', views["views"]["list"]["arch"])
        self.assertIn('name="action_check_domain_health"', views["views"]["form"]["arch"])

    def test_mail_parameter_shows_the_health_of_the_domain_it_names(self):
        icp = self.env["ir.config_parameter"]
        icp.set_param("mail.default.from", "notifications@bad.test")
        param = icp.search([("key", "=", "mail.default.from")])
        self.assertTrue(param.domain_health_applicable)
        param.action_check_domain_health()
        param.invalidate_recordset()
        self.assertEqual(param.domain_health_ids.name, "bad.test")
        self.assertEqual(param.domain_health_state, "fail")

        other = icp.search([("key", "=", "mail.restrict.template.rendering")])
        self.assertFalse(other.domain_health_applicable or other.domain_health_ids)
        form = self.env["ir.config_parameter"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="domain_health_ids"', form)

    def test_settings_are_stored_and_drive_the_checks(self):
        settings = Form(self.env["res.config.settings"])
        settings.domain_health_provider = "odoo"
        settings.domain_health_dkim_selectors = "s1, s2"
        settings.domain_health_sending_ips = "198.51.100.1 2001:db8::1"
        settings.domain_health_retention_days = 30
        settings.save().execute()
        icp = self.env["ir.config_parameter"]
        self.assertEqual(icp.get_param("mail_domain_health.provider"), "odoo")
        self.assertEqual(icp.get_param("mail_domain_health.retention_days"), "30")
        settings = self.Health._health_settings()
        options, run_options = settings.options, settings.run_options
        self.assertEqual(options.provider, providers.ODOO)
        self.assertEqual(options.selectors, ("odoo", "s1", "s2"))
        self.assertEqual(options.sending_ips, ("198.51.100.1", "2001:db8::1"))
        self.assertEqual([str(ns) for ns in run_options.nameservers], [self.nsd.address])

        settings = Form(self.env["res.config.settings"])
        settings.domain_health_provider = "flectra"
        settings.save().execute()
        self.assertEqual(self.Health._health_settings().options.provider, providers.FLECTRA)

    def test_settings_reject_bad_values_clearly(self):
        for field, value, message in [
            ("domain_health_nameservers", "ns1.example.com", "is not an IP address"),
            ("domain_health_nameservers", "127.0.0.1:99999", "port '99999' is not in 1-65535"),
            ("domain_health_sending_ips", "192.0.2.300", "192.0.2.300 is not an IP address"),
            # receivers never see mail come from these: refused with the reason, not dropped
            ("domain_health_sending_ips", "127.0.0.1", "127.0.0.1 is a loopback address"),
            ("domain_health_sending_ips", "203.0.113.9, 192.168.1.20", "192.168.1.20 is a private address"),
            ("domain_health_dkim_selectors", "bad selector!", "is not a valid DNS label"),
            ("domain_health_dkim_selectors", "s1, -bad-", "'-bad-' is not a valid DNS label"),
            ("domain_health_retention_days", -1, "cannot be negative"),
        ]:
            with self.subTest(field=field), self.assertRaisesRegex(ValidationError, message):
                self.env["res.config.settings"].create({field: value})
        with self.assertRaisesRegex(ValidationError, "needs the SPF include"):
            self.env["res.config.settings"].create(
                {"domain_health_provider": "custom", "domain_health_spf_include": False}
            )
        with self.assertRaisesRegex(ValidationError, "'192.0.2.1' is not a domain name: an SPF include"):
            self.env["res.config.settings"].create(
                {"domain_health_provider": "custom", "domain_health_spf_include": "192.0.2.1"}
            )
        settings = self.env["res.config.settings"].create(
            {"domain_health_nameservers": "127.0.0.1:5353, [::1]:53", "domain_health_provider": "flectra"}
        )
        settings.execute()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("mail_domain_health.nameservers"),
            "127.0.0.1:5353, [::1]:53",
        )

    def test_uninstall_hook_keeps_core_settings(self):
        from ..hooks import uninstall_hook

        icp = self.env["ir.config_parameter"]
        icp.set_param("mail.catchall.domain", "good.test")
        icp.set_param("mail.default.from", "notifications@good.test")
        uninstall_hook(self.env)
        self.assertFalse(icp.search([("key", "=like", "mail_domain_health.%")]))
        self.assertEqual(icp.get_param("mail.catchall.domain"), "good.test")
        self.assertEqual(icp.get_param("mail.default.from"), "notifications@good.test")

    def test_sending_preview_uses_the_last_known_health(self):
        preview = self.env["mail.send.preview"].create({"author": "jane@good.test"})
        self.assertEqual(preview.alignment_state, "unknown", "nothing checked yet")
        self.health("good.test", "bad.test")._health_check()
        facts = self.Health._health_mail_facts("Good.Test")
        self.assertEqual([(r.selector, r.result) for r in facts.dkim], [("mdh", "pass")])
        preview = self.env["mail.send.preview"].create({"author": "jane@good.test"})
        self.assertEqual((preview.alignment_state, preview.mail_outcome), ("pass", "delivered"))
        self.assertIn("DMARC passes through aligned SPF and DKIM", preview.alignment_details)
        self.assertIn("good.test is the From domain", preview.alignment_details)
        preview = self.env["mail.send.preview"].create({"author": "jane@bad.test"})
        self.assertEqual((preview.alignment_state, preview.mail_outcome), ("fail", "spam"))
        self.assertIn("p=quarantine of bad.test asks receivers to quarantine it", preview.alignment_details)
        record = self.Health.search([("name", "=", "bad.test")])
        self.assertEqual(record.mail_outcome, "spam", "Domain Health gives the same answer")
