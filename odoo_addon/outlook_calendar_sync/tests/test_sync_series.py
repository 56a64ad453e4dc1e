"""Recurring series end to end: an occurrence deleted on one side is deleted on the other, that one only, with one
cancellation per attendee when Odoo deleted it, and the next run is idle."""

from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from .common import CAROL, DAVE, SeriesCase


@tagged("post_install", "-at_install")
class TestSyncSeries(SeriesCase):
    def outlook_days(self, master_id):
        start = self.start.replace(tzinfo=timezone.utc)
        instances = self.client().instances(master_id, start - timedelta(days=1), start + timedelta(days=10))
        return sorted(
            (datetime.fromisoformat(instance["start"]["dateTime"][:19]).date(), instance["id"])
            for instance in instances
        )

    def odoo_days(self, base):
        return sorted(event.start.date() for event in base.recurrence_id.calendar_event_ids)

    def test_occurrence_deleted_in_odoo_is_deleted_in_outlook_with_one_cancellation_per_attendee(self):
        base = self.daily_series()
        self.sync()
        self.mails()
        master = self.master()
        self.assertEqual([day for day, _ in self.outlook_days(master["id"])], self.days)

        # Odoo's "delete this event only" on a synced calendar archives the occurrence.
        second = base.recurrence_id.calendar_event_ids.filtered(lambda e: e.start.date() == self.days[1])
        second.with_user(self.user_a).action_mass_archive("self_only")
        log = self.sync()
        self.assertEqual(log.outlook_updated, 1, log.message)
        self.assertEqual(self.mails(), [("cancellation", CAROL), ("cancellation", DAVE)])
        self.assertEqual(
            [day for day, _ in self.outlook_days(master["id"])], [self.days[0], self.days[2], self.days[3]]
        )
        self.assertEqual(
            [oid.rsplit(".", 1)[1] for oid in self.master().get("cancelledOccurrences", [])],
            [self.days[1].isoformat()],
        )
        self.assertEqual(self.master()["subject"], "Daily standup", "the series itself is untouched")
        self.assert_idle()

    def test_occurrence_unlinked_in_odoo_is_deleted_in_outlook(self):
        base = self.daily_series()
        self.sync()
        self.mails()
        master = self.master()
        third = base.recurrence_id.calendar_event_ids.filtered(lambda e: e.start.date() == self.days[2])
        third.with_user(self.user_a).unlink()
        log = self.sync()
        self.assertEqual(log.outlook_updated, 1, log.message)
        self.assertEqual(self.mails(), [("cancellation", CAROL), ("cancellation", DAVE)])
        self.assertEqual(
            [day for day, _ in self.outlook_days(master["id"])], [self.days[0], self.days[1], self.days[3]]
        )
        self.assert_idle()

    def test_occurrence_deleted_in_outlook_is_deleted_in_odoo(self):
        base = self.outlook_series()
        self.assertEqual(self.odoo_days(base), self.days)

        [third_id] = [id_ for day, id_ in self.outlook_days(self.master()["id"]) if day == self.days[2]]
        self.client().delete_event(third_id)
        self.emulator.clear_outbox()
        log = self.sync()
        self.assertEqual(log.odoo_updated, 1, log.message)
        self.assertEqual((log.outlook_updated, log.outlook_deleted), (0, 0), log.message)
        self.assertEqual(self.odoo_days(base), [self.days[0], self.days[1], self.days[3]])
        self.assertTrue(base.exists() and base.active, "the series stays, its occurrence goes")
        self.assertEqual(self.emulator.outbox(), [], "applying Outlook's deletion mails no one")
        self.assert_idle()

    def test_occurrence_moved_in_odoo_is_not_taken_for_a_deleted_one(self):
        base = self.daily_series()
        self.sync()
        self.mails()
        master = self.master()
        second = base.recurrence_id.calendar_event_ids.filtered(lambda e: e.start.date() == self.days[1])
        later = second.start + timedelta(days=5)
        second.with_user(self.user_a).write(
            {"start": later, "stop": later + timedelta(minutes=15), "recurrence_update": "self_only"}
        )
        self.assertFalse(second.follow_recurrence)
        self.assertEqual(second.recurrence_id, base.recurrence_id)
        log = self.sync()
        self.assertEqual((log.outlook_updated, log.outlook_deleted), (0, 0), log.message)
        self.assertEqual(self.mails(), [])
        self.assertEqual([day for day, _ in self.outlook_days(master["id"])], self.days)

    def test_occurrences_deleted_in_odoo_come_back_when_outlook_reshapes_the_series(self):
        # Outlook restores a series' deleted occurrences when its times or pattern change: Odoo follows.
        base = self.daily_series()
        self.sync()
        third = base.recurrence_id.calendar_event_ids.filtered(lambda e: e.start.date() == self.days[2])
        third.with_user(self.user_a).unlink()
        self.sync()
        master = self.master()
        self.assertEqual(len(self.outlook_days(master["id"])), 3)

        later = self.start + timedelta(hours=1)
        self.client().update_event(
            master["id"],
            {
                "start": {"dateTime": later.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {"dateTime": (later + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            },
        )
        self.assertEqual([day for day, _ in self.outlook_days(master["id"])], self.days, "Outlook restored it")
        self.emulator.clear_outbox()
        self.sync()
        [base] = self.account.sudo().link_ids.filtered("remote_id").event_id
        self.assertEqual(self.odoo_days(base), self.days, "and Odoo has the occurrence again")
        self.assertEqual(
            {event.start.hour for event in base.recurrence_id.calendar_event_ids}, {later.hour}, "at the new time"
        )
        self.assertEqual(self.emulator.outbox(), [], "applying Outlook's change mails no one")
        self.assert_idle()

    def test_occurrences_deleted_in_outlook_come_back_when_odoo_reshapes_the_series(self):
        # Odoo re-creates every occurrence when a series' times change for all events: Outlook follows.
        base = self.daily_series()
        self.sync()
        master = self.master()
        [(_, second_id)] = [(day, id_) for day, id_ in self.outlook_days(master["id"]) if day == self.days[1]]
        self.client().delete_event(second_id)
        self.sync()
        self.assertEqual(len(self.odoo_days(base)), 3)

        first = base.recurrence_id.calendar_event_ids.sorted("start")[:1]
        later = first.start + timedelta(hours=1)
        first.with_user(self.user_a).write(
            {"start": later, "stop": later + timedelta(minutes=15), "recurrence_update": "all_events"}
        )
        [base] = self.account.sudo().link_ids.filtered("remote_id").event_id
        self.assertEqual(self.odoo_days(base), self.days, "Odoo re-created the occurrence")
        self.mails()
        self.sync()
        self.assertEqual([day for day, _ in self.outlook_days(master["id"])], self.days, "and Outlook has it again")
        self.assertEqual(self.master().get("cancelledOccurrences", []), [])
        self.assertEqual(self.mails(), [("update", CAROL), ("update", DAVE)], "one update of the series each")
        self.assert_idle()
