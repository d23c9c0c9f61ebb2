from collections import Counter

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..deliverability.domains import domain_to_check, is_reserved, normalize_domain
from ..deliverability.relaying import STRICT_POLICIES
from ..models.mail_domain_health import GENERIC_MAILBOX_DOMAINS, STATES, domains_of

PARTNER_DOMAINS_LIMIT = 500


class MailDomainHealthWizard(models.TransientModel):
    """Settings ‣ Technical ‣ Email ‣ Domain Health: check the sending domains now, see what to publish."""

    _name = "mail.domain.health.wizard"
    _description = "Domain Health Check"

    state = fields.Selection([("draft", "To Check"), ("done", "Checked")], default="draft", readonly=True)
    line_ids = fields.One2many(
        "mail.domain.health.wizard.line", "wizard_id", string="Domains", default=lambda s: s._default_lines()
    )
    check_ids = fields.Many2many("mail.domain.health.check", string="Verdicts", compute="_compute_check_ids")
    person_ids = fields.One2many(
        "mail.domain.health.wizard.person", "wizard_id", string="People", readonly=True
    )
    provider_note = fields.Char(
        string="Sending Provider",
        readonly=True,
        default=lambda self: self.env["mail.domain.health"]._health_provider_explanation(),
        help="The provider the checks assume, and why.",
    )
    inbox_user_count = fields.Integer(compute="_compute_inbox_user_count")
    fail_count = fields.Integer(compute="_compute_counts")
    warning_count = fields.Integer(compute="_compute_counts")
    pass_count = fields.Integer(compute="_compute_counts")

    def _compute_display_name(self):
        self.display_name = _("Domain Health")

    @api.depends("state", "line_ids.health_id")
    def _compute_check_ids(self):
        """Once checked, the verdicts of the listed domains as they stand: what their own forms show."""
        checks = self.env["mail.domain.health.check"]
        for wizard in self:
            runs = wizard.line_ids.health_id.last_run_id
            done = wizard.state == "done"
            wizard.check_ids = checks.search([("run_id", "in", runs.ids)]) if done else checks

    @api.depends("check_ids.status")
    def _compute_counts(self):
        for wizard in self:
            counts = Counter(wizard.check_ids.mapped("status"))
            wizard.fail_count = counts["fail"] + counts["unknown"]
            wizard.warning_count = counts["warning"]
            wizard.pass_count = counts["pass"]

    @api.model
    def _default_lines(self):
        health = self.env["mail.domain.health"]
        in_use = health._health_domains_in_use()
        lines = [Command.create({"domain": name, "source": ", ".join(src)}) for name, src in in_use.items()]
        watched = health.search([("manual", "=", True), ("name", "not in", list(in_use))])
        manual = health._health_manual_source()
        lines += [Command.create({"domain": record.name, "source": manual}) for record in watched]
        return lines

    def action_check(self):
        """Check every listed domain concurrently, store the results and show them."""
        self.ensure_one()
        names, errors = [], []
        for line in self.line_ids:
            try:
                name = domain_to_check(line.domain)
            except ValueError as exc:
                errors.append(str(exc))
                continue
            if is_reserved(name):
                errors.append(self.env["mail.domain.health"]._health_reserved_error(name))
                continue
            if name not in names:
                names.append(name)
        if errors:
            raise UserError(_("Please correct the domains to check:\n%s", "\n".join(errors)))
        if not names:
            raise UserError(_("Add at least one domain to check."))
        health = self.env["mail.domain.health"]
        prepared = {}

        def prepare():  # while the first questions are on the wire
            health._health_sync_domains()
            in_use = set(health.search([("in_use", "=", True), ("name", "in", names)]).mapped("name"))
            records = health._health_ensure([n for n in names if n in in_use])
            records |= health._health_ensure([n for n in names if n not in in_use], manual=True)
            prepared["people"] = self._people_addresses()
            user_domains, _by_domain, partner_domains = prepared["people"]
            # the People tab's DMARC look-ups go out with the checks, in the same run
            return records, sorted({d for d in user_domains.values() if d} | set(partner_domains))

        def passing():  # the verdicts the People tab reads besides the policies
            return set(health.search([("dmarc_state", "=", "pass")]).ids)

        written = {}

        def people(policies):  # while the checks wait for answers, once the policies are found
            self.env["mail.dmarc.policy"]._dmarc_store(policies)  # DMARC-aware relaying reads them
            read = passing()
            rows = self._people_problems(prepared["people"], policies)
            self.write({"person_ids": [Command.clear()] + [Command.create(v) for v in rows]})
            written.update(policies=policies, passing=read)

        policies = health._health_check_prepared(names, prepare, on_policies=people)
        if not written or (written["policies"], written["passing"]) != (policies, passing()):
            people(policies)  # not written during the run, or the run changed a verdict the rows read
        self.line_ids.invalidate_recordset(["health_id", "health_state", "last_check"])  # checked now
        self.state = "done"
        # reopen on the verdicts, in place of the form that asked for them
        return {
            "type": "ir.actions.act_window",
            "name": _("Domain Health"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "main",
        }

    @api.model
    def action_open(self):
        """A new check, opened saved (not as a new record to save or discard)."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_domain_health.action_mail_domain_health_wizard"
        )
        return {**action, "res_id": self.create({}).id}

    @api.depends("person_ids.problem")
    def _compute_inbox_user_count(self):
        for wizard in self:
            wizard.inbox_user_count = len(wizard._strict_mailbox_users())

    def _strict_mailbox_users(self):
        """Internal users on a strict DMARC mailbox provider who still get their notifications by email."""
        people = self.person_ids.filtered(lambda p: p.problem == "user_dmarc")
        return people.user_id.filtered(lambda u: u.notification_type == "email")

    def action_notify_in_database(self):
        """The documented remedy for users on a strict DMARC mailbox provider: they handle their
        notifications in the database (Discuss) instead of by email, in one action."""
        self.ensure_one()
        users = self._strict_mailbox_users()
        users.sudo().write({"notification_type": "inbox"})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%s users now handle their notifications in the database.", len(users)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_open_history(self):
        return self.env["ir.actions.act_window"]._for_xml_id("mail_domain_health.action_mail_domain_health")

    # ------------------------------------------------------------------
    # People: users on a strict DMARC or a mailbox provider's domain, contacts on strict domains
    # ------------------------------------------------------------------

    @api.model
    def _people_addresses(self):
        """``(users' domains, contacts by domain, contact domains)``: whose DMARC the People tab asks."""
        users = self.env["res.users"].sudo().search([("share", "=", False), ("email", "!=", False)])
        user_domains = {user: next(iter(domains_of(user.email, addresses_only=True)), None) for user in users}
        partners = (
            self.env["res.partner"]
            .sudo()
            .search([("email", "!=", False), ("user_ids", "=", False), ("active", "=", True)])
        )
        by_domain = {}
        for partner in partners:
            for domain in domains_of(partner.email, addresses_only=True)[:1]:
                by_domain.setdefault(domain, self.env["res.partner"])
                by_domain[domain] |= partner
        # the most common partner domains first; the DMARC lookups stay bounded
        partner_domains = sorted(by_domain, key=lambda d: -len(by_domain[d]))[:PARTNER_DOMAINS_LIMIT]
        return user_domains, by_domain, partner_domains

    @api.model
    def _people_problems(self, people, policies):
        """The People tab's rows, from ``_people_addresses()`` and the DMARC ``policies`` of their domains."""
        health = self.env["mail.domain.health"]
        user_domains, by_domain, partner_domains = people
        # a domain whose mail passes its own DMARC policy (SPF/DKIM set up for us) is no problem
        authorized = set(health.search([("dmarc_state", "=", "pass")]).mapped("name"))
        policies = {d: p for d, p in policies.items() if d not in authorized}
        # the company's own sending domains: their fix is their own SPF/DKIM, not another address
        own_domains = self.env["mail.dmarc.policy"]._dmarc_own_domains()
        records = {r.name: r for r in health.search([("name", "in", list(own_domains))])}
        catchall = self.env["ir.config_parameter"].sudo().get_param("mail.catchall.domain")
        problems = []
        for user, domain in user_domains.items():
            policy = policies.get(domain)
            own = user.company_id.alias_domain_id.name or catchall or _("your company's domain")
            if domain in own_domains:
                if policy in STRICT_POLICIES:
                    record = records.get(domain)
                    problems.append(
                        {
                            "problem": "own_dmarc",
                            "user_id": user.id,
                            "domain": domain,
                            "policy": policy,
                            "health_id": record.id if record else False,
                            "advice": _(
                                "%(domain)s is a company domain and publishes p=%(policy)s: mail from "
                                "%(email)s is delivered only when %(domain)s passes SPF or DKIM for the "
                                "servers that send it. Fix the SPF and DKIM verdicts of %(domain)s.",
                                domain=domain,
                                policy=policy,
                                email=user.email,
                            ),
                        }
                    )
            elif policy in STRICT_POLICIES:
                problems.append(
                    {
                        "problem": "user_dmarc",
                        "user_id": user.id,
                        "domain": domain,
                        "policy": policy,
                        "advice": _(
                            "%(domain)s publishes p=%(policy)s: mail the database sends from %(email)s "
                            "will be rejected or sent to spam. Give the user an address on %(own)s.",
                            domain=domain,
                            policy=policy,
                            email=user.email,
                            own=own,
                        ),
                    }
                )
            elif domain in GENERIC_MAILBOX_DOMAINS:
                problems.append(
                    {
                        "problem": "user_generic",
                        "user_id": user.id,
                        "domain": domain,
                        "policy": policy or False,
                        "advice": _(
                            "%(domain)s is a generic mailbox provider: mail sent from %(email)s by the "
                            "database cannot pass SPF or DKIM. Give the user an address on %(own)s.",
                            domain=domain,
                            email=user.email,
                            own=own,
                        ),
                    }
                )
        for domain in partner_domains:
            policy = policies.get(domain)
            if policy in STRICT_POLICIES and domain not in own_domains:
                contacts = by_domain[domain]
                problems.append(
                    {
                        "problem": "partner_dmarc",
                        "domain": domain,
                        "policy": policy,
                        "partner_ids": [Command.set(contacts.ids)],
                        "advice": _(
                            "%(domain)s publishes p=%(policy)s: replies from this contact cannot be relayed "
                            "to followers as they are. They go out from the default sender address under "
                            "the contact's name, replies to the catchall.",
                            domain=domain,
                            policy=policy,
                        )
                        if len(contacts) == 1
                        else _(
                            "%(domain)s publishes p=%(policy)s: replies from these %(count)s contacts "
                            "cannot be relayed to followers as they are. They go out from the default sender "
                            "address under each contact's name, replies to the catchall.",
                            domain=domain,
                            policy=policy,
                            count=len(contacts),
                        ),
                    }
                )
        return problems


class MailDomainHealthWizardLine(models.TransientModel):
    _name = "mail.domain.health.wizard.line"
    _description = "Domain to Check"
    _order = "id"

    wizard_id = fields.Many2one("mail.domain.health.wizard", required=True, ondelete="cascade")
    domain = fields.Char(required=True)
    source = fields.Char(string="Used By")
    health_id = fields.Many2one("mail.domain.health", string="Domain Verdicts", compute="_compute_health")
    health_state = fields.Selection(STATES, string="Last State", compute="_compute_health")
    last_check = fields.Datetime(compute="_compute_health")

    @api.depends("domain")
    def _compute_health(self):
        health = self.env["mail.domain.health"]
        for line in self:
            record = health.browse()
            if line.domain:
                try:
                    record = health.search([("name", "=", normalize_domain(line.domain))], limit=1)
                except ValueError:
                    pass
            line.health_id = record
            line.health_state = record.state
            line.last_check = record.last_check


class MailDomainHealthWizardPerson(models.TransientModel):
    _name = "mail.domain.health.wizard.person"
    _description = "Address That Hurts Deliverability"
    _order = "problem, domain, id"

    wizard_id = fields.Many2one("mail.domain.health.wizard", required=True, ondelete="cascade")
    problem = fields.Selection(
        [
            ("own_dmarc", "User on a company domain failing its DMARC policy"),
            ("user_dmarc", "User on a strict DMARC domain"),
            ("user_generic", "User on a generic provider"),
            ("partner_dmarc", "Contacts on a strict DMARC domain"),
        ],
        required=True,
    )
    health_id = fields.Many2one("mail.domain.health", string="Domain Verdicts")
    user_id = fields.Many2one("res.users", string="User")
    partner_ids = fields.Many2many("res.partner", string="Contacts")
    partner_count = fields.Integer(string="# Contacts", compute="_compute_partner_count")
    domain = fields.Char()
    policy = fields.Char(string="DMARC Policy")
    advice = fields.Char()

    @api.depends("partner_ids")
    def _compute_partner_count(self):
        for person in self:
            person.partner_count = len(person.partner_ids)
