"""DMARC-aware relaying: a contact on p=reject or p=quarantine is relayed as "Name <default sender>"
with Reply-To the catchall, contacts on p=none, without DMARC or of unknown policy keep their address;
policies come from the look-ups (real NSD), never from DNS on the send path; the mail arrives at a real
SMTP sink signed for the database's domain. The Sending Preview and Sent As say why; the People tab
switches users on a strict DMARC provider to notifications in the database."""

import email.policy
from email import message_from_bytes
from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from ..deliverability.dns import DnsResolver
from ..deliverability.testing.nsd import SilentServer
from .dkim_common import DkimCase, SinkMixin

DEFAULT = "notifications@signed.test"
CATCHALL = "catchall@signed.test"


@tagged("post_install", "-at_install")
class TestDmarcRelaying(SinkMixin, DkimCase):
    @classmethod
    def zones(cls):
        zones = super().zones()
        zones.update(
            {
                "reject.test": '_dmarc IN TXT "v=DMARC1; p=reject"',
                "quarantine.test": '_dmarc IN TXT "v=DMARC1; p=quarantine"',
                "lax.test": '_dmarc IN TXT "v=DMARC1; p=none"',
                "nodmarc.test": '@ IN TXT "v=spf1 -all"',
            }
        )
        return zones

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.send_from_signed_domain()
        Partner = cls.env["res.partner"]
        cls.pat = Partner.create({"name": "Pat Reject", "email": "pat@reject.test"})
        cls.quinn = Partner.create({"name": "Quinn", "email": "quinn@quarantine.test"})
        cls.lou = Partner.create({"name": "Lou", "email": "lou@lax.test"})
        cls.nora = Partner.create({"name": "Nora", "email": "nora@nodmarc.test"})
        cls.una = Partner.create({"name": "Una", "email": "una@unlisted.test"})  # never looked up
        cls.follower = new_test_user(
            cls.env, "fay", groups="base.group_user", name="Fay", email="fay@signed.test",
            notification_type="email",
        )  # fmt: skip
        cls.document = Partner.create({"name": "A document"})
        # a server whose From filter lists the contacts' domains: Odoo would send their own address
        cls.server.from_filter = "signed.test,reject.test,quarantine.test,lax.test,nodmarc.test,unlisted.test"

    def look_up(self, domains):
        """``{domain: policy}`` of ``domains`` looked up now (a Domain Health run), and stored."""
        policies = self.env["mail.domain.health"]._health_check(policies_of=domains)
        self.env["mail.dmarc.policy"]._dmarc_store(policies)
        return policies

    def relay(self, partner):
        """A reply of ``partner`` relayed to the follower, as received by the SMTP server."""
        with (
            self.sending() as received,
            patch.object(DnsResolver, "query", side_effect=AssertionError("DNS")),
        ):
            message = self.document.message_post(
                body="<p>My reply</p>", author_id=partner.id, email_from=partner.email_formatted,
                partner_ids=self.follower.partner_id.ids, message_type="email",
                subtype_xmlid="mail.mt_comment", mail_auto_delete=False,
            )  # fmt: skip
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [("mail_message_id", "=", message.id), ("recipient_ids", "in", self.follower.partner_id.ids)]
            )
        )
        (item,) = [r for r in received if r.rcpt_to == (self.follower.email,)]
        return message_from_bytes(item.data, policy=email.policy.default), item, mail

    def test_strict_contacts_relayed_as_the_default_sender(self):
        self.env["mail.domain.health"]._cron_check_domains()  # the daily check looks them up
        stored = self.env["mail.dmarc.policy"].search([])
        self.assertEqual(
            {(r.domain, r.policy) for r in stored} >= {
                ("reject.test", "reject"), ("quarantine.test", "quarantine"), ("lax.test", "none"),
                ("nodmarc.test", "absent"),
            },
            True,
            stored.mapped(lambda r: (r.domain, r.policy)),
        )  # fmt: skip
        for partner, policy in ((self.pat, "reject"), (self.quinn, "quarantine")):
            with self.subTest(partner=partner.email):
                headers, received, mail = self.relay(partner)
                self.assertEqual(headers["From"].addresses[0].addr_spec, DEFAULT)
                self.assertEqual(headers["From"].addresses[0].display_name, partner.name)
                self.assertEqual([a.addr_spec for a in headers["Reply-To"].addresses], [CATCHALL])
                self.assertEqual(received.mail_from, "bounce@signed.test")
                self.assertEqual(sorted(r for _s, r in self.verify(received.data)), ["pass", "pass"])
                self.assertEqual(mail.mdh_sender_rule, "dmarc_relayed")
                self.assertIn(f"p={policy}", mail.mdh_sender_explanation)
                self.assertIn(f"DMARC: {partner.email.split('@')[1]} publishes", mail.mdh_sender_explanation)
        for partner in (self.lou, self.nora, self.una):
            with self.subTest(partner=partner.email):
                headers, _received, mail = self.relay(partner)
                self.assertEqual(headers["From"].addresses[0].addr_spec, partner.email)
                self.assertEqual(mail.mdh_sender_rule, "author_matches")

    def test_reply_to_the_author_becomes_the_catchall(self):
        """A mail of its own server (as a mass mailing's), without a Reply-To: Odoo's would be the author."""
        self.look_up(["reject.test"])
        self.server.from_filter = False
        mail = self.env["mail.mail"].sudo().create(
            {"email_from": self.pat.email_formatted, "email_to": "x@example.org", "subject": "Hi",
             "body_html": "<p>Hi</p>", "mail_server_id": self.server.id, "auto_delete": False}
        )  # fmt: skip
        with self.sending() as received:
            mail.send()
        headers = message_from_bytes(received[0].data, policy=email.policy.default)
        self.assertEqual(
            (headers["From"].addresses[0].display_name, headers["From"].addresses[0].addr_spec),
            ("Pat Reject", DEFAULT),
        )
        self.assertEqual([a.addr_spec for a in headers["Reply-To"].addresses], [CATCHALL])
        self.assertEqual(mail.mdh_sender_rule, "dmarc_relayed")
        preview = self.env["mail.send.preview"].create(
            {"partner_id": self.pat.id, "mail_server_id": self.server.id}
        )
        self.assertEqual(preview.result_rule, "dmarc_relayed")
        self.assertEqual(preview.result_from, str(headers["From"]))
        self.assertIn("reject.test publishes p=reject", preview.result_explanation)

    def test_unknown_policy_keeps_odoo_behaviour(self):
        """A look-up DNS did not answer leaves the policy unknown, or as last known."""
        self.look_up(["reject.test"])
        icp = self.env["ir.config_parameter"].sudo()
        with SilentServer() as silent:  # a nameserver that never answers
            icp.set_param("mail_domain_health.nameservers", silent.address)
            self.assertEqual(self.look_up(["reject.test", "lax.test"]), {})
        icp.set_param("mail_domain_health.nameservers", self.nsd.address)
        self.assertEqual(self.env["mail.dmarc.policy"].search([]).mapped("domain"), ["reject.test"])
        headers, _received, _mail = self.relay(self.lou)
        self.assertEqual(headers["From"].addresses[0].addr_spec, "lou@lax.test")

    def test_people_tab_switches_strict_users_to_the_database(self):
        yahoo = new_test_user(
            self.env, "yan", groups="base.group_user", name="Yan", email="yan@reject.test",
            notification_type="email",
        )  # fmt: skip
        wizard = self.env["mail.domain.health.wizard"].create(
            {"line_ids": [(0, 0, {"domain": "signed.test"})]}
        )
        wizard.action_check()
        self.assertIn(yahoo, wizard.person_ids.filtered(lambda p: p.problem == "user_dmarc").user_id)
        partners = wizard.person_ids.filtered(lambda p: p.problem == "partner_dmarc")
        self.assertIn("default sender address", partners[0].advice)
        self.assertEqual(wizard.inbox_user_count, 1)
        wizard.action_notify_in_database()
        self.assertEqual(yahoo.notification_type, "inbox")
        self.assertEqual(self.follower.notification_type, "email")
        self.assertEqual(wizard.inbox_user_count, 0)
        self.assertIn(
            ("reject.test", "reject"),
            [(r.domain, r.policy) for r in self.env["mail.dmarc.policy"].search([])],
            "the People look-up stores what it found",
        )
