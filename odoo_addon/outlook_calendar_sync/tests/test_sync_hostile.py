"""Hostile and broken input from Outlook, through a whole sync into Odoo: bad items are reported, the rest goes on,
and no script reaches an Odoo page."""

from datetime import datetime, timedelta

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import EmulatorCase

ALICE = "alice@example.com"


def graph_event(subject, start, **extra):
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        **extra,
    }


@tagged("post_install", "-at_install")
class TestSyncHostile(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.start = (datetime.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
        self.account = self.emulator_account(self.user_a)

    def events_named(self, prefix):
        return self.env["calendar.event"].search([("name", "=like", f"{prefix}%")])

    def test_hostile_events_are_made_safe_or_reported_and_the_rest_syncs(self):
        attendees = [
            {"emailAddress": {"address": f"guest{i}@crowd.example", "name": f"Guest {i}"}, "type": "required"}
            for i in range(496)
        ]
        attendees += [
            {"emailAddress": {"address": "GUEST1@crowd.example", "name": "Guest 1 again"}, "type": "required"},
            {"emailAddress": {"address": "not an address", "name": "Odd"}, "type": "optional"},
            {"emailAddress": {"address": "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=X"}},
            {"emailAddress": {"name": "No address at all"}, "type": "resource"},
        ]
        body = (
            '<html><body><p onclick="steal()">Agenda</p><script>alert(document.cookie)</script>'
            '<img src="https://tracker.example/pixel.gif" width="1" height="1">'
            '<a href="javascript:alert(1)">link</a><iframe src="https://evil.example"></iframe></body></html>'
        )
        self.emulator.seed(
            ALICE,
            [
                graph_event("Hostile body", self.start, body={"contentType": "html", "content": body}),
                graph_event("Crowd", self.start + timedelta(hours=2), attendees=attendees),
                graph_event("Long " + "x" * 100_000, self.start + timedelta(hours=4)),
                graph_event("Far past", datetime(1900, 1, 1, 9)),
                graph_event("Far future", datetime(2200, 1, 1, 9)),
                graph_event("Plain", self.start + timedelta(hours=6)),
            ],
        )
        log = self.account._run_sync()
        self.assertIn(log.status, ("success", "partial"), log.message)
        self.assertTrue(self.events_named("Plain"), "good events sync whatever else is in the mailbox")
        [hostile] = self.events_named("Hostile body")
        description = str(hostile.description or "")
        self.assertIn("Agenda", description)
        for needle in ("<script", "onclick", "javascript:", "<iframe", "tracker.example"):
            self.assertNotIn(needle, description.lower())
        [crowd] = self.events_named("Crowd")
        emails = crowd.partner_ids.mapped("email_normalized")
        self.assertEqual(len([e for e in emails if e and e.endswith("@crowd.example")]), 496, "duplicates merged")
        self.assertEqual(len(self.events_named("Long ")), 1)
        # Nothing of this comes back to Outlook as an edit, and a second run is idle.
        self.emulator.clear_requests()
        again = self.account._run_sync()
        self.assertEqual((again.outlook_updated, again.outlook_created), (0, 0), again.message)
        self.assertEqual(self.emulator.outbox(), [])

    def test_a_nul_character_in_a_title_is_dropped(self):
        self.emulator.seed(ALICE, [graph_event("Nul\x00 title", self.start)])
        log = self.account._run_sync()
        self.assertEqual(log.status, "success", log.message)
        self.assertTrue(self.events_named("Nul title"))
        self.assertEqual(self.account._run_sync().outlook_updated, 0, "and Outlook's title is left as it is")

    def test_an_event_odoo_refuses_fails_alone(self):
        # As a customization might: a rule in the database that refuses some events.
        self.env.cr.execute(
            "ALTER TABLE calendar_event ADD CONSTRAINT test_refuse_forbidden CHECK (name NOT LIKE 'Forbidden%')"
        )
        self.emulator.seed(
            ALICE,
            [
                graph_event("Before", self.start),
                graph_event("Forbidden meeting", self.start + timedelta(hours=1)),
                graph_event("After", self.start + timedelta(hours=2)),
            ],
        )
        with mute_logger("odoo.sql_db"):
            log = self.account._run_sync()
        self.assertEqual(log.status, "partial", log.message)
        self.assertEqual(log.odoo_created, 2, log.message)
        self.assertIn("Forbidden meeting", log.message)
        self.assertTrue(self.events_named("Before") and self.events_named("After"))
        with mute_logger("odoo.sql_db"):
            again = self.account._run_sync()
        self.assertEqual(again.odoo_created, 0, again.message)
        self.assertIn("Forbidden meeting", again.message, "the refused event is tried again, and said again")
