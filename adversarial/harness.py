"""The adversarial suites' harness on a committed database: every step in its own transaction, the cron pass as
Odoo's cron runs it (one commit per user), and passes whose worker process is killed with SIGKILL."""

# The harness starts its own sync workers with fixed arguments.
# ruff: noqa: S603

from __future__ import annotations

import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A killed pass is slowed by this service time per request, so the kill lands among its Outlook writes.
KILL_SERVICE_MS = 80
# Longest wait for a killed pass's first Outlook write; a pass with nothing to write is killed after a delay.
KILL_WATCH_S = 15.0


def _write_count(emulator) -> int:
    routes = emulator.requests()["by_route"]
    return sum(
        count
        for route, count in routes.items()
        if route.split(" ")[0] in ("POST", "PATCH", "DELETE") and "$batch" not in route and "/events" in route
    )


class CommittedHarness:
    """See the module's docstring; ``emulator`` is the suite's Graph emulator."""

    def __init__(self, odoo, registry, database, emulator):
        self.odoo = odoo
        self.registry = registry
        self.database = database
        self.emulator = emulator

    @contextmanager
    def transaction(self):
        with self.registry.cursor() as cr:
            yield self.odoo.api.Environment(cr, self.odoo.SUPERUSER_ID, {})

    def sync_pass(self):
        with self.transaction() as env:
            env["outlook.sync.account"]._cron_sync_all()

    def killed_pass(self, rng, mailbox):
        self.emulator.configure(service_time_ms=KILL_SERVICE_MS)
        worker = subprocess.Popen(
            [sys.executable, str(HERE / "sync_worker.py"), self.database],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            ready = worker.stdout.readline().strip()
            if ready != "ready":
                return f"worker did not start ({ready!r})"
            before = _write_count(self.emulator)
            deadline = time.monotonic() + rng.uniform(0.5, KILL_WATCH_S)
            while time.monotonic() < deadline and worker.poll() is None:
                if _write_count(self.emulator) > before:
                    # Some writes landed and more are on their way: now is the worst moment to die.
                    time.sleep(rng.uniform(0.0, 0.3))
                    break
                time.sleep(0.02)
            if worker.poll() is not None:
                return "the pass ended before the kill"
            writes = _write_count(self.emulator) - before
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            return f"SIGKILL after {writes} Outlook write(s)"
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            if worker.stdout:
                worker.stdout.close()
