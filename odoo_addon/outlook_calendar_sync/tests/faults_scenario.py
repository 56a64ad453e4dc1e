"""The faults suite (issue 6, point 1): random edits on both sides of a sync while the Graph emulator misbehaves.

Shared by the short form (``test_adversarial_faults``, inside Odoo's test transaction) and the long form
(``adversarial/faults.py``, against a committed database, where a sync worker is really killed with SIGKILL).

Each round, Odoo users create, edit, delete, archive and unarchive events through the ORM, and the same people do
the same in Outlook through ``outlook_sync.GraphClient``; then faults are armed and the cron runs. After the
rounds, faults stop and clean passes run until nothing is left to send; then both sides are compared with what
the people did.

The oracle stays exact without modelling conflict resolution: a change not yet confirmed on both sides marks its
item as pending on that side, and a pending item is edited again only on the same side. Each item's subject
starts with a tag unique in the run, so an event is found on either side whatever its current subject.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import outlook_sync

from .common import CLIENT_ID, CLIENT_SECRET, connect_with_emulator

# What the suite injects, in the order the summary line lists them.
FAULT_KINDS = (
    "latency",
    "throttle",
    "error",
    "lose_response",
    "reset",
    "token_expiry",
    "invalid_grant",
    "delta_410",
    "worker_killed",
)
# Faults the emulator queues per request: the summary counts the requests that actually met one.
QUEUED_KINDS = {"throttle", "error", "lose_response", "reset"}
# Events nobody touches: a calendar that suddenly empties stops the sync (a safety guard), which is right for a
# person but would stall a random run that happens to delete everything.
ANCHORS_PER_USER = 2
# Clean passes allowed for recovery: a run may need a second pass to settle what a killed or failed one left.
MAX_RECOVERY_PASSES = 6
CHANGE_COUNTS = (
    "odoo_created",
    "odoo_updated",
    "odoo_deleted",
    "outlook_created",
    "outlook_updated",
    "outlook_deleted",
)


class Harness(Protocol):
    """Where the scenario runs: Odoo's test transaction, or a committed database with real worker processes."""

    emulator: Any

    def transaction(self) -> AbstractContextManager[Any]:
        """An environment (superuser) whose changes are visible to the next sync pass."""

    def sync_pass(self) -> None:
        """One pass of the cron (``_cron_sync_all``)."""

    def killed_pass(self, rng: random.Random, mailbox: str) -> str:
        """One pass whose worker dies in the middle; returns a word on how it died."""


@dataclass
class Item:
    """One event as the people made it: what both sides must show once the sync has settled."""

    tag: str
    user: int  # index in ``FaultScenario.users``
    subject: str
    start: datetime  # naive UTC, whole minutes
    status: str = "live"  # "live", "archived" (in Odoo only, inactive) or "deleted"
    pending: str | None = None  # the side whose last change is not confirmed on both sides yet
    anchor: bool = False
    history: list[str] = field(default_factory=list)  # what happened to it, for a reader of a failure
    # For an Outlook copy the sync created: the user's count of successful runs when it was confirmed (what the
    # D1 regression is about: a copy deleted in Outlook before any later run has seen it).
    fresh_at: int | None = None
    copy_to_make: bool = False  # created or unarchived in Odoo: the sync is to make a new Outlook copy

    def key(self):
        return self.subject, self.start


@dataclass
class User:
    user_id: int
    mailbox: str


@dataclass
class Observation:
    """One side's copies of the run's events, by tag."""

    odoo_active: dict[str, list[tuple[str, datetime, int]]] = field(default_factory=dict)
    odoo_archived: dict[str, list[tuple[str, datetime, int]]] = field(default_factory=dict)
    outlook: dict[str, list[tuple[str, datetime, str]]] = field(default_factory=dict)
    links: dict[int, str] = field(default_factory=dict)  # Odoo event id -> iCalUId the addon linked it to
    untagged: int = 0


def _outlook_start(event):
    # The emulator's control API answers in UTC: "2026-12-01T09:00:00.0000000".
    return datetime.fromisoformat(event["start"]["dateTime"][:19])


class FaultScenario:
    """Random rounds of edits and faults over ``users`` Odoo users, each syncing their own mailbox."""

    def __init__(
        self,
        harness: Harness,
        seed: int,
        users: int = 2,
        prefix: str | None = None,
    ):
        self.harness = harness
        self.emulator = harness.emulator
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.prefix = prefix or f"F{seed}"
        self.user_count = users
        self.users: list[User] = []
        self.items: list[Item] = []
        self.faults: Counter[str] = Counter()
        self._queued: Counter[str] = Counter()  # faults queued for the coming pass, by kind
        self._retry_after_pending = 0.0
        self.runs = 0
        self.round_number = 0
        self.notes: list[str] = []
        self.base = datetime.now(timezone.utc).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        self.base += timedelta(days=7)
        self.graph_config = outlook_sync.GraphConfig(
            CLIENT_ID,
            CLIENT_SECRET,
            "http://localhost/outlook-edits",
            login_url=self.emulator.url,
            graph_url=self.emulator.url,
            max_total_wait=120.0,
        )

    # -- setup ----------------------------------------------------------------------------------------------
    def setup(self):
        """Users connected to their mailboxes, each with anchor events synced once, Microsoft's limits on."""
        from odoo.tests.common import new_test_user  # noqa: PLC0415 - only with Odoo loaded

        self.emulator.configure(limits=True, service_time_ms=0)
        with self.harness.transaction() as env:
            for index in range(self.user_count):
                login = f"{self.prefix.lower()}_u{index}"
                mailbox = f"{login}@faults.example"
                user = new_test_user(env, login=login, email=mailbox, name=f"Faults {index}", tz="UTC")
                connect_with_emulator(env, self.emulator, user)
                self.users.append(User(user.id, mailbox))
        for index in range(self.user_count):
            for _ in range(ANCHORS_PER_USER):
                self._new_item(index, anchor=True)
        with self.harness.transaction() as env:
            for item in self.items:
                self._odoo_create(env, item)
        self.harness.sync_pass()
        self.runs += 1

    # -- the random rounds ----------------------------------------------------------------------------------
    def run(self, rounds):
        self.setup()
        for _ in range(rounds):
            self.round()
        self.recover()
        return self.check()

    def round(self):
        self.round_number += 1
        violations = self._violations()
        self._edit_odoo(self.rng.randint(1, 4))
        self._edit_outlook(self.rng.randint(1, 4))
        if self._violations() != violations:
            self.notes.append(f"round {self.round_number}: the suite's own Outlook edits ignored a Retry-After")
        target = self.rng.choice(self.users)
        kinds = self.rng.sample(
            [kind for kind in FAULT_KINDS if kind != "worker_killed"], k=self.rng.choice((1, 1, 2, 3))
        )
        killed = self.rng.random() < 0.2
        armed = [self._arm(kind, target) for kind in kinds]
        timers = [timer for timer in armed if timer is not None]
        violations = self._violations()
        try:
            if killed:
                how = self.harness.killed_pass(self.rng, target.mailbox)
                self.faults["worker_killed"] += 1
                self.notes.append(f"round {self.round_number}: worker killed ({how})")
            else:
                self.harness.sync_pass()
            self.runs += 1
        finally:
            for timer in timers:
                timer.cancel()
                timer.join()
        self.notes.append(
            f"round {self.round_number}: sync of {target.mailbox} under {', '.join(kinds)}"
            + ("; worker killed" if killed else "")
        )
        added = self._violations() - violations
        if added:
            self.notes.append(
                f"round {self.round_number}: {added} Retry-After violation(s) by the sync of {target.mailbox} "
                f"(faults: {', '.join(kinds)}{', killed' if killed else ''})"
            )
        self._disarm()
        self._reconnect_if_asked(target)
        self._confirm()

    def _violations(self):
        return self.emulator.requests()["retry_after_violations"]

    def recover(self):
        """Faults off; clean passes until every account is clear of pending work and one more pass changes
        nothing."""
        self.emulator.clear_faults()
        self.emulator.configure(service_time_ms=0)
        for user in self.users:
            self._reconnect_if_asked(user, always=True)
        for _ in range(MAX_RECOVERY_PASSES):
            with self.harness.transaction() as env:
                last_log = env["outlook.sync.log"].search([], order="id desc", limit=1).id or 0
            self.harness.sync_pass()
            self.runs += 1
            with self.harness.transaction() as env:
                logs = env["outlook.sync.log"].search([("id", ">", last_log)])
                busy = any(log.status != "success" or any(log[name] for name in CHANGE_COUNTS) for log in logs)
                dirty = bool(env["outlook.sync.account"].search_count([("dirty", "=", True)]))
            if not busy and not dirty:
                break
        self._confirm()

    # -- edits ----------------------------------------------------------------------------------------------
    def _new_item(self, user, anchor=False):
        tag = f"{self.prefix}-{len(self.items):03d}"
        start = self.base + timedelta(hours=self.rng.randrange(0, 24 * 40))
        item = Item(tag, user, f"{tag} v0", start, anchor=anchor)
        self.items.append(item)
        return item

    def _candidates(self, side, statuses=("live",)):
        return [
            item for item in self.items if not item.anchor and item.status in statuses and item.pending in (None, side)
        ]

    def _odoo_create(self, env, item):
        user = env["res.users"].browse(self.users[item.user].user_id)
        env["calendar.event"].with_user(user).create(
            {
                "name": item.subject,
                "start": item.start,
                "stop": item.start + timedelta(hours=1),
                "partner_ids": [(6, 0, user.partner_id.ids)],
            }
        )

    def _odoo_event(self, env, item):
        events = (
            env["calendar.event"]
            .with_context(active_test=False)
            .search([("name", "=like", f"{item.tag} %"), ("user_id", "=", self.users[item.user].user_id)])
        )
        return events[:1]

    def _edit_odoo(self, count):
        with self.harness.transaction() as env:
            for _ in range(count):
                action = self.rng.choice(("create", "create", "edit", "move", "delete", "archive", "unarchive"))
                if action == "create":
                    item = self._new_item(self.rng.randrange(self.user_count))
                    self._odoo_create(env, item)
                    item.pending = "odoo"
                    item.copy_to_make = True
                    item.history.append(f"r{self.round_number} odoo create")
                    continue
                statuses = ("archived",) if action == "unarchive" else ("live",)
                candidates = self._candidates("odoo", statuses)
                if not candidates:
                    continue
                item = self.rng.choice(candidates)
                event = self._odoo_event(env, item)
                if not event:
                    # The run that should have brought it has not yet: the side cannot edit what it lacks.
                    continue
                user = env["res.users"].browse(self.users[item.user].user_id)
                event = event.with_user(user)
                if action == "edit":
                    item.subject = f"{item.tag} v{self.rng.randrange(1, 10**6)}"
                    event.name = item.subject
                elif action == "move":
                    item.start += timedelta(hours=self.rng.choice((-3, -1, 1, 2, 24)))
                    event.write({"start": item.start, "stop": item.start + timedelta(hours=1)})
                elif action == "delete":
                    event.unlink()
                    item.status = "deleted"
                elif action == "archive":
                    event.active = False
                    item.status = "archived"
                else:
                    event.active = True
                    item.status = "live"
                    item.copy_to_make = True
                item.pending = "odoo"
                item.history.append(f"r{self.round_number} odoo {action}")

    def _outlook_client(self, mailbox):
        tokens = self.emulator.token(mailbox)
        expires = datetime.now(timezone.utc) + timedelta(seconds=int(tokens["expires_in"]))
        return outlook_sync.GraphClient(
            self.graph_config, outlook_sync.Tokens(tokens["access_token"], tokens.get("refresh_token"), expires)
        )

    def _edit_outlook(self, count):
        for _ in range(count):
            action = self.rng.choice(("create", "create", "edit", "move", "delete"))
            if action == "create":
                item = self._new_item(self.rng.randrange(self.user_count))
            else:
                candidates = self._candidates("outlook")
                if not candidates:
                    continue
                item = self.rng.choice(candidates)
            mailbox = self.users[item.user].mailbox
            client = self._outlook_client(mailbox)
            if action == "create":
                client.create_event(self._graph_event(item), str(uuid.UUID(int=self.rng.getrandbits(128))))
                item.pending = "outlook"
                item.history.append(f"r{self.round_number} outlook create")
                continue
            copies = [
                event
                for event in self.emulator.events(mailbox)
                if (event.get("subject") or "").startswith(f"{item.tag} ") and not event.get("isCancelled")
            ]
            if not copies:
                continue
            remote_id = copies[0]["id"]
            if action == "edit":
                item.subject = f"{item.tag} v{self.rng.randrange(1, 10**6)}"
                client.update_event(remote_id, {"subject": item.subject})
            elif action == "move":
                item.start += timedelta(hours=self.rng.choice((-2, 1, 3, 48)))
                times = self._graph_event(item)
                client.update_event(remote_id, {"start": times["start"], "end": times["end"]})
            else:
                client.delete_event(remote_id)
                item.status = "deleted"
            item.pending = "outlook"
            item.history.append(f"r{self.round_number} outlook {action}")

    @staticmethod
    def _graph_event(item):
        def at(moment):
            return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

        return {"subject": item.subject, "start": at(item.start), "end": at(item.start + timedelta(hours=1))}

    # -- faults ---------------------------------------------------------------------------------------------
    def _arm(self, kind, user):
        """Arms one fault against ``user``'s mailbox for the coming pass; returns a timer to cancel, if any."""
        rng, emulator, mailbox = self.rng, self.emulator, user.mailbox
        if kind == "latency":
            emulator.configure(service_time_ms=rng.choice((5, 20, 50)))
            self.faults[kind] += 1
        elif kind in QUEUED_KINDS:
            count, options = self._fault_options(kind)
            emulator.fault(kind, count=count, mailbox=mailbox, **options)
            self._queued[kind] += count
            if "retry_after" in options:
                self._retry_after_pending = max(self._retry_after_pending, float(options["retry_after"]))
        elif kind == "token_expiry":
            # Mid-run: the pass is slowed so that the access token dies while requests are still being made.
            emulator.configure(service_time_ms=max(20, emulator.config()["service_time_ms"]))
            timer = threading.Timer(rng.uniform(0.0, 0.3), emulator.expire_tokens, args=(mailbox,))
            timer.start()
            self.faults[kind] += 1
            return timer
        elif kind == "invalid_grant":
            emulator.oauth(revoke_mailbox=mailbox)
            emulator.expire_tokens(mailbox)
            self.faults[kind] += 1
        elif kind == "delta_410":
            emulator._call("POST", "delta/expire", {"mailbox": mailbox, "reset": rng.random() < 0.5})
            self.faults[kind] += 1
        return None

    def _fault_options(self, kind):
        """(count, filters) of a queued fault: a burst of 429/503 with Retry-After, a few 5xx, one or two answers
        lost after the write took effect, a few connections reset."""
        rng = self.rng
        if kind == "throttle":
            options = {"status": rng.choice((429, 429, 503)), "retry_after": rng.choice(("0.2", "0.5", "1"))}
            return rng.randint(2, 10), options
        if kind == "error":
            return rng.randint(1, 4), {"status": rng.choice((500, 502, 503, 504))}
        if kind == "lose_response":
            # Mostly writes (the ambiguous case: did it happen?); sometimes whatever comes next, reads included.
            method = rng.choice(("POST", "PATCH", "DELETE", None))
            return rng.randint(1, 2), {"method": method} if method else {}
        return rng.randint(1, 3), {}

    def _disarm(self):
        """Counts the queued faults that met a request, then clears the rest and the service time."""
        pending = Counter()
        for fault in self.emulator._call("GET", "faults")["faults"]:
            pending[fault["kind"]] += fault["count"]
        for kind, queued in self._queued.items():
            self.faults[kind] += queued - pending.get(kind, 0)
        self._queued.clear()
        # What a throttled pass was told holds for whoever comes next to the mailbox: the suite's own Outlook
        # edits and the next pass (the cron's next pass comes minutes later) wait it out too.
        time.sleep(self._retry_after_pending)
        self._retry_after_pending = 0.0
        self.emulator.clear_faults()
        self.emulator.configure(service_time_ms=0)

    def _reconnect_if_asked(self, user, always=False):
        """A user whose consent was revoked connects again (a new consent lifts the revocation)."""
        with self.harness.transaction() as env:
            account = env["outlook.sync.account"].search([("user_id", "=", user.user_id)])
            if account.state != "reconnect" and not always:
                return
            if account.state == "reconnect":
                if not account.last_error:
                    self.notes.append(f"{user.mailbox}: reconnect state without a message")
                connect_with_emulator(env, self.emulator, account.user_id)
            elif account.state == "error":
                account.action_restart()

    # -- observing and checking -----------------------------------------------------------------------------
    def observe(self):
        seen = Observation()
        prefix = f"{self.prefix}-"
        with self.harness.transaction() as env:
            Event = env["calendar.event"].with_context(active_test=False)
            for user in self.users:
                events = Event.search([("name", "=like", f"{prefix}%"), ("user_id", "=", user.user_id)])
                for event in events:
                    tag = event.name.split(" ")[0]
                    bucket = seen.odoo_active if event.active else seen.odoo_archived
                    bucket.setdefault(tag, []).append((event.name, event.start.replace(second=0), event.id))
                account = env["outlook.sync.account"].search([("user_id", "=", user.user_id)])
                for link in account.link_ids:
                    seen.links[link.event_id.id] = link.ical_uid or ""
        for user in self.users:
            for event in self.emulator.events(user.mailbox):
                subject = event.get("subject") or ""
                if event.get("isCancelled"):
                    continue
                if not subject.startswith(prefix):
                    seen.untagged += 1
                    continue
                seen.outlook.setdefault(subject.split(" ")[0], []).append(
                    (subject, _outlook_start(event), event.get("iCalUId") or "")
                )
        return seen

    def _item_verdict(self, item, seen):  # noqa: PLR0911 - one answer per way an item can be wrong
        """(problem or None, extra copies) for ``item`` against what both sides hold."""
        active = seen.odoo_active.get(item.tag, [])
        archived = seen.odoo_archived.get(item.tag, [])
        remote = seen.outlook.get(item.tag, [])
        duplicates = max(0, len(active) + len(archived) - 1) + max(0, len(remote) - 1)
        expected_odoo = {"live": (1, 0), "archived": (0, 1), "deleted": (0, 0)}[item.status]
        expected_remote = 1 if item.status == "live" else 0
        if (min(len(active), 1), min(len(archived), 1)) != expected_odoo:
            return f"Odoo has {len(active)} active and {len(archived)} archived, expected {item.status}", duplicates
        if min(len(remote), 1) != expected_remote:
            return f"Outlook has {len(remote)} copies, expected {item.status}", duplicates
        if item.status == "deleted":
            return None, duplicates
        odoo_copy = (active or archived)[0]
        if odoo_copy[:2] != item.key():
            return f"Odoo shows {odoo_copy[:2]}, expected {item.key()}", duplicates
        if item.status == "live":
            if remote[0][:2] != item.key():
                return f"Outlook shows {remote[0][:2]}, expected {item.key()}", duplicates
            if seen.links.get(odoo_copy[2]) != remote[0][2]:
                return f"Odoo event {odoo_copy[2]} is not linked to its Outlook copy {remote[0][2]}", duplicates
        return None, duplicates

    def _confirm(self):
        """Items whose last change now shows on both sides stop being pending."""
        seen = self.observe()
        successes = self._successes()
        for item in self.items:
            if item.fresh_at is not None and successes[item.user] > item.fresh_at:
                item.fresh_at = None
            if item.pending and self._item_verdict(item, seen) == (None, 0):
                if item.copy_to_make and item.status == "live":
                    item.fresh_at = successes[item.user]
                item.copy_to_make = False
                item.pending = None
                item.history.append(f"r{self.round_number} confirmed on both sides")

    def _successes(self):
        """Per user, how many of their runs succeeded so far."""
        with self.harness.transaction() as env:
            Log = env["outlook.sync.log"]
            return [
                Log.search_count([("account_id.user_id", "=", user.user_id), ("status", "in", ("success", "partial"))])
                for user in self.users
            ]

    def check(self):
        seen = self.observe()
        lost = duplicates = 0
        problems = []
        known = {item.tag for item in self.items}
        for item in self.items:
            problem, extra = self._item_verdict(item, seen)
            duplicates += extra
            if problem:
                lost += 1
                problems.append(f"{item.tag}: {problem} (history: {'; '.join(item.history)})")
            if extra:
                problems.append(f"{item.tag}: {extra} extra copies")
        strays = [tag for tag in (*seen.odoo_active, *seen.odoo_archived, *seen.outlook) if tag not in known]
        duplicates += len(strays)
        problems += [f"{tag}: an event nobody made" for tag in strays]
        violations = self.emulator.requests()["retry_after_violations"]
        return {
            "runs": self.runs,
            "faults": {kind: self.faults[kind] for kind in FAULT_KINDS},
            "items_checked": len(self.items),
            "items_lost": lost,
            "duplicates": duplicates,
            "retry_after_violations": violations,
            "seed": self.seed,
            "problems": problems,
            "notes": self.notes,
        }


def summary_line(result):
    """The line ``make adversarial`` prints."""
    return (
        f"faults: runs={result['runs']} faults={json.dumps(result['faults'], separators=(', ', ': '))} "
        f"items_checked={result['items_checked']} items_lost={result['items_lost']} "
        f"duplicates={result['duplicates']} retry_after_violations={result['retry_after_violations']} "
        f"seed={result['seed']}"
    )
