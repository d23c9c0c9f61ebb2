"""A source of mail sent as the database's domains, as DMARC reports show it: its volume and pass rate,
who it is (reverse DNS, SPF), and the alerts it raised."""

import logging
import time
from datetime import timedelta

from markupsafe import Markup
from odoo import _, api, fields, models
from odoo.tools import split_every

from .. import seams
from ..deliverability import lookups
from ..deliverability.dmarc_sources import Alert, AlertState, Kind, identify_sources, next_alert
from .mail_domain_health_cron import _cron_time_budget

_logger = logging.getLogger(__name__)

KINDS = [
    ("own", "This database's servers"),
    ("provider", "Sending provider"),
    ("known", "Other known sender"),
    ("unknown", "Unknown"),
]
BATCH_SIZE = 200
RECLASSIFY_AFTER = timedelta(days=7)


@seams.unique("ip_uniq", "UNIQUE(ip)", "This source is already known.")
class MailDmarcSource(models.Model):
    _name = "mail.dmarc.source"
    _inherit = ["mail.thread", "mail.domain.health.alert.mixin"]
    _description = "DMARC Report Source"
    _order = "message_count desc, id"

    ip = fields.Char(string="IP Address", required=True, readonly=True)
    name = fields.Char(compute="_compute_name", store=True)
    reverse_name = fields.Char(string="Reverse DNS", readonly=True)
    reverse_confirmed = fields.Boolean(
        readonly=True, help="The reverse DNS name's own addresses include this IP (forward-confirmed)."
    )
    group = fields.Char(
        string="Sender", readonly=True, index=True, help="The organization of its confirmed reverse DNS name."
    )
    kind = fields.Selection(KINDS, string="Class", readonly=True, index=True)
    kind_reason = fields.Char(string="Why", readonly=True)
    classified = fields.Datetime(readonly=True, help="When DNS last told who this source is.")
    message_count = fields.Integer(string="Reported Messages", readonly=True)
    refused_count = fields.Integer(
        string="Failing DMARC", readonly=True, help="Messages a p=reject policy would have refused."
    )
    pass_rate = fields.Float(string="Pass Rate (%)", readonly=True, aggregator="avg")
    first_seen = fields.Date(readonly=True)
    last_seen = fields.Date(readonly=True)
    record_ids = fields.One2many("mail.dmarc.report.record", "source_id", string="Report Rows")
    failure_ids = fields.One2many("mail.dmarc.failure", "source_id", string="Failure Reports")
    failure_count = fields.Integer(string="Failure Report Count", compute="_compute_failure_count")
    alert_state = fields.Json(readonly=True, copy=False, help="What the alerts already said of this source.")
    alerted_record_id = fields.Integer(
        readonly=True, copy=False, help="The last report row the alerts looked at."
    )

    @api.depends("failure_ids")
    def _compute_failure_count(self):
        for source in self:
            source.failure_count = len(source.failure_ids)

    def action_open_failures(self):
        """The failure reports about mail from this source."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_domain_health.action_mail_dmarc_failure")
        action["domain"] = [("source_id", "=", self.id)]
        return action

    @api.depends("ip", "reverse_name")
    def _compute_name(self):
        for source in self:
            source.name = f"{source.reverse_name} ({source.ip})" if source.reverse_name else source.ip

    # ------------------------------------------------------------------
    # Counts, kept as reports arrive
    # ------------------------------------------------------------------

    @api.model
    def _dmarc_ensure(self, ips):
        """``{ip: (id, kind, group)}`` of the sources of ``ips``, created when new (one statement per batch
        of a report)."""
        ips = sorted(ips)
        cr = self.env.cr
        cr.execute(
            """INSERT INTO mail_dmarc_source (ip, name, message_count, refused_count, pass_rate,
                                              create_uid, write_uid, create_date, write_date)
               SELECT ip, ip, 0, 0, 0, %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
                 FROM unnest(%(ips)s::varchar[]) AS ip
               ON CONFLICT (ip) DO NOTHING""",
            {"ips": ips, "uid": self.env.uid},
        )
        cr.execute('SELECT ip, id, kind, "group" FROM mail_dmarc_source WHERE ip = ANY(%s)', [ips])
        return {ip: (source_id, kind, group) for ip, source_id, kind, group in cr.fetchall()}

    @api.model
    def _dmarc_add_counts(self, report):
        """Add the rows of ``report`` to the volume, pass rate and dates of their sources."""
        self.env["mail.dmarc.report.record"].flush_model()
        self.env.cr.execute(
            """UPDATE mail_dmarc_source s
                  SET message_count = s.message_count + t.messages,
                      refused_count = s.refused_count + t.refused,
                      pass_rate = CASE WHEN s.message_count + t.messages > 0
                          THEN 100.0 * (s.message_count + t.messages - s.refused_count - t.refused)
                               / (s.message_count + t.messages) ELSE 0 END,
                      first_seen = LEAST(s.first_seen, t.first_day),
                      last_seen = GREATEST(s.last_seen, t.last_day)
                 FROM (SELECT source_id, SUM(count) AS messages, SUM(refused_count) AS refused,
                              MIN(date) AS first_day, MAX(date) AS last_day
                         FROM mail_dmarc_report_record WHERE report_id = %s GROUP BY source_id) t
                WHERE s.id = t.source_id""",
            [report.id],
        )
        self.invalidate_model(["message_count", "refused_count", "pass_rate", "first_seen", "last_seen"])

    # ------------------------------------------------------------------
    # Classification and alerts (cron)
    # ------------------------------------------------------------------

    @api.model
    def _dmarc_dns_settings(self):
        """``(run_options, sending_ips, provider_include)`` of the domain health settings.

        Raises ``ValueError`` when they are unusable.
        """
        settings = self.env["mail.domain.health"]._health_settings()
        sending_ips = lookups.sending_ips(settings.options, settings.run_options)
        return settings.run_options, sending_ips, settings.options.provider.spf_include

    @api.model
    def _cron_dmarc_sources(self, time_budget=None):
        """Tell who the new sources are (largest first), then raise the alerts the new rows call for.

        Sources still sending are classified again after a week: an SPF record may now list them.
        """
        started = time.monotonic()
        if time_budget is None:
            time_budget = _cron_time_budget()
        try:
            settings = self._dmarc_dns_settings()
        except ValueError as exc:
            _logger.warning("DMARC sources: not classified: %s", exc)
            return
        auto_commit = not seams.testing(self.env)
        now = fields.Datetime.now()
        stale = [
            "&",
            ("classified", "<", now - RECLASSIFY_AFTER),
            ("last_seen", ">=", now.date() - RECLASSIFY_AFTER),
        ]
        pending = self.search(["|", ("classified", "=", False), *stale])
        for batch in split_every(BATCH_SIZE, pending.ids, self.browse):
            batch._dmarc_classify(*settings)
            if auto_commit:
                self.env.cr.commit()
            if time_budget and time.monotonic() - started > time_budget:
                _logger.info("DMARC sources: time budget spent, classification continues next run")
                self.env.ref("mail_domain_health.ir_cron_mail_dmarc_sources")._trigger()
                return
        self.search([("classified", "!=", False)])._dmarc_alert()

    def _dmarc_classify(self, run_options, sending_ips, provider_include):
        if not self:
            return
        self.env["mail.dmarc.report.record"].flush_model()
        self.env.cr.execute(
            """SELECT source_id, array_agg(DISTINCT domain) FROM mail_dmarc_report_record
                WHERE source_id = ANY(%s) GROUP BY source_id""",
            [self.ids],
        )
        domains = dict(self.env.cr.fetchall())
        facts = identify_sources(
            {source.ip: domains.get(source.id) or [] for source in self},
            run_options,
            sending_ips,
            provider_include,
        )
        now = fields.Datetime.now()
        for source in self:
            found = facts[source.ip]
            source.write(
                {
                    "kind": found.kind.value,
                    "kind_reason": found.reason,
                    "reverse_name": found.reverse_name or False,
                    "reverse_confirmed": found.reverse_confirmed,
                    "group": found.group or False,
                    "classified": now if found.settled else False,
                }
            )

    def _dmarc_alert(self):
        """Compare each source's new rows with what was already said; alert once, note recoveries."""
        if not self:
            return
        self.env["mail.dmarc.report.record"].flush_model()
        self.env.cr.execute(
            """SELECT r.source_id, MAX(r.id),
                      SUM(CASE WHEN r.aligned THEN r.count ELSE 0 END),
                      SUM(CASE WHEN r.aligned THEN 0 ELSE r.count END)
                 FROM mail_dmarc_report_record r JOIN mail_dmarc_source s ON s.id = r.source_id
                WHERE r.source_id = ANY(%s) AND r.id > COALESCE(s.alerted_record_id, 0)
                GROUP BY r.source_id""",
            [self.ids],
        )
        seen = self.env.cr.fetchall()
        for source_id, _last_row, aligned, unaligned in seen:
            source = self.browse(source_id)
            before = AlertState(**(source.alert_state or {}))
            total = (source.message_count - source.refused_count, source.refused_count)
            state, alert = next_alert(Kind(source.kind), before, total, (aligned, unaligned))
            if state != before:
                source.alert_state = {"alerted_new": state.alerted_new, "failing": state.failing}
            if alert is Alert.RECOVERED:
                body = _("%(name)s passes DMARC again.", name=source.name)
                source.message_post(body=body, subtype_xmlid="mail.mt_note")
            elif alert:
                source._dmarc_notify(alert, (aligned, unaligned))
        self.flush_model()
        self.env.cr.execute(
            """UPDATE mail_dmarc_source s SET alerted_record_id = t.last_row
                 FROM unnest(%s::int[], %s::int[]) AS t(source_id, last_row) WHERE s.id = t.source_id""",
            [[row[0] for row in seen], [row[1] for row in seen]],
        )
        self.invalidate_model(["alerted_record_id"])

    def _dmarc_notify(self, alert, new):
        self.ensure_one()
        groups = self.env["mail.dmarc.report.record"]._read_group([("source_id", "=", self.id)], ["domain"])
        domains = ", ".join(sorted(domain for (domain,) in groups if domain))
        if alert is Alert.NEW_FAILING:
            summary = _("New source fails DMARC: %s", self.name)
            text = _(
                "%(name)s sent %(count)s messages as %(domains)s that fail DMARC: %(why)s.",
                name=self.name,
                count=self.refused_count,
                domains=domains,
                why=self.kind_reason,
            )
        else:
            summary = _("Authorized source fails DMARC: %s", self.name)
            text = _(
                "%(name)s (%(why)s) passed DMARC before; in the latest reports %(failed)s of its "
                "%(total)s messages as %(domains)s fail it.",
                name=self.name,
                why=self.kind_reason,
                failed=new[1],
                total=sum(new),
                domains=domains,
            )
        note = Markup("<p>%s</p>") % text
        self._health_alert(summary, note)
