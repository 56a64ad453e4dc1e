"""No token, client secret, authorization code or PKCE verifier in any log record, sync log, error shown to the user,
HTTP answer or Outlook button answer: a real connection and real syncs, succeeding and failing, with every log
record of the process captured at DEBUG."""

import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from outlook_sync.emulator import Emulator

from .common import configure, connect_with_emulator
from .security_common import JsonRpcMixin, assert_no_secret, capture_logs

LOGIN = "leak_carol"


@tagged("post_install", "-at_install")
class TestSecretsNeverLeak(JsonRpcMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        cls.client_secret = f"client-secret-{secrets.token_urlsafe(24)}"
        configure(cls.env, cls.emulator.url, client_secret=cls.client_secret)
        cls.user = new_test_user(cls.env, login=LOGIN, email="leak.carol@example.com")

    def setUp(self):
        super().setUp()
        self.emulator.reset()
        # The emulator checks the secret, as Azure does.
        self.emulator.oauth(client_secret=self.client_secret)
        self.secrets = {"client secret": self.client_secret}
        self.answers = {}

    # -- helpers ----------------------------------------------------------------------------------------------
    def account(self):
        self.env.invalidate_all()
        return self.env["outlook.sync.account"].search([("user_id", "=", self.user.id)])

    def remember_tokens(self, label):
        """The account's current tokens join the secrets (tokens rotate: every generation is kept)."""
        account = self.account()
        self.secrets[f"access token ({label})"] = account.access_token
        self.secrets[f"refresh token ({label})"] = account.refresh_token

    def answer(self, label, response):
        self.answers[label] = response.text + json.dumps(dict(response.headers))
        return response

    def rpc(self, label, model, method, args=(), **kwargs):
        result, error, text = self.call_kw(model, method, args, **kwargs)
        self.answers[label] = text
        self.assertIsNone(error, text[:500])
        return result

    def expire_access_token(self):
        """The next run must refresh: the stored expiry is past and the emulator no longer takes the token."""
        self.account().sudo().write({"token_expires_at": datetime.now() - timedelta(minutes=5)})
        self.emulator.expire_tokens()

    @staticmethod
    def soon(days):
        return (datetime.now() + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)

    def seed_remote_event(self, subject):
        start = self.soon(2)
        self.emulator.seed(
            self.user.email,
            [
                {
                    "subject": subject,
                    "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                    "end": {"dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                }
            ],
        )

    def event_for_outlook(self, name):
        start = self.soon(3)
        self.env["calendar.event"].with_user(self.user).create(
            {
                "name": name,
                "start": start,
                "stop": start + timedelta(hours=1),
                "partner_ids": [(6, 0, self.user.partner_id.ids)],
            }
        )

    def assertNoSecretAnywhere(self, logs):
        """The secrets are in no log record, no sync log, no error kept on the account, no HTTP answer."""
        assert_no_secret(self, logs.text(), self.secrets, "the server log")
        account = self.account()
        for log in account.log_ids:
            assert_no_secret(self, log.message or "", self.secrets, f"sync log {log.id}")
        for name in ("last_error", "last_summary", "mailbox"):
            assert_no_secret(self, account[name] or "", self.secrets, f"the account's {name}")
        for label, text in self.answers.items():
            assert_no_secret(self, text, self.secrets, f"the answer to {label}")

    # -- the tests --------------------------------------------------------------------------------------------
    def test_connection_and_syncs_leak_nothing(self):
        self.seed_remote_event("From Outlook")
        with capture_logs() as logs:
            self.authenticate(LOGIN, LOGIN)
            connect = self.answer("connect", self.url_open("/outlook_calendar_sync/connect", allow_redirects=False))
            consent = self.opener.get(connect.headers["Location"], allow_redirects=False, timeout=10)
            callback = consent.headers["Location"]
            query = parse_qs(urlsplit(callback).query)
            pending = self.env["outlook.sync.auth.request"].search([("user_id", "=", self.user.id)])
            self.secrets.update({"authorization code": query["code"][0], "PKCE verifier": pending.code_verifier})
            done = self.answer("callback", self.url_open(callback, allow_redirects=False))
            self.assertEqual(done.status_code, 303, done.text[:500])
            self.remember_tokens("consent")
            self.assertEqual(self.account().state, "connected")

            self.event_for_outlook("From Odoo")
            status = self.rpc("first sync", "outlook.sync.account", "action_sync_my_calendar")
            self.assertEqual(status["state"], "connected", status)
            self.assertIn("From Outlook", self.env["calendar.event"].search([]).mapped("name"))
            self.assertIn("From Odoo", [event["subject"] for event in self.emulator.events(self.user.email)])

            self.expire_access_token()
            status = self.rpc("sync after expiry", "outlook.sync.account", "action_sync_my_calendar")
            self.assertEqual(status["state"], "connected", status)
            self.remember_tokens("refreshed")
            self.assertNotEqual(self.secrets["refresh token (refreshed)"], self.secrets["refresh token (consent)"])
            self.rpc("button", "outlook.sync.account", "get_outlook_status")
            self.rpc("sync log", "outlook.sync.log", "search_read", [[]], fields=["message", "status"])
        # The request line of the callback was logged, with its code and state masked.
        self.assertIn("/microsoft_account/authentication?code=***&state=***", logs.text())
        self.assertNoSecretAnywhere(logs)

    def test_failed_syncs_leak_nothing(self):
        connect_with_emulator(self.env, self.emulator, self.user, mailbox=self.user.email)
        self.remember_tokens("issued")
        with capture_logs() as logs:
            self.authenticate(LOGIN, LOGIN)
            # Azure expects another secret than the one configured (it was rotated there): invalid_client.
            self.emulator.oauth(client_secret=f"rotated-in-azure-{secrets.token_urlsafe(16)}")
            self.expire_access_token()
            status = self.rpc("sync, wrong secret", "outlook.sync.account", "action_sync_my_calendar")
            self.assertEqual(status["state"], "error", status)
            self.assertIn("secret", status["error"])
            # The preview (a dry run) reports the same failure to the browser in words, without the secret.
            _result, _error, text = self.call_kw("outlook.sync.account", "action_preview_sync", [self.account().ids])
            self.answers["preview, wrong secret"] = text
            self.assertIn("client secret wrong or expired", text)
            # The secret is right again, but the user revoked the consent: invalid_grant.
            self.emulator.oauth(client_secret=self.client_secret, revoke_mailbox=self.user.email)
            status = self.rpc("sync, revoked", "outlook.sync.account", "action_sync_my_calendar")
            self.assertEqual(status["state"], "reconnect", status)
            self.assertTrue(status["error"])
            self.rpc("button", "outlook.sync.account", "get_outlook_status")
            logs_seen = self.rpc("sync log", "outlook.sync.log", "search_read", [[]], fields=["message", "status"])
            self.assertEqual([log["status"] for log in logs_seen], ["failed", "failed"])
            # What an administrator sees on the user's form.
            self.authenticate("admin", "admin")
            self.rpc(
                "user form",
                "res.users",
                "read",
                [self.user.ids, ["outlook_sync_state", "outlook_sync_last_error", "outlook_sync_mailbox"]],
            )
        self.assertNoSecretAnywhere(logs)
