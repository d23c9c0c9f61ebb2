"""One identity: parameters written through to alias domains and back, and the precedence of its sources."""

from __future__ import annotations

import pytest

from deliverability.identity import (
    Address,
    AliasDomain,
    IdentityInputs,
    Parameters,
    Source,
    alias_domain_values,
    describes,
    effective,
    parameter_values,
    resolve,
)

SEED = Parameters(catchall_domain="mycompany.example", bounce_alias="bounce", default_from="notifications")
COMPANY = AliasDomain("mycompany.example", "catchall", "bounce", "notifications")
OTHER = AliasDomain("other.example", "replies", "bounces", "info")


def test_parameters_from_mapping():
    parameters = Parameters.from_mapping(
        {
            "mail.catchall.domain": " Mail.Éxample.COM ",
            "mail.bounce.alias": "",
            "mail.default.from": "notifications",
            "web.base.url": "ignored",
        }
    )
    assert parameters == Parameters(catchall_domain="mail.xn--xample-9ua.com", default_from="notifications")
    assert parameters.field_values() == {"name": "mail.xn--xample-9ua.com", "default_from": "notifications"}
    assert not Parameters().any_set and parameters.any_set


def test_alias_domain_addresses_as_odoo_computes_them():
    assert (COMPANY.catchall_email, COMPANY.bounce_email, COMPANY.default_from_email) == (
        "catchall@mycompany.example",
        "bounce@mycompany.example",
        "notifications@mycompany.example",
    )
    full = AliasDomain("mycompany.example", default_from="noreply@elsewhere.example")
    assert full.default_from_email == "noreply@elsewhere.example"
    assert AliasDomain("x.example", None, None, None).catchall_email is None


# parameters, current alias domain -> values to write (or create with)
WRITE_THROUGH = {
    "created as Odoo's migration creates it": (
        Parameters(catchall_domain="new.example"),
        None,
        {"name": "new.example", "catchall_alias": "catchall", "bounce_alias": "bounce",
         "default_from": "notifications"},
    ),
    "created with the parameters that are set": (
        Parameters(catchall_domain="new.example", bounce_alias="bounces", default_from="noreply@new.example"),
        None,
        {"name": "new.example", "catchall_alias": "catchall", "bounce_alias": "bounces",
         "default_from": "noreply@new.example"},
    ),
    "nothing to create without a domain": (Parameters(bounce_alias="bounces"), None, {}),
    "already in agreement": (SEED, COMPANY, {}),
    "aliases compare as Odoo stores them (lower case)": (
        Parameters(bounce_alias="Bounce", catchall_alias="CATCHALL"), COMPANY, {},
    ),
    "a local part differs": (
        Parameters(bounce_alias="bounces", default_from="noreply"),
        COMPANY,
        {"bounce_alias": "bounces", "default_from": "noreply"},
    ),
    "only what is set is written": (
        Parameters(catchall_alias="replies"), COMPANY, {"catchall_alias": "replies"},
    ),
    "IDNA domain compares in ASCII": (
        Parameters(catchall_domain="xn--xample-9ua.com"), AliasDomain("XN--XAMPLE-9UA.com"), {},
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "parameters, current, expected", list(WRITE_THROUGH.values()), ids=list(WRITE_THROUGH)
)
def test_alias_domain_values(parameters, current, expected):
    assert alias_domain_values(parameters, current) == expected


# parameters, alias domain, used by a company -> described by the parameters
DESCRIBES = {
    "the domain named by mail.catchall.domain": (SEED, COMPANY, False, True),
    "another domain": (SEED, OTHER, True, False),
    "local parts only: a company's domain": (Parameters(bounce_alias="b"), OTHER, True, True),
    "local parts only: a domain no company uses": (Parameters(bounce_alias="b"), OTHER, False, False),
    "nothing set": (Parameters(), COMPANY, True, False),
}


@pytest.mark.parametrize("parameters, domain, used, expected", list(DESCRIBES.values()), ids=list(DESCRIBES))
def test_describes(parameters, domain, used, expected):
    assert describes(parameters, domain, used) is expected


# parameters, before, after -> parameters to update
WRITE_BACK = {
    "renamed": (
        SEED, COMPANY, AliasDomain("renamed.example", "catchall", "bounce", "notifications"),
        {"mail.catchall.domain": "renamed.example"},
    ),
    "bounce alias edited": (
        SEED, COMPANY, AliasDomain("mycompany.example", "catchall", "bounces", "notifications"),
        {"mail.bounce.alias": "bounces"},
    ),
    "a field whose parameter is not set stays unset": (
        SEED, COMPANY, AliasDomain("mycompany.example", "replies", "bounce", "notifications"), {},
    ),
    "emptied: the parameter is unset": (
        SEED, COMPANY, AliasDomain("mycompany.example", "catchall", "bounce", None),
        {"mail.default.from": False},
    ),
    "case only: no change": (
        SEED, COMPANY, AliasDomain("MyCompany.example", "catchall", "Bounce", "notifications"), {},
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "parameters, before, after, expected", list(WRITE_BACK.values()), ids=list(WRITE_BACK)
)
def test_parameter_values(parameters, before, after, expected):
    assert parameter_values(parameters, before, after) == expected


def test_write_through_then_back_is_stable():
    values = alias_domain_values(SEED, None)
    created = AliasDomain(**values)
    assert alias_domain_values(SEED, created) == {}
    assert parameter_values(SEED, created, created) == {}


CTX = IdentityInputs(context_from="info@other.example", context_bounce="bounces@other.example")

# inputs -> default sender, bounce, catchall (value, source)
PRECEDENCE = {
    "nothing": (IdentityInputs(), (None, Source.NONE), (None, Source.NONE), (None, Source.NONE)),
    "configuration file only": (
        IdentityInputs(configured_from="odoo@host.example"),
        ("odoo@host.example", Source.CONFIGURATION), ("odoo@host.example", Source.CONFIGURATION),
        (None, Source.NONE),
    ),
    "alias domain (parameters written through to it)": (
        IdentityInputs(alias_domain=COMPANY, parameters=SEED, configured_from="odoo@host.example"),
        ("notifications@mycompany.example", Source.ALIAS_DOMAIN),
        ("bounce@mycompany.example", Source.ALIAS_DOMAIN),
        ("catchall@mycompany.example", Source.ALIAS_DOMAIN),
    ),
    "the record's alias domain (context) before the company's": (
        IdentityInputs(CTX.context_from, CTX.context_bounce, alias_domain=COMPANY),
        ("info@other.example", Source.CONTEXT), ("bounces@other.example", Source.CONTEXT),
        ("catchall@mycompany.example", Source.ALIAS_DOMAIN),
    ),
    "full-address mail.default.from, no alias domain: before the configuration file": (
        IdentityInputs(parameters=Parameters(default_from="noreply@mycompany.example"),
                       configured_from="odoo@host.example"),
        ("noreply@mycompany.example", Source.PARAMETER), ("odoo@host.example", Source.CONFIGURATION),
        (None, Source.NONE),
    ),
    "local-part mail.default.from, no alias domain: no address to make": (
        IdentityInputs(parameters=Parameters(default_from="notifications")),
        (None, Source.NONE), (None, Source.NONE), (None, Source.NONE),
    ),
    "with an alias domain that says otherwise: the parameter that is set wins": (
        IdentityInputs(alias_domain=COMPANY, parameters=Parameters(default_from="noreply@elsewhere.example")),
        ("noreply@elsewhere.example", Source.PARAMETER),
        ("bounce@mycompany.example", Source.ALIAS_DOMAIN),
        ("catchall@mycompany.example", Source.ALIAS_DOMAIN),
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    "parameters, alias, expected",
    [
        (Parameters(), None, None),
        (Parameters(), COMPANY, COMPANY),
        # the alias domain was deleted or detached: the parameters alone, Odoo's defaults beside them
        (SEED, None, AliasDomain("mycompany.example", "catchall", "bounce", "notifications")),
        (Parameters("mycompany.example", bounce_alias="returns"), None,
         AliasDomain("mycompany.example", "catchall", "returns", "notifications")),
        # the same domain: what the alias domain says where no parameter is set
        (Parameters(bounce_alias="returns"), AliasDomain("mycompany.example", "replies", "b", "hello"),
         AliasDomain("mycompany.example", "replies", "returns", "hello")),
        # another domain (a company's own alias domain): the parameters' domain, Odoo's defaults
        (Parameters("mycompany.example"), AliasDomain("second.example", "c2", "b2", "n2"),
         AliasDomain("mycompany.example", "catchall", "bounce", "notifications")),
        # local parts without any domain: nothing to make an address of
        (Parameters(bounce_alias="returns"), None, None),
    ],
)  # fmt: skip
def test_effective_identity_whatever_records_exist(parameters, alias, expected):
    assert effective(parameters, alias) == expected


@pytest.mark.parametrize(
    "inputs, default_from, bounce, catchall", list(PRECEDENCE.values()), ids=list(PRECEDENCE)
)
def test_resolve(inputs, default_from, bounce, catchall):
    found = resolve(inputs)
    assert found.default_from == Address(*default_from)
    assert found.bounce == Address(*bounce)
    assert found.catchall == Address(*catchall)


def test_sources_say_where_in_plain_words():
    for source in Source:
        assert source.label and "seed" not in source.label
