"""Load suite, long form (issue 6, point 4): 50 users synced by the cron under Microsoft's limits.

    ODOO_SRC=/work/odoo18 /work/odoo-venv/bin/python adversarial/load.py

Each user has their own mailbox holding a few events and a few Odoo events; the emulator enforces Outlook's
limits (4 requests in flight per mailbox, 10,000 per 10 minutes) with a service time per request; the last user's
consent is revoked. The cron (``_cron_sync_all``, one commit per user) runs until every other user holds the same
events on both sides (``tests/load_scenario.py`` in the addon holds the scenario and the checks).

Prints ``load: users=50 seconds_to_converge=T requests_per_user=avg/max retry_after_violations=0
revoked_user_state=reconnect ...`` and exits 1 if a user did not converge, a Retry-After was ignored, the revoked
user is not asked to reconnect, or their run took longer than the median run of the others.

Environment: ODOO_SRC (else a SKIPPED line), ADVERSARIAL_LOAD_USERS (default 50), ADVERSARIAL_SERVICE_MS
(default 20), ADVERSARIAL_DB (an existing database with the addon installed, kept: for development runs).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import CommittedHarness
from odoo_db import fresh_database, load_registry, log, odoo_src


def verdict(result) -> list[str]:
    """What is wrong with a load result, in words (empty: the suite passed)."""
    problems = list(result["unconverged"])
    if result["retry_after_violations"]:
        problems.append(f"{result['retry_after_violations']} request(s) ignored a Retry-After")
    if result["revoked_user_state"] != "reconnect":
        problems.append(f"the revoked user ended in state {result['revoked_user_state']}, not reconnect")
    revoked, median = result["revoked_run_seconds"], result["median_run_seconds"]
    if revoked is None or (median is not None and revoked > median):
        problems.append(f"the revoked user's run took {revoked}s, the median run {median}s")
    return problems


def main() -> int:
    src = odoo_src()
    if src is None:
        print("load: SKIPPED (set ODOO_SRC to an Odoo 18 tree to run the load suite)")
        return 0
    users = int(os.environ.get("ADVERSARIAL_LOAD_USERS") or 50)
    service_ms = int(os.environ.get("ADVERSARIAL_SERVICE_MS") or 20)
    reuse = os.environ.get("ADVERSARIAL_DB")
    prefix = f"L{os.getpid()}" if reuse else "L"
    log(f"load: users={users} service_ms={service_ms}")
    with fresh_database(src, "load", reuse=reuse) as database:
        odoo, registry = load_registry(src, database)
        from odoo.addons.outlook_calendar_sync.tests.common import configure  # noqa: PLC0415
        from odoo.addons.outlook_calendar_sync.tests.load_scenario import LoadScenario, summary_line  # noqa: PLC0415

        from outlook_sync.emulator import Emulator  # noqa: PLC0415 - Odoo's Python holds the wheel

        with Emulator.start() as emulator:
            harness = CommittedHarness(odoo, registry, database, emulator)
            with harness.transaction() as env:
                configure(env, emulator.url)
                # Accounts of earlier runs (reused database) point at an emulator that is gone.
                env["outlook.sync.account"].search([]).write({"state": "stopped"})
            started = time.monotonic()
            result = LoadScenario(harness, users=users, service_ms=service_ms, prefix=prefix).run()
            log(f"load: {time.monotonic() - started:.0f}s with setup")
    problems = verdict(result)
    log(f"load: revoked user's message: {result['revoked_user_message']}")
    for line in problems:
        log(line)
    print(summary_line(result), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
