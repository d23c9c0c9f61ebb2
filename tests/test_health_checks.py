"""Checks stored per domain against a real NSD: pass, fail, SERVFAIL, timeout; history; isolation."""

import asyncio
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import LOGGER, SENDING_IP, DomainHealthCase


@tagged("post_install", "-at_install")
class TestHealthChecks(DomainHealthCase):
    def test_domains_in_use_come_from_every_sending_setting(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("mail.catchall.domain", "Catchall.Test")
        icp.set_param("mail.default.from", "notifications@from.test")
        icp.set_param("mail.default.from_filter", "filter.test, someone@address.test")
        self.env["mail.alias.domain"].create({"name": "alias.test", "default_from": "news@news.test"})
        self.env["ir.mail_server"].create(
            {"name": "Second", "smtp_host": "smtp.mailer.test", "from_filter": "bad.test,x@srv.test"}
        )
        self.env["res.users"].create(
            [
                {"name": "Staff", "login": "mdh_staff", "email": "staff@people.test"},
                {"name": "Gmail", "login": "mdh_gmail", "email": "someone@gmail.com"},
            ]
        )
        in_use = self.Health._health_domains_in_use()
        self.assertEqual(
            set(in_use),
            {
                "catchall.test", "from.test", "filter.test", "address.test", "alias.test", "news.test",
                "good.test", "bad.test", "srv.test", "people.test",
            },
        )  # fmt: skip
        # the parameter is written through to an alias domain of that name (see readme/SENDER.rst)
        catchall = ["Alias domain (catchall, bounce)", "System parameter mail.catchall.domain"]
        self.assertEqual(in_use["catchall.test"], catchall)
        self.assertEqual(in_use["filter.test"], ["System parameter mail.default.from_filter"])
        self.assertEqual(in_use["bad.test"], ["Outgoing server Second"])
        self.assertEqual(in_use["good.test"], ["Outgoing server Mailer", "Internal users' addresses"])
        self.assertNotIn("gmail.com", in_use, "a mailbox provider is a people problem, not our DNS")

    def test_local_part_default_from_names_no_domain(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.default.from", "first.last")
        self.assertNotIn("first.last", self.Health._health_domains_in_use())

    def test_pass_fail_and_servfail_are_stored_with_the_record_to_publish(self):
        good, bad, broken = self.health("good.test", "bad.test", "broken.test")
        (good | bad | broken)._health_check()

        self.assertEqual((good.state, bad.state, broken.state), ("pass", "fail", "unknown"))
        self.assertEqual(
            sorted((c.check, c.selector or "") for c in good.check_ids),
            [("dkim", "mdh"), ("dmarc", ""), ("mx", ""), ("spf", "")],
        )
        self.assertEqual(good.spf_evaluations.split(":")[:2], [SENDING_IP, " pass (matched include"])
        self.assertEqual(good.dmarc_policy, "reject")
        self.assertEqual((good.spf_state, good.dkim_state, good.dmarc_state, good.mx_state), ("pass",) * 4)
        self.assertEqual(self.verdict(good, "dkim", "mdh").key_bits, 2048)

        spf = self.verdict(bad, "spf")
        self.assertEqual(spf.status, "fail")
        self.assertEqual(spf.fix, 'bad.test. IN TXT "v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all"')
        self.assertIn("does not include _spf.mailer.test", spf.summary)
        self.assertEqual(self.verdict(bad, "dmarc").status, "fail")
        self.assertIn("quarantined", self.verdict(bad, "dmarc").summary)
        self.assertIn("mdh._domainkey.bad.test. IN TXT", self.verdict(bad, "dkim", "mdh").fix)
        self.assertEqual(bad.mx_state, "pass")

        self.assertEqual(set(broken.check_ids.mapped("status")), {"unknown"})
        self.assertIn("servfail", self.verdict(broken, "spf").summary)
        self.assertTrue(all(r.last_check for r in good | bad | broken))

    def test_unreachable_nameserver_gives_unknown_without_traceback(self):
        good = self.health("good.test")
        self.use_nameserver(self.silent)
        with self.assertNoLogs(LOGGER, level="ERROR"):
            good._health_check()
        self.assertEqual(good.state, "unknown")
        self.assertEqual(set(good.check_ids.mapped("status")), {"unknown"})
        self.assertIn("DNS did not answer", self.verdict(good, "mx").summary)

    def test_bad_nameserver_setting_gives_a_clear_unknown(self):
        good = self.health("good.test")
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.nameservers", "ns.example.com")
        good._health_check()
        self.assertEqual(good.state, "unknown")
        self.assertIn("'ns.example.com' is not an IP address", self.verdict(good, "spf").summary)

    def test_custom_provider_without_include_gives_a_clear_unknown(self):
        good = self.health("good.test")
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.spf_include", False)
        good._health_check()
        self.assertEqual(good.state, "unknown")
        self.assertIn("no SPF include", self.verdict(good, "spf").summary)

    def test_unchanged_results_extend_the_last_run_and_changes_start_a_new_one(self):
        flip = self.health("flip.test")
        flip._health_check()
        first = flip.last_run_id
        two_days = timedelta(days=2)
        first.write({"date": first.date - two_days, "last_seen": first.last_seen - two_days})
        flip._health_check()
        self.assertEqual(flip.run_ids, first, "same results: no new run")
        self.assertEqual(first.last_seen.date(), fields.Date.today())
        self.assertLess(first.date.date(), fields.Date.today())

        self.use_nameserver(self.nsd_degraded)
        flip._health_check()
        self.assertEqual(len(flip.run_ids), 2)
        self.assertNotEqual(flip.last_run_id, first)
        self.assertEqual(flip.state, "fail")
        self.assertIn("SPF: Pass → Fail", flip.last_run_id.changes)
        self.assertIn("DMARC: Pass → Warning", flip.last_run_id.changes)
        self.assertEqual(first.check_ids.mapped("status"), ["pass"] * 4, "history keeps the old verdicts")

    def test_sending_ips_default_to_the_smtp_hosts_addresses(self):
        def evaluated():
            good._health_check()
            return [line.partition(" (")[0] for line in good.last_run_id.spf_evaluations.splitlines()]

        good = self.health("good.test")
        # looked up by the run that checks the domains, beside its other look-ups
        self.assertEqual(self.Health._health_settings().options.sending_hosts, ("smtp.mailer.test",))
        self.assertEqual(evaluated(), [f"{SENDING_IP}: pass", "2001:db8::25: pass"])
        self.env["ir.mail_server"].create({"name": "Local", "smtp_host": "127.0.0.1"})
        self.assertEqual(evaluated(), [f"{SENDING_IP}: pass", "2001:db8::25: pass"], "loopback says nothing")
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.sending_ips", "198.51.100.9")
        self.assertEqual(self.Health._health_settings().options.sending_hosts, ())
        self.assertEqual(evaluated(), ["198.51.100.9: fail"])

    def test_one_failing_domain_does_not_stop_the_others(self):
        records = self.health("good.test", "bad.test", "flip.test")
        store = type(self.Health)._health_store

        def exploding(record, report, now):
            if record.name == "bad.test":
                raise RuntimeError("boom")
            return store(record, report, now)

        with (
            patch.object(type(self.Health), "_health_store", exploding),
            self.assertLogs(LOGGER, level="ERROR") as logs,
        ):
            records._health_check()
        self.assertIn("storing the results of bad.test failed", logs.output[0])
        self.assertEqual(records.mapped("state"), ["pass", False, "pass"])

    def test_each_domain_is_stored_as_soon_as_it_is_checked(self):
        """In the run, while the other domains are looked up (their answers wait), not after it."""
        records = self.health("good.test", "bad.test", "flip.test")
        store = type(self.Health)._health_store
        in_the_run = []

        def watched(record, report, now):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass
            else:
                in_the_run.append(record.name)
            return store(record, report, now)

        with patch.object(type(self.Health), "_health_store", watched):
            records._health_check()
        self.assertCountEqual(in_the_run, ["good.test", "bad.test", "flip.test"])
        self.assertEqual(records.mapped("state"), ["pass", "fail", "pass"])

    def test_what_the_callers_work_on_the_policies_raises_is_raised(self):
        """Not taken for an engine crash: the domains are not checked again one by one."""
        records = self.health("good.test", "bad.test")

        def refuse(policies):
            raise LookupError("storing the policies failed")

        with (
            self.assertRaisesRegex(LookupError, "storing the policies failed"),
            self.assertNoLogs(LOGGER, level="WARNING"),
        ):
            self.Health._health_check_prepared(
                records.mapped("name"), lambda: (records, ["reject.test"]), on_policies=refuse
            )

    def test_an_engine_crash_is_isolated_to_its_domain(self):
        records = self.health("good.test", "bad.test")
        from ..deliverability import checks

        real_run = checks.run

        def run(names, options, run_options, policies_of=(), on_reports=None, on_policies=None):
            if "bad.test" in names:
                raise RuntimeError("engine bug")
            return real_run(names, options, run_options, policies_of, on_reports, on_policies)

        with patch.object(checks, "run", run), self.assertLogs(LOGGER, level="ERROR"):
            records._health_check()
        good, bad = records
        self.assertEqual(good.state, "pass")
        self.assertEqual(bad.state, "unknown")
        self.assertIn("failed unexpectedly", self.verdict(bad, "spf").summary)
