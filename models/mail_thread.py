"""Mail to the DMARC reports alias is a report, never a bounce: Odoo takes every ``multipart/report``
for a delivery status notification, and failure reports are ``multipart/report`` too."""

from odoo import api, models
from odoo.tools import email_normalize, email_split

REPORT_MODEL = "mail.dmarc.report"


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _detect_is_bounce(self, message, message_dict):
        """Odoo's answer, except for a mail to the reports alias that is not sent to a bounce address."""
        is_bounce = super()._detect_is_bounce(message, message_dict)
        if not is_bounce:
            return is_bounce
        recipients = {
            email_normalize(e) or e.lower()
            for e in email_split(
                ",".join(filter(None, (message_dict.get("to"), message_dict.get("recipients"))))
            )
        }
        bounce = set(self.env["mail.alias.domain"].sudo().search([]).mapped("bounce_email"))
        aliases = self._mdh_report_aliases()
        if recipients & bounce or not any(e in aliases or e.partition("@")[0] in aliases for e in recipients):
            return is_bounce
        return False

    @api.model
    def _mdh_report_aliases(self):
        """The reports aliases' addresses (a bare name for an alias without a domain)."""
        aliases = self.env["mail.alias"].sudo().search([("alias_model_id.model", "=", REPORT_MODEL)])
        return {name.lower() for name in aliases.mapped("alias_full_name") if name}

    def _message_route_process(self, message, message_dict, routes):
        """Hand the received message itself to the reports model (failure reports are read from its parts)."""
        if any(route[0] == REPORT_MODEL for route in routes or ()):
            self = self.with_context(mdh_report_message=message)
        return super()._message_route_process(message, message_dict, routes)
