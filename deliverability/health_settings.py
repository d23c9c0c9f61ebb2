"""The domain health settings as an administrator types them (the Odoo system parameters
``mail_domain_health.*``) turned into the options of a run.

The caller gathers the raw values; ``resolve`` parses them, chooses the sending provider and
says where the sending IPs come from (the SMTP host names are looked up by the run that
evaluates them, beside its other look-ups), or raises ``ValueError`` with a message an
administrator can act on.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import providers
from .checks import usable_ips
from .dns import Nameserver
from .options import CheckOptions, RunOptions

AUTOMATIC = "auto"  # the provider setting that lets the outgoing servers and the platform decide
CUSTOM = "custom"
OWN_SERVER = providers.OWN.name  # my own SMTP server, authorized by its addresses
DEFAULT_TIMEOUT = 2.0
DEFAULT_DOMAIN_DEADLINE = 30.0


@dataclass(frozen=True)
class HealthSettings:
    """What a run checks against (``options``), how it reaches DNS, why this provider, and the
    configured sending IPs that were left out (not IP addresses)."""

    options: CheckOptions
    run_options: RunOptions
    assumption: providers.Assumption
    ignored_ips: tuple[str, ...] = ()


def split_values(text: str | None) -> list[str]:
    """The items of a comma/space/semicolon separated setting."""
    return [item for item in re.split(r"[\s,;]+", text or "") if item]


def choose_provider(setting: str | None, spf_include: str | None, smtp_hosts: Sequence[str],
                    hosted_on: str | None = None) -> providers.Assumption:  # fmt: skip
    """The provider of the setting (a table name, ``custom`` with its include), else the one the
    outgoing servers' hosts and the platform suggest (``providers.assume``)."""
    setting = (setting or AUTOMATIC).strip().lower()
    if setting == AUTOMATIC:
        return providers.assume(smtp_hosts, hosted_on)
    if setting == CUSTOM:
        if not (spf_include or "").strip():
            raise ValueError("the custom sending provider has no SPF include in the settings")
        provider = providers.custom(providers.spf_include_name(spf_include))
    elif setting in providers.PROVIDERS:
        provider = providers.PROVIDERS[setting]
    else:
        raise ValueError(f"unknown sending provider {setting!r} in the settings")
    return providers.Assumption(provider, providers.Reason.SETTING)


def nameservers(text: str | None, system: Callable[[], list[Nameserver]] | None) -> list[Nameserver]:
    """The configured nameservers, else ``system()`` (the machine's resolvers; None: not allowed)."""
    configured = split_values(text)
    if configured:
        return [Nameserver.parse(item) for item in configured]
    if system is None:
        raise ValueError("No nameserver configured for the domain health checks.")
    found = system()
    if not found:
        raise ValueError(
            "No nameserver configured for the domain health checks and none found in /etc/resolv.conf."
        )
    return found


def _seconds(text: str | None, default: float, what: str) -> float:
    try:
        value = float(text) if text not in (None, "") else default
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"{what} must be a positive number of seconds, not {text}")
    return value


def run_options_of(
    params: Mapping[str, str | None], system_nameservers: Callable[[], list[Nameserver]] | None
) -> RunOptions:
    """How a run reaches DNS: ``nameservers``, ``dns_timeout`` (a lookup gives up after 2.5x) and
    ``domain_deadline`` of ``params``; ``system_nameservers`` as in ``nameservers()``."""
    timeout = _seconds(params.get("dns_timeout"), DEFAULT_TIMEOUT, "The DNS timeout")
    deadline = _seconds(params.get("domain_deadline"), DEFAULT_DOMAIN_DEADLINE, "The domain deadline")
    return RunOptions(
        nameservers=nameservers(params.get("nameservers"), system_nameservers),
        timeout=timeout,
        lifetime=timeout * 2.5,
        domain_deadline=deadline,
    )


def configured_ips(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(ips, ignored)`` of the Sending IPs setting, used as given: the settings form refuses the
    addresses ``address_problem`` names before they are saved, and a value written directly as a
    system parameter (scripts, the tests on loopback) is the administrator's word."""
    ips, ignored = [], []
    for item in split_values(text):
        try:
            ips.append(str(ipaddress.ip_address(item)))
        except ValueError:
            ignored.append(item)
    return tuple(dict.fromkeys(ips)), tuple(ignored)


def resolve(
    params: Mapping[str, str | None],
    smtp_hosts: Sequence[str],
    hosted_on: str | None = None,
    *,
    system_nameservers: Callable[[], list[Nameserver]] | None,
    extra_selectors: Sequence[str] = (),
) -> HealthSettings:
    """The settings of a run from ``params`` (``provider``, ``spf_include``, ``dkim_selectors``,
    ``nameservers``, ``sending_ips``, ``dns_timeout``, ``domain_deadline``: raw text or None).

    ``smtp_hosts`` are the outgoing servers' hosts in priority order: they suggest the provider
    and, without ``sending_ips``, give the IPs SPF is evaluated for (host names become the
    options' ``sending_hosts``, looked up by the run through its nameservers).
    ``hosted_on`` names the hosting platform (``odoo`` on Odoo.sh), None when self-hosted.
    ``extra_selectors`` are DKIM selectors to check besides the provider's and the settings'
    (e.g. the database's own signing keys).
    """
    run_options = run_options_of(params, system_nameservers)
    assumption = choose_provider(params.get("provider"), params.get("spf_include"), smtp_hosts, hosted_on)
    names: list[str] = []
    if split_values(params.get("sending_ips")):
        ips, ignored = configured_ips(params.get("sending_ips"))
    else:
        addresses = []
        for host in smtp_hosts:
            try:
                addresses.append(str(ipaddress.ip_address(host)))
            except ValueError:
                names.append(host)
        ips, ignored = usable_ips(addresses)
    selectors = tuple(s.lower() for s in (*split_values(params.get("dkim_selectors")), *extra_selectors))
    options = CheckOptions(
        provider=assumption.provider,
        dkim_selectors=tuple(dict.fromkeys(selectors)),
        sending_ips=ips,
        sending_hosts=tuple(dict.fromkeys(names)),
    )
    return HealthSettings(options, run_options, assumption, ignored)
