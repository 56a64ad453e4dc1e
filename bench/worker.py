"""One workload of one side, in its own process (so ``peak_rss_mb`` is that workload's), inside an Odoo registry.

    python bench/worker.py --odoo-src ODOO_SRC --side ours --db DB --addons-path PATHS --emulator URL \
        --workload push --service-ms 100 --n 2000 --day 2026-11-21 --state STATE.json --out RESULT.json

Setup (users, tokens, seeding Outlook, the edits made in Outlook) runs with the emulator's limits off and no
service time, and is not measured. The measured part runs with Microsoft's limits on (4 requests in flight per
mailbox, 10,000 per 10 minutes, batch items counted) and the given service time: ``seconds`` is its wall clock,
Odoo's work and commits included. Then the emulator's counters and outbox, and both calendars, are read.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checks import check
from workload import Item, edited, edited_subject, items

# Per workload: the Odoo user, its Outlook mailbox, and the subject prefix of its events. `update` works on what
# `import` brought in, `idle` on what `push` sent.
MAILBOXES = {
    "import": ("bench_import", "import@bench.example", "imp"),
    "update": ("bench_import", "import@bench.example", "imp"),
    "push": ("bench_push", "push@bench.example", "push"),
    "idle": ("bench_push", "push@bench.example", "push"),
    "throttle": ("bench_throttle", "throttle@bench.example", "thr"),
}
# The throttle workload's 429 bursts, as Graph throttles: for BURST_WINDOW_S every request of the mailbox (batch
# items included, at most BURST_MAX of them) is answered 429 with Retry-After BURST_RETRY_AFTER_S, then none; a
# window opens as the workload starts and every BURST_EVERY_S seconds after. The window closes a little before
# its Retry-After runs out, so a client that waits as told always finds it closed, and one that does not meets
# more 429s. The same rhythm for both sides: the longer a client takes, the more windows it meets.
BURST_WINDOW_S = 0.9
BURST_RETRY_AFTER_S = "1"
BURST_EVERY_S = 5.0
BURST_MAX = 1000
SEED_CHUNK = 250


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-src", required=True, help="the Odoo 18 tree (the folder holding odoo-bin)")
    parser.add_argument("--side", required=True, choices=("ours", "incumbent"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--emulator", required=True, help="the emulator's base URL")
    parser.add_argument("--workload", required=True, choices=tuple(MAILBOXES))
    parser.add_argument("--service-ms", type=int, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--day", required=True, help="the day the data is laid out from (YYYY-MM-DD)")
    parser.add_argument("--state", required=True, help="JSON file carried from one workload to the next")
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


class Bursts(threading.Thread):
    """Opens a throttling window on ``mailbox`` now and every BURST_EVERY_S seconds until stopped."""

    def __init__(self, emulator, mailbox):
        super().__init__(daemon=True)
        self.emulator = emulator
        self.mailbox = mailbox
        self.stopped = threading.Event()
        self.count = 0

    def run(self):
        while not self.stopped.is_set():
            self.emulator.fault("throttle", count=BURST_MAX, retry_after=BURST_RETRY_AFTER_S, mailbox=self.mailbox)
            self.count += 1
            self.stopped.wait(BURST_WINDOW_S)
            self.emulator.clear_faults()  # only this mailbox has faults during the workload
            self.stopped.wait(BURST_EVERY_S - BURST_WINDOW_S)

    def stop(self):
        self.stopped.set()
        self.join()
        self.emulator.clear_faults()


@dataclass
class Measurement:
    seconds: float
    counters: dict
    mails: list
    expected: list[Item]
    bursts: int | None = None
    extra: dict = field(default_factory=dict)


class CpuClock:
    """CPU seconds spent by this process (all threads: Odoo and the Rust engine) and by its PostgreSQL backend.

    On a shared machine wall-clock seconds swing with the load; CPU seconds tell whether a change made less work.
    The backend's are read from ``/proc`` and are ``None`` when the database runs elsewhere."""

    def __init__(self, cr):
        cr.execute("SELECT pg_backend_pid()")
        self.stat = Path(f"/proc/{cr.fetchone()[0]}/stat")
        self.start = self.read()

    def read(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        try:
            # Fields 14 and 15 (user and system time, in clock ticks) follow the parenthesised command name.
            ticks = self.stat.read_text().rsplit(")", 1)[1].split()[11:13]
            backend = sum(int(tick) for tick in ticks) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            backend = None
        return usage.ru_utime + usage.ru_stime, backend

    def elapsed(self):
        (process, backend), (process0, backend0) = self.read(), self.start
        return {
            "process": round(process - process0, 2),
            "database": None if backend is None or backend0 is None else round(backend - backend0, 2),
        }


def limits_on(emulator, service_ms):
    """Microsoft's limits and the service time on; counters, outbox and faults cleared."""
    emulator.clear_faults()
    emulator.clear_requests()
    emulator.clear_outbox()
    emulator.configure(limits=True, max_concurrent=4, rate_limit=10000, rate_window_s=600, service_time_ms=service_ms)


def limits_off(emulator):
    emulator.configure(limits=False, service_time_ms=0)


def edit_in_outlook(emulator, mailbox, batch):
    """The ``update`` workload's edits, made by the organizer in Outlook (a Graph PATCH, as Outlook's UI would)."""
    ids = {event["subject"]: event["id"] for event in emulator.events(mailbox)}
    token = emulator.token(mailbox)["access_token"]
    for item in edited(batch):
        request = urllib.request.Request(  # noqa: S310 - the emulator's own URL
            f"{emulator.url}/v1.0/me/events/{ids[item.subject]}",
            data=json.dumps({"subject": edited_subject(item.subject)}).encode(),
            method="PATCH",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass
        item.subject = edited_subject(item.subject)


def prepare(side, emulator, workload, batch, state):
    """Everything before the measured part; returns the user and the events expected afterwards."""
    login, mailbox, _prefix = MAILBOXES[workload]
    if workload == "import":
        for start in range(0, len(batch), SEED_CHUNK):
            emulator.seed(mailbox, [item.graph() for item in batch[start : start + SEED_CHUNK]])
    user = side.user(login, mailbox)
    expected = batch
    if workload in ("push", "throttle"):
        side.sync(user)  # an established connection: the user's first (empty) sync is behind them
    elif workload == "update":
        edit_in_outlook(emulator, mailbox, batch)
    elif workload == "idle":
        accepted = set(state.get("push_accepted", []))
        expected = [item for item in batch if item.subject in accepted]
    side.notes.clear()
    return user, expected


def measure(side, emulator, args, user, expected):
    """The measured part: (create the events in Odoo, then) one sync, as the module's cron runs it."""
    _login, mailbox, _prefix = MAILBOXES[args.workload]
    limits_on(emulator, args.service_ms)
    bursts = Bursts(emulator, mailbox) if args.workload == "throttle" else None
    if bursts:
        bursts.start()
    # BENCH_PROFILE=1 writes a cProfile of the measured part next to the result (<out>.prof), for finding where
    # a side spends its time: python3 -m pstats <file>, then "sort cumtime", "stats 40".
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") == "1" else None
    if profiler:
        profiler.enable()
    cpu = CpuClock(side.env.cr)
    started = time.monotonic()
    phases = {}
    if args.workload in ("push", "throttle"):
        expected = side.create_events(user, expected)
        phases["create_and_commit"] = round(time.monotonic() - started, 2)
    sync_started = time.monotonic()
    side.sync(user)
    finished = time.monotonic()
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{args.out}.prof")
    phases["sync"] = round(finished - sync_started, 2)
    cpu_seconds = cpu.elapsed()
    seconds = finished - started
    if bursts:
        bursts.stop()
    result = Measurement(seconds, emulator.requests(), emulator.outbox(), expected, bursts and bursts.count)
    result.extra["cpu_seconds"] = cpu_seconds
    if "create_and_commit" in phases:
        # Where the time went: Odoo creating the events (for the incumbent this includes its pushes, which run in
        # the commit) and the sync run itself.
        result.extra["phases"] = phases
    if args.workload == "idle":
        # What the sync after that costs: tells "the first idle run re-reads the previous run's own writes" apart
        # from "every idle run costs this much".
        emulator.clear_requests()
        side.sync(user)
        result.extra["next_sync_requests"] = emulator.requests()["total"]
    limits_off(emulator)
    return result


def summarize(side, args, run, verdict):
    counters = run.counters
    envelopes = sum(count for route, count in counters["by_route"].items() if route.endswith("/$batch"))
    per_event = Counter((mail["to"].lower(), mail.get("ical_uid")) for mail in run.mails)
    notes = list(side.notes)
    series_missing = verdict["checks"]["odoo"]["missing_series"]
    if series_missing and args.side == "incumbent" and args.workload in ("import", "update"):
        notes.append(
            f"{series_missing} recurring series not in Odoo: calendarView delta lists occurrences and no series"
            " master (as Microsoft documents, and so does the emulator); microsoft_calendar drops occurrences and"
            " imports series from masters only"
        )
    for store in ("odoo", "outlook"):
        for shift, count in verdict["checks"][store]["moved"].items():
            notes.append(f"{count} event(s) in {store.title()} moved by {shift} from the time they were given")
    result = {
        "seconds": round(run.seconds, 2),
        "requests": counters["total"] - envelopes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "mails": len(run.mails),
        "duplicates": verdict["duplicates"],
        "missing": verdict["missing"],
        "http_requests": counters["total"] - counters.get("batch_items", 0),
        "throttled": counters.get("throttled", 0),
        "retry_after_violations": counters.get("retry_after_violations", 0),
        "max_mails_per_recipient_and_event": max(per_event.values(), default=0),
        "events": len(run.expected),
        **run.extra,
        "checks": verdict["checks"],
        "routes": counters["by_route"],
        "notes": notes,
    }
    if side.refused_count:
        result["refused"] = side.refused_count
    if run.bursts is not None:
        result["throttling_windows"] = run.bursts
    return result


def main(args):
    # Odoo is imported from the tree given on the command line, so only here.
    sys.path.insert(0, args.odoo_src)
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415
    from sides import SIDES  # noqa: PLC0415 - imports odoo

    from outlook_sync.emulator import EmulatorControl  # noqa: PLC0415 - from Odoo's Python, like odoo itself

    config.parse_config(["--addons-path", args.addons_path, "-d", args.db, "--log-level", "warn"])
    emulator = EmulatorControl(args.emulator, timeout=120)
    state_path = Path(args.state)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    _login, mailbox, prefix = MAILBOXES[args.workload]
    batch = items(prefix, args.n, now=datetime.fromisoformat(args.day))
    limits_off(emulator)

    with Registry(args.db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        side = SIDES[args.side](env, emulator)
        side.configure()
        user, expected = prepare(side, emulator, args.workload, batch, state)
        run = measure(side, emulator, args, user, expected)
        env.invalidate_all()
        verdict = check(run.expected, side.odoo_events(prefix), emulator.events(mailbox))
        if args.workload in ("push", "throttle"):
            state[f"{args.workload}_accepted"] = [item.subject for item in run.expected]
            state_path.write_text(json.dumps(state))
        Path(args.out).write_text(json.dumps(summarize(side, args, run, verdict)))


if __name__ == "__main__":
    main(parse_args(sys.argv[1:]))
