"""When to alert about a domain: once per degradation, a note on recovery, nothing on silence.

The state kept between runs is two maps of check keys (``spf``, ``dkim:selector``...) to
statuses: the last known verdict of each check, and the checks an alert is open for (with
the status they had before degrading).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .findings import Status


@dataclass(frozen=True)
class Change:
    key: str
    old: Status
    new: Status


@dataclass(frozen=True)
class Tracking:
    """The outcome of comparing a run with the state: the new state, and what to say."""

    known: dict[str, str]
    alerted: dict[str, str]
    degraded: tuple[Change, ...]
    recovered: tuple[Change, ...]

    @property
    def healthy(self) -> bool:
        """No alert open and no check failing: only then has a domain whose checks improved recovered."""
        return not self.alerted and all(Status(s) is not Status.FAIL for s in self.known.values())

    @property
    def state(self) -> dict[str, dict[str, str]]:
        return {"known": self.known, "alerted": self.alerted}


def track(state: Mapping | None, current: Mapping[str, str]) -> Tracking:
    """Compare ``current`` (``{check key: status}`` of a run) with ``state`` (``Tracking.state``).

    ``unknown`` (DNS did not answer) is no news: it neither degrades nor recovers. The first
    verdict of a check is its baseline. An alert stays open until the check is back to where
    it was before degrading. Checks no longer run (a selector removed from the settings) are
    forgotten, unless nothing could be checked at all.
    """
    state = state or {}
    known, alerted = dict(state.get("known", {})), dict(state.get("alerted", {}))
    degraded, recovered = [], []
    for key, text in current.items():
        status = Status(text)
        if status is Status.UNKNOWN:
            continue
        old = known.get(key)
        known[key] = status.value
        if old is None or old == status.value:
            continue
        change = Change(key, Status(old), status)
        if status.severity > change.old.severity:
            degraded.append(change)
            alerted.setdefault(key, old)
        else:
            recovered.append(change)
            if key in alerted and status.severity <= Status(alerted[key]).severity:
                del alerted[key]
    if any(Status(s) is not Status.UNKNOWN for s in current.values()):
        known = {k: s for k, s in known.items() if k in current}
        alerted = {k: s for k, s in alerted.items() if k in current}
    return Tracking(known, alerted, tuple(degraded), tuple(recovered))
