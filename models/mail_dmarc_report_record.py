"""One row of a DMARC aggregate report: messages from one source IP and how the receiver judged them."""

from odoo import api, fields, models
from odoo.tools import SQL


class MailDmarcReportRecord(models.Model):
    _name = "mail.dmarc.report.record"
    _description = "DMARC Report Row"
    _order = "date desc, id"
    _rec_name = "source_ip"

    report_id = fields.Many2one("mail.dmarc.report", required=True, ondelete="cascade", index=True)
    domain = fields.Char(readonly=True, index=True, help="The domain the report is about.")
    date = fields.Date(readonly=True, index=True, help="The day the report period starts (UTC).")
    reporter = fields.Char(readonly=True)
    source_id = fields.Many2one("mail.dmarc.source", string="Source", readonly=True, index=True)
    source_ip = fields.Char(string="Source IP", readonly=True)
    source_kind = fields.Selection(related="source_id.kind", store=True, string="Source Class")
    source_group = fields.Char(related="source_id.group", store=True, string="Sender")
    count = fields.Integer(string="Messages", readonly=True)
    aligned = fields.Boolean(string="Passes DMARC", readonly=True, help="Aligned SPF or DKIM pass.")
    refused_count = fields.Integer(
        string="Refused at p=reject",
        readonly=True,
        help="Messages that fail DMARC: a p=reject policy would have them refused.",
    )
    disposition = fields.Char(readonly=True, help="What the receiver did: none, quarantine or reject.")
    dkim = fields.Char(string="DKIM (aligned)", readonly=True)
    spf = fields.Char(string="SPF (aligned)", readonly=True)
    dkim_results = fields.Char(string="DKIM Results", readonly=True)
    spf_results = fields.Char(string="SPF Results", readonly=True)
    reasons = fields.Char(string="Receiver's Override", readonly=True)
    header_from = fields.Char(string="From Domain", readonly=True)
    envelope_from = fields.Char(readonly=True)

    @api.model
    def _dmarc_insert(self, report, rows):
        """Store the engine ``Row`` objects ``rows`` of ``report`` in one statement.

        Reports hold up to hundreds of thousands of rows: they go in as one INSERT per batch
        rather than through ``create`` (whose per-record defaults and recomputations cost
        ten times more), with the class and sender their source has today.
        """
        sources = self.env["mail.dmarc.source"]._dmarc_ensure({row.source_ip for row in rows})
        values = [self._dmarc_values(report, row, sources) for row in rows]
        columns = list(values[0])
        arrays = {column: [v[column] for v in values] for column in columns}
        types = {name: self._fields[name].column_type[1] for name in columns}
        self.env.cr.execute(
            SQL(
                "INSERT INTO mail_dmarc_report_record (%s, create_uid, write_uid, create_date, write_date) "
                "SELECT *, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC' FROM unnest(%s)",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                self.env.uid,
                self.env.uid,
                SQL(", ").join(SQL("%s::" + types[c] + "[]", arrays[c]) for c in columns),
            )
        )
        return values

    @api.model
    def _dmarc_values(self, report, row, sources):
        """Column values of the record of ``row`` (an engine ``Row``) in ``report``;
        ``sources`` maps an IP to its source's ``(id, kind, group)``."""
        aligned = row.aligned
        source_id, kind, group = sources[row.source_ip]
        return {
            "report_id": report.id,
            "domain": report.domain,
            "date": report.date_begin.date(),
            "reporter": report.org_name,
            "source_id": source_id,
            "source_kind": kind,
            "source_group": group,
            "source_ip": row.source_ip,
            "count": row.count,
            "aligned": aligned,
            "refused_count": 0 if aligned else row.count,
            "disposition": row.disposition or None,
            "dkim": row.dkim or None,
            "spf": row.spf or None,
            "dkim_results": "; ".join(
                f"{r.domain or '?'}{f' ({r.selector})' if r.selector else ''}: {r.result}"
                for r in row.dkim_results
            )
            or None,
            "spf_results": "; ".join(
                f"{r.domain or '?'}{f' ({r.scope})' if r.scope else ''}: {r.result}" for r in row.spf_results
            )
            or None,
            "reasons": "; ".join(
                ": ".join(part for part in (r.type, r.comment) if part)
                for r in row.reasons
                if r.type or r.comment
            )
            or None,
            "header_from": row.header_from or None,
            "envelope_from": row.envelope_from or None,
        }
