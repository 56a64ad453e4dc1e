"""After a run: which expected events are missing or duplicated, in Odoo and in Outlook.

Two independent checks, each on both stores, so one blind spot cannot hide a defect:

- by ``iCalUId``: every Outlook copy of an expected event must be linked to exactly one Odoo event (series: one
  recurrence), and every Odoo event of the workload must be linked to an Outlook copy;
- by subject and start: every expected event must be in Outlook exactly once (a series by its first occurrence)
  and in Odoo exactly once (a series by each of its occurrences).

``missing`` and ``duplicates`` add up the two stores, each store counting the worse of its two checks; the
detail stays in ``checks`` so a reader can see which check found what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from workload import Item


@dataclass
class OdooEvent:
    """One Odoo calendar event, reduced to what the checks need."""

    name: str
    start: datetime  # naive UTC
    item: str  # the Odoo item it belongs to: "recurrence/<id>" for a series, "event/<id>" otherwise
    ical_uid: str | None  # the iCalUId the module links it to, if any


def _outlook_start(event: dict) -> datetime:
    # The emulator's control API answers in UTC: "2026-12-01T09:00:00.0000000".
    return datetime.fromisoformat(event["start"]["dateTime"][:19])


def _moves(expected: list[Item], found: list[tuple[str, datetime]]) -> dict[str, int]:
    """Events of an expected subject found at a start that was not asked for, counted by how far they moved
    (e.g. ``{"-60 min": 900}``: a time-zone mistake shows up as one large bucket)."""
    by_subject = {item.subject: item for item in expected}
    moves: Counter[str] = Counter()
    for subject, start in found:
        item = by_subject.get(subject)
        if item is None or start in item.occurrences:
            continue
        shift = min((start - occurrence for occurrence in item.occurrences), key=abs)
        moves[f"{int(shift.total_seconds() // 60):+d} min"] += 1
    return dict(moves)


def check(expected: list[Item], odoo: list[OdooEvent], outlook: list[dict]) -> dict:
    """Counts of missing and duplicated events; ``outlook`` is the mailbox's masters and singles (Graph JSON)."""
    by_subject = {item.subject: item for item in expected}
    outlook = [event for event in outlook if event.get("subject") in by_subject and not event.get("isCancelled")]

    # -- Outlook by subject and start ---------------------------------------------------------------------
    outlook_keys = Counter((event["subject"], _outlook_start(event)) for event in outlook)
    outlook_missing_key = sum(1 for item in expected if outlook_keys[(item.subject, item.start)] == 0)
    outlook_dup_key = sum(max(0, outlook_keys[(item.subject, item.start)] - 1) for item in expected)

    # -- Odoo by subject and start (series: each occurrence; a series with a hole is missing) -------------
    odoo_keys = Counter((event.name, event.start) for event in odoo)
    odoo_missing_key = odoo_dup_key = odoo_missing_series = 0
    for item in expected:
        counts = [odoo_keys[(item.subject, start)] for start in item.occurrences]
        odoo_missing_key += min(counts) == 0
        odoo_missing_series += item.recurring and min(counts) == 0
        odoo_dup_key += max(0, max(counts) - 1)
    expected_keys = {(item.subject, start) for item in expected for start in item.occurrences}
    odoo_unexpected = sum(count for key, count in odoo_keys.items() if key not in expected_keys)

    # -- by iCalUId -----------------------------------------------------------------------------------------
    outlook_uids = Counter(event.get("iCalUId") for event in outlook)
    odoo_items: dict[str, set[str | None]] = {}
    for event in odoo:
        odoo_items.setdefault(event.item, set()).add(event.ical_uid)
    odoo_uid_items = Counter(uid for uids in odoo_items.values() for uid in uids if uid)
    # An Outlook copy with no Odoo event linked to it: missing in Odoo; linked twice: a duplicate in Odoo.
    odoo_missing_uid = sum(1 for uid in outlook_uids if odoo_uid_items[uid] == 0)
    odoo_dup_uid = sum(max(0, odoo_uid_items[uid] - 1) for uid in outlook_uids)
    # An Odoo event linked to nothing in Outlook (or not linked at all): missing in Outlook.
    outlook_missing_uid = sum(1 for uids in odoo_items.values() if not any(outlook_uids[uid] for uid in uids if uid))
    outlook_dup_uid = sum(count - 1 for count in outlook_uids.values() if count > 1)

    checks = {
        "odoo": {
            "missing_by_uid": odoo_missing_uid,
            "missing_by_subject_start": odoo_missing_key,
            "duplicates_by_uid": odoo_dup_uid,
            "duplicates_by_subject_start": odoo_dup_key,
            "unexpected": odoo_unexpected,
            "missing_series": odoo_missing_series,
            "moved": _moves(expected, [(event.name, event.start) for event in odoo]),
        },
        "outlook": {
            "missing_by_uid": outlook_missing_uid,
            "missing_by_subject_start": outlook_missing_key,
            "duplicates_by_uid": outlook_dup_uid,
            "duplicates_by_subject_start": outlook_dup_key,
            "moved": _moves(expected, [(event["subject"], _outlook_start(event)) for event in outlook]),
        },
    }
    missing = sum(max(store["missing_by_uid"], store["missing_by_subject_start"]) for store in checks.values())
    duplicates = sum(max(store["duplicates_by_uid"], store["duplicates_by_subject_start"]) for store in checks.values())
    return {"missing": missing, "duplicates": duplicates, "checks": checks}
