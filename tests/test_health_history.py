"""History is what was measured: read-only for administrators, a domain's last result always kept;
the health fields of outgoing servers and mail parameters come from one mixin."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthHistory(DomainHealthCase):
    def setUp(self):
        super().setUp()
        self.flip = self.health("flip.test")
        self.flip._health_check()
        self.use_nameserver(self.nsd_degraded)
        self.flip._health_check()
        self.first, self.last = self.flip.run_ids.sorted("id")
        self.admin = self.env.ref("base.user_admin")

    def test_administrators_cannot_add_change_or_delete_history(self):
        runs = self.env["mail.domain.health.run"].with_user(self.admin)
        with self.assertRaises(AccessError):
            runs.create({"health_id": self.flip.id, "state": "pass"})
        with self.assertRaises(AccessError):
            self.first.with_user(self.admin).unlink()
        with self.assertRaises(AccessError):
            self.first.with_user(self.admin).write({"state": "pass"})
        with self.assertRaises(AccessError):
            self.last.check_ids[:1].with_user(self.admin).unlink()
        self.assertEqual(self.flip.with_user(self.admin).run_ids, self.first | self.last, "they read it")

    def test_the_form_offers_no_way_to_add_or_delete_history_lines(self):
        arch = self.Health.get_views([(False, "form")])["views"]["form"]["arch"]
        history = arch.split('name="run_ids"', 1)[1].split("</field>", 1)[0]
        self.assertIn('create="0"', history)
        self.assertIn('delete="0"', history)

    def test_the_last_result_of_a_domain_is_never_deleted(self):
        with self.assertRaisesRegex(UserError, "The last check of flip.test cannot be deleted"):
            self.last.sudo().unlink()
        self.first.sudo().unlink()
        self.assertEqual(self.flip.run_ids, self.last, "older history can go (retention)")
        self.assertEqual(self.flip.state, "fail")

    def test_outgoing_servers_and_mail_parameters_share_the_health_mixin(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", "flip.test")
        param = self.env["ir.config_parameter"].search([("key", "=", "mail.catchall.domain")])
        server = self.env["ir.mail_server"].create(
            {"name": "Flip", "smtp_host": "smtp.mailer.test", "from_filter": "flip.test"}
        )
        for record in (param, server):
            with self.subTest(model=record._name):
                self.assertIsInstance(record, type(self.env["mail.domain.health.mixin"]))
                self.assertEqual(record.domain_health_ids, self.flip)
                self.assertEqual(record.domain_health_state, "fail")
                self.assertEqual(record.domain_health_last_check, self.flip.last_check)
        views = [
            self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
            for model in ("ir.config_parameter", "ir.mail_server")
        ]
        for arch in views:
            self.assertIn("mail_domain_health.view_mail_domain_health_list_compact", arch)
            self.assertNotIn("<list>", arch.split('name="domain_health_ids"', 1)[1].split("/>", 1)[0])
