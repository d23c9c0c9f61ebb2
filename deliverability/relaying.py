"""DMARC-aware relaying: whose mail the database sends under the default sender address.

The documented remedy: when a contact's domain publishes ``p=quarantine`` or ``p=reject``, the
database cannot relay that contact's messages from the contact's own address (the receivers check
the contact's DMARC and the database's servers are not authorized for that domain); it replaces the
address with a default one, the author's name kept, replies going to the catchall. Authors on
``p=none``, without DMARC, or on a domain the database sends for keep their address; a domain whose
policy is not known keeps Odoo's behaviour. Decided from stored facts only: no DNS on the send path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .domains import organizational_domain
from .sender import parse_mailbox

STRICT_POLICIES = ("quarantine", "reject")
_PLAIN_DOMAIN = re.compile(r"[a-z0-9._-]+")  # an ASCII domain as written, nothing around it


@dataclass(frozen=True)
class RelayFacts:
    """What relaying is decided from: ``strict`` maps a domain to the strict policy last looked up for
    it (quarantine or reject), ``own`` holds the organizational domains the database sends for."""

    strict: Mapping[str, str]
    own: frozenset[str]

    @classmethod
    def of(cls, policies: Mapping[str, str | None], own_domains: Iterable[str]) -> RelayFacts:
        """From ``{domain: policy}`` (any policy, None without a record) and the sending domains."""
        strict = {d.lower(): p for d, p in policies.items() if p in STRICT_POLICIES}
        return cls(strict, frozenset(organizational_domain(d.lower()) for d in own_domains))

    def policy(self, author: str | None) -> tuple[str, str] | None:
        """``(domain, policy)`` when mail from ``author`` (an address, bare or formatted) must go out
        as the default sender, else None (its address is kept)."""
        if not self.strict or not author:
            return None
        tail = author.rpartition("@")[2].rstrip(">").strip().lower()
        if _PLAIN_DOMAIN.fullmatch(tail) and tail.rstrip(".") not in self.strict:
            return None  # the domain after the last "@" is the address's and is not strict: no parse
        mailbox = parse_mailbox(author)
        policy = self.strict.get(mailbox.domain_key) if mailbox else None
        if policy is None or organizational_domain(mailbox.domain_key) in self.own:
            return None
        return mailbox.domain_key, policy
