"""One mail identity: the system parameters and the alias domains say the same thing.

Odoo 18 reads the default sender, the bounce (envelope) address and the catchall (Reply-To) address
from an alias domain (``mail.alias.domain``) everywhere it needs them: the From and the envelope
sender, the Return-Path header, the Reply-To of notifications, the recognition of bounces and the
routing of replies. The system parameters ``mail.catchall.domain``, ``mail.catchall.alias``,
``mail.bounce.alias`` and ``mail.default.from`` say the same in the form older versions read.

The identity is decided from everything the administrator set, whatever records happen to exist
(``effective``): the parameters that are set, over the alias domain they name or the company's. The
Odoo layer applies it at core's readers (the alias domain of a record, the company's bounce and
catchall addresses, the default sender, bounce and catchall recognition), so that it holds when the
alias domain was deleted, detached from a company, never created (parameters set before this module
was installed), or when a company was created later. Besides, the parameters are written through to
the alias domain they describe (as Odoo's own ``_migrate_icp_to_domain`` maps them) and an edit of
that alias domain is written back to the parameters that are set, so that what the records show is
that identity too. This module holds those rules as plain values: ``effective``,
``alias_domain_values`` (parameters -> alias domain), ``parameter_values`` (alias domain edit ->
parameters), ``describes`` (which alias domains the parameters describe) and ``resolve`` (the
addresses a message is sent with, and where each comes from).

Multi-company: the parameters are global. A parameter that is set is the same for every company:
``mail.catchall.domain`` makes its alias domain every company's; a local part without it is written
to the alias domain of every company. A company of its own identity is configured on its alias
domain, with the parameters unset.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .domains import normalize_domain

# system parameter -> field of mail.alias.domain (Odoo's _migrate_icp_to_domain mapping)
PARAMETER_FIELDS = {
    "mail.catchall.domain": "name",
    "mail.catchall.alias": "catchall_alias",
    "mail.bounce.alias": "bounce_alias",
    "mail.default.from": "default_from",
}
FIELD_PARAMETERS = {field: key for key, field in PARAMETER_FIELDS.items()}
# what Odoo gives an alias domain created from the parameters when one is not set
CORE_DEFAULTS = {"catchall_alias": "catchall", "bounce_alias": "bounce", "default_from": "notifications"}


def _domain(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normalize_domain(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AliasDomain:
    """The values of one ``mail.alias.domain`` that make up an identity."""

    name: str
    catchall_alias: str | None = "catchall"
    bounce_alias: str | None = "bounce"
    default_from: str | None = "notifications"

    @property
    def catchall_email(self) -> str | None:
        return f"{self.catchall_alias}@{self.name}" if self.catchall_alias else None

    @property
    def bounce_email(self) -> str | None:
        return f"{self.bounce_alias}@{self.name}" if self.bounce_alias else None

    @property
    def default_from_email(self) -> str | None:
        """As Odoo computes it: a full address as it is, a local part at the domain."""
        if not self.default_from:
            return None
        return self.default_from if "@" in self.default_from else f"{self.default_from}@{self.name}"


@dataclass(frozen=True)
class Parameters:
    """The identity parameters that are set (None: not set); ``catchall_domain`` in ASCII (IDNA)."""

    catchall_domain: str | None = None
    catchall_alias: str | None = None
    bounce_alias: str | None = None
    default_from: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str | None]) -> Parameters:
        """From ``{system parameter: value}``; empty values are unset, the domain is IDNA-encoded."""

        def get(key):
            return (values.get(key) or "").strip() or None

        return cls(
            catchall_domain=_domain(get("mail.catchall.domain")),
            catchall_alias=get("mail.catchall.alias"),
            bounce_alias=get("mail.bounce.alias"),
            default_from=get("mail.default.from"),
        )

    def field_values(self) -> dict[str, str]:
        """``{alias domain field: value}`` of the parameters that are set."""
        values = {
            "name": self.catchall_domain,
            "catchall_alias": self.catchall_alias,
            "bounce_alias": self.bounce_alias,
            "default_from": self.default_from,
        }
        return {field: value for field, value in values.items() if value}

    @property
    def any_set(self) -> bool:
        return bool(self.field_values())


def _same(field: str, left: str | None, right: str | None) -> bool:
    """Odoo stores aliases lower-case (``_sanitize_alias_name``) and domains in ASCII."""
    if field == "name":
        return _domain(left) == _domain(right)
    return (left or "").strip().lower() == (right or "").strip().lower()


def effective(parameters: Parameters, alias: AliasDomain | None) -> AliasDomain | None:
    """The identity the administrator set, as an alias domain, whatever records exist: the domain of
    ``mail.catchall.domain`` (else ``alias``'s), and each local part from its parameter when it is
    set, else from ``alias`` when it is that domain, else Odoo's default. None when no domain is
    known (a full-address ``mail.default.from`` is then used by ``resolve``)."""
    if not parameters.any_set:
        return alias
    name = parameters.catchall_domain or (alias.name if alias else None)
    if not name:
        return None
    base = alias if alias is not None and _same("name", alias.name, name) else AliasDomain(name)
    return AliasDomain(  # local parts as Odoo stores them on an alias domain: lower case
        name=name,
        catchall_alias=(parameters.catchall_alias or "").lower() or base.catchall_alias,
        bounce_alias=(parameters.bounce_alias or "").lower() or base.bounce_alias,
        default_from=parameters.default_from or base.default_from,
    )


def describes(parameters: Parameters, domain: AliasDomain, used_by_a_company: bool) -> bool:
    """True when ``domain`` is an alias domain the parameters describe: the one named by
    ``mail.catchall.domain`` when it is set, else the alias domain of a company (when a local-part
    parameter is set)."""
    if parameters.catchall_domain:
        return _same("name", domain.name, parameters.catchall_domain)
    return used_by_a_company and parameters.any_set


def alias_domain_values(parameters: Parameters, current: AliasDomain | None) -> dict[str, str]:
    """The fields to write so that ``current`` says what the set parameters say ({} when it does).

    ``current`` None: the values to create the alias domain named by ``mail.catchall.domain`` with,
    with Odoo's defaults for what is not set ({} without ``mail.catchall.domain``: no domain to create).
    """
    wanted = parameters.field_values()
    if current is None:
        if not parameters.catchall_domain:
            return {}
        return {**CORE_DEFAULTS, **wanted}
    return {
        field: value for field, value in wanted.items() if not _same(field, getattr(current, field), value)
    }


def parameter_values(
    parameters: Parameters, before: AliasDomain, after: AliasDomain
) -> dict[str, str | bool]:
    """``{system parameter: new value}`` for the set parameters an edit of an alias domain they
    describe changes (an emptied field unsets its parameter: ``False``)."""
    values: dict[str, str | bool] = {}
    current = parameters.field_values()
    for field, key in FIELD_PARAMETERS.items():
        old, new = getattr(before, field), getattr(after, field)
        if field in current and not _same(field, old, new):
            values[key] = new or False
    return values


class Source(str, enum.Enum):
    """Where an address of the identity comes from."""

    CONTEXT = "context"  # the record's alias domain, as mail.mail passes it
    ALIAS_DOMAIN = "alias_domain"  # the company's alias domain
    PARAMETER = "parameter"  # the system parameters (mail.catchall.domain, mail.bounce.alias, ...)
    CONFIGURATION = "configuration"  # --email-from of the configuration file
    NONE = "none"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {
    Source.CONTEXT: "the alias domain of the record the message is sent for",
    Source.ALIAS_DOMAIN: "the alias domain",
    Source.PARAMETER: "the system parameters mail.catchall.domain, mail.bounce.alias, mail.catchall.alias, "
    "mail.default.from",
    Source.CONFIGURATION: "the email_from option of the server's configuration file",
    Source.NONE: "not set",
}


@dataclass(frozen=True)
class Address:
    value: str | None
    source: Source


@dataclass(frozen=True)
class Identity:
    """The addresses a message is sent with."""

    default_from: Address  # From of an author the server may not send as
    bounce: Address  # envelope sender and Return-Path header
    catchall: Address  # Reply-To, where replies reach the chatter


@dataclass(frozen=True)
class IdentityInputs:
    """What Odoo reads, by precedence: the context (``mail.mail`` passes the record's alias domain),
    the company's alias domain with the parameters (``effective``), the configuration file."""

    context_from: str | None = None  # domain_notifications_email
    context_bounce: str | None = None  # domain_bounce_address
    alias_domain: AliasDomain | None = None
    parameters: Parameters = Parameters()
    configured_from: str | None = None  # --email-from


def _first(*candidates: tuple[str | None, Source]) -> Address:
    for value, source in candidates:
        if value:
            return Address(value, source)
    return Address(None, Source.NONE)


def resolve(inputs: IdentityInputs) -> Identity:
    """The identity of a message: the context (the record's alias domain), then ``effective`` of the
    company's alias domain and the parameters, then ``--email-from``; a full-address
    ``mail.default.from`` holds without any domain."""
    alias, parameters = inputs.alias_domain, inputs.parameters
    found = effective(parameters, alias)

    def source(field: str) -> Source:
        if alias is None:
            return Source.PARAMETER
        same = found == alias or getattr(alias, field) == getattr(found, field, None)
        return Source.ALIAS_DOMAIN if same else Source.PARAMETER

    full_from = (
        parameters.default_from if parameters.default_from and "@" in parameters.default_from else None
    )
    return Identity(
        default_from=_first(
            (inputs.context_from, Source.CONTEXT),
            (found.default_from_email if found else full_from, source("default_from")),
            (inputs.configured_from, Source.CONFIGURATION),
        ),
        bounce=_first(
            (inputs.context_bounce, Source.CONTEXT),
            (found.bounce_email if found else None, source("bounce_alias")),
            (inputs.configured_from, Source.CONFIGURATION),
        ),
        catchall=_first((found.catchall_email if found else None, source("catchall_alias"))),
    )
