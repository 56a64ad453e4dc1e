"""The benchmark's calendar data, as plain values both sides can be fed with and checked against.

N items per workload: every tenth a weekly series of ten occurrences, the rest single one-hour events, each with
the organizer and two guests. Subjects are unique per workload (``<prefix>-<index>``), which is what the
subject-and-start check and the per-workload bookkeeping key on. Everything is in UTC so a time-zone bug shows
up as an event at the wrong time (missing) rather than being hidden by the test's own conversions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

SERIES_EVERY = 10  # one item in ten is a series
SERIES_COUNT = 10  # occurrences per series
EVENTS_PER_DAY = 8
GUEST_POOL = 40
# Every event has a room. Without one, microsoft_calendar asks Graph for a Teams meeting, and our emulator answers
# isOnlineMeeting true with no onlineMeeting (Graph would return its joinUrl), on which its import crashes.
LOCATION = "Room A"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def guest_address(number: int) -> str:
    return f"guest{number:02d}@partner.example"


@dataclass
class Item:
    """One event (single or series) of a workload, as its organizer sees it."""

    index: int
    subject: str
    start: datetime  # naive UTC, as Odoo stores it
    guests: tuple[str, str]
    recurring: bool
    occurrences: list[datetime] = field(default_factory=list)

    @property
    def stop(self) -> datetime:
        return self.start + timedelta(hours=1)

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.start.weekday()]

    def graph(self) -> dict:
        """The item as Graph event JSON, for seeding an Outlook mailbox."""
        event = {
            "subject": self.subject,
            "start": {"dateTime": self.start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": self.stop.isoformat(), "timeZone": "UTC"},
            "location": {"displayName": LOCATION},
            "attendees": [
                {"emailAddress": {"address": guest, "name": guest.split("@")[0]}, "type": "required"}
                for guest in self.guests
            ],
        }
        if self.recurring:
            event["recurrence"] = {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [self.weekday]},
                "range": {
                    "type": "numbered",
                    "startDate": self.start.date().isoformat(),
                    "numberOfOccurrences": SERIES_COUNT,
                },
            }
        return event


def items(prefix: str, n: int, now: datetime | None = None) -> list[Item]:
    """``n`` items named ``<prefix>-<index>``, starting the day after tomorrow, eight a day from 08:00 UTC.

    At N = 2,000 the last series ends about 320 days ahead: inside both modules' sync windows."""
    now = now or datetime.now(timezone.utc)
    first_day = datetime(now.year, now.month, now.day) + timedelta(days=2)
    result = []
    for index in range(n):
        start = first_day + timedelta(days=index // EVENTS_PER_DAY, hours=8 + index % EVENTS_PER_DAY)
        recurring = index % SERIES_EVERY == 0
        occurrences = [start + timedelta(weeks=k) for k in range(SERIES_COUNT)] if recurring else [start]
        guests = (guest_address((2 * index) % GUEST_POOL), guest_address((2 * index + 1) % GUEST_POOL))
        result.append(Item(index, f"{prefix}-{index:05d}", start, guests, recurring, occurrences))
    return result


def edited(batch: list[Item]) -> list[Item]:
    """The tenth of ``batch`` the ``update`` workload edits in Outlook: half of the series, and as many singles."""
    return [item for item in batch if item.index % (2 * SERIES_EVERY) in (0, 1)]


def edited_subject(subject: str) -> str:
    return f"{subject} (moved to room B)"
