#!/usr/bin/env bash
# Starts Odoo 18 with the outlook_calendar_sync addon and our Graph emulator on localhost, so a person can click
# through the whole flow: Settings > Integrations > Outlook Calendar, the Outlook button in Calendar (sign-in at the
# emulator, consent, sync), the sync log, and Users > a user > Calendar tab > Reset Account.
#
#   ODOO_SRC=/path/to/odoo18 scripts/odoo-dev.sh            # then open http://localhost:8069 (admin / admin)
#
# ODOO_DB (default outlook_dev) is created on first use with the addon installed and configured for the emulator;
# later runs reuse it (ODOO_DB_RESET=1 drops it first). ODOO_PORT (default 8069), EMULATOR_PORT (default 8400).
# The emulator's control API (seed events, read the outbox of mails Outlook sent) is at
# http://127.0.0.1:$EMULATOR_PORT/_emulator/ (see docs/emulator.md), e.g.
#   curl -s http://127.0.0.1:8400/_emulator/outbox
set -euo pipefail
: "${ODOO_SRC:?set ODOO_SRC to an Odoo 18 tree (the folder holding odoo-bin)}"
ODOO_SRC=$(cd "$ODOO_SRC" && pwd)
export ODOO_SRC
ODOO_VENV=${ODOO_VENV:-$(dirname "$ODOO_SRC")/odoo-venv}
export ODOO_VENV
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
db=${ODOO_DB:-outlook_dev}
port=${ODOO_PORT:-8069}
emulator_port=${EMULATOR_PORT:-8400}
py="$ODOO_VENV/bin/python"

"$repo/scripts/setup-odoo.sh"
if [ "${OUTLOOK_SYNC_SKIP_BUILD:-0}" != 1 ]; then
  (cd "$repo" && VIRTUAL_ENV=$ODOO_VENV "${MATURIN:-$repo/.venv/bin/maturin}" develop --quiet)
fi

"$py" -m outlook_sync.emulator --port "$emulator_port" >/tmp/outlook-emulator-url.txt &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  [ -s /tmp/outlook-emulator-url.txt ] && break
  sleep 0.1
done
emulator_url=$(head -1 /tmp/outlook-emulator-url.txt)
echo "odoo-dev: Graph emulator at $emulator_url"

args=(--addons-path="$ODOO_SRC/odoo/addons,$repo/odoo_addon" -d "$db")
if [ "${ODOO_DB_RESET:-0}" = 1 ]; then
  dropdb --if-exists "$db"
fi
if ! psql -lqt | cut -d '|' -f 1 | grep -qw "$db"; then
  echo "odoo-dev: creating database $db with calendar and outlook_calendar_sync (a minute or two)"
  "$py" "$ODOO_SRC/odoo-bin" "${args[@]}" -i calendar,outlook_calendar_sync --without-demo=all --stop-after-init \
    --log-level=warn
fi

# Point the addon at the emulator (the emulator accepts any client id and secret) and set web.base.url, whose
# /microsoft_account/authentication is the redirect URI the sign-in returns to.
"$py" "$ODOO_SRC/odoo-bin" shell "${args[@]}" --no-http --log-level=warn <<PY
params = env["ir.config_parameter"].sudo()
for key, value in {
    "web.base.url": "http://localhost:$port",
    "outlook_calendar_sync.enabled": "True",
    "outlook_calendar_sync.client_id": "00000000-0000-0000-0000-0000000000de",
    "outlook_calendar_sync.client_secret": "emulator-accepts-any-secret",
    "outlook_calendar_sync.login_url": "$emulator_url",
    "outlook_calendar_sync.graph_url": "$emulator_url",
}.items():
    params.set_param(key, value)
admin = env.ref("base.user_admin")
admin.write({"password": "admin", "email": admin.email or "admin@example.com"})
env.cr.commit()
PY

echo "odoo-dev: open http://localhost:$port and sign in as admin / admin; Ctrl-C stops Odoo and the emulator"
"$py" "$ODOO_SRC/odoo-bin" "${args[@]}" --http-port="$port" --log-level=info
