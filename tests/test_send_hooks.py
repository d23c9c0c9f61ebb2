"""No silent no-op: every send-path override is one Odoo of this series calls, and a real send
reaches each of them (Odoo 19 renamed ``ir.mail_server`` methods: an override under the old name
loads without error and never runs)."""

import email
import email.policy

from odoo.tests import tagged

from .. import seams
from .dkim_common import DkimCase, SinkMixin

# Methods of this module's own (not overrides): their names say so.
OWN_PREFIXES = ("_mdh_", "_dkim_", "_domain_health_")


@tagged("post_install", "-at_install")
class TestSendHooksReached(SinkMixin, DkimCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["mail.dkim.key"].search([]).action_check_dns()

    def test_every_override_overrides_a_method_of_odoo(self):
        # the send path, and the readers of the identity (see deliverability/identity.py)
        identity = ("res.company", "mail.thread", "base", "mail.alias.domain")
        for model in ("ir.mail_server", "mail.mail", *identity):
            mro = type(self.env[model]).__mro__
            # this module's extensions of the model (not its mixins, whose methods are its own)
            ours = [
                c
                for c in mro
                if ".mail_domain_health." in c.__module__ and vars(c).get("_name") in (None, model)
            ]
            others = [cls for cls in mro if cls not in ours]
            self.assertTrue(ours, model)
            for cls in ours:
                for name, value in vars(cls).items():
                    if name.startswith("__") or name.startswith(OWN_PREFIXES) or not callable(value):
                        continue
                    with self.subTest(model=model, method=name):
                        self.assertTrue(
                            any(name in vars(other) for other in others),
                            f"{model}.{name} overrides nothing: Odoo {seams.SERIES} never calls it",
                        )

    def test_renamed_methods_are_overridden_under_the_name_odoo_calls(self):
        for name in seams.MAIL_SERVER_RENAMED:
            with self.subTest(method=name):
                method = getattr(type(self.env["ir.mail_server"]), seams.mail_server_method(name))
                self.assertIn(".mail_domain_health.", method.__module__, "the first one Odoo reaches is ours")

    def test_a_real_send_reaches_every_hook(self):
        """``build_email`` (the author cleaned), ``connect`` (a forced server's From filter applied),
        ``_prepare_email_message`` (DKIM signature on the wire, Sent As made),
        ``_postprocess_sent_message`` (Sent As recorded), ``send`` / ``_send`` (one Sending)."""
        self.server.from_filter = "signed.test"
        Mail = self.env["mail.mail"].sudo()
        values = {"email_to": "person@example.org", "subject": "hooks", "body_html": "<p>Hello</p>"}
        zoe, ann = Mail.create(
            [
                {**values, "email_from": '"Zoë\r\nX-Injected: yes" <zoe@signed.test>'},
                {**values, "email_from": '"Ann" <ann@elsewhere.test>', "mail_server_id": self.server.id},
            ]
        )
        with self.sending() as received:
            (zoe | ann).send()
        self.assertEqual(len(received), 2, (zoe | ann).mapped("failure_reason"))
        wire = {}
        for item in received:
            message = email.message_from_bytes(item.data, policy=email.policy.default)
            wire[message["From"].addresses[0].addr_spec] = (message, item.data)
        default = self.env["ir.mail_server"]._get_default_from_address()

        # build_email: the author without CR/LF (Odoo refuses such a header), nothing injected
        message, data = wire["zoe@signed.test"]
        self.assertEqual(message["From"].addresses[0].display_name, "Zoë X-Injected: yes")
        self.assertIsNone(message["X-Injected"])
        # _prepare_email_message: signed with both keys of signed.test, as it went on the wire
        self.assertEqual(sorted(result for _selector, result in self.verify(data)), ["pass", "pass"])
        # connect: the forced server's From filter refuses ann@elsewhere.test: the default sender goes
        message, data = wire[default]
        self.assertEqual(message["From"].addresses[0].display_name, "Ann")
        # _postprocess_sent_message: what each went out as, recorded on its mail
        self.assertEqual(zoe.mdh_sent_from, str(wire["zoe@signed.test"][0]["From"]))
        self.assertIn("DKIM: signed for signed.test", zoe.mdh_sender_explanation)
        self.assertEqual(ann.mdh_sent_from, str(wire[default][0]["From"]))
        self.assertEqual((zoe | ann).mdh_mail_server_id, self.server)
