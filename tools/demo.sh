#!/usr/bin/env bash
# Set up and run the main job: the deliverability CLI checks sample domains served by a
# throwaway NSD on loopback (127.0.0.1 only) and prints the findings with the records to publish:
# healthy.example passes, noinclude.example lacks the provider's SPF include (record to publish
# shown), strict.example has DMARC p=reject without SPF or DKIM (its mail would be rejected).
# Exits 0 when the demo ran (the failing sample domains are its point: the CLI's exit 1 is mapped
# to 0), non-zero when it could not run (no nsd, DNS not answering: exit 3, usage error: 2).
#   bash tools/demo.sh            text output
#   bash tools/demo.sh --json     the JSON document; any other CLI option works too
# Creates .venv from requirements.txt when missing and installs Debian's nsd when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nsd >/dev/null 2>&1 && [ ! -x /usr/sbin/nsd ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "error: nsd is missing; as root: apt-get install nsd" >&2
        exit 1
    fi
    echo "== installing nsd" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsd >/dev/null
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nsd 2>/dev/null; then
        # the package starts a system NSD on every interface; the demo runs its own on loopback
        echo "== stopping and disabling the nsd service the package started (not needed here)" >&2
        systemctl disable --now nsd >/dev/null 2>&1 || true
    fi
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv" >&2
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt

exec .venv/bin/python -m deliverability.testing.demo "$@"
