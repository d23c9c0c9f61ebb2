"""``mail.domain.health``: alerts, once per degradation, and recovery notes.

``deliverability.alerts.track`` decides; this file says it: a *Domain Health Alert* activity
for every administrator (``mail.domain.health.alert.mixin``), closed when the domain recovers,
and a note in the domain's chatter on recovery.
"""

from markupsafe import Markup
from odoo import _, models

from ..deliverability import alerts
from ..deliverability.records import parse_fix
from .mail_domain_health import check_key, check_label


class MailDomainHealth(models.Model):
    _inherit = "mail.domain.health"

    def _health_track(self, values):
        """Compare a run's verdicts (``check_values``) with the last known ones; alert, note, close."""
        self.ensure_one()
        current = {check_key(v): v for v in values}
        had_alerts = bool((self.alert_data or {}).get("alerted"))
        tracking = alerts.track(self.alert_data, {key: v["status"] for key, v in current.items()})
        if tracking.state != (self.alert_data or {}):
            self.alert_data = tracking.state
        if tracking.degraded:
            self._health_notify_degraded([(change, current[change.key]) for change in tracking.degraded])
        if tracking.recovered:
            self._health_notify_recovered([(change, current[change.key]) for change in tracking.recovered])
        if had_alerts and not tracking.alerted:
            self._health_close_alerts()

    # --- What the checks say ---

    def _health_state_labels(self):
        return dict(self._fields["state"]._description_selection(self.env))

    def _health_notify_degraded(self, degraded):
        """``degraded``: ``[(alerts.Change, check values)]``."""
        labels = self._health_state_labels()
        checks = ", ".join(check_label(change.key) for change, _v in degraded)
        summary = _("%(domain)s: %(checks)s degraded", domain=self.name, checks=checks)
        items = Markup().join(
            Markup("<li><b>%s</b>: %s → %s. %s%s</li>")
            % (
                check_label(change.key),
                labels[change.old.value],
                labels[change.new.value],
                v["summary"],
                self._health_publish_markup(v["fix"]),
            )
            for change, v in degraded
        )
        note = Markup("<p>%s</p><ul>%s</ul>") % (_("The last check of %s found:", self.name), items)
        self._health_alert(summary, note)

    def _health_publish_markup(self, fix):
        """The record(s) to publish, as a zone line and as Host / Type / Value."""
        if not fix:
            return ""
        host, kind, value = _("Host"), _("Type"), _("Value")  # here: _() finds the language in this frame
        records = Markup().join(
            Markup("<br/>%s <code>%s</code>, %s <code>%s</code>, %s <code>%s</code>")
            % (host, record.host(), kind, record.type, value, record.value)
            for record in parse_fix(fix)
        )
        return Markup(" %s <code>%s</code>%s") % (_("Publish:"), fix, records)

    def _health_notify_recovered(self, recovered):
        labels = self._health_state_labels()
        items = Markup().join(
            Markup("<li><b>%s</b>: %s → %s. %s</li>")
            % (check_label(change.key), labels[change.old.value], labels[change.new.value], v["summary"])
            for change, v in recovered
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (_("%s recovered:", self.name), items)
        self.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
