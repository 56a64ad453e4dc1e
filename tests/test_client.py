"""The Graph client against the emulator: delta rounds, writes and their mails, $batch, faults, throttling."""

from __future__ import annotations

from datetime import datetime

import pytest

import outlook_sync
from outlook_sync import GraphClient
from outlook_sync.emulator import Emulator

from support import ALICE, BOB, attendee, graph_event, sign_in, utc

WINDOW = {"start": utc(2026, 1, 1), "end": utc(2027, 1, 1)}


def day(n: int, hour: int = 9) -> datetime:
    return utc(2026, 3, n, hour)


def test_delta_pages_through_a_mailbox_then_returns_only_what_changed(alice: GraphClient, emulator: Emulator) -> None:
    ids = emulator.seed(ALICE, [graph_event(f"Seeded {i}", day(1 + i % 28)) for i in range(250)])
    first = alice.delta(**WINDOW)
    assert not first.resync_required
    assert first.pages == 2  # 250 items at 200 per page (Graph's cap for Outlook-item deltas)
    assert sorted(e["id"] for e in first.events) == sorted(ids)
    assert first.removed == []
    assert first.delta_link

    alice.update_event(ids[0], {"subject": "Renamed"})
    alice.delete_event(ids[1])
    second = alice.delta(delta_link=first.delta_link)
    assert [e["subject"] for e in second.events] == ["Renamed"]
    assert second.removed == [ids[1]]

    idle = alice.delta(delta_link=second.delta_link)
    assert idle.events == [] and idle.removed == []


def test_an_expired_delta_token_asks_for_a_full_resync(alice: GraphClient, emulator: Emulator) -> None:
    emulator.seed(ALICE, [graph_event("One", day(2))])
    first = alice.delta(**WINDOW)
    emulator.expire_delta(ALICE)
    assert first.delta_link
    result = alice.delta(delta_link=first.delta_link)
    assert result.resync_required and result.delta_link is None


def test_delta_needs_either_a_window_or_a_link(alice: GraphClient) -> None:
    with pytest.raises(ValueError, match="delta_link"):
        alice.delta(start=utc(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        alice.delta(start=datetime(2026, 1, 1), end=datetime(2026, 2, 1))


def test_create_update_delete_send_exactly_the_mails_outlook_sends(alice: GraphClient, emulator: Emulator) -> None:
    body = graph_event("Planning", day(3), attendees=[attendee(BOB), attendee("carol@fabrikam.example")])
    created = alice.create_event(body, "tx-planning-1")
    assert created["subject"] == "Planning" and created["id"]
    invitations = [m for m in emulator.outbox() if m["kind"] == "invitation"]
    assert sorted(m["to"].lower() for m in invitations) == [BOB, "carol@fabrikam.example"]

    emulator.clear_outbox()
    alice.update_event(created["id"], {"isReminderOn": False})
    assert emulator.outbox() == [], "a reminder change must not mail attendees"

    alice.update_event(created["id"], {"subject": "Planning (moved)"})
    assert sorted(m["kind"] for m in emulator.outbox()) == ["update", "update"]

    emulator.clear_outbox()
    alice.delete_event(created["id"])
    assert sorted(m["kind"] for m in emulator.outbox()) == ["cancellation", "cancellation"]
    alice.delete_event(created["id"])  # already gone counts as deleted


def test_a_lost_create_response_never_duplicates_the_event(alice: GraphClient, emulator: Emulator) -> None:
    emulator.fault("lose_response", method="POST", path_contains="/events")
    created = alice.create_event(graph_event("Exactly once", day(4)), "tx-exactly-once")
    events = [e for e in emulator.events(ALICE) if e["subject"] == "Exactly once"]
    assert len(events) == 1
    assert events[0]["id"] == created["id"]


def test_throttling_is_retried_after_retry_after_and_never_before(alice: GraphClient, emulator: Emulator) -> None:
    emulator.fault("throttle", count=2, retry_after="0.5")
    assert alice.me()["mail"].lower() == ALICE
    counters = emulator.requests()
    assert counters["throttled"] == 2
    assert counters["retry_after_violations"] == 0


def test_server_errors_are_retried(alice: GraphClient, emulator: Emulator) -> None:
    emulator.fault("error", status=503, count=1, retry_after="0.2")
    emulator.fault("error", status=500, count=1)
    assert alice.me()["mail"].lower() == ALICE


def test_errors_carry_graph_status_and_code(alice: GraphClient) -> None:
    with pytest.raises(outlook_sync.GraphApiError) as caught:
        alice.get_event("AAMkAGNvdGhlcmUAAA=")
    assert caught.value.status == 404
    assert caught.value.code == "ErrorItemNotFound"


def test_batch_of_45_creates_runs_within_outlook_limits(alice: GraphClient, emulator: Emulator) -> None:
    emulator.configure(limits=True, service_time_ms=20)
    requests = [
        {"method": "POST", "url": "/me/events", "body": graph_event(f"Batch {i}", day(5 + i % 20))} for i in range(45)
    ]
    results = alice.batch(requests)
    assert [r["status"] for r in results] == [201] * 45
    assert [r["body"]["subject"] for r in results] == [f"Batch {i}" for i in range(45)]
    counters = emulator.requests()
    assert counters["batch_items"] == 45
    assert counters["retry_after_violations"] == 0
    assert len([e for e in emulator.events(ALICE) if e["subject"].startswith("Batch ")]) == 45


def test_batch_items_that_fail_are_reported_alone(alice: GraphClient) -> None:
    results = alice.batch(
        [
            {"method": "GET", "url": "/me/events/AAMkAGdvbmUAAA="},
            {"method": "POST", "url": "/me/events", "body": graph_event("Fine", day(6))},
        ]
    )
    assert results[0]["status"] == 404
    assert isinstance(results[0]["error"], outlook_sync.GraphApiError)
    assert results[1]["status"] == 201


def test_batch_rejects_malformed_requests_before_sending(alice: GraphClient) -> None:
    with pytest.raises(ValueError, match=r"requests\[0\]"):
        alice.batch([{"method": "GET", "url": "https://evil.example/me"}])


def test_responses_reach_the_organizer(config: outlook_sync.GraphConfig, emulator: Emulator) -> None:
    organizer = GraphClient(config, sign_in(config, ALICE))
    guest = GraphClient(config, sign_in(config, BOB))
    created = organizer.create_event(graph_event("Review", day(7), attendees=[attendee(BOB)]), "tx-review")
    copies = guest.find_by_ical_uid(created["iCalUId"])
    assert len(copies) == 1 and copies[0]["isOrganizer"] is False
    emulator.clear_outbox()
    guest.respond(copies[0]["id"], "accept")
    mails = emulator.outbox()
    assert [(m["kind"], m["to"].lower()) for m in mails] == [("response", ALICE)]
    statuses = {
        a["emailAddress"]["address"].lower(): a["status"]["response"]
        for a in organizer.get_event(created["id"])["attendees"]
    }
    assert statuses[BOB] == "accepted"


def test_instances_of_a_series_come_sorted_with_their_exceptions(alice: GraphClient, emulator: Emulator) -> None:
    weekly = graph_event(
        "Weekly sync",
        utc(2026, 3, 2, 10),
        30,
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 4},
        },
    )
    (master_id,) = emulator.seed(ALICE, [weekly])
    first = alice.instances(master_id, utc(2026, 3, 1), utc(2026, 4, 1))
    assert [i["start"]["dateTime"][:10] for i in first] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    assert {i["type"] for i in first} == {"occurrence"}

    alice.update_event(first[2]["id"], {"subject": "Weekly sync (with the board)"})
    alice.delete_event(first[1]["id"])
    after = alice.instances(master_id, utc(2026, 3, 1), utc(2026, 4, 1))
    assert [(i["start"]["dateTime"][:10], i["type"]) for i in after] == [
        ("2026-03-02", "occurrence"),
        ("2026-03-16", "exception"),
        ("2026-03-23", "occurrence"),
    ]
