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


@tagged("post_install", "-at_install", "mdh_sender")
class TestIdentityWriteThrough(TransactionCase):
    """The identity parameters and the alias domains they describe say the same, both ways."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.icp = cls.env["ir.config_parameter"].sudo()
        for key in ("mail.catchall.domain", "mail.catchall.alias", "mail.bounce.alias", "mail.default.from"):
            cls.icp.set_param(key, False)
        Domain = cls.env["mail.alias.domain"]
        cls.domain_a = Domain.create({"name": "a.example.com", "bounce_alias": "bounce-a"})
        cls.domain_b = Domain.create({"name": "b.example.com", "bounce_alias": "bounce-b"})
        cls.unused = Domain.create({"name": "unused.example.com", "bounce_alias": "bounce-u"})
        cls.company_a = cls.env.company
        cls.company_a.alias_domain_id = cls.domain_a
        cls.company_b = cls.env["res.company"].create(
            {"name": "Company B", "alias_domain_id": cls.domain_b.id}
        )

    def setUp(self):
        super().setUp()
        self.addCleanup(self.env.registry.clear_cache)

    def test_catchall_domain_creates_the_alias_domain_every_company_uses(self):
        self.icp.set_param("mail.catchall.domain", "New.Example.com")
        domain = self.env["mail.alias.domain"].search([("name", "=", "new.example.com")])
        self.assertEqual(
            (domain.bounce_alias, domain.catchall_alias, domain.default_from),
            ("bounce", "catchall", "notifications"),
        )
        self.assertEqual((self.company_a | self.company_b).alias_domain_id, domain)
        self.icp.set_param("mail.bounce.alias", "Bounces")
        self.icp.set_param("mail.default.from", "noreply@new.example.com")
        self.assertEqual((domain.bounce_alias, domain.default_from), ("bounces", "noreply@new.example.com"))
        self.assertEqual(self.company_b.bounce_email, "bounces@new.example.com")
        self.assertEqual(self.company_b.catchall_email, "catchall@new.example.com")

    def test_catchall_domain_naming_an_existing_alias_domain_keeps_it(self):
        self.icp.set_param("mail.catchall.domain", "b.example.com")
        self.assertEqual((self.company_a | self.company_b).alias_domain_id, self.domain_b)
        self.assertEqual(self.domain_b.bounce_alias, "bounce-b")  # mail.bounce.alias is not set
        self.assertEqual(self.env["mail.alias.domain"].search_count([("name", "=", "b.example.com")]), 1)

    def test_changing_the_catchall_domain_renames_its_alias_domain(self):
        self.icp.set_param("mail.catchall.domain", "a.example.com")
        self.icp.set_param("mail.catchall.domain", "moved.example.com")
        self.assertEqual(
            self.domain_a.name, "moved.example.com"
        )  # the same record: no alias domain left behind
        self.assertEqual((self.company_a | self.company_b).alias_domain_id, self.domain_a)
        self.icp.set_param("mail.catchall.domain", "b.example.com")  # an existing one: used as it is
        self.assertEqual((self.domain_a.name, self.domain_b.name), ("moved.example.com", "b.example.com"))
        self.assertEqual((self.company_a | self.company_b).alias_domain_id, self.domain_b)

    def test_local_part_reaches_every_company_domain_only(self):
        self.icp.set_param("mail.bounce.alias", "returns")
        self.assertEqual((self.domain_a | self.domain_b).mapped("bounce_alias"), ["returns", "returns"])
        self.assertEqual(self.unused.bounce_alias, "bounce-u")
        self.assertEqual(self.company_a.alias_domain_id, self.domain_a)  # no domain change without one

    def test_alias_domain_edit_is_written_back(self):
        self.icp.set_param("mail.catchall.domain", "a.example.com")
        self.icp.set_param("mail.bounce.alias", "returns")
        self.domain_a.bounce_alias = "bounced"
        self.assertEqual(self.icp.get_param("mail.bounce.alias"), "bounced")
        self.domain_a.name = "renamed.example.com"
        self.assertEqual(self.icp.get_param("mail.catchall.domain"), "renamed.example.com")
        self.assertEqual(self.company_b.alias_domain_id, self.domain_a)
        self.domain_a.catchall_alias = "replies"  # mail.catchall.alias is not set: stays unset
        self.assertFalse(self.icp.get_param("mail.catchall.alias"))
        self.unused.bounce_alias = "other"  # not described by the parameters
        self.assertEqual(self.icp.get_param("mail.bounce.alias"), "bounced")
        self.assertEqual(self.env["mail.alias.domain"].search_count([("name", "=", "a.example.com")]), 0)

    def test_edit_of_one_company_domain_reaches_the_others(self):
        """A set parameter is global: edited on one company's alias domain, it changes for all."""
        self.icp.set_param("mail.default.from", "info")
        self.domain_b.default_from = "hello"
        self.assertEqual(self.icp.get_param("mail.default.from"), "hello")
        self.assertEqual(self.domain_a.default_from, "hello")

    def test_without_parameters_alias_domains_are_left_alone(self):
        self.domain_a.bounce_alias = "elsewhere"
        self.assertFalse(self.icp.get_param("mail.bounce.alias"))
        self.assertEqual(self.domain_b.bounce_alias, "bounce-b")

    def test_refused_value_changes_no_alias_domain(self):
        with self.assertRaises(ValidationError):
            self.icp.set_param("mail.catchall.domain", "not a domain")
        self.assertEqual(self.company_a.alias_domain_id, self.domain_a)
