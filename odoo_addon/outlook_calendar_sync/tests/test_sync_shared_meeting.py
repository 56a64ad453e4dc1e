"""Several synced users, one meeting: one Odoo event, linked to each mailbox's copy, whoever syncs first."""

from datetime import datetime, timedelta

from odoo.tests import tagged

from .common import EmulatorCase

ALICE = "alice@example.com"
BOB = "bob@example.com"


@tagged("post_install", "-at_install")
class TestSharedMeeting(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.alice = self.emulator_account(self.user_a)
        self.bob = self.emulator_account(self.user_b)
        for account in self.alice | self.bob:
            self.assertEqual(account._run_sync().status, "success")
        self.emulator.clear_outbox()

    def sync(self, account):
        log = account._run_sync()
        self.assertEqual(log.status, "success", log.message)
        return log

    def meeting(self):
        start = datetime.now().replace(microsecond=0, second=0) + timedelta(days=3)
        return (
            self.env["calendar.event"]
            .with_user(self.user_a)
            .create(
                {
                    "name": "Roadmap",
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "partner_ids": [(6, 0, (self.user_a.partner_id | self.user_b.partner_id).ids)],
                }
            )
        )

    def copies(self, mailbox):
        return [event for event in self.emulator.events(mailbox) if event["subject"] == "Roadmap"]

    def assert_one_meeting_everywhere(self, event):
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Roadmap")]), 1)
        self.assertEqual(len(self.copies(ALICE)), 1)
        self.assertEqual(len(self.copies(BOB)), 1)
        self.assertTrue(self.copies(ALICE)[0]["isOrganizer"])
        self.assertFalse(self.copies(BOB)[0]["isOrganizer"], "Bob's copy is the invitation, not a meeting of his")
        links = self.env["outlook.sync.link"].search([("event_id", "=", event.id)])
        self.assertEqual(links.account_id, self.alice | self.bob)
        self.assertEqual(set(links.mapped("remote_id")), {self.copies(ALICE)[0]["id"], self.copies(BOB)[0]["id"]})
        self.assertEqual(len(set(links.mapped("ical_uid"))), 1, "one meeting, one iCalUId")
        invitations = [mail for mail in self.emulator.outbox() if mail["kind"] == "invitation"]
        self.assertEqual([mail["to"] for mail in invitations], [BOB], "one invitation, from the organizer")

    def test_organizer_syncs_first(self):
        event = self.meeting()
        self.sync(self.alice)
        self.sync(self.bob)
        self.assert_one_meeting_everywhere(event)
        # Nothing left to do for either.
        for account in self.alice | self.bob:
            log = self.sync(account)
            self.assertEqual((log.outlook_created, log.odoo_created, log.outlook_updated), (0, 0, 0), log.message)

    def test_attendee_syncs_first(self):
        event = self.meeting()
        self.sync(self.bob)
        self.assertEqual(self.copies(BOB), [], "an attendee's mailbox never organizes the meeting")
        self.sync(self.alice)
        self.sync(self.bob)
        self.assert_one_meeting_everywhere(event)

    def test_attendee_deleting_their_copy_declines_and_leaves_the_meeting_to_the_others(self):
        event = self.meeting()
        self.sync(self.alice)
        self.sync(self.bob)
        self.emulator.clear_outbox()
        self.outlook_client(BOB).delete_event(self.copies(BOB)[0]["id"])
        self.sync(self.bob)
        self.assertTrue(event.exists(), "Alice's meeting is not Bob's to delete")
        bob = event.attendee_ids.filtered(lambda a: a.partner_id == self.user_b.partner_id)
        self.assertEqual(bob.state, "declined")
        self.sync(self.alice)
        self.assertEqual(len(self.copies(ALICE)), 1)
        self.assertEqual(self.emulator.outbox(), [], "nobody is mailed about Bob tidying his calendar")

    def test_attendee_answer_in_odoo_reaches_the_organizer(self):
        event = self.meeting()
        self.sync(self.alice)
        self.sync(self.bob)
        self.emulator.clear_outbox()
        event.attendee_ids.filtered(lambda a: a.partner_id == self.user_b.partner_id).with_user(self.user_b).do_accept()
        log = self.sync(self.bob)
        self.assertEqual([(m["kind"], m["to"]) for m in self.emulator.outbox()], [("response", ALICE)], log.message)
        organizer_copy = self.copies(ALICE)[0]
        [bob_there] = [a for a in organizer_copy["attendees"] if a["emailAddress"]["address"] == BOB]
        self.assertEqual(bob_there["status"]["response"], "accepted")
