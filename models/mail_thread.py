"""``mail.thread``: bounces and mail to the catchall are recognized by the identity's addresses (every
company's, see ``res.company``) besides the alias domains' records, so that an alias domain deleted or
never created does not turn a bounce into a new message; and mail to the DMARC reports alias is a report,
never a bounce (Odoo takes every ``multipart/report`` for a delivery status notification, and failure
reports are ``multipart/report`` too)."""

from odoo import api, models
from odoo.tools import email_normalize, email_split

REPORT_MODEL = "mail.dmarc.report"


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _mdh_identity_addresses(self, field):
        companies = self.env["res.company"].sudo().with_context(active_test=False).search([])
        return {address for address in companies.mapped(field) if address}

    @api.model
    def _detect_is_bounce(self, message, message_dict):
        """Odoo's detection, or a recipient that is a bounce address of the identity; a mail to the
        reports alias that is not sent to a bounce address is not a bounce."""
        is_bounce = super()._detect_is_bounce(message, message_dict)
        recipients = {
            email_normalize(e) or e.lower()
            for e in email_split(
                ",".join(filter(None, (message_dict.get("to"), message_dict.get("recipients"))))
            )
        }
        bounces = self._mdh_identity_addresses("bounce_email")
        bounces |= set(self.env["mail.alias.domain"].sudo().search([]).mapped("bounce_email"))
        if recipients & bounces:
            return True
        if is_bounce:
            aliases = self._mdh_report_aliases()
            if any(e in aliases or e.partition("@")[0] in aliases for e in recipients):
                return False
        return is_bounce

    @api.model
    def _mdh_report_aliases(self):
        """The reports aliases' addresses (a bare name for an alias without a domain)."""
        aliases = self.env["mail.alias"].sudo().search([("alias_model_id.model", "=", REPORT_MODEL)])
        return {name.lower() for name in aliases.mapped("alias_full_name") if name}

    @api.model
    def _detect_write_to_catchall(self, msg_dict):
        """Odoo's detection, with the catchall addresses of the identity among the catchall aliases."""
        aliases = self.env.context.get("mail_catchall_aliases")
        if aliases is None:
            aliases = self.env["mail.alias.domain"].search([]).mapped("catchall_email")
        ours = sorted(self._mdh_identity_addresses("catchall_email") - set(aliases))
        if ours:
            self = self.with_context(mail_catchall_aliases=[*aliases, *ours])
        return super()._detect_write_to_catchall(msg_dict)

    def _message_route_process(self, message, message_dict, routes):
        """Hand the received message itself to the reports model (failure reports are read from its parts)."""
        if any(route[0] == REPORT_MODEL for route in routes or ()):
            self = self.with_context(mdh_report_message=message)
        return super()._message_route_process(message, message_dict, routes)
