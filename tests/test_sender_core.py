"""Odoo's own ``ir.mail_server`` and alias-domain tests, run again with this module loaded.

Odoo runs a module's at_install tests right after loading that module, so
``--test-tags /base:TestIrMailServer`` exercises a registry without this module. The subclasses below
are the same tests, run post-install with the complete registry. The only overrides are the
intentional differences explained in readme/SENDER.rst.
"""

import unittest
from unittest.mock import patch

from odoo.addons.base.tests import test_ir_mail_server as base_tests
from odoo.addons.mail.tests import test_ir_mail_server as mail_tests
from odoo.addons.mail.tests import test_mail_tools as mail_tools_tests
from odoo.modules.registry import Registry
from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

try:
    from odoo.addons.test_mail.tests import test_mail_alias as alias_tests
    from odoo.addons.test_mail.tests import test_mail_mail as mail_mail_tests
except ImportError:  # test_mail is not on the addons path
    alias_tests = mail_mail_tests = None


def _needs_test_mail():
    if "mail.test.gateway" not in Registry(get_db_name()):
        raise unittest.SkipTest("test_mail is not installed")


@tagged("post_install", "-at_install", "mdh_core", "mail_server")
class TestCoreBaseIrMailServer(base_tests.TestIrMailServer):
    allow_inherited_tests_method = True

    def test_mail_server_get_test_email_from(self):
        self.skipTest(
            "base's expectation (noreply@<domain>) holds only without the mail module, whose "
            "_get_test_email_from answers odoo@<domain>; unrelated to this module"
        )

    @mute_logger("odoo.models.unlink")
    def test_mail_server_send_email_IDNA(self):
        """Intentional difference: the From domain goes out IDNA-encoded, not as an RFC 2047
        encoded-word inside the address (``test@=?utf-8?b?...?=.com``), which RFC 2047 section 5
        forbids and receivers cannot reply to."""
        with self.mock_smtplib_connection():
            message = self._build_email(mail_from="test@ééééééé.com")
            self.env["ir.mail_server"].send_email(message)

        self.assertEqual(len(self.emails), 1)
        self.assertSMTPEmailsSent(
            smtp_from="test@xn--9caaaaaaa.com",
            smtp_to_list=["dest@xn--example--i1a.com"],
            message_from="test@xn--9caaaaaaa.com",
            from_filter=False,
        )


@tagged("post_install", "-at_install", "mdh_core", "mail_server")
class TestCoreMailIrMailServer(mail_tests.TestIrMailServer):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "mdh_core", "mail_tools")
class TestCoreMailUtils(mail_tools_tests.TestMailUtils):
    allow_inherited_tests_method = True

    def test_migrate_icp_to_domain(self):
        """Intentional difference: the alias domain exists as soon as ``mail.catchall.domain`` is saved
        (the parameters are written through); Odoo's migration then finds it, with the same values."""
        icp = self.env["ir.config_parameter"]
        icp.set_param("mail.catchall.domain", "test.migration.com")
        icp.set_param("mail.bounce.alias", "migrate+bounce")
        icp.set_param("mail.catchall.alias", "migrate+catchall")
        icp.set_param("mail.default.from", "migrate+default_from")
        existing = self.env["mail.alias.domain"].search([("name", "=", "test.migration.com")])
        self.assertEqual(len(existing), 1)

        new = self.env["mail.alias.domain"]._migrate_icp_to_domain()
        self.assertEqual(new, existing)
        self.assertEqual(new.bounce_alias, "migrate+bounce")
        self.assertEqual(new.catchall_alias, "migrate+catchall")
        self.assertEqual(new.default_from, "migrate+default_from")
        self.assertEqual(self.env["mail.alias.domain"]._migrate_icp_to_domain(), existing)


if alias_tests:

    @tagged("post_install", "-at_install", "mdh_core", "mail_gateway")
    class TestCoreMailAliasDomain(alias_tests.TestMailAliasDomain):
        allow_inherited_tests_method = True

        @classmethod
        def setUpClass(cls):
            _needs_test_mail()
            super().setUpClass()

    @tagged("post_install", "-at_install", "mdh_core", "mail_mail")
    class TestCoreMailMailServer(mail_mail_tests.TestMailMailServer):
        allow_inherited_tests_method = True

        @classmethod
        def setUpClass(cls):
            _needs_test_mail()
            super().setUpClass()

        def test_mail_mail_send_server(self):
            """Odoo's test, every assertion kept (4 server look-ups, 4 connections, 25 mails, the
            encapsulated ones) but one. Intentional difference: a mail whose server is forced
            (``mail_server_id``) and whose author that server's From filter refuses goes out from
            the default sender, as on the servers Odoo chooses; Odoo's test expects the author."""
            upstream_assert = self.assertSMTPEmailsSent
            replaced = []

            def assert_sent(*args, **kwargs):
                forced = kwargs.get("mail_server") == self.mail_server_domain
                if forced and kwargs.get("message_from") == "user_1@test_2.com":
                    kwargs["message_from"] = f'"user_1" <{self.default_from}@{self.alias_domain}>'
                    kwargs["smtp_from"] = f"{self.alias_bounce}@{self.alias_domain}"
                    replaced.append(kwargs)
                return upstream_assert(*args, **kwargs)

            with patch.object(self, "assertSMTPEmailsSent", assert_sent):
                super().test_mail_mail_send_server()
            self.assertEqual(len(replaced), 1, "Odoo's forced-server expectation, replaced once")
