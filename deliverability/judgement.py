"""Will mail From a domain pass SPF, DKIM and DMARC at a receiver? One answer, from one set of facts.

Domain Health (``checks``), the Sending Preview (the facts the last check stored, no DNS) and Test
Deliverability (``verdict``, a real message) all answer with ``judge``, fed the same facts:

* SPF (``spf_facts``): check_host() of each sending IP for the envelope domain; without a known IP,
  whether the domain's record includes the provider (its servers are then authorized);
* DKIM (``dkim_facts``): the signatures mail From the domain carries: the database's own keys that
  sign (``mail.dkim.key``, published), and the provider's selectors when the provider signs; Test
  Deliverability puts the signatures of its real message in place of the database's keys;
* DMARC (``policy_of``): the policy receivers apply and its alignment modes.

For the same author and the same DNS the screens cannot disagree; a screen that knows more (the
real message's headers and signatures) says what it adds in its own words.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from .domains import organizational_domain
from .findings import Finding, SpfEvaluation, Status
from .texts import _lt

LOST_REPLIES = _lt("replies do not come back to the chatter")
SPF_ORDER = ("pass", "neutral", "none", "softfail", "fail", "permerror", "temperror")


class Outcome(str, enum.Enum):
    DELIVERED = "delivered"
    SPAM = "spam"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # DNS did not answer, or nothing is known yet: a receiver would defer it

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.DELIVERED: _lt("would be delivered"),
    Outcome.SPAM: _lt("would be sent to spam"),
    Outcome.REJECTED: _lt("would be rejected"),
    Outcome.UNKNOWN: _lt("could not be judged: DNS did not answer"),
}


class Signer(str, enum.Enum):
    """Who puts a DKIM signature on the mail."""

    DATABASE = "database"  # a key of mail.dkim.key, on the send path
    PROVIDER = "provider"  # the sending provider, after the mail left the database
    MESSAGE = "message"  # a signature found on a real message (Test Deliverability)


@dataclass(frozen=True)
class SpfResult:
    """check_host() of ``ip`` for ``domain``; ``ip`` empty: judged by the provider's include."""

    ip: str
    domain: str
    result: str  # RFC 7208 result
    reason: str


@dataclass(frozen=True)
class DkimResult:
    domain: str
    selector: str
    result: str  # pass, fail, temperror, permerror
    reason: str
    signer: Signer = Signer.MESSAGE


@dataclass(frozen=True)
class Policy:
    """The DMARC policy receivers apply to a From domain (``policy`` None: no usable record)."""

    policy: str | None = None
    record_domain: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    dns_error: bool = False

    @property
    def label(self) -> str:
        if not self.policy:
            return ""
        return _lt("DMARC p=%(policy)s of %(domain)s") % {"policy": self.policy, "domain": self.record_domain}


@dataclass(frozen=True)
class DomainFacts:
    """What a check of ``domain`` found that decides whether its mail passes: stored by Domain
    Health for the Sending Preview (``to_json`` / ``from_json``)."""

    domain: str
    spf: tuple[SpfResult, ...] = ()
    dkim: tuple[DkimResult, ...] = ()
    policy: Policy = field(default_factory=Policy)

    def to_json(self) -> dict:
        """The facts as JSON values (``dataclasses.asdict`` deep-copies them: 17 times slower)."""
        return {
            "domain": self.domain,
            "spf": [dict(vars(result)) for result in self.spf],
            "dkim": [dict(vars(result)) for result in self.dkim],
            "policy": dict(vars(self.policy)),
        }

    @classmethod
    def from_json(cls, data: dict) -> DomainFacts | None:
        """The facts of ``data`` (``to_json``), None when it is not a complete record of them."""
        try:
            return cls(
                data["domain"],
                tuple(SpfResult(**r) for r in data["spf"]),
                tuple(DkimResult(**{**r, "signer": Signer(r["signer"])}) for r in data["dkim"]),
                Policy(**data["policy"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    reason: str
    fixes: tuple[str, ...]
    from_domain: str | None
    envelope_domain: str | None
    spf: tuple[SpfResult, ...]
    dkim: tuple[DkimResult, ...]
    spf_aligned: bool
    dkim_aligned: bool
    policy: Policy

    @property
    def spf_result(self) -> str:
        """The worst result over the sending IPs (the relay may use any of them); ``none`` without."""
        return max((r.result for r in self.spf), key=SPF_ORDER.index, default="none")

    @property
    def dmarc_pass(self) -> bool:
        return self.spf_aligned or self.dkim_aligned

    @property
    def status(self) -> Status:
        """The outcome as a check's verdict: pass (DMARC passes), warning (delivered without
        passing DMARC: no policy asks more), unknown, fail (spam or rejected)."""
        if self.outcome is Outcome.DELIVERED:
            return Status.PASS if self.dmarc_pass else Status.WARNING
        return Status.UNKNOWN if self.outcome is Outcome.UNKNOWN else Status.FAIL


def aligned(domain: str | None, from_domain: str | None, mode: str = "r") -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): strict is equality, relaxed the same organizational
    domain."""
    if not domain or not from_domain:
        return False
    if mode == "s" or domain == from_domain:
        return domain == from_domain
    return organizational_domain(domain) == organizational_domain(from_domain)


def alignment_words(domain: str, from_domain: str) -> str:
    """How ``domain`` relates to the From domain, in an administrator's words."""
    if domain == from_domain:
        return _lt("%(domain)s is the From domain") % {"domain": domain}
    if aligned(domain, from_domain):
        return _lt(
            "%(domain)s is aligned with %(from_domain)s (relaxed alignment: same organizational domain)"
        ) % {"domain": domain, "from_domain": from_domain}
    return _lt("%(domain)s is not aligned with %(from_domain)s") % {
        "domain": domain,
        "from_domain": from_domain,
    }


# --------------------------------------------------------------------------------------------------
# The facts, from a check's findings
# --------------------------------------------------------------------------------------------------


def spf_facts(
    domain: str, finding: Finding, evaluations: Sequence[SpfEvaluation], include: str
) -> tuple[SpfResult, ...]:
    """SPF of mail whose envelope is on ``domain``: check_host() of each sending IP; without a known
    IP, the provider's ``include`` in the record stands for its servers (none for a relay authorized
    by its addresses: nothing is known)."""
    if evaluations:
        return tuple(SpfResult(e.ip, domain, e.result, e.explanation) for e in evaluations)
    if not include:
        return ()
    if finding.status is Status.PASS or getattr(finding, "authorizes_provider", False):
        result = "pass"
        reason = f"the record includes {include}, the provider's servers"
    elif finding.status is Status.UNKNOWN:
        result, reason = "temperror", finding.summary
    else:
        result, reason = "fail", finding.summary
    return (SpfResult("", domain, result, reason),)


def dkim_facts(
    domain: str,
    provider: Iterable[Finding],
    own: Iterable[tuple[bool, str, Finding]],
) -> tuple[DkimResult, ...]:
    """The signatures mail From ``domain`` carries: each of the database's keys that signs (``own``:
    ``(signs, publication, finding)`` with ``publication`` a ``dkim_keys.Publication`` value), and
    each provider selector (``provider`` findings) when the database signs with none of its own."""
    out = []
    for signs, publication, finding in own:
        if not signs or publication == "not_published":
            continue  # not signed with it until DNS publishes it
        result = {"published": "pass", "unknown": "temperror"}.get(publication, "fail")
        out.append(DkimResult(domain, finding.selector, result, finding.summary, Signer.DATABASE))
    if any(r.result == "pass" for r in out):
        return tuple(out)
    for finding in provider:
        result = {Status.PASS: "pass", Status.WARNING: "pass", Status.UNKNOWN: "temperror"}.get(
            finding.status, "fail"
        )
        out.append(DkimResult(domain, finding.selector, result, finding.summary, Signer.PROVIDER))
    return tuple(out)


def domain_facts(domain: str, provider, spf_finding: Finding, evaluations: Sequence[SpfEvaluation],
                 provider_dkim: Iterable[Finding], own: Iterable) -> DomainFacts:  # fmt: skip
    """The SPF and DKIM facts of a check of ``domain`` (its DMARC policy comes with ``with_policy``):
    ``provider`` is the ``providers.Provider`` checked against, ``own`` the ``(OwnKey, (Publication,
    finding))`` of the database's keys of the domain."""
    own_facts = ((key.required, publication.value, finding) for key, (publication, finding) in own)
    return DomainFacts(
        domain,
        spf_facts(domain, spf_finding, evaluations, provider.spf_include),
        dkim_facts(domain, provider_dkim, own_facts),
    )


def with_policy(facts: DomainFacts, found: Judgement | None) -> DomainFacts:
    """``facts`` with the DMARC policy the judgement ``found`` applied."""
    return replace(facts, policy=found.policy) if found is not None else facts


def policy_of(discovery) -> Policy:
    """The ``Policy`` of a ``dmarc.Discovery`` (None: DMARC was not looked up)."""
    if discovery is None:
        return Policy()
    record = discovery.record
    return Policy(
        discovery.policy,
        discovery.record_domain,
        record.adkim if record else "r",
        record.aspf if record else "r",
        bool(discovery.dns_error),
    )


# --------------------------------------------------------------------------------------------------
# The judgement
# --------------------------------------------------------------------------------------------------


def judge(
    from_domain: str | None,
    envelope_domain: str | None,
    spf: Sequence[SpfResult],
    dkim: Sequence[DkimResult],
    policy: Policy,
    *,
    fatal: Sequence[str] = (),
    spam: Sequence[str] = (),
) -> Judgement:
    """What a receiver does with mail From ``from_domain`` sent with an envelope on
    ``envelope_domain``: ``spf`` are the results for the envelope domain, ``dkim`` the signatures
    it carries, ``policy`` the From domain's; ``fatal`` and ``spam`` are header problems (a real
    message's) that get it refused or sent to spam."""
    spf, dkim = tuple(spf), tuple(dkim)
    worst = max((r.result for r in spf), key=SPF_ORDER.index, default="none")
    spf_aligned = bool(spf) and worst == "pass" and aligned(envelope_domain, from_domain, policy.aspf)
    dkim_aligned = any(r.result == "pass" and aligned(r.domain, from_domain, policy.adkim) for r in dkim)
    outcome, reason, fixes = _decide(
        from_domain, envelope_domain, worst, spf, dkim, spf_aligned, dkim_aligned, policy, fatal, spam
    )
    return Judgement(
        outcome, reason, tuple(fixes), from_domain, envelope_domain, spf, dkim, spf_aligned, dkim_aligned,
        policy,
    )  # fmt: skip


def unknown(from_domain: str | None, envelope_domain: str | None, reason: str) -> Judgement:
    """A judgement that could not be made (no facts known for a domain)."""
    return Judgement(
        Outcome.UNKNOWN, reason, (), from_domain, envelope_domain, (), (), False, False, Policy()
    )


def _decide(from_domain, envelope_domain, spf, spf_results, dkim_results, spf_aligned, dkim_aligned,
            policy: Policy, fatal, spam):  # fmt: skip
    fixes: list[str] = []
    if not from_domain:
        return Outcome.REJECTED, fatal[0] if fatal else _lt("the From header has no usable address"), fixes
    passing = [r for r in dkim_results if r.result == "pass"]
    ips = [r.ip for r in spf_results if r.ip]
    if spf != "pass" and spf_results:
        terms = " ".join(("ip6:" if ":" in ip else "ip4:") + ip for ip in ips)
        how = (
            _lt("%(terms)s, or your provider's include") % {"terms": terms}
            if terms
            else _lt("your provider's include")
        )
        fixes.append(
            _lt("authorize the sending servers in the SPF record of %(domain)s (%(how)s)")
            % {"domain": envelope_domain, "how": how}
        )
    elif spf == "pass" and not spf_aligned:
        fixes.append(
            _lt("send with an envelope sender (Return-Path) on %(domain)s: set the catchall domain")
            % {"domain": from_domain}
        )
    if not dkim_results:
        fixes.append(
            _lt("create a DKIM key for %(domain)s (DKIM Keys in the technical settings), publish it")
            % {"domain": from_domain}
        )
    elif not passing:
        fixes += [f"DKIM {r.selector}._domainkey.{r.domain}: {r.reason}" for r in dkim_results]
    elif not dkim_aligned:
        signed = ", ".join(r.domain for r in passing)
        fixes.append(
            _lt("sign with a DKIM key of %(domain)s: the signatures are for %(signed)s")
            % {"domain": from_domain, "signed": signed}
        )
    if fatal:
        return Outcome.REJECTED, fatal[0], fixes
    label = policy.label or _lt("no DMARC policy for %(domain)s") % {"domain": from_domain}
    if spf_aligned or dkim_aligned:
        through = _lt("SPF and DKIM") if spf_aligned and dkim_aligned else "SPF" if spf_aligned else "DKIM"
        if spam:
            reason = _lt("DMARC passes through %(through)s, but %(spam)s") % {
                "through": through,
                "spam": spam[0],
            }
            return Outcome.SPAM, reason, fixes
        reason = _lt("DMARC passes through aligned %(through)s (%(label)s)") % {
            "through": through,
            "label": label,
        }
        return Outcome.DELIVERED, reason, fixes
    temporary = [r for r in dkim_results if r.result == "temperror"]
    if spf == "temperror" or temporary or policy.dns_error:
        return (
            Outcome.UNKNOWN,
            _lt("DNS did not answer for SPF, DKIM or DMARC: a receiver would retry later"),
            fixes,
        )
    why = _unauthenticated(from_domain, envelope_domain, spf, spf_results, dkim_results, passing)
    if policy.policy in ("reject", "quarantine"):
        outcome = Outcome.REJECTED if policy.policy == "reject" else Outcome.SPAM
        reason = _lt("DMARC fails (%(why)s) and %(label)s asks receivers to %(policy)s it") % {
            "why": why,
            "label": label,
            "policy": policy.policy,
        }
        return outcome, reason, fixes
    if spf == "pass" or passing:
        if spam:
            return (
                Outcome.SPAM,
                _lt("%(spam)s; DMARC would fail (%(why)s)") % {"spam": spam[0], "why": why},
                fixes,
            )
        reason = _lt("authenticated but DMARC would fail (%(why)s); %(label)s: delivered") % {
            "why": why,
            "label": label,
        }
        return Outcome.DELIVERED, reason, fixes
    if spf == "fail":
        reason = _lt("SPF fails for %(domain)s and no signature verifies (%(label)s)") % {
            "domain": envelope_domain,
            "label": label,
        }
        return Outcome.REJECTED, reason, fixes
    return (
        Outcome.SPAM,
        _lt("the message is not authenticated (%(why)s; %(label)s)") % {"why": why, "label": label},
        fixes,
    )


def _unauthenticated(from_domain, envelope_domain, spf, spf_results, dkim_results, passing) -> str:
    parts = []
    if not spf_results:
        parts.append(_lt("SPF could not be evaluated: no sending IP is known"))
    elif spf == "pass":
        parts.append(
            _lt("SPF passes for %(envelope)s, which is not aligned with %(domain)s")
            % {"envelope": envelope_domain, "domain": from_domain}
        )
    else:
        parts.append(_lt("SPF gives %(result)s for %(domain)s") % {"result": spf, "domain": envelope_domain})
    if not dkim_results:
        parts.append(_lt("no DKIM signature"))
    elif passing:
        signed = ", ".join(r.domain for r in passing)
        parts.append(
            _lt("DKIM verifies for %(signed)s, not aligned with %(domain)s")
            % {"signed": signed, "domain": from_domain}
        )
    else:
        parts.append(_lt("no DKIM signature verifies"))
    return _lt("%(spf)s, %(dkim)s") % {"spf": parts[0], "dkim": parts[1]}
