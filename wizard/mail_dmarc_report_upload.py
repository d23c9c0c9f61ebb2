"""Upload DMARC aggregate reports by hand (.xml, .xml.gz, .zip, or a saved .eml)."""

import base64

from odoo import _, fields, models
from odoo.exceptions import UserError


class MailDmarcReportUpload(models.TransientModel):
    _name = "mail.dmarc.report.upload"
    _description = "Upload DMARC Reports"

    file = fields.Binary(required=True)
    file_name = fields.Char()

    def action_upload(self):
        """Read the file like a mailed report; a file that is no report is kept, refused, with the reason."""
        self.ensure_one()
        if not self.file:
            raise UserError(_("Choose a report file to upload."))
        data = base64.b64decode(self.file)
        name = self.file_name or _("uploaded file")
        Report = self.env["mail.dmarc.report"]
        reports, reasons = Report._dmarc_receive([(name, data)])
        if not reports:
            reports = Report.create(
                {"name": name, "file_name": name, "state": "refused", "reason": "\n".join(reasons)}
            )
        reports[0].message_post(
            body=_("Uploaded by %s.", self.env.user.name),
            attachments=[(name, data)],
            subtype_xmlid="mail.mt_note",
        )
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_domain_health.action_mail_dmarc_report")
        if len(reports) == 1:
            action.update({"res_id": reports.id, "view_mode": "form", "views": [(False, "form")]})
        else:
            action["domain"] = [("id", "in", reports.ids)]
        return action
