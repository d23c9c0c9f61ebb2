"""What a run checks domains against and how it reaches DNS (``checks.run``): light, so that the
command line asks its first questions before the rest of the engine is loaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .dns import DnsResolver, Nameserver
from .providers import FLECTRA, Provider

if TYPE_CHECKING:
    from .dkim_keys import OwnKey

DOMAINS_AT_ONCE = 128  # the domains a run checks at once (``checks.check_domains``)


@dataclass(frozen=True)
class CheckOptions:
    """What to check a domain against.

    ``dkim_selectors`` are checked besides the provider's own selectors;
    ``sending_ips`` are evaluated with SPF check_host(), and so are the usable addresses of the
    ``sending_hosts`` (host names, looked up by the run beside the checks); ``own_keys`` are
    the database's own DKIM keys, each checked on its domain against the key stored
    (``dkim_keys.check``).
    """

    provider: Provider = FLECTRA
    dkim_selectors: tuple[str, ...] = ()
    sending_ips: tuple[str, ...] = ()
    own_keys: tuple[OwnKey, ...] = ()
    sending_hosts: tuple[str, ...] = ()

    @property
    def selectors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.provider.selectors + self.dkim_selectors))


@dataclass
class RunOptions:
    """How to reach DNS for a run."""

    nameservers: Sequence[Nameserver] = field(default_factory=list)
    timeout: float = 2.0
    lifetime: float = 5.0
    concurrency: int = 128
    domain_deadline: float = 30.0

    def resolver(self) -> DnsResolver:
        """A resolver (with its cache) for one run, as these options say."""
        return DnsResolver(
            list(self.nameservers), timeout=self.timeout, lifetime=self.lifetime, concurrency=self.concurrency
        )
