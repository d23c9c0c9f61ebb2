"""``mail.domain.health``: the daily check of every watched domain, and the history retention."""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import split_every

from .. import seams

_logger = logging.getLogger(__name__)

RECHECK_AFTER = timedelta(hours=1)
BATCH_SIZE = 200
DEFAULT_RETENTION_DAYS = 90


def _cron_time_budget():
    limit = tools.config.get("limit_time_real_cron") or 0
    if limit < 0:
        limit = tools.config.get("limit_time_real") or 0
    return limit / 2 if limit > 0 else None


class MailDomainHealth(models.Model):
    _inherit = "mail.domain.health"

    @api.model
    def _cron_check_domains(self, batch_size=BATCH_SIZE, time_budget=None):
        """Re-check every watched domain not checked within the hour, in committed batches.

        Stops after ``time_budget`` seconds (default: half the cron time limit), tells the
        scheduler how many domains remain and triggers itself, so it runs again at once to finish.
        """
        started = time.monotonic()
        if time_budget is None:
            time_budget = _cron_time_budget()
        watched = self._health_sync_domains()
        due = watched.filtered(
            lambda r: not r.last_check or r.last_check < fields.Datetime.now() - RECHECK_AFTER
        ).sorted(lambda r: (bool(r.last_check), r.last_check or fields.Datetime.now(), r.id))
        try:
            settings = self._health_settings()
        except ValueError as exc:
            _logger.warning("Domain health: %s", exc)
            settings = exc
        total, done = len(due), 0
        _logger.info("Domain health: checking %d domains", total)
        batches = list(split_every(batch_size, due.ids, self.browse)) or [self.browse()]  # none: the policies
        for batch in batches:
            # the correspondents' DMARC policies, once per daily run: in the last batch's run
            policies = batch._health_check(settings, self._cron_dmarc_domains if batch is batches[-1] else ())
            if not batch:
                continue
            done += len(batch)
            _logger.info("Domain health: %d/%d domains checked", done, total)
            seams.cron_progress(self.env, len(batch), done, total - done)
            if time_budget and done < total and time.monotonic() - started > time_budget:
                _logger.info("Domain health: time budget spent, %d domains left", total - done)
                self.env.ref("mail_domain_health.ir_cron_mail_domain_health")._trigger()
                return
        self._cron_dmarc_store(policies)
        self._health_gc()

    @api.model
    def _cron_dmarc_domains(self):
        """The correspondents' domains whose DMARC policies DMARC-aware relaying reads on the send path
        (``_dmarc_refresh_domains``); none when listing them fails: logged, the check goes on."""
        try:
            with self.env.cr.savepoint():
                return self.env["mail.dmarc.policy"]._dmarc_refresh_domains()
        except Exception:
            _logger.warning(
                "Domain health: the DMARC policies of correspondents were not looked up", exc_info=True
            )
            return []

    @api.model
    def _cron_dmarc_store(self, policies):
        """Keep the correspondents' policies looked up; a failure is logged and the check goes on."""
        try:
            with self.env.cr.savepoint():
                self.env["mail.dmarc.policy"]._dmarc_store(policies)
        except Exception:
            _logger.warning(
                "Domain health: the DMARC policies of correspondents were not stored", exc_info=True
            )

    @api.model
    def _health_gc(self):
        """Forget runs last seen longer ago than the retention; a domain's last run is always kept."""
        days = int(self._health_param("retention_days", str(DEFAULT_RETENTION_DAYS)))
        if days <= 0:
            return
        cutoff = fields.Datetime.now() - timedelta(days=days)
        keep = self.with_context(active_test=False).search([]).last_run_id
        old = (
            self.env["mail.domain.health.run"]
            .sudo()
            .search([("last_seen", "<", cutoff), ("id", "not in", keep.ids)])
        )
        if old:
            _logger.info("Domain health: removing %d runs older than %d days", len(old), days)
            old.unlink()
