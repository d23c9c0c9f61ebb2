"""Static checks of the addon tools/series.py writes, for a machine without Odoo.

    python3 tools/series_check.py [--runtime SERIES=ODOO_TREE ...] [SERIES ...]

builds each series (all four by default) into a temporary folder and checks the result: the manifest
(valid, versioned for the series, its files present, its Python dependencies in requirements.txt),
every XML file (parses, the series' root element, the series' view rules), no import of the other
framework, SERIES in seams.py, tours in the series' syntax, and every Python file compiling with the
series' Python (3.11 for 17, 18 and Flectra 3; 3.12 for 19; found in pyenv or on PATH). With
``--runtime``, views and data files are also validated against that Odoo tree's own RelaxNG schemas
(a Flectra build against Odoo 17's, its root renamed back). Prints one line per series; exit 1 when a
check fails.
"""

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import series  # noqa: E402
import series_js  # noqa: E402
import series_py  # noqa: E402
import series_xml  # noqa: E402
from series_py import SeriesError  # noqa: E402

PYENV = Path("/root/.pyenv/versions")


def check_manifest(addon: Path, target: series.Series) -> list[str]:
    errors = []
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))
    for key in ("name", "version", "license", "depends", "data"):
        if key not in manifest:
            errors.append(f"__manifest__.py: no {key}")
    version = manifest.get("version", "")
    pattern = (
        rf"{re.escape(target.version_prefix)}\.\d+\.\d+\.\d+" if target.version_prefix else r"\d+\.\d+\.\d+"
    )
    if not re.fullmatch(pattern, version):
        errors.append(f"__manifest__.py: version {version!r} is not {pattern}")
    for name in manifest.get("data", []) + manifest.get("demo", []):
        if not (addon / name).is_file():
            errors.append(f"__manifest__.py: data file {name} is missing")
    for bundle, globs in manifest.get("assets", {}).items():
        for pattern in globs:
            relative = pattern.split("/", 1)[1] if isinstance(pattern, str) else ""
            if not relative or not list(addon.glob(relative)):
                errors.append(f"__manifest__.py: {bundle} asset {pattern!r} matches no file")
    requirements = addon / "requirements.txt"
    if not requirements.is_file():
        errors.append("requirements.txt is missing")
    else:
        listed = {
            re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
            for line in requirements.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        }
        for dependency in manifest.get("external_dependencies", {}).get("python", []):
            if dependency.lower().replace("_", "-") not in listed:
                errors.append(f"requirements.txt does not list {dependency} (an external dependency)")
    for migration in (addon / "migrations").glob("*"):
        if migration.name != version:
            errors.append(f"migrations/{migration.name} is not named after the version {version}")
    return errors


def check_xml_rules(relative: Path, root, target: series.Series) -> list[str]:
    """The view and data rules of the series, on one parsed data file."""
    errors = []
    expected_root = "flectra" if target.flectra else "odoo"
    if root.tag not in (expected_root, "data"):
        errors.append(f"root element <{root.tag}>, not <{expected_root}>")
    views = series_xml.arches(root)
    elements = [
        element
        for _model, arch, _inherits in views
        for element in arch.iter()
        if isinstance(element.tag, str)
    ]
    actions = series_xml.records(root, "ir.actions.act_window")
    modes = [
        mode.strip()
        for record in actions + series_xml.records(root, "ir.actions.act_window.view")
        for field in [series_xml.record_field(record, "view_mode")]
        if field is not None and field.text
        for mode in field.text.split(",")
    ]
    if target.odoo == 17:
        old, new = "tree", "list"
        for element in elements:
            if element.tag in ("list", "chatter"):
                errors.append(f"line {element.sourceline}: <{element.tag}> does not exist in Odoo 17")
            if "aggregator" in element.attrib:
                errors.append(f"line {element.sourceline}: aggregator= is group_operator= in Odoo 17")
            if "list_view_ref" in element.get("context", ""):
                errors.append(f"line {element.sourceline}: list_view_ref is tree_view_ref in Odoo 17")
        for record in actions:
            if series_xml.record_field(record, "path") is not None:
                errors.append(f"action {record.get('id')}: ir.actions.act_window has no path in Odoo 17")
        for record in series_xml.records(root, "ir.cron"):
            if series_xml.record_field(record, "numbercall") is None:
                errors.append(f"cron {record.get('id')}: no numbercall (Odoo 17 runs it once)")
        copy = series_xml.parse(series_xml.serialize(root.getroottree(), b""))
        before = series_xml.serialize(copy, b"")
        series_xml.modifier_fields(copy.getroot())
        if series_xml.serialize(copy, b"") != before:
            errors.append("a view expression reads a field the view does not hold (Odoo 17 refuses it)")
    else:
        old, new = "list", "tree"
        for element in elements:
            if element.tag == "tree":
                errors.append(f"line {element.sourceline}: <tree> is <list> from Odoo 18")
            if "group_operator" in element.attrib:
                errors.append(f"line {element.sourceline}: group_operator= is aggregator= from Odoo 18")
    if new in modes:
        errors.append(f"view_mode {new!r} is {old!r} in this series")
    if target.odoo >= 19:
        for _model, arch, _inherits in views:
            for group in arch.iter("group") if arch.tag == "search" else ():
                if {"expand", "string"} & set(group.attrib):
                    errors.append(
                        f"line {group.sourceline}: a search view <group> takes no expand/string in 19"
                    )
    return errors


def relaxng_errors(relative: Path, root, runtime: Path, target: series.Series) -> list[str]:
    """Validation against the runtime's own schemas: the data file against import_xml.rng, each
    view (not inherited ones, which Odoo validates combined) against ``<type>_view.rng``."""
    from lxml import etree

    errors = []
    document = series_xml.parse(series_xml.serialize(root.getroottree(), b""))
    if target.flectra and document.getroot().tag == "flectra":
        document.getroot().tag = "odoo"  # Flectra's import_xml.rng is Odoo 17's with the root renamed
    schema = etree.RelaxNG(etree.parse(str(runtime / "odoo" / "import_xml.rng")))
    if not schema.validate(document):
        errors.append(f"import_xml.rng: {schema.error_log.last_error}")
    for _model, arch, inherits in series_xml.arches(document.getroot()):
        rng = runtime / "odoo" / "addons" / "base" / "rng" / f"{arch.tag}_view.rng"
        if inherits or not rng.is_file():
            continue
        view_schema = etree.RelaxNG(etree.parse(str(rng)))
        if not view_schema.validate(etree.ElementTree(arch)):
            errors.append(f"{rng.name}, line {arch.sourceline}: {view_schema.error_log.last_error}")
    return errors


def check_python(addon: Path, target: series.Series) -> list[str]:
    errors = []
    foreign = "odoo" if target.flectra else "flectra"
    for path in sorted(addon.rglob("*.py")):
        relative = path.relative_to(addon)
        source = path.read_text(encoding="utf-8")
        try:
            compile(source, str(relative), "exec", flags=ast.PyCF_ONLY_AST)
        except SyntaxError:
            continue  # compile_errors reports it, with the series' Python
        engine = relative.parts[0] == series.ENGINE
        for package in ("odoo", "flectra") if engine else (foreign,):
            for where in series_py.foreign_references(source, package):
                if engine and "import" not in where:
                    continue  # the engine names providers such as Odoo's in strings and variables
                errors.append(f"{relative}: {where}")
    if target.odoo == 17:
        errors += only_from_18(addon)
    seams = ast.parse((addon / "seams.py").read_text(encoding="utf-8"))
    values = [
        node.value.value
        for node in seams.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SERIES"
    ]
    if values != [target.odoo]:
        errors.append(f"seams.py: SERIES is {values}, not {target.odoo}")
    return errors


def only_from_18(addon: Path) -> list[str]:
    """Uses of ``env._`` (``self.env._``, Odoo 18's translation helper) in the Odoo layer: Odoo 17's
    Environment has no ``_`` (``from odoo import _`` works on every series)."""
    errors = []
    for path in sorted(addon.rglob("*.py")):
        relative = path.relative_to(addon)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "_":
                if getattr(node.value, "attr", None) == "env":
                    where = f"{relative}: line {node.lineno}"
                    errors.append(f"{where}: env._ does not exist on Odoo 17 (use odoo's _)")
    return errors


def series_python(version: str) -> str | None:
    """A Python ``version`` (3.11, 3.12) interpreter: pyenv's, else one on PATH."""
    for candidate in sorted(PYENV.glob(f"{version}.*/bin/python"), reverse=True):
        return str(candidate)
    return shutil.which(f"python{version}")


def compile_errors(addon: Path, python: str) -> list[str]:
    """Every Python file compiled (not written) by ``python``."""
    script = (
        "import sys\n"
        "for path in sys.stdin.read().split('\\0'):\n"
        "    try:\n"
        "        compile(open(path, encoding='utf-8').read(), path, 'exec')\n"
        "    except SyntaxError as error:\n"
        "        print(f'{path}:{error.lineno}: {error.msg}')\n"
    )
    files = "\0".join(str(path) for path in sorted(addon.rglob("*.py")))
    result = subprocess.run([python, "-c", script], input=files, capture_output=True, text=True, check=False)
    if result.returncode:
        return [f"{python} failed: {result.stderr.strip()}"]
    return [line.replace(str(addon) + "/", "") for line in result.stdout.splitlines()]


def check_js(addon: Path, target: series.Series) -> list[str]:
    errors = []
    for path in sorted((addon / "static").rglob("*.js")):
        relative = path.relative_to(addon)
        text = path.read_text(encoding="utf-8")
        try:
            tokens = series_js.tokenize(text)
            tours = series_js.tours(tokens)
        except SeriesError as error:
            errors.append(f"{relative}: {error}")
            continue
        if target.odoo == 17:
            header = "@flectra-module" if target.flectra else "@odoo-module"
            if not re.match(rf"\s*/\*\*?\s*{header}", text):
                errors.append(f"{relative}: no /** {header} **/ header")
            for tour in tours:
                for step in series_js.steps(tokens, tour):
                    run = step.properties.get("run")
                    action = series_js.string_value(tokens, run) if run else None
                    if run is None and "isCheck" not in step.properties:
                        errors.append(f"{relative}: a step without run and isCheck (Odoo 17 clicks it)")
                    if action and action.split(" ")[0] == "edit":
                        errors.append(f"{relative}: run 'edit' is 'text' in Odoo 17")
        if target.flectra and "@odoo-module" in text:
            errors.append(f"{relative}: @odoo-module in a Flectra build")
    return errors


def check(addon: Path, target: series.Series, runtime: Path | None = None) -> tuple[list[str], int, str]:
    """(errors, files checked, the Python used) for the build at ``addon``."""
    errors = check_manifest(addon, target)
    xml_files = sorted(addon.rglob("*.xml"))
    for path in xml_files:
        relative = path.relative_to(addon)
        try:
            root = series_xml.parse(path.read_bytes()).getroot()
        except Exception as error:  # noqa: BLE001 - any parse error is the finding
            errors.append(f"{relative}: does not parse: {error}")
            continue
        found = check_xml_rules(relative, root, target)
        if runtime is not None:
            found += relaxng_errors(relative, root, runtime, target)
        errors += [f"{relative}: {message}" for message in found]
    errors += check_python(addon, target)
    errors += check_js(addon, target)
    python = series_python(target.python)
    if python:
        errors += compile_errors(addon, python)
    else:
        errors.append(f"no Python {target.python} found to compile the {target.name} build with")
    return errors, len(xml_files) + len(list(addon.rglob("*.py"))), python or ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("series", nargs="*", help=f"default: all of {', '.join(series.SERIES)}")
    parser.add_argument("--runtime", action="append", default=[], metavar="SERIES=ODOO_TREE")
    args = parser.parse_args(argv)
    runtimes = dict(item.split("=", 1) for item in args.runtime)
    unknown = [name for name in args.series if name not in series.SERIES]
    if unknown:
        parser.error(f"unknown series {', '.join(unknown)}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="mdh-series-") as work:
        for name in args.series or series.SERIES:
            target = series.SERIES[name]
            runtime = runtimes.get("17.0" if target.flectra else name)
            try:
                addon = series.build(name, Path(work) / name)
            except SeriesError as error:
                print(f"series {name}: BUILD FAILED: {error}")
                failed = True
                continue
            errors, count, python = check(addon, target, Path(runtime) if runtime else None)
            schemas = f", views against {runtime}'s schemas" if runtime else ", no runtime schemas"
            if errors:
                failed = True
                print(f"series {name}: {len(errors)} static check(s) FAILED")
                for error in errors:
                    print(f"    {error}")
            else:
                print(f"series {name}: static checks passed ({count} files, compiled with {python}{schemas})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
