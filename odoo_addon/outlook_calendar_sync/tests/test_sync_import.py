"""Outlook's side coming into Odoo: new, changed and deleted events, series, attendees, no mail from Odoo."""

from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import EmulatorCase

ALICE = "alice@example.com"


def weekly(start, count, day=None):
    return {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [day or start.strftime("%A").lower()]},
        "range": {"type": "numbered", "startDate": start.date().isoformat(), "numberOfOccurrences": count},
    }


def graph_event(subject, start, hours=1, **extra):
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        **extra,
    }


@tagged("post_install", "-at_install")
class TestSyncImport(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.start = (datetime.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
        self.account = self.emulator_account(self.user_a)

    def sync(self):
        log = self.account._run_sync()
        self.assertIn(log.status, ("success", "partial"), log.message)
        return log

    def linked_events(self):
        return self.account.sudo().link_ids.filtered("remote_id").event_id

    def test_event_created_in_outlook_appears_in_odoo_without_odoo_mails(self):
        self.emulator.seed(
            ALICE,
            [
                graph_event(
                    "Design review",
                    self.start,
                    location={"displayName": "Room 4"},
                    attendees=[
                        {"emailAddress": {"address": "Carol@Partner.example", "name": "Carol"}, "type": "required"}
                    ],
                )
            ],
        )
        mails_before = self.env["mail.mail"].sudo().search_count([])
        log = self.sync()
        self.assertEqual(log.odoo_created, 1, log.message)
        [event] = self.linked_events()
        self.assertEqual(event.name, "Design review")
        self.assertEqual(event.location, "Room 4")
        self.assertEqual(event.start, self.start)
        self.assertEqual(event.user_id, self.user_a)
        self.assertIn("carol@partner.example", event.partner_ids.mapped("email_normalized"))
        self.assertEqual(
            self.env["mail.mail"].sudo().search_count([]), mails_before, "Odoo mails no one about Outlook's events"
        )
        self.assertEqual(self.emulator.outbox(), [])
        # Applying Outlook's version is not an Odoo change: the next run sends nothing back.
        self.emulator.clear_requests()
        again = self.sync()
        self.assertEqual((again.outlook_created, again.outlook_updated, again.odoo_updated), (0, 0, 0), again.message)
        self.assertEqual(self.emulator.requests()["total"], 1)

    def test_changed_and_deleted_in_outlook(self):
        [remote_id] = self.emulator.seed(ALICE, [graph_event("Standup", self.start)])
        self.sync()
        [event] = self.linked_events()
        client = self.outlook_client(ALICE)
        client.update_event(remote_id, {"subject": "Standup (moved)"})
        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual(event.name, "Standup (moved)")
        client.delete_event(remote_id)
        log = self.sync()
        self.assertEqual(log.odoo_deleted, 1, log.message)
        self.assertFalse(event.exists())

    def test_teams_meeting_made_in_outlook_brings_its_join_link(self):
        [remote_id] = self.emulator.seed(ALICE, [graph_event("Planning", self.start)])
        self.sync()
        [event] = self.linked_events()
        self.assertFalse(event.videocall_location)
        made_online = self.outlook_client(ALICE).update_event(remote_id, {"isOnlineMeeting": True})
        link = made_online["onlineMeeting"]["joinUrl"]
        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual(event.videocall_location, link, "the Teams link opens from Odoo")
        self.emulator.clear_requests()
        again = self.sync()
        self.assertEqual((again.outlook_updated, again.odoo_updated), (0, 0), again.message)
        self.assertEqual(self.emulator.requests()["total"], 1)

    def test_weekly_series_arrives_as_one_odoo_recurrence(self):
        self.emulator.seed(
            ALICE,
            [
                graph_event(
                    "Weekly sync",
                    self.start,
                    recurrence={
                        "pattern": {
                            "type": "weekly",
                            "interval": 1,
                            "daysOfWeek": [self.start.strftime("%A").lower()],
                            "firstDayOfWeek": "monday",
                        },
                        "range": {
                            "type": "numbered",
                            "startDate": self.start.date().isoformat(),
                            "numberOfOccurrences": 5,
                            "recurrenceTimeZone": "UTC",
                        },
                    },
                )
            ],
        )
        log = self.sync()
        self.assertEqual(log.odoo_created, 1, log.message)
        [base] = self.linked_events()
        self.assertTrue(base.recurrency)
        self.assertEqual(base.rrule_type, "weekly")
        self.assertEqual(len(base.recurrence_id.calendar_event_ids), 5)
        again = self.sync()
        self.assertEqual((again.outlook_updated, again.odoo_updated), (0, 0), again.message)
        # Renamed in Outlook: every occurrence is renamed in place, none re-created.
        occurrences = base.recurrence_id.calendar_event_ids
        [master] = [event for event in self.emulator.events(ALICE) if event["subject"] == "Weekly sync"]
        self.outlook_client(ALICE).update_event(master["id"], {"subject": "Weekly sync (renamed)"})
        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual(base.recurrence_id.calendar_event_ids, occurrences, "the same five events")
        self.assertEqual(set(occurrences.mapped("name")), {"Weekly sync (renamed)"})
        self.assertEqual(self.sync().outlook_updated, 0)

    def test_series_created_in_odoo_is_one_outlook_series(self):
        self.env["calendar.event"].with_user(self.user_a).create(
            {
                "name": "Team lunch",
                "start": self.start,
                "stop": self.start + timedelta(hours=1),
                "recurrency": True,
                "rrule_type": "weekly",
                "interval": 1,
                "end_type": "count",
                "count": 4,
                self.start.strftime("%a").lower(): True,
                "event_tz": "Europe/Brussels",
            }
        )
        log = self.sync()
        self.assertEqual(log.outlook_created, 1, log.message)
        masters = [event for event in self.emulator.events(ALICE) if event.get("type") == "seriesMaster"]
        self.assertEqual(len(masters), 1)
        self.assertEqual(masters[0]["recurrence"]["range"]["numberOfOccurrences"], 4)
        again = self.sync()
        self.assertEqual((again.outlook_created, again.outlook_updated), (0, 0), again.message)

    def test_singles_and_series_arrive_together_each_whole(self):
        # One run creates singles and series together, series of the same rule sharing Odoo's work: each must come
        # out as Odoo's own create would make it, with its occurrences, people, reminders and followers.
        carol = {"emailAddress": {"address": "carol@partner.example", "name": "Carol"}, "type": "required"}
        dave = {"emailAddress": {"address": "dave@partner.example", "name": "Dave"}, "type": "required"}
        week_later = self.start + timedelta(days=7)
        self.emulator.seed(
            ALICE,
            [
                graph_event("Single", self.start, attendees=[carol], isReminderOn=True, reminderMinutesBeforeStart=30),
                graph_event(
                    "Weekly A", self.start + timedelta(hours=2), attendees=[carol], recurrence=weekly(self.start, 3)
                ),
                graph_event(
                    "Weekly B", self.start + timedelta(hours=4), attendees=[dave], recurrence=weekly(self.start, 3)
                ),
                graph_event("Weekly C", week_later, attendees=[dave], recurrence=weekly(week_later, 4)),
                graph_event("Single 2", self.start + timedelta(hours=6), attendees=[dave]),
            ],
        )
        notified = []
        alarm_manager = type(self.env["calendar.alarm_manager"])
        original = alarm_manager._notify_next_alarm

        def notify(manager, partner_ids):
            notified.append(set(partner_ids))
            return original(manager, partner_ids)

        with patch.object(alarm_manager, "_notify_next_alarm", autospec=True, side_effect=notify):
            log = self.sync()
        self.assertEqual((log.odoo_created, log.status), (5, "success"), log.message)
        events = {event.name: event for event in self.linked_events()}
        self.assertEqual(set(events), {"Single", "Weekly A", "Weekly B", "Weekly C", "Single 2"})
        partner = self.env["res.partner"].sudo()
        carol_partner = partner.search([("email_normalized", "=", "carol@partner.example")])
        dave_partner = partner.search([("email_normalized", "=", "dave@partner.example")])
        self.assertEqual((len(carol_partner), len(dave_partner)), (1, 1), "one partner per address")
        counts = {"Weekly A": 3, "Weekly B": 3, "Weekly C": 4}
        recurrences = {events[name].recurrence_id for name in counts}
        self.assertEqual(len(recurrences), 3, "series of the same rule stay separate series")
        for name, count in counts.items():
            base = events[name]
            self.assertTrue(base.recurrency, name)
            self.assertEqual(base.recurrence_id.base_event_id, base, name)
            occurrences = base.recurrence_id.calendar_event_ids
            self.assertEqual(len(occurrences), count, name)
            self.assertEqual(set(occurrences.mapped("name")), {name})
            self.assertEqual(occurrences.mapped("start")[0].hour, base.start.hour, name)
            for occurrence in occurrences:
                self.assertEqual(occurrence.user_id, self.user_a, name)
                self.assertIn(self.user_a.partner_id, occurrence.partner_ids, name)
                guest = carol_partner if name == "Weekly A" else dave_partner
                self.assertIn(guest, occurrence.partner_ids, name)
                self.assertIn(guest, occurrence.message_partner_ids, "attendees follow their events")
        self.assertEqual(events["Weekly C"].start, week_later)
        single = events["Single"]
        self.assertEqual(single.alarm_ids.mapped("duration_minutes"), [30])
        self.assertEqual(single.partner_ids, self.user_a.partner_id | carol_partner)
        for event in events.values():
            states = {attendee.partner_id: attendee.state for attendee in event.attendee_ids}
            self.assertEqual(states[self.user_a.partner_id], "accepted", "the organizer has accepted")
        # Odoo's own create would tell the attendees their next reminder after every create (here 7 times).
        self.assertLessEqual(len(notified), 2, "reminders are scheduled once for the singles, once for the series")
        self.assertIn(self.user_a.partner_id.id, set().union(*notified))
        again = self.sync()
        self.assertEqual(
            (again.odoo_created, again.odoo_updated, again.outlook_created, again.outlook_updated),
            (0, 0, 0, 0),
            again.message,
        )

    def test_a_series_odoo_refuses_fails_alone(self):
        self.env.cr.execute(
            "ALTER TABLE calendar_event ADD CONSTRAINT test_refuse_forbidden CHECK (name NOT LIKE 'Forbidden%')"
        )
        self.emulator.seed(
            ALICE,
            [graph_event(f"Fine {number}", self.start + timedelta(hours=number)) for number in range(5)]
            + [
                graph_event("Forbidden series", self.start, recurrence=weekly(self.start, 3)),
                graph_event("Allowed series", self.start, recurrence=weekly(self.start, 3)),
            ],
        )
        with mute_logger("odoo.sql_db"):
            log = self.account._run_sync()
        self.assertEqual((log.status, log.odoo_created), ("partial", 6), log.message)
        self.assertIn("Forbidden series", log.message)
        events = {event.name: event for event in self.linked_events()}
        self.assertEqual(set(events), {*(f"Fine {number}" for number in range(5)), "Allowed series"})
        self.assertEqual(len(events["Allowed series"].recurrence_id.calendar_event_ids), 3)

    def test_all_day_event_keeps_its_dates(self):
        day = self.start.date()
        self.emulator.seed(
            ALICE,
            [
                {
                    "subject": "Offsite",
                    "isAllDay": True,
                    "start": {"dateTime": f"{day}T00:00:00", "timeZone": "UTC"},
                    "end": {"dateTime": f"{day + timedelta(days=2)}T00:00:00", "timeZone": "UTC"},
                }
            ],
        )
        self.sync()
        [event] = self.linked_events()
        self.assertTrue(event.allday)
        self.assertEqual((event.start_date, event.stop_date), (day, day + timedelta(days=1)))

    def test_edit_on_both_sides_is_a_reported_conflict_never_a_silent_loss(self):
        [remote_id] = self.emulator.seed(ALICE, [graph_event("Budget", self.start)])
        self.sync()
        [event] = self.linked_events()
        event.name = "Budget (Odoo's title)"
        self.outlook_client(ALICE).update_event(remote_id, {"subject": "Budget (Outlook's title)"})
        log = self.sync()
        # Odoo's edit is as old as this test's transaction, Outlook's is newer: the latest edit wins...
        self.assertEqual(event.name, "Budget (Outlook's title)")
        # ...and the losing edit is in the log, where a person can find it.
        self.assertIn("Conflict on", log.message)
        self.assertIn("Budget (Odoo's title)", log.message)
        self.assertEqual(self.sync().outlook_updated, 0)
