"""The *Domain Health Alert* mechanism, shared by every record that can alert administrators
(a sending domain, a DMARC report source): one activity per administrator, closed when it is over."""

from odoo import api, models

from .. import seams

# The activity type of each model's alerts (Odoo 19 warns about a type bound to another model).
ALERT_TYPES = {
    "mail.domain.health": "mail_domain_health.mail_activity_type_domain_health_alert",
    "mail.dmarc.source": "mail_domain_health.mail_activity_type_dmarc_source_alert",
    "mail.server.usage": "mail_domain_health.mail_activity_type_sending_limit_alert",
}


class MailDomainHealthAlertMixin(models.AbstractModel):
    _name = "mail.domain.health.alert.mixin"
    _inherit = ["mail.activity.mixin"]
    _description = "Domain Health Alerts"

    def _health_alert(self, summary, note):
        """Tell every administrator about this record: one *Domain Health Alert* activity each, with
        ``summary`` (plain text) and ``note`` (HTML). The caller decides when it is news."""
        self.ensure_one()
        for user in self._health_admins():
            self.sudo().activity_schedule(
                act_type_xmlid=ALERT_TYPES[self._name], user_id=user.id, summary=summary, note=note
            )

    def _health_close_alerts(self):
        """Close the open alert activities of these records, of either type (DMARC sources of earlier
        versions have alerts of the domains' type)."""
        types = self.env["mail.activity.type"].union(*(self.env.ref(xmlid) for xmlid in ALERT_TYPES.values()))
        self.sudo().activity_ids.filtered(lambda a: a.activity_type_id in types).unlink()

    @api.model
    def _health_admins(self):
        group = self.env.ref("base.group_system")
        users = self.env["res.users"].sudo()
        return users.search([(seams.USER_GROUPS, "in", group.ids), ("share", "=", False)])
