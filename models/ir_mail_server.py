"""``ir.mail_server``: the documented From / envelope / server rules on Odoo 18's send path, and
the health of the domains each server sends for.

The send path extends Odoo's seams and lets Odoo decide: each override calls ``super()`` with the
real arguments and adjusts an input or the one value that differs (see readme/SENDER.rst):
``build_email`` takes the author without control characters and with an ASCII (IDNA) domain and
writes ``List-Unsubscribe`` as a valid field,
``_find_mail_server`` and ``_match_from_filter`` compare ASCII forms (from_filters are stored in
them), ``connect`` applies the From filter to a server given by id as Odoo applies it to a server
it chooses, ``_get_default_from_address`` gives the default sender of the identity the administrator
set (``identity.resolve``), whatever alias domain records exist. After Odoo prepared a message,
``_mdh_before_smtp`` is the one step before the SMTP session, then ``_dkim_sign`` signs the message
as it will be sent; what the message was sent as is recorded on its ``mail.mail``. Any failure of
ours falls back to Odoo's own value and is logged: a message is never lost. No DNS query is made here.

The identity (default sender, bounce and catchall addresses) is one: the system parameters are
written through to the alias domains (``mail.alias.domain``), which Odoo reads everywhere, and hold
without them (``res.company``, ``base._mail_get_alias_domains``, ``mail.thread``).
"""

import logging

from odoo import _, api, fields, models, tools

from .. import seams
from ..deliverability import dkim_sign, identity, refusals, sender, unsubscribe
from ..deliverability.domains import normalize_domain
from .mail_domain_health import domains_of

_logger = logging.getLogger(__name__)

CONFIGURATION_SERVER = "the SMTP server of the configuration file"
# Odoo's names for the send-path methods extended below (Odoo 19 renamed them; see seams).
CONNECT = seams.mail_server_method("connect")
BUILD_EMAIL = seams.mail_server_method("build_email")
PREPARE_EMAIL_MESSAGE = seams.mail_server_method("_prepare_email_message")


def _address(header):
    """The address of a From header as the email package parsed it (no parsing here), else its text."""
    addresses = getattr(header, "addresses", None)
    if addresses and len(addresses) == 1:
        return addresses[0].addr_spec
    return str(header) if header else None


def _same_address(one, other):
    """Whether two addresses (bare or formatted) are the same mailbox; False when one is not usable."""
    one, other = sender.parse_mailbox(one or None), sender.parse_mailbox(other or None)
    return one is not None and other is not None and one.key == other.key


def _ours(what, fallback, func, *args):
    """``func(*args)``, or ``fallback`` (Odoo's own value) when it fails: logged, the mail still goes."""
    try:
        return func(*args)
    except Exception:
        _logger.warning("%s failed: Odoo's own value is used", what, exc_info=True)
        return fallback


@seams.mail_server_renames
class IrMailServer(models.Model):
    _name = "ir.mail_server"
    _inherit = ["ir.mail_server", "mail.domain.health.mixin"]

    mdh_daily_limit = fields.Integer(
        "Daily Sending Limit",
        groups="base.group_system",
        help="Messages this server may send per day (UTC), as its relay allows (e.g. 2,000 for a "
        "Google Workspace account). The mails beyond it wait in the queue for the next day, in "
        "order. 0: no limit.",
    )
    mdh_sent_today = fields.Integer(
        "Sent Today", compute="_mdh_compute_usage", groups="base.group_system",
        help="Messages sent through this server today (UTC).",
    )  # fmt: skip
    mdh_paused_until = fields.Datetime(
        "Relay Refusing Until", compute="_mdh_compute_usage", groups="base.group_system",
        help="The relay refused a mail for quota or temporarily: the mails through this server wait "
        "in the queue until then.",
    )  # fmt: skip
    mdh_pause_reason = fields.Char("Relay Refusal", compute="_mdh_compute_usage", groups="base.group_system")

    def _mdh_compute_usage(self):
        usages = self.env["mail.server.usage"].sudo().search([("server_id", "in", self.ids)])
        by_server = {usage.server_id: usage for usage in usages}
        now = fields.Datetime.now()
        for server in self:
            usage = by_server.get(server)
            paused = usage and usage.paused_until and usage.paused_until > now
            server.mdh_sent_today = usage._mdh_sent_today() if usage else 0
            server.mdh_paused_until = usage.paused_until if paused else False
            server.mdh_pause_reason = usage.pause_reason if paused else False

    # --- Domain health: the domains this server sends for (see mail.domain.health.mixin) ---

    def _domain_health_depends(self):
        return ["from_filter"]

    def _domain_health_names(self, in_use):
        """Its From Filter's domains, or every domain in use without one."""
        self.ensure_one()
        return domains_of(self.from_filter) if self.from_filter else list(in_use())

    # --- Send path: Odoo decides, with its inputs adjusted ------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """A From filter is stored with its domains in ASCII (IDNA), the form Odoo compares."""
        for vals in vals_list:
            if vals.get("from_filter"):
                vals["from_filter"] = sender.ascii_from_filter(vals["from_filter"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("from_filter"):
            vals = {**vals, "from_filter": sender.ascii_from_filter(vals["from_filter"])}
        return super().write(vals)

    def _mdh_identity_inputs(self, alias_domain=None):
        """What the identity is resolved from: context, alias domain (the company's unless
        ``alias_domain`` is given), identity parameters, configuration file."""
        ctx = self.env.context
        if alias_domain is None:
            alias_domain = self.env.company.sudo().alias_domain_id
        return identity.IdentityInputs(
            context_from=ctx.get("domain_notifications_email") or None,
            context_bounce=ctx.get("domain_bounce_address") or None,
            alias_domain=alias_domain._mdh_values() if alias_domain else None,
            parameters=self.env["ir.config_parameter"].sudo()._mdh_identity_parameters(),
            configured_from=tools.config.get("email_from") or None,
        )

    @api.model
    def _get_default_from_address(self):
        """Odoo's default sender, as the identity the administrator set has it (the company's alias
        domain and the parameters, see ``identity.resolve``): it holds when the alias domain is gone."""
        default = super()._get_default_from_address()

        def resolved():
            found = identity.resolve(
                self.with_context(domain_notifications_email=None)._mdh_identity_inputs()
            )
            return found.default_from.value or default

        return _ours("Reading the default sender", default, resolved)

    @api.model
    def _match_from_filter(self, email_from, from_filter):
        """Odoo's matching on ASCII forms (``mail.éxample.com`` and ``mail.xn--xample-9ua.com`` are one),
        given once per send for the same address and filter."""
        sending = self.env.context.get("mdh_sending")
        key = (email_from, from_filter)
        if sending is not None and key in sending.matches:
            return sending.matches[key]
        if (email_from and not email_from.isascii()) or (from_filter and not from_filter.isascii()):
            email_from = _ours("IDNA form of an address", email_from, sender.ascii_address, email_from)
            from_filter = _ours(
                "IDNA form of a From filter", from_filter, sender.ascii_from_filter, from_filter
            )
        matches = super()._match_from_filter(email_from, from_filter)
        if sending is not None:
            sending.matches[key] = matches
        return matches

    def _find_mail_server(self, email_from, mail_servers=None):
        """Odoo's choice, for the author in its ASCII form (the form From filters are stored in). When
        Odoo would send as the author and the author's domain publishes a strict DMARC policy the
        database cannot pass (``_mdh_relayed``), Odoo's choice for the default sender instead."""
        email_from = _ours("IDNA form of an address", email_from, sender.ascii_address, email_from)
        mail_server, smtp_from = super()._find_mail_server(email_from, mail_servers)
        as_author = smtp_from and smtp_from == email_from
        if as_author and _ours("DMARC-aware relaying", None, self._mdh_relayed, email_from):
            default = self.env.context.get("domain_notifications_email") or self._get_default_from_address()
            if default:
                return super()._find_mail_server(default, mail_servers)
        return mail_server, smtp_from

    def _mdh_relayed(self, email_from):
        """``(domain, policy)`` when mail from ``email_from`` must go out as the default sender
        (``deliverability.relaying``: stored policies, read once per send), else None."""
        sending = self.env.context.get("mdh_sending")
        facts = sending.relay_facts if sending is not None else None
        if facts is None:
            facts = self.env["mail.dmarc.policy"]._dmarc_relay_facts()
            if sending is not None:
                sending.relay_facts = facts
        return facts.policy(email_from)

    def connect(self, host=None, port=None, user=None, password=None, encryption=None, smtp_from=None,
                ssl_certificate=None, ssl_private_key=None, smtp_debug=False, mail_server_id=None,
                allow_archived=False):  # fmt: skip
        """Odoo's connection. For a server given by id (a mail's own server, e.g. mass mailing), an
        author its From filter does not accept is replaced by the default sender when the filter
        accepts that, as Odoo does for the servers it chooses. In a ``mail.mail`` send, the
        connection starts a batch of its ``Sending``."""
        sending = self.env.context.get("mdh_sending")
        if sending is not None:
            server = self.sudo().browse(mail_server_id) if mail_server_id else None
            sending.batch(mail_server_id or None, server.name if server else "")
        if mail_server_id and smtp_from:
            smtp_from = _ours(
                "From filter of a forced server", smtp_from, self._mdh_forced_server_from, mail_server_id,
                smtp_from,
            )  # fmt: skip
        try:
            return getattr(super(), CONNECT)(
                host, port, user, password, encryption, smtp_from, ssl_certificate, ssl_private_key,
                smtp_debug, mail_server_id, allow_archived,
            )  # fmt: skip
        except Exception as exc:
            refusal = self._mdh_deferring(exc) if sending is not None else None
            if refusal is not None:  # the batch waits (mail.mail.send), instead of failing
                raise refusals.Deferred(refusal) from exc
            raise

    def send_email(self, message, *args, **kwargs):
        """Odoo's sending. In a ``mail.mail`` send, a refusal that defers the mail (temporary or a
        quota, ``refusals.from_exception``) is raised as ``refusals.Deferred`` for ``mail.mail`` to
        keep the mail queued; any other failure is Odoo's."""
        sending = self.env.context.get("mdh_sending")
        try:
            message_id = super().send_email(message, *args, **kwargs)
        except Exception as exc:
            refusal = self._mdh_deferring(exc) if sending is not None else None
            deferrals = sending.deferrals if sending is not None else None
            if refusal is not None and deferrals.may_defer and not deferrals.mail_sent:
                raise refusals.Deferred(refusal) from exc
            raise
        if sending is not None:
            sending.deferrals.messages += 1
            sending.deferrals.mail_sent += 1
        return message_id

    @staticmethod
    def _mdh_deferring(exc):
        """The relay's refusal behind ``exc`` when it defers mail, else None."""
        refusal = _ours("Reading a refusal", None, refusals.from_exception, exc)
        return refusal if refusal is not None and refusal.deferred else None

    def _mdh_forced_server_from(self, mail_server_id, smtp_from):
        from_filter = self.sudo().browse(mail_server_id).from_filter
        if self._match_from_filter(smtp_from, from_filter) and not self._mdh_relayed(smtp_from):
            return smtp_from
        default = self.env.context.get("domain_notifications_email") or self._get_default_from_address()
        return default if default and self._match_from_filter(default, from_filter) else smtp_from

    def build_email(self, email_from, *args, **kwargs):
        """Odoo's message, from the author without control characters (CR/LF: no header can be
        injected, the message is not refused) and with its domain in ASCII (IDNA); its
        ``List-Unsubscribe`` fields written as valid fields (folded only at whitespace, never as
        encoded words: one-click unsubscribe keeps working, and DKIM signs them as sent)."""
        if isinstance(email_from, str) and (
            not email_from.isascii() or sender.has_control_characters(email_from)
        ):
            email_from = _ours("Cleaning the author", email_from, self._mdh_clean_author, email_from)
        message = getattr(super(), BUILD_EMAIL)(email_from, *args, **kwargs)
        return _ours("Keeping List-Unsubscribe intact", message, unsubscribe.keep_intact, message)

    @staticmethod
    def _mdh_clean_author(email_from):
        if sender.has_control_characters(email_from):
            _logger.info("Removed control characters from the author %r", email_from)
            email_from = sender.clean_text(email_from)
        return sender.ascii_address(email_from)

    def _prepare_email_message(self, message, smtp_session):
        """Odoo's preparation (From, envelope sender, recipients, Bcc), then ``_mdh_before_smtp``, the
        one step between it and the SMTP session, and the record of what the message is sent as."""
        author = _address(message["From"])
        smtp_from, smtp_to_list, message = getattr(super(), PREPARE_EMAIL_MESSAGE)(message, smtp_session)
        relayed = None
        facts = getattr(self.env.context.get("mdh_sending"), "relay_facts", None)
        if facts is None or facts.strict:  # once per send it is known when no domain is strict
            relayed = _ours("DMARC-aware relaying", None, self._mdh_relay_reply_to, author, message,
                            smtp_session)  # fmt: skip
        try:
            sent = self._mdh_sent_as(author, smtp_from, message, smtp_session)
            if relayed and sent is not None:
                sent = sent.relayed(_(
                    "DMARC: %(domain)s publishes p=%(policy)s (as last looked up): receivers would refuse "
                    "mail from it sent by this database, so it went out from the default sender address "
                    "under the author's name, replies to the catchall.",
                    domain=relayed[0], policy=relayed[1],
                ))  # fmt: skip
        except Exception:
            _logger.warning("Could not record how %s is sent", message["Message-Id"], exc_info=True)
            sent = None
        try:
            sent = self._mdh_before_smtp(message, sent)
        except Exception:
            _logger.warning(
                "The last step before sending %s failed: it goes as it is",
                message["Message-Id"],
                exc_info=True,
            )
        message, note = self._dkim_sign(message, smtp_from, smtp_to_list, explain=sent is not None)
        if note:
            sent = sent.with_note(note)
        sending = self.env.context.get("mdh_sending")
        if sending is not None:
            sending.sent = sent
        if sent is not None and _logger.isEnabledFor(logging.DEBUG):
            _logger.debug(
                "Sending %s as From %s, envelope %s: %s", message["Message-Id"], sent.header_from,
                sent.envelope_from, sent.rule.label,
            )  # fmt: skip
        return smtp_from, smtp_to_list, message

    def _mdh_relay_reply_to(self, author, message, smtp_session):
        """``(domain, policy)`` when the message of ``author`` went out as the default sender because
        of DMARC-aware relaying (the connection's From filter accepts the author), with its Reply-To
        made the catchall when it was the author's address; else None."""
        relayed = self._mdh_relayed(author)
        if not relayed or _address(message["From"]) == author:
            return None
        if not self._match_from_filter(author, getattr(smtp_session, "from_filter", None) or False):
            return None  # Odoo replaced the author anyway: its From filter does not accept it
        if _same_address(_address(message["Reply-To"]), author):
            catchall = self._mdh_catchall()
            if catchall:
                del message["Reply-To"]
                message["Reply-To"] = catchall
        return relayed

    def _mdh_catchall(self):
        """The catchall address of the alias domain whose default sender is in effect (else the
        company's)."""
        default = self.env.context.get("domain_notifications_email") or self._get_default_from_address()
        alias_domain = (
            self.env["mail.alias.domain"]
            .sudo()
            .search([])
            .filtered(lambda d: _same_address(d.default_from_email, default))[:1]
        )
        return identity.resolve(self._mdh_identity_inputs(alias_domain or None)).catchall.value

    def _dkim_sign(self, message, smtp_from, smtp_to_list, explain=True):
        """``(message to send, note)``, once nothing else changes the message: signed with the DKIM
        keys of its From domain (``mail.dkim.key``), sent as the exact bytes signed, or ``message``
        itself, unsigned, when the domain has no key that signs or signing failed (logged). The note,
        with ``explain`` and when the domain has a key, is for the Sent As record."""
        note = None
        try:
            domain = normalize_domain((_address(message["From"]) or "").rpartition("@")[2])
        except ValueError:
            return message, None
        signers = None
        try:
            signers = self._dkim_signers_by_domain().get(domain)
            if signers:
                signed = dkim_sign.sign_message(message, smtp_from, smtp_to_list, signers)
                if explain:
                    selectors = ", ".join(s.selector for s in signers)
                    note = _("DKIM: signed for %(domain)s, selector %(selectors)s.",
                                      domain=domain, selectors=selectors)  # fmt: skip
                return signed, note
            if explain and signers is not None:
                note = _("DKIM: not signed, the key of %s is not published yet.", domain)
        except Exception as exc:  # noqa: BLE001 - a message is never lost to signing
            _logger.warning("DKIM signing of %s failed, sent unsigned: %s", message["Message-Id"], exc)
            if explain:
                note = _("DKIM: not signed, signing failed (%s); see the server log.",
                                  type(exc).__name__)  # fmt: skip
        return message, note

    def _dkim_signers_by_domain(self):
        """``mail.dkim.key._dkim_signers()``, read once per ``mail.mail`` send (its ``Sending``)."""
        sending = self.env.context.get("mdh_sending")
        if sending is None:
            return self.env["mail.dkim.key"]._dkim_signers()
        if sending.signers is None:
            sending.signers = self.env["mail.dkim.key"]._dkim_signers()
        return sending.signers

    def _mdh_sent_as(self, author, smtp_from, message, smtp_session):
        """``SentAs`` of a message Odoo has prepared: its headers and the rules that gave them;
        ``author`` is the address of its From before the preparation."""
        ctx = self.env.context
        default_from = ctx.get("domain_notifications_email") or self._get_default_from_address()
        return_path = message["Return-Path"]
        bounce = ctx.get("domain_bounce_address") or return_path or self._get_default_bounce_address()
        from_filter = getattr(smtp_session, "from_filter", None) or None
        header, reply_to = message["From"], message["Reply-To"]
        rule, envelope_rule = sender.classify(
            author, _address(header), smtp_from, from_filter, default_from, bounce
        )
        return sender.SentAs(
            header_from=str(header or ""),
            envelope_from=smtp_from,
            from_filter=from_filter,
            rule=rule,
            envelope_rule=envelope_rule,
            reply_to=str(reply_to) if reply_to else None,
            return_path=str(return_path) if return_path else None,
        )

    def _mdh_before_smtp(self, message, sent):
        """The last step before ``message`` goes to the SMTP session, after Odoo fully prepared it.

        Called for every message sent through ``ir.mail_server``. ``sent`` (``sender.SentAs``, None
        when it could not be made) is what the message is sent as; return it, with a note added
        (``sent.with_note(...)``) for what this step did: the note reaches the mail's Sent As tab.
        A failure here is logged and the message goes as it is: change ``message`` only once nothing
        can fail any more.
        """
        return sent

    # --- Preview -------------------------------------------------------------------------------------

    @api.model
    def _mdh_preview(self, author, mail_server=None, alias_domain=None):
        """``(SentAs, server name, Identity)`` for a message from ``author`` as ``mail.mail`` sends it
        for a record of ``alias_domain``: the steps of sending (server choice, connection, preparation,
        ``_mdh_before_smtp``), on a connection that is not opened. ``SentAs`` is None when recording
        failed (logged)."""
        servers = self.sudo()
        named = self.env["mail.alias.domain"]._mdh_named_by_parameters()  # as for every record
        alias_domain = named if named is not None else alias_domain or self.env.company.alias_domain_id
        found = identity.resolve(servers._mdh_identity_inputs(alias_domain))
        if alias_domain:
            servers = servers.with_context(
                domain_notifications_email=alias_domain.default_from_email,
                domain_bounce_address=alias_domain.bounce_email,
            )
        message = getattr(servers, BUILD_EMAIL)(
            author or False, ["recipient@example.com"], "Preview", "", reply_to=found.catchall.value or False,
            headers={"Return-Path": found.bounce.value} if found.bounce.value else None,
        )  # fmt: skip
        if mail_server:
            smtp_from = servers._mdh_forced_server_from(mail_server.id, str(message["From"]))
        else:
            mail_server, smtp_from = servers._find_mail_server(str(message["From"] or "") or None)
        session = _UnopenedConnection(
            mail_server.from_filter if mail_server else servers._get_default_from_filter(), smtp_from
        )
        name = mail_server.name if mail_server else CONFIGURATION_SERVER
        sending = sender.Sending(mail_server.id if mail_server else None, name)
        getattr(servers.with_context(mdh_sending=sending), PREPARE_EMAIL_MESSAGE)(message, session)
        return sending.sent, name, found


class _UnopenedConnection:
    """What Odoo's ``connect`` sets on a connection and its preparation reads (preview only)."""

    def __init__(self, from_filter, smtp_from):
        self.from_filter = from_filter
        self.smtp_from = smtp_from
