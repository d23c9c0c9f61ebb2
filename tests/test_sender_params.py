"""The seed's system parameters are validated: a bad address or domain is refused and nothing is saved."""

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install", "mdh_sender")
class TestSenderParameters(TransactionCase):
    def setUp(self):
        super().setUp()
        self.icp = self.env["ir.config_parameter"].sudo()
        self.addCleanup(self.env.registry.clear_cache)

    def test_valid_values_are_saved(self):
        for key, value in [
            ("mail.default.from", "notifications"),
            ("mail.default.from", "noreply@éxample.com"),
            ("mail.default.from_filter", "example.com, sales@example.org"),
            ("mail.catchall.domain", "example.com"),
            ("mail.bounce.alias", "bounce+odoo"),
        ]:
            with self.subTest(key=key, value=value):
                self.icp.set_param(key, value)
                self.assertEqual(self.icp.get_param(key), value)

    def test_invalid_values_are_refused_and_nothing_is_saved(self):
        self.icp.set_param("mail.catchall.domain", "example.com")
        for key, value, says in [
            ("mail.catchall.domain", "bounce@example.com", "domain only"),
            ("mail.catchall.domain", "not a domain", "not a valid domain name"),
            ("mail.default.from", "no reply", "local part"),
            ("mail.default.from", '"Notifications" <n@example.com>', "without a name"),
            ("mail.default.from_filter", "example.com, exa mple.org", "'exa mple.org' is neither"),
            ("mail.bounce.alias", "bounce@example.com", "local part only"),
            ("mail.bounce.alias", "bounce\r\nX-Injected: 1", "one line"),
        ]:
            with self.subTest(key=key, value=value):
                before = self.icp.get_param(key)
                with self.assertRaises(ValidationError) as caught:
                    self.icp.set_param(key, value)
                self.assertIn(key, str(caught.exception))
                self.assertIn(says, str(caught.exception))
                self.assertEqual(self.icp.get_param(key), before)

    def test_create_and_write_are_checked(self):
        with self.assertRaises(ValidationError):
            self.icp.create({"key": "mail.catchall.domain", "value": "x@y"})
        self.assertFalse(self.icp.search([("key", "=", "mail.catchall.domain")]))
        param = self.icp.create({"key": "mail.catchall.domain", "value": "example.com"})
        with self.assertRaises(ValidationError):
            param.write({"value": "bad domain"})
        self.assertEqual(param.value, "example.com")
        other = self.icp.create({"key": "some.key", "value": "free text"})
        with self.assertRaises(ValidationError):
            other.write({"key": "mail.default.from"})  # renaming makes the value a sender parameter

    def test_empty_means_unset(self):
        self.icp.set_param("mail.default.from", "notifications")
        self.icp.set_param("mail.default.from", "")
        self.assertFalse(self.icp.get_param("mail.default.from"))
        self.icp.set_param("mail.default.from", False)
        self.assertFalse(self.icp.search([("key", "=", "mail.default.from")]))

    def test_other_parameters_are_untouched(self):
        self.icp.set_param("web.base.url.freeze", "not an address at all")
        self.assertEqual(self.icp.get_param("web.base.url.freeze"), "not an address at all")

    def test_odoo_migration_values_are_valid(self):
        """The values mail's own tests store before migrating them into an alias domain."""
        self.icp.set_param("mail.catchall.domain", "test.migration.com")
        self.icp.set_param("mail.bounce.alias", "migrate+bounce")
        self.icp.set_param("mail.default.from", "migrate+default_from")
        domain = self.env["mail.alias.domain"]._migrate_icp_to_domain()
        self.assertEqual(domain.bounce_email, "migrate+bounce@test.migration.com")
