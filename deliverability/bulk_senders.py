"""The published requirements of Gmail, Yahoo and Microsoft for bulk senders, judged one by one on a
message as received (its bytes and a receiver's ``verdict.Verdict`` of it), each with its fix.

Sources: Google, "Email sender guidelines" (support.google.com/a/answer/81126); Yahoo, "Sender
Best Practices" (senders.yahooinc.com/best-practices); Microsoft, "Strengthening Email Ecosystem:
Outlook's New Requirements for High-Volume Senders" (techcommunity.microsoft.com, April 2025).
"""

from __future__ import annotations

from collections.abc import Iterable

import dkim as dkimpy
from dkim.util import InvalidTagValueList, parse_tag_value


def signed_fields(message: bytes, verified: Iterable[tuple[str, str]]) -> set[str]:
    """The lower-case names of the header fields covered (h=) by the DKIM signatures of ``message``
    whose (domain, selector) is in ``verified``."""
    verified = {(d.lower(), s.lower()) for d, s in verified}
    names: set[str] = set()
    for name, value in dkimpy.DKIM(message).headers:
        if name.lower() != b"dkim-signature":
            continue
        try:
            tags = parse_tag_value(value)
        except InvalidTagValueList:
            continue
        key = tuple(tags.get(t, b"").decode("ascii", "replace").strip().lower() for t in (b"d", b"s"))
        if key in verified:
            names.update(n.strip().lower() for n in tags.get(b"h", b"").decode("ascii", "replace").split(":"))
    return names
