"""One-click unsubscribe (RFC 2369, RFC 8058): the ``List-Unsubscribe`` header fields as they must go
out, and what a receiver requires of them as they arrive.

The email package folds a header value too long for a line into RFC 2047 encoded words when it has no
whitespace to fold at (``List-Unsubscribe: =?utf-8?q?=3Chttps=3A//...?=``): encoded words are not
allowed in a structured field (RFC 2047 section 5) and receivers cannot read the URL. ``IntactHeader``
is written as it is, folded only before whitespace it already has, so that unfolding gives it back.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from email.message import Message

LIST_UNSUBSCRIBE = "List-Unsubscribe"
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe-Post"
NAMES = (LIST_UNSUBSCRIBE, LIST_UNSUBSCRIBE_POST)
ONE_CLICK = "List-Unsubscribe=One-Click"
LINE_LIMIT = 998  # RFC 5322 2.1.1: characters per line, CRLF excluded
_PIECES = re.compile(r"[ \t]+[^ \t]+|[^ \t]+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_ELEMENT = re.compile(r"\s*<([^<>]*)>\s*(?:\([^()]*\)\s*)?")


def fold(name: str, value: str, max_line_length: int | None = 78, linesep: str = "\r\n") -> str:
    """``name: value`` and ``linesep``, folded before whitespace of ``value`` where a line would be longer
    than ``max_line_length`` (None: never); a word longer than that stays whole on its line."""
    limit = max_line_length or sys.maxsize
    pieces = _PIECES.findall(value.strip())
    line, lines = f"{name}: {pieces[0] if pieces else ''}", []
    for piece in pieces[1:]:
        if len(line) + len(piece) > limit:
            lines.append(line)
            line = piece  # begins with whitespace: a continuation line
        else:
            line += piece
    return linesep.join([*lines, line]) + linesep


class IntactHeader(str):
    """A header field the email package writes with ``fold`` (never as encoded words): its generators
    ask a header object that has a ``name`` to fold itself."""

    name: str
    defects: tuple = ()

    def __new__(cls, name: str, value: str) -> IntactHeader:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return fold(self.name, str(self), policy.max_line_length, policy.linesep)


def keep_intact(message: Message) -> Message:
    """``message`` with its ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` fields (one of each,
    ASCII, as URLs are) made ``IntactHeader``: the same values, written as valid fields."""
    for name in NAMES:
        values = message.get_all(name) or []
        if len(values) == 1 and str(values[0]).isascii():
            message.replace_header(name, IntactHeader(name, str(values[0])))
    return message


@dataclass(frozen=True)
class OneClick:
    """What a receiver finds of one-click unsubscribe in a message as received."""

    present: bool  # a List-Unsubscribe field
    problems: tuple[str, ...]  # what makes it unusable; empty when it is well-formed
    urls: tuple[str, ...]  # its URIs, as the receiver reads them

    @property
    def usable(self) -> bool:
        return self.present and not self.problems


def unfold(raw: str) -> str:
    """A field value as received, unfolded (RFC 5322 2.2.3): line breaks before whitespace removed."""
    return _FOLD.sub("", raw).strip()


def one_click(fields: list[tuple[str, str]], signed: set[str] | None = None) -> OneClick:
    """RFC 8058 one-click unsubscribe of a message, from its raw header ``fields`` (name, value as
    received, folded) and the lower-case names its verified DKIM signatures cover (``signed``; None
    when not verified)."""
    lines = [(name, value) for name, value in fields if name.lower() in {n.lower() for n in NAMES}]
    found = {n: [v for name, v in lines if name.lower() == n.lower()] for n in NAMES}
    if not found[LIST_UNSUBSCRIBE]:
        return OneClick(False, ("the message has no List-Unsubscribe header",), ())
    problems: list[str] = []
    for name, values in found.items():
        if len(values) > 1:
            problems.append(f"the message has {len(values)} {name} headers: it must have one")
        for value in values:
            if any(len(line) > LINE_LIMIT - len(name) - 2 for line in value.splitlines()):
                problems.append(f"a line of {name} is longer than {LINE_LIMIT} characters")
            if _ENCODED_WORD.search(value):
                problems.append(f"{name} is encoded (RFC 2047 encoded words): receivers cannot read it")
    value = unfold(found[LIST_UNSUBSCRIBE][0])
    urls = tuple(_ELEMENT.findall(value)) if _ELEMENT.sub("", value).strip(", ") == "" else ()
    if not urls and not _ENCODED_WORD.search(value):
        problems.append("List-Unsubscribe is not a list of <URL> in angle brackets")
    if urls and any(re.search(r"\s", url) for url in urls):
        problems.append("a List-Unsubscribe URL contains whitespace")
    if urls and not any(url.lower().startswith("https://") for url in urls):
        problems.append("List-Unsubscribe has no https:// URL: one-click unsubscribe needs one (RFC 8058)")
    posts = [unfold(v) for v in found[LIST_UNSUBSCRIBE_POST]]
    if not posts:
        problems.append(f"there is no List-Unsubscribe-Post header ({ONE_CLICK})")
    elif posts[0] != ONE_CLICK:
        problems.append(f"List-Unsubscribe-Post is {posts[0]!r}: it must be {ONE_CLICK!r}")
    if signed is not None:
        missing = [n for n in NAMES if found[n] and n.lower() not in signed]
        if missing:
            problems.append(f"no verified DKIM signature covers {' and '.join(missing)}")
    return OneClick(True, tuple(dict.fromkeys(problems)), urls)
