"""The daily cron: every domain, batches, time budget, retention, and alerts once per degradation."""

import logging
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .. import seams
from ..deliverability import checks
from .common import CRON_LOGGER, DomainHealthCase, cron_test_mode


@tagged("post_install", "-at_install")
class TestHealthCron(DomainHealthCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin2 = cls.env["res.users"].create(
            {
                "name": "Second Admin",
                "login": "mdh_admin2",
                "email": "admin2@good.test",
                seams.USER_GROUPS_ASSIGNED: [(6, 0, [cls.env.ref("base.group_system").id])],
            }
        )
        cls.alert_type = cls.env.ref("mail_domain_health.mail_activity_type_domain_health_alert")

    def run_cron(self, **kwargs):
        """One daily run: what was checked is a day old when the cron comes back."""
        self.Health.search([("last_check", "!=", False)]).write(
            {"last_check": fields.Datetime.now() - timedelta(days=1)}
        )
        self.Health._cron_check_domains(**kwargs)

    def alerts(self, record):
        return record.activity_ids.filtered(lambda a: a.activity_type_id == self.alert_type)

    def recovery_messages(self, record):
        return record.message_ids.filtered(lambda m: "recovered" in (m.body or ""))

    def test_cron_checks_every_domain_in_use_and_the_watched_ones(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", "bad.test")
        watched = self.Health._health_ensure(["broken.test"], manual=True)
        self.Health._health_ensure(["lax.test"])  # neither in use nor added by hand: not watched
        with self.assertLogs(CRON_LOGGER, level=logging.INFO) as logs:
            self.run_cron(batch_size=1)
        states = {r.name: r.state for r in self.Health.search([])}
        self.assertEqual(
            states, {"good.test": "pass", "bad.test": "fail", "broken.test": "unknown", "lax.test": False}
        )
        self.assertTrue(watched.manual and watched.last_check)
        self.assertIn(f"INFO:{CRON_LOGGER}:Domain health: 3/3 domains checked", logs.output)

    def engine_runs(self):
        """A patch that records the domains and the policies asked in each run of the engine."""
        runs, original = [], checks.run

        def run(names, options, run_options, policies_of=(), *args, **kwargs):
            result = original(names, options, run_options, policies_of, *args, **kwargs)
            runs.append((sorted(names), sorted(result.policies)))
            return result

        return runs, patch.object(checks, "run", run)

    def test_the_correspondents_policies_are_looked_up_in_the_last_batchs_run(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.catchall.domain", "bad.test")
        self.env["res.partner"].create({"name": "Strict", "email": "someone@partner.test"})
        runs, patched = self.engine_runs()
        with patched:
            self.run_cron(batch_size=1)
        # good.test and bad.test, one per batch: no run of its own for the policies
        self.assertEqual(sorted(names for names, _policies in runs), [["bad.test"], ["good.test"]])
        self.assertEqual(runs[0][1], [], "the first batch asks no policy")
        self.assertIn("partner.test", runs[1][1])
        stored = self.env["mail.dmarc.policy"].search([("domain", "=", "partner.test")])
        self.assertEqual(stored.policy, "quarantine")

        with patched:  # nothing due within the hour: the policies alone, in one run
            self.Health._cron_check_domains()
        self.assertEqual(runs[2][0], [])
        self.assertIn("partner.test", runs[2][1])

    def test_a_failure_listing_the_correspondents_is_logged_and_the_check_goes_on(self):
        policy = self.env.registry["mail.dmarc.policy"]
        with (
            patch.object(policy, "_dmarc_refresh_domains", side_effect=RuntimeError("broken")),
            self.assertLogs(CRON_LOGGER, level=logging.WARNING) as logs,
        ):
            self.run_cron()
        self.assertIn("were not looked up", logs.output[0])
        self.assertEqual(self.Health.search([("name", "=", "good.test")]).state, "pass")

    def test_the_scheduled_action_is_daily_active_and_runs_the_check(self):
        cron = self.env.ref("mail_domain_health.ir_cron_mail_domain_health")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        with cron_test_mode(self):
            cron.method_direct_trigger()
        self.assertEqual(self.Health.search([("name", "=", "good.test")]).state, "pass")
        if seams.SERIES >= 18:  # the scheduler is told how far the job is (17 has no progress API)
            progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)], order="id desc")[:1]
            checked = self.Health.search_count([("last_check", "!=", False)])
            self.assertEqual((progress.done, progress.remaining), (checked, 0))

    def test_a_domain_no_longer_in_use_is_no_longer_checked(self):
        icp = self.env["ir.config_parameter"].sudo()
        icp.set_param("mail.catchall.domain", "bad.test")
        self.run_cron()
        bad = self.Health.search([("name", "=", "bad.test")])
        self.assertTrue(bad.in_use)
        icp.set_param("mail.catchall.domain", "good.test")
        self.run_cron()
        self.assertFalse(bad.in_use or bad.source)
        recently = fields.Datetime.now() - timedelta(hours=1)
        self.assertLess(bad.last_check, recently, "not checked again")
        self.assertGreaterEqual(self.Health.search([("name", "=", "good.test")]).last_check, recently)

    def test_time_budget_leaves_the_rest_for_the_next_call(self):
        self.Health._health_ensure(["bad.test", "broken.test"], manual=True)
        cron = self.env.ref("mail_domain_health.ir_cron_mail_domain_health")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.Health._cron_check_domains(batch_size=1, time_budget=1e-9)
        self.assertEqual(len(self.Health.search([("last_check", "!=", False)])), 1)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers,
            "the job triggers itself to finish (Odoo 17 has no progress API)",
        )
        self.Health._cron_check_domains(batch_size=1, time_budget=1e-9)
        self.assertEqual(len(self.Health.search([("last_check", "!=", False)])), 2)
        self.Health._cron_check_domains(batch_size=10)
        self.assertEqual(len(self.Health.search([("last_check", "=", False)])), 0)

    def test_degradation_alerts_each_admin_once_and_recovery_is_noted_once(self):
        flip = self.Health._health_ensure(["flip.test"], manual=True)
        self.run_cron()
        self.assertEqual(flip.state, "pass")
        self.assertFalse(self.alerts(flip), "the first check is the baseline")

        self.use_nameserver(self.nsd_degraded)
        self.run_cron()
        alerts = self.alerts(flip)
        self.assertEqual(alerts.user_id, self.env.ref("base.user_admin") | self.admin2)
        self.assertEqual(len(alerts), 2, "one activity per administrator")
        self.assertEqual(set(alerts.mapped("summary")), {"flip.test: SPF, DMARC degraded"})
        self.assertIn("Pass → Fail", alerts[0].note)
        self.assertIn('flip.test. IN TXT "v=spf1 include:_spf.mailer.test -all"', alerts[0].note)
        self.assertIn(
            "Host <code>@</code>, Type <code>TXT</code>, "
            "Value <code>v=spf1 include:_spf.mailer.test -all</code>",
            alerts[0].note,
            "the record also as a registrar's form asks for it",
        )

        self.run_cron()
        self.run_cron()
        self.assertEqual(self.alerts(flip), alerts, "not every day: once per degradation")

        self.use_nameserver(self.nsd)
        self.run_cron()
        self.assertFalse(self.alerts(flip), "the alert closes on recovery")
        self.assertEqual(len(self.recovery_messages(flip)), 1)
        self.assertIn("Fail → Pass", self.recovery_messages(flip).body)
        self.run_cron()
        self.assertEqual(len(self.recovery_messages(flip)), 1)

    def test_unanswered_dns_is_neither_degradation_nor_recovery(self):
        flip = self.Health._health_ensure(["flip.test"], manual=True)
        self.run_cron()
        self.use_nameserver(self.silent)
        self.run_cron()
        self.assertEqual(flip.state, "unknown")
        self.assertFalse(self.alerts(flip))
        self.use_nameserver(self.nsd)
        self.run_cron()
        self.assertEqual(flip.state, "pass")
        self.assertFalse(self.recovery_messages(flip))

    def test_a_run_that_could_not_check_keeps_the_baseline(self):
        flip = self.Health._health_ensure(["flip.test"], manual=True)
        self.run_cron()
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.nameservers", "not-an-ip")
        self.run_cron()
        self.assertEqual(flip.check_ids.mapped("status"), ["unknown"] * 3, "no selector known: no DKIM row")
        self.assertEqual(flip.alert_data["known"].get("dkim:mdh"), "pass", "DKIM is not forgotten")
        self.use_nameserver(self.nsd_degraded)
        self.run_cron()
        self.assertEqual(len(self.alerts(flip)), 2, "the degradation is still measured against the last pass")

    def test_retention_forgets_old_runs_but_keeps_the_last_one(self):
        flip = self.Health._health_ensure(["flip.test"], manual=True)
        self.run_cron()
        self.use_nameserver(self.nsd_degraded)
        self.run_cron()
        self.assertEqual(len(flip.run_ids), 2)
        old = fields.Datetime.now() - timedelta(days=200)
        flip.run_ids.write({"last_seen": old})
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.retention_days", "90")
        self.Health._health_gc()
        self.assertEqual(flip.run_ids, flip.last_run_id)
        self.assertEqual(len(flip.check_ids), 4)
