"""``python -m outlook_sync.demo``: calendar data moving between our Graph client and a Graph-compatible server.

With no arguments it starts our Graph emulator in place of Microsoft 365 (with Outlook's service limits on and
a simulated service time), signs a user in through the OAuth authorization-code flow with PKCE, and walks
through what a sync does: a first delta round over a calendar window, creates, an update, a cancellation, an
attendee's answer, a $batch, a throttled burst, an expired access token, and the incremental delta rounds that
pick all of it up, printing what Outlook would have mailed to attendees at each step. Last, a two-way sync
through the engine (``sync_mailbox``) between a fresh mailbox and an Odoo-shaped calendar held in memory.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from typing import Any

from outlook_sync import GraphClient, GraphConfig, OAuth, Tokens, sync_mailbox
from outlook_sync.emulator import Emulator

ORGANIZER = "alice@contoso.example"
GUEST = "bob@contoso.example"
EXTERNAL = "carol@fabrikam.example"
REDIRECT_URI = "http://localhost:8069/microsoft_account/authentication"


def say(title: str) -> None:
    print(f"\n== {title}")


def browser_consents(authorize_url: str) -> dict[str, str]:
    """What the user's browser does: open the sign-in URL and land on our redirect URI with a code."""
    parts = urllib.parse.urlsplit(authorize_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    location = conn.getresponse().getheader("Location") or ""
    conn.close()
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def sign_in(config: GraphConfig, mailbox: str) -> Tokens:
    oauth = OAuth(config)
    request = oauth.authorization_request(state=f"demo-{mailbox}", login_hint=mailbox)
    answer = browser_consents(request.url)
    if answer.get("state") != f"demo-{mailbox}" or "code" not in answer:
        raise SystemExit(f"sign-in failed: {answer.get('error_description') or answer}")
    return oauth.exchange_code(answer["code"], request.code_verifier)


def event(subject: str, start: datetime, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime(fmt), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).strftime(fmt), "timeZone": "UTC"},
        **extra,
    }


def show_events(events: list[dict[str, Any]], limit: int = 8) -> None:
    for item in sorted(events, key=lambda e: e["start"]["dateTime"])[:limit]:
        kind = item.get("type", "singleInstance")
        print(f"   {item['start']['dateTime'][:16]}  {item['subject']:<34} {kind}")
    if len(events) > limit:
        print(f"   ... and {len(events) - limit} more")


def show_mails(emulator: Emulator, since: int) -> int:
    mails = emulator.outbox()
    new = mails[since:]
    for mail in new:
        print(f"   mail: {mail['kind']:<12} to {mail['to']:<26} {mail['subject']}")
    if not new:
        print("   mail: none")
    return len(mails)


def run(emulator: Emulator, service_time_ms: int) -> None:
    emulator.configure(limits=True, service_time_ms=service_time_ms)
    config = GraphConfig(
        "demo-client-id", "demo-client-secret", REDIRECT_URI, login_url=emulator.url, graph_url=emulator.url
    )
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    window_start, window_end = now - timedelta(days=30), now + timedelta(days=365)

    say(f"Microsoft 365 stand-in: our Graph emulator at {emulator.url}")
    print(f"   Outlook limits on: 4 requests in flight and 10,000 per 10 min per mailbox; {service_time_ms} ms each")

    say("Signing in (authorization code + PKCE) as the organizer and as a colleague")
    alice = GraphClient(config, sign_in(config, ORGANIZER))
    bob = GraphClient(config, sign_in(config, GUEST))
    print(f"   signed in: {alice.me()['mail']} and {bob.me()['mail']}")

    say("Outlook already holds a week of events and a weekly series of 10")
    emulator.seed(ORGANIZER, [event(f"Focus time {d + 1}", now + timedelta(days=d, hours=2)) for d in range(7)])
    emulator.seed(
        ORGANIZER,
        [
            event(
                "Weekly team sync",
                now + timedelta(days=1, hours=5),
                30,
                recurrence={
                    "pattern": {
                        "type": "weekly",
                        "interval": 1,
                        "daysOfWeek": [(now + timedelta(days=1)).strftime("%A")],
                    },
                    "range": {
                        "type": "numbered",
                        "startDate": (now + timedelta(days=1)).date().isoformat(),
                        "numberOfOccurrences": 10,
                    },
                },
            )
        ],
    )

    say("First sync: a delta round over the window (-30 days .. +365 days)")
    started = time.perf_counter()
    first = alice.delta(start=window_start, end=window_end)
    print(f"   {len(first.events)} items in {first.pages} page(s), {time.perf_counter() - started:.2f} s")
    show_events(first.events)

    planning = push_changes(emulator, alice, bob, now)
    throughput(emulator, alice, now)

    say("One focus block is deleted in Outlook; the planning meeting is cancelled from Odoo")
    mails = len(emulator.outbox())
    focus = next(e for e in first.events if e["subject"] == "Focus time 1")
    alice.delete_event(focus["id"])
    alice.cancel_event(planning["id"], "Moved to next quarter")
    show_mails(emulator, mails)

    incremental(emulator, alice, first.delta_link)


def push_changes(emulator: Emulator, alice: GraphClient, bob: GraphClient, now: datetime) -> dict[str, Any]:
    say("Odoo-side changes pushed to Outlook")
    mails = len(emulator.outbox())
    created = alice.create_event(
        event(
            "Quarterly planning",
            now + timedelta(days=3, hours=4),
            90,
            attendees=[
                {"emailAddress": {"address": GUEST}, "type": "required"},
                {"emailAddress": {"address": EXTERNAL}, "type": "optional"},
            ],
        ),
        transaction_id="demo-quarterly-planning",
    )
    print(f"   created '{created['subject']}' (iCalUId {created['iCalUId'][:16]}...)")
    mails = show_mails(emulator, mails)
    alice.update_event(created["id"], {"isReminderOn": False})
    print("   changed only the reminder:")
    mails = show_mails(emulator, mails)
    alice.update_event(created["id"], {"location": {"displayName": "Room 4.01"}})
    print("   moved it to Room 4.01:")
    mails = show_mails(emulator, mails)

    say("The colleague accepts from their own Outlook")
    copy = bob.find_by_ical_uid(created["iCalUId"])[0]
    bob.respond(copy["id"], "accept")
    show_mails(emulator, mails)
    return created


def throughput(emulator: Emulator, alice: GraphClient, now: datetime) -> None:
    say("A burst of 45 new events through $batch (20 per request, Retry-After honoured)")
    started = time.perf_counter()
    results = alice.batch(
        [
            {
                "method": "POST",
                "url": "/me/events",
                "body": event(f"Customer call {i + 1}", now + timedelta(days=10 + i)),
            }
            for i in range(45)
        ]
    )
    ok = sum(1 for r in results if r["status"] == 201)
    print(f"   {ok}/45 created in {time.perf_counter() - started:.2f} s")

    say("Outlook throttles (429, Retry-After 1 s) and the access token expires")
    emulator.fault("throttle", count=3, retry_after="1")
    emulator.expire_tokens(ORGANIZER)
    before = alice.tokens.refresh_token
    print(f"   still works: {alice.me()['mail']}; refresh token rotated: {alice.tokens.refresh_token != before}")


def incremental(emulator: Emulator, alice: GraphClient, delta_link: str | None) -> None:
    say("Next sync: the incremental delta round carries only what changed")
    assert delta_link
    second = alice.delta(delta_link=delta_link)
    print(f"   {len(second.events)} changed or new, {len(second.removed)} removed")
    idle = alice.delta(delta_link=second.delta_link or "")
    before_idle = emulator.requests()["total"]
    idle = alice.delta(delta_link=idle.delta_link or "")
    cost = emulator.requests()["total"] - before_idle
    print(f"   an unchanged mailbox: {len(idle.events)} items, {cost} request")


def totals(emulator: Emulator) -> None:
    counters = emulator.requests()
    say("Totals")
    print(
        f"   Graph requests: {counters['total']} (batch items counted: {counters['batch_items']}), "
        f"throttled: {counters['throttled']}, Retry-After violations: {counters['retry_after_violations']}"
    )
    print(f"   mails Outlook sent: {len(emulator.outbox())}")


class OdooStandIn:
    """A calendar held in memory the way the Odoo addon hands it to the engine, with the state it stores."""

    def __init__(self) -> None:
        self.events: dict[int, dict[str, Any]] = {}
        self.state: dict[str, Any] | None = None
        self.changed: set[int] = set()
        self.next_id = 1

    def add(self, values: dict[str, Any]) -> int:
        local_id, self.next_id = self.next_id, self.next_id + 1
        self.events[local_id] = {**values, "id": local_id}
        self.changed.add(local_id)
        return local_id

    def listing(self) -> dict[str, Any]:
        if self.state is None:
            return {"kind": "full", "events": [{"values": v, "modified_at": None} for v in self.events.values()]}
        changed = [{"values": self.events[i], "modified_at": None} for i in sorted(self.changed)]
        return {"kind": "delta", "changed": changed, "deleted": []}

    def apply(self, result: dict[str, Any]) -> None:
        """What the addon does with a run's result, in one transaction."""
        state = result["state"]
        for op in result["local_ops"]:
            if op["action"] == "create":
                local_id, self.next_id = self.next_id, self.next_id + 1
                self.events[local_id] = {**op["values"], "id": local_id}
                link = {**op["link"], "local_id": str(local_id)}
            elif op["action"] == "update":
                self.events[int(op["local_id"])] = {**op["values"], "id": int(op["local_id"])}
                link = op["link"]
            else:
                self.events.pop(int(op["local_id"]), None)
                link = None
            if link:
                state["links"].append(link)
        self.state = state
        self.changed.clear()


def two_way(emulator: Emulator, config: GraphConfig, now: datetime) -> None:
    say("Two-way sync with the engine: an Odoo calendar (held in memory here) and a fresh Outlook mailbox")
    mailbox = "dana@contoso.example"
    dana = GraphClient(config, sign_in(config, mailbox))
    emulator.seed(mailbox, [event(f"Outlook meeting {i + 1}", now + timedelta(days=2 + i, hours=3)) for i in range(3)])
    odoo = OdooStandIn()
    fmt = "%Y-%m-%d %H:%M:%S"
    start = now + timedelta(days=4, hours=6)
    odoo.add(
        {
            "name": "Budget review (from Odoo)",
            "start": start.strftime(fmt),
            "stop": (start + timedelta(hours=1)).strftime(fmt),
            "organizer_email": mailbox,
            "is_organizer": True,
            "attendees": [{"email": EXTERNAL, "name": "Carol"}],
        }
    )

    def run(title: str) -> None:
        mails, requests = len(emulator.outbox()), emulator.requests()["total"]
        result = sync_mailbox(
            config, dana.tokens, odoo.state, odoo.listing(), mailbox=mailbox, transaction_salt="demo-db/dana"
        )
        odoo.apply(result)
        remote, local = result["report"]["remote"], result["report"]["local"]
        print(
            f"   {title}: Outlook +{remote['created']} ~{remote['updated']} -{remote['deleted']}, "
            f"Odoo +{local['created']} ~{local['updated']} -{local['deleted']}, "
            f"{emulator.requests()['total'] - requests} Graph request(s), "
            f"{len(emulator.outbox()) - mails} mail(s)"
        )

    run("first sync")
    renamed = next(e for e in emulator.events(mailbox) if e["subject"] == "Outlook meeting 2")
    dana.update_event(renamed["id"], {"subject": "Outlook meeting 2 (agenda attached)"})
    budget = next(i for i, v in odoo.events.items() if v["name"].startswith("Budget review"))
    odoo.events[budget]["location"] = "Room 2.12"
    odoo.changed.add(budget)
    run("one edit on each side")
    run("nothing changed")
    print(f"   Odoo now holds: {', '.join(sorted(v['name'] for v in odoo.events.values()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outlook_sync.demo", description=__doc__)
    parser.add_argument("--service-time-ms", type=int, default=50, help="simulated Graph time per request")
    args = parser.parse_args(argv)
    with Emulator.start() as emulator:
        run(emulator, args.service_time_ms)
        two_way(
            emulator,
            GraphConfig(
                "demo-client-id", "demo-client-secret", REDIRECT_URI, login_url=emulator.url, graph_url=emulator.url
            ),
            datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0),
        )
        totals(emulator)
    return 0


if __name__ == "__main__":
    sys.exit(main())
