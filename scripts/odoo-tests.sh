#!/usr/bin/env bash
# Runs the outlook_calendar_sync addon's tests in a real Odoo 18 (ODOO_SRC) on a fresh database, then drops it.
# Exits non-zero on any failure: odoo-bin itself may exit 0 when tests fail, so its log is checked too.
#
#   ODOO_SRC=/path/to/odoo18 scripts/odoo-tests.sh
#
# ODOO_VENV (default: $ODOO_SRC/../odoo-venv) is prepared by scripts/setup-odoo.sh; the outlook-sync wheel is
# built into it from this checkout (CARGO_TARGET_DIR is honoured, so a separate build dir can be used).
# ODOO_TEST_TAGS narrows the run (default: every test of the addon). OUTLOOK_SYNC_SKIP_BUILD=1 uses the
# outlook_sync already installed in ODOO_VENV instead of building it.
set -euo pipefail
: "${ODOO_SRC:?set ODOO_SRC to an Odoo 18 tree (the folder holding odoo-bin)}"
ODOO_SRC=$(cd "$ODOO_SRC" && pwd)
export ODOO_SRC
ODOO_VENV=${ODOO_VENV:-$(dirname "$ODOO_SRC")/odoo-venv}
export ODOO_VENV
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
addon=outlook_calendar_sync
tags=${ODOO_TEST_TAGS:-/$addon}

"$repo/scripts/setup-odoo.sh"

# The wheel, built from this checkout into Odoo's Python (an editable debug build, like `make develop`).
if [ "${OUTLOOK_SYNC_SKIP_BUILD:-0}" != 1 ]; then
  maturin=${MATURIN:-$repo/.venv/bin/maturin}
  if [ ! -x "$maturin" ]; then
    maturin=$(command -v maturin || true)
  fi
  if [ -z "$maturin" ]; then
    echo "odoo-tests: maturin not found (run 'make venv' first)" >&2
    exit 2
  fi
  (cd "$repo" && VIRTUAL_ENV=$ODOO_VENV "$maturin" develop --quiet)
fi
"$ODOO_VENV/bin/python" -c 'import outlook_sync' || {
  echo "odoo-tests: outlook_sync does not import in $ODOO_VENV" >&2
  exit 2
}

db="ocs_test_$$_$(date +%s)"
port=$("$ODOO_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t odoo-tests-XXXXXX.log)
cleanup() {
  dropdb --if-exists "$db" >/dev/null 2>&1 || true
  rm -rf "${HOME:-/root}/.local/share/Odoo/filestore/$db"
}
trap cleanup EXIT

echo "odoo-tests: database $db, port $port, log $log"
status=0
"$ODOO_VENV/bin/python" "$ODOO_SRC/odoo-bin" \
  --addons-path="$ODOO_SRC/odoo/addons,$repo/odoo_addon" \
  -d "$db" -i "$addon" --test-enable --test-tags "$tags" \
  --stop-after-init --without-demo=all --http-port="$port" --log-level=test \
  >"$log" 2>&1 || status=$?

# What failed, in Odoo's words.
grep -E "( ERROR | CRITICAL |FAIL: |ERROR: )" "$log" | cut -c1-400 || true
summary=$(grep -E "odoo\.tests\.(result|stats): " "$log" | tail -n 3 || true)
echo "${summary:-odoo-tests: no test summary in the log}"

if [ "$status" -ne 0 ]; then
  echo "odoo-tests: odoo-bin exited with $status" >&2
  exit 1
fi
if grep -qE "odoo\.tests\.result: .*\b([1-9][0-9]* failed|[1-9][0-9]* error\(s\))" "$log"; then
  echo "odoo-tests: FAILED (see the summary above; log: $log)" >&2
  exit 1
fi
if grep -qE "( ERROR | CRITICAL )" "$log"; then
  echo "odoo-tests: FAILED (errors in the Odoo log: $log)" >&2
  exit 1
fi
if ! grep -qE "odoo\.addons\.$addon\.tests" "$log"; then
  echo "odoo-tests: FAILED (no test of $addon ran: $log)" >&2
  exit 1
fi
echo "odoo-tests: passed"
rm -f "$log"
