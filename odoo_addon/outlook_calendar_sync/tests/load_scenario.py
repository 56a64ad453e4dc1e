"""The load suite (issue 6, point 4): many users synced by the cron under Microsoft's limits, one of them with a
revoked consent.

Shared by the short form (``test_adversarial_load``, inside Odoo's test transaction) and the long form
(``adversarial/load.py``, 50 users on a committed database). Each user has their own mailbox holding a few events
and a few Odoo events of their own; the emulator enforces Outlook's limits (4 requests in flight per mailbox,
10,000 per 10 minutes) with a service time per request. The cron runs until every user but the revoked one holds
the same events on both sides.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .common import connect_with_emulator

MAX_PASSES = 5


@dataclass
class LoadUser:
    user_id: int
    mailbox: str
    revoked: bool = False


def _outlook_start(event):
    return datetime.fromisoformat(event["start"]["dateTime"][:19])


class LoadScenario:
    def __init__(
        self, harness, *, users=50, remote_events=3, local_events=2, service_ms=20, prefix="L", throttled_users=3
    ):
        self.harness = harness
        self.emulator = harness.emulator
        self.user_count = users
        self.remote_events = remote_events
        self.local_events = local_events
        self.service_ms = service_ms
        # Users whose mailbox answers a short burst of 429 with Retry-After: Outlook's limits leave a client that
        # keeps to 4 requests in flight alone, so the bursts check that Retry-After is honoured under load.
        self.throttled_users = throttled_users
        self.prefix = prefix
        self.users: list[LoadUser] = []
        self.base = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        self.base += timedelta(days=3)

    def setup(self):
        """Users, mailboxes and events, made with the limits off (setup is not measured); the last user's consent
        is revoked and their access token expired, so their next run meets ``invalid_grant``."""
        from odoo.tests.common import new_test_user  # noqa: PLC0415 - only with Odoo loaded

        self.emulator.configure(limits=False, service_time_ms=0)
        with self.harness.transaction() as env:
            for index in range(self.user_count):
                login = f"{self.prefix.lower()}_u{index:02d}"
                mailbox = f"{login}@load.example"
                user = new_test_user(env, login=login, email=mailbox, name=f"Load {index}", tz="UTC")
                connect_with_emulator(env, self.emulator, user)
                self.users.append(LoadUser(user.id, mailbox, revoked=index == self.user_count - 1))
                self.emulator.seed(mailbox, [self._graph_event(index, n) for n in range(self.remote_events)])
                Event = env["calendar.event"].with_user(user)
                for n in range(self.local_events):
                    start = self.base + timedelta(days=n, hours=index % 9)
                    Event.create(
                        {
                            "name": f"{self.prefix} odoo {index}-{n}",
                            "start": start,
                            "stop": start + timedelta(hours=1),
                            "partner_ids": [(6, 0, user.partner_id.ids)],
                        }
                    )
        revoked = self.users[-1].mailbox
        self.emulator.oauth(revoke_mailbox=revoked)
        self.emulator.expire_tokens(revoked)

    def _graph_event(self, index, n):
        start = self.base + timedelta(days=n, hours=12 + index % 9)

        def at(moment):
            return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

        return {
            "subject": f"{self.prefix} outlook {index}-{n}",
            "start": at(start),
            "end": at(start + timedelta(hours=1)),
        }

    def run(self):
        self.setup()
        self.emulator.clear_requests()
        self.emulator.configure(limits=True, max_concurrent=4, rate_limit=10000, rate_window_s=600)
        self.emulator.configure(service_time_ms=self.service_ms)
        for user in self.users[: self.throttled_users]:
            self.emulator.fault("throttle", count=3, retry_after="0.5", mailbox=user.mailbox)
        with self.harness.transaction() as env:
            first_log = env["outlook.sync.log"].search([], order="id desc", limit=1).id or 0
        started = time.monotonic()
        converged_at = None
        passes = 0
        pending = []
        for _ in range(MAX_PASSES):
            self.harness.sync_pass()
            passes += 1
            pending = self.unconverged()
            if not pending:
                converged_at = time.monotonic() - started
                break
        self.emulator.configure(limits=False, service_time_ms=0)
        self.emulator.clear_faults()
        return self._result(first_log, converged_at, passes, pending)

    def unconverged(self):
        """Users (other than the revoked one) whose two sides differ, with what differs."""
        problems = []
        expected = self.remote_events + self.local_events
        with self.harness.transaction() as env:
            Event = env["calendar.event"]
            for index, user in enumerate(self.users):
                if user.revoked:
                    continue
                odoo = sorted(
                    (event.name, event.start.replace(second=0))
                    for event in Event.search([("user_id", "=", user.user_id), ("name", "=like", f"{self.prefix} %")])
                )
                outlook = sorted(
                    (event["subject"], _outlook_start(event))
                    for event in self.emulator.events(user.mailbox)
                    if not event.get("isCancelled") and (event.get("subject") or "").startswith(f"{self.prefix} ")
                )
                if odoo != outlook or len(odoo) != expected or len(set(odoo)) != expected:
                    problems.append(f"user {index}: Odoo {len(odoo)} events, Outlook {len(outlook)}, {expected} made")
        return problems

    def _result(self, first_log, converged_at, passes, pending):
        counters = self.emulator.requests()
        with self.harness.transaction() as env:
            revoked_user = self.users[-1]
            account = env["outlook.sync.account"].search([("user_id", "=", revoked_user.user_id)])
            logs = env["outlook.sync.log"].search([("id", ">", first_log)], order="id")
            first_runs = {}
            for log in logs:
                first_runs.setdefault(log.account_id.user_id.id, log)
            revoked_run = first_runs.get(revoked_user.user_id)
            revoked_seconds = revoked_run.duration if revoked_run else None
            others = [log.duration for user_id, log in first_runs.items() if user_id != revoked_user.user_id]
            revoked_state, revoked_message = account.state, account.last_error or ""
        by_mailbox = counters.get("by_mailbox", {})
        per_user = [by_mailbox.get(user.mailbox, 0) for user in self.users if not user.revoked]
        return {
            "users": self.user_count,
            "passes": passes,
            "seconds_to_converge": converged_at,
            "requests_avg": sum(per_user) / len(per_user) if per_user else 0.0,
            "requests_max": max(per_user, default=0),
            "throttled": counters.get("throttled", 0),
            "retry_after_violations": counters.get("retry_after_violations", 0),
            "revoked_user_state": revoked_state,
            "revoked_user_message": revoked_message,
            "revoked_run_seconds": revoked_seconds,
            "revoked_run_requests": by_mailbox.get(revoked_user.mailbox, 0),
            "median_run_seconds": statistics.median(others) if others else None,
            "unconverged": pending,
        }


def summary_line(result):
    """The line ``make adversarial`` prints."""
    converge = result["seconds_to_converge"]
    revoked = result["revoked_run_seconds"]
    median = result["median_run_seconds"]
    return (
        f"load: users={result['users']} "
        f"seconds_to_converge={'never' if converge is None else f'{converge:.1f}'} "
        f"requests_per_user={result['requests_avg']:.1f}/{result['requests_max']} "
        f"retry_after_violations={result['retry_after_violations']} "
        f"revoked_user_state={result['revoked_user_state']} "
        f"passes={result['passes']} throttled={result['throttled']} "
        f"revoked_run_seconds={'none' if revoked is None else f'{revoked:.3f}'} "
        f"median_run_seconds={'none' if median is None else f'{median:.3f}'}"
    )
