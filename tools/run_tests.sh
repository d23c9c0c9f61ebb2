#!/usr/bin/env bash
# The project's test command.
#   bash tools/run_tests.sh                 engine tests (always; no Odoo needed)
#   ODOO_PATH=/path/to/odoo-18.0 bash tools/run_tests.sh
#                                           engine tests, then the addon's Odoo suite and Odoo's own
#                                           ir.mail_server tests on a throwaway database
# Optional: ODOO_PYTHON (a Python with Odoo's requirements; default: .venv-odoo built from ODOO_PATH),
#           PGHOST/PGPORT (default 127.0.0.1:5432), ODOO_DB_USER (default odoo, created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n== %s\n' "$*"; }

need_debian() {  # need_debian COMMAND PACKAGE...
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
    say "installing Debian packages: ${*:2}"
    if [ "$(id -u)" != 0 ]; then
        echo "error: $1 is missing and this is not root: apt-get install ${*:2}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null
}

need_debian nsd nsd

if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt

say "README.rst is what readme/*.rst make"
python3 tools/build_readme.py --check

say "engine tests (deliverability/, against NSD on loopback)"
.venv/bin/python -m pytest deliverability/tests

if [ -z "${ODOO_PATH:-}" ]; then
    cat <<'EOF'

############################################################################
##  ODOO SUITE SKIPPED: no Odoo source tree given.                        ##
##  Only the engine tests ran. To run the addon's Odoo tests and Odoo's   ##
##  own ir.mail_server tests:                                             ##
##      ODOO_PATH=/path/to/odoo-18.0 bash tools/run_tests.sh              ##
############################################################################
EOF
    exit 0
fi

say "Odoo suite (ODOO_PATH=$ODOO_PATH)"
[ -x "$ODOO_PATH/odoo-bin" ] || { echo "error: $ODOO_PATH/odoo-bin not found" >&2; exit 1; }
need_debian chromium chromium
if [ -z "${ODOO_PYTHON:-}" ]; then
    ODOO_PYTHON=$root/.venv-odoo/bin/python
    if [ ! -x "$ODOO_PYTHON" ]; then
        need_debian ldapsearch libldap2-dev libsasl2-dev ldap-utils
        python3.11 -m venv .venv-odoo
        .venv-odoo/bin/pip install -q 'setuptools<81' wheel
        echo 'setuptools<81' > .venv-odoo/constraints.txt  # cbor2 5.4 does not build with setuptools 81
        PIP_CONSTRAINT=.venv-odoo/constraints.txt .venv-odoo/bin/pip install -q -r "$ODOO_PATH/requirements.txt"
    fi
fi
"$ODOO_PYTHON" -m pip install -q --disable-pip-version-check -r requirements-test.txt websocket-client

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
db_user=${ODOO_DB_USER:-odoo}
psql -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$db_user'" | grep -q 1 \
    || psql -U postgres -qc "CREATE ROLE \"$db_user\" LOGIN CREATEDB"
db=mdh_test_$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addons=$(mktemp -d)
ln -s "$root" "$addons/mail_domain_health"
log=$(mktemp)
cleanup() { dropdb -U postgres --if-exists "$db" 2>/dev/null || true; rm -rf "$addons" "$log"; }
trap cleanup EXIT

set +e
"$ODOO_PYTHON" "$ODOO_PATH/odoo-bin" \
    --addons-path="$ODOO_PATH/addons,$addons" --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$db_user" \
    -d "$db" -i mail_domain_health,test_mail,mass_mailing --without-demo=all --stop-after-init --http-interface=127.0.0.1 --http-port="$port" \
    --test-enable --test-tags=/mail_domain_health \
    --log-level=test 2>&1 | tee "$log" | grep -E "(ERROR|FAIL|tour succeeded|failed, .* error|Ran [0-9]+ test)" || true
rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1 | sed -E 's/.*odoo.tests.result: //; s/ when loading.*//')
echo
echo "odoo: ${summary:-no test summary found}"
if ! grep -q "tour succeeded" "$log"; then
    echo "error: the browser tour did not report 'tour succeeded' (skipped or failed)" >&2
    rc=1
fi
if [ "$rc" != 0 ] || [ -z "$summary" ] || grep -qE " (ERROR|CRITICAL) $db " "$log"; then
    echo "ODOO SUITE FAILED (exit $rc); full log kept in odoo-test.log" >&2
    cp "$log" "$root/odoo-test.log"
    exit 1
fi
echo "ODOO SUITE PASSED"
