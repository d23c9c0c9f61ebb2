"""Health of the domains the database sends from: what is in use, the checks, their history, alerts.

Data flows one way: this model gathers the configuration (alias domains, mail
parameters, outgoing servers, users), hands plain values to ``deliverability``
and stores the typed findings it returns.
"""

import asyncio
import ipaddress
import logging
import re
import time
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup
from odoo import Command, _, api, fields, models, modules, tools
from odoo.exceptions import ValidationError
from odoo.tools import split_every

from ..deliverability import checks, dmarc, providers
from ..deliverability.dns import DnsResolver, DnsStatus, Nameserver, system_nameservers
from ..deliverability.domains import normalize_domain
from ..deliverability.findings import DomainReport, Status

_logger = logging.getLogger(__name__)

STATES = [("pass", "Pass"), ("warning", "Warning"), ("unknown", "Unknown"), ("fail", "Fail")]
SEVERITY = {status.value: status.severity for status in Status}
PARAM = "mail_domain_health.%s"
# System parameters whose value names a sending domain (a domain, or addresses / domains).
MAIL_DOMAIN_KEYS = ("mail.catchall.domain", "mail.default.from", "mail.default.from_filter")
# Mailbox providers: their users' domains are not the database's to fix (see the people problems).
GENERIC_MAILBOX_DOMAINS = frozenset(
    {
        "aol.com", "gmail.com", "googlemail.com", "gmx.com", "gmx.de", "gmx.net", "hotmail.com",
        "hotmail.fr", "icloud.com", "laposte.net", "live.com", "mac.com", "mail.com", "mail.ru",
        "me.com", "msn.com", "orange.fr", "outlook.com", "proton.me", "protonmail.com", "qq.com",
        "web.de", "yahoo.co.uk", "yahoo.com", "yahoo.fr", "yandex.com", "yandex.ru", "ymail.com",
        "zoho.com",
    }
)  # fmt: skip
RECHECK_AFTER = timedelta(hours=1)
BATCH_SIZE = 200
DEFAULT_RETENTION_DAYS = 90


def split_values(text):
    """The items of a comma/space/semicolon separated setting."""
    return [item for item in re.split(r"[\s,;]+", text or "") if item]


def domains_of(value, addresses_only=False):
    """Normalized domains named by a parameter value: domains and/or addresses, comma separated."""
    found = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part or (addresses_only and "@" not in part):
            continue
        try:
            found.append(normalize_domain(part))
        except ValueError:
            continue
    return found


def check_values(report):
    """``mail.domain.health.check`` values for every finding of ``report``."""
    return [
        {
            "check": finding.check.value,
            "selector": getattr(finding, "selector", "") or False,
            "status": finding.status.value,
            "summary": finding.summary,
            "details": "\n".join(finding.details) or False,
            "fix": finding.fix or False,
            "dmarc_policy": getattr(finding, "policy", None) or False,
            "key_bits": getattr(finding, "key_bits", None) or 0,
        }
        for finding in report.checks
    ]


def check_key(values):
    return f"{values['check']}:{values['selector']}" if values.get("selector") else values["check"]


def signature(values, evaluations):
    """What makes two runs the same (see ``mail.domain.health.run._signature``)."""
    return (
        sorted((check_key(v), v["status"], v["summary"], v["fix"] or "", v["details"] or "") for v in values),
        evaluations or "",
    )


class MailDomainHealth(models.Model):
    """A domain the database sends from (or an administrator watches), its current health and history."""

    _name = "mail.domain.health"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Domain Health"
    _order = "name"

    name = fields.Char(string="Domain", required=True, index=True)
    active = fields.Boolean(default=True)
    in_use = fields.Boolean(
        readonly=True, help="The database sends from this domain (found by the daily check)."
    )
    manual = fields.Boolean(
        string="Added Manually", readonly=True, help="An administrator added this domain to watch it."
    )
    source = fields.Char(string="Used By", readonly=True)
    state = fields.Selection(STATES, readonly=True, help="Worst verdict of the last check.")
    last_check = fields.Datetime(readonly=True)
    last_run_id = fields.Many2one("mail.domain.health.run", readonly=True, ondelete="set null")
    check_ids = fields.One2many(related="last_run_id.check_ids", string="Verdicts")
    spf_evaluations = fields.Text(related="last_run_id.spf_evaluations")
    run_ids = fields.One2many("mail.domain.health.run", "health_id", string="History")
    spf_state = fields.Selection(STATES, string="SPF", compute="_compute_check_states", store=True)
    dkim_state = fields.Selection(STATES, string="DKIM", compute="_compute_check_states", store=True)
    dmarc_state = fields.Selection(STATES, string="DMARC", compute="_compute_check_states", store=True)
    mx_state = fields.Selection(STATES, string="MX", compute="_compute_check_states", store=True)
    dmarc_policy = fields.Char(string="DMARC Policy", compute="_compute_check_states", store=True)
    alert_data = fields.Json(
        readonly=True,
        copy=False,
        help="Last known verdict of each check and the checks an alert is open for.",
    )

    _sql_constraints = [("name_uniq", "UNIQUE(name)", "This domain is already watched.")]

    @api.depends("last_run_id.check_ids.status")
    def _compute_check_states(self):
        for record in self:
            by_check = defaultdict(list)
            for line in record.last_run_id.check_ids:
                by_check[line.check].append(line)
            for check in ("spf", "dkim", "dmarc", "mx"):
                lines = by_check.get(check)
                worst = Status.worst(Status(line.status) for line in lines).value if lines else False
                record[f"{check}_state"] = worst
            record.dmarc_policy = by_check["dmarc"][0].dmarc_policy if by_check.get("dmarc") else False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name"):
                vals["name"] = self._normalize_name(vals["name"])
        # domains are found by the hundreds: no "created" note, no follower per record
        return super(
            MailDomainHealth, self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
        ).create(vals_list)

    def write(self, vals):
        if vals.get("name"):
            vals["name"] = self._normalize_name(vals["name"])
        return super().write(vals)

    @api.model
    def _normalize_name(self, name):
        try:
            return normalize_domain(name)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _health_param(self, key, default=""):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM % key) or default

    @api.model
    def _health_nameservers(self):
        """The nameservers of the checks: the setting, else the system's (``/etc/resolv.conf``).

        Raises ``ValueError`` with a readable message.
        """
        configured = split_values(self._health_param("nameservers"))
        if configured:
            return [Nameserver.parse(item) for item in configured]
        if modules.module.current_test:
            # Tests only ever talk to loopback: never fall back to the machine's resolvers.
            raise ValueError("No nameserver configured for the domain health checks.")
        system = system_nameservers()
        if not system:
            raise ValueError(
                "No nameserver configured for the domain health checks and none found in /etc/resolv.conf."
            )
        return system

    @api.model
    def _health_run_options(self):
        timeout = float(self._health_param("dns_timeout", "2.0"))
        return checks.RunOptions(
            nameservers=self._health_nameservers(),
            timeout=timeout,
            lifetime=timeout * 2.5,
            domain_deadline=float(self._health_param("domain_deadline", "30")),
        )

    @api.model
    def _health_provider(self):
        profile = self._health_param("provider", "flectra")
        if profile == "custom":
            include = self._health_param("spf_include")
            if not include:
                raise ValueError("the custom sending provider has no SPF include in the settings")
            return providers.custom(normalize_domain(include))
        return providers.PROVIDERS.get(profile, providers.FLECTRA)

    @api.model
    def _health_smtp_hosts(self):
        servers = self.env["ir.mail_server"].sudo().search([("smtp_host", "!=", False)])
        hosts = servers.mapped("smtp_host")
        if not hosts and tools.config.get("smtp_server"):
            hosts = [tools.config["smtp_server"]]
        return list(dict.fromkeys(host.strip().lower() for host in hosts if host.strip()))

    @api.model
    def _health_sending_ips(self, run_options):
        """The IPs SPF is evaluated for: the setting, else the addresses of the configured SMTP hosts.

        Host names are resolved (A and AAAA) through the same nameservers as the checks;
        loopback and link-local addresses say nothing about what receivers see and are left out.
        """
        configured = split_values(self._health_param("sending_ips"))
        if configured:
            addresses, names = configured, []
        else:
            addresses, names = [], []
            for host in self._health_smtp_hosts():
                try:
                    ipaddress.ip_address(host)
                    addresses.append(host)
                except ValueError:
                    names.append(host)
        if names:
            addresses += asyncio.run(_resolve_addresses(names, run_options))
        ips = []
        for text in addresses:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                _logger.warning("Domain health: ignoring sending IP %r: not an IP address", text)
                continue
            if not (address.is_loopback or address.is_link_local or address.is_unspecified):
                ips.append(str(address))
        return tuple(dict.fromkeys(ips))

    @api.model
    def _health_options(self):
        """``(CheckOptions, RunOptions)`` from the settings; ``ValueError`` when they are unusable."""
        run_options = self._health_run_options()
        options = checks.CheckOptions(
            provider=self._health_provider(),
            dkim_selectors=tuple(split_values(self._health_param("dkim_selectors"))),
            sending_ips=self._health_sending_ips(run_options),
            own_keys=self.env["mail.dkim.key"]._dkim_own_keys(),
        )
        return options, run_options

    # ------------------------------------------------------------------
    # Domains in use
    # ------------------------------------------------------------------

    @api.model
    def _health_domains_in_use(self):
        """``{domain: [where it is used]}`` for every domain the database sends from."""
        found = defaultdict(list)

        def add(domains, source):
            for domain in domains:
                if source not in found[domain]:
                    found[domain].append(source)

        for alias_domain in self.env["mail.alias.domain"].sudo().search([]):
            add(domains_of(alias_domain.name), _("Alias domain (catchall, bounce)"))
            add(domains_of(alias_domain.default_from, addresses_only=True), _("Default from"))
        icp = self.env["ir.config_parameter"].sudo()
        add(domains_of(icp.get_param("mail.catchall.domain")), "mail.catchall.domain")
        add(domains_of(icp.get_param("mail.default.from"), addresses_only=True), "mail.default.from")
        add(domains_of(icp.get_param("mail.default.from_filter")), "mail.default.from_filter")
        for server in self.env["ir.mail_server"].sudo().search([("from_filter", "!=", False)]):
            add(domains_of(server.from_filter), _("Outgoing server %s", server.name))
        users = self.env["res.users"].sudo().search([("share", "=", False), ("email", "!=", False)])
        user_domains = {d for email in users.mapped("email") for d in domains_of(email, addresses_only=True)}
        add(sorted(user_domains - GENERIC_MAILBOX_DOMAINS), _("Internal users' addresses"))
        return dict(found)

    @api.model
    def _health_sync_domains(self):
        """Create or update the records of the domains in use; returns every watched record."""
        in_use = self._health_domains_in_use()
        existing = self.with_context(active_test=False).search([])
        by_name = {record.name: record for record in existing}
        to_create = []
        for name, sources in in_use.items():
            values = {"in_use": True, "source": ", ".join(sources)}
            record = by_name.get(name)
            if record is None:
                to_create.append({"name": name, **values})
            elif (record.in_use, record.source) != (True, values["source"]):
                record.write(values)
        gone = existing.filtered(lambda r: r.in_use and r.name not in in_use)
        gone.write({"in_use": False, "source": False})
        self.create(to_create)
        return self.search(["|", ("in_use", "=", True), ("manual", "=", True)])

    @api.model
    def _health_ensure(self, names, manual=False):
        """The (active) records of ``names`` (normalized domains), created when missing."""
        existing = self.with_context(active_test=False).search([("name", "in", list(names))])
        existing.filtered(lambda r: not r.active).write({"active": True})
        if manual:
            existing.filtered(lambda r: not r.manual).write({"manual": True})
        missing = [name for name in names if name not in set(existing.mapped("name"))]
        return existing | self.create([{"name": name, "manual": manual} for name in missing])

    @api.model
    def _health_facts(self, domain):
        """The last known verdicts of ``domain`` (no DNS), or None when it was never checked:
        ``{"state", "spf", "dkim", "dmarc", "mx", "dmarc_policy"}`` (states pass/warning/unknown/fail)."""
        try:
            name = normalize_domain(domain)
        except ValueError:
            return None
        record = self.sudo().search([("name", "=", name)], limit=1)
        if not record.state:
            return None
        return {
            "state": record.state,
            "spf": record.spf_state or None,
            "dkim": record.dkim_state or None,
            "dmarc": record.dmarc_state or None,
            "mx": record.mx_state or None,
            "dmarc_policy": record.dmarc_policy or None,
        }

    # ------------------------------------------------------------------
    # Checking
    # ------------------------------------------------------------------

    @api.model
    def _health_reports(self, names, options=None):
        """``{domain: DomainReport}``; never raises: what could not be checked is ``unknown``."""
        if options is None:
            try:
                options = self._health_options()
            except ValueError as exc:
                options = exc
        if isinstance(options, ValueError):
            summary = _("The checks could not run: %s", options)
            return {name: DomainReport.uniform(name, (), Status.UNKNOWN, summary) for name in names}
        return self._health_run_engine(list(names), *options)

    @api.model
    def _health_run_engine(self, names, options, run_options):
        try:
            reports = checks.run(names, options, run_options)
        except Exception:  # noqa: BLE001 - one broken domain must never stop the others
            if len(names) > 1:
                _logger.warning("Domain health: a batch failed, checking its domains one by one")
                results = {}
                for name in names:
                    results.update(self._health_run_engine([name], options, run_options))
                return results
            _logger.exception("Domain health: checking %s failed", names[0])
            summary = _("The check failed unexpectedly; the server log has the details.")
            return {names[0]: DomainReport.uniform(names[0], options.selectors, Status.UNKNOWN, summary)}
        return {report.domain: report for report in reports}

    def _health_check(self, options=None):
        """Check these domains concurrently and store the results, each domain isolated."""
        if not self:
            return True
        reports = self._health_reports(self.mapped("name"), options)
        now = fields.Datetime.now()
        for record in self:
            try:
                with self.env.cr.savepoint():
                    record._health_store(reports[record.name], now)
            except Exception:  # noqa: BLE001 - one domain's failure must not stop the others
                _logger.exception("Domain health: storing the results of %s failed", record.name)
        return True

    def _health_store(self, report, now):
        """Store ``report``: a new run when a verdict changed, else the last run is seen again."""
        self.ensure_one()
        values = check_values(report)
        evaluations = "\n".join(
            f"{e.ip}: {e.result}" + (f" ({e.explanation})" if e.explanation else "")
            for e in report.spf_evaluations
        )
        last = self.last_run_id
        if last and last._signature() == signature(values, evaluations):
            last.last_seen = now
        else:
            self.last_run_id = self.env["mail.domain.health.run"].create(
                {
                    "health_id": self.id,
                    "date": now,
                    "last_seen": now,
                    "state": report.status.value,
                    "spf_evaluations": evaluations or False,
                    "changes": _describe_changes(last, values) if last else False,
                    "check_ids": [Command.create(v) for v in values],
                }
            )
        self.write({"state": report.status.value, "last_check": now})
        self._health_track(values)

    # ------------------------------------------------------------------
    # Alerts: once per degradation, recovery noted
    # ------------------------------------------------------------------

    def _health_track(self, values):
        """Compare with the last known verdicts; alert on degradation, note recovery.

        ``unknown`` (DNS did not answer) is no news: it neither degrades nor recovers.
        The first verdict of a check is its baseline.
        """
        self.ensure_one()
        data = self.alert_data or {}
        known, alerted = dict(data.get("known", {})), dict(data.get("alerted", {}))
        had_alerts = bool(alerted)
        current = {check_key(v): v for v in values}
        degraded, recovered = [], []
        for key, v in current.items():
            status, old = v["status"], known.get(key)
            if status == "unknown":
                continue
            known[key] = status
            if old is None or old == status:
                continue
            if SEVERITY[status] > SEVERITY[old]:
                degraded.append((key, old, v))
                alerted.setdefault(key, old)
            else:
                recovered.append((key, old, v))
                if key in alerted and SEVERITY[status] <= SEVERITY[alerted[key]]:
                    del alerted[key]
        if any(v["status"] != "unknown" for v in values):
            # checks no longer run (a selector removed from the settings) are forgotten
            known = {k: s for k, s in known.items() if k in current}
            alerted = {k: s for k, s in alerted.items() if k in current}
        if {"known": known, "alerted": alerted} != data:
            self.alert_data = {"known": known, "alerted": alerted}
        if degraded:
            self._health_notify_degraded(degraded)
        if recovered:
            self._health_notify_recovered(recovered)
        if had_alerts and not alerted:
            self.activity_ids.filtered(
                lambda a: a.activity_type_id == self._health_alert_type()
            ).sudo().unlink()

    @api.model
    def _health_alert_type(self):
        return self.env.ref("mail_domain_health.mail_activity_type_domain_health_alert")

    @api.model
    def _health_admins(self):
        group = self.env.ref("base.group_system")
        return self.env["res.users"].sudo().search([("groups_id", "in", group.ids), ("share", "=", False)])

    def _health_notify_degraded(self, degraded):
        labels = ", ".join(_check_label(key) for key, _old, _v in degraded)
        summary = _("%(domain)s: %(checks)s degraded", domain=self.name, checks=labels)
        publish = _("Publish:")
        items = Markup().join(
            Markup("<li><b>%s</b>: %s → %s. %s%s</li>")
            % (
                _check_label(key),
                old,
                v["status"],
                v["summary"],
                Markup(" %s <code>%s</code>") % (publish, v["fix"]) if v["fix"] else "",
            )
            for key, old, v in degraded
        )
        note = Markup("<p>%s</p><ul>%s</ul>") % (
            _("The last check of %s found:", self.name),
            items,
        )
        for user in self._health_admins():
            self.sudo().activity_schedule(
                act_type_xmlid="mail_domain_health.mail_activity_type_domain_health_alert",
                user_id=user.id,
                summary=summary,
                note=note,
            )

    def _health_notify_recovered(self, recovered):
        items = Markup().join(
            Markup("<li><b>%s</b>: %s → %s. %s</li>") % (_check_label(key), old, v["status"], v["summary"])
            for key, old, v in recovered
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (_("%s recovered:", self.name), items)
        self.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------
    # Cron, retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_check_domains(self, batch_size=BATCH_SIZE, time_budget=None):
        """Re-check every watched domain not checked within the hour, in committed batches.

        Stops after ``time_budget`` seconds (default: half the cron time limit) and tells
        the scheduler how many domains remain, so it calls again at once to finish.
        """
        started = time.monotonic()
        if time_budget is None:
            time_budget = _cron_time_budget()
        watched = self._health_sync_domains()
        due = watched.filtered(
            lambda r: not r.last_check or r.last_check < fields.Datetime.now() - RECHECK_AFTER
        ).sorted(lambda r: (bool(r.last_check), r.last_check or fields.Datetime.now(), r.id))
        try:
            options = self._health_options()
        except ValueError as exc:
            _logger.warning("Domain health: %s", exc)
            options = exc
        auto_commit = not modules.module.current_test
        total, done = len(due), 0
        _logger.info("Domain health: checking %d domains", total)
        for batch in split_every(batch_size, due.ids, self.browse):
            batch._health_check(options)
            done += len(batch)
            _logger.info("Domain health: %d/%d domains checked", done, total)
            self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
            if auto_commit:
                self.env.cr.commit()
            if time_budget and done < total and time.monotonic() - started > time_budget:
                _logger.info("Domain health: time budget spent, %d domains left", total - done)
                return
        self._health_gc()

    @api.model
    def _health_gc(self):
        """Forget runs last seen longer ago than the retention; a domain's last run is always kept."""
        days = int(self._health_param("retention_days", str(DEFAULT_RETENTION_DAYS)))
        if days <= 0:
            return
        cutoff = fields.Datetime.now() - timedelta(days=days)
        keep = self.with_context(active_test=False).search([]).last_run_id
        old = self.env["mail.domain.health.run"].search(
            [("last_seen", "<", cutoff), ("id", "not in", keep.ids)]
        )
        if old:
            _logger.info("Domain health: removing %d runs older than %d days", len(old), days)
            old.unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_check_now(self):
        self._health_check()
        return True

    # ------------------------------------------------------------------
    # DMARC policies of other domains (people problems)
    # ------------------------------------------------------------------

    @api.model
    def _health_dmarc_policies(self, names):
        """``{domain: policy}``: the effective DMARC policy (none, quarantine, reject), None without
        a usable record or answer; empty when the settings are unusable."""
        try:
            run_options = self._health_run_options()
        except ValueError as exc:
            _logger.warning("Domain health: %s", exc)
            return {}
        if not names:
            return {}
        return asyncio.run(_dmarc_policies(list(names), run_options))


def _describe_changes(last, values):
    before = {line._check_key(): line for line in last.check_ids}
    lines = []
    for v in values:
        old = before.pop(check_key(v), None)
        if old is None:
            lines.append(f"{_check_label(check_key(v))}: new, {v['status']}")
        elif (old.status, old.summary) != (v["status"], v["summary"]):
            lines.append(f"{_check_label(check_key(v))}: {old.status} → {v['status']}, {v['summary']}")
    lines += [f"{_check_label(key)}: no longer checked" for key in before]
    return "\n".join(lines) or False


def _check_label(key):
    check, _sep, selector = key.partition(":")
    return f"{check.upper()} ({selector})" if selector else check.upper()


def _cron_time_budget():
    limit = tools.config.get("limit_time_real_cron") or 0
    if limit < 0:
        limit = tools.config.get("limit_time_real") or 0
    return limit / 2 if limit > 0 else None


def _resolver(run_options):
    return DnsResolver(
        list(run_options.nameservers),
        timeout=run_options.timeout,
        lifetime=run_options.lifetime,
        concurrency=run_options.concurrency,
    )


async def _resolve_addresses(names, run_options):
    resolver = _resolver(run_options)
    queries = [resolver.query(name, rtype) for name in names for rtype in ("A", "AAAA")]
    answers = await asyncio.gather(*queries)
    return [record for answer in answers if answer.status is DnsStatus.OK for record in answer.records]


async def _dmarc_policies(names, run_options):
    resolver = _resolver(run_options)

    async def one(name):
        try:
            return name, await asyncio.wait_for(dmarc.policy_of(name, resolver), run_options.domain_deadline)
        except asyncio.TimeoutError:
            return name, None

    return dict(await asyncio.gather(*(one(name) for name in names)))
