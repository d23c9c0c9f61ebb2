"""``ir.mail_server``: the seed's From / envelope / server rules on Odoo 18's send path, and the
health of the domains each server sends for.

Odoo's seams are extended, never copied: ``_find_mail_server`` picks the server with
``deliverability.sender`` (Odoo's priorities, IDNA-aware, system parameters honoured),
``connect`` remembers which server a connection is for, ``_prepare_email_message`` sets the From
header the rules decide, lets Odoo prepare the rest of the message, and uses the decided envelope
sender. Any failure of ours falls back to Odoo's own behaviour and is logged: a message is never
lost. No DNS query is made here.

Precedence (see readme/SENDER.rst): a system parameter of the seed that is set
(``mail.default.from``, ``mail.catchall.domain``, ``mail.bounce.alias``) wins over the alias
domain of the record or company and over values other modules pass in the context; an envelope
sender explicitly asked for on the message (a Return-Path that is not the alias domain's bounce
address) still wins over the bounce alias. Without those parameters Odoo's own values apply.
"""

import functools
import logging

from odoo import api, models, tools

from ..deliverability import sender
from .mail_domain_health import domains_of

_logger = logging.getLogger(__name__)

PARAMETERS = ("mail.default.from", "mail.catchall.domain", "mail.bounce.alias")
CALLER_SERVER = "SMTP parameters given by the caller"


@functools.lru_cache(maxsize=1024)
def _explain(decision):
    return decision.explain()


class Scratch(dict):
    """A dict passed in the context for one call (``mail.mail.send()`` / ``_send()``).

    Compared and hashed by identity: Odoo reuses an existing environment whose context is equal,
    and two empty dicts are equal, which would hand another call's dict back.
    """

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


class _PreparingSession:
    """What Odoo's message preparation reads from an SMTP connection: its from_filter, and the
    address it is opened for, here the decided From (so Odoo does not rewrite it again)."""

    def __init__(self, from_filter, smtp_from):
        self.from_filter = from_filter
        self.smtp_from = smtp_from


def _describe(origin, value):
    """A line of the preview's "Settings in Effect"."""
    if origin == "alias":
        return f"mail.default.from and mail.catchall.domain: alias domain {value}"
    if origin == "default":
        return f"default address {value}: alias domain, context or --email-from"
    if origin == "requested":
        return f"Return-Path {value} asked for on the message"
    return f"{origin} = {value} (system parameter)"


def _server_name(server):
    return server.name if server else "an SMTP session given by the caller"


def _domain(address):
    return (address or "").rpartition("@")[2] or None


class IrMailServer(models.Model):
    _name = "ir.mail_server"
    _inherit = ["ir.mail_server", "mail.domain.health.mixin"]

    # --- Domain health: the domains this server sends for (see mail.domain.health.mixin) ---

    def _domain_health_depends(self):
        return ["from_filter"]

    def _domain_health_names(self, in_use):
        """Its From Filter's domains, or every domain in use without one."""
        self.ensure_one()
        return domains_of(self.from_filter) if self.from_filter else list(in_use())

    # --- Send path: settings as they apply ---------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _mdh_sender_parameters(self):
        """The seed's system parameters that are set and valid, as a tuple in ``PARAMETERS`` order.

        Invalid values (stored before this module validated them) are ignored with a warning.
        Cleared with every system parameter change (``ir.config_parameter`` clears the cache).
        """
        icp = self.env["ir.config_parameter"].sudo()
        values = []
        for key in PARAMETERS:
            value = (icp.get_param(key) or "").strip() or None
            error = value and sender.parameter_error(key, value)
            if error:
                _logger.warning("Ignoring system parameter %s=%r: %s", key, value, error)
                value = None
            values.append(value)
        return tuple(values)

    def _mdh_alias_domain(self):
        """The alias domain mail is sent for, when known without a query: the record's one named by
        ``mail.mail``, the company's when the context passes no values of its own, else none."""
        ctx = self.env.context
        domains = self.env["mail.alias.domain"] if self.env.su else self.env["mail.alias.domain"].sudo()
        if ctx.get("mdh_alias_domain_id"):
            return domains.browse(ctx["mdh_alias_domain_id"])
        if ctx.get("domain_bounce_address") or ctx.get("domain_notifications_email"):
            return domains
        return domains.browse(self.env.company.alias_domain_id.id)

    def _mdh_sender_settings(self, return_path=None, explain=False):
        """``(SenderSettings, return_path[, sources])`` for the current context, without a query.

        ``return_path`` is the Return-Path header of the message, if any.
        """
        icp_from, icp_domain, icp_bounce = self._mdh_sender_parameters()
        ctx = self.env.context
        ctx_from, ctx_bounce = ctx.get("domain_notifications_email"), ctx.get("domain_bounce_address")
        alias = self._mdh_alias_domain()
        if alias:
            alias_name, alias_bounce, alias_bounce_alias = alias.name, alias.bounce_email, alias.bounce_alias
        else:  # values of a record's alias domain passed in the context by mail.mail's batching
            alias_name = _domain(ctx_bounce) or _domain(ctx_from)
            alias_bounce, alias_bounce_alias = ctx_bounce, (ctx_bounce or "").rpartition("@")[0]
        sources = []
        # What Odoo 18 itself uses: context (mail.mail batching), company alias domain, --email-from.
        core_from = ctx_from or super()._get_default_from_address()
        if (
            alias
            and alias.default_from
            and "@" not in alias.default_from
            and core_from == alias.default_from_email
        ):
            default_from, catchall = alias.default_from, alias_name
            sources.append(("alias", alias_name))
        else:
            default_from, catchall = core_from, alias_name or None
            if core_from:
                sources.append(("default", core_from))
        requested = ctx_bounce or return_path
        core_bounce = requested or super()._get_default_bounce_address()
        bounce_alias = None
        if icp_from:
            default_from = icp_from
            sources.append(("mail.default.from", icp_from))
        if icp_domain:
            catchall = icp_domain
            sources.append(("mail.catchall.domain", icp_domain))
        if icp_domain or icp_bounce:
            defaults = {alias_bounce, self.env.company.sudo().bounce_email} - {False, None, ""}
            if not requested or requested in defaults:
                bounce_alias = icp_bounce or alias_bounce_alias or "bounce"  # Odoo's default alias
                core_bounce = None
                if icp_bounce:
                    sources.append(("mail.bounce.alias", icp_bounce))
            else:
                sources.append(("requested", requested))
        settings = sender.SenderSettings(
            default_from_filter=None,
            default_from=default_from or None,
            catchall_domain=catchall or None,
            bounce_alias=bounce_alias,
        )
        if core_bounce is None and settings.bounce_mailbox is None:
            core_bounce = requested or super()._get_default_bounce_address()
        if explain:
            return settings, core_bounce or None, [_describe(*source) for source in sources]
        return settings, core_bounce or None

    @api.model
    def _get_default_from_address(self):
        """The seed: ``mail.default.from`` (with ``mail.catchall.domain``) when set, else Odoo's."""
        icp_from, icp_domain, _bounce = self._mdh_sender_parameters()
        if icp_from or icp_domain:
            mailbox = self._mdh_sender_settings()[0].default_from_mailbox
            if mailbox:
                return mailbox.address
        return super()._get_default_from_address()

    @api.model
    def _get_default_bounce_address(self):
        """The seed: ``mail.bounce.alias@mail.catchall.domain`` when set, else Odoo's."""
        _from, icp_domain, icp_bounce = self._mdh_sender_parameters()
        if icp_domain or icp_bounce:
            mailbox = self._mdh_sender_settings()[0].bounce_mailbox
            if mailbox:
                return mailbox.address
        return super()._get_default_bounce_address()

    @api.model
    def _match_from_filter(self, email_from, from_filter):
        """Odoo's matching, IDNA-aware (``mail.éxample.com`` and ``mail.xn--xample-9ua.com`` are one)."""
        return sender.from_filter_allows(from_filter or None, email_from)

    # --- Send path: decisions ------------------------------------------------------------------------

    def _mdh_decide_selection(self, email_from, mail_servers):
        """The decision when no connection is open yet (servers and settings from the database)."""
        servers = mail_servers if mail_servers is not None else self.sudo().search([], order="sequence")
        servers = servers.filtered("active")
        settings, return_path = self._mdh_sender_settings()
        if not servers:
            settings = sender.SenderSettings(
                default_from_filter=self._get_default_from_filter() or None,
                default_from=settings.default_from,
                catchall_domain=settings.catchall_domain,
                bounce_alias=settings.bounce_alias,
            )
        inp = sender.SenderInput(
            author=email_from or None,
            settings=settings,
            servers=tuple(sender.Server(s.id, s.name, s.from_filter or None) for s in servers),
            return_path=return_path,
        )
        return sender.decide(inp), servers

    def _mdh_decide_connection(self, author, return_path, smtp_session):
        """The decision for a message on an open connection (its server and from_filter are fixed).

        Settings and decisions are kept for one ``mail.mail.send()`` (context ``mdh_send_cache``), else
        on the connection (one batch: same server, alias domain and author): the configuration
        does not change meanwhile. Decisions depend on the connection's server, hence the key.
        """
        ctx = self.env.context
        context_key = (
            ctx.get("mdh_alias_domain_id"),
            ctx.get("domain_notifications_email"),
            ctx.get("domain_bounce_address"),
            return_path,
            self.env.company.id,
        )
        connection = getattr(smtp_session, "mdh_connection", None)
        if connection is None:
            connection = sender.Connection(
                server=getattr(smtp_session, "mdh_server", None),
                from_filter=getattr(smtp_session, "from_filter", None) or None,
                opened_for=getattr(smtp_session, "smtp_from", None) or None,
                filter_source=getattr(smtp_session, "mdh_filter_source", sender.FilterSource.SESSION),
            )
        key = (author, context_key, connection)
        cache = ctx.get("mdh_send_cache")
        if cache is None:
            cache = getattr(smtp_session, "mdh_cache", None)
        if cache is not None and key in cache:
            return cache[key]
        resolved = cache.get(context_key) if cache is not None else None
        if resolved is None:
            resolved = self._mdh_sender_settings(return_path=return_path)
        settings, envelope = resolved
        decision = sender.decide(sender.SenderInput(author, settings, (), envelope, connection))
        if cache is not None:
            cache[context_key] = resolved
            cache[key] = decision
        return decision

    # --- Send path: Odoo's seams ---------------------------------------------------------------------

    def _find_mail_server(self, email_from, mail_servers=None):
        try:
            decision, servers = self._mdh_decide_selection(email_from, mail_servers)
        except Exception:
            _logger.warning(
                "Sender rules failed for %r: Odoo's own server selection is used", email_from, exc_info=True
            )
            return super()._find_mail_server(email_from, mail_servers)
        if not decision.applicable:
            return super()._find_mail_server(email_from, mail_servers)
        for warning in decision.warnings:
            _logger.warning("Outgoing mail from %r: %s", email_from, warning)
        probe = self.env.context.get("mdh_connect_probe")
        if probe is not None:
            probe["server"] = decision.server
        server = (
            next((s for s in servers if s.id == decision.server.key), None) if decision.server.key else None
        )
        return server, decision.connection_from

    def connect(self, host=None, port=None, user=None, password=None, encryption=None, smtp_from=None,
                ssl_certificate=None, ssl_private_key=None, smtp_debug=False, mail_server_id=None,
                allow_archived=False):  # fmt: skip
        """Odoo's connection, remembering which server it is for (the decision needs it later)."""
        probe = {}
        connection = super(IrMailServer, self.with_context(mdh_connect_probe=probe)).connect(
            host, port, user, password, encryption, smtp_from, ssl_certificate, ssl_private_key,
            smtp_debug, mail_server_id, allow_archived,
        )  # fmt: skip
        if connection is not None:
            try:
                if mail_server_id:
                    record = self.sudo().browse(mail_server_id)
                    server = sender.Server(record.id, record.name, record.from_filter or None)
                elif host:
                    server = sender.Server(None, CALLER_SERVER, connection.from_filter or None)
                else:
                    server = probe.get("server") or sender.Server(
                        None, sender.CONFIGURATION_SERVER_NAME, connection.from_filter or None
                    )
                connection.mdh_server = server
                connection.mdh_filter_source = (
                    sender.FilterSource.SERVER if server.key else sender.FilterSource.DEFAULT
                )
                connection.mdh_cache = {}
                connection.mdh_connection = sender.Connection(
                    server,
                    connection.from_filter or None,
                    connection.smtp_from or None,
                    connection.mdh_filter_source,
                )
            except Exception:
                _logger.warning("Could not note the server of an SMTP connection", exc_info=True)
        return connection

    def build_email(self, email_from, *args, **kwargs):
        """Odoo's message, with control characters (CR/LF) removed from the author so that no header
        can be injected and the message is not refused."""
        if isinstance(email_from, str) and sender.has_control_characters(email_from):
            _logger.info("Removed control characters from the author %r", email_from)
            email_from = sender.clean_text(email_from)
        return super().build_email(email_from, *args, **kwargs)

    def _prepare_email_message(self, message, smtp_session):
        """Odoo's preparation (recipients, Bcc, X-Forge-To, checks), with the From header and the
        envelope sender the rules decide.

        The decided From is set first and Odoo prepares the message on a view of the connection
        opened for that very From, so that it has nothing left to rewrite; the envelope sender is
        the decided one. Without a decision (nothing to send from, or any failure of ours) Odoo's
        own rules apply, unchanged.
        """
        header = message["From"]
        author = str(header) if header else None
        session, decision = smtp_session, None
        try:
            ctx = self.env.context
            return_path = None if ctx.get("domain_bounce_address") else message["Return-Path"]
            decision = self._mdh_decide_connection(
                author, str(return_path) if return_path else None, smtp_session
            )
            if not decision.applicable:
                decision = None
            else:
                if not self._mdh_same_from(header, decision.from_mailbox):
                    del message["From"]
                    message["From"] = header = decision.header_from
                session = _PreparingSession(getattr(smtp_session, "from_filter", False), str(header))
                if ctx.get("mdh_sender_log") is not None:
                    # noted now: Odoo may still refuse the message (no valid recipient)
                    self._mdh_note(decision.header_from, decision.envelope_from, decision, decision.server)
        except Exception:
            _logger.warning("Sender rules failed for %r: Odoo's own rules apply", author, exc_info=True)
            session, decision = smtp_session, None
        smtp_from, smtp_to_list, message = super()._prepare_email_message(message, session)
        if decision is not None:
            smtp_from = decision.envelope_from
        self._mdh_note_sent(message, smtp_from, smtp_session, decision)
        return smtp_from, smtp_to_list, message

    @api.model
    def _mdh_same_from(self, header, mailbox):
        """True when the From ``header`` already says ``mailbox``: same name and address, ASCII domain."""
        if header is None or mailbox is None:
            return False
        addresses = getattr(header, "addresses", None)  # a parsed header (EmailMessage): no parsing
        if addresses is not None:
            return len(addresses) == 1 and (
                addresses[0].display_name,
                addresses[0].username,
                addresses[0].domain,
            ) == (mailbox.name, mailbox.local, mailbox.domain)
        text = str(header)
        return sender.is_sendable(text) and sender.parse_mailbox(text) == mailbox

    def _mdh_note_sent(self, message, smtp_from, smtp_session, decision):
        """Say how the message is sent: debug log, and ``mail.mail`` fields through the context."""
        if self.env.context.get("mdh_sender_log") is None and not _logger.isEnabledFor(logging.DEBUG):
            return
        server = decision.server if decision else getattr(smtp_session, "mdh_server", None)
        header_from = str(message["From"] or "")
        rule = self._mdh_note(header_from, smtp_from, decision, server)
        _logger.debug(
            "Sending %s as From %s, envelope %s, through %s: %s",
            message["Message-Id"], header_from, smtp_from, _server_name(server), rule.label,
        )  # fmt: skip

    def _mdh_note(self, header_from, envelope_from, decision, server):
        """Keep the values ``mail.mail`` records (see MailMail.write); return the rule."""
        rule = decision.rule if decision else sender.Rule.CORE_FALLBACK
        collector = self.env.context.get("mdh_sender_log")
        if collector is not None:
            collector["last"] = {
                "mdh_sent_from": header_from,
                "mdh_envelope_from": envelope_from,
                "mdh_mail_server_id": server.key if server and server.key else False,
                "mdh_smtp_server": _server_name(server),
                "mdh_sender_rule": rule.value,
                "mdh_sender_explanation": _explain(decision) if decision else rule.label,
            }
        return rule

    # --- Preview -------------------------------------------------------------------------------------

    @api.model
    def _mdh_preview(self, author, mail_server=None, alias_domain=None):
        """``(decision, sources)`` for a message from ``author`` as ``mail.mail`` would send it.

        Same steps as sending: the server is chosen (unless ``mail_server`` is forced), a connection is
        opened for the address chosen, and the rules are applied on it with the alias domain's context.
        """
        servers = self.sudo()
        if alias_domain:
            servers = servers.with_context(
                mdh_alias_domain_id=alias_domain.id,
                domain_notifications_email=alias_domain.default_from_email,
                domain_bounce_address=alias_domain.bounce_email,
            )
        settings, return_path, sources = servers._mdh_sender_settings(explain=True)
        if mail_server:
            connection = sender.Connection(
                sender.Server(mail_server.id, mail_server.name, mail_server.from_filter or None),
                mail_server.from_filter or None,
                author,
            )
        else:
            chosen = servers._mdh_decide_selection(author, None)[0]
            source = sender.FilterSource.SERVER if chosen.server.key else sender.FilterSource.DEFAULT
            connection = sender.Connection(chosen.server, chosen.from_filter, chosen.connection_from, source)
        decision = sender.decide(sender.SenderInput(author, settings, (), return_path, connection))
        return decision, sources
