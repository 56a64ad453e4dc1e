"""Edited occurrences of a series (exceptions) end to end: one occurrence moved or renamed on one side is moved or
renamed on the other, that one only and inside its series, with one update per attendee when Odoo edited it, and
the next run is idle."""

from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from .common import CAROL, DAVE, SeriesCase

ERIN = "erin@partner.example"


@tagged("post_install", "-at_install")
class TestSyncExceptions(SeriesCase):
    def outlook_instances(self, master_id):
        """{original day: (start as naive UTC, subject, id)} of the series' instances in Outlook."""
        start = self.start.replace(tzinfo=timezone.utc)
        instances = self.client().instances(master_id, start - timedelta(days=1), start + timedelta(days=35))
        return {
            datetime.fromisoformat(instance["originalStart"].replace("Z", "+00:00")).date(): (
                datetime.fromisoformat(instance["start"]["dateTime"][:19]),
                instance["subject"],
                instance["id"],
            )
            for instance in instances
        }

    def outlook_bodies(self, master_id):
        """{original day: body HTML} of the series' instances in Outlook."""
        start = self.start.replace(tzinfo=timezone.utc)
        instances = self.client().instances(master_id, start - timedelta(days=1), start + timedelta(days=35))
        return {
            datetime.fromisoformat(instance["originalStart"].replace("Z", "+00:00")).date(): (
                (instance.get("body") or {}).get("content") or ""
            )
            for instance in instances
        }

    def outlook_people(self, master_id):
        """{original day: (attendee addresses, reminder minutes or None)} of the series' instances in Outlook."""
        start = self.start.replace(tzinfo=timezone.utc)
        instances = self.client().instances(master_id, start - timedelta(days=1), start + timedelta(days=35))
        return {
            datetime.fromisoformat(instance["originalStart"].replace("Z", "+00:00")).date(): (
                sorted(a["emailAddress"]["address"].lower() for a in instance["attendees"]),
                instance["reminderMinutesBeforeStart"] if instance["isReminderOn"] else None,
            )
            for instance in instances
        }

    def alarm(self, minutes):
        return self.env["calendar.alarm"].create(
            {"name": f"{minutes} min", "alarm_type": "notification", "duration": minutes, "interval": "minutes"}
        )

    def synced_series_and_its_third(self):
        """The daily series synced, its invitations read: (Odoo base event, Outlook master, third Odoo occurrence)."""
        base = self.daily_series()
        self.sync()
        self.mails()
        return base, self.master(), self.occurrences(base)[self.days[2]]

    def occurrences(self, base):
        """{day: occurrence} of the series' active occurrences, by the day each starts on."""
        return {event.start.date(): event for event in base.recurrence_id.calendar_event_ids}

    def assert_one_occurrence_patch(self, base, third, mails, msg):
        """``third``, edited on its own in Odoo, stays in ``base``'s series and the next run sends it as one PATCH of
        that occurrence, mailing ``mails``."""
        self.assertEqual(third.recurrence_id, base.recurrence_id)
        self.emulator.clear_requests()
        log = self.sync()
        self.assertEqual(log.outlook_updated, 1, log.message)
        self.assertEqual(self.mails(), mails, msg)
        self.assertEqual(self.emulator.requests()["by_route"].get("PATCH /v1.0/me/events/{id}"), 1)

    def test_occurrence_moved_in_outlook_moves_in_odoo_and_the_series_stays(self):
        base = self.outlook_series()
        before = self.occurrences(base)
        self.assertEqual(sorted(before), self.days)
        third_id = self.outlook_instances(self.master()["id"])[self.days[2]][2]
        later = self.start.replace(hour=14, minute=30) + timedelta(days=2)
        self.client().update_event(
            third_id,
            {
                "subject": "Standup (afternoon)",
                "start": {"dateTime": later.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {"dateTime": (later + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            },
        )
        self.emulator.clear_outbox()

        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual((log.outlook_created, log.outlook_updated, log.outlook_deleted), (0, 0, 0), log.message)
        self.assertNotIn("Not synced", log.message or "")
        moved = before[self.days[2]]
        self.assertTrue(moved.exists() and moved.active)
        self.assertEqual((moved.start, moved.stop), (later, later + timedelta(minutes=30)))
        self.assertEqual(moved.name, "Standup (afternoon)")
        self.assertEqual(moved.recurrence_id, base.recurrence_id, "it stays in its series")
        self.assertFalse(moved.follow_recurrence)
        # The others are the same records, untouched.
        after = {event.id: event for event in base.recurrence_id.calendar_event_ids}
        self.assertEqual(set(after), {event.id for event in before.values()})
        for day in (self.days[0], self.days[1], self.days[3]):
            self.assertEqual(before[day].start, self.start + timedelta(days=(day - self.days[0]).days))
            self.assertEqual(before[day].name, "Daily standup")
        self.assertEqual(self.emulator.outbox(), [], "applying Outlook's edit mails no one")
        self.assert_idle()

    def test_occurrence_moved_and_renamed_in_odoo_is_one_update_of_that_instance(self):
        base, master, third = self.synced_series_and_its_third()
        later = third.start + timedelta(hours=5)
        third.with_user(self.user_a).write(
            {
                "start": later,
                "stop": later + timedelta(minutes=15),
                "name": "Standup (late)",
                "recurrence_update": "self_only",
            }
        )
        self.assert_one_occurrence_patch(
            base, third, [("update", CAROL), ("update", DAVE)], "one update of that occurrence each"
        )
        instances = self.outlook_instances(master["id"])
        self.assertEqual(sorted(instances), self.days)
        self.assertEqual(instances[self.days[2]][:2], (later, "Standup (late)"))
        for n in (0, 1, 3):
            self.assertEqual(instances[self.days[n]][:2], (self.start + timedelta(days=n), "Daily standup"))
        self.assertEqual(self.master()["subject"], "Daily standup", "the series itself is untouched")
        self.assert_idle()

        # Renamed again in Odoo: one more update of that occurrence, nothing else.
        third.with_user(self.user_a).write({"name": "Standup (later)", "recurrence_update": "self_only"})
        log = self.sync()
        self.assertEqual(log.outlook_updated, 1, log.message)
        self.assertEqual(self.mails(), [("update", CAROL), ("update", DAVE)])
        self.assertEqual(self.outlook_instances(master["id"])[self.days[2]][:2], (later, "Standup (later)"))
        self.assert_idle()

    def test_occurrence_moved_to_another_day_in_outlook_keeps_standing_for_its_own(self):
        weekday = self.days[0].strftime("%A").lower()
        base = self.outlook_series({"type": "weekly", "interval": 1, "daysOfWeek": [weekday]})
        weeks = [self.days[0] + timedelta(weeks=n) for n in range(4)]
        before = self.occurrences(base)
        self.assertEqual(sorted(before), weeks)
        second_id = self.outlook_instances(self.master()["id"])[weeks[1]][2]
        # Two days later in its week: between its neighbours, as Outlook requires.
        later = self.start + timedelta(weeks=1, days=2)
        self.client().update_event(
            second_id,
            {
                "start": {"dateTime": later.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {"dateTime": (later + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            },
        )
        self.emulator.clear_outbox()

        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        moved = before[weeks[1]]
        self.assertEqual((moved.start, moved.recurrence_id), (later, base.recurrence_id))
        self.assertEqual(len(base.recurrence_id.calendar_event_ids), 4, "moved, not deleted")
        # Odoo takes the occurrence on a day the rule does not give for the week left empty: the same exception,
        # not a deletion and a stray event, so nothing goes back to Outlook and the next run is idle.
        self.assertEqual((log.outlook_updated, log.outlook_deleted), (0, 0), log.message)
        self.assertEqual(sorted(self.outlook_instances(self.master()["id"])), weeks)
        self.assert_idle()

    def test_first_occurrence_edited_in_outlook_is_said_in_the_sync_log(self):
        # Odoo's first occurrence is the series itself: it cannot hold an edit of its own, and the log says so.
        base = self.outlook_series()
        first_id = self.outlook_instances(self.master()["id"])[self.days[0]][2]
        self.client().update_event(first_id, {"subject": "Kick-off standup"})
        log = self.sync()
        self.assertIn("Not synced", log.message)
        self.assertIn(self.days[0].isoformat(), log.message)
        self.assertEqual(base.name, "Daily standup", "the series is left as it was")

    def test_occurrence_body_edited_in_outlook_reaches_that_odoo_occurrence_made_safe(self):
        base = self.outlook_series()
        before = self.occurrences(base)
        third_id = self.outlook_instances(self.master()["id"])[self.days[2]][2]
        self.client().update_event(
            third_id,
            {
                "body": {
                    "contentType": "html",
                    "content": '<p onclick="steal()">Room 2 today</p><script>alert(document.cookie)</script>',
                }
            },
        )
        self.emulator.clear_outbox()

        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual((log.outlook_created, log.outlook_updated, log.outlook_deleted), (0, 0, 0), log.message)
        self.assertNotIn("Not synced", log.message or "")
        third = before[self.days[2]]
        description = str(third.description or "")
        self.assertIn("Room 2 today", description)
        self.assertNotIn("script", description)
        self.assertNotIn("alert", description)
        self.assertNotIn("onclick", description)
        self.assertEqual((third.start, third.name), (self.start + timedelta(days=2), "Daily standup"))
        self.assertEqual(third.recurrence_id, base.recurrence_id, "it stays in its series")
        self.assertEqual(
            {event.id for event in base.recurrence_id.calendar_event_ids}, {event.id for event in before.values()}
        )
        for day in (self.days[0], self.days[1], self.days[3]):
            self.assertNotIn("Room 2", str(before[day].description or ""))
        self.assertEqual(self.emulator.outbox(), [], "applying Outlook's edit mails no one")
        self.assert_idle()

    def test_occurrence_body_edited_in_odoo_is_one_update_of_that_instance(self):
        base, master, third = self.synced_series_and_its_third()
        third.with_user(self.user_a).write({"description": "<p>Bring the demo</p>", "recurrence_update": "self_only"})
        self.assert_one_occurrence_patch(
            base, third, [("update", CAROL), ("update", DAVE)], "one update of that occurrence each"
        )
        bodies = self.outlook_bodies(master["id"])
        self.assertEqual(sorted(bodies), self.days)
        for day, body in bodies.items():
            self.assertEqual("Bring the demo" in body, day == self.days[2], bodies)
        self.assertNotIn("Bring the demo", (self.master().get("body") or {}).get("content") or "")
        instances = self.outlook_instances(master["id"])
        self.assertEqual(instances[self.days[2]][:2], (self.start + timedelta(days=2), "Daily standup"))
        self.assert_idle()

    def test_occurrence_attendees_edited_in_odoo_invite_and_cancel_that_occurrence_only(self):
        base, master, third = self.synced_series_and_its_third()
        erin = self.env["res.partner"].create({"name": "Erin", "email": ERIN})
        partners = self.user_a.partner_id | self.carol | erin
        third.with_user(self.user_a).write({"partner_ids": [(6, 0, partners.ids)], "recurrence_update": "self_only"})
        self.assert_one_occurrence_patch(
            base, third, [("cancellation", DAVE), ("invitation", ERIN)], "of that occurrence, to them"
        )
        people = self.outlook_people(master["id"])
        for day, (attendees, _reminder) in people.items():
            self.assertEqual(attendees, sorted([CAROL, ERIN] if day == self.days[2] else [CAROL, DAVE]), people)
        self.assertEqual(len(base.recurrence_id.calendar_event_ids), 4)
        self.assert_idle()

        # A reminder of its own: one more write of that occurrence, which mails no one.
        alarm = self.alarm(30)
        third.with_user(self.user_a).write({"alarm_ids": [(6, 0, alarm.ids)], "recurrence_update": "self_only"})
        log = self.sync()
        self.assertEqual(log.outlook_updated, 1, log.message)
        self.assertEqual(self.mails(), [])
        people = self.outlook_people(master["id"])
        series_reminder = people[self.days[0]][1]
        self.assertNotEqual(series_reminder, 30)
        for day, (_attendees, reminder) in people.items():
            self.assertEqual(reminder, 30 if day == self.days[2] else series_reminder, people)
        self.assert_idle()

    def test_occurrence_attendees_and_reminder_edited_in_outlook_reach_that_odoo_occurrence(self):
        base = self.outlook_series()
        before = self.occurrences(base)
        third_id = self.outlook_instances(self.master()["id"])[self.days[2]][2]
        self.client().update_event(
            third_id,
            {
                "attendees": [
                    {"emailAddress": {"address": CAROL.upper(), "name": "Carol"}, "type": "required"},
                    {"emailAddress": {"address": DAVE, "name": "Dave"}, "type": "optional"},
                ],
                "isReminderOn": True,
                "reminderMinutesBeforeStart": 45,
            },
        )
        self.emulator.clear_outbox()

        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual((log.outlook_created, log.outlook_updated, log.outlook_deleted), (0, 0, 0), log.message)
        self.assertNotIn("Not synced", log.message or "")
        third = before[self.days[2]]
        self.assertEqual(third.partner_ids, self.user_a.partner_id | self.carol | self.dave)
        self.assertEqual(third.alarm_ids.mapped("duration_minutes"), [45])
        self.assertEqual(third.recurrence_id, base.recurrence_id, "it stays in its series")
        for day in (self.days[0], self.days[1], self.days[3]):
            self.assertEqual(before[day].partner_ids, self.user_a.partner_id | self.carol)
            self.assertEqual(before[day].alarm_ids, base.alarm_ids)
        self.assertNotIn(45, base.alarm_ids.mapped("duration_minutes"))
        self.assertEqual(self.emulator.outbox(), [], "applying Outlook's edit mails no one")
        self.assert_idle()

    def test_occurrence_moved_past_a_neighbour_is_said_in_the_sync_log_once(self):
        base, master, third = self.synced_series_and_its_third()
        # Onto the next occurrence's day: Outlook refuses that (ErrorOccurrenceCrossingBoundary).
        later = third.start + timedelta(days=1, hours=3)
        third.with_user(self.user_a).write(
            {"start": later, "stop": later + timedelta(minutes=15), "recurrence_update": "self_only"}
        )

        log = self.sync()
        self.assertIn("Not synced: Daily standup", log.message)
        self.assertIn(f"occurrence of {self.days[2].isoformat()} was moved to {self.days[3].isoformat()}", log.message)
        self.assertEqual((log.outlook_updated, log.outlook_deleted), (0, 0), log.message)
        instances = self.outlook_instances(master["id"])
        self.assertEqual(instances[self.days[2]][0], self.start + timedelta(days=2), "left as it was in Outlook")

        # Said once: neither the next run nor a full pass repeats it while nothing changed.
        self.assertNotIn("Not synced", self.sync().message or "")
        self.account.sudo().full_sync_needed = True
        self.assertNotIn("Not synced", self.sync().message or "")
        self.assertEqual(base.recurrence_id.calendar_event_ids.filtered(lambda e: e.start == later), third)
