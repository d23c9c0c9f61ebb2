"""Which From, envelope sender and SMTP server an outgoing message uses: the seed's rules, as pure code.

The seed's section "Use a default email address", one rule per sentence:

* ``mail.default.from`` is a local part or a full address; ``mail.default.from_filter`` (and the
  ``from_filter`` of a server) a domain or a full address, here also a comma-separated list of them,
  compared case-insensitively and IDNA-aware;
* ``mail.default.from_filter`` applies when the SMTP server comes from the configuration (no
  ``ir.mail_server`` record), the server's own ``from_filter`` otherwise;
* an author the from_filter accepts is sent unchanged; any other is replaced by ``mail.default.from``
  (a full address) or ``mail.default.from@mail.catchall.domain``, keeping the author's name;
* when the from_filter names the very address of ``mail.default.from``, every other address is
  encapsulated in it (``"Jane Doe" <notifications@example.com>``);
* the envelope sender (Return-Path, where SPF is checked) is the bounce address when the from_filter
  accepts it.

Server selection follows Odoo 18's priorities (author address, author domain, default address, default
domain, a server without from_filter, the first server); on a connection already opened (a batch, a
server forced by the caller) the rules above are applied with that server's from_filter.

Nothing here raises on hostile input: an unusable address is treated as missing, names lose control
characters and are quoted, domains are IDNA-encoded, so a header built from a decision is never
injected or malformed. No I/O: the alignment verdict works from health facts given by the caller.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses

from .domains import normalize_domain, organizational_domain
from .findings import Status

SEED_VALUE_SENTENCES = (
    "mail.default.from: accepts the local part or a complete email address as value",
    "mail.default.from_filter: accepts a domain name or a full email address as value",
)
SEED_FILTER_NOTE = (
    "The mail.default.from_filter works only for flectra-bin configurations, otherwise this parameter "
    "can be set using the from_filter field on ir.mail_server."
)
SEED_REPLACE = (
    "If the email address of the author does not match mail.default.from_filter, the email address is "
    "replaced by mail.default.from (if it contains a full email address) or a combination of "
    "mail.default.from and mail.catchall.domain."
)
SEED_ENCAPSULATE = (
    "If the from_filter contains a full email address, and if the mail.default.from is the same as this "
    "address, then all of the email addresses that are different from mail.default.from will be "
    "encapsulated in mail.default.from."
)
SEED_SPF_NOTE = (
    "The SPF verification is performed on the domain mentioned in the Return-Path field of the email. "
    "In the case of an email sent by Flectra, this domain corresponds to the value of the "
    "mail.catchall.domain key in the database system parameters."
)


class Rule(str, enum.Enum):
    """Why the From header (or the envelope sender) is what it is."""

    AUTHOR_MATCHES = "author_matches"
    NO_FROM_FILTER = "no_from_filter"
    DEFAULT_FROM_ADDRESS = "default_from_address"
    DEFAULT_FROM_CATCHALL = "default_from_catchall"
    ENCAPSULATED = "encapsulated"
    AUTHOR_NOT_ALLOWED = "author_not_allowed"
    CONNECTION_FROM = "connection_from"
    NO_SENDER = "no_sender"
    BOUNCE_ADDRESS = "bounce_address"
    FROM_ADDRESS = "from_address"
    CORE_FALLBACK = "core_fallback"

    @property
    def label(self) -> str:
        return _RULE_TEXT[self][0]

    @property
    def sentence(self) -> str | None:
        """The sentence of the seed that decided, or None for Odoo's own fallbacks."""
        return _RULE_TEXT[self][1]


_RULE_TEXT = {
    Rule.AUTHOR_MATCHES: ("The from_filter accepts the author: sent unchanged", SEED_REPLACE),
    Rule.NO_FROM_FILTER: ("No from_filter: the server accepts any author, sent unchanged", None),
    Rule.DEFAULT_FROM_ADDRESS: ("Replaced by mail.default.from (a full address)", SEED_REPLACE),
    Rule.DEFAULT_FROM_CATCHALL: ("Replaced by mail.default.from @ mail.catchall.domain", SEED_REPLACE),
    Rule.ENCAPSULATED: ("Encapsulated in mail.default.from, the from_filter's address", SEED_ENCAPSULATE),
    Rule.AUTHOR_NOT_ALLOWED: ("No default address to use: sent as the author, not allowed", None),
    Rule.CONNECTION_FROM: ("Sent as the address the SMTP connection was opened for", None),
    Rule.NO_SENDER: ("No usable author, default or bounce address: Odoo's own handling", None),
    Rule.BOUNCE_ADDRESS: ("Envelope: the bounce address, accepted by the from_filter", SEED_SPF_NOTE),
    Rule.FROM_ADDRESS: ("Envelope: the From address (the bounce address is not allowed)", SEED_SPF_NOTE),
    Rule.CORE_FALLBACK: ("Rewriting failed: Odoo's own behaviour was used", None),
}


class FilterSource(str, enum.Enum):
    """Where the from_filter that applied comes from (the seed's Note)."""

    SERVER = "server"
    DEFAULT = "default"
    SESSION = "session"


# --------------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_DOT_ATOM = re.compile(rf"^{_ATEXT}+(?:\.{_ATEXT}+)*$")
_SINGLE_LABEL = re.compile(r"^[a-z0-9_-]{1,63}$")
_UNCLEAN = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]|\s\s|[^\S ]")
# an ASCII domain that deliverability.domains.normalize_domain accepts as it is
_PLAIN_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)+(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_ESCAPE = re.compile(r'[\\"]')


def clean_text(text: str) -> str:
    """``text`` without control characters (CR, LF, NUL...) and with runs of spaces collapsed."""
    if not _UNCLEAN.search(text):
        return text.strip()
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def _ascii_domain(text: str) -> str | None:
    """The lower-case ASCII form of a domain, None when it is not one.

    Non-ASCII labels may hold only letters, marks, digits and hyphens: symbols and punctuation that
    IDNA 2003 still encodes (``example¢¡.com``) are refused by IDNA 2008, hence by Odoo and by mail
    servers.
    """
    value = text.strip().rstrip(".").lower()
    if _PLAIN_DOMAIN.match(value):
        return value
    if not value.isascii() and any(
        not (char.isascii() or unicodedata.category(char)[0] in "LMN") for char in value
    ):
        return None
    try:
        return normalize_domain(value)
    except ValueError:
        return value if _SINGLE_LABEL.match(value) else None


@dataclass(frozen=True)
class Mailbox:
    """One address: display name (cleaned), local part, ASCII domain (IDNA-encoded when it was not)."""

    name: str
    local: str
    domain: str

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"

    @functools.cached_property
    def domain_key(self) -> str:
        return self.domain.lower()

    @functools.cached_property
    def key(self) -> str:
        """Comparison key: ASCII local parts are case-insensitive, as for Odoo's ``email_normalize``."""
        local = self.local.lower() if self.local.isascii() else self.local
        return f"{local}@{self.domain_key}"


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([text], strict=False)
    except TypeError:  # Python without the ``strict`` switch parses leniently already
        return getaddresses([text])


_ADDR = r"[^<>\s\"(),;:\\\[\]@]+@[^<>\s\"(),;:\\\[\]@]+"
# The usual shapes, parsed without the email package: "Name" <a@b>, Name <a@b>, a@b
_SIMPLE = re.compile(
    rf'^\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<plain>[^"<>,;:@\\()\[\]]*?))\s*<(?P<addr>{_ADDR})>\s*$'
    rf"|^\s*(?P<bare>{_ADDR})\s*$"
)
_UNESCAPE = re.compile(r"\\(.)")


def _name_and_address(text: str) -> tuple[str, str] | None:
    match = _SIMPLE.match(text)
    if match:
        if match["bare"]:
            return "", match["bare"]
        quoted = match["quoted"]
        name = (
            match["plain"] if quoted is None else _UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
        )
        return name, match["addr"]
    pairs = [(name, addr) for name, addr in _pairs(text) if addr]
    return pairs[0] if len(pairs) == 1 else None


@functools.lru_cache(maxsize=8192)
def _parse(text: str) -> tuple[Mailbox | None, bool]:
    """(mailbox, sendable as it is) for ``text``."""
    cleaned = clean_text(text)
    found = _name_and_address(cleaned)
    if found is None:
        return None, False
    name, addr = found
    local, at, domain = addr.strip().rpartition("@")
    if not at or not _DOT_ATOM.match(local):
        return None, False
    domain = domain.strip().rstrip(".")
    ascii_domain = domain if domain.isascii() and _ascii_domain(domain) else _ascii_domain(domain)
    if not ascii_domain:
        return None, False
    name = clean_text(name)
    mailbox = Mailbox("" if name == addr else name, local, ascii_domain)
    return mailbox, cleaned == text.strip() and ascii_domain == domain


def parse_mailbox(text: str | None) -> Mailbox | None:
    """The single mailbox in ``text`` (``Name <local@domain>`` or a bare address), else None.

    None for anything unusable: empty, several addresses, no ``@``, a local part that is not a
    dot-atom, a domain that is not a domain name.
    """
    if not text or not isinstance(text, str):
        return None
    return _parse(text)[0]


def is_sendable(text: str | None) -> bool:
    """True when ``text`` is one usable mailbox that can go out as it is: one line, ASCII domain."""
    if not text or not isinstance(text, str):
        return False
    return _parse(text)[1]


def name_hint(text: str | None) -> str:
    """A display name for ``text`` even when it is not a usable address (the first name or local part)."""
    for name, addr in _pairs(clean_text(text or "")):
        hint = clean_text(name) or clean_text(addr).partition("@")[0]
        if hint:
            return hint
    return ""


def format_mailbox(name: str, address: str) -> str:
    """``"Name" <address>`` with the name cleaned and quoted (Odoo's ``formataddr`` layout), or the address.

    Non-ASCII names stay as text: the message's policy encodes them (RFC 2047) when it is serialized.
    """
    name = clean_text(name)
    if not name:
        return address
    return '"{}" <{}>'.format(_ESCAPE.sub(r"\\\g<0>", name), address)


def encapsulate(author: Mailbox | None, author_text: str | None, into: Mailbox) -> Mailbox:
    """``into``'s address under the author's name, or the author's local part when it has none."""
    name = clean_text((author.name or author.local) if author else name_hint(author_text))
    return Mailbox(name, into.local, into.domain)


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds CR, LF or another control character (a header injection attempt)."""
    return bool(_CONTROL.search(text))


# --------------------------------------------------------------------------------------------------
# from_filter
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromFilter:
    """A parsed from_filter: full addresses and domains; ``unrestricted`` when it is not set at all."""

    unrestricted: bool
    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    invalid: tuple[str, ...] = ()

    def allows(self, mailbox: Mailbox | None) -> bool:
        if mailbox is None:
            return False
        return self.unrestricted or mailbox.key in self.addresses or mailbox.domain_key in self.domains


@functools.lru_cache(maxsize=1024)
def parse_from_filter(text: str | None) -> FromFilter:
    """Parse a from_filter: comma-separated domains and/or full addresses.

    As in Odoo, an unset (empty) filter accepts every address, while a filter whose entries are all
    blank or unusable accepts none.
    """
    if not text:
        return FromFilter(unrestricted=True)
    addresses, domains, invalid = set(), set(), []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "@" in part:
            mailbox = parse_mailbox(part)
            addresses.add(mailbox.key) if mailbox else invalid.append(part)
        else:
            domain = _ascii_domain(part)
            domains.add(domain) if domain else invalid.append(part)
    return FromFilter(False, frozenset(addresses), frozenset(domains), tuple(invalid))


def from_filter_allows(from_filter: str | None, address: str | None) -> bool:
    """True when ``from_filter`` accepts ``address`` (a bare or formatted address)."""
    return parse_from_filter(from_filter).allows(parse_mailbox(address))


# --------------------------------------------------------------------------------------------------
# Inputs and decision
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """An outgoing server: ``key`` is the ``ir.mail_server`` id, None for the one of the configuration."""

    key: int | None
    name: str
    from_filter: str | None = None


CONFIGURATION_SERVER_NAME = "SMTP server of the configuration (odoo-bin / odoo.conf)"


@dataclass(frozen=True)
class SenderSettings:
    """The parameters of the seed, as they apply (system parameters or their alias-domain equivalents)."""

    default_from_filter: str | None = None  # mail.default.from_filter (or --from-filter)
    default_from: str | None = None  # mail.default.from: a local part or a full address
    catchall_domain: str | None = None  # mail.catchall.domain
    bounce_alias: str | None = None  # mail.bounce.alias: local part of the bounce address

    @functools.cached_property
    def default_from_mailbox(self) -> Mailbox | None:
        """mail.default.from when it is a full address, else combined with mail.catchall.domain."""
        value = (self.default_from or "").strip()
        if "@" in value:
            return parse_mailbox(value)
        if value and self.catchall_domain:
            return parse_mailbox(f"{value}@{self.catchall_domain.strip()}")
        return None

    @functools.cached_property
    def bounce_mailbox(self) -> Mailbox | None:
        if self.bounce_alias and self.catchall_domain:
            return parse_mailbox(f"{self.bounce_alias.strip()}@{self.catchall_domain.strip()}")
        return None


@dataclass(frozen=True)
class Connection:
    """An SMTP connection already opened: its server is fixed.

    ``opened_for`` is the address it was opened for (Odoo's ``smtp_from``), ``server`` None when a
    caller handed over a session of its own.
    """

    server: Server | None
    from_filter: str | None
    opened_for: str | None = None
    filter_source: FilterSource = FilterSource.SERVER


@dataclass(frozen=True)
class SenderInput:
    """What decides how a message is sent.

    ``servers`` are the active ``ir.mail_server`` records by priority (empty: the server of the
    configuration, with ``settings.default_from_filter``); ``return_path`` an envelope sender the
    caller asked for (it wins over the bounce alias); ``connection`` fixes the server.
    """

    author: str | None
    settings: SenderSettings = SenderSettings()
    servers: tuple[Server, ...] = ()
    return_path: str | None = None
    connection: Connection | None = None


@dataclass(frozen=True)
class SenderDecision:
    """How the message is sent, and why."""

    header_from: str
    envelope_from: str
    server: Server | None
    from_filter: str | None
    filter_source: FilterSource
    rule: Rule
    envelope_rule: Rule
    connection_from: str
    warnings: tuple[str, ...] = ()
    from_mailbox: Mailbox | None = None  # header_from, parsed

    @property
    def applicable(self) -> bool:
        """False when there was nothing to send from (the caller keeps its own behaviour)."""
        return self.rule is not Rule.NO_SENDER

    def explain(self) -> str:
        """A few lines for an administrator: what was decided, by which sentence of the seed."""
        server = self.server.name if self.server else "an SMTP session given by the caller"
        source = {
            FilterSource.SERVER: "the server's from_filter",
            FilterSource.DEFAULT: "mail.default.from_filter (no outgoing server record)",
            FilterSource.SESSION: "the session's from_filter",
        }[self.filter_source]
        lines = [
            f"From: {self.header_from} - {self.rule.label}.",
            f"Envelope sender: {self.envelope_from} - {self.envelope_rule.label}.",
            f"Server: {server}; from_filter {self.from_filter or '(none)'} from {source}.",
        ]
        lines += [
            f'Seed: "{s}"' for s in dict.fromkeys((self.rule.sentence, self.envelope_rule.sentence)) if s
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _select(author, default, servers, default_from_filter):
    """Odoo 18's server priorities: (server, from_filter, source, preferred sender, warnings)."""
    if not servers:
        server = Server(None, CONFIGURATION_SERVER_NAME, default_from_filter)
        return server, default_from_filter, FilterSource.DEFAULT, None, ()
    filters = [(server, parse_from_filter(server.from_filter)) for server in servers]
    for mailbox in (author, default):
        if mailbox is None:
            continue
        for attribute, value in (("addresses", mailbox.key), ("domains", mailbox.domain_key)):
            for server, parsed in filters:
                if server.from_filter and value in getattr(parsed, attribute):
                    return server, server.from_filter, FilterSource.SERVER, mailbox, ()
    for server in servers:
        if not server.from_filter:
            return server, None, FilterSource.SERVER, default or author, ()
    first = servers[0]
    warning = (
        f"no outgoing server's from_filter accepts the author or the default address; using {first.name}"
    )
    return first, first.from_filter, FilterSource.SERVER, default or author, (warning,)


def _sender(parsed, author, default, preferred):
    """The address to send as on a server: the preferred one, the author, the default one, if allowed."""
    for mailbox in (preferred, author, default):
        if parsed.allows(mailbox):
            return mailbox, True
    return default or preferred or author, False


def decide(inp: SenderInput) -> SenderDecision:
    """The From header, envelope sender and server for ``inp``, with the rule that decided."""
    author = parse_mailbox(inp.author)
    settings = inp.settings
    default = settings.default_from_mailbox
    warnings: list[str] = []
    if inp.connection is None:
        server, filter_text, source, preferred, found = _select(
            author, default, inp.servers, settings.default_from_filter
        )
        warnings += found
    else:
        conn = inp.connection
        server, filter_text, source = conn.server, conn.from_filter, conn.filter_source
        preferred = parse_mailbox(conn.opened_for) or author
    parsed = parse_from_filter(filter_text)
    if parsed.invalid:
        warnings.append(
            f"from_filter entries that are neither a domain nor an address: {', '.join(parsed.invalid)}"
        )
    sender, allowed = _sender(parsed, author, default, preferred)
    if author is None and inp.author:
        warnings.append(f"the author {clean_text(inp.author)!r} is not a usable address")

    if sender is None:
        text = clean_text(inp.author or "")
        return SenderDecision(
            text, "", server, filter_text, source, Rule.NO_SENDER, Rule.NO_SENDER, text, tuple(warnings)
        )
    if author is not None and sender.key == author.key:
        header = inp.author if is_sendable(inp.author) else format_mailbox(author.name, author.address)
        connection_from, mailbox = header, author
        if parsed.unrestricted:
            rule = Rule.NO_FROM_FILTER
        elif allowed:
            rule = Rule.AUTHOR_MATCHES
        else:
            rule = Rule.AUTHOR_NOT_ALLOWED
            warnings.append("the from_filter does not accept the author and no default address is set")
    elif default is not None and sender.key == default.key:
        mailbox = encapsulate(author, inp.author, default)
        header = format_mailbox(mailbox.name, mailbox.address)
        connection_from = default.address
        if default.key in parsed.addresses:
            rule = Rule.ENCAPSULATED
        elif "@" in (settings.default_from or ""):
            rule = Rule.DEFAULT_FROM_ADDRESS
        else:
            rule = Rule.DEFAULT_FROM_CATCHALL
        if not allowed:
            warnings.append(f"the from_filter does not accept the default address {default.address} either")
    else:
        header, mailbox = format_mailbox(sender.name, sender.address), sender
        connection_from = inp.connection.opened_for if inp.connection else sender.address
        rule = Rule.CONNECTION_FROM

    bounce = parse_mailbox(inp.return_path) or settings.bounce_mailbox
    if inp.return_path and bounce is not parse_mailbox(inp.return_path):
        warnings.append(f"the requested Return-Path {clean_text(inp.return_path)!r} is not a usable address")
    candidate = bounce or author
    if parsed.allows(candidate):
        envelope = candidate.address
        envelope_rule = Rule.BOUNCE_ADDRESS if candidate is bounce else Rule.FROM_ADDRESS
    else:
        envelope, envelope_rule = sender.address, Rule.FROM_ADDRESS
    if not envelope.isascii():
        warnings.append(
            f"the envelope sender {envelope} has a non-ASCII local part: the server needs SMTPUTF8"
        )
    return SenderDecision(
        header,
        envelope,
        server,
        filter_text,
        source,
        rule,
        envelope_rule,
        connection_from,
        tuple(warnings),
        mailbox,
    )


# --------------------------------------------------------------------------------------------------
# Validation of the system parameters
# --------------------------------------------------------------------------------------------------


def _local_part_error(value: str) -> str | None:
    if not value.isascii() or not _DOT_ATOM.match(value):
        return "it is not a valid local part (letters, digits, dots and !#$%&'*+/=?^_`{|}~- only)"
    return None


def _address_error(value: str) -> str | None:
    local, _, domain = value.rpartition("@")
    if not local or _local_part_error(local):
        return f"{local!r} is not a valid local part"
    try:
        normalize_domain(domain)
    except ValueError as exc:
        return str(exc)
    return None


def _domain_error(value: str) -> str | None:
    if "@" in value:
        return "give the domain only, without a local part and '@'"
    try:
        normalize_domain(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_default_from(value: str) -> str | None:
    reason = _address_error(value) if "@" in value else _local_part_error(value)
    if reason:
        return (
            f"mail.default.from must be a local part (notifications) or a full email address "
            f"(notifications@example.com) without a name: {value!r} is neither, {reason}."
        )
    return None


def _check_from_filter(value: str) -> str | None:
    for part in (p.strip() for p in value.split(",")):
        reason = part and (_address_error(part) if "@" in part else _domain_error(part))
        if reason:
            return (
                "mail.default.from_filter must be a domain name (example.com) or a full email address "
                "(notifications@example.com), or a comma-separated list of them: "
                f"{part!r} is neither, {reason}."
            )
    return None


def _check_catchall_domain(value: str) -> str | None:
    reason = _domain_error(value)
    if reason:
        return f"mail.catchall.domain must be a domain name such as example.com: {value!r} is not, {reason}."
    return None


def _check_bounce_alias(value: str) -> str | None:
    reason = "give the local part only, without '@'" if "@" in value else _local_part_error(value)
    if reason:
        return (
            f"mail.bounce.alias must be the local part of the bounce address (bounce): {value!r}: {reason}."
        )
    return None


PARAMETER_CHECKS: dict[str, Callable[[str], str | None]] = {
    "mail.default.from": _check_default_from,
    "mail.default.from_filter": _check_from_filter,
    "mail.catchall.domain": _check_catchall_domain,
    "mail.bounce.alias": _check_bounce_alias,
}


def parameter_error(key: str, value: str | None) -> str | None:
    """Why ``value`` is not acceptable for the system parameter ``key``, or None (empty means unset)."""
    check = PARAMETER_CHECKS.get(key)
    if check is None or value is None or value is False:
        return None
    text = str(value)
    if _CONTROL.search(text):
        return f"{key} must be on one line: control characters (CR, LF, ...) are not allowed."
    text = text.strip()
    return check(text) if text else None


# --------------------------------------------------------------------------------------------------
# SPF / DMARC alignment from known facts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainHealth:
    """Last known verdicts of a domain (no DNS here): None when that check never ran."""

    spf: Status | None = None
    dkim: Status | None = None
    dmarc: Status | None = None
    dmarc_policy: str | None = None  # none / quarantine / reject, None without a DMARC record


@dataclass(frozen=True)
class Alignment:
    """Whether a message sent as decided would pass DMARC, given what is known of its domains."""

    status: Status
    from_domain: str
    envelope_domain: str
    spf_aligned: bool
    reasons: tuple[str, ...]


def _domain_of(text: str) -> str | None:
    mailbox = parse_mailbox(text)
    return mailbox.domain_key if mailbox else None


def alignment(
    header_from: str, envelope_from: str, health: Callable[[str], DomainHealth | None]
) -> Alignment:
    """DMARC alignment (RFC 7489, relaxed) of a From header and an envelope sender.

    SPF counts when it passes for the envelope domain (the seed's Note) and that domain shares the
    From domain's organizational domain; DKIM counts when the From domain's provider key is published
    (the provider signs with the From domain). ``health`` gives the last known verdicts of a domain.
    """
    from_domain, envelope_domain = _domain_of(header_from), _domain_of(envelope_from)
    if not from_domain or not envelope_domain:
        return Alignment(
            Status.UNKNOWN, from_domain or "", envelope_domain or "", False, ("no usable address",)
        )
    aligned = organizational_domain(from_domain) == organizational_domain(envelope_domain)
    from_health, envelope_health = health(from_domain), health(envelope_domain)
    reasons = [
        f"SPF is checked on {envelope_domain} (envelope sender); it is "
        + ("aligned with" if aligned else "not aligned with")
        + f" the From domain {from_domain} (relaxed alignment: same organizational domain)."
    ]
    spf_ok = bool(envelope_health and envelope_health.spf is Status.PASS)
    dkim_ok = bool(from_health and from_health.dkim is Status.PASS)
    if spf_ok and aligned:
        reasons.append(f"SPF passes for {envelope_domain}: DMARC passes through SPF.")
    if dkim_ok:
        reasons.append(f"DKIM is published for {from_domain}: DMARC passes through DKIM.")
    if (spf_ok and aligned) or dkim_ok:
        return Alignment(Status.PASS, from_domain, envelope_domain, aligned, tuple(reasons))
    unknown = [d for d, h in ((from_domain, from_health), (envelope_domain, envelope_health)) if h is None]
    if unknown:
        reasons.append(
            f"No health check is known for {', '.join(dict.fromkeys(unknown))}: run the Domain Health check."
        )
        return Alignment(Status.UNKNOWN, from_domain, envelope_domain, aligned, tuple(reasons))
    reasons.append(
        f"Neither aligned SPF nor DKIM passes for {from_domain}"
        + ("" if aligned else f" (SPF would pass only for {envelope_domain}, another domain)")
        + "."
    )
    policy = from_health.dmarc_policy if from_health else None
    if policy in ("quarantine", "reject"):
        reasons.append(f"{from_domain} publishes DMARC p={policy}: receivers will {policy} this message.")
        return Alignment(Status.FAIL, from_domain, envelope_domain, aligned, tuple(reasons))
    reasons.append(
        f"{from_domain} publishes DMARC p=none: delivered, but unauthenticated."
        if policy == "none"
        else f"{from_domain} publishes no DMARC policy: delivered, but unauthenticated."
    )
    return Alignment(Status.WARNING, from_domain, envelope_domain, aligned, tuple(reasons))
