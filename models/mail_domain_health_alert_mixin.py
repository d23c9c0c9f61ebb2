"""The *Domain Health Alert* mechanism, shared by every record that can alert administrators
(a sending domain, a DMARC report source): one activity per administrator, closed when it is over."""

from odoo import api, models

from .. import seams

ALERT_TYPE = "mail_domain_health.mail_activity_type_domain_health_alert"


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
                act_type_xmlid=ALERT_TYPE, user_id=user.id, summary=summary, note=note
            )

    def _health_close_alerts(self):
        """Close the open *Domain Health Alert* activities of these records."""
        alert_type = self.env.ref(ALERT_TYPE)
        self.sudo().activity_ids.filtered(lambda a: a.activity_type_id == alert_type).unlink()

    @api.model
    def _health_admins(self):
        group = self.env.ref("base.group_system")
        users = self.env["res.users"].sudo()
        return users.search([(seams.USER_GROUPS, "in", group.ids), ("share", "=", False)])
