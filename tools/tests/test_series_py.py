"""The Python transforms of tools/series.py."""

import pytest
import series
import series_py
from series_py import SeriesError


def test_set_constant_replaces_the_value_only():
    source = '"""Doc: SERIES = 18 here is prose."""\n\nSERIES = 18  # the series\nOTHER = SERIES\n'
    assert series_py.set_constant(source, "SERIES", 17) == (
        '"""Doc: SERIES = 18 here is prose."""\n\nSERIES = 17  # the series\nOTHER = SERIES\n'
    )


@pytest.mark.parametrize("source", ["X = 1\n", "SERIES = 1\nSERIES = 2\n", "def f():\n    SERIES = 1\n"])
def test_set_constant_needs_exactly_one_module_level_assignment(source):
    with pytest.raises(SeriesError, match="one module-level assignment of SERIES"):
        series_py.set_constant(source, "SERIES", 17)


def test_manifest_version():
    source = '{\n    "name": "X",\n    "version": "18.0.1.1.0",  # keep\n    "depends": ["mail"],\n}\n'
    assert series_py.set_manifest_version(source, "17.0.1.1.0") == source.replace("18.0.1.1.0", "17.0.1.1.0")
    with pytest.raises(SeriesError, match="no version"):
        series_py.set_manifest_version('{"name": "X"}', "1.0")
    with pytest.raises(SeriesError, match="one dict literal"):
        series_py.set_manifest_version("x = {}", "1.0")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("17.0", "17.0.1.2.3"), ("18.0", "18.0.1.2.3"), ("19.0", "19.0.1.2.3"), ("flectra-3.0", "1.2.3")],
)
def test_series_versions(name, expected):
    assert series.SERIES[name].version("18.0.1.2.3") == expected


def test_series_version_needs_an_18_source():
    with pytest.raises(SeriesError, match="18.0.x.y.z"):
        series.SERIES["17.0"].version("17.0.1.0.0")


def test_rename_keyword_only_in_field_definitions():
    source = (
        'rate = fields.Float(string="Rate", aggregator="avg")\n'
        'other = helper(aggregator="avg")\n'
        'share = fields.Float(\n    compute="_c",\n    aggregator="avg",\n)\n'
    )
    assert series_py.rename_keyword(source, "aggregator", "group_operator") == (
        'rate = fields.Float(string="Rate", group_operator="avg")\n'
        'other = helper(aggregator="avg")\n'
        'share = fields.Float(\n    compute="_c",\n    group_operator="avg",\n)\n'
    )


def test_rename_package_imports_names_and_dotted_strings():
    source = (
        "import odoo\n"
        "import odoo.tests\n"
        "from odoo import _, api\n"
        "from odoo.addons.mail_domain_health.hooks import post_init_hook\n"
        "from . import odoo_helpers\n"
        "\n"
        'PATCH = "odoo.addons.base.models.ir_mail_server.IrMailServer.connect"\n'
        'PROVIDER = "odoo"  # a value: the provider named Odoo\n'
        'TEXT = "odoo.com is a domain, not a module"\n'
        "release = odoo.release.product_name\n"
        "record.odoo = 1  # an attribute called odoo is not the package\n"
    )
    assert series_py.rename_package(source) == (
        "import flectra\n"
        "import flectra.tests\n"
        "from flectra import _, api\n"
        "from flectra.addons.mail_domain_health.hooks import post_init_hook\n"
        "from . import odoo_helpers\n"
        "\n"
        'PATCH = "flectra.addons.base.models.ir_mail_server.IrMailServer.connect"\n'
        'PROVIDER = "odoo"  # a value: the provider named Odoo\n'
        'TEXT = "odoo.com is a domain, not a module"\n'
        "release = flectra.release.product_name\n"
        "record.odoo = 1  # an attribute called odoo is not the package\n"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("odoo = 1\n", "is assigned"),
        ("def f(odoo):\n    return odoo\n", "is a parameter"),
        ("import json as odoo\n", "imported as 'odoo'"),
    ],
)
def test_rename_package_refuses_other_uses_of_the_name(source, message):
    with pytest.raises(SeriesError, match=message):
        series_py.rename_package(source)


def test_foreign_references():
    source = 'from flectra import api\nx = "flectra.addons.mail"\ny = "flectra"\n'
    assert series_py.foreign_references(source, "flectra") == [
        "line 1: import of flectra",
        "line 2: 'flectra.addons.mail'",
    ]
    assert series_py.foreign_references("from odoo import api\n", "flectra") == []
