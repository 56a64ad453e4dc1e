"""The OAuth callback under attack, through the real routes, with our emulator as Microsoft's identity platform.

Every refusal must show plain words, store nothing, and never echo the code, the state, the PKCE verifier, the
client secret or a token.
"""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from outlook_sync.emulator import Emulator

from .common import CLIENT_SECRET, configure, connect_with_emulator
from .security_common import assert_no_secret, capture_logs

NO_LONGER_VALID = "This sign-in link is no longer valid"
HOSTILE_RETURN_URLS = (
    "//evil.example.com/x",
    "https://evil.example.com/x",
    "javascript:alert(document.cookie)",
    "/\\evil.example.com",
    "http:evil.example.com",
    "/odoo\r\nLocation: https://evil.example.com",
)


@tagged("post_install", "-at_install")
class TestOAuthCallbackAttacks(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        configure(cls.env, cls.emulator.url)
        cls.alice = new_test_user(cls.env, login="oauth_alice", email="oauth.alice@example.com")
        cls.bob = new_test_user(cls.env, login="oauth_bob", email="oauth.bob@example.com")

    def setUp(self):
        super().setUp()
        self.emulator.reset()
        self.secrets = {
            "client secret": CLIENT_SECRET,
            # The key that signs the state.
            "database secret": self.env["ir.config_parameter"].sudo().get_param("database.secret"),
        }

    # -- the flow ---------------------------------------------------------------------------------------------
    def start(self, login="oauth_alice", redirect="/odoo/calendar"):
        """Open the connect route and consent at the emulator; returns the callback URL Microsoft sends back to.

        The code, the state, its signature and the PKCE verifier join the secrets no answer may contain.
        """
        self.authenticate(login, login)
        response = self.url_open(
            f"/outlook_calendar_sync/connect?{urlencode({'redirect': redirect})}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        authorize = response.headers["Location"]
        consent = self.opener.get(authorize, allow_redirects=False, timeout=10)
        self.assertIn(consent.status_code, (302, 303), consent.text[:500])
        callback = consent.headers["Location"]
        query = parse_qs(urlsplit(callback).query)
        state = query["state"][0]
        self.pending = self.env["outlook.sync.auth.request"].search(
            [("user_id.login", "=", login)], order="id desc", limit=1
        )
        self.assertTrue(self.pending.code_verifier)
        self.secrets.update(
            {
                "state": state,
                "state signature": state.split(".")[1],
                "PKCE verifier": self.pending.code_verifier,
            }
        )
        if "code" in query:
            self.secrets["authorization code"] = query["code"][0]
        # The way to Microsoft carries the challenge, never the verifier nor the secret.
        assert_no_secret(self, authorize + response.text, self.without("state", "state signature"), "connect")
        return callback

    def without(self, *names):
        return {name: value for name, value in self.secrets.items() if name not in names}

    def callback(self, **params):
        return f"{self.base_url()}/microsoft_account/authentication?{urlencode(params)}"

    def open(self, url):
        """The callback's answer, checked for secrets (body and headers)."""
        response = self.url_open(url, allow_redirects=False)
        assert_no_secret(self, response.text + json.dumps(dict(response.headers)), self.secrets, f"the answer to {url}")
        return response

    # -- what must hold after a refusal ---------------------------------------------------------------------
    def assertPlainRefusal(self, response, words):
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertIn("o_outlook_sync_auth_result", response.text)
        self.assertIn(words, response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertNoLeakingHeaders(response)

    def assertNoLeakingHeaders(self, response):
        """The callback URL (code, state) stays in the address bar: no Referer may carry it away, no cache keep it."""
        self.assertEqual(response.headers.get("Referrer-Policy"), "no-referrer")
        self.assertIn("no-store", response.headers.get("Cache-Control", ""))

    def assertNothingLinked(self, *users):
        self.env.invalidate_all()
        for user in users:
            account = self.env["outlook.sync.account"].search([("user_id", "=", user.id)])
            self.assertFalse(account.access_token or account.refresh_token, f"tokens stored for {user.login}")
            self.assertNotEqual(account.state, "connected", user.login)

    def assertConnects(self, url, user):
        response = self.open(url)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertNoLeakingHeaders(response)
        self.env.invalidate_all()
        account = self.env["outlook.sync.account"].search([("user_id", "=", user.id)])
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.mailbox, user.email)
        return response

    # -- forged, missing, replayed, expired, stolen ---------------------------------------------------------
    def test_forged_or_missing_state_refused_and_code_left_unredeemed(self):
        genuine = self.start()
        code, state = self.secrets["authorization code"], self.secrets["state"]
        payload, signature = state.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["u"] = self.bob.id
        other_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        forgeries = {
            "bad signature": f"{payload}.{signature[::-1]}",
            "no signature": payload,
            "payload of another user": f"{other_payload}.{signature}",
            "garbage": "%00<script>alert(1)</script>",
        }
        for name, forged in forgeries.items():
            with self.subTest(name):
                self.assertPlainRefusal(self.open(self.callback(code=code, state=forged)), NO_LONGER_VALID)
        with self.subTest("missing"):
            self.assertPlainRefusal(self.open(self.callback(code=code)), NO_LONGER_VALID)
            self.assertPlainRefusal(self.open(self.callback(code=code, state="")), NO_LONGER_VALID)
        self.assertNothingLinked(self.alice, self.bob)
        # None of those attempts spent the single-use code: the genuine callback still completes.
        self.assertConnects(genuine, self.alice)

    def test_state_spent_by_an_error_cannot_be_replayed_with_a_code(self):
        genuine = self.start()
        refused = self.open(self.callback(state=self.secrets["state"], error="access_denied"))
        self.assertPlainRefusal(refused, "You did not give Odoo access")
        self.assertPlainRefusal(self.open(genuine), NO_LONGER_VALID)
        self.assertNothingLinked(self.alice)

    def test_expired_state_refused(self):
        genuine = self.start()
        self.pending.write({"expires_at": fields.Datetime.now() - timedelta(seconds=1)})
        self.assertPlainRefusal(self.open(genuine), NO_LONGER_VALID)
        self.assertFalse(self.pending.exists())
        self.assertNothingLinked(self.alice)

    def test_state_of_another_session_refused(self):
        genuine = self.start()
        self.authenticate("oauth_alice", "oauth_alice")  # the same user, another browser
        self.assertPlainRefusal(self.open(genuine), NO_LONGER_VALID)
        self.assertNothingLinked(self.alice)

    def test_another_users_flow_links_nothing_even_to_a_connected_victim(self):
        bob = connect_with_emulator(self.env, self.emulator, self.bob)
        bob_tokens = (bob.sudo().access_token, bob.sudo().refresh_token)
        self.secrets.update({"Bob's access token": bob_tokens[0], "Bob's refresh token": bob_tokens[1]})
        alices_flow = self.start()
        self.authenticate("oauth_bob", "oauth_bob")
        self.assertPlainRefusal(self.open(alices_flow), NO_LONGER_VALID)
        self.assertNothingLinked(self.alice)
        bob.invalidate_recordset()
        self.assertEqual((bob.sudo().access_token, bob.sudo().refresh_token), bob_tokens)
        self.assertNotEqual(bob.mailbox, self.alice.email)

    # -- where the callback sends the browser ---------------------------------------------------------------
    def test_never_returns_to_another_host_or_scheme(self):
        host = urlsplit(self.base_url()).netloc
        for hostile in HOSTILE_RETURN_URLS:
            with self.subTest(hostile):
                self.emulator.reset()
                response = self.assertConnects(self.start(redirect=hostile), self.alice)
                target = urlsplit(response.headers["Location"])
                self.assertIn(target.netloc, ("", host))
                self.assertEqual((target.path, target.query), ("/odoo/calendar", "outlook_sync=connected"))
                # The refusal page's way back is local too.
                self.emulator.oauth(deny_consent=True)
                page = self.open(self.start(redirect=hostile))
                self.assertPlainRefusal(page, "You did not give Odoo access")
                self.assertIn('href="/odoo/calendar"', page.text)
                self.assertNotIn("evil.example.com", page.text)
                self.assertNotIn("javascript:", page.text)

    # -- PKCE -----------------------------------------------------------------------------------------------
    def test_wrong_pkce_verifier_rejected_by_microsoft(self):
        genuine = self.start()
        wrong = "w" * 43 + self.secrets["PKCE verifier"][43:]
        self.pending.write({"code_verifier": wrong})
        with capture_logs() as logs:
            response = self.open(genuine)
        self.assertPlainRefusal(response, "The sign-in expired or was already used")
        # The emulator, like Microsoft, refused the exchange for this reason (AADSTS501481).
        self.assertIn("AADSTS501481", logs.text())
        assert_no_secret(self, logs.text(), self.secrets, "the server log")
        self.assertNothingLinked(self.alice)

    def test_missing_pkce_verifier_refused(self):
        genuine = self.start()
        self.pending.write({"code_verifier": False})
        self.assertPlainRefusal(self.open(genuine), NO_LONGER_VALID)
        self.assertNothingLinked(self.alice)

    # -- Microsoft says no ----------------------------------------------------------------------------------
    def test_failures_at_microsoft_in_plain_words_without_secrets(self):
        cases = {
            "refused consent": ({"deny_consent": True}, "You did not give Odoo access"),
            "wrong client secret": ({"client_secret": "the-secret-azure-expects"}, "client secret is wrong"),
            "expired client secret": ({"secret_expired": True}, "client secret is wrong"),
            "expired code": ({"fail_next_token": "invalid_grant"}, "The sign-in expired or was already used"),
            "invalid client": ({"fail_next_token": "invalid_client"}, "client secret is wrong"),
        }
        for name, (knobs, words) in cases.items():
            with self.subTest(name):
                self.emulator.reset()
                self.emulator.oauth(**knobs)
                self.assertPlainRefusal(self.open(self.start()), words)
                self.assertNothingLinked(self.alice)

    def test_error_details_from_microsoft_are_escaped(self):
        self.start()
        response = self.open(
            self.callback(
                state=self.secrets["state"],
                error="server_error",
                error_description="<script>alert('x')</script> AADSTS50000",
            )
        )
        self.assertPlainRefusal(response, "Microsoft refused the sign-in (server_error)")
        self.assertNotIn("<script>alert", response.text)
        self.assertIn("&lt;script&gt;", response.text)
        self.assertNothingLinked(self.alice)

    # -- not signed in to Odoo, or not an internal user -----------------------------------------------------
    def test_signed_out_browser_gets_a_plain_page_without_its_code(self):
        genuine = self.start()
        self.authenticate(None, None)
        response = self.open(genuine)
        self.assertPlainRefusal(response, "You are not signed in to Odoo")
        self.assertNothingLinked(self.alice)

    def test_portal_user_refused(self):
        new_test_user(self.env, login="oauth_portal", groups="base.group_portal")
        genuine = self.start()
        self.authenticate("oauth_portal", "oauth_portal")
        self.assertEqual(self.open(genuine).status_code, 403)
        self.assertNothingLinked(self.alice)
        self.assertFalse(self.env["outlook.sync.account"].search([("user_id.login", "=", "oauth_portal")]))
