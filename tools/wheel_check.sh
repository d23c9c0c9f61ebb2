#!/usr/bin/env bash
# bash tools/wheel_check.sh SERIES ODOO_TREE PYTHON
#
# The addon as OCA ships it: a wheel odoo-addon-mail_domain_health, version <series>.x.y.z, built
# with whool (pyproject.toml's build backend) from the addon tools/series.py writes for SERIES, by
# the commands of readme/INSTALL.rst; then
# installed with PYTHON's pip into a venv that sees that Python's packages and the Odoo tree (not
# into PYTHON's own venv, which other runs use), and smoke-tested there: Odoo finds the addon in its
# odoo.addons namespace, outside any --addons-path, with the series' version, and imports it.
# pip fetches whool for the build (PEP 517 build isolation). Called by tools/run_tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
series=$1 tree=$2 python=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

.venv/bin/python tools/series.py "$series" "$work/build" >/dev/null
"$python" -m pip wheel -q --disable-pip-version-check --no-deps --wheel-dir "$work/dist" \
    "$work/build/mail_domain_health" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
wheel=$(ls "$work"/dist/odoo_addon_mail_domain_health-*.whl)
version=$(.venv/bin/python -c "import ast,sys; print(ast.literal_eval(open(sys.argv[1]).read())['version'])" \
    "$work/build/mail_domain_health/__manifest__.py")
case "$(basename "$wheel")" in
    "odoo_addon_mail_domain_health-$version-py3-none-any.whl") ;;
    *) echo "error: $(basename "$wheel") is not version $version" >&2; exit 1 ;;
esac

"$python" -m venv "$work/venv"
site_of() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
printf '%s\n%s\n' "$(site_of "$python")" "$tree" >"$(site_of "$work/venv/bin/python")/odoo-runtime.pth"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$wheel"
"$work/venv/bin/python" - "$tree" "$version" "$(site_of "$work/venv/bin/python")" <<'EOF'
import sys

tree, version, site = sys.argv[1:]
from odoo.tools import config

config.parse_config(["--addons-path", f"{tree}/addons", "--http-interface", "127.0.0.1"])
from odoo.modules import module

if hasattr(module, "initialize_sys_path"):
    module.initialize_sys_path()
path = module.get_module_path("mail_domain_health")
assert path and path.startswith(site), f"Odoo finds mail_domain_health at {path}, not in the wheel's {site}"
manifest = module.get_manifest("mail_domain_health")
assert manifest["version"] == version, manifest["version"]
import odoo.addons.mail_domain_health  # noqa: E402,F401

print(f"wheel on Odoo {manifest['version'][:4]}: odoo-addon-mail_domain_health {version} found at {path}")
EOF
