#!/usr/bin/env bash
# bash tools/install_check.sh SERIES ODOO_TREE PYTHON
#
# Runs the commands of readme/INSTALL.rst's "Install in Odoo" as an administrator types them, with
# the four names set to this runtime, the configuration file replaced by one for the test database
# (PGHOST/PGPORT, ODOO_DB_USER) and DATABASE by a throwaway database; then checks that the module is
# installed at the series' version. Called by tools/run_tests.sh for every Odoo runtime it finds.
set -euo pipefail
cd "$(dirname "$0")/.."
series=$1 tree=$2 python=$3
work=$(mktemp -d)
db=mdh_install_${series%.0}_$$
cleanup() { dropdb -U postgres --if-exists "$db" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

commands=$(awk '/set the four names/ {found = 1; next}
                found && /^    / {print substr($0, 5); started = 1; next}
                found && started && /^$/ {exit}' readme/INSTALL.rst)
grep -q '^\$PYTHON tools/series.py ' <<<"$commands" || { echo "error: no install commands in readme/INSTALL.rst" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
demo=all
[ "$series" = 19.0 ] && demo=True
cat >"$work/odoo.conf" <<EOF
[options]
db_host = ${PGHOST:-127.0.0.1}
db_port = ${PGPORT:-5432}
db_user = ${ODOO_DB_USER:-odoo}
http_interface = 127.0.0.1
http_port = $port
without_demo = $demo
EOF
script="SERIES=$series
ODOO=$tree
PYTHON=$python
ADDONS=$work/addons
$(grep -v '^[A-Z]*=' <<<"$commands" | sed -e "s#/etc/odoo/odoo.conf#$work/odoo.conf#" -e "s#DATABASE#$db#")"
mkdir "$work/addons"
echo "$script" | sed 's/^/    /'
bash -euc "$script" >"$work/log" 2>&1 || { tail -n 30 "$work/log" >&2; echo "error: the documented install failed" >&2; exit 1; }
if grep -E " (ERROR|CRITICAL) " "$work/log" >&2; then
    echo "error: the documented install logged errors" >&2
    exit 1
fi
installed=$(psql -U postgres -d "$db" -tAc \
    "SELECT state || ' ' || latest_version FROM ir_module_module WHERE name = 'mail_domain_health'")
expected="installed $("$python" -c "import ast,sys; print(ast.literal_eval(open(sys.argv[1]).read())['version'])" \
    "$work/addons/mail_domain_health/__manifest__.py")"
if [ "$installed" != "$expected" ]; then
    echo "error: mail_domain_health is '$installed' after the documented install, not '$expected'" >&2
    exit 1
fi
echo "documented install on Odoo $series: mail_domain_health $installed"
