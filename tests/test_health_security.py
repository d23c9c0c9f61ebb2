"""Only base.group_system reads health, runs the wizard and changes the settings."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthSecurity(DomainHealthCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.internal = new_test_user(cls.env, "mdh_internal", groups="base.group_user", email="i@good.test")
        cls.portal = new_test_user(cls.env, "mdh_portal", groups="base.group_portal", email="p@good.test")
        cls.record = cls.Health._health_ensure(["good.test"])
        cls.record._health_check()

    def test_administrator_reads_and_runs_everything(self):
        admin = self.env.ref("base.user_admin")
        health = self.record.with_user(admin)
        self.assertEqual(health.state, "pass")
        self.assertEqual(len(health.check_ids), 4)
        wizard = self.env["mail.domain.health.wizard"].with_user(admin).create({})
        self.assertTrue(wizard.line_ids)
        self.env["res.config.settings"].with_user(admin).create(
            {"domain_health_retention_days": 10}
        ).execute()

    def test_internal_and_portal_users_are_refused(self):
        for user in (self.internal, self.portal):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                for model in (
                    "mail.domain.health",
                    "mail.domain.health.run",
                    "mail.domain.health.check",
                    "mail.domain.health.wizard",
                ):
                    with self.assertRaises(AccessError, msg=model):
                        env[model].search([])
                with self.assertRaises(AccessError):
                    self.record.with_user(user).read(["state"])
                with self.assertRaises(AccessError):
                    env["mail.domain.health.wizard"].create({})
                with self.assertRaises(AccessError):
                    env["mail.domain.health"].create({"name": "new.test"})
                with self.assertRaises(AccessError):
                    env["res.config.settings"].create({"domain_health_provider": "odoo"})
                with self.assertRaises(AccessError):
                    self.record.with_user(user).action_check_now()
                with self.assertRaises(AccessError):
                    env["ir.mail_server"].search([]).read(["domain_health_state"])

    def test_health_fields_are_hidden_from_non_administrators(self):
        fields = self.env(user=self.internal)["ir.config_parameter"].fields_get()
        self.assertNotIn("domain_health_ids", fields)
        self.assertIn("domain_health_ids", self.env["ir.config_parameter"].fields_get())
