"""Health of the domains the database sends from: the records, what is in use, checking and history.

Data flows one way: this model gathers the configuration (alias domains, mail parameters,
outgoing servers, users), hands plain values to ``deliverability`` and stores the typed
findings it returns. Settings are gathered in ``mail_domain_health_settings.py``, alerts in
``mail_domain_health_alert.py``, the daily cron in ``mail_domain_health_cron.py``.
"""

import functools
import logging
from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError

from .. import seams
from ..deliverability import checks
from ..deliverability.domains import domain_to_check, is_reserved, normalize_domain
from ..deliverability.findings import DomainReport, Status
from ..deliverability.judgement import DomainFacts, Outcome
from .engine_texts import translated

_logger = logging.getLogger(__name__)

STATES = [("pass", "Pass"), ("warning", "Warning"), ("unknown", "Unknown"), ("fail", "Fail")]
OUTCOMES = [(outcome.value, outcome.label[:1].upper() + outcome.label[1:]) for outcome in Outcome]
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


def domains_of(value, addresses_only=False):
    """Normalized domains named by a parameter value: domains and/or addresses, comma separated;
    reserved names (example.com...) left out: no DNS answers for them."""
    found = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part or (addresses_only and "@" not in part):
            continue
        try:
            name = domain_to_check(part)
        except ValueError:
            continue
        if not is_reserved(name):
            found.append(name)
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
    """Identifies the same check across runs (DKIM: one per selector)."""
    return f"{values['check']}:{values['selector']}" if values.get("selector") else values["check"]


def check_label(key):
    check, _sep, selector = key.partition(":")
    return f"{check.upper()} ({selector})" if selector else check.upper()


def signature(values, evaluations):
    """What makes two runs the same (see ``mail.domain.health.run._signature``)."""
    return (
        sorted((check_key(v), v["status"], v["summary"], v["fix"] or "", v["details"] or "") for v in values),
        evaluations or "",
    )


@seams.unique("name_uniq", "UNIQUE(name)", "This domain is already watched.")
class MailDomainHealth(models.Model):
    """A domain the database sends from (or an administrator watches), its current health and history."""

    _name = "mail.domain.health"
    _inherit = ["mail.thread", "mail.domain.health.alert.mixin"]
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
    run_ids = fields.One2many("mail.domain.health.run", "health_id", string="History", readonly=True)
    spf_state = fields.Selection(STATES, string="SPF", compute="_compute_check_states", store=True)
    dkim_state = fields.Selection(STATES, string="DKIM", compute="_compute_check_states", store=True)
    dmarc_state = fields.Selection(STATES, string="DMARC", compute="_compute_check_states", store=True)
    mx_state = fields.Selection(STATES, string="MX", compute="_compute_check_states", store=True)
    dmarc_policy = fields.Char(string="DMARC Policy", compute="_compute_check_states", store=True)
    mail_outcome = fields.Selection(
        OUTCOMES,
        string="Mail From This Domain",
        readonly=True,
        help="What receivers do with mail From this domain sent with an envelope on it, as the last check "
        "found: the answer the Sending Preview and Test Deliverability give too.",
    )
    mail_verdict = fields.Char(string="Why", readonly=True)
    mail_facts = fields.Json(
        readonly=True,
        copy=False,
        help="SPF, DKIM and DMARC facts of the last check (for the Sending Preview).",
    )
    alert_data = fields.Json(
        readonly=True,
        copy=False,
        help="Last known verdict of each check and the checks an alert is open for.",
    )

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
            name = domain_to_check(name)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if is_reserved(name):
            raise ValidationError(self._health_reserved_error(name))
        return name

    @api.model
    def _health_reserved_error(self, name):
        """Why a reserved name (``deliverability.domains.is_reserved``) is not checked."""
        return _(
            "%s is a reserved name (RFC 2606, RFC 6761): no DNS answers for it, there is nothing to check.",
            name,
        )

    # ------------------------------------------------------------------
    # Domains in use
    # ------------------------------------------------------------------

    @api.model
    def _health_sending_domains(self):
        """``{domain: [where it is used]}`` for the domains the configuration sends from (alias domains,
        mail parameters, outgoing servers): the company's own domains."""
        found = defaultdict(list)

        def add(domains, source):
            for domain in domains:
                if source not in found[domain]:
                    found[domain].append(source)

        for alias_domain in self.env["mail.alias.domain"].sudo().search([]):
            add(domains_of(alias_domain.name), _("Alias domain (catchall, bounce)"))
            add(domains_of(alias_domain.default_from, addresses_only=True), _("Default from"))
        icp = self.env["ir.config_parameter"].sudo()
        for key in ("mail.catchall.domain", "mail.default.from", "mail.default.from_filter"):
            addresses_only = key == "mail.default.from"
            add(domains_of(icp.get_param(key), addresses_only=addresses_only), _("System parameter %s", key))
        for server in self.env["ir.mail_server"].sudo().search([("from_filter", "!=", False)]):
            add(domains_of(server.from_filter), _("Outgoing server %s", server.name))
        return dict(found)

    @api.model
    def _health_domains_in_use(self):
        """``{domain: [where it is used]}`` for every domain the database sends from: the configured
        ones and internal users' domains (mailbox providers left out)."""
        found = self._health_sending_domains()
        users = self.env["res.users"].sudo().search([("share", "=", False), ("email", "!=", False)])
        user_domains = {d for email in users.mapped("email") for d in domains_of(email, addresses_only=True)}
        source = _("Internal users' addresses")
        for domain in sorted(user_domains - GENERIC_MAILBOX_DOMAINS):
            found.setdefault(domain, []).append(source)
        return found

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
        gone.filtered("manual").write({"in_use": False, "source": self._health_manual_source()})
        (gone - gone.filtered("manual")).write({"in_use": False, "source": False})
        self.create(to_create)
        return self.search(["|", ("in_use", "=", True), ("manual", "=", True)])

    @api.model
    def _health_ensure(self, names, manual=False):
        """The (active) records of ``names`` (normalized domains), created when missing."""
        existing = self.with_context(active_test=False).search([("name", "in", list(names))])
        existing.filtered(lambda r: not r.active).write({"active": True})
        source = self._health_manual_source() if manual else False
        if manual:
            existing.filtered(lambda r: not r.manual).write({"manual": True})
            existing.filtered(lambda r: not r.source).write({"source": source})
        missing = [name for name in names if name not in set(existing.mapped("name"))]
        return existing | self.create(
            [{"name": name, "manual": manual, "source": source} for name in missing]
        )

    @api.model
    def _health_manual_source(self):
        """The "Used By" of a domain an administrator added by hand and the database does not send from."""
        return _("Added manually")

    @api.model
    def _health_mail_facts(self, domain):
        """The ``judgement.DomainFacts`` the last check of ``domain`` found (no DNS), or None when it
        was never checked."""
        try:
            name = normalize_domain(domain)
        except ValueError:
            return None
        record = self.sudo().search([("name", "=", name)], limit=1)
        return DomainFacts.from_json(record.mail_facts) if record.mail_facts else None

    # ------------------------------------------------------------------
    # Checking and history
    # ------------------------------------------------------------------

    @api.model
    def _health_reports(self, names, settings=None, policies_of=(), on_reports=None, on_policies=None):
        """``({domain: DomainReport}, {domain: DMARC policy})``: the reports of ``names`` and, looked
        up in the same run, the DMARC policies of ``policies_of`` (names, or a function that returns
        them: ``checks.run``); never raises but what that function or ``on_policies`` raises: what
        could not be checked is ``unknown`` (a policy not known is left out). ``on_reports`` is called
        with the reports the engine has done since its last call, as soon as it has them
        (``checks.run``); a domain may come more than once. ``on_policies`` may be called with the
        policies while the checks go on (``checks.run``), or not at all.

        ``settings`` is ``_health_settings()`` (or the ``ValueError`` it raised) when the caller
        has it already.
        """
        if settings is None:
            try:
                settings = self._health_settings()
            except ValueError as exc:
                settings = exc
        if isinstance(settings, ValueError):
            if callable(policies_of):
                policies_of()  # the caller's preparation, all the same
            summary = _("The checks could not run: %s", settings)
            reports = {name: DomainReport.uniform(name, (), Status.UNKNOWN, summary) for name in names}
            return reports, {}
        options, run_options = settings.options, settings.run_options
        return self._health_run_engine(
            list(names), options, run_options, policies_of, on_reports, on_policies
        )

    @api.model
    def _health_run_engine(
        self, names, options, run_options, policies_of=(), on_reports=None, on_policies=None
    ):
        raised = []

        def handed(policies):  # the caller's part, outside the engine: what it raises is raised
            try:
                on_policies(policies)
            except Exception as exc:
                raised.append(exc)
                raise

        try:
            result = checks.run(names, options, run_options, policies_of, on_reports, on_policies and handed)
        except Exception:  # noqa: BLE001 - one broken domain must never stop the others
            if raised:
                raise
            if callable(policies_of):  # the caller's part, outside the engine: what it raises is raised
                policies_of = list(policies_of())
            if len(names) > 1:
                _logger.warning("Domain health: a batch failed, checking its domains one by one")
                results = {}
                for name in names:
                    results.update(self._health_run_engine([name], options, run_options, (), on_reports)[0])
                return results, self._health_run_engine([], options, run_options, policies_of)[1]
            if names:
                _logger.exception("Domain health: checking %s failed", names[0])
                summary = _("The check failed unexpectedly; the server log has the details.")
                report = DomainReport.uniform(names[0], options.selectors, Status.UNKNOWN, summary)
                return {names[0]: report}, {}
            _logger.exception("Domain health: looking up DMARC policies failed")
            return {}, {}
        return {report.domain: report for report in result.reports}, result.policies

    def _health_check(self, settings=None, policies_of=()):
        """Check these domains concurrently and store the results (``_health_check_prepared``).

        Returns the DMARC policies of ``policies_of`` (``{domain: policy}``), looked up in the same run;
        ``policies_of`` is domains, or a function that returns them, called when the first questions
        are out.
        """
        if not self and not policies_of:
            return {}

        def prepare():
            return self, policies_of() if callable(policies_of) else policies_of

        return self._health_check_prepared(self.mapped("name"), prepare, settings)

    @api.model
    def _health_check_prepared(self, names, prepare, settings=None, on_policies=None):
        """Check ``names`` concurrently and store the results, each domain isolated, as soon as they
        are checked (while the others are looked up), those done meanwhile at once.

        ``prepare()`` is called once, when the first questions are out (its work takes no time of
        its own), before any result is stored: it returns the records of ``names`` to store them in
        and the domains whose DMARC policies to look up in the same run. Returns those policies
        (``{domain: policy}``); ``on_policies`` may be called with them while the checks go on,
        or not at all (``_health_reports``).
        """
        now = fields.Datetime.now()
        prepared = functools.cache(prepare)
        unstored = functools.cache(lambda: {record.name: record for record in prepared()[0]})

        def store(reports):
            todo = []
            for report in reports:
                record = unstored().pop(report.domain, None)  # stored once, from its first report
                if record is not None:
                    todo.append((record, report))
            if len(todo) > 1:
                try:
                    with self.env.cr.savepoint():  # one flush for all of them
                        for record, report in todo:
                            record._health_store(report, now)
                    return
                except Exception:  # noqa: BLE001 - then one by one: one domain's failure must not stop the others
                    _logger.info(
                        "Domain health: storing %d results at once failed, storing them one by one", len(todo)
                    )
            for record, report in todo:
                try:
                    with self.env.cr.savepoint():
                        record._health_store(report, now)
                except Exception:  # noqa: BLE001 - one domain's failure must not stop the others
                    _logger.exception("Domain health: storing the results of %s failed", record.name)

        reports, policies = self._health_reports(names, settings, lambda: prepared()[1], store, on_policies)
        # those not stored during the run: the reports made without the engine
        store([reports[name] for name in unstored()])
        return policies

    def _health_store(self, report, now):
        """Store ``report``: a new run when a verdict changed, else the last run is seen again.

        History is what was measured: it is written here only, as the superuser.
        """
        self.ensure_one()
        values = check_values(report)
        evaluations = "\n".join(
            f"{e.ip}: {e.result}" + (f" ({e.explanation})" if e.explanation else "")
            for e in report.spf_evaluations
        )
        last = self.last_run_id.sudo()
        if last and last._signature() == signature(values, evaluations):
            last.last_seen = now
        else:
            self.last_run_id = (
                self.env["mail.domain.health.run"]
                .sudo()
                .create(
                    {
                        "health_id": self.id,
                        "date": now,
                        "last_seen": now,
                        "state": report.status.value,
                        "spf_evaluations": evaluations or False,
                        "changes": self._health_describe_changes(last, values) if last else False,
                        "check_ids": [Command.create(v) for v in values],
                    }
                )
            )
        found = report.judgement
        # no field of a check is tracked, and none names a follower: mail.thread has nothing to do
        self.with_context(tracking_disable=True).write(
            {
                "state": report.status.value,
                "last_check": now,
                # no judgement when the checks could not run (DNS did not answer in time, a crash)
                "mail_outcome": found.outcome.value if found else Outcome.UNKNOWN.value,
                "mail_verdict": found.reason if found else report.checks[0].summary,
                "mail_facts": report.facts.to_json() if report.facts else False,
            }
        )
        self._health_track(values)

    @api.model
    def _health_describe_changes(self, last, values):
        """What changed since ``last`` (a run), one line per check."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        before = {line._check_key(): line for line in last.check_ids}
        lines = []
        for v in values:
            key = check_key(v)
            old = before.pop(key, None)
            new = labels[v["status"]]
            if old is None:
                lines.append(_("%(check)s: new, %(status)s", check=check_label(key), status=new))
            elif (old.status, old.summary) != (v["status"], v["summary"]):
                lines.append(
                    _(
                        "%(check)s: %(old)s → %(new)s, %(summary)s",
                        check=check_label(key),
                        old=labels[old.status],
                        new=new,
                        summary=translated(self.env, v["summary"]),
                    )
                )
        for key in before:  # a loop, not a comprehension: _() finds the language in this frame
            lines.append(_("%s: no longer checked", check_label(key)))
        return "\n".join(lines) or False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_check_now(self):
        self._health_check()
        return self._health_checked_notification()

    def _health_checked_notification(self):
        """What a Check button answers: a notification saying what the check found, then the form
        reloads its record (saved first, also when it was just created)."""
        if not self:
            message, kind = _("No sending domain to check."), "warning"
        else:
            states = dict(self._fields["state"]._description_selection(self.env))
            records = self.sorted("name")
            message = _(
                "Checked %(domains)s: %(states)s",
                domains=", ".join(records.mapped("name")),
                states=", ".join([f"{r.name} {states.get(r.state, r.state or '?')}" for r in records]),
            )
            kind = "success" if set(self.mapped("state")) <= {"pass"} else "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "next": {"type": "ir.actions.act_window_close"}},
        }
