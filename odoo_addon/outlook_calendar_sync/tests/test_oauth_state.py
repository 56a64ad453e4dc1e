import base64
import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..models.outlook_sync_auth_request import InvalidState, safe_return_url
from .common import OutlookSyncCase


@tagged("post_install", "-at_install")
class TestOAuthState(OutlookSyncCase):
    def setUp(self):
        super().setUp()
        self.Requests = self.env["outlook.sync.auth.request"].with_user(self.user_a)

    def start(self, session="session-a", return_url="/odoo/calendar"):
        state, record = self.Requests._make_state(session, return_url)
        record._set_verifier("verifier-a")
        return state

    def test_round_trip_returns_verifier_once(self):
        state = self.start(return_url="/odoo/calendar?view=week")
        self.assertEqual(self.Requests._consume_state(state, "session-a"), ("verifier-a", "/odoo/calendar?view=week"))
        with self.assertRaisesRegex(InvalidState, "replayed"):
            self.Requests._consume_state(state, "session-a")

    def test_verifier_never_in_state(self):
        state = self.start()
        payload = state.split(".")[0]
        self.assertNotIn("verifier", base64.urlsafe_b64decode(payload + "==").decode())

    def test_forged_signature_refused(self):
        state = self.start()
        payload, signature = state.split(".")
        with self.assertRaisesRegex(InvalidState, "signature"):
            self.Requests._consume_state(f"{payload}.{'0' * len(signature)}", "session-a")
        with self.assertRaisesRegex(InvalidState, "signature"):
            self.Requests._consume_state(payload, "session-a")
        with self.assertRaisesRegex(InvalidState, "signature"):
            self.Requests._consume_state(None, "session-a")
        with self.assertRaisesRegex(InvalidState, "signature"):
            self.Requests._consume_state(f"{payload}.é{signature[1:]}", "session-a")

    def test_tampered_payload_refused(self):
        state = self.start()
        payload, signature = state.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["u"] = self.user_b.id
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        with self.assertRaisesRegex(InvalidState, "signature"):
            self.Requests.with_user(self.user_b)._consume_state(f"{forged}.{signature}", "session-a")

    def test_other_users_state_refused(self):
        state = self.start()
        with self.assertRaisesRegex(InvalidState, "user"):
            self.Requests.with_user(self.user_b)._consume_state(state, "session-a")

    def test_other_session_refused_and_consumed(self):
        state = self.start()
        with self.assertRaisesRegex(InvalidState, "session"):
            self.Requests._consume_state(state, "session-b")
        with self.assertRaisesRegex(InvalidState, "replayed"):
            self.Requests._consume_state(state, "session-a")

    def test_expired_state_refused(self):
        state = self.start()
        record = self.env["outlook.sync.auth.request"].search([("user_id", "=", self.user_a.id)])
        record.write({"expires_at": fields.Datetime.now() - timedelta(seconds=1)})
        with self.assertRaisesRegex(InvalidState, "expired"):
            self.Requests._consume_state(state, "session-a")

    def test_state_without_verifier_refused(self):
        state, _record = self.Requests._make_state("session-a", "/odoo/calendar")
        with self.assertRaisesRegex(InvalidState, "incomplete"):
            self.Requests._consume_state(state, "session-a")

    def test_session_id_not_stored(self):
        self.start(session="very-secret-session-id")
        record = self.env["outlook.sync.auth.request"].search([("user_id", "=", self.user_a.id)])
        self.assertNotIn("very-secret-session-id", record.session_hash)

    def test_only_local_return_urls(self):
        for url in (
            "https://evil.example.com/x",
            "//evil.example.com/x",
            "/\\evil.example.com",
            "javascript:alert(1)",
            "odoo/calendar",
            "",
            None,
            "/ok\r\nSet-Cookie: x=1",
        ):
            self.assertEqual(safe_return_url(url), "/odoo/calendar", url)
        self.assertEqual(safe_return_url("/odoo/calendar?view=week"), "/odoo/calendar?view=week")
        state = self.start(return_url="https://evil.example.com/")
        self.assertEqual(self.Requests._consume_state(state, "session-a")[1], "/odoo/calendar")
