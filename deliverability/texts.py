"""Texts the engine shows administrators, translatable by Odoo without an Odoo import here.

An engine text is written ``_lt("SPF passes for %(domain)s.") % {"domain": domain}``. Odoo's term
extractor collects every ``_lt("...")`` of the addon (the engine included) into
``i18n/mail_domain_health.pot``. The result is the English text (CLI, logs and stored results
use it as it is), a ``Text`` that remembers its msgid and arguments. A screen shows it in the
reader's language with ``translate(text, translations)``: the msgid is translated, then every
argument that is itself an engine text. A text read back from the database (a plain string) is
matched back to its msgid and arguments first (``Catalog``).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from pathlib import Path

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|%%")


class Text(str):
    """An English text that remembers its msgid and its arguments (``None``: a text without any)."""

    __slots__ = ("msgid", "args")

    def __new__(cls, msgid: str, args: Mapping | None = None) -> Text:
        text = super().__new__(cls, msgid % args if args is not None else msgid)
        text.msgid, text.args = msgid, args
        return text

    def __mod__(self, args: Mapping) -> Text:
        return Text(self.msgid, args)


def _lt(msgid: str) -> Text:
    """Mark ``msgid`` for translation (Odoo's extractor looks for this name): the English text."""
    return Text(msgid)


class Catalog:
    """The engine's msgids as patterns that find a msgid and its arguments back in a finished text."""

    def __init__(self, msgids):
        msgids = list(msgids)
        self.patterns = []
        for msgid in dict.fromkeys(msgids):
            if _PLACEHOLDER.search(msgid.replace("%%", "")):
                self.patterns.append((msgid, re.compile(_pattern(msgid), re.S)))
        # the longest literal parts first: a specific text wins over a general one
        self.patterns.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[0])))
        self.plain = frozenset(m for m in msgids if not _PLACEHOLDER.search(m.replace("%%", "")))

    def translate(self, text: str, translations: Mapping[str, str], depth: int = 6) -> str:
        """``text`` in the language of ``translations`` (``{msgid: translation}``); unchanged when it is
        not an engine text or has no translation."""
        if not text or not translations or depth < 0 or not isinstance(text, str):
            return text
        if isinstance(text, Text):
            translated = translations.get(text.msgid) or text.msgid  # its arguments may have one
            if text.args is None:
                return translated
            values = {k: self.translate(v, translations, depth - 1) for k, v in text.args.items()}
            try:
                return translated % values
            except (KeyError, TypeError, ValueError):  # a translation with other placeholders
                return str(text)
        if text in self.plain:
            return translations.get(text) or text
        for msgid, pattern in self.patterns:
            found = pattern.fullmatch(text)
            if not found:
                continue
            translated = translations.get(msgid) or msgid
            values = {k: self.translate(v, translations, depth - 1) for k, v in found.groupdict().items()}
            try:
                return translated % values if values else translated.replace("%%", "%")
            except (KeyError, TypeError, ValueError):  # a translation with other placeholders
                return text
        return text


def _pattern(msgid: str) -> str:
    parts, position, seen = [], 0, set()
    for match in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : match.start()]))
        name = match.group(1)
        if match.group(0) == "%%":
            parts.append("%")
        elif name in seen:
            parts.append(f"(?P={name})")
        elif name:
            seen.add(name)
            parts.append(f"(?P<{name}>.+?)")
        else:  # positional placeholders are not used by the engine's texts
            parts.append(".+?")
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    return "".join(parts)


def msgids_in(source: str) -> list[str]:
    """The literal arguments of the ``_lt(...)`` calls in Python ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_lt"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


@functools.cache
def catalog() -> Catalog:
    """The catalog of the engine's modules (read once: it is the source code, the same for every run)."""
    here = Path(__file__).resolve().parent
    return Catalog(
        m for path in sorted(here.glob("*.py")) for m in msgids_in(path.read_text(encoding="utf-8"))
    )


def translate(text: str, translations: Mapping[str, str]) -> str:
    """``text`` (an engine text, or any text) in the language of ``translations``."""
    return catalog().translate(text, translations)
