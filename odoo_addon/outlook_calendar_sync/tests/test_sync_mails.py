"""The seed's behaviours end to end: Odoo writes, a sync run, and the mails Outlook sends (the emulator's outbox)."""

from datetime import datetime, timedelta

from odoo.addons.mail.tests.common import MockEmail
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ALICE, CAROL, DAVE, EmulatorCase, GuestsCase


@tagged("post_install", "-at_install")
class TestSyncMails(GuestsCase):
    def setUp(self):
        super().setUp()
        self.account = self.emulator_account(self.user_a)
        first = self.account._run_sync()
        self.assertEqual(first.status, "success", first.message)
        self.emulator.clear_outbox()

    def mails(self, kind=None):
        """(kind, recipient) of every mail Outlook sent since the last call."""
        mails = [(mail["kind"], mail["to"].lower()) for mail in self.emulator.outbox()]
        self.emulator.clear_outbox()
        return sorted(mail for mail in mails if kind is None or mail[0] == kind)

    def meeting(self, partners, **values):
        start = datetime.now().replace(microsecond=0, second=0) + timedelta(days=3)
        return (
            self.env["calendar.event"]
            .with_user(self.user_a)
            .create(
                {
                    "name": "Quarterly review",
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "partner_ids": [(6, 0, (self.user_a.partner_id | partners).ids)],
                    **values,
                }
            )
        )

    def outlook_copies(self):
        return [event for event in self.emulator.events(ALICE) if not event.get("isCancelled")]

    def test_create_sends_one_invitation_per_attendee(self):
        self.meeting(self.carol | self.dave)
        log = self.sync()
        self.assertEqual(log.outlook_created, 1)
        self.assertEqual(self.mails(), [("invitation", CAROL), ("invitation", DAVE)])
        self.assertEqual(log.mail_count, 2, "the log counts the mails Outlook sends")
        [copy] = self.outlook_copies()
        self.assertEqual(copy["subject"], "Quarterly review")

    def test_delete_sends_cancellations(self):
        event = self.meeting(self.carol | self.dave)
        self.sync()
        self.mails()
        event.unlink()
        log = self.sync()
        self.assertEqual(log.outlook_deleted, 1)
        self.assertEqual(self.mails(), [("cancellation", CAROL), ("cancellation", DAVE)])
        self.assertEqual(self.outlook_copies(), [])

    def test_archive_cancels_and_unarchive_invites_again(self):
        event = self.meeting(self.carol)
        self.sync()
        self.mails()
        event.active = False
        self.sync()
        self.assertEqual(self.mails(), [("cancellation", CAROL)])
        event.active = True
        self.sync()
        self.assertEqual(self.mails(), [("invitation", CAROL)])
        self.assertEqual(len(self.outlook_copies()), 1)

    def test_added_attendee_is_invited_alone_and_removed_one_cancelled_alone(self):
        event = self.meeting(self.carol)
        self.sync()
        self.mails()
        event.partner_ids = [(4, self.dave.id)]
        self.sync()
        self.assertEqual(self.mails(), [("invitation", DAVE)])
        event.partner_ids = [(3, self.carol.id)]
        self.sync()
        self.assertEqual(self.mails(), [("cancellation", CAROL)])

    def test_nothing_changed_mails_no_one_and_costs_one_request(self):
        self.meeting(self.carol | self.dave)
        self.sync()
        self.mails()
        self.emulator.clear_requests()
        log = self.sync()
        self.assertEqual(self.mails(), [])
        self.assertEqual(self.emulator.requests()["total"], 1, "an idle run reads one delta page and writes nothing")
        self.assertEqual((log.outlook_created, log.outlook_updated, log.outlook_deleted), (0, 0, 0))

    def test_a_full_pass_with_nothing_changed_writes_nothing(self):
        self.meeting(self.carol)
        self.sync()
        self.mails()
        self.account.sudo().full_sync_needed = True
        log = self.sync()
        self.assertTrue(log.full_pass)
        self.assertEqual((log.outlook_created, log.outlook_updated, log.odoo_updated), (0, 0, 0), log.message)
        self.assertEqual(self.mails(), [])

    def test_meeting_field_change_sends_updates(self):
        event = self.meeting(self.carol)
        self.sync()
        self.mails()
        event.start += timedelta(hours=2)
        event.stop += timedelta(hours=2)
        self.sync()
        self.assertEqual(self.mails(), [("update", CAROL)])
        self.assertEqual(self.sync().outlook_updated, 0, "the change was carried over once")

    def test_changes_made_during_a_global_pause_are_sent_when_it_resumes(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("outlook_calendar_sync.paused", "True")
        self.meeting(self.carol, name="Planned while paused")
        self.Account._cron_sync_all()
        self.assertEqual(self.outlook_copies(), [], "paused: nothing leaves Odoo")
        self.assertTrue(self.account.dirty, "the change stays queued")
        params.set_param("outlook_calendar_sync.paused", False)
        self.Account._cron_sync_all()
        self.assertEqual([copy["subject"] for copy in self.outlook_copies()], ["Planned while paused"])
        self.assertEqual(self.mails(), [("invitation", CAROL)])
        self.assertFalse(self.account.dirty)

    def test_preview_says_what_would_happen_and_writes_nothing(self):
        self.meeting(self.carol | self.dave)
        self.emulator.clear_requests()
        action = self.user_a.with_user(self.admin).action_outlook_sync_preview()
        message = action["params"]["message"]
        self.assertIn("would create 1, update 0 and delete 0 event(s) in Outlook", message)
        self.assertIn("Outlook would send 2 invitation(s)", message)
        self.assertEqual(self.outlook_copies(), [], "a preview writes nothing")
        self.assertEqual(self.mails(), [])
        self.assertTrue(self.account.dirty, "the change is still queued for the real run")
        self.assertEqual(self.sync().outlook_created, 1)

    def test_preview_of_another_users_account_is_refused_to_non_admins(self):
        with self.assertRaises(AccessError):
            self.user_a.with_user(self.user_b).action_outlook_sync_preview()


@tagged("post_install", "-at_install")
class TestOdooOwnMails(MockEmail, EmulatorCase):
    """Odoo's calendar mails attendees itself; while Outlook does it for a synced organizer, Odoo must not."""

    def setUp(self):
        super().setUp()
        self.carol = self.env["res.partner"].create({"name": "Carol", "email": CAROL})
        self.account = self.emulator_account(self.user_a)

    def invite_carol(self):
        start = datetime.now().replace(microsecond=0) + timedelta(days=3)
        with self.mock_mail_gateway():
            event = (
                self.env["calendar.event"]
                .with_user(self.user_a)
                .create(
                    {
                        "name": "Odoo or Outlook?",
                        "start": start,
                        "stop": start + timedelta(hours=1),
                        "partner_ids": [(6, 0, (self.user_a.partner_id | self.carol).ids)],
                    }
                )
            )
        return event, self._new_mails.filtered(lambda mail: self.carol in mail.recipient_ids)

    def test_odoo_sends_no_invitation_of_its_own_when_outlook_does(self):
        event, mails = self.invite_carol()
        self.assertFalse(mails, "Outlook invites Carol; Odoo must not as well")
        self.account._run_sync()
        self.assertEqual([mail["to"] for mail in self.emulator.outbox()], [CAROL], "exactly one invitation")
        with self.mock_mail_gateway():
            event.unlink()
        self.assertFalse(self._new_mails.filtered(lambda mail: self.carol in mail.recipient_ids))

    def test_odoo_mails_again_once_the_user_stops_syncing(self):
        self.account.action_stop()
        _event, mails = self.invite_carol()
        self.assertTrue(mails, "without Outlook, Odoo's own invitation is the only one")
