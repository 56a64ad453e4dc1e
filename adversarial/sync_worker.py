"""One pass of the Outlook sync cron in its own process, as an Odoo worker runs it; the faults suite kills it.

    python adversarial/sync_worker.py DB

Prints ``ready`` once the registry is loaded (the parent starts watching then) and ``done`` at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_db import load_registry, odoo_src


def main(database: str) -> None:
    src = odoo_src()
    if src is None:
        raise SystemExit("sync_worker: set ODOO_SRC")
    odoo, registry = load_registry(src, database)
    print("ready", flush=True)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["outlook.sync.account"]._cron_sync_all()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
