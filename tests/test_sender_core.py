"""Odoo's own ``ir.mail_server`` and alias-domain tests, run again with this module loaded.

Odoo runs a module's at_install tests right after loading that module, so
``--test-tags /base:TestIrMailServer`` exercises a registry without this module. The subclasses below
are the same tests, run post-install with the complete registry. The only overrides are the
differences explained in readme/SENDER.rst.
"""

import unittest

from odoo.addons.base.tests import test_ir_mail_server as base_tests
from odoo.addons.mail.tests import test_ir_mail_server as mail_tests
from odoo.modules.registry import Registry
from odoo.tests import get_db_name, tagged
from odoo.tools import mute_logger

try:
    from odoo.addons.test_mail.tests import test_mail_alias as alias_tests
except ImportError:  # test_mail is not on the addons path
    alias_tests = None


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


if alias_tests:

    @tagged("post_install", "-at_install", "mdh_core", "mail_gateway")
    class TestCoreMailAliasDomain(alias_tests.TestMailAliasDomain):
        allow_inherited_tests_method = True

        @classmethod
        def setUpClass(cls):
            if "mail.test.gateway" not in Registry(get_db_name()):
                raise unittest.SkipTest("test_mail is not installed")
            super().setUpClass()
