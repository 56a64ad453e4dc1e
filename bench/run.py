"""``make bench``: our addon and Odoo 18's ``microsoft_calendar``, side by side, against our Graph emulator.

For each service time, each side gets a fresh database (copied from a template installed once per side: the two
modules refuse to share a database) and a reset emulator, then runs the workloads in order, each in its own
process (``worker.py``): ``import`` (first sync of a mailbox holding N events), ``push`` (N events created in
Odoo, then a sync), ``idle`` (a sync right after), ``update`` (10% edited in Outlook, then a sync), ``throttle``
(``push`` while the emulator answers bursts of 429 with Retry-After). Prints one JSON object per line per workload
and service time; progress goes to stderr, each worker's log to ``$BENCH_LOGS`` (default: a temporary folder).

Environment: ODOO_SRC (required), ODOO_VENV (default: $ODOO_SRC/../odoo-venv), BENCH_N (default 2000),
BENCH_SERVICE_MS (default "0,100"), BENCH_WORKLOADS (default: all, in order), BENCH_SIDES (default
"ours,incumbent"), BENCH_LOGS, BENCH_PROFILE=1 (a cProfile of each measured part, see worker.py).
"""

# The benchmark starts its own tools (odoo-bin, createdb/dropdb, the emulator, its workers) with fixed arguments.
# ruff: noqa: S603, S607

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKLOADS = ("import", "push", "idle", "update", "throttle")
MODULES = {"ours": "outlook_calendar_sync", "incumbent": "microsoft_calendar"}


def log(message: str) -> None:
    print(f"[bench {datetime.now(timezone.utc):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


class Bench:
    def __init__(self) -> None:
        self.odoo_src = Path(os.environ["ODOO_SRC"]).resolve()
        venv = Path(os.environ.get("ODOO_VENV") or self.odoo_src.parent / "odoo-venv")
        self.python = str(venv / "bin" / "python")
        self.addons_path = f"{self.odoo_src / 'odoo' / 'addons'},{REPO / 'odoo_addon'}"
        self.n = int(os.environ.get("BENCH_N", "2000"))
        self.service_times = [int(value) for value in env_list("BENCH_SERVICE_MS", "0,100")]
        self.workloads = env_list("BENCH_WORKLOADS", ",".join(WORKLOADS))
        self.sides = env_list("BENCH_SIDES", "ours,incumbent")
        unknown = set(self.workloads) - set(WORKLOADS) | set(self.sides) - set(MODULES)
        if unknown:
            raise SystemExit(f"bench: unknown workload or side: {', '.join(sorted(unknown))}")
        self.logs = Path(os.environ.get("BENCH_LOGS") or tempfile.mkdtemp(prefix="outlook-bench-"))
        self.logs.mkdir(parents=True, exist_ok=True)
        self.tag = f"{os.getpid()}_{int(time.time())}"
        self.databases: list[str] = []
        self.emulator: subprocess.Popen | None = None
        self.url = ""

    # -- databases ---------------------------------------------------------------------------------------------
    def install_template(self, side: str) -> str:
        # For working on the harness: BENCH_TEMPLATES=ours:db1,incumbent:db2 reuses installed databases (kept).
        given = dict(part.split(":", 1) for part in env_list("BENCH_TEMPLATES", ""))
        if side in given:
            return given[side]
        db = f"bench_{side}_tpl_{self.tag}"
        self.databases.append(db)
        log(f"installing {MODULES[side]} into {db}")
        with open(self.logs / f"install_{side}.log", "w") as out:
            subprocess.run(
                [
                    self.python,
                    str(self.odoo_src / "odoo-bin"),
                    f"--addons-path={self.addons_path}",
                    "-d",
                    db,
                    "-i",
                    MODULES[side],
                    "--stop-after-init",
                    "--without-demo=all",
                    "--log-level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
            )
        return db

    def copy_database(self, template: str, name: str) -> str:
        self.databases.append(name)
        subprocess.run(["createdb", "-T", template, name], check=True)
        return name

    def drop_databases(self) -> None:
        for db in reversed(self.databases):
            subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
            shutil.rmtree(Path.home() / ".local" / "share" / "Odoo" / "filestore" / db, ignore_errors=True)
        self.databases.clear()

    # -- the emulator ------------------------------------------------------------------------------------------
    def start_emulator(self) -> None:
        self.emulator = subprocess.Popen(
            [self.python, "-m", "outlook_sync.emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=open(self.logs / "emulator.log", "w"),  # noqa: SIM115 - lives as long as the process
            text=True,
        )
        self.url = self.emulator.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit(f"bench: the emulator did not start (see {self.logs / 'emulator.log'})")
        log(f"emulator at {self.url}")

    def reset_emulator(self) -> None:
        # Through Odoo's Python, where outlook_sync is installed: this script itself needs nothing but the stdlib.
        subprocess.run(
            [
                self.python,
                "-c",
                f"from outlook_sync.emulator import EmulatorControl; EmulatorControl({self.url!r}).reset()",
            ],
            check=True,
        )

    def stop_emulator(self) -> None:
        if self.emulator:
            self.emulator.terminate()
            self.emulator.wait(timeout=10)

    # -- a run -------------------------------------------------------------------------------------------------
    def run_side(self, side: str, template: str, service_ms: int, day: str) -> dict[str, dict]:
        db = self.copy_database(template, f"bench_{side}_{service_ms}_{self.tag}")
        self.reset_emulator()
        state = self.logs / f"state_{side}_{service_ms}.json"
        state.unlink(missing_ok=True)
        results = {}
        for workload in self.workloads:
            out = self.logs / f"{side}_{service_ms}_{workload}.json"
            out.unlink(missing_ok=True)
            worker_log = self.logs / f"{side}_{service_ms}_{workload}.log"
            log(f"{side}: {workload}, N={self.n}, service {service_ms} ms")
            with open(worker_log, "w") as err:
                status = subprocess.run(
                    [
                        self.python,
                        str(HERE / "worker.py"),
                        "--odoo-src",
                        str(self.odoo_src),
                        "--side",
                        side,
                        "--db",
                        db,
                        "--addons-path",
                        self.addons_path,
                        "--emulator",
                        self.url,
                        "--workload",
                        workload,
                        "--service-ms",
                        str(service_ms),
                        "--n",
                        str(self.n),
                        "--day",
                        day,
                        "--state",
                        str(state),
                        "--out",
                        str(out),
                    ],
                    stderr=err,
                    stdout=err,
                    check=False,
                ).returncode
            if status or not out.exists():
                results[workload] = {"error": f"worker exited with {status}; see {worker_log}"}
                log(f"{side}: {workload} FAILED (exit {status}), see {worker_log}")
                continue
            results[workload] = json.loads(out.read_text())
            summary = {key: results[workload][key] for key in ("seconds", "requests", "mails", "missing")}
            log(f"{side}: {workload} done: {summary}")
        return results

    def run(self) -> int:
        log(f"N={self.n}, service times {self.service_times} ms, sides {self.sides}, logs in {self.logs}")
        day = datetime.now(timezone.utc).date().isoformat()
        failed = False
        try:
            self.start_emulator()
            templates = {side: self.install_template(side) for side in self.sides}
            for service_ms in self.service_times:
                by_side = {side: self.run_side(side, templates[side], service_ms, day) for side in self.sides}
                for workload in self.workloads:
                    line = {"workload": workload, "service_ms": service_ms, "n": self.n}
                    for side in self.sides:
                        line[side] = by_side[side][workload]
                        failed |= "error" in by_side[side][workload]
                    print(json.dumps(line), flush=True)
        finally:
            self.stop_emulator()
            self.drop_databases()
        return 1 if failed else 0


def main() -> int:
    if not os.environ.get("ODOO_SRC"):
        print("SKIPPED: benchmarks (set ODOO_SRC to an Odoo 18 tree to run them; see BENCHMARKS.md)")
        return 0
    return Bench().run()


if __name__ == "__main__":
    sys.exit(main())
