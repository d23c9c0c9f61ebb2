"""How an outgoing message is addressed, as pure code: addresses, from_filters, what a message was sent
as and why, parameter validation, and DMARC alignment from known facts.

Odoo 18 decides the From, the envelope sender and the server (``ir.mail_server``); the Odoo layer only
adjusts its inputs. What it needs from here:

* ``ascii_address`` / ``ascii_from_filter``: an address or a from_filter with its domains in their
  ASCII (IDNA) form, so that Odoo's comparisons see ``éxample.com`` and ``xn--xample-9ua.com`` as one
  domain and a From header never carries a non-ASCII domain (RFC 2047 forbids encoded words there);
* ``classify``: after Odoo prepared a message, which rule gave its From and its envelope sender, in an
  administrator's words (``Rule``), and ``SentAs``, the record of one message sent;
* ``parameter_error``: why a value of a mail system parameter is refused;
* ``domain_of``: the domain of an address (whether its mail passes DMARC is ``judgement``'s answer).

Nothing here raises on hostile input: an unusable address is treated as missing, names lose control
characters and are quoted, domains are IDNA-encoded.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses

from .domains import normalize_domain
from .refusals import Deferrals
from .texts import _lt


class Rule(str, enum.Enum):
    """Why the From header (or the envelope sender) of a message is what it is."""

    AUTHOR_MATCHES = "author_matches"
    NO_FROM_FILTER = "no_from_filter"
    DEFAULT_FROM = "default_from"
    ENCAPSULATED = "encapsulated"
    DMARC_RELAYED = "dmarc_relayed"
    AUTHOR_NOT_ALLOWED = "author_not_allowed"
    CONNECTION_FROM = "connection_from"
    BOUNCE_ADDRESS = "bounce_address"
    FROM_ADDRESS = "from_address"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    Rule.AUTHOR_MATCHES: _lt("Sent as the author: the server's From filter accepts the author's address"),
    Rule.NO_FROM_FILTER: _lt("Sent as the author: the server has no From filter"),
    Rule.DEFAULT_FROM: _lt(
        "Sent as the default sender address under the author's name: the server's From filter does "
        "not accept the author's address"
    ),
    Rule.ENCAPSULATED: _lt(
        "Sent as the default sender address under the author's name: the server sends only as that address"
    ),
    Rule.DMARC_RELAYED: _lt(
        "Sent as the default sender address under the author's name: the server would send the author's "
        "address, but the author's domain publishes a strict DMARC policy (p=quarantine or p=reject) that "
        "mail sent by this database cannot pass"
    ),
    Rule.AUTHOR_NOT_ALLOWED: _lt(
        "Sent as the author although the server's From filter does not accept it: no default sender "
        "address is set"
    ),
    Rule.CONNECTION_FROM: _lt("Sent as the address the connection to the server was opened for"),
    Rule.BOUNCE_ADDRESS: _lt("Envelope sender: the bounce address (the server's From filter accepts it)"),
    Rule.FROM_ADDRESS: _lt(
        "Envelope sender: the From address (the server's From filter does not accept the bounce address)"
    ),
}

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


def format_mailbox(name: str, address: str) -> str:
    """``"Name" <address>`` with the name cleaned and quoted (Odoo's ``formataddr`` layout), or the address.

    Non-ASCII names stay as text: the message's policy encodes them (RFC 2047) when it is serialized.
    """
    name = clean_text(name)
    if not name:
        return address
    return '"{}" <{}>'.format(_ESCAPE.sub(r"\\\g<0>", name), address)


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
        return self.allows_key(mailbox.key)

    def allows_key(self, key: str) -> bool:
        """Like ``allows``, for the comparison key of an address (``Mailbox.key``)."""
        return self.unrestricted or key in self.addresses or key.rpartition("@")[2] in self.domains


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


# --------------------------------------------------------------------------------------------------
# The send path: ASCII inputs for Odoo, and what a message was sent as
# --------------------------------------------------------------------------------------------------


def ascii_address(text):
    """``text`` with the domain of its address in ASCII (IDNA), its name kept; unchanged when it is
    ASCII already or not one usable address (Odoo then handles it as it is)."""
    if not isinstance(text, str) or text.isascii():
        return text
    mailbox = parse_mailbox(text)
    if mailbox is None or not mailbox.local.isascii():
        return text
    if is_sendable(text):  # its domain was ASCII already; only the name is not
        return text
    return format_mailbox(mailbox.name, mailbox.address)


def ascii_from_filter(text):
    """A from_filter with the domains of its entries in ASCII (IDNA); unusable entries are kept as
    typed, so that Odoo still refuses them; unchanged when it is ASCII already."""
    if not isinstance(text, str) or text.isascii():
        return text
    parts = []
    for part in (p.strip() for p in text.split(",")):
        if "@" in part:
            mailbox = parse_mailbox(part)
            parts.append(mailbox.address if mailbox else part)
        else:
            parts.append((_ascii_domain(part) or part) if part else part)
    return ",".join(parts)


_BARE_ASCII = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9.\-]+$")


def _key(text: str | None) -> str | None:
    """The comparison key of an address (``Mailbox.key``); a bare ASCII address without parsing."""
    if not text:
        return None
    if _BARE_ASCII.match(text):
        return text.lower()
    mailbox = parse_mailbox(text)
    return mailbox.key if mailbox else None


def classify(
    author: str | None,
    header_from: str | None,
    envelope_from: str | None,
    from_filter: str | None,
    default_from: str | None,
    bounce: str | None,
) -> tuple[Rule, Rule]:
    """Which rule gave a prepared message its From and its envelope sender.

    ``author`` is the From before Odoo prepared the message, ``from_filter`` the connection's,
    ``default_from`` and ``bounce`` the default sender and bounce addresses that applied; addresses
    are bare (``local@domain``) or formatted.
    """
    parsed = parse_from_filter(from_filter or None)
    sent, default = _key(header_from), _key(default_from)
    if sent is not None and sent == _key(author):
        if parsed.unrestricted:
            rule = Rule.NO_FROM_FILTER
        else:
            rule = Rule.AUTHOR_MATCHES if parsed.allows_key(sent) else Rule.AUTHOR_NOT_ALLOWED
    elif sent is not None and sent == default:
        rule = Rule.ENCAPSULATED if default in parsed.addresses else Rule.DEFAULT_FROM
    else:
        rule = Rule.CONNECTION_FROM
    envelope = _key(envelope_from)
    same = envelope is not None and envelope == _key(bounce)
    return rule, Rule.BOUNCE_ADDRESS if same else Rule.FROM_ADDRESS


@dataclass(slots=True)
class SentAs:
    """How one message went out, as the Sent As tab records it.

    ``notes`` are lines later steps of the send path add (for instance the DKIM signature).
    """

    header_from: str
    envelope_from: str
    from_filter: str | None
    rule: Rule
    envelope_rule: Rule
    reply_to: str | None = None
    return_path: str | None = None
    notes: tuple[str, ...] = ()

    def with_note(self, note: str) -> SentAs:
        return dataclasses.replace(self, notes=(*self.notes, note))

    def relayed(self, note: str) -> SentAs:
        """This record, its From the default sender because of DMARC-aware relaying (``note``: why)."""
        return dataclasses.replace(self, rule=Rule.DMARC_RELAYED, notes=(*self.notes, note))

    def explain(self, server_name: str) -> str:
        """A few lines for an administrator: what was sent, and by which rule."""
        return "\n".join(self.explain_lines(server_name))

    def explain_lines(self, server_name: str) -> list[str]:
        """The lines of ``explain`` (engine texts, translatable)."""
        lines = [
            _lt("From: %(address)s - %(rule)s.") % {"address": self.header_from, "rule": self.rule.label},
            _lt("Envelope sender: %(address)s - %(rule)s.")
            % {"address": self.envelope_from, "rule": self.envelope_rule.label},
            _lt("Server: %(server)s; From filter: %(filter)s.")
            % {"server": server_name, "filter": self.from_filter or _lt("none")},
        ]
        if self.reply_to:
            lines.append(_lt("Reply-To: %(address)s.") % {"address": self.reply_to})
        return [*lines, *self.notes]


class Sending:
    """The state of one ``mail.mail`` send: the server of the batch going out, how its current message
    went out, Odoo's From filter verdicts already given in it (the same bounce address and filter
    come back for every message), the DKIM signers of its domains and the facts of DMARC-aware
    relaying (``relaying.RelayFacts``), both read once per send, and what defers its mails
    (``refusals.Deferrals``). A plain class, compared by identity: Odoo never hands it to another
    send."""

    __slots__ = ("deferrals", "matches", "relay_facts", "sent", "server_id", "server_name", "signers")

    def __init__(self, server_id: int | None = None, server_name: str = ""):
        self.matches: dict[tuple[str | None, str | None], bool] = {}
        self.signers: Mapping[str, tuple] | None = None
        self.relay_facts = None
        self.deferrals = Deferrals()
        self.batch(server_id, server_name)

    def batch(self, server_id: int | None, server_name: str) -> None:
        """A batch starts, on a connection to that server (``server_id`` None: the configuration's)."""
        self.server_id = server_id
        self.server_name = server_name
        self.sent: SentAs | None = None


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
            why = f": {reason}" if "@" in part else ""
            return (
                "mail.default.from_filter must be a domain name (example.com) or a full email address "
                "(notifications@example.com), or a comma-separated list of them: "
                f"{part!r} is neither{why}."
            )
    return None


def _check_catchall_domain(value: str) -> str | None:
    reason = _domain_error(value)
    if reason:
        return f"mail.catchall.domain must be a domain name such as example.com: {reason}."
    return None


def _check_alias(key: str, what: str, example: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        reason = "give the local part only, without '@'" if "@" in value else _local_part_error(value)
        if reason:
            return f"{key} must be the local part of the {what} address ({example}): {value!r}: {reason}."
        return None

    return check


PARAMETER_CHECKS: dict[str, Callable[[str], str | None]] = {
    "mail.default.from": _check_default_from,
    "mail.default.from_filter": _check_from_filter,
    "mail.catchall.domain": _check_catchall_domain,
    "mail.bounce.alias": _check_alias("mail.bounce.alias", "bounce", "bounce"),
    "mail.catchall.alias": _check_alias("mail.catchall.alias", "catchall (Reply-To)", "catchall"),
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


def domain_of(text: str | None) -> str | None:
    """The ASCII domain of the single address in ``text``, None when it has none."""
    mailbox = parse_mailbox(text)
    return mailbox.domain_key if mailbox else None
