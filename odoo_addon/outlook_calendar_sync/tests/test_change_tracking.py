from odoo.tests import tagged

from ..models.calendar_event import APPLYING_CONTEXT_KEY
from .common import OutlookSyncCase


@tagged("post_install", "-at_install")
class TestChangeTracking(OutlookSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account_a = cls.connected_account(cls.user_a)
        cls.account_b = cls.connected_account(cls.user_b)
        cls.cron = cls.env.ref("outlook_calendar_sync.ir_cron_outlook_sync")

    def links(self, event):
        return self.env["outlook.sync.link"].search([("event_id", "=", event.id)])

    def triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def test_create_marks_organizer_and_attendees_and_triggers_cron(self):
        before = self.triggers()
        event = self.event(self.user_a, partners=self.user_a.partner_id | self.user_b.partner_id)
        links = self.links(event)
        self.assertEqual(links.account_id, self.account_a | self.account_b)
        self.assertTrue(all(links.mapped("dirty")))
        self.assertTrue(self.account_a.dirty and self.account_b.dirty)
        self.assertGreater(self.triggers(), before)

    def test_unrelated_write_does_not_mark(self):
        event = self.event(self.user_a)
        self.links(event).write({"dirty": False})
        event.write({"res_id": 0})
        self.assertFalse(self.links(event).dirty)
        event.write({"name": "Renamed"})
        self.assertTrue(self.links(event).dirty)

    def test_stopped_or_unconnected_accounts_do_not_track(self):
        self.account_b.action_stop()
        user_c = self.env["res.users"].create({"name": "Carol", "login": "ocs_carol", "email": "c@example.com"})
        event = self.event(self.user_a, partners=self.user_a.partner_id | self.user_b.partner_id | user_c.partner_id)
        self.assertEqual(self.links(event).account_id, self.account_a)

    def test_changes_applied_from_outlook_are_not_echoed(self):
        event = self.event(self.user_a)
        self.links(event).write({"dirty": False})
        event.with_context(**{APPLYING_CONTEXT_KEY: True}).write({"name": "From Outlook"})
        self.assertFalse(self.links(event).dirty)

    def test_pause_keeps_accumulating(self):
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.paused", "True")
        event = self.event(self.user_a)
        self.links(event).write({"dirty": False})
        event.write({"name": "Edited while paused"})
        self.assertTrue(self.links(event).dirty)
        self.Account._cron_sync_all()
        self.assertTrue(self.links(event).dirty)
        self.assertFalse(self.env["outlook.sync.log"].search([("account_id", "=", self.account_a.id)]))

    def test_delete_leaves_tombstones_for_synced_copies(self):
        event = self.event(self.user_a, partners=self.user_a.partner_id | self.user_b.partner_id)
        links = self.links(event)
        links.filtered(lambda link: link.account_id == self.account_a).write(
            {"remote_id": "AAMk-a", "ical_uid": "uid-1", "dirty": False}
        )
        event_id = event.id
        event.with_user(self.user_a).unlink()
        tombstones = self.env["outlook.sync.tombstone"].search([("odoo_event_id", "=", event_id)])
        # Alice's names her copy. Bob's link never reached Outlook, as far as Odoo knows: his tombstone has no Outlook
        # id, for the copy a killed run may have made (recognised by its transactionId).
        self.assertEqual(tombstones.account_id, self.account_a | self.account_b)
        by_account = {tombstone.account_id: tombstone for tombstone in tombstones}
        self.assertEqual(by_account[self.account_a].remote_id, "AAMk-a")
        self.assertFalse(by_account[self.account_b].remote_id)
        self.assertEqual(tombstones.mapped("name"), ["Meeting", "Meeting"])
        self.assertFalse(self.links(event).exists())

    def test_delete_of_a_synced_event_leaves_no_tombstone_for_an_idle_unlinked_mailbox(self):
        event = self.event(self.user_a, partners=self.user_a.partner_id | self.user_b.partner_id)
        self.links(event).filtered(lambda link: link.account_id == self.account_b).write({"dirty": False})
        event_id = event.id
        event.with_user(self.user_a).unlink()
        tombstones = self.env["outlook.sync.tombstone"].search([("odoo_event_id", "=", event_id)])
        self.assertEqual(tombstones.account_id, self.account_a, "no run is due for Bob's link: nothing to look for")

    def test_gather_local_incremental_and_full(self):
        first = self.event(self.user_a, name="First")
        second = self.event(self.user_a, name="Second", partners=self.user_a.partner_id | self.user_b.partner_id)
        self.account_a.write({"full_sync_needed": False, "delta_state": "{}"})
        self.links(first).write({"dirty": False})
        local = self.account_a._gather_local()
        self.assertEqual(local["kind"], "delta")
        self.assertEqual([item["values"]["id"] for item in local["changed"]], [second.id])
        values = local["changed"][0]["values"]
        self.assertEqual(values["name"], "Second")
        self.assertTrue(values["is_organizer"])
        self.assertEqual(values["organizer_email"], "alice@example.com")
        # The organizer is not an attendee of their own copy, as in Outlook.
        self.assertEqual([a["email"] for a in values["attendees"]], ["bob@example.com"])
        self.assertTrue(local["changed"][0]["modified_at"])
        self.account_a.full_sync_needed = True
        full = self.account_a._gather_local()
        self.assertEqual(full["kind"], "full")
        self.assertEqual({item["values"]["id"] for item in full["events"]}, {first.id, second.id})
