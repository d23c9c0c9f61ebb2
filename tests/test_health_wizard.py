"""The Domain Health wizard: pre-filled domains, any added domain, verdicts with records, people problems."""

from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .. import seams
from ..models.mail_domain_health import domains_of
from .common import DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthWizard(DomainHealthCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", "bad.test")
        users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.user_reject = users.create(
            {"name": "Yahoo User", "login": "mdh_yahoo", "email": "me@reject.test"}
        )
        cls.user_gmail = users.create({"name": "Gmail User", "login": "mdh_gmail", "email": "me@gmail.com"})
        # on the company's own (catchall) domain, which publishes p=quarantine and fails SPF and DKIM
        cls.user_own = users.create({"name": "Own User", "login": "mdh_own", "email": "me@bad.test"})
        cls.portal = users.create(
            {
                "name": "Portal",
                "login": "mdh_portal",
                "email": "portal@reject.test",
                seams.USER_GROUPS_ASSIGNED: [(6, 0, [cls.env.ref("base.group_portal").id])],
            }
        )
        partners = cls.env["res.partner"]
        cls.strict = partners.create(
            [{"name": f"Strict {i}", "email": f"p{i}@partner.test"} for i in range(3)]
        )
        cls.lax = partners.create({"name": "Lax", "email": "someone@lax.test"})

    def test_prefilled_with_every_domain_in_use(self):
        wizard = Form(self.env["mail.domain.health.wizard"])
        lines = {line.domain: line.source for line in wizard.save().line_ids}
        self.assertEqual(set(lines), {"good.test", "bad.test", "reject.test"})
        # the parameter is written through to an alias domain of that name (see readme/SENDER.rst)
        self.assertEqual(
            lines["bad.test"],
            "Alias domain (catchall, bounce), System parameter mail.catchall.domain, "
            "Internal users' addresses",
        )

    def test_check_shows_verdicts_with_records_and_saves_them(self):
        form = Form(self.env["mail.domain.health.wizard"])
        with form.line_ids.new() as line:
            line.domain = "Broken.Test."
        wizard = form.save()
        wizard.action_check()

        self.assertEqual(wizard.state, "done")
        self.assertEqual(
            set(wizard.check_ids.mapped("domain")), {"good.test", "bad.test", "reject.test", "broken.test"}
        )
        spf = wizard.check_ids.filtered(lambda c: c.domain == "bad.test" and c.check == "spf")
        self.assertEqual(spf.fix, 'bad.test. IN TXT "v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all"')
        # good.test passes; bad.test and reject.test fail SPF, DKIM, DMARC; broken.test is unknown
        self.assertEqual((wizard.pass_count, wizard.warning_count, wizard.fail_count), (6, 0, 10))
        # the record to publish, also as a registrar's form asks for it
        self.assertEqual(
            (spf.fix_host, spf.fix_type, spf.fix_value),
            ("@", "TXT", "v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all"),
        )
        dkim = wizard.check_ids.filtered(lambda c: c.domain == "bad.test" and c.check == "dkim")
        self.assertEqual((dkim.fix_host, dkim.fix_type), ("mdh._domainkey", "TXT"))
        self.assertIn("<code>mdh._domainkey</code>", dkim.fix_table)
        good = wizard.check_ids.filtered(lambda c: c.domain == "good.test" and c.check == "spf")
        self.assertFalse(good.fix_host or good.fix_table, "nothing to publish")

        added = self.Health.search([("name", "=", "broken.test")])
        self.assertTrue(added.manual, "a domain the admin adds is watched from now on")
        self.assertEqual(added.state, "unknown")
        self.assertFalse(self.Health.search([("name", "=", "bad.test")]).manual)
        self.assertEqual(
            wizard.line_ids.filtered(lambda line: line.domain == "bad.test").health_state, "fail"
        )

    def test_the_verdicts_are_those_the_domains_forms_show(self):
        form = Form(self.env["mail.domain.health.wizard"])
        with form.line_ids.new() as line:
            line.domain = "flip.test"
        wizard = form.save()
        self.assertFalse(wizard.check_ids, "nothing to show before the check")
        wizard.action_check()
        flip = self.Health.search([("name", "=", "flip.test")])
        shown = wizard.check_ids.filtered(lambda c: c.domain == "flip.test")
        self.assertEqual(set(shown.mapped("status")), {"pass"}, "flip.test passes on this server")
        fail_count = wizard.fail_count

        # checked again later (the cron, the domain's Check Now) after its DNS changed
        self.use_nameserver(self.nsd_degraded)
        flip._health_check()
        self.assertIn("fail", flip.check_ids.mapped("status"))
        wizard.invalidate_recordset()  # the form read again, by its next request
        shown = wizard.check_ids.filtered(lambda c: c.domain == "flip.test")
        self.assertEqual(shown, flip.check_ids, "the wizard and the domain's form tell the same verdicts")
        failing = flip.check_ids.filtered(lambda c: c.status in ("fail", "unknown"))
        self.assertEqual(wizard.fail_count, fail_count + len(failing), "and the counts above them follow")

    def test_invalid_domain_is_a_clear_error(self):
        wizard = self.env["mail.domain.health.wizard"].create(
            {"line_ids": [(0, 0, {"domain": "not a domain"})]}
        )
        with self.assertRaisesRegex(UserError, "'not a domain' is not a valid domain name"):
            wizard.action_check()
        self.assertFalse(self.Health.search([("name", "=", "not a domain")]))

    def test_an_ip_address_is_not_a_domain_to_check(self):
        wizard = self.env["mail.domain.health.wizard"].create({"line_ids": [(0, 0, {"domain": "192.0.2.1"})]})
        with self.assertRaisesRegex(UserError, "'192.0.2.1': an IP address is not a domain"):
            wizard.action_check()
        with self.assertRaisesRegex(ValidationError, "an IP address is not a domain"):
            self.Health.create({"name": "[2001:db8::1]"})
        self.assertEqual(domains_of("192.0.2.1, jane@192.0.2.1, good.test"), ["good.test"], "no IP")

    def test_people_problems_the_documentation_names(self):
        wizard = self.env["mail.domain.health.wizard"].create({"line_ids": [(0, 0, {"domain": "good.test"})]})
        wizard.action_check()
        problems = {(p.problem, p.user_id.login or p.domain): p for p in wizard.person_ids}
        self.assertEqual(
            set(problems),
            {
                ("user_dmarc", "mdh_yahoo"),
                ("user_generic", "mdh_gmail"),
                ("own_dmarc", "mdh_own"),
                ("partner_dmarc", "partner.test"),
            },
        )
        rejected = problems["user_dmarc", "mdh_yahoo"]
        self.assertEqual((rejected.domain, rejected.policy), ("reject.test", "reject"))
        self.assertIn("Give the user an address on bad.test", rejected.advice, "the catchall domain")
        self.assertIn("generic mailbox provider", problems["user_generic", "mdh_gmail"].advice)
        partners = problems["partner_dmarc", "partner.test"]
        self.assertEqual(partners.partner_ids, self.strict)
        self.assertEqual((partners.policy, partners.partner_count), ("quarantine", 3))
        self.assertIn("replies from these 3 contacts cannot be relayed", partners.advice)
        self.strict[1:].write({"email": "someone@elsewhere.test"})
        wizard = self.env["mail.domain.health.wizard"].create({})
        wizard.action_check()
        alone = wizard.person_ids.filtered(
            lambda p: (p.problem, p.domain) == ("partner_dmarc", "partner.test")
        )
        self.assertIn("replies from this contact cannot be relayed", alone.advice)

    def test_users_on_a_company_domain_are_pointed_to_its_verdicts(self):
        wizard = self.env["mail.domain.health.wizard"].create({})
        wizard.action_check()
        own = wizard.person_ids.filtered(lambda p: p.user_id == self.user_own)
        self.assertEqual((own.problem, own.domain, own.policy), ("own_dmarc", "bad.test", "quarantine"))
        self.assertEqual(own.health_id, self.Health.search([("name", "=", "bad.test")]))
        self.assertEqual(own.health_id.dmarc_state, "fail")
        self.assertIn("Fix the SPF and DKIM verdicts of bad.test", own.advice)
        self.assertNotIn("address on", own.advice, "not: get an address on the domain they are on")
        partner_domains = wizard.person_ids.filtered(lambda p: p.problem == "partner_dmarc").mapped("domain")
        self.assertNotIn("bad.test", partner_domains)

    def test_the_people_tab_follows_a_verdict_stored_after_it_was_written(self):
        """The People tab is written while the checks wait for answers (once the policies are in);
        when the run then stores a verdict the rows read, they are written again."""
        health_model = type(self.Health)
        check_prepared = health_model._health_check_prepared

        def checked(health, names, prepare, settings=None, on_policies=None):
            def early(policies):  # bad.test passing, as a run before this one may have left it
                bad = health.search([("name", "=", "bad.test")])
                state = bad.dmarc_state
                bad.dmarc_state = "pass"
                on_policies(policies)
                bad.dmarc_state = state

            return check_prepared(health, names, prepare, settings, early)

        wizard = self.env["mail.domain.health.wizard"].create({})
        with patch.object(health_model, "_health_check_prepared", checked):
            wizard.action_check()
        own = wizard.person_ids.filtered(lambda p: p.user_id == self.user_own)
        self.assertEqual(
            (own.problem, own.domain, own.health_id.dmarc_state), ("own_dmarc", "bad.test", "fail")
        )
        self.assertEqual(
            self.env["mail.dmarc.policy"].search([("domain", "=", "reject.test")]).policy, "reject"
        )

    def test_what_administrators_read_says_the_rule_not_its_source(self):
        wizard = self.env["mail.domain.health.wizard"].create({})
        wizard.action_check()
        texts = [wizard.provider_note, *wizard.person_ids.mapped("advice")]
        texts += wizard.check_ids.mapped("summary")
        texts += [wizard.get_views([(False, "form")])["views"]["form"]["arch"]]
        for model in (
            "mail.domain.health", "mail.domain.health.run", "mail.domain.health.check",
            "mail.domain.health.wizard", "mail.domain.health.wizard.line", "mail.domain.health.wizard.person",
        ):  # fmt: skip
            for field in self.env[model].fields_get(attributes=["string", "help", "selection"]).values():
                texts += [field["string"], field.get("help") or "", str(field.get("selection") or "")]
        settings = self.env["res.config.settings"].fields_get(attributes=["string", "help"])
        texts += [f"{f['string']} {f.get('help', '')}" for n, f in settings.items() if "domain_health" in n]
        for text in texts:
            self.assertNotIn("seed", text.lower())
            self.assertNotIn("Flectra recommends", text)
