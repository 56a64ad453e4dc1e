#!/usr/bin/env bash
# Prepares what the Odoo integration tests need, next to an Odoo 18 source tree given as ODOO_SRC:
#   - Debian packages: PostgreSQL 15, libpq headers (psycopg2), Chromium (HttpCase tours);
#   - a virtualenv ($ODOO_VENV, default $ODOO_SRC/../odoo-venv) with Odoo's requirements;
#   - a running PostgreSQL with a superuser role named like the OS user (Odoo connects over the local socket).
# Idempotent: a second run only checks. Odoo's own code is never copied into this repository.
set -euo pipefail
: "${ODOO_SRC:?set ODOO_SRC to an Odoo 18 tree (the folder holding odoo-bin)}"
ODOO_VENV=${ODOO_VENV:-$(dirname "$ODOO_SRC")/odoo-venv}
test -f "$ODOO_SRC/odoo-bin" || { echo "ODOO_SRC=$ODOO_SRC holds no odoo-bin" >&2; exit 2; }

need_apt=()
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
dpkg -s libpq-dev >/dev/null 2>&1 || need_apt+=(libpq-dev)
command -v chromium >/dev/null || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$ODOO_VENV/bin/python" ]; then
  python3 -m venv "$ODOO_VENV"
fi
if [ ! -f "$ODOO_VENV/.odoo-requirements" ]; then
  constraints=$(mktemp)
  echo 'setuptools<70' >"$constraints"
  # python-ldap, gevent and greenlet are not needed for tests and need extra system libraries.
  grep -v -E '^(python-ldap|gevent|greenlet)\b' "$ODOO_SRC/requirements.txt" >"$ODOO_VENV/requirements-tests.txt"
  # Old source packages (cbor2, ...) need pkg_resources at build time: pin setuptools in their build
  # environments too (pip >= 25.3 reads PIP_BUILD_CONSTRAINT for those, older pips PIP_CONSTRAINT).
  export PIP_CONSTRAINT=$constraints PIP_BUILD_CONSTRAINT=$constraints
  "$ODOO_VENV/bin/pip" install --quiet --upgrade pip wheel
  "$ODOO_VENV/bin/pip" install --quiet -r "$ODOO_VENV/requirements-tests.txt"
  unset PIP_CONSTRAINT PIP_BUILD_CONSTRAINT
  # Odoo 18's HttpCase drives Chromium through websocket-client.
  "$ODOO_VENV/bin/pip" install --quiet websocket-client
  rm -f "$constraints"
  touch "$ODOO_VENV/.odoo-requirements"
fi

# PostgreSQL: start the cluster and make sure our OS user has a superuser role.
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  cluster=$(pg_lsclusters -h | awk 'NR==1{print $1" "$2}')
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
fi
user=$(id -un)
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1; then
  su postgres -c "createuser --superuser '$user'"
fi
echo "Odoo test environment ready: ODOO_SRC=$ODOO_SRC ODOO_VENV=$ODOO_VENV"
