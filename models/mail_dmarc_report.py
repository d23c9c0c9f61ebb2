"""A DMARC aggregate report, received on the reports alias or uploaded: who reported, on which
domain and period, and its rows; a file that is not a valid report is kept with the reason."""

import logging
from datetime import datetime, timezone
from email.message import Message
from itertools import chain

import psycopg2
from odoo import _, api, fields, models
from odoo.tools import split_every

from ..deliverability import dmarc_reports, failure_reports
from ..deliverability.dmarc_reports import ReportError
from ..deliverability.report_archive import UnpackError

_logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
PURGE_BATCH = 1000
RETENTION_PARAM = "mail_domain_health.dmarc_retention_days"
DEFAULT_RETENTION = 180
LAST_TIMESTAMP = 253402300799  # 9999-12-31: a report dated beyond is a bad report, not a crash
STATES = [("done", "Read"), ("refused", "Refused")]


class MailDmarcReport(models.Model):
    _name = "mail.dmarc.report"
    _inherit = ["mail.thread"]
    _description = "DMARC Aggregate Report"
    _order = "date_begin desc, id desc"

    name = fields.Char(required=True, readonly=True)
    state = fields.Selection(STATES, required=True, default="done", readonly=True, index=True)
    reason = fields.Text(readonly=True, help="Why the file could not be read as a DMARC aggregate report.")
    file_name = fields.Char(string="File", readonly=True)
    packed_as = fields.Char(readonly=True, help="The containers the report came in (e-mail, zip, gzip).")
    org_name = fields.Char(string="Reporter", readonly=True, index=True)
    reporter_email = fields.Char(readonly=True)
    external_id = fields.Char(string="Report ID", readonly=True)
    report_key = fields.Char(readonly=True, copy=False, help="Reporter and report ID: a report counts once.")
    domain = fields.Char(readonly=True, index=True)
    date_begin = fields.Datetime(string="From", readonly=True)
    date_end = fields.Datetime(string="To", readonly=True)
    published_policy = fields.Char(readonly=True, help="The DMARC policy the receiver found for the domain.")
    record_ids = fields.One2many("mail.dmarc.report.record", "report_id", string="Report Rows", readonly=True)
    row_count = fields.Integer(string="Row Count", readonly=True)
    message_count = fields.Integer(string="Reported Messages", readonly=True)
    refused_count = fields.Integer(
        string="Failing DMARC",
        readonly=True,
        help="Messages that failed DMARC: a p=reject policy would have them refused.",
    )
    reject_share = fields.Float(
        string="Refused at p=reject (%)", compute="_compute_reject_share", store=True, aggregator="avg"
    )
    duplicate_count = fields.Integer(
        string="Received Again", readonly=True, help="How many more times this same report was delivered."
    )

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS mail_dmarc_report_key_uniq ON mail_dmarc_report (report_key)"
            " WHERE report_key IS NOT NULL"
        )

    @api.depends("message_count", "refused_count")
    def _compute_reject_share(self):
        for report in self:
            share = dmarc_reports.RejectShare(report.message_count, report.refused_count)
            report.reject_share = share.percent

    # ------------------------------------------------------------------
    # Reception: the alias, and uploads
    # ------------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Read the reports a mail on the alias carries; the mail is posted on the (first) report.

        An aggregate report delivered again is the one already stored; a failure report becomes
        a ``mail.dmarc.failure``. A mail without a readable DMARC report (an SMTP TLS report
        included) becomes a refused report saying why, so no mail is lost. The gateway hands
        the message itself in the context (``mdh_report_message``, see ``mail.thread``).
        """
        message = self.env.context.get("mdh_report_message")
        reason = None
        if message is not None:
            try:
                if failure_reports.is_failure_report(message):
                    failure = failure_reports.read_failure_report(message)
                    return self.env["mail.dmarc.failure"].create(
                        self.env["mail.dmarc.failure"]._dmarc_values(failure, fields.Datetime.now())
                    )
                tls = failure_reports.tls_report_in(message)
            except ReportError as exc:
                reason = str(exc)
            else:
                if tls is not None:
                    reason = self._dmarc_tls_reason(tls)
        if reason is None:
            files = [
                (a.fname, _attachment_bytes(a.content, a.info)) for a in msg_dict.get("attachments") or ()
            ]
            reports, reasons = self._dmarc_receive(files)
            if reports:
                return reports[0]
            reason = "\n".join(reasons) or _("The mail has no attachment: DMARC reports come as attachments.")
        values = {**(custom_values or {}), "state": "refused", "reason": reason}
        return super().message_new(msg_dict, values)

    @api.model
    def _dmarc_receive(self, files):
        """Store the reports in ``files`` (``(name, bytes)``); returns ``(reports, reasons)``:
        the reports read (or found again), and why the other files were refused."""
        reports, reasons = self.browse(), []
        for name, data in files:
            try:
                payloads = dmarc_reports.open_reports(data, name or "attachment")
            except ReportError as exc:
                reasons.append(str(exc))
                continue
            for payload in payloads:
                report, reason = self._dmarc_store(payload)
                reports |= report
                if reason:
                    reasons.append(reason)
        if reports:  # classify the new sources soon
            self.env.ref("mail_domain_health.ir_cron_mail_dmarc_sources")._trigger()
        return reports, reasons

    @api.model
    def _dmarc_store(self, payload):
        """Read one report as a stream and store it with its rows in batches (a savepoint: all or nothing).

        Returns ``(report, reason)``: the report stored or found again, or no report and why.
        """
        reader = dmarc_reports.read_report(payload.stream, payload.name)
        rows = iter(reader)
        try:
            with self.env.cr.savepoint():
                first = next(rows, None)
                header = reader.header
                key = "\x1f".join(header.key)
                existing = self.search([("report_key", "=", key)], limit=1)
                if existing:
                    existing.duplicate_count += 1
                    return existing, None
                report = self.create(_report_values(header, payload, key))
                counts = [0, 0, 0]
                for batch in split_every(BATCH_SIZE, chain([first] if first else [], rows)):
                    report._dmarc_store_rows(batch, counts)
                report.write({"row_count": counts[0], "message_count": counts[1], "refused_count": counts[2]})
                self.env["mail.dmarc.report.record"].invalidate_model()
                self.env["mail.dmarc.source"]._dmarc_add_counts(report)
        except (ReportError, UnpackError) as exc:
            _logger.info("DMARC report %s refused: %s", payload.name, exc)
            return self.browse(), str(exc)
        except psycopg2.IntegrityError:  # the same report stored meanwhile by another worker
            existing = self.search([("report_key", "=", key)], limit=1)
            existing.duplicate_count += 1
            return existing, None
        except Exception:  # noqa: BLE001 - the mail is kept (refused), never bounced
            _logger.exception("DMARC report %s could not be stored", payload.name)
            return self.browse(), _("%s could not be read; the server log has the details.", payload.name)
        return report, None

    def _dmarc_store_rows(self, rows, counts):
        values = self.env["mail.dmarc.report.record"]._dmarc_insert(self, list(rows))
        counts[0] += len(values)
        counts[1] += sum(v["count"] for v in values)
        counts[2] += sum(v["refused_count"] for v in values)

    @api.model
    def _dmarc_tls_reason(self, tls):
        """Why an SMTP TLS report is kept but not counted, with what it says."""
        policies = ", ".join(f"{p.domain} ({p.policy_type})" for p in tls.policies) or "-"
        return _(
            "An SMTP TLS report (RFC 8460), not a DMARC report: kept here, not counted.\n"
            "%(org)s, report %(id)s, %(begin)s to %(end)s, policies %(policies)s: "
            "%(ok)s successful sessions, %(failed)s failed.",
            org=tls.organization or "?",
            id=tls.report_id or "?",
            begin=tls.begin or "?",
            end=tls.end or "?",
            policies=policies,
            ok=tls.successful,
            failed=tls.failed,
        )

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _dmarc_retention_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM, DEFAULT_RETENTION)
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            return DEFAULT_RETENTION

    @api.model
    def _cron_dmarc_purge(self):
        """Remove the reports (aggregate with their rows, failure, refused) that arrived longer ago than
        the retention (a report about an old period uploaded today stays); the sources keep the volumes
        they counted."""
        days = self._dmarc_retention_days()
        if not days:
            return
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=days)
        for model in (self, self.env["mail.dmarc.failure"]):
            while old := model.search([("create_date", "<", limit)], limit=PURGE_BATCH):
                old.unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_records(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_domain_health.action_mail_dmarc_report_record"
        )
        action["domain"] = [("report_id", "=", self.id)]
        action["context"] = {}
        return action


def _report_values(header, payload, key):
    policy = "; ".join(
        f"{tag}={header.policy[tag]}"
        for tag in ("p", "sp", "np", "pct", "adkim", "aspf", "testing")
        if header.policy.get(tag)
    )
    begin, end = _utc(header.begin), _utc(header.end)
    return {
        "name": f"{header.org_name or header.key[0]}: {header.domain} {begin.date()}",
        "file_name": payload.name,
        "packed_as": " > ".join(payload.layers) or False,
        "org_name": header.org_name or header.key[0],
        "reporter_email": header.email or False,
        "external_id": header.report_id,
        "report_key": key,
        "domain": header.domain,
        "date_begin": begin,
        "date_end": end,
        "published_policy": policy or False,
    }


def _utc(timestamp):
    return datetime.fromtimestamp(min(timestamp, LAST_TIMESTAMP), timezone.utc).replace(tzinfo=None)


def _attachment_bytes(content, info):
    """An attachment's bytes: the mail gateway gives text parts decoded, and attached mails parsed."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, Message):
        return content.as_bytes()
    try:
        return str(content).encode((info or {}).get("encoding") or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return str(content).encode("utf-8", "replace")
