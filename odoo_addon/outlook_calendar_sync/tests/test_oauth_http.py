from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from outlook_sync.emulator import Emulator

from .common import configure


@tagged("post_install", "-at_install")
class TestOAuthRoundTrip(HttpCase):
    """The sign-in through the real routes, with our emulator standing in for Microsoft's identity platform."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        configure(cls.env, cls.emulator.url)
        cls.user = new_test_user(cls.env, login="ocs_web", password="ocs_web_pw", email="web@example.com")
        cls.other = new_test_user(cls.env, login="ocs_other", password="ocs_other_pw", email="other@example.com")

    def setUp(self):
        super().setUp()
        self.emulator.reset()

    def start(self, login="ocs_web"):
        """Log in, open the connect route and return Microsoft's (the emulator's) answer: the callback URL."""
        self.authenticate(login, f"{login}_pw")
        response = self.url_open("/outlook_calendar_sync/connect?redirect=/odoo/calendar", allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        authorize = response.headers["Location"]
        self.assertTrue(authorize.startswith(f"{self.emulator.url}/common/oauth2/v2.0/authorize?"), authorize)
        query = parse_qs(urlsplit(authorize).query)
        self.assertEqual(query["login_hint"], [self.env["res.users"].search([("login", "=", login)]).email])
        self.assertEqual(query["code_challenge_method"], ["S256"])
        self.assertNotIn("code_verifier", query)
        self.assertEqual(query["redirect_uri"], [f"{self.base_url()}/microsoft_account/authentication"])
        consent = self.opener.get(authorize, allow_redirects=False, timeout=10)
        self.assertIn(consent.status_code, (302, 303), consent.text[:500])
        callback = consent.headers["Location"]
        self.assertTrue(callback.startswith(f"{self.base_url()}/microsoft_account/authentication?"), callback)
        return callback

    def account(self, user):
        return self.env["outlook.sync.account"].sudo().search([("user_id", "=", user.id)])

    def test_connect_stores_tokens(self):
        callback = self.start()
        response = self.url_open(callback, allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(response.headers["Location"].endswith("/odoo/calendar?outlook_sync=connected"))
        account = self.account(self.user)
        self.assertEqual(account.state, "connected")
        self.assertTrue(account.access_token)
        self.assertTrue(account.refresh_token)
        self.assertEqual(account.mailbox, "web@example.com")
        self.assertNotIn(account.access_token, response.text)
        self.assertFalse(self.env["outlook.sync.auth.request"].sudo().search([("user_id", "=", self.user.id)]))

    def test_replayed_callback_refused(self):
        callback = self.start()
        self.url_open(callback, allow_redirects=False)
        again = self.url_open(callback)
        self.assertEqual(again.status_code, 200)
        self.assertIn("no longer valid", again.text)

    def test_callback_of_another_user_refused(self):
        callback = self.start()
        self.authenticate("ocs_other", "ocs_other_pw")
        response = self.url_open(callback)
        self.assertIn("no longer valid", response.text)
        self.assertFalse(self.account(self.other).access_token if self.account(self.other) else False)
        self.assertFalse(self.account(self.user))

    def test_refused_consent_in_plain_words(self):
        self.emulator.oauth(deny_consent=True)
        response = self.url_open(self.start())
        self.assertEqual(response.status_code, 200)
        self.assertIn("You did not give Odoo access to your Outlook calendar", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertFalse(self.account(self.user))

    def test_wrong_client_secret_in_plain_words(self):
        self.emulator.oauth(client_secret="the-real-secret")
        response = self.url_open(self.start())
        self.assertIn("client secret is wrong or has expired", response.text)
        self.assertNotIn("the-real-secret", response.text)
        self.assertFalse(self.account(self.user))

    def test_expired_code_in_plain_words(self):
        callback = self.start()
        self.emulator.oauth(fail_next_token="invalid_grant")
        response = self.url_open(callback)
        self.assertIn("The sign-in expired or was already used", response.text)
        self.assertFalse(self.account(self.user))

    def test_portal_users_cannot_connect(self):
        new_test_user(self.env, login="ocs_portal_web", password="ocs_portal_web_pw", groups="base.group_portal")
        self.authenticate("ocs_portal_web", "ocs_portal_web_pw")
        response = self.url_open("/outlook_calendar_sync/connect", allow_redirects=False)
        self.assertEqual(response.status_code, 403)

    def test_connect_requires_setup(self):
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.enabled", "False")
        self.authenticate("ocs_web", "ocs_web_pw")
        response = self.url_open("/outlook_calendar_sync/connect")
        self.assertIn("An administrator must set up Outlook Calendar", response.text)
