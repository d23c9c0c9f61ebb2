"""Upgrade from 18.0.1.0.0: parameters stored before the write-through become one identity."""

import importlib.util
from pathlib import Path

from odoo.tests import common, tagged

# The folder is named after the series the addon is built for (18.0.1.1.0, 17.0.1.1.0, ...).
(MIGRATION,) = (Path(__file__).parent.parent / "migrations").glob("*.1.1.0/post-migration.py")


def _migration():
    spec = importlib.util.spec_from_file_location("mdh_post_migration_18_0_1_1_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMigration(common.TransactionCase):
    def _store_as_before(self, values):
        """Parameters as 18.0.1.0.0 stored them: no write-through, no alias domain of their domain."""
        for key, value in values.items():
            self.env.cr.execute(
                """INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""",
                [key, value],
            )
        self.env.registry.clear_all_caches()  # every cache: 19 keeps parameters in "stable"

    def test_parameters_become_the_alias_domain_of_every_company(self):
        self._store_as_before({"mail.catchall.domain": "upgraded.example", "mail.bounce.alias": "returns"})
        self.assertFalse(self.env["mail.alias.domain"].search([("name", "=", "upgraded.example")]))
        _migration().migrate(self.env.cr, "18.0.1.0.0")
        alias_domain = self.env["mail.alias.domain"].search([("name", "=", "upgraded.example")])
        self.assertEqual(alias_domain.bounce_alias, "returns")
        self.assertEqual(self.env["res.company"].search([]).alias_domain_id, alias_domain)

    def test_the_old_default_provider_is_dropped_outside_flectra(self):
        self._store_as_before({"mail_domain_health.provider": "flectra"})
        _migration().migrate(self.env.cr, "18.0.1.0.0")
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param("mail_domain_health.provider"))
        self._store_as_before({"mail_domain_health.provider": "google"})
        _migration().migrate(self.env.cr, "18.0.1.0.0")
        self.assertEqual(
            self.env["ir.config_parameter"].sudo().get_param("mail_domain_health.provider"), "google"
        )
