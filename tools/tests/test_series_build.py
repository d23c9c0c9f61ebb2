"""tools/series.py on this repository, and the static checks finding what a bad build holds."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import series
import series_check

ROOT = series.ROOT
RUNTIMES = {
    name: Path(os.environ.get(f"ODOO{name[:2]}_PATH", f"/work/odoo{name[:2]}")) for name in ("17.0", "19.0")
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    work = tmp_path_factory.mktemp("series")
    return {name: series.build(name, work / name) for name in series.SERIES}


def test_the_18_build_is_the_source(builds):
    built = {path.relative_to(builds["18.0"]) for path in builds["18.0"].rglob("*") if path.is_file()}
    assert built == set(series.sources(ROOT))
    for relative in built:
        assert (builds["18.0"] / relative).read_bytes() == (ROOT / relative).read_bytes(), relative
    assert not {"tools", "benchmarks", ".ci", ".git"} & {relative.parts[0] for relative in built}


@pytest.mark.parametrize("name", list(series.SERIES))
def test_every_build_passes_the_static_checks(builds, name):
    errors, count, python = series_check.check(builds[name], series.SERIES[name])
    assert errors == []
    assert count > 100
    assert python


def test_migrations_and_seams_follow_the_series(builds):
    assert [path.name for path in (builds["17.0"] / "migrations").iterdir()] == ["17.0.1.1.0"]
    assert [path.name for path in (builds["flectra-3.0"] / "migrations").iterdir()] == ["1.1.0"]
    assert "SERIES = 19\n" in (builds["19.0"] / "seams.py").read_text()
    assert "SERIES = 17\n" in (builds["flectra-3.0"] / "seams.py").read_text()


def copy(build: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(build, tmp_path / "mail_domain_health"))


def test_checks_find_18_markup_in_a_17_build(builds, tmp_path):
    addon = copy(builds["17.0"], tmp_path)
    views = addon / "views" / "mail_dkim_key_views.xml"
    views.write_text(views.read_text().replace("<tree>", "<list>").replace("</tree>", "</list>"))
    cron = addon / "data" / "ir_cron.xml"
    cron.write_text(cron.read_text().replace('<field name="numbercall">-1</field>', ""))
    errors, _count, _python = series_check.check(addon, series.SERIES["17.0"])
    assert any("<list> does not exist in Odoo 17" in error for error in errors)
    assert any("no numbercall" in error for error in errors)


def test_checks_find_a_missing_modifier_field_in_a_17_build(builds, tmp_path):
    addon = copy(builds["17.0"], tmp_path)
    views = addon / "views" / "mail_domain_health_views.xml"
    views.write_text(views.read_text().replace('<field name="fix_count" invisible="1"/>', "", 1))
    errors, _count, _python = series_check.check(addon, series.SERIES["17.0"])
    assert errors == [
        "views/mail_domain_health_views.xml: a view expression reads a field the view does not hold "
        "(Odoo 17 refuses it)"
    ]


def test_checks_find_env_translation_in_a_17_build(builds, tmp_path):
    addon = copy(builds["17.0"], tmp_path)
    (addon / "wizard" / "extra.py").write_text("def f(self):\n    _ = self.env._\n    return _('x')\n")
    errors, _count, _python = series_check.check(addon, series.SERIES["17.0"])
    assert "wizard/extra.py: line 2: env._ does not exist on Odoo 17 (use odoo's _)" in errors


def test_checks_find_foreign_imports_versions_and_syntax(builds, tmp_path):
    addon = copy(builds["18.0"], tmp_path)
    (addon / "models" / "extra.py").write_text("from flectra import models\n")
    (addon / "wizard" / "broken.py").write_text("def f(:\n")
    manifest = addon / "__manifest__.py"
    manifest.write_text(manifest.read_text().replace('"18.0.1.1.0"', '"17.0.1.1.0"'))
    errors, _count, _python = series_check.check(addon, series.SERIES["18.0"])
    assert "models/extra.py: line 1: import of flectra" in errors
    assert any(error.startswith("wizard/broken.py:1:") for error in errors)
    assert any("version '17.0.1.1.0'" in error for error in errors)
    assert any("migrations/18.0.1.1.0 is not named after the version 17.0.1.1.0" in error for error in errors)


def test_checks_find_odoo_in_a_flectra_build(builds, tmp_path):
    addon = copy(builds["flectra-3.0"], tmp_path)
    (addon / "models" / "extra.py").write_text('from odoo import models\nTARGET = "odoo.addons.mail"\n')
    engine = addon / "deliverability" / "extra.py"
    engine.write_text("import flectra\n")
    tour = next((addon / "static").rglob("*_tour.js"))
    tour.write_text(tour.read_text().replace("@flectra-module", "@odoo-module"))
    errors, _count, _python = series_check.check(addon, series.SERIES["flectra-3.0"])
    assert "models/extra.py: line 1: import of odoo" in errors
    assert "models/extra.py: line 2: 'odoo.addons.mail'" in errors
    assert "deliverability/extra.py: line 1: import of flectra" in errors
    assert any("no /** @flectra-module **/ header" in error for error in errors)


def test_checks_find_an_unlisted_dependency_and_a_missing_file(builds, tmp_path):
    addon = copy(builds["19.0"], tmp_path)
    requirements = addon / "requirements.txt"
    requirements.write_text(
        "\n".join(line for line in requirements.read_text().splitlines() if "dkimpy" not in line)
    )
    (addon / "data" / "ir_cron.xml").unlink()
    errors, _count, _python = series_check.check(addon, series.SERIES["19.0"])
    assert "requirements.txt does not list dkimpy (an external dependency)" in errors
    assert "__manifest__.py: data file data/ir_cron.xml is missing" in errors


@pytest.mark.skipif(not (RUNTIMES["19.0"] / "odoo-bin").is_file(), reason="no Odoo 19 tree (ODOO19_PATH)")
def test_odoo_19_schema_refuses_the_18_search_views(builds):
    errors, _count, _python = series_check.check(builds["18.0"], series.SERIES["19.0"], RUNTIMES["19.0"])
    assert any("search_view.rng" in error for error in errors)
    assert series_check.check(builds["19.0"], series.SERIES["19.0"], RUNTIMES["19.0"])[0] == []


@pytest.mark.skipif(not (RUNTIMES["17.0"] / "odoo-bin").is_file(), reason="no Odoo 17 tree (ODOO17_PATH)")
def test_odoo_17_schemas_accept_the_17_and_flectra_builds(builds):
    assert series_check.check(builds["17.0"], series.SERIES["17.0"], RUNTIMES["17.0"])[0] == []
    assert series_check.check(builds["flectra-3.0"], series.SERIES["flectra-3.0"], RUNTIMES["17.0"])[0] == []


def test_command_line(tmp_path):
    command = [sys.executable, str(ROOT / "tools" / "series.py")]
    done = subprocess.run([*command, "17.0", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "mail_domain_health")
    assert (tmp_path / "mail_domain_health" / "requirements.txt").is_file()
    done = subprocess.run([*command, "16.0", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "usage: python3 tools/series.py {17.0,18.0,19.0,flectra-3.0} DEST" in done.stderr
    done = subprocess.run([*command, "18.0", str(ROOT.parent)], capture_output=True, text=True, check=False)
    if ROOT.name == "mail_domain_health":  # a clone named after the addon: DEST would be the repository
        assert done.returncode == 1
        assert "DEST must not be the repository" in done.stderr
