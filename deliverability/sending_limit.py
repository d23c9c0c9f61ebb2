"""A daily sending limit on an outgoing server: which mails go now, which wait for a later day.

A day is a UTC day. The limit counts messages (one per recipient partner, one for the To/Cc
addresses), as relays count them. The mails beyond it are put off in order, oldest first: each later
day receives at most the limit, after the mails already put off to it, so that a queue run (which may
see only part of the queue) always finds the oldest mails due first. A mail larger than the limit
goes first thing on a day of its own; it would never fit otherwise.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Usage:
    """What a server used: ``sent`` messages on ``day``; ``tail_count`` messages put off to
    ``tail_day``, the last day mails are put off to."""

    day: datetime.date | None = None
    sent: int = 0
    tail_day: datetime.date | None = None
    tail_count: int = 0

    def sent_on(self, day: datetime.date) -> int:
        return self.sent if self.day == day else 0


@dataclass(frozen=True)
class Allotment:
    now: tuple[int, ...]
    later: dict[datetime.date, tuple[int, ...]] = field(default_factory=dict)
    tail_day: datetime.date | None = None
    tail_count: int = 0

    @property
    def reached(self) -> bool:
        return bool(self.later)


def messages(recipient_partners: int, has_addresses: bool) -> int:
    """How many messages one ``mail.mail`` sends: one per recipient partner, one for its To/Cc."""
    return max(1, recipient_partners + (1 if has_addresses else 0))


def allot(limit: int, usage: Usage, today: datetime.date, mails: Iterable[tuple[int, int]]) -> Allotment:
    """Split ``mails`` (``(id, messages)``, oldest first) under ``limit`` messages a day (0: none)."""
    mails = list(mails)
    if limit <= 0:
        return Allotment(tuple(mail_id for mail_id, _count in mails))
    used = usage.sent_on(today)
    now: list[int] = []
    later: dict[datetime.date, list[int]] = {}
    tomorrow = today + datetime.timedelta(days=1)
    if usage.tail_day is not None and usage.tail_day >= tomorrow:
        day, count = usage.tail_day, usage.tail_count
    else:
        day, count = tomorrow, 0
    for mail_id, weight in mails:
        if not later and (used + weight <= limit or used == 0):
            now.append(mail_id)
            used += weight
            continue
        if count and count + weight > limit:
            day, count = day + datetime.timedelta(days=1), 0
        later.setdefault(day, []).append(mail_id)
        count += weight
    if not later:
        return Allotment(tuple(now), {}, usage.tail_day, usage.tail_count)
    return Allotment(tuple(now), {d: tuple(ids) for d, ids in later.items()}, day, count)


def window_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` (naive UTC, as Odoo stores datetimes)."""
    return datetime.datetime.combine(day, datetime.time.min)
