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

    def test_delete_from_microsoft_needs_the_users_connection(self):
        self.account._disconnect()
        self.account.sudo().write({"state": "not_connected"})
        self.env["outlook.sync.link"].create(
            {"account_id": self.account.id, "event_id": self.single.id, "remote_id": self.single_id}
        )
        with self.assertRaisesRegex(UserError, "not connected"):
            self.reset("delete_microsoft")
        self.assertEqual(self.remote_subjects(), ["Single", "Weekly"])
