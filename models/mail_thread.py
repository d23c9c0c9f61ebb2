"""``mail.thread``: bounces and mail to the catchall are recognized by the identity's addresses (every
company's, see ``res.company``) besides the alias domains' records, so that an alias domain deleted
or never created does not turn a bounce into a new message."""

from odoo import api, models
from odoo.tools import email_normalize, email_split


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _mdh_identity_addresses(self, field):
        companies = self.env["res.company"].sudo().with_context(active_test=False).search([])
        return {address for address in companies.mapped(field) if address}

    @api.model
    def _detect_is_bounce(self, message, message_dict):
        """Odoo's detection, or a recipient that is a bounce address of the identity."""
        if super()._detect_is_bounce(message, message_dict):
            return True
        recipients = {email_normalize(e) or e for e in email_split(message_dict.get("to") or "")}
        return bool(recipients & self._mdh_identity_addresses("bounce_email"))

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
