"""The sender rules on Odoo 18's real send path (ir.mail_server.send_email and mail.mail.send): Odoo
decides with the inputs this module adjusts, and each mail records what it was sent as."""

import asyncio
import contextlib
import email
import email.policy
import smtplib
import socket
from unittest.mock import patch

import dns.resolver
from odoo.addons.mail.tests.common import MailCommon
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from ..deliverability import sender
from ..deliverability.dns import DnsResolver, Nameserver
from ..deliverability.testing.no_dns import DnsAsked, no_dns
from ..deliverability.testing.nsd import free_port
from ..hooks import post_init_hook
from ..models.ir_mail_server import BUILD_EMAIL

LOGGER = "odoo.addons.mail_domain_health.models.ir_mail_server"
KEYS = ("mail.default.from", "mail.catchall.domain", "mail.bounce.alias", "mail.default.from_filter")


class SenderCase(MailCommon):
    """MailCommon's alias domain test.mycompany.com (notifications.test / bounce.test) and its servers:
    domain ``test.mycompany.com``, user ``specific_user@test.mycompany.com``, notifications
    ``notifications.test@test.mycompany.com``, and one without from_filter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.notif = f"{cls.default_from}@{cls.alias_domain}"
        cls.bounce = f"{cls.alias_bounce}@{cls.alias_domain}"

    def setUp(self):
        super().setUp()
        self.addCleanup(self.env.registry.clear_cache)

    def set_params(self, **values):
        """``mail_default_from_filter="x"`` sets ``mail.default.from_filter``."""
        names = {key.replace(".", "_"): key for key in KEYS}
        for name, value in values.items():
            self.env["ir.config_parameter"].sudo().set_param(names[name], value)

    def send(self, mail_from, guarded=False, **kwargs):
        """Send one message through ir.mail_server.send_email; the email as the SMTP server got it.
        ``guarded``: send_email runs in ``no_dns()`` (not build_email: Odoo's ``make_msgid`` asks the
        host's name, ``socket.getfqdn()``, for a message without Message-Id)."""
        message = self._build_email(mail_from=mail_from, **kwargs)
        with self.mock_smtplib_connection(), no_dns() if guarded else contextlib.nullcontext():
            self.env["ir.mail_server"].send_email(message)
        self.assertEqual(len(self.emails), 1)
        return self.emails[0]

    def assertSent(self, sent, header_from, envelope, from_filter):
        """One From header with exactly ``header_from``, the envelope sender and the server's filter."""
        wire = email.message_from_string(sent["message"], policy=email.policy.default)
        self.assertEqual(wire.get_all("From"), [header_from], sent["message"][:300])
        self.assertEqual(sent["smtp_from"], envelope)
        self.assertEqual(sent["from_filter"], from_filter)


@tagged("post_install", "-at_install", "mdh_sender")
class TestSendEmail(SenderCase):
    """ir.mail_server.send_email, several servers, with the alias domain and with system parameters."""

    def test_author_matching_a_server_is_unchanged(self):
        sent = self.send('"Spec" <specific_user@test.mycompany.com>')
        # the user server's filter is this address only: the bounce address is not allowed
        self.assertSent(
            sent,
            "Spec <specific_user@test.mycompany.com>",
            "specific_user@test.mycompany.com",
            self.mail_server_user.from_filter,
        )
        sent = self.send('"Ann" <ann@TEST.mycompany.com>')
        self.assertSent(sent, "Ann <ann@TEST.mycompany.com>", self.bounce, "test.mycompany.com")

    def test_alias_domain_default_address_is_encapsulated(self):
        """No system parameter: the alias domain's default address; the notifications server's filter is
        that very address, so the author is encapsulated (the seed's last sentence)."""
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertSent(
            sent, f"Jane Doe <{self.notif}>", self.notif, self.mail_server_notification.from_filter
        )

    def test_system_parameter_default_from_reaches_the_alias_domain(self):
        self.set_params(mail_default_from="noreply@test.mycompany.com")
        self.assertEqual(self.env.company.alias_domain_id.default_from, "noreply@test.mycompany.com")
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        # noreply@ is no server's address: the domain server sends it, and allows the bounce address
        self.assertSent(sent, "Jane Doe <noreply@test.mycompany.com>", self.bounce, "test.mycompany.com")
        self.assertEqual(self.env["ir.mail_server"]._get_default_from_address(), "noreply@test.mycompany.com")

    def test_system_parameters_catchall_domain_and_bounce_alias(self):
        other = self.env["ir.mail_server"].create(
            {"name": "Other", "smtp_host": "smtp.other", "from_filter": "other.example.com", "sequence": 50}
        )
        self.set_params(mail_catchall_domain="other.example.com", mail_bounce_alias="bounces")
        domain = self.env.company.alias_domain_id
        self.assertEqual((domain.name, domain.bounce_alias), ("other.example.com", "bounces"))
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        # Odoo's default local part (mail.default.from is not set) @ mail.catchall.domain
        self.assertSent(
            sent, "Jane Doe <notifications@other.example.com>", "bounces@other.example.com", other.from_filter
        )
        server = self.env["ir.mail_server"]
        self.assertEqual(server._get_default_from_address(), "notifications@other.example.com")
        self.assertEqual(server._get_default_bounce_address(), "bounces@other.example.com")
        message = getattr(server, BUILD_EMAIL)(False, ["dest@example.com"], "subject", "body")
        self.assertEqual(message["From"], "notifications@other.example.com")

    def test_parameters_set_before_install_take_effect(self):
        """Values stored before this module was installed (SQL, as an older database holds them) are
        written through at installation."""
        self.env["ir.mail_server"].create(
            {"name": "Other", "smtp_host": "smtp.other", "from_filter": "other.example.com", "sequence": 50}
        )
        self.env.cr.execute(
            "INSERT INTO ir_config_parameter (key, value) "
            "VALUES ('mail.default.from', 'info@other.example.com')"
        )
        self.env.registry.clear_all_caches()  # every cache: 19 keeps parameters in "stable"
        post_init_hook(self.env)
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertSent(
            sent, "Jane Doe <info@other.example.com>", "info@other.example.com", "other.example.com"
        )

    def test_invalid_parameter_stored_earlier_is_ignored(self):
        self.env.cr.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES ('mail.catchall.domain', 'not a domain')"
        )
        self.env.registry.clear_all_caches()  # every cache: 19 keeps parameters in "stable"
        with self.assertLogs("odoo.addons.mail_domain_health.models.ir_config_parameter", "WARNING") as logs:
            post_init_hook(self.env)
        self.assertIn("Ignoring system parameter mail.catchall.domain", logs.output[0])
        self.assertEqual(self.env.company.alias_domain_id.name, self.alias_domain)
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertSent(
            sent, f"Jane Doe <{self.notif}>", self.notif, self.mail_server_notification.from_filter
        )

    def test_without_alias_domain(self):
        self.env.company.alias_domain_id = False
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        # nothing to replace it with: the server without from_filter sends it as it is
        self.assertSent(sent, "Jane Doe <jane@gmail.com>", "jane@gmail.com", False)
        # a full-address mail.default.from has no alias domain to go to: it is used all the same
        self.set_params(mail_default_from="noreply@test.mycompany.com")
        self.assertFalse(self.env.company.alias_domain_id)
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertSent(sent, "Jane Doe <noreply@test.mycompany.com>", "noreply@test.mycompany.com",
                        "test.mycompany.com")  # fmt: skip
        # mail.catchall.domain names the existing alias domain: every company uses it again
        self.set_params(mail_default_from="notifications", mail_catchall_domain="test.mycompany.com")
        self.assertEqual(self.env.company.alias_domain_id, self.mail_alias_domain)
        sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertSent(
            sent, "Jane Doe <notifications@test.mycompany.com>", self.bounce, "test.mycompany.com"
        )

    def test_one_server(self):
        self.env["ir.mail_server"].search([]).unlink()
        self.env["ir.mail_server"].create(
            {"name": "Only", "smtp_host": "smtp", "from_filter": "test.mycompany.com"}
        )
        sent = self.send('"Jane" <jane@gmail.com>')
        self.assertSent(sent, f"Jane <{self.notif}>", self.bounce, "test.mycompany.com")
        sent = self.send("ann@test.mycompany.com")
        self.assertSent(sent, "ann@test.mycompany.com", self.bounce, "test.mycompany.com")

    def test_idna_from_filter(self):
        """A from_filter typed in Unicode is stored in ASCII (IDNA) and matches both forms of the domain."""
        server = self.env["ir.mail_server"].create(
            {"name": "IDN", "smtp_host": "smtp", "from_filter": "éxample.com", "sequence": -1}
        )
        self.assertEqual(server.from_filter, "xn--xample-9ua.com")
        sent = self.send("jane@xn--xample-9ua.com")
        self.assertSent(sent, "jane@xn--xample-9ua.com", "jane@xn--xample-9ua.com", "xn--xample-9ua.com")
        sent = self.send('"Jöhn" <john@ÉXAMPLE.com>')
        self.assertSent(
            sent, "Jöhn <john@xn--xample-9ua.com>", "john@xn--xample-9ua.com", "xn--xample-9ua.com"
        )
        matches = self.env["ir.mail_server"]._match_from_filter
        self.assertTrue(matches("admin@mail.xn--xample-9ua.com", "MAIL.ÉXAMPLE.COM"))
        self.assertFalse(matches("admin@mail.example.com", "mail.éxample.com"))

    @mute_logger("odoo.models.unlink")
    @patch.dict(config.options, {"smtp_server": "smtp.config", "from_filter": "ignored.example.com"})
    def test_configuration_server_uses_default_from_filter(self):
        """No ir.mail_server record: mail.default.from_filter applies (the seed's Note)."""
        self.env["ir.mail_server"].search([]).unlink()
        self.set_params(mail_default_from_filter="test.mycompany.com")
        sent = self.send('"Ann" <ann@test.mycompany.com>')
        self.assertSent(sent, "Ann <ann@test.mycompany.com>", self.bounce, "test.mycompany.com")
        sent = self.send('"Jane" <jane@gmail.com>')
        self.assertSent(sent, f"Jane <{self.notif}>", self.bounce, "test.mycompany.com")

    @mute_logger("odoo.models.unlink")
    @patch.dict(config.options, {"smtp_server": "smtp.config"})
    def test_configuration_server_encapsulates_in_its_address(self):
        """from_filter = mail.default.from = a full address: every other address is encapsulated."""
        self.env["ir.mail_server"].search([]).unlink()
        self.set_params(
            mail_default_from_filter="noreply@test.mycompany.com",
            mail_default_from="noreply@test.mycompany.com",
        )
        for author, header in [
            ('"Jane" <jane@gmail.com>', "Jane <noreply@test.mycompany.com>"),
            ('"Ann" <ann@test.mycompany.com>', "Ann <noreply@test.mycompany.com>"),
            ("noreply@test.mycompany.com", "noreply@test.mycompany.com"),
        ]:
            with self.subTest(author=author):
                sent = self.send(author)
                self.assertSent(sent, header, "noreply@test.mycompany.com", "noreply@test.mycompany.com")

    def test_hostile_author_cannot_inject_headers(self):
        """Odoo refuses CR/LF in a header (the message would fail); it is cleaned, then the rules apply."""
        sent = self.send('"Evil\r\nBcc: victim@example.net" <evil@gmail.com>', email_to="dest@example.org")
        self.assertSent(
            sent,
            f'"Evil Bcc: victim@example.net" <{self.notif}>',
            self.notif,
            self.mail_server_notification.from_filter,
        )
        self.assertEqual(sent["smtp_to_list"], ["dest@example.org"])
        self.assertNotIn("Bcc", email.message_from_string(sent["message"]).keys())

    def test_failure_of_ours_falls_back_to_odoo(self):
        with (
            patch.object(sender, "ascii_address", side_effect=RuntimeError("boom")),
            self.assertLogs(LOGGER, "WARNING") as logs,
        ):
            sent = self.send('"Jane Doe" <jane@gmail.com>')
        self.assertTrue(any("Odoo's own value is used" in line for line in logs.output))
        # Odoo's own result for this case (see mail's TestIrMailServer.test_mail_server_send_email)
        self.assertSent(
            sent, f"Jane Doe <{self.notif}>", self.notif, self.mail_server_notification.from_filter
        )

    def test_debug_log_says_how_it_was_sent(self):
        with self.assertLogs(LOGGER, "DEBUG") as logs:
            self.send('"Jane Doe" <jane@gmail.com>')
        self.assertTrue(
            any(f"as From Jane Doe <{self.notif}>, envelope {self.notif}" in line for line in logs.output)
        )

    def test_no_dns_on_the_send_path(self):
        """Nothing on the send path asks DNS (our resolver, dnspython, the socket layer), DKIM signing
        included: it uses the publication stored by the last check."""
        sent = self.send('"Jane Doe" <jane@gmail.com>', guarded=True)
        self.assertSent(
            sent, f"Jane Doe <{self.notif}>", self.notif, self.mail_server_notification.from_filter
        )
        self.env["mail.dkim.key"].create({"domain": self.alias_domain, "force_signing": True})
        sent = self.send('"Jane Doe" <jane@gmail.com>', guarded=True)
        self.assertTrue(sent["message"].startswith("DKIM-Signature: "), sent["message"][:100])

    def test_the_no_dns_guard_catches_the_send_path_asking_once(self):
        """The guard of the test above fails when the send path asks DNS once, whichever way, even
        when the code that asks recovers from the refusal (as the send path does from any failure)."""
        port = free_port()  # loopback, where nothing answers: were a question to get through, it stays here

        def own_resolver():
            asyncio.run(DnsResolver([Nameserver("127.0.0.1", port)], timeout=0.2).query("x.example", "MX"))

        def dnspython():
            stub = dns.resolver.Resolver(configure=False)
            stub.nameservers, stub.port, stub.lifetime = ["127.0.0.1"], port, 0.2
            stub.resolve("x.example", "MX")

        def datagram():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"\0" * 12, ("127.0.0.1", port))

        ways = {
            "deliverability.dns.DnsResolver.query": own_resolver,
            "dns.resolver.Resolver.resolve": dnspython,
            "socket.getaddrinfo('localhost')": lambda: socket.getaddrinfo("localhost", 25),
            "socket.sendto UDP": datagram,
        }
        original = sender.ascii_address
        for label, ask in ways.items():
            asked = []

            def asking(address, ask=ask, asked=asked):
                if not asked:
                    asked.append(address)
                    try:
                        ask()
                    except OSError:
                        pass  # recovered: the guard still reports it
                return original(address)

            with self.subTest(label), patch.object(sender, "ascii_address", asking):
                with self.assertRaises(DnsAsked) as caught:
                    self.send('"Jane Doe" <jane@gmail.com>', guarded=True)
                self.assertEqual(len(asked), 1)
                self.assertEqual(len(caught.exception.questions), 1, caught.exception.questions)
                self.assertTrue(caught.exception.questions[0].startswith(label), caught.exception.questions)
                self.assertEqual(len(self.emails), 1)  # the send path recovered: the mail went
                self.assertSent(
                    self.emails[0], f"Jane Doe <{self.notif}>", self.notif,
                    self.mail_server_notification.from_filter,
                )  # fmt: skip


@tagged("post_install", "-at_install", "mdh_sender")
class TestMailMailSending(SenderCase):
    """mail.mail.send(): batching by server, alias domains of records, and what each mail records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alias_domain_2 = cls.env["mail.alias.domain"].create(
            {
                "name": "second.example.com",
                "default_from": "info",
                "bounce_alias": "bounce2",
                "catchall_alias": "catchall2",
            }
        )
        cls.server_2 = cls.env["ir.mail_server"].create(
            {"name": "Second", "smtp_host": "smtp2", "from_filter": "second.example.com", "sequence": 20}
        )

    def make_mails(self, *authors, **values):
        return self.env["mail.mail"].create(
            [
                {
                    "body_html": "<p>Hi</p>",
                    "email_to": "dest@example.org",
                    "email_from": author,
                    "auto_delete": False,
                    **values,
                }
                for author in authors
            ]
        )

    def send_mails(self, mails):
        with self.mock_smtplib_connection():
            mails.send()
        self.assertEqual(set(mails.mapped("state")), {"sent"}, mails.mapped("failure_reason"))
        return {email.message_from_string(e["message"])["Message-Id"]: e for e in self.emails}

    def test_rules_recorded_on_each_mail(self):
        mails = self.make_mails(
            '"Spec" <specific_user@test.mycompany.com>',
            '"Ann" <ann@test.mycompany.com>',
            '"Jane" <jane@gmail.com>',
            reply_to=f"catchall@{self.alias_domain}",
        )
        self.send_mails(mails)
        spec, ann, jane = mails
        self.assertEqual(
            [(m.mdh_sent_from, m.mdh_envelope_from, m.mdh_mail_server_id, m.mdh_sender_rule) for m in mails],
            [
                (
                    "Spec <specific_user@test.mycompany.com>",
                    "specific_user@test.mycompany.com",
                    self.mail_server_user,
                    "author_matches",
                ),
                ("Ann <ann@test.mycompany.com>", self.bounce, self.mail_server_domain, "author_matches"),
                (f"Jane <{self.notif}>", self.notif, self.mail_server_notification, "encapsulated"),
            ],
        )
        self.assertEqual(set(mails.mapped("mdh_reply_to")), {f"catchall@{self.alias_domain}"})
        self.assertIn(sender.Rule.ENCAPSULATED.label, jane.mdh_sender_explanation)
        self.assertIn(sender.Rule.BOUNCE_ADDRESS.label, ann.mdh_sender_explanation)
        self.assertEqual(spec.mdh_smtp_server, self.mail_server_user.name)

    def test_each_send_records_its_own_mails(self):
        """Separate sends of identical mails: each one's record reaches the mail that was sent."""
        mails = self.make_mails(
            *['"Jane" <jane@gmail.com>'] * 3, record_alias_domain_id=self.alias_domain_2.id
        )
        for mail in mails:
            self.send_mails(mail)
            self.assertEqual(mail.mdh_sender_rule, "default_from")
            self.assertEqual(mail.mdh_sent_from, "Jane <info@second.example.com>")

    def test_record_alias_domain(self):
        mail = self.make_mails('"Jane" <jane@gmail.com>', record_alias_domain_id=self.alias_domain_2.id)
        sent = list(self.send_mails(mail).values())[0]
        self.assertSent(
            sent, "Jane <info@second.example.com>", "bounce2@second.example.com", "second.example.com"
        )
        self.assertEqual(mail.mdh_sender_rule, "default_from")
        self.assertEqual(mail.mdh_mail_server_id, self.server_2)

    def test_parameters_reach_every_company_domain_not_others(self):
        """A set parameter is written to the alias domain of every company; an alias domain no company
        uses keeps its own values (mail of its records goes out with them)."""
        self.set_params(mail_default_from="noreply@test.mycompany.com")
        self.assertEqual(self.alias_domain_2.default_from, "info")
        mail = self.make_mails('"Jane" <jane@gmail.com>', record_alias_domain_id=self.alias_domain_2.id)
        sent = list(self.send_mails(mail).values())[0]
        self.assertSent(
            sent, "Jane <info@second.example.com>", "bounce2@second.example.com", "second.example.com"
        )

    def test_forced_server_applies_the_rules(self):
        """Intentional difference from Odoo: a server forced on the mail (mass mailing) does not send
        as an author its from_filter refuses; the default sender is used as on the servers Odoo chooses."""
        mail = self.make_mails("user_1@test_2.com", mail_server_id=self.mail_server_domain.id)
        sent = list(self.send_mails(mail).values())[0]
        self.assertSent(sent, f"user_1 <{self.notif}>", self.bounce, "test.mycompany.com")
        self.assertEqual(mail.mdh_sender_rule, "default_from")
        self.assertEqual(mail.mdh_mail_server_id, self.mail_server_domain)

    def test_hostile_author_is_sent_safely(self):
        """Odoo's batching picks the first address it finds in this author; whatever it is, one From
        header goes out, in the default address, and no header is injected."""
        mail = self.make_mails('"Evil\r\nBcc: victim@example.net" <evil@gmail.com>')
        sent = list(self.send_mails(mail).values())[0]
        wire = email.message_from_string(sent["message"], policy=email.policy.default)
        self.assertEqual([a.addr_spec for a in wire["From"].addresses], [self.notif])
        self.assertIsNone(wire["Bcc"])
        self.assertEqual(sent["smtp_to_list"], ["dest@example.org"])

    def test_failed_mail_records_what_it_was_sent_as(self):
        """The SMTP server refuses the mail for good: it fails, and its Sent As says how it was sent."""
        mail = self.make_mails('"Jane" <jane@gmail.com>')
        refused = smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam")
        with self.mock_smtplib_connection(), mute_logger("odoo.addons.mail.models.mail_mail"):
            with patch.object(type(self.testing_smtp_session), "send_message", side_effect=refused):
                mail.send()
        self.assertEqual(mail.state, "exception")
        self.assertEqual(mail.mdh_sent_from, f"Jane <{self.notif}>")
        self.assertEqual(mail.mdh_sender_rule, "encapsulated")

    def test_mail_without_valid_recipient_records_nothing(self):
        mail = self.make_mails('"Jane" <jane@gmail.com>')
        mail.email_to = "void"
        with self.mock_smtplib_connection():
            mail.send()
        self.assertEqual(mail.state, "exception")
        self.assertFalse(mail.mdh_sent_from)

    def test_unusable_author_is_sent_from_the_default_address(self):
        mail = self.make_mails("robert")
        sent = list(self.send_mails(mail).values())[0]
        self.assertSent(sent, f"robert <{self.notif}>", self.notif, self.mail_server_notification.from_filter)

    def test_recording_failure_loses_no_mail(self):
        mail = self.make_mails('"Jane" <jane@gmail.com>')
        with (
            patch.object(sender, "classify", side_effect=RuntimeError("boom")),
            self.assertLogs(LOGGER, "WARNING"),
        ):
            self.send_mails(mail)
        self.assertEqual(len(self.emails), 1)
        self.assertFalse(mail.mdh_sender_rule)

    def test_step_before_smtp_sees_every_message_and_notes_reach_sent_as(self):
        """The seam for later steps (DKIM): called with the prepared message; its note is recorded."""
        seen = []

        def step(server, message, sent):
            seen.append(str(message["From"]))
            return sent.with_note("Signed with selector test.")

        mail = self.make_mails('"Jane" <jane@gmail.com>')
        with patch.object(type(self.env["ir.mail_server"]), "_mdh_before_smtp", step):
            self.send_mails(mail)
            self.send('"Ann" <ann@test.mycompany.com>')  # not a mail.mail: the step runs all the same
        self.assertEqual(seen, [f"Jane <{self.notif}>", "Ann <ann@test.mycompany.com>"])
        self.assertTrue(mail.mdh_sender_explanation.endswith("Signed with selector test."))

    def test_failing_step_before_smtp_loses_no_mail(self):
        mail = self.make_mails('"Jane" <jane@gmail.com>')
        with (
            patch.object(
                type(self.env["ir.mail_server"]), "_mdh_before_smtp", side_effect=RuntimeError("boom")
            ),
            self.assertLogs(LOGGER, "WARNING") as logs,
        ):
            self.send_mails(mail)
        self.assertIn("it goes as it is", logs.output[0])
        self.assertEqual(len(self.emails), 1)
        self.assertEqual(mail.mdh_sender_rule, "encapsulated")

    def test_filter_verdicts_are_given_once_per_send(self):
        """One send: Odoo's From filter verdict for the bounce address is asked once, reused after."""
        BaseIrMailServer = next(  # noqa: N806 - Odoo's class (its name differs between series)
            cls
            for cls in type(self.env["ir.mail_server"]).__mro__
            if cls.__module__.endswith("addons.base.models.ir_mail_server")
        )
        calls = []
        original = BaseIrMailServer._match_from_filter

        def counting(server, email_from, from_filter):
            calls.append((email_from, from_filter))
            return original(server, email_from, from_filter)

        # two batches (one connection per author), one send
        mails = self.make_mails(*['"Ann" <ann@test.mycompany.com>'] * 2, '"Bob" <bob@test.mycompany.com>')
        with patch.object(BaseIrMailServer, "_match_from_filter", counting):
            sent = self.send_mails(mails)
        self.assertEqual(len(sent), 3)
        self.assertEqual(self.connect_mocked.call_count, 2)
        self.assertEqual(calls.count((self.bounce, "test.mycompany.com")), 1)
        self.assertEqual(set(mails.mapped("mdh_envelope_from")), {self.bounce})

    def test_auto_deleted_mail_is_sent_and_deleted(self):
        mail = self.make_mails('"Jane" <jane@gmail.com>', auto_delete=True)
        with self.mock_smtplib_connection():
            mail.send()
        self.assertFalse(mail.exists())
        self.assertEqual(len(self.emails), 1)

    def test_fields_are_for_administrators(self):
        employee_fields = self.env["mail.mail"].with_user(self.user_employee).fields_get()
        self.assertNotIn("mdh_sender_rule", employee_fields)
        self.assertIn("mdh_sender_rule", self.env["mail.mail"].fields_get())
        self.assertNotIn("mdh_reply_to", employee_fields)
        arch = self.env["mail.mail"].get_view(view_type="form")["arch"]
        self.assertIn('name="mdh_sender_explanation"', arch)
