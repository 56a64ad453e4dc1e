"""Faults suite, long form (issue 6, point 1): many random rounds against a real, committed Odoo 18 database.

    ODOO_SRC=/work/odoo18 /work/odoo-venv/bin/python adversarial/faults.py

Odoo users edit, create, delete, archive and unarchive events through the ORM and in Outlook (through
``outlook_sync.GraphClient``) while our Graph emulator injects latency, 429/503 storms with Retry-After, 5xx,
responses lost after the write took effect, connection resets, access tokens expiring mid-run, ``invalid_grant``
(then the user reconnects), 410 on the delta token, and some passes run in a worker process that is killed with
SIGKILL in the middle of its Outlook writes. Then faults stop, clean passes run, and both sides are compared with
what the people did (``tests/faults_scenario.py`` in the addon holds the scenario and the oracle).

Prints one line, ``faults: runs=R faults={...} items_checked=I items_lost=0 duplicates=0
retry_after_violations=0 seed=S``, and exits 1 if anything was lost or duplicated or a Retry-After was ignored.

Environment: ODOO_SRC (else a SKIPPED line), ADVERSARIAL_RUNS (rounds, default 40), ADVERSARIAL_SEED (default:
random, printed), ADVERSARIAL_USERS (default 3), ADVERSARIAL_DB (an existing database with the addon installed,
kept: for quick development runs).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import CommittedHarness  # noqa: E402 - after the path above
from odoo_db import fresh_database, load_registry, log, odoo_src  # noqa: E402


def main() -> int:
    src = odoo_src()
    if src is None:
        print("faults: SKIPPED (set ODOO_SRC to an Odoo 18 tree to run the faults suite)")
        return 0
    rounds = int(os.environ.get("ADVERSARIAL_RUNS") or 40)
    users = int(os.environ.get("ADVERSARIAL_USERS") or 3)
    seed = int(os.environ.get("ADVERSARIAL_SEED") or random.SystemRandom().randrange(10**6))
    log(f"faults: seed={seed} rounds={rounds} users={users}")
    reuse = os.environ.get("ADVERSARIAL_DB")
    # In a reused database, earlier runs' users exist: a prefix of this run's own keeps logins and tags apart.
    prefix = f"F{seed}R{os.getpid()}" if reuse else f"F{seed}"
    with fresh_database(src, "faults", reuse=reuse) as database:
        odoo, registry = load_registry(src, database)
        from odoo.addons.outlook_calendar_sync.tests.common import configure  # noqa: PLC0415
        from odoo.addons.outlook_calendar_sync.tests.faults_scenario import (  # noqa: PLC0415
            FaultScenario,
            summary_line,
        )

        from outlook_sync.emulator import Emulator  # noqa: PLC0415 - Odoo's Python holds the wheel

        with Emulator.start() as emulator:
            harness = CommittedHarness(odoo, registry, database, emulator)
            with harness.transaction() as env:
                configure(env, emulator.url)
                # Accounts of earlier runs (reused database) point at an emulator that is gone.
                env["outlook.sync.account"].search([]).write({"state": "stopped"})
            scenario = FaultScenario(harness, seed, users=users, prefix=prefix)
            started = time.monotonic()
            result = scenario.run(rounds)
            log(f"faults: {time.monotonic() - started:.0f}s")
    for line in [*result["notes"], *result["problems"]]:
        log(line)
    print(summary_line(result), flush=True)
    failed = result["items_lost"] or result["duplicates"] or result["retry_after_violations"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
