"""Test Deliverability: a real message from a chosen author through the real send path, judged as a
receiving server would judge it (``deliverability.verdict``): Domain Health's judgement of its domains
(``deliverability.judgement``, the same facts), with what the real message adds.

The message is built and prepared by ``mail.mail`` and ``ir.mail_server`` as any other (sender rules,
DKIM signature) and captured at the SMTP session instead of being delivered; when the administrator
gives a recipient, those very bytes are then delivered to it through the server.
"""

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..deliverability import bulk_senders, dkim_sign, verdict
from ..deliverability.bulk_senders import Kind, Requirement
from ..deliverability.judgement import Signer
from ..models.engine_texts import translated, translated_lines
from ..models.ir_mail_server import CONNECT
from ..models.mail_domain_health import OUTCOMES, STATES

REQUIREMENTS = [(requirement.value, requirement.label) for requirement in Requirement]
CAPTURE_RECIPIENT = "deliverability-test@example.org"


class _CapturingSession:
    """Stands where Odoo's SMTP connection is: keeps the bytes ``send_message`` would send."""

    def __init__(self, from_filter, smtp_from):
        self.from_filter = from_filter
        self.smtp_from = smtp_from
        self.sent = None

    def send_message(self, message, smtp_from, smtp_to_list):
        self.sent = (smtp_from, list(smtp_to_list), dkim_sign.wire_bytes(message, smtp_from, smtp_to_list))

    def quit(self):
        pass


class MailDeliverabilityTest(models.TransientModel):
    _name = "mail.deliverability.test"
    _description = "Test Deliverability"

    author_type = fields.Selection(
        [("user", "User"), ("partner", "Contact"), ("address", "Address")], default="user", required=True
    )
    user_id = fields.Many2one("res.users", string="User", default=lambda self: self.env.user)
    partner_id = fields.Many2one("res.partner", string="Contact")
    email_from = fields.Char(string="Address")
    mail_server_id = fields.Many2one(
        "ir.mail_server", string="Outgoing Server", help="Leave empty to let the sender rules choose."
    )
    recipient = fields.Char(help="Deliver the message to this address too; without one it is only captured.")
    mail_kind = fields.Selection(
        [(Kind.NOTIFICATION.value, "Notification"), (Kind.MASS_MAILING.value, "Mass Mailing")],
        string="Kind of Mail",
        default=Kind.NOTIFICATION.value,
        required=True,
        help="Mass mailings must also carry a one-click unsubscribe (Gmail, Yahoo).",
    )
    mailing_ref = fields.Reference(
        selection="_selection_mailing",
        string="Mailing",
        help="The mailing to test, sent as it would be; leave empty to build a test mailing from the author.",
    )
    requirement_ids = fields.One2many(
        "mail.deliverability.test.requirement", "test_id", string="Bulk-Sender Requirements", readonly=True
    )
    outcome = fields.Selection(OUTCOMES, readonly=True)
    reason = fields.Text(readonly=True)
    fixes = fields.Text(readonly=True)
    spf_result = fields.Text(string="SPF", readonly=True)
    dkim_result = fields.Text(string="DKIM", readonly=True)
    dmarc_result = fields.Text(string="DMARC", readonly=True)
    header_problems = fields.Text(readonly=True)
    sent_from = fields.Char(string="From", readonly=True)
    envelope_from = fields.Char(string="Envelope Sender", readonly=True)
    delivered_to = fields.Char(readonly=True)
    message_headers = fields.Text(string="Headers Sent", readonly=True)

    def _author(self):
        self.ensure_one()
        if self.author_type == "user":
            author = self.user_id.partner_id.email_formatted
        elif self.author_type == "partner":
            author = self.partner_id.email_formatted
        else:
            author = (self.email_from or "").strip()
        if not author:
            raise UserError(_("Choose an author with an email address."))
        return author

    @api.model
    def _selection_mailing(self):
        return [("mailing.mailing", _("Mailing"))] if "mailing.mailing" in self.env else []

    def _mailing(self, author):
        """``(mailing, built)``: the mailing chosen, or one built from ``author`` (removed after the
        test); Email Marketing (mass_mailing) sends mass mailings and sets their unsubscribe headers."""
        if "mailing.mailing" not in self.env:
            raise UserError(_("Install Email Marketing to test a mass mailing."))
        if self.mailing_ref:
            return self.mailing_ref.sudo(), False
        mailing = (
            self.env["mailing.mailing"]
            .sudo()
            .create(
                {
                    "subject": _("Deliverability test"),
                    "email_from": author,
                    "body_html": _(
                        "<p>This mailing tests how receiving servers judge the mail of this database.</p>"
                    ),
                    "mail_server_id": self.mail_server_id.id,
                }
            )
        )
        return mailing, True

    def _capture(self, author):
        """``(envelope sender, recipients, bytes)`` of the message ``mail.mail`` sends for ``author``
        (a mass mailing: of the mailing, as Email Marketing sends it to a recipient)."""
        values = {
            "email_from": author,
            "email_to": (self.recipient or "").strip() or CAPTURE_RECIPIENT,
            "subject": _("Deliverability test"),
            "body_html": _(
                "<p>This message tests how receiving servers judge the mail of this database.</p>"
            ),
            "auto_delete": False,
        }
        mailing, built = None, False
        if self.mail_kind == Kind.MASS_MAILING.value:
            mailing, built = self._mailing(author)
            values.update(
                email_from=mailing.email_from or author, subject=mailing.subject, body_html=mailing.body_html,
                mailing_id=mailing.id, model=mailing._name, res_id=mailing.id,
            )  # fmt: skip
        servers = self.env["ir.mail_server"].sudo()
        forced = self.mail_server_id or (mailing.mail_server_id if mailing else servers)
        if forced:
            server, smtp_from = forced, values["email_from"]
        else:
            server, smtp_from = servers._find_mail_server(values["email_from"])
        session = _CapturingSession(server.from_filter if server else False, smtp_from)
        mail = (
            self.env["mail.mail"].sudo().create({**values, "mail_server_id": server.id if server else False})
        )
        mail._send(smtp_session=session)
        failure = mail.failure_reason
        mail.unlink()
        if built:
            mailing.unlink()
        if session.sent is None:
            raise UserError(_("The message could not be prepared: %s", failure or _("see the server log")))
        return session.sent, server

    def _deliver(self, server, envelope, data):
        """Send the bytes judged to the recipient, through the server the message was prepared for."""
        servers = self.env["ir.mail_server"].sudo()
        try:
            smtp = getattr(servers, CONNECT)(mail_server_id=server.id if server else None, smtp_from=envelope)
            try:
                smtp.sendmail(envelope, [self.recipient.strip()], data)
            finally:
                smtp.quit()
        except Exception as exc:  # noqa: BLE001 - connection refused, TLS, SMTP refusal: say which
            raise UserError(
                _(
                    "The test message could not be delivered to %(to)s: %(error)s",
                    to=self.recipient,
                    error=exc,
                )
            ) from None

    def action_run(self):
        self.ensure_one()
        author = self._author()
        (envelope, _recipients, data), server = self._capture(author)
        if self.recipient:
            self._deliver(server, envelope, data)
        health = self.env["mail.domain.health"]
        try:
            settings = health._health_settings()
        except ValueError as exc:
            raise UserError(_("The test could not run: %s", exc)) from None
        result = verdict.run(
            data,
            envelope,
            settings.options,
            settings.run_options,
            catchall_domain=self._catchall_domain() or None,
        )
        ips = settings.options.sending_ips
        judged = bulk_senders.run(data, result, ips, settings.run_options, Kind(self.mail_kind))
        self.write(self._result_values(result, envelope, data))
        self.requirement_ids = [Command.clear()] + [
            Command.create(
                {
                    "requirement": j.requirement.value,
                    "providers": ", ".join(j.requirement.providers),
                    "status": j.status.value if j.status else "na",
                    "detail": j.detail,
                    "fix": j.fix or False,
                }
            )
            for j in judged
        ]
        return {
            "type": "ir.actions.act_window",
            "name": _("Test Deliverability"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _catchall_domain(self):
        icp = self.env["ir.config_parameter"].sudo().get_param("mail.catchall.domain")
        return (icp or self.env.company.sudo().alias_domain_id.name or "").strip().lower()

    def _result_values(self, result, envelope, data):
        provider = _("the provider's servers")
        spf = [f"{r.ip or provider}: {r.result} for {r.domain} ({r.reason})" for r in result.spf] or [
            _("no sending IP is known: set them in the Domain Health settings")
        ]
        signers = {Signer.MESSAGE: _("on the message"), Signer.PROVIDER: _("added by the provider")}
        dkim = [
            f"{r.selector}._domainkey.{r.domain}: {r.result}, {signers.get(r.signer, '')} ({r.reason})"
            for r in result.dkim
        ] or [_("the message is not signed")]
        policy = (
            _("p=%(policy)s, from %(where)s", policy=result.dmarc_policy, where=result.dmarc_record_domain)
            if result.dmarc_policy
            else _("no DMARC policy")
        )
        yes, no = _("yes"), _("no")
        dmarc = _(
            "%(policy)s; SPF aligned: %(spf)s; DKIM aligned: %(dkim)s",
            policy=policy,
            spf=yes if result.spf_aligned else no,
            dkim=yes if result.dkim_aligned else no,
        )
        headers = data[: data.find(b"\r\n\r\n")].decode("utf-8", "replace")
        author = verdict.from_address(data)
        reason = translated(self.env, result.reason)
        if result.expected is not None:
            reason = _(
                "%(reason)s\nDomain Health for these domains: %(outcome)s (%(why)s).",
                reason=reason,
                outcome=translated(self.env, result.expected.outcome.label),
                why=translated(self.env, result.expected.reason),
            )
            added = result.additions()
            if added:
                reason = _("%(reason)s\nThis message adds: %(added)s.", reason=reason, added="; ".join(added))
        return {
            "outcome": result.outcome.value,
            "reason": reason,
            "fixes": translated_lines(self.env, result.fixes) or False,
            "spf_result": "\n".join(spf),
            "dkim_result": "\n".join(dkim),
            "dmarc_result": dmarc,
            "header_problems": translated_lines(self.env, result.header_problems) or False,
            "sent_from": str(author) if author else False,
            "envelope_from": envelope,
            "delivered_to": self.recipient or False,
            "message_headers": headers,
        }


class MailDeliverabilityTestRequirement(models.TransientModel):
    _name = "mail.deliverability.test.requirement"
    _description = "Bulk-Sender Requirement"
    _order = "id"

    test_id = fields.Many2one("mail.deliverability.test", required=True, ondelete="cascade")
    requirement = fields.Selection(REQUIREMENTS, required=True, readonly=True)
    providers = fields.Char(string="Required By", readonly=True)
    status = fields.Selection([*STATES, ("na", "Not Required")], readonly=True)
    detail = fields.Text(readonly=True)  # Text: the list wraps it instead of cutting it short
    fix = fields.Text(readonly=True)
