"""A chatter round trip on Odoo's real send and receive paths, in each way an administrator configures
the identity: system parameters only, an alias domain only, both disagreeing, two companies.

An internal user whose address no outgoing server accepts posts on a record followed by an external
contact. What the contact receives is checked (From, envelope sender, Return-Path, Reply-To) against
the Sending Preview; the contact's reply, built from it with In-Reply-To, lands in the record's
chatter and is relayed to the author; a bounce sent to the envelope address is recognized as one.
"""

import email
import email.policy
from email.utils import getaddresses

from odoo.addons.base.tests.common import MockSmtplibCase
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

KEYS = ("mail.catchall.domain", "mail.catchall.alias", "mail.bounce.alias", "mail.default.from")
FOLLOWER = "fiona@customer.example"
AUTHOR = "jane@gmail.com"


def _address(value):
    pairs = getaddresses([str(value or "")])
    return pairs[0][1].lower() if pairs else ""


@tagged("post_install", "-at_install", "mdh_sender", "mdh_roundtrip")
class TestChatterRoundTrip(MockSmtplibCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.icp = cls.env["ir.config_parameter"].sudo()
        for key in KEYS:
            cls.icp.set_param(key, False)
        companies = cls.env["res.company"].with_context(active_test=False).search([])
        companies.write({"alias_domain_id": False})
        cls.env["ir.mail_server"].search([]).unlink()
        cls.company = cls.env.company
        cls.company_2 = cls.env["res.company"].create({"name": "Second Company"})
        cls.author = new_test_user(
            cls.env, login="jane", name="Jane Doe", email=AUTHOR,
            groups="base.group_user,base.group_partner_manager", notification_type="email",
            company_ids=[(6, 0, (cls.company | cls.company_2).ids)],
        )  # fmt: skip
        cls.follower = cls.env["res.partner"].create({"name": "Fiona Follower", "email": FOLLOWER})

    def setUp(self):
        super().setUp()
        self.addCleanup(self.env.registry.clear_cache)

    # --- configurations ---

    def server_for(self, *domains):
        for domain in domains:
            self.env["ir.mail_server"].create(
                {"name": domain, "smtp_host": f"smtp.{domain}", "from_filter": domain}
            )

    def set_parameters(self, domain, bounce="bounce", default_from="notifications"):
        self.icp.set_param("mail.catchall.domain", domain)
        self.icp.set_param("mail.bounce.alias", bounce)
        self.icp.set_param("mail.default.from", default_from)

    def alias_domain(self, name, company, **values):
        domain = self.env["mail.alias.domain"].create({"name": name, **values})
        company.alias_domain_id = domain
        return domain

    # --- the round trip ---

    def round_trip(self, company, default_from, bounce, catchall):
        """Post, check what the follower receives, reply, bounce; ``default_from``, ``bounce`` and
        ``catchall`` are the identity every step must use."""
        record = self.env["res.partner"].create({"name": f"Deal of {company.name}", "company_id": company.id})
        record.message_subscribe(self.follower.ids)
        with self.mock_smtplib_connection():
            message = (
                record.with_user(self.author)
                .with_company(company)
                .message_post(
                    body="<p>Shall we sign?</p>", message_type="comment", subtype_xmlid="mail.mt_comment"
                )
            )
        sent = [e for e in self.emails if FOLLOWER in e["smtp_to_list"]]
        self.assertEqual(len(sent), 1, self.emails)
        wire = email.message_from_string(sent[0]["message"], policy=email.policy.default)
        received = {
            "From": (wire["From"].addresses[0].display_name, wire["From"].addresses[0].addr_spec),
            "envelope": sent[0]["smtp_from"],
            "Return-Path": _address(wire["Return-Path"]),
            "Reply-To": _address(wire["Reply-To"]),
        }
        self.assertEqual(
            received,
            {
                "From": ("Jane Doe", default_from),
                "envelope": bounce,
                "Return-Path": bounce,
                "Reply-To": catchall,
            },
        )
        self.assertEqual(len(wire.get_all("From")), 1)
        self.assert_preview_agrees(record, received)

        # the follower replies to what they received: the reply updates the chatter ...
        reply = "\r\n".join([
            f"From: Fiona Follower <{FOLLOWER}>",
            f"To: {wire['Reply-To']}",
            f"Subject: Re: {wire['Subject']}",
            f"Message-Id: <reply-{record.id}@customer.example>",
            f"In-Reply-To: {wire['Message-Id']}",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Yes, let's sign.",
        ])  # fmt: skip
        with self.mock_smtplib_connection():
            thread_id = self.env["mail.thread"].sudo().message_process(False, reply)
        self.assertEqual(thread_id, record.id)
        answer = record.message_ids.filtered(lambda m: m.author_id == self.follower)
        self.assertEqual(len(answer), 1)
        self.assertIn("let's sign", answer.body)
        self.assertEqual(answer.parent_id, message)
        # ... and Odoo relays it to the author, from the same identity
        relayed = [e for e in self.emails if AUTHOR in e["smtp_to_list"]]
        self.assertEqual(len(relayed), 1)
        relayed_wire = email.message_from_string(relayed[0]["message"], policy=email.policy.default)
        self.assertEqual(relayed_wire["From"].addresses[0].addr_spec, default_from)
        self.assertEqual(relayed[0]["smtp_from"], bounce)

        # a bounce to the envelope address is recognized as a bounce of the message
        dsn = "\r\n".join([
            "From: MAILER-DAEMON@mx.customer.example",
            f"To: {sent[0]['smtp_from']}",
            "Subject: Undelivered Mail Returned to Sender",
            f"Message-Id: <dsn-{record.id}@mx.customer.example>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
            "",
            "--B", "Content-Type: text/plain", "", f"{FOLLOWER}: mailbox unavailable",
            "--B", "Content-Type: message/delivery-status", "", "Reporting-MTA: dns; mx.customer.example", "",
            f"Final-Recipient: rfc822; {FOLLOWER}", "Action: failed", "Status: 5.1.1",
            "--B", "Content-Type: text/rfc822-headers", "", f"Message-Id: {wire['Message-Id']}",
            f"To: {FOLLOWER}", f"Subject: {wire['Subject']}",
            "--B--",
            "",
        ])  # fmt: skip
        bounces = self.follower.message_bounce
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            self.env["mail.thread"].sudo().message_process(False, dsn)
        self.assertEqual(self.follower.message_bounce, bounces + 1)
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == self.follower)
        self.assertEqual(notification.notification_status, "bounce")
        self.assertFalse(record.message_ids.filtered(lambda m: "mailbox unavailable" in (m.body or "")))

    def assert_preview_agrees(self, record, received):
        preview = self.env["mail.send.preview"].create(
            {"user_id": self.author.id, "alias_domain_id": record._mail_get_alias_domains()[record.id].id}
        )
        self.assertEqual(
            {
                "From": getaddresses([preview.result_from])[0],
                "envelope": preview.result_envelope,
                "Return-Path": preview.result_return_path,
                "Reply-To": preview.result_reply_to,
            },
            received,
        )

    # --- the configurations an administrator uses ---

    def test_system_parameters_only(self):
        """The documented setup: mail.catchall.domain, mail.default.from, mail.bounce.alias and one
        server with a from_filter, no alias domain: the parameters become the company's alias domain."""
        self.assertFalse(self.env["mail.alias.domain"].search([("name", "=", "mycompany.example")]))
        self.server_for("mycompany.example")
        self.set_parameters("mycompany.example")
        self.round_trip(
            self.company,
            "notifications@mycompany.example",
            "bounce@mycompany.example",
            "catchall@mycompany.example",
        )

    def test_alias_domain_only(self):
        self.server_for("mycompany.example")
        self.alias_domain("mycompany.example", self.company, bounce_alias="returns", catchall_alias="replies",
                          default_from="hello")  # fmt: skip
        self.round_trip(
            self.company, "hello@mycompany.example", "returns@mycompany.example", "replies@mycompany.example"
        )

    def test_parameters_and_alias_domain_disagreeing(self):
        """The company has an alias domain; the parameters name another domain: they win, everywhere."""
        self.server_for("mycompany.example", "old.example")
        self.alias_domain("old.example", self.company, bounce_alias="old-bounce", default_from="old-notif")
        self.set_parameters("mycompany.example", bounce="bounces", default_from="notifications")
        self.round_trip(
            self.company, "notifications@mycompany.example", "bounces@mycompany.example",
            "catchall@mycompany.example",
        )  # fmt: skip

    def test_parameter_disagreeing_with_the_alias_domain_local_part(self):
        """Same domain, another bounce alias: the parameter is written to the alias domain."""
        self.server_for("mycompany.example")
        self.alias_domain("mycompany.example", self.company, bounce_alias="returns")
        self.icp.set_param("mail.bounce.alias", "bounces")
        self.round_trip(
            self.company, "notifications@mycompany.example", "bounces@mycompany.example",
            "catchall@mycompany.example",
        )  # fmt: skip

    def test_two_companies_each_with_its_alias_domain(self):
        self.server_for("mycompany.example", "second.example")
        self.alias_domain("mycompany.example", self.company)
        self.alias_domain("second.example", self.company_2, bounce_alias="b2", catchall_alias="c2",
                          default_from="n2")  # fmt: skip
        self.round_trip(
            self.company,
            "notifications@mycompany.example",
            "bounce@mycompany.example",
            "catchall@mycompany.example",
        )
        self.round_trip(self.company_2, "n2@second.example", "b2@second.example", "c2@second.example")

    def test_two_companies_with_system_parameters(self):
        """The parameters are global: the second company's alias domain gives way to theirs."""
        self.server_for("mycompany.example", "second.example")
        self.alias_domain("second.example", self.company_2)
        self.set_parameters("mycompany.example")
        for company in (self.company, self.company_2):
            self.round_trip(
                company,
                "notifications@mycompany.example",
                "bounce@mycompany.example",
                "catchall@mycompany.example",
            )

    # --- the identity in every state: whatever the administrator did, in whatever order ---

    SEED = ("notifications@mycompany.example", "bounce@mycompany.example", "catchall@mycompany.example")

    def test_parameters_without_an_alias_domain(self):
        """Parameters set before this module was installed (no write-through ran) and no alias domain:
        the identity is the parameters'."""
        self.server_for("mycompany.example")
        for key, value in {"mail.catchall.domain": "mycompany.example", "mail.bounce.alias": "bounce",
                           "mail.default.from": "notifications"}.items():  # fmt: skip
            self.env.cr.execute(
                "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )
        self.env.registry.clear_cache()
        self.env.invalidate_all()
        self.assertFalse(self.env["mail.alias.domain"].search([]))
        self.round_trip(self.company, *self.SEED)

    def test_alias_domain_deleted(self):
        """The issue's case: parameters, one server with From filter = the domain, then the alias domain
        is deleted (Settings > Technical > Alias Domains): not From the author's gmail address."""
        self.server_for("mycompany.example")
        self.set_parameters("mycompany.example")
        domain = self.env["mail.alias.domain"].search([("name", "=", "mycompany.example")])
        # as in a database where no alias uses it yet (Odoo refuses to delete one that is used)
        self.env["mail.alias"].search([("alias_domain_id", "=", domain.id)]).alias_domain_id = False
        domain.unlink()
        self.assertFalse(self.company.alias_domain_id)
        self.round_trip(self.company, *self.SEED)

    def test_alias_domain_detached_from_the_company(self):
        self.server_for("mycompany.example")
        self.set_parameters("mycompany.example")
        self.company.alias_domain_id = False
        self.round_trip(self.company, *self.SEED)

    def test_second_company_created_later(self):
        """A company created after the parameters, with an alias domain of its own: the parameters are
        global, its mail goes out with their identity too."""
        self.server_for("mycompany.example", "later.example")
        self.set_parameters("mycompany.example", bounce="returns")
        later = self.env["res.company"].create({"name": "Later Company"})
        self.alias_domain("later.example", later)
        self.author.company_ids = [(4, later.id)]
        seed = ("notifications@mycompany.example", "returns@mycompany.example", "catchall@mycompany.example")
        self.round_trip(later, *seed)
        self.round_trip(self.company, *seed)
