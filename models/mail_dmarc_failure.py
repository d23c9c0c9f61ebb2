"""A DMARC failure report (RFC 6591 ARF, RFC 9991): one message a receiver saw fail DMARC, with the
details the reporter chose to give (the reported From and Subject as it redacted them)."""

from datetime import timezone

from odoo import api, fields, models


class MailDmarcFailure(models.Model):
    _name = "mail.dmarc.failure"
    _inherit = ["mail.thread"]
    _description = "DMARC Failure Report"
    _order = "arrival_date desc, id desc"

    name = fields.Char(required=True, readonly=True)
    reporter = fields.Char(readonly=True, index=True, help="The address the report came from.")
    reported_domain = fields.Char(string="Domain", readonly=True, index=True)
    source_ip = fields.Char(string="Source IP", readonly=True, index=True)
    source_id = fields.Many2one("mail.dmarc.source", string="Source", readonly=True, index=True)
    authentication_results = fields.Char(readonly=True, help="How the receiver judged the message.")
    auth_failure = fields.Char(string="Failed", readonly=True, help="What failed: dmarc, spf, dkim...")
    delivery_result = fields.Char(readonly=True, help="What the receiver did with the message.")
    feedback_type = fields.Char(readonly=True)
    original_mail_from = fields.Char(string="Envelope From", readonly=True)
    original_rcpt_to = fields.Char(string="Recipient", readonly=True)
    reported_from = fields.Char(
        string="From", readonly=True, help="As the reporter gives it (possibly redacted)."
    )
    reported_subject = fields.Char(
        string="Subject", readonly=True, help="As the reporter gives it (possibly redacted)."
    )
    reported_message_id = fields.Char(string="Message-ID", readonly=True)
    arrival_date = fields.Datetime(readonly=True, index=True, help="When the receiver got the message.")

    @api.model
    def _dmarc_values(self, report, received):
        """The values of a failure report (the engine's ``FailureReport``) received at ``received``."""
        arrival = report.arrival_date
        arrival = arrival.astimezone(timezone.utc).replace(tzinfo=None) if arrival else received
        source = self.env["mail.dmarc.source"]._dmarc_ensure({report.source_ip}) if report.source_ip else {}
        return {
            "name": f"{report.reported_domain or '?'}: {report.source_ip or '?'} {arrival.date()}",
            "reporter": report.reporter or False,
            "reported_domain": report.reported_domain or False,
            "source_ip": report.source_ip or False,
            "source_id": source[report.source_ip][0] if source else False,
            "authentication_results": report.authentication_results or False,
            "auth_failure": report.auth_failure or False,
            "delivery_result": report.delivery_result or False,
            "feedback_type": report.feedback_type or False,
            "original_mail_from": report.original_mail_from or False,
            "original_rcpt_to": report.original_rcpt_to or False,
            "reported_from": report.reported_from or False,
            "reported_subject": report.reported_subject or False,
            "reported_message_id": report.reported_message_id or False,
            "arrival_date": arrival,
        }
