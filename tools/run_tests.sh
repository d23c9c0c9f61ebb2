#!/usr/bin/env bash
# The project's test command:  bash tools/run_tests.sh
#
# Always: README.rst up to date, the engine tests (against NSD on loopback), the tests of
# tools/series.py, and the static checks of the addon built for every series (17.0, 18.0, 19.0,
# flectra-3.0). Then, for every Odoo runtime it finds, the addon built by tools/series.py for that
# series is installed with README's commands (tools/install_check.sh), then on a throwaway database
# with test_mail, where its Odoo suite runs (the browser tour included, and Odoo's own
# ir.mail_server tests re-run with the module loaded), and the wheel OCA-style
# (tools/wheel_check.sh: odoo-addon-mail_domain_health <series>.x.y.z, built with whool, smoke-tested).
#
# Runtimes (an Odoo source tree): ODOO17_PATH, ODOO18_PATH (ODOO_PATH is an alias), ODOO19_PATH;
# when a variable is unset, /work/odoo17, /work/odoo18, /work/odoo19 are used if they hold odoo-bin.
# A runtime that is named or found but cannot run is a failure, never a skip; ODOO17_PATH=- (etc.)
# leaves one out on purpose, and the summary says so. Its Python:
# ODOO17_PYTHON / ODOO18_PYTHON (ODOO_PYTHON) / ODOO19_PYTHON, else <tree>/.venv/bin/python, created
# when missing from Odoo's requirements.txt with Python 3.11 (17, 18) or 3.12 (19) and setuptools<81.
# Also: PGHOST/PGPORT (default 127.0.0.1:5432), ODOO_DB_USER (default odoo, created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
# The DMARC sample corpus beside the repository, named for the Odoo suites too (they run on a build elsewhere).
export DMARC_SAMPLES=${DMARC_SAMPLES:-$(dirname "$root")/shared/dmarc-samples}

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

# --- which Odoo runtimes are here --------------------------------------------------------------
declare -A runtime python_of
missing=()
for series in 17.0 18.0 19.0; do
    major=${series%.0}
    var=ODOO${major}_PATH
    pyvar=ODOO${major}_PYTHON
    path=${!var:-}
    py=${!pyvar:-}
    if [ "$series" = 18.0 ]; then
        path=${path:-${ODOO_PATH:-}}
        py=${py:-${ODOO_PYTHON:-}}
    fi
    if [ -z "$path" ] && [ -f "/work/odoo$major/odoo-bin" ]; then
        path=/work/odoo$major
    fi
    if [ "$path" = - ]; then
        missing+=("$series (left out: ODOO${major}_PATH=-)")
    elif [ -n "$path" ]; then
        runtime[$series]=$path
        python_of[$series]=${py:-$path/.venv/bin/python}
    else
        missing+=("$series")
    fi
done

say "tools/series.py: its tests, then the static checks of every series"
.venv/bin/python -m pytest tools/tests
schema_args=()
for series in "${!runtime[@]}"; do
    [ -f "${runtime[$series]}/odoo/import_xml.rng" ] && schema_args+=(--runtime "$series=${runtime[$series]}")
done
.venv/bin/python tools/series_check.py "${schema_args[@]}"

if [ "${#runtime[@]}" = 0 ]; then
    cat <<'EOF'

############################################################################
##  ODOO SUITES SKIPPED: no Odoo runtime found.                           ##
##  Only the engine tests, the series tests and the static checks ran.    ##
##  To run the addon's Odoo tests and Odoo's own ir.mail_server tests:    ##
##      ODOO18_PATH=/path/to/odoo-18.0 bash tools/run_tests.sh            ##
##  (and ODOO17_PATH, ODOO19_PATH; /work/odoo17..19 are found alone)      ##
############################################################################
EOF
    exit 0
fi

# --- the Odoo suite of each runtime ------------------------------------------------------------
need_debian chromium chromium
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
db_user=${ODOO_DB_USER:-odoo}
psql -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$db_user'" | grep -q 1 \
    || psql -U postgres -qc "CREATE ROLE \"$db_user\" LOGIN CREATEDB"
work=$(mktemp -d)
dbs=()
cleanup() {
    for db in "${dbs[@]}"; do dropdb -U postgres --if-exists "$db" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

make_venv() {  # make_venv SERIES TREE PYTHON: Odoo's requirements in a new venv at PYTHON's place
    local version=3.11 base
    [ "$1" = 19.0 ] && version=3.12
    base=$(ls -d /root/.pyenv/versions/$version.*/bin/python 2>/dev/null | sort -V | tail -n 1)
    base=${base:-$(command -v python$version || true)}
    [ -n "$base" ] || { echo "error: no Python $version to make $3 with" >&2; return 1; }
    need_debian ldapsearch libldap2-dev libsasl2-dev ldap-utils
    "$base" -m venv "$(dirname "$(dirname "$3")")"
    echo 'setuptools<81' > "$work/constraints.txt"  # cbor2 5.4 does not build with setuptools 81
    PIP_CONSTRAINT=$work/constraints.txt "$3" -m pip install -q 'setuptools<81' wheel
    PIP_CONSTRAINT=$work/constraints.txt "$3" -m pip install -q -r "$2/requirements.txt"
}

declare -A result
failed=0
run_suite() {  # run_suite SERIES: sets result[SERIES]; returns 1 when anything of that series failed
    local series=$1 tree=${runtime[$1]} py=${python_of[$1]} log addons db port summary rc demo side
    log=$root/odoo-test-$series.log
    [ -f "$tree/odoo-bin" ] || { result[$series]="cannot run: $tree/odoo-bin not found"; return 1; }
    if [ ! -x "$py" ]; then
        say "creating $py for Odoo $series"
        make_venv "$series" "$tree" "$py" || { result[$series]="cannot run: no Python for it"; return 1; }
    fi
    addons=$work/addons-$series
    .venv/bin/python tools/series.py "$series" "$addons" >/dev/null
    "$py" -m pip install -q --disable-pip-version-check -r "$addons/mail_domain_health/requirements.txt" \
        websocket-client || { result[$series]="cannot run: pip install into $py failed"; return 1; }
    # README's install commands and the wheel run beside the suite (each mostly waits on one core)
    side=$work/side-$series
    (bash tools/install_check.sh "$series" "$tree" "$py" && bash tools/wheel_check.sh "$series" "$tree" "$py") \
        >"$side.log" 2>&1 &
    local side_pid=$!
    db=mdh_test_${series%.0}_$$
    dbs+=("$db")
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    demo=--without-demo=all
    [ "$series" = 19.0 ] && demo=--without-demo  # 19 takes a boolean
    say "Odoo $series suite ($tree, $py), README's install commands and the wheel beside it"
    set +e
    "$py" "$tree/odoo-bin" \
        --addons-path="$tree/addons,$addons" --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$db_user" \
        -d "$db" -i mail_domain_health,test_mail,mass_mailing "$demo" --stop-after-init --http-interface=127.0.0.1 \
        --http-port="$port" --test-enable --test-tags=/mail_domain_health --log-level=test >"$log" 2>&1
    rc=$?
    wait "$side_pid"
    local side_rc=$?
    set -e
    grep -E "(ERROR|FAIL)" "$log" | grep -v " INFO " | head -n 40 || true
    grep -E "^(documented install|wheel on|error)" "$side.log" || true
    summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1 \
        | sed -E 's/.*odoo.tests.result: //; s/ when loading.*//')
    local tour="tour NOT succeeded" marker="tour succeeded"
    [ "$series" = 17.0 ] && marker="browser: test successful"  # what Odoo 17's tour service logs
    grep -q "$marker" "$log" && tour="tour succeeded"
    result[$series]="${summary:-no test summary found}; $tour"
    dropdb -U postgres --if-exists "$db" 2>/dev/null || true
    local status=0
    if [ "$rc" != 0 ] || [ -z "$summary" ] || [ "$tour" != "tour succeeded" ] \
        || grep -qE " (ERROR|CRITICAL) $db " "$log"; then
        result[$series]+=" (exit $rc; log: odoo-test-$series.log)"
        status=1
    else
        rm -f "$log"
    fi
    if [ "$side_rc" = 0 ]; then
        result[$series]+="; documented install and wheel ok"
    else
        cp "$side.log" "$root/odoo-install-$series.log"
        result[$series]+="; documented install or wheel FAILED (log: odoo-install-$series.log)"
        status=1
    fi
    return "$status"
}

for series in 17.0 18.0 19.0; do
    [ -n "${runtime[$series]:-}" ] || continue
    run_suite "$series" || failed=1
    echo "odoo $series: ${result[$series]}"
done

say "summary ($(( $(date +%s) - started )) s)"
for series in 17.0 18.0 19.0; do
    if [ -n "${runtime[$series]:-}" ]; then
        echo "odoo $series: ${result[$series]}"
    else
        echo "odoo $series: SKIPPED (no runtime)"
    fi
done
echo "flectra-3.0: static checks only (no Flectra runtime is supported here)"
if [ "${#missing[@]}" != 0 ]; then
    echo
    echo "############################################################################"
    for series in "${missing[@]}"; do
        echo "##  ODOO SUITE SKIPPED for $series: no runtime (set ODOO${series%%.*}_PATH)"
    done
    echo "############################################################################"
fi
if [ "$failed" != 0 ]; then
    echo "ODOO SUITES FAILED" >&2
    exit 1
fi
echo "ODOO SUITES PASSED"
