"""Typed results of the checks: what is wrong, why, and the DNS record to publish."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .judgement import DomainFacts, Judgement


class Check(str, enum.Enum):
    SPF = "spf"
    DKIM = "dkim"
    DMARC = "dmarc"
    MX = "mx"


class Status(str, enum.Enum):
    """Verdict of one check. ``UNKNOWN`` means DNS did not answer (timeout, SERVFAIL)."""

    PASS = "pass"
    WARNING = "warning"
    UNKNOWN = "unknown"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @classmethod
    def worst(cls, statuses) -> Status:
        """The most severe of ``statuses`` (``PASS`` for none)."""
        return max(statuses, key=lambda s: s.severity, default=cls.PASS)


_SEVERITY = {Status.PASS: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.FAIL: 3}


@dataclass(frozen=True)
class Finding:
    """The verdict of one check on one domain.

    ``fix`` holds the exact DNS record(s) to publish, as zone-file lines
    (``example.com. IN TXT "v=spf1 include:_spf.flectra.com ~all"``), or ``None``.
    """

    check: Check
    status: Status
    summary: str
    details: tuple[str, ...] = ()
    fix: str | None = None

    def to_dict(self) -> dict:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "summary": self.summary,
            "details": list(self.details),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class SpfFinding(Finding):
    """An SPF verdict; ``authorizes_provider`` when mail through the provider passes SPF, warnings or not."""

    authorizes_provider: bool = False

    def to_dict(self) -> dict:
        return super().to_dict() | {"authorizes_provider": self.authorizes_provider}


@dataclass(frozen=True)
class DkimFinding(Finding):
    """A DKIM verdict for one selector."""

    selector: str = ""
    key_type: str | None = None
    key_bits: int | None = None

    def to_dict(self) -> dict:
        return super().to_dict() | {
            "selector": self.selector,
            "key_type": self.key_type,
            "key_bits": self.key_bits,
        }


@dataclass(frozen=True)
class DmarcFinding(Finding):
    """A DMARC verdict; ``policy`` is the policy that applies to the domain (None without a record),
    ``judgement`` what receivers do with mail From the domain (``judgement.judge``)."""

    policy: str | None = None
    record_domain: str | None = None
    judgement: Judgement | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        return super().to_dict() | {"policy": self.policy, "record_domain": self.record_domain}


@dataclass(frozen=True)
class SpfEvaluation:
    """RFC 7208 check_host() result for one sending IP."""

    ip: str
    result: str  # pass, fail, softfail, neutral, none, permerror, temperror
    explanation: str = ""

    def to_dict(self) -> dict:
        return {"ip": self.ip, "result": self.result, "explanation": self.explanation}


@dataclass(frozen=True)
class DomainReport:
    """Every finding for one domain."""

    domain: str
    checks: tuple[Finding, ...]
    spf_evaluations: tuple[SpfEvaluation, ...] = field(default=())
    facts: DomainFacts | None = field(default=None, compare=False)

    @property
    def judgement(self) -> Judgement | None:
        """What receivers do with mail From the domain (with an envelope on it), when DMARC was judged."""
        return next((getattr(f, "judgement", None) for f in self.checks if f.check is Check.DMARC), None)

    @property
    def status(self) -> Status:
        return Status.worst(f.status for f in self.checks)

    @classmethod
    def uniform(
        cls,
        domain: str,
        selectors: tuple[str, ...],
        status: Status,
        summary: str,
        details: tuple[str, ...] = (),
    ) -> DomainReport:
        """A report whose every check has the same verdict: the checks could not run."""
        checks = (
            SpfFinding(Check.SPF, status, summary, details),
            *(DkimFinding(Check.DKIM, status, summary, details, selector=s) for s in selectors),
            DmarcFinding(Check.DMARC, status, summary, details),
            Finding(Check.MX, status, summary, details),
        )
        return cls(domain, checks)

    @classmethod
    def timed_out(cls, domain: str, selectors: tuple[str, ...], seconds: float) -> DomainReport:
        """A report of ``unknown`` checks for a domain whose checks did not finish in time."""
        summary = f"DNS did not answer within {seconds:g}s: the checks could not finish."
        return cls.uniform(domain, selectors, Status.UNKNOWN, summary)

    @classmethod
    def crashed(cls, domain: str, selectors: tuple[str, ...], error: Exception) -> DomainReport:
        """A report of ``unknown`` checks for a domain whose checks stopped on an unexpected error."""
        summary = "the checks stopped on an unexpected error; the other domains were checked."
        return cls.uniform(domain, selectors, Status.UNKNOWN, summary, (f"{type(error).__name__}: {error}",))

    @classmethod
    def invalid(cls, domain: str, selectors: tuple[str, ...], reason: str = "") -> DomainReport:
        """A report of ``fail`` checks for a name that is not a domain name (nothing was looked up)."""
        summary = f"{domain!r} is not a valid domain name; it was not checked."
        return cls.uniform(domain, selectors, Status.FAIL, summary, (reason,) if reason else ())

    def to_dict(self) -> dict:
        return {
            "domain": self.domain,
            "status": self.status.value,
            "checks": [f.to_dict() for f in self.checks],
            "spf_evaluations": [e.to_dict() for e in self.spf_evaluations],
        }
