from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import EmulatorCase

SINGLE = {
    "subject": "Single",
    "start": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
}
SERIES = {
    "subject": "Weekly",
    "start": {"dateTime": "2026-12-02T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
    "recurrence": {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"]},
        "range": {"type": "numbered", "startDate": "2026-12-02", "numberOfOccurrences": 3},
    },
}


@tagged("post_install", "-at_install")
class TestResetWizard(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.account = self.emulator_account(self.user_a)
        self.single_id, self.master_id = self.emulator.seed("alice@example.com", [SINGLE, SERIES])
        self.single = self.event(self.user_a, name="Single")
        self.occurrences = self.event(self.user_a, name="Weekly 1") | self.event(self.user_a, name="Weekly 2")
        self.attended = self.event(self.user_b, name="Bob's", partners=self.user_a.partner_id | self.user_b.partner_id)
        Link = self.env["outlook.sync.link"]
        Link.search(
            [("account_id", "=", self.account.id), ("event_id", "=", self.single.id)]
        ).remote_id = self.single_id
        for index, event in enumerate(self.occurrences):
            Link.search([("account_id", "=", self.account.id), ("event_id", "=", event.id)]).write(
                {"remote_id": f"occurrence-{index}", "series_master_id": self.master_id}
            )
        self.emulator.clear_requests()

    def reset(self, delete_policy, sync_policy="new"):
        wizard = (
            self.env["outlook.sync.reset.wizard"]
            .with_user(self.admin)
            .create({"user_id": self.user_a.id, "delete_policy": delete_policy, "sync_policy": sync_policy})
        )
        return wizard.action_confirm()

    def remote_subjects(self):
        return sorted(event["subject"] for event in self.emulator.events("alice@example.com"))

    def assert_disconnected(self, mode):
        account = self.account.sudo()
        self.assertEqual(account.state, "not_connected")
        self.assertFalse(account.access_token or account.refresh_token)
        self.assertFalse(account.link_ids)
        self.assertTrue(account.full_sync_needed)
        self.assertEqual(account.next_sync_mode, mode)
        self.assertEqual(bool(account.sync_from), mode == "new")

    def test_options_and_labels(self):
        fields = self.env["outlook.sync.reset.wizard"].fields_get(["delete_policy", "sync_policy"])
        self.assertEqual(fields["delete_policy"]["string"], "User's Existing Events")
        self.assertEqual(
            [label for _value, label in fields["delete_policy"]["selection"]],
            [
                "Leave them untouched",
                "Delete from the current Microsoft Calendar account",
                "Delete from Odoo",
                "Delete from both",
            ],
        )
        self.assertEqual(fields["sync_policy"]["string"], "Next Synchronization")
        self.assertEqual(
            [label for _value, label in fields["sync_policy"]["selection"]],
            ["Synchronize only new events", "Synchronize all existing events"],
        )

    def test_leave_untouched(self):
        self.reset("dont_delete", "all")
        self.assertTrue((self.single | self.occurrences | self.attended).exists())
        self.assertEqual(self.remote_subjects(), ["Single", "Weekly"])
        self.assertEqual(self.emulator.requests()["total"], 0)
        self.assert_disconnected("all")

    def test_delete_from_odoo(self):
        self.reset("delete_odoo")
        self.assertFalse((self.single | self.occurrences).exists())
        self.assertTrue(self.attended.exists(), "events the user only attends are not theirs to delete")
        self.assertFalse(self.env["outlook.sync.tombstone"].search([]), "Outlook is left alone")
        self.assertEqual(self.remote_subjects(), ["Single", "Weekly"])
        self.assert_disconnected("new")

    def test_delete_from_odoo_still_cleans_attendees_mailboxes(self):
        bob = self.emulator_account(self.user_b)
        self.single.partner_ids |= self.user_b.partner_id
        self.env["outlook.sync.link"].search([("account_id", "=", bob.id), ("event_id", "=", self.single.id)]).write(
            {"remote_id": "copy-in-bobs-mailbox"}
        )
        self.reset("delete_odoo")
        tombstones = self.env["outlook.sync.tombstone"].search([])
        self.assertEqual(tombstones.account_id, bob)
        self.assertEqual(tombstones.remote_id, "copy-in-bobs-mailbox")

    def test_delete_from_microsoft_uses_target_tokens_and_series_master(self):
        self.reset("delete_microsoft")
        self.assertEqual(self.remote_subjects(), [])
        self.assertTrue((self.single | self.occurrences).exists())
        counters = self.emulator.requests()
        self.assertEqual(set(counters["by_mailbox"]), {"alice@example.com"})
        self.assert_disconnected("new")

    def test_delete_from_both(self):
        self.reset("delete_both", "all")
        self.assertEqual(self.remote_subjects(), [])
        self.assertFalse((self.single | self.occurrences).exists())
        self.assertTrue(self.attended.exists())
        self.assert_disconnected("all")

    def test_outlook_refusing_a_deletion_changes_nothing_and_keeps_the_rotated_token(self):
        account = self.account.sudo()
        old_refresh = account.refresh_token
        account.token_expires_at = datetime.now() - timedelta(minutes=5)
        self.emulator.expire_tokens("alice@example.com")
        self.emulator.oauth(strict_rotation=True)  # a used refresh token is dead
        self.emulator.fault("error", count=5, status=500, method="DELETE")
        action = self.reset("delete_both")
        # Returned, not raised: the request's transaction commits the token Microsoft rotated.
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("nothing was changed in Odoo", action["params"]["message"])
        self.assertNotIn(account.refresh_token, action["params"]["message"])
        self.assertNotEqual(account.refresh_token, old_refresh, "the rotated token is stored")
        self.assertTrue((self.single | self.occurrences).exists(), "nothing deleted in Odoo")
        self.assertEqual(account.state, "connected", "and the account is not reset")

    def test_delete_from_microsoft_needs_the_users_connection(self):
        self.account._disconnect()
        self.account.sudo().write({"state": "not_connected"})
        self.env["outlook.sync.link"].create(
            {"account_id": self.account.id, "event_id": self.single.id, "remote_id": self.single_id}
        )
        with self.assertRaisesRegex(UserError, "not connected"):
            self.reset("delete_microsoft")
        self.assertEqual(self.remote_subjects(), ["Single", "Weekly"])


@tagged("post_install", "-at_install")
class TestResetThenSync(EmulatorCase):
    """Reset Account with real syncs before and after: every option does what its label says, series included."""

    MAILBOX = "alice@example.com"

    def setUp(self):
        super().setUp()
        self.carol = self.env["res.partner"].create({"name": "Carol", "email": "carol@partner.example"})
        self.account = self.emulator_account(self.user_a)
        start = datetime.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=2)
        Event = self.env["calendar.event"].with_user(self.user_a)
        self.meeting = Event.create(
            {
                "name": "Kick-off",
                "start": start,
                "stop": start + timedelta(hours=1),
                "partner_ids": [(6, 0, (self.user_a.partner_id | self.carol).ids)],
            }
        )
        self.series = Event.create(
            {
                "name": "Weekly",
                "start": start + timedelta(hours=3),
                "stop": start + timedelta(hours=4),
                "recurrency": True,
                "rrule_type": "weekly",
                "interval": 1,
                "end_type": "count",
                "count": 3,
                (start + timedelta(hours=3)).strftime("%a").lower(): True,
            }
        )
        self.emulator.seed(
            self.MAILBOX,
            [
                {
                    "subject": "Made in Outlook",
                    "start": {"dateTime": (start + timedelta(days=1)).isoformat(), "timeZone": "UTC"},
                    "end": {"dateTime": (start + timedelta(days=1, hours=1)).isoformat(), "timeZone": "UTC"},
                }
            ],
        )
        self.sync()
        self.assertEqual(self.remote_subjects(), ["Kick-off", "Made in Outlook", "Weekly"])
        self.assertEqual(self.odoo_subjects(), ["Kick-off", "Made in Outlook", "Weekly"])
        self.emulator.clear_outbox()

    def reset_and_reconnect(self, delete_policy, sync_policy):
        wizard = (
            self.env["outlook.sync.reset.wizard"]
            .with_user(self.admin)
            .create({"user_id": self.user_a.id, "delete_policy": delete_policy, "sync_policy": sync_policy})
        )
        wizard.action_confirm()
        self.assertEqual(self.account.state, "not_connected")
        self.emulator_account(self.user_a)
        return self.sync()

    def remote_subjects(self):
        return sorted(event["subject"] for event in self.emulator.events(self.MAILBOX))

    def odoo_subjects(self):
        events = self.env["calendar.event"].search([("partner_ids", "in", self.user_a.partner_id.ids)])
        return sorted({event.name for event in events})

    def test_leave_untouched_and_synchronize_all_matches_instead_of_duplicating(self):
        log = self.reset_and_reconnect("dont_delete", "all")
        self.assertEqual((log.outlook_created, log.odoo_created), (0, 0), log.message)
        self.assertEqual(self.remote_subjects(), ["Kick-off", "Made in Outlook", "Weekly"])
        self.assertEqual(len(self.series.recurrence_id.calendar_event_ids), 3)
        self.assertEqual(self.emulator.outbox(), [], "matching existing events mails no one")

    def test_delete_from_odoo_and_only_new_events_does_not_bring_them_back(self):
        log = self.reset_and_reconnect("delete_odoo", "new")
        self.assertFalse((self.meeting | self.series).exists())
        self.assertEqual(log.odoo_created, 0, log.message)
        self.assertEqual(self.odoo_subjects(), [], "everything the user organizes, series included")
        self.assertEqual(self.remote_subjects(), ["Kick-off", "Made in Outlook", "Weekly"], "Outlook left alone")
        self.assertEqual(self.emulator.outbox(), [])
        # New events flow again. (create_date is the transaction's start, and a test is one transaction: the reset
        # moment is moved before it, as it is before any later transaction in real use.)
        self.account.sudo().sync_from -= timedelta(hours=1)
        start = datetime.now().replace(microsecond=0) + timedelta(days=5)
        self.env["calendar.event"].with_user(self.user_a).create(
            {"name": "After the reset", "start": start, "stop": start + timedelta(hours=1)}
        )
        self.assertEqual(self.sync().outlook_created, 1)

    def test_delete_from_microsoft_cancels_once_per_meeting_and_keeps_odoo(self):
        log = self.reset_and_reconnect("delete_microsoft", "new")
        self.assertTrue((self.meeting | self.series).exists())
        self.assertEqual(len(self.series.recurrence_id.calendar_event_ids), 3)
        self.assertEqual(self.remote_subjects(), [])
        self.assertEqual(self.odoo_subjects(), ["Kick-off", "Made in Outlook", "Weekly"])
        self.assertEqual(
            sorted((mail["kind"], mail["to"]) for mail in self.emulator.outbox()),
            [("cancellation", "carol@partner.example")],
        )
        self.assertEqual((log.outlook_created, log.odoo_deleted), (0, 0), log.message)

    def test_delete_from_both_removes_series_on_both_sides(self):
        log = self.reset_and_reconnect("delete_both", "all")
        self.assertFalse((self.meeting | self.series).exists())
        self.assertEqual(self.remote_subjects(), [])
        self.assertEqual(self.odoo_subjects(), [])
        self.assertEqual((log.outlook_created, log.odoo_created), (0, 0), log.message)
