"""`sync_mailbox`, the one call the Odoo addon makes per user and run, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

import outlook_sync
from outlook_sync import GraphClient, GraphConfig
from outlook_sync.emulator import Emulator

from support import ALICE, BOB, graph_event, utc

WINDOW = {"window_start": utc(2026, 1, 1), "window_end": utc(2026, 12, 31)}


def odoo_event(local_id: int, name: str, start: str, stop: str, **extra: Any) -> dict[str, Any]:
    """A calendar.event as the addon hands it over (naive UTC datetimes, as Odoo stores them)."""
    values = {"id": local_id, "name": name, "start": start, "stop": stop, "is_organizer": True}
    values.update(extra)
    return {"values": values, "modified_at": "2026-02-01 08:00:00"}


def run(config: GraphConfig, client: GraphClient, state: Any, local: dict[str, Any], **options: Any) -> dict[str, Any]:
    result = outlook_sync.sync_mailbox(
        config, client.tokens, state, local, mailbox=ALICE, transaction_salt="db-uuid/link-1", **WINDOW, **options
    )
    assert isinstance(result["tokens"], outlook_sync.Tokens)
    return result


def test_first_sync_both_ways_then_an_idle_run_costs_one_request_and_no_mail(
    config: GraphConfig, alice: GraphClient, emulator: Emulator
) -> None:
    emulator.seed(ALICE, [graph_event("From Outlook", utc(2026, 3, 2, 9))])
    local = {
        "kind": "full",
        "events": [
            odoo_event(
                7,
                "From Odoo",
                "2026-03-03 10:00:00",
                "2026-03-03 11:00:00",
                organizer_email=ALICE,
                attendees=[{"email": BOB, "name": "Bob", "state": "needsAction"}],
            )
        ],
    }
    first = run(config, alice, None, local)

    creates = [op for op in first["local_ops"] if op["action"] == "create"]
    assert [op["values"]["name"] for op in creates] == ["From Outlook"]
    outlook = {e["subject"] for e in emulator.events(ALICE)}
    assert outlook == {"From Outlook", "From Odoo"}
    assert [(m["kind"], m["to"].lower()) for m in emulator.outbox()] == [("invitation", BOB)]

    # What the addon does: apply the ops, store the links and the state; then nothing changed anywhere.
    state = first["state"]
    for op in creates:
        link = dict(op["link"])
        link["local_id"] = "8"
        state["links"].append(link)
    emulator.clear_requests()
    emulator.clear_outbox()
    idle = run(config, alice, state, {"kind": "delta", "changed": [], "deleted": []})
    assert idle["local_ops"] == []
    assert emulator.requests()["total"] == 1
    assert emulator.outbox() == []


def test_a_dry_run_writes_nothing_and_predicts_the_mails(
    config: GraphConfig, alice: GraphClient, emulator: Emulator
) -> None:
    local = {
        "kind": "full",
        "events": [
            odoo_event(
                1,
                "Board meeting",
                "2026-04-01 14:00:00",
                "2026-04-01 15:00:00",
                organizer_email=ALICE,
                attendees=[{"email": BOB}, {"email": "carol@fabrikam.example"}],
            )
        ],
    }
    result = run(config, alice, None, local, dry_run=True)
    assert emulator.events(ALICE) == []
    assert emulator.outbox() == []
    assert result["report"]["mails"]["invitations"] == 2


def test_an_emptied_mailbox_stops_the_run_instead_of_deleting_odoo(
    config: GraphConfig, alice: GraphClient, emulator: Emulator
) -> None:
    emulator.seed(ALICE, [graph_event(f"Event {i}", utc(2026, 5, 1 + i, 9)) for i in range(3)])
    first = run(config, alice, None, {"kind": "full", "events": []})
    state = first["state"]
    for n, op in enumerate(first["local_ops"]):
        link = dict(op["link"])
        link["local_id"] = str(100 + n)
        state["links"].append(link)
    for event in emulator.events(ALICE):
        alice.delete_event(event["id"])
    state["delta_link"] = None  # a full round: the mailbox is now empty
    # Odoo still holds exactly what the first run wrote there.
    local = {
        "kind": "full",
        "events": [
            {"values": {**op["values"], "id": 100 + n}, "modified_at": None} for n, op in enumerate(first["local_ops"])
        ],
    }
    with pytest.raises(outlook_sync.SafetyStopError) as caught:
        run(config, alice, state, local)
    assert caught.value.kind == "safety_stop"
    assert isinstance(caught.value.tokens, outlook_sync.Tokens)


def test_a_malformed_local_side_is_a_clear_value_error(config: GraphConfig, alice: GraphClient) -> None:
    with pytest.raises(ValueError, match="'kind' must be 'full' or 'delta'"):
        run(config, alice, None, {"kind": "sometimes", "events": []})
    with pytest.raises(ValueError, match="'events' must be a list"):
        run(config, alice, None, {"kind": "full", "events": {"values": {}}})


def test_local_hash_follows_content_not_identity() -> None:
    values = odoo_event(7, "Review", "2026-03-02 09:00:00", "2026-03-02 10:00:00")["values"]
    same = dict(values, id=8, ical_uid="uid-elsewhere", attendees=[])
    renamed = dict(values, name="Review (moved)")
    assert outlook_sync.local_hash(values) == outlook_sync.local_hash(same)
    assert outlook_sync.local_hash(values) != outlook_sync.local_hash(renamed)
    with pytest.raises(ValueError, match="stop"):
        outlook_sync.local_hash(dict(values, stop="2026-03-02 08:00:00"))


def test_a_malformed_record_is_reported_and_the_others_sync(
    config: GraphConfig, alice: GraphClient, emulator: Emulator
) -> None:
    good = odoo_event(1, "Good", "2026-03-02 09:00:00", "2026-03-02 10:00:00")
    bad = odoo_event(2, "Bad", "2026-03-02 11:00:00", "2026-03-02 12:00:00", attendees="not a list")
    result = run(config, alice, None, {"kind": "full", "events": [good, bad]})
    assert [event["subject"] for event in emulator.events(ALICE)] == ["Good"]
    [failure] = result["report"]["failures"]
    assert failure["local_id"] == "2" and "attendees" in failure["reason"], failure
    assert result["retry_local"] == [2], "the bad record stays queued"
