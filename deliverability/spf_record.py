"""SPF records as text: selection, parsing with error positions, merging, zone-file lines.

The grammar of each term is spftrace's (``spftrace.parse``, RFC 7208 section 12),
so a record this module accepts is exactly one the evaluator accepts; this
module adds what spftrace does not give: the character offset of every term and
of any error, the modifiers' placement, and the record to publish.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import spftrace

VERSION = "v=spf1"
_VERSION_RE = re.compile(r"^v=spf1(?=$| )", re.IGNORECASE)
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_MACRO = re.compile(r"%[{_%-]")
_MODIFIER_NAME = re.compile(r"[a-z][a-z0-9._-]*=")  # RFC 7208 name "=" (lower-cased)
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
TXT_STRING_MAX = 255


class SpfSyntaxError(ValueError):
    """A record that does not parse; ``position`` is the 0-based character offset of the fault."""

    def __init__(self, record: str, position: int, message: str) -> None:
        super().__init__(f"at character {position + 1}: {message}")
        self.record = record
        self.position = position
        self.message = message

    def pointer(self) -> str:
        """The record with a caret under the fault, two lines."""
        return f"{self.record}\n{' ' * self.position}^"


@dataclass(frozen=True)
class Term:
    """One term as published: ``raw`` text at character offset ``position``.

    ``name`` is the mechanism or modifier name in lower case; ``target`` the
    domain-spec (include, a, mx, ptr, exists, redirect, exp) or network (ip4, ip6).
    """

    raw: str
    position: int
    name: str
    is_mechanism: bool
    qualifier: str = "+"
    target: str | None = None

    @property
    def is_lookup(self) -> bool:
        """True for the terms RFC 7208 section 4.6.4 counts against the limit of 10."""
        return (self.is_mechanism and self.name in DNS_MECHANISMS) or self.name == "redirect"

    @property
    def has_macro(self) -> bool:
        return bool(self.target and _MACRO.search(self.target))

    @property
    def result(self) -> str:
        """The result this mechanism gives when it matches (pass, fail, softfail, neutral)."""
        return QUALIFIERS[self.qualifier]


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]

    @property
    def all(self) -> Term | None:
        """The first ``all`` mechanism: evaluation never goes past it."""
        return next((t for t in self.terms if t.is_mechanism and t.name == "all"), None)

    @property
    def redirect(self) -> Term | None:
        return next((t for t in self.terms if t.name == "redirect"), None)

    @property
    def exp(self) -> Term | None:
        return next((t for t in self.terms if t.name == "exp"), None)

    @property
    def evaluated(self) -> tuple[Term, ...]:
        """Mechanisms in evaluation order up to and including ``all``."""
        out = []
        for term in self.terms:
            if term.is_mechanism:
                out.append(term)
                if term.name == "all":
                    break
        return tuple(out)

    @property
    def ignored(self) -> tuple[Term, ...]:
        """Mechanisms after ``all``, which no receiver evaluates."""
        first = self.all
        if first is None:
            return ()
        return tuple(t for t in self.terms if t.is_mechanism and t.position > first.position)

    @property
    def unknown_modifiers(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.is_mechanism and t.name not in ("redirect", "exp"))


def is_spf(text: str) -> bool:
    """True for a TXT string that is an SPF record (``v=spf1`` then a space or the end, any case)."""
    return bool(_VERSION_RE.match(text))


def select(records) -> list[str]:
    """The SPF records among a name's TXT records."""
    return [r for r in records if is_spf(r)]


def tokens(text: str) -> list[tuple[int, str]]:
    """The space-separated words of ``text`` with their character offsets."""
    return [(m.start(), m.group()) for m in re.finditer(r"[^ ]+", text)]


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> SpfRecord:
    """Parse one SPF record; raises ``SpfSyntaxError`` naming the position of the first fault.

    Records are immutable, so the parse of a text is cached: the includes of a
    provider are parsed once, not once per domain that includes them.
    """
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        message = f"character U+{ord(bad.group()):04X} is not allowed (printable ASCII only)"
        raise SpfSyntaxError(text, bad.start(), message)
    if not is_spf(text):
        raise SpfSyntaxError(text, 0, 'an SPF record starts with "v=spf1" followed by a space')
    terms = []
    seen: dict[str, Term] = {}
    for position, raw in tokens(text)[1:]:
        term = _parse_term(text, position, raw)
        if term.name in ("redirect", "exp"):
            if term.name in seen:
                raise SpfSyntaxError(
                    text,
                    position,
                    f"second {term.name}= modifier (the first is at character "
                    f"{seen[term.name].position + 1}); a record may have only one",
                )
            seen[term.name] = term
        terms.append(term)
    return SpfRecord(text, tuple(terms))


def _parse_term(text: str, position: int, raw: str) -> Term:
    try:
        parsed = spftrace.parse(f"{VERSION} {raw}")
    except spftrace.SpfPermError as exc:
        raise SpfSyntaxError(text, position, f"{raw!r}: {_readable(exc)}") from None
    (term,) = parsed.terms
    return Term(raw, position, term.name, term.is_mechanism, term.qualifier, term.arg)


def _readable(exc: Exception) -> str:
    message = str(exc)
    if message.startswith("unknown mechanism"):
        return f"{message} (known: all, include, a, mx, ptr, ip4, ip6, exists; modifiers are name=value)"
    return message


def _same_domain(a: str | None, b: str) -> bool:
    return bool(a) and a.lower().rstrip(".") == b.lower().rstrip(".")


def has_include(record: str, include: str) -> bool:
    """True when ``record`` has ``include:<include>``, pass-qualified, before any ``all``.

    Case and a trailing dot are ignored.
    """
    for _, word in tokens(record):
        if word.lower().lstrip("+-~?") == "all":
            return False
        if _is_include_of(word, include) and word[0] not in "-~?":
            return True
    return False


def _is_include_of(word: str, include: str) -> bool:
    body = word.lstrip("+-~?")
    return body[:8].lower() == "include:" and _same_domain(body[8:], include)


def merged_record(existing: str | None, include: str) -> str:
    """The record to publish: ``existing`` with ``include:<include>`` first and its ``all`` kept.

    ``v=spf1 include:_spf.google.com ~all`` with ``_spf.flectra.com`` gives
    ``v=spf1 include:_spf.flectra.com include:_spf.google.com ~all``. Without an
    SPF record it is ``v=spf1 include:<include> ~all``. Mechanisms after ``all``
    (ignored by receivers) are dropped, as is a ``redirect=`` the ``all`` makes
    ignored; ``+all``/``all`` (anyone may send) becomes ``~all``; a record with
    neither ``all`` nor ``redirect=`` gets ``~all``. A record that is only a
    redirect keeps it after the include, so other senders still follow it.
    """
    return merge_records([existing] if existing else [], include)


def merge_records(records, include: str) -> str:
    """One record to publish in place of ``records`` (several SPF records are a permerror).

    Mechanisms are kept once each and unknown modifiers once per name (the first), in order, after
    ``include:<include>`` (a single record that has it keeps it in place);
    ``exp=`` and ``all`` come from the first record that has them. When several
    records are merged a ``redirect=`` becomes an ``include:`` so that every
    record's senders stay authorized. An empty ``include`` adds none (a relay authorized by its
    addresses: its ``ip4:``/``ip6:`` terms come as one of ``records``).
    """
    records = [r for r in records if isinstance(r, str) and is_spf(r)]
    in_place = len(records) == 1 and has_include(records[0], include)
    words: list[str] = [] if in_place or not include else [f"include:{include}"]
    seen = {w.lower() for w in words}
    all_word = exp = redirect = None
    for record in records:
        record_words = [w for _, w in tokens(record)[1:]]
        has_all = any(w.lower().lstrip("+-~?") == "all" for w in record_words)
        after_all = False
        for word in record_words:
            low = word.lower()
            if _is_include_of(word, include) and not (in_place and word[0] not in "-~?"):
                continue
            if low.lstrip("+-~?") == "all":
                after_all = True
                all_word = all_word or ("~all" if word[0] not in "-~?" else word)
                continue
            if low.startswith("exp="):
                exp = exp or word
                continue
            if low.startswith("redirect="):
                if has_all:
                    continue  # ignored by receivers: the record's all always matches first
                if len(records) == 1:
                    redirect = redirect or word
                    continue
                word, low = f"include:{word[9:]}", f"include:{low[9:]}"
            modifier = _MODIFIER_NAME.match(low)
            key = modifier.group(0) if modifier else low  # a modifier appears once (RFC 7208 6)
            if after_all or key in seen:
                continue
            seen.add(key)
            words.append(word)
    if all_word:
        words.append(all_word)
    elif redirect:
        words.append(redirect)
    else:
        words.append("~all")
    if exp:
        words.append(exp)
    return " ".join([VERSION, *words])


def txt_line(owner: str, text: str) -> str:
    """A zone-file TXT line for ``owner``; text over 255 bytes is split into several strings.

    Receivers join a record's strings with nothing in between, so the split is
    made after a space where possible, only to keep the line readable.
    """
    quoted = " ".join(f'"{_escape(c)}"' for c in _strings(text))
    return f"{owner.rstrip('.')}. IN TXT {quoted}"


def _escape(text: str) -> str:
    """Zone-file escaping: ``\\"`` and ``\\\\``, and ``\\DDD`` per octet outside printable ASCII."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.extend(f"\\{octet:03d}" for octet in char.encode("utf-8"))
    return "".join(out)


def _strings(text: str) -> list[str]:
    out = []
    while len(text.encode("utf-8")) > TXT_STRING_MAX:
        cut = TXT_STRING_MAX
        while len(text[:cut].encode("utf-8")) > TXT_STRING_MAX:
            cut -= 1
        space = text.rfind(" ", 0, cut)
        cut = space + 1 if space > 0 else cut
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out
