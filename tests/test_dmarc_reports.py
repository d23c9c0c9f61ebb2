"""DMARC aggregate reports in the database: mailed to the alias through the real mail gateway, uploaded,
counted once, classified against a real NSD (PTR zones written here), alerts once, administrators only."""

import base64
import email
import email.policy
import gzip
import io
import json
import os
import re
import time
import zipfile
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import common, new_test_user, tagged

from ..deliverability.testing.nsd import NsdServer
from .common import PARAMS, zones

OWN_IP, PROVIDER_IP, KNOWN_IP, UNKNOWN_IP = "192.0.2.10", "192.0.2.25", "203.0.113.5", "198.51.100.66"
ALERT_TYPE = "mail_domain_health.mail_activity_type_dmarc_source_alert"
# the project's shared/ folder beside the repository (DMARC_SAMPLES to point elsewhere)
SAMPLES = Path(
    os.environ.get("DMARC_SAMPLES") or Path(__file__).resolve().parents[1].parent / "shared" / "dmarc-samples"
)


def report_xml(report_id="r-1", org="Receiver Inc", rows=(), domain="brand.test", begin=1700006400):
    """An RFC 7489 aggregate report; ``rows`` are ``(ip, count, dkim, spf)``."""
    records = "".join(
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>"
        f"<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>"
        f"<identifiers><header_from>{domain}</header_from></identifiers><auth_results>"
        f"<spf><domain>{domain}</domain><result>{spf}</result></spf></auth_results></record>"
        for ip, count, dkim, spf in rows
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feedback><report_metadata><org_name>{org}</org_name>'
        f"<email>noreply-dmarc@receiver.test</email><report_id>{report_id}</report_id><date_range>"
        f"<begin>{begin}</begin><end>{begin + 86399}</end></date_range></report_metadata>"
        f"<policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>"
        f"<pct>100</pct></policy_published>{records}</feedback>"
    ).encode()


ROWS = (
    (OWN_IP, 5, "pass", "pass"),
    (PROVIDER_IP, 100, "pass", "pass"),
    (KNOWN_IP, 20, "fail", "pass"),
    (UNKNOWN_IP, 30, "fail", "fail"),
)


def mail(to, attachments, subject="Report domain: brand.test Submitter: receiver.test"):
    """A report mail as receivers send it: ``attachments`` are ``(filename, bytes, mime type)``."""
    message = EmailMessage()
    message["From"] = "noreply-dmarc@receiver.test"
    message["To"] = to
    message["Subject"] = subject
    message["Message-Id"] = make_msgid(domain="receiver.test")
    message.set_content("This is an aggregate report from Receiver Inc.")
    for filename, data, mimetype in attachments:
        if mimetype == "message/rfc822":
            message.add_attachment(email.message_from_bytes(data, policy=email.policy.default))
        else:
            maintype, subtype = mimetype.split("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def zipped(name, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestDmarcReports(common.TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        served = zones()
        served.update(
            {
                "brand.test": "\n".join(
                    [
                        f'@ IN TXT "v=spf1 ip4:{KNOWN_IP} include:_spf.mailer.test -all"',
                        '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@brand.test"',
                    ]
                ),
                "2.0.192.in-addr.arpa": "10 IN PTR out.brand.test.\n25 IN PTR smtp.mailer.test.",
                "113.0.203.in-addr.arpa": "5 IN PTR shop.partner.test.",
                "100.51.198.in-addr.arpa": "66 IN PTR mail.brand.test.",
                "partner.test": f"shop IN A {KNOWN_IP}",
            }
        )
        cls.nsd = NsdServer(served).start()
        cls.addClassCleanup(cls.nsd.stop)
        icp = cls.env["ir.config_parameter"].sudo()
        settings = {**PARAMS, "mail_domain_health.nameservers": cls.nsd.address}
        settings["mail_domain_health.sending_ips"] = OWN_IP
        for key, value in settings.items():
            icp.set_param(key, value)
        cls.alias_domain = cls.env["mail.alias.domain"].search([("name", "=", "mydb.test")]) or cls.env[
            "mail.alias.domain"
        ].create({"name": "mydb.test"})
        cls.alias = cls.env.ref("mail_domain_health.mail_alias_dmarc_reports")
        cls.alias.alias_domain_id = cls.alias_domain
        cls.address = "dmarc-reports@mydb.test"
        cls.Report = cls.env["mail.dmarc.report"]
        cls.Source = cls.env["mail.dmarc.source"]
        cls.admin = cls.env.ref("base.user_admin")

    def deliver(self, *attachments, to=None):
        before = self.Report.search([])
        self.env["mail.thread"].message_process(False, mail(to or self.address, attachments))
        return self.Report.search([]) - before

    def source(self, ip):
        return self.Source.search([("ip", "=", ip)])

    def alerts(self, source):
        return source.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(ALERT_TYPE))

    # ------------------------------------------------------------------ reception

    def test_a_mailed_report_lands_per_domain_and_source_with_its_figures(self):
        report = self.deliver(("report.xml.gz", gzip.compress(report_xml(rows=ROWS)), "application/gzip"))
        self.assertEqual(len(report), 1)
        self.assertEqual(
            (report.state, report.domain, report.org_name), ("done", "brand.test", "Receiver Inc")
        )
        self.assertEqual((report.row_count, report.message_count, report.refused_count), (4, 155, 30))
        self.assertAlmostEqual(report.reject_share, 100 * 30 / 155)
        self.assertEqual(report.packed_as, "gzip")
        self.assertEqual(str(report.date_begin.date()), "2023-11-15")
        rows = {r.source_ip: r for r in report.record_ids}
        self.assertEqual(
            (rows[UNKNOWN_IP].count, rows[UNKNOWN_IP].aligned, rows[UNKNOWN_IP].refused_count),
            (30, False, 30),
        )
        self.assertEqual(
            (rows[KNOWN_IP].dkim, rows[KNOWN_IP].spf, rows[KNOWN_IP].aligned), ("fail", "pass", True)
        )
        self.assertEqual(rows[KNOWN_IP].spf_results, "brand.test: pass")
        self.assertEqual((rows[OWN_IP].domain, str(rows[OWN_IP].date)), ("brand.test", "2023-11-15"))
        unknown = self.source(UNKNOWN_IP)
        self.assertEqual((unknown.message_count, unknown.refused_count, unknown.pass_rate), (30, 30, 0.0))
        self.assertEqual(self.source(PROVIDER_IP).pass_rate, 100.0)
        # the mail and its attachment are on the report
        self.assertEqual(report.message_ids.attachment_ids.mapped("name"), ["report.xml.gz"])

    def test_twice_delivered_counts_once(self):
        data = zipped("receiver.test!brand.test!1700006400!1700092799.xml", report_xml(rows=ROWS))
        first = self.deliver(("report.zip", data, "application/zip"))
        again = self.Report.search([])
        self.env["mail.thread"].message_process(
            False, mail(self.address, [("report.zip", data, "application/zip")])
        )
        self.assertEqual(self.Report.search([]), again, "the second delivery is the same report")
        self.assertEqual(first.duplicate_count, 1)
        self.assertEqual(len(first.message_ids.filtered(lambda m: m.message_type == "email")), 2)
        self.assertEqual(self.source(PROVIDER_IP).message_count, 100)
        self.assertEqual(sum(self.env["mail.dmarc.report.record"].search([]).mapped("count")), 155)

    def test_a_report_inside_a_forwarded_mail_is_read(self):
        inner = mail("postmaster@brand.test", [("r.xml", report_xml(report_id="fwd"), "application/xml")])
        report = self.deliver(("forwarded.eml", inner, "message/rfc822"))
        self.assertEqual((len(report), report.external_id, report.state), (1, "fwd", "done"))

    def test_a_mail_without_a_valid_report_is_kept_with_the_reason(self):
        json_report = b'{"organization-name": "Example", "policies": []}'
        refused = self.deliver(("tls.json", json_report, "application/json"))
        self.assertEqual(refused.state, "refused")
        self.assertIn("An SMTP TLS report (RFC 8460), not a DMARC report", refused.reason)
        self.assertTrue(refused.message_ids.filtered(lambda m: m.message_type == "email"))
        bomb = gzip.compress(b"<feedback>" + b"<x/>" * (2 * 2**20), 9)
        refused = self.deliver(("bomb.xml.gz", bomb, "application/gzip"))
        self.assertIn("refused (a decompression bomb?)", refused.reason)
        broken = report_xml(rows=ROWS)[:-40]
        refused = self.deliver(("broken.xml", broken, "application/octet-stream"))
        self.assertIn("not well-formed XML", refused.reason)
        self.assertFalse(self.env["mail.dmarc.report.record"].search([]), "a refused report stores no row")

    # ------------------------------------------------------------------ failure and TLS reports

    def to_alias(self, data):
        """A receiver's mail as if sent to the reports alias (its To header replaced)."""
        head, sep, body = data.partition(b"\n\n")
        head = b"\n".join(
            b"To: " + self.address.encode() if line.lower().startswith(b"to:") else line
            for line in head.split(b"\n")
        )
        return head + sep + body

    def receive(self, data):
        """Process ``data`` through Odoo's mail gateway; what it added (reports, failure reports)."""
        Failure = self.env["mail.dmarc.failure"]
        reports, failures = self.Report.search([]), Failure.search([])
        self.env["mail.thread"].message_process(False, self.to_alias(data))
        return self.Report.search([]) - reports, Failure.search([]) - failures

    def test_a_failure_report_on_the_alias_is_read_not_taken_for_a_bounce(self):
        data = (SAMPLES / "failure" / "dmarc_ruf_report_linkedin.eml").read_bytes()
        reports, failure = self.receive(data)
        self.assertFalse(reports)
        self.assertEqual(len(failure), 1)
        self.assertEqual(
            (failure.reporter, failure.source_ip, failure.reported_domain, failure.auth_failure),
            ("dmarc-noreply@linkedin.com", "10.10.10.10", "example.com", "dmarc"),
        )
        self.assertEqual(
            failure.authentication_results, "dmarc=fail (p=none; dis=none) header.from=example.com"
        )
        self.assertEqual(failure.reported_from, "Sender <sender@example.com>")
        self.assertEqual(failure.reported_subject, "Subject line, could be UTF8 encoded")
        self.assertEqual(str(failure.arrival_date), "2019-04-30 02:09:00")
        self.assertEqual(failure.source_id, self.source("10.10.10.10"))
        self.assertEqual(failure.source_id.failure_count, 1, "beside the source's aggregate figures")
        self.assertEqual(
            self.env["mail.dmarc.failure"].search(failure.source_id.action_open_failures()["domain"]), failure
        )
        self.assertTrue(failure.message_ids.filtered(lambda m: m.message_type == "email"), "the mail is kept")

    def test_an_arf_with_a_base64_feedback_part_is_read(self):
        data = (SAMPLES / "failure" / "DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, "
                "ip=10.10.10.10).eml").read_bytes()  # fmt: skip
        head, fields_, tail = re.split(
            rb"(?<=Content-Type: message/feedback-report; name=report\n\n)(.*?\n)(?=\n--)", data, flags=re.S
        )
        encoded = head[:-1] + b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(fields_) + tail
        self.assertIn(b"RmVlZGJhY2stVHlwZTogYXV0aC1mYWlsdXJl", encoded)  # Feedback-Type: auth-failure
        reports, failure = self.receive(encoded)
        self.assertFalse(reports, reports.reason)
        self.assertEqual((failure.source_ip, failure.reported_domain), ("10.10.10.10", "domain.de"))
        self.assertEqual(failure.delivery_result, "smg-policy-action")
        self.assertEqual(failure.reported_from, "Interaktive Wettbewerber-Übersicht <sharepoint@domain.de>")
        self.assertEqual(str(failure.arrival_date), "2018-10-01 09:20:27")

    def test_a_report_without_feedback_part_and_a_tls_report_are_kept_with_the_reason(self):
        data = (SAMPLES / "failure" / "exim_plain_text_only_no_arf_part.eml").read_bytes()
        refused, failures = self.receive(data)
        self.assertFalse(failures)
        self.assertEqual(refused.state, "refused")
        self.assertIn("message/feedback-report, RFC 6591", refused.reason)
        self.assertTrue(refused.message_ids.filtered(lambda m: m.message_type == "email"))
        data = (SAMPLES / "smtp_tls" / "google.com_smtp_tls_report.eml").read_bytes()
        refused, failures = self.receive(data)
        self.assertFalse(failures)
        self.assertEqual(refused.state, "refused")
        self.assertIn("SMTP TLS report (RFC 8460)", refused.reason)
        self.assertIn("Google Inc.", refused.reason)
        self.assertIn("cardinalhealth.ca (no-policy-found): 48 successful sessions, 0 failed", refused.reason)
        self.assertTrue(refused.message_ids.filtered(lambda m: m.message_type == "email"))

    def test_a_bounce_to_the_bounce_address_is_still_a_bounce(self):
        bounce = EmailMessage()
        bounce["From"] = "MAILER-DAEMON@receiver.test"
        bounce["To"] = self.alias_domain.bounce_email
        bounce["Subject"] = "Undelivered Mail Returned to Sender"
        bounce["Message-Id"] = make_msgid(domain="receiver.test")
        bounce.set_content("The mail could not be delivered.")
        bounce.make_mixed()
        bounce.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"')
        before = (self.Report.search_count([]), self.env["mail.dmarc.failure"].search_count([]))
        self.env["mail.thread"].message_process(False, bounce.as_bytes())
        self.assertEqual(
            (self.Report.search_count([]), self.env["mail.dmarc.failure"].search_count([])), before
        )

    def test_reports_older_than_the_retention_are_removed(self):
        now = int(time.time())
        old = self.deliver(("old.xml", report_xml("old", rows=ROWS, begin=now - 200 * 86400), "text/xml"))
        new = self.deliver(("new.xml", report_xml("new", rows=ROWS, begin=now - 10 * 86400), "text/xml"))
        late = self.deliver(("late.xml", report_xml("late", rows=ROWS, begin=now - 900 * 86400), "text/xml"))
        # the old report arrived 200 days ago; the late one, about a period long past, arrived today
        self.env.cr.execute(
            "UPDATE mail_dmarc_report SET create_date = now() - interval '200 days' WHERE id = %s", [old.id]
        )
        counted = self.source(UNKNOWN_IP).message_count
        self.assertTrue(counted)
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.dmarc_retention_days", "0")
        self.Report._cron_dmarc_purge()
        self.assertTrue(old.exists(), "0 keeps everything")
        self.env["ir.config_parameter"].sudo().set_param("mail_domain_health.dmarc_retention_days", "180")
        self.Report._cron_dmarc_purge()
        self.assertFalse(old.exists())
        self.assertTrue(new.exists())
        self.assertTrue(late.exists(), "kept from its arrival, not from the period it reports on")
        rows = self.env["mail.dmarc.report.record"].search([])
        self.assertEqual(rows.report_id, new | late, "the old report's rows went with it")
        self.assertEqual(self.source(UNKNOWN_IP).message_count, counted, "sources keep what they counted")

    def test_upload(self):
        wizard = self.env["mail.dmarc.report.upload"].create(
            {"file": base64.b64encode(report_xml(rows=ROWS[:1])), "file_name": "upload.xml"}
        )
        action = wizard.action_upload()
        report = self.Report.browse(action["res_id"])
        self.assertEqual((report.state, report.message_count), ("done", 5))
        self.assertEqual(report.message_ids.attachment_ids.mapped("name"), ["upload.xml"])
        wizard = self.env["mail.dmarc.report.upload"].create(
            {"file": base64.b64encode(b"\x89PNG\r\n"), "file_name": "logo.png"}
        )
        refused = self.Report.browse(wizard.action_upload()["res_id"])
        self.assertEqual(refused.state, "refused")
        self.assertIn("neither XML nor a gzip, zip or e-mail container", refused.reason)

    def test_the_public_samples_through_the_gateway(self):
        """Every sample mailed as an attachment (XML as text/xml, the way most receivers send it);
        receivers' own mails (.eml) processed whole: the same reports, each counted once."""
        if not (SAMPLES / "expected.json").is_file():  # missing data is an error, not a skip
            self.fail(
                f"The DMARC sample corpus is missing: expected at {SAMPLES} (shared/dmarc-samples beside "
                "the repository, or the folder DMARC_SAMPLES names), with its expected.json."
            )
        expected = json.loads((SAMPLES / "expected.json").read_text())["files"]
        counts = {}
        for rel, entry in expected.items():
            path = SAMPLES / rel
            if path.suffix == ".eml":
                self.env["mail.thread"].message_process("mail.dmarc.report", path.read_bytes())
                continue
            mimetype = {".xml": "text/xml", ".gz": "application/gzip", ".zip": "application/zip"}.get(
                path.suffix, "application/octet-stream"
            )
            self.deliver((path.name, path.read_bytes(), mimetype))
            if entry["kind"] == "aggregate" and entry.get("xml_ok"):
                counts[(entry["org_name"] or entry["email"].rpartition("@")[2], entry["report_id"])] = entry[
                    "message_count"
                ]
        done = self.Report.search([("state", "=", "done")])
        stored = {(r.org_name, r.external_id): r.message_count for r in done}
        for key, count in counts.items():
            self.assertEqual(stored.get(key), count, key)
        # nice-input.xml, .xml.gz and .zip are one report; acme.xml and old_draft_from_wiki.xml too
        self.assertEqual(len(done), len({(o.casefold(), i) for o, i in stored}))
        self.assertEqual(
            self.Report.search(
                [("external_id", "=", "11038226378739404135"), ("org_name", "=", "google.com")]
            ).duplicate_count,
            2,
        )
        refused = self.Report.search([("state", "=", "refused")])
        self.assertTrue(all(refused.mapped("reason")))
        # the Google and Mimecast mails, read whole (zip; gzip with bytes after its end)
        self.assertIn(("google.com", "949348866075514174"), stored)
        self.assertIn("Mimecast", done.mapped("org_name"))
        self.assertGreater(len(counts), 10)

    # ------------------------------------------------------------------ sources and alerts

    def test_sources_are_classified_and_alerts_are_raised_once(self):
        self.deliver(("report.xml", report_xml(rows=ROWS), "application/xml"))
        self.Source._cron_dmarc_sources()
        kinds = {ip: self.source(ip).kind for ip in (OWN_IP, PROVIDER_IP, KNOWN_IP, UNKNOWN_IP)}
        self.assertEqual(
            kinds, {OWN_IP: "own", PROVIDER_IP: "provider", KNOWN_IP: "known", UNKNOWN_IP: "unknown"}
        )
        known, unknown = self.source(KNOWN_IP), self.source(UNKNOWN_IP)
        self.assertEqual(
            (known.reverse_name, known.reverse_confirmed, known.group),
            ("shop.partner.test", True, "partner.test"),
        )
        self.assertEqual((unknown.reverse_name, unknown.reverse_confirmed), ("mail.brand.test", False))
        self.assertEqual(unknown.kind_reason, "not authorized by the SPF record of brand.test")
        alerts = self.alerts(unknown)
        self.assertTrue(alerts)
        self.assertIn(self.admin, alerts.user_id)
        self.assertIn(UNKNOWN_IP, alerts[0].summary)
        self.assertFalse(self.alerts(self.source(PROVIDER_IP)))
        self.assertEqual(
            self.env["mail.dmarc.report.record"].search([("source_ip", "=", UNKNOWN_IP)]).source_kind,
            "unknown",
        )

        # the next day: the unknown source fails again (no new alert), the provider starts failing
        rows = (
            (UNKNOWN_IP, 40, "fail", "fail"),
            (PROVIDER_IP, 50, "fail", "fail"),
            (PROVIDER_IP, 5, "pass", "pass"),
        )
        self.deliver(
            ("day2.xml", report_xml(report_id="r-2", rows=rows, begin=1700092800), "application/xml")
        )
        self.Source._cron_dmarc_sources()
        self.assertEqual(len(self.alerts(unknown)), len(alerts))
        provider_alerts = self.alerts(self.source(PROVIDER_IP))
        self.assertTrue(provider_alerts)
        self.assertIn("Authorized source fails DMARC", provider_alerts[0].summary)
        # and the day after, still failing: said once
        rows = ((PROVIDER_IP, 60, "fail", "fail"),)
        self.deliver(
            ("day3.xml", report_xml(report_id="r-3", rows=rows, begin=1700179200), "application/xml")
        )
        self.Source._cron_dmarc_sources()
        self.assertEqual(len(self.alerts(self.source(PROVIDER_IP))), len(provider_alerts))

    def test_sources_still_sending_are_classified_again_after_a_week(self):
        self.deliver(("report.xml", report_xml(rows=ROWS), "application/xml"))
        self.Source._cron_dmarc_sources()
        unknown, provider = self.source(UNKNOWN_IP), self.source(PROVIDER_IP)
        self.assertEqual(unknown.kind, "unknown")
        # the administrator lists the address among the sending IPs
        self.env["ir.config_parameter"].sudo().set_param(
            "mail_domain_health.sending_ips", f"{OWN_IP},{UNKNOWN_IP}"
        )
        self.Source._cron_dmarc_sources()
        self.assertEqual(unknown.kind, "unknown", "classified less than a week ago")
        week_ago = fields.Datetime.now() - timedelta(days=8)
        (unknown | provider).write({"classified": week_ago})
        provider.last_seen = fields.Date.today() - timedelta(days=60)  # no longer sending: left alone
        unknown.last_seen = fields.Date.today()
        self.Source._cron_dmarc_sources()
        self.assertEqual((unknown.kind, unknown.kind_reason), ("own", "one of this database's sending IPs"))
        self.assertEqual(provider.classified, week_ago)

    # ------------------------------------------------------------------ setup

    def test_setup_proposes_the_rua_and_the_authorization(self):
        old = report_xml(report_id="old", rows=ROWS)
        recent = report_xml(report_id="recent", rows=ROWS[2:], begin=int(time.time()) - 2 * 86400)
        self.deliver(("old.xml", old, "application/xml"), ("recent.xml", recent, "application/xml"))
        setup = self.env["mail.dmarc.setup"].create({})
        self.assertEqual(setup.address, self.address)
        line = setup.line_ids.filtered(lambda x: x.domain == "brand.test")
        self.assertEqual((line.message_count, line.refused_count), (50, 30), "the last 30 days only")
        self.assertEqual(line.reject_share, 60.0)
        setup.action_propose()
        self.assertIn("rua=mailto:postmaster@brand.test,mailto:dmarc-reports@mydb.test", line.records)
        self.assertIn("<td>mydb.test</td><td><code>brand.test._report._dmarc</code></td>", line.records)
        self.assertIn("<td>brand.test</td><td><code>_dmarc</code></td>", line.records)
        self.assertIn("_dmarc.brand.test. IN TXT", line.fix, "the zone-file lines to copy")

    def test_setup_claims_nothing_for_a_domain_dns_did_not_answer_for(self):
        setup = self.env["mail.dmarc.setup"].create({"line_ids": [(0, 0, {"domain": "unserved.test"})]})
        setup.action_propose()
        line = setup.line_ids.filtered(lambda x: x.domain == "unserved.test")
        self.assertIn("DNS did not answer", line.note)
        self.assertFalse(line.records, "no DMARC record was read: nothing can be said about it")

    # ------------------------------------------------------------------ access

    def test_internal_and_portal_users_are_refused(self):
        report = self.deliver(("report.xml", report_xml(rows=ROWS), "application/xml"))
        internal = new_test_user(self.env, "dmarc_internal", groups="base.group_user")
        portal = new_test_user(self.env, "dmarc_portal", groups="base.group_portal")
        for user in (internal, portal):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                for model in (
                    "mail.dmarc.report",
                    "mail.dmarc.report.record",
                    "mail.dmarc.source",
                    "mail.dmarc.setup",
                    "mail.dmarc.report.upload",
                    "mail.dmarc.failure",
                ):
                    with self.assertRaises(AccessError, msg=model):
                        env[model].search([])
                with self.assertRaises(AccessError):
                    report.with_user(user).read(["domain"])
                with self.assertRaises(AccessError):
                    env["mail.dmarc.report.upload"].create({"file": base64.b64encode(report_xml())})
        self.assertEqual(report.with_user(self.admin).message_count, 155)
