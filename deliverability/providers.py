"""Sending-provider profiles: the SPF include and DKIM selector a provider asks domains to publish."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """What a domain must publish for mail sent through ``name``.

    ``dkim_target`` is the name the ``<selector>._domainkey`` CNAME points to, or
    ``None`` when the provider publishes no delegated key (custom SMTP).
    """

    name: str
    spf_include: str
    dkim_selector: str | None
    dkim_target: str | None


FLECTRA = Provider("flectra", "_spf.flectra.com", "flectra", "flectra._domainkey.flectra.com")
ODOO = Provider("odoo", "_spf.odoo.com", "odoo", "odoo._domainkey.odoo.com")
PROVIDERS = {p.name: p for p in (FLECTRA, ODOO)}


def custom(spf_include: str, dkim_selector: str | None = None) -> Provider:
    """A self-hosted or third-party SMTP: its own include, selectors without a CNAME target."""
    return Provider("custom", spf_include, dkim_selector, None)
