"""Hostile and broken input from Outlook, through a whole sync into Odoo: bad items are reported, the rest goes on,
and no script reaches an Odoo page."""

from datetime import datetime, timedelta

from odoo.tests import tagged

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
