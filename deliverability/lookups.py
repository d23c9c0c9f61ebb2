"""Blocking DNS look-ups for callers without an event loop (the Odoo layer) outside a check run."""

from __future__ import annotations

from . import checks, event_loop
from .options import CheckOptions, RunOptions


def sending_ips(options: CheckOptions, run_options: RunOptions) -> tuple[str, ...]:
    """The sending IPs of ``options``: those given, then the usable addresses of the sending hosts,
    looked up through the nameservers of ``run_options`` (``checks.sending_ips``)."""
    if not options.sending_hosts:
        return options.sending_ips
    return event_loop.run(checks.sending_ips(options, run_options.resolver()))
