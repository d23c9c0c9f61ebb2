"""Write this addon for one series of Odoo or Flectra.

    python3 tools/series.py SERIES DEST      SERIES: 17.0, 18.0, 19.0 or flectra-3.0

writes DEST/mail_domain_health, installable on that series (with its requirements.txt). The source is
written for Odoo 18; each difference is one narrow transform below, applied to the structure that
holds it (Python through ast/tokenize, XML through lxml, tours through their object literals), and
the series itself is written into ``seams.py`` (``SERIES``) for the code that differs at Odoo's
seams. readme/DEVELOP.rst lists the differences. Needs lxml (Odoo's own Python has it; without it,
the repository's .venv is used when the test command has made it).
"""

import ast
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _need_lxml():
    """Data files are edited with lxml: without it, run again with the repository's .venv (made by
    the test command) when it has lxml, else say which Python to use."""
    try:
        import lxml  # noqa: F401
    except ImportError:
        venv = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
        if venv.is_file() and Path(sys.prefix).resolve() != venv.parent.parent.resolve():
            os.execv(str(venv), [str(venv), *sys.argv])
        sys.exit("tools/series.py needs lxml: run it with Odoo's Python (it has lxml), or pip install lxml")


if __name__ == "__main__":
    _need_lxml()

import series_js  # noqa: E402
import series_py  # noqa: E402
import series_xml  # noqa: E402
from series_py import SeriesError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ADDON = "mail_domain_health"
ENGINE = "deliverability"  # plain Python, no framework import: the same on every series
# Not part of the addon: development files, caches, virtualenvs, build output.
LEFT_OUT = {
    ".git", ".ci", ".venv", ".venv-odoo", "tools", "benchmarks", "build", "__pycache__", ".pytest_cache",
    ".hypothesis", ".ruff_cache", "odoo-test.log", "requirements-test.txt", ".gitignore",
}  # fmt: skip


@dataclass(frozen=True)
class Series:
    name: str  # as given on the command line
    odoo: int  # the Odoo series the code meets (Flectra 3 is Odoo 17's)
    product: str  # the framework package: odoo or flectra
    version_prefix: str  # what the manifest version starts with ("" for none)
    python: str  # the Python the series runs on

    def version(self, source_version: str) -> str:
        """The manifest version for this series from the source's ``18.0.x.y.z``."""
        parts = source_version.split(".")
        if len(parts) != 5 or parts[:2] != ["18", "0"]:
            raise SeriesError(f"the source version must be 18.0.x.y.z, not {source_version!r}")
        own = ".".join(parts[2:])
        return f"{self.version_prefix}.{own}" if self.version_prefix else own

    @property
    def flectra(self) -> bool:
        return self.product == "flectra"


SERIES = {
    "17.0": Series("17.0", 17, "odoo", "17.0", "3.11"),
    "18.0": Series("18.0", 18, "odoo", "18.0", "3.11"),
    "19.0": Series("19.0", 19, "odoo", "19.0", "3.12"),
    # Flectra 3 accepts x.y.z or its series' prefix; x.y.z is right whatever its release calls itself.
    "flectra-3.0": Series("flectra-3.0", 17, "flectra", "", "3.11"),
}


def activity_models(root: Path) -> dict[str, bool]:
    """The mail.thread models this addon defines, each with whether it has activities
    (``mail.activity.mixin``, directly or through one of the addon's own abstract models)."""
    inherits: dict[str, set[str]] = {}
    for path in sorted((root / "models").glob("*.py")) + sorted((root / "wizard").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            values = {}
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target = statement.targets[0]
                    if isinstance(target, ast.Name) and target.id in ("_name", "_inherit"):
                        try:
                            values[target.id] = ast.literal_eval(statement.value)
                        except ValueError:
                            continue
            parents = values.get("_inherit", [])
            parents = {parents} if isinstance(parents, str) else set(parents)
            name = values.get("_name") or (next(iter(parents)) if len(parents) == 1 else None)
            if name:
                inherits.setdefault(name, set()).update(parents - {name})

    def closure(name, seen=()):
        found = set(inherits.get(name, ()))
        for parent in list(found):
            if parent not in seen:
                found |= closure(parent, (*seen, name))
        return found

    return {
        name: "mail.activity.mixin" in closure(name) for name in inherits if "mail.thread" in closure(name)
    }


def transform_xml(data: bytes, series: Series, activities: dict[str, bool]) -> bytes:
    if series.odoo == 18 and not series.flectra:
        return data
    tree = series_xml.parse(data)
    untouched = series_xml.serialize(tree, data)
    root = tree.getroot()
    if series.odoo == 17:
        series_xml.list_to_tree(root)
        series_xml.view_ref_context(root)
        series_xml.chatter(root, activities)
        series_xml.aggregator(root)
        series_xml.action_path(root)
        series_xml.cron_numbercall(root)
        series_xml.modifier_fields(root)
    if series.odoo == 19:
        series_xml.search_group_attributes(root)
    if series.flectra:
        series_xml.flectra_root(root)
    result = series_xml.serialize(tree, data)
    return data if result == untouched else result  # a file no transform changed keeps its layout


def transform_python(relative: Path, text: str, series: Series) -> str:
    if relative == Path("__manifest__.py"):
        version = ast.literal_eval(text)["version"]
        text = series_py.set_manifest_version(text, series.version(version))
    if relative == Path("seams.py"):
        text = series_py.set_constant(text, "SERIES", series.odoo)
    if series.odoo == 17:
        text = series_py.rename_keyword(text, "aggregator", "group_operator")
    if series.flectra and relative.parts[0] != ENGINE:
        text = series_py.rename_package(text)
    return text


def transform_js(relative: Path, text: str, series: Series) -> str:
    if series.odoo != 17 or "tours" not in relative.parts:
        return text
    return series_js.tour_17(text, "@flectra-module" if series.flectra else "@odoo-module")


def destination(relative: Path, series: Series) -> Path:
    """Where a file goes: a migration folder is named after the series' version of it."""
    parts = relative.parts
    if len(parts) > 2 and parts[0] == "migrations":
        return Path("migrations", series.version(parts[1]), *parts[2:])
    return relative


def sources(root: Path, skip: Path | None = None):
    """The addon's files, relative to ``root``."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in LEFT_OUT for part in relative.parts) or path.suffix == ".pyc":
            continue
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file():
            yield relative


def build(series_name: str, dest: Path, root: Path = ROOT) -> Path:
    """Write the addon for ``series_name`` into ``dest/mail_domain_health`` (replaced if present)."""
    if series_name not in SERIES:
        raise SeriesError(f"unknown series {series_name!r}: one of {', '.join(SERIES)}")
    series = SERIES[series_name]
    target = Path(dest).resolve() / ADDON
    if target == root.resolve():
        raise SeriesError("DEST must not be the repository")
    activities = activity_models(root)
    if target.exists():
        shutil.rmtree(target)
    for relative in sources(root, skip=target):
        data = (root / relative).read_bytes()
        try:
            if relative.suffix == ".xml":
                data = transform_xml(data, series, activities)
            elif relative.suffix == ".py":
                data = transform_python(relative, data.decode("utf-8"), series).encode("utf-8")
            elif relative.suffix == ".js":
                data = transform_js(relative, data.decode("utf-8"), series).encode("utf-8")
        except SeriesError as error:
            raise SeriesError(f"{relative}: {error}") from None
        out = target / destination(relative, series)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        shutil.copymode(root / relative, out)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in SERIES:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print(f"usage: python3 tools/series.py {{{','.join(SERIES)}}} DEST", file=sys.stderr)
        return 2
    try:
        target = build(argv[0], Path(argv[1]))
    except SeriesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
