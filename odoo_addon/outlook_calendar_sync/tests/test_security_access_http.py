"""Access rules as an attacker meets them: real JSON-RPC calls through Odoo's HTTP server, as an internal user
who targets a colleague, as a portal user and as an anonymous visitor."""

import secrets
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .common import CLIENT_SECRET, configure
from .security_common import JsonRpcMixin, assert_no_secret

ACCESS = "odoo.exceptions.AccessError"
ADDON_MODELS = (
    "outlook.sync.account",
    "outlook.sync.log",
    "outlook.sync.link",
    "outlook.sync.tombstone",
    "outlook.sync.auth.request",
    "outlook.sync.reset.wizard",
)
TOKEN_FIELDS = ("access_token", "refresh_token", "token_expires_at", "delta_state")


@tagged("post_install", "-at_install")
class TestAccessOverHttp(JsonRpcMixin, HttpCase):
    """Alice (internal, allowed to export) attacks Bob's connection; a portal user and a visitor try everything."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        configure(cls.env)
        cls.alice = new_test_user(
            cls.env, login="sec_alice", email="sec.alice@example.com", groups="base.group_user,base.group_allow_export"
        )
        cls.bob = new_test_user(cls.env, login="sec_bob", email="sec.bob@example.com")
        cls.admin = new_test_user(cls.env, login="sec_admin", groups="base.group_user,base.group_system")
        cls.portal = new_test_user(cls.env, login="sec_portal", groups="base.group_portal", email="sec.p@example.com")
        cls.secrets = {"client secret": CLIENT_SECRET}
        Account = cls.env["outlook.sync.account"]
        cls.accounts = {}
        for user in (cls.alice, cls.bob):
            name = user.login
            values = {
                "access_token": f"{name}-access-{secrets.token_urlsafe(16)}",
                "refresh_token": f"{name}-refresh-{secrets.token_urlsafe(16)}",
                "delta_state": f'{{"delta":"{name}-delta-{secrets.token_urlsafe(16)}"}}',
            }
            account = Account._for_user(user).sudo()
            account.write(
                {
                    **values,
                    "state": "connected",
                    "mailbox": user.email,
                    "token_expires_at": datetime.now() + timedelta(hours=1),
                }
            )
            cls.accounts[user] = account
            cls.secrets.update(
                {
                    f"{name}'s access token": values["access_token"],
                    f"{name}'s refresh token": values["refresh_token"],
                    f"{name}'s delta state": values["delta_state"][10:-2],
                }
            )
        bob_account = cls.accounts[cls.bob]
        cls.alice_log = cls.env["outlook.sync.log"].create(
            {
                "account_id": cls.accounts[cls.alice].id,
                "started_at": "2026-11-01 10:00:00",
                "trigger": "cron",
                "status": "success",
            }
        )
        cls.env["outlook.sync.log"].create(
            {"account_id": bob_account.id, "started_at": "2026-11-01 10:00:00", "trigger": "cron", "status": "success"}
        )
        start = datetime(2026, 12, 1, 9, 0)
        event = cls.env["calendar.event"].create(
            {
                "name": "Bob's meeting",
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": cls.bob.id,
                "partner_ids": [(6, 0, cls.bob.partner_id.ids)],
            }
        )
        # A status record of Bob's (creating the event may have queued one already).
        Link = cls.env["outlook.sync.link"]
        link = Link.search([("account_id", "=", bob_account.id), ("event_id", "=", event.id)])
        (link or Link.create({"account_id": bob_account.id, "event_id": event.id})).remote_id = "AAMk1"
        cls.env["outlook.sync.tombstone"].create({"account_id": bob_account.id, "remote_id": "AAMk2", "name": "Gone"})
        pending = cls.env["outlook.sync.auth.request"].with_user(cls.bob)._make_state("bob-session", "/odoo")[1]
        verifier = f"bob-verifier-{secrets.token_urlsafe(32)}"
        pending._set_verifier(verifier)
        cls.secrets["Bob's PKCE verifier"] = verifier
        cls.wizard = cls.env["outlook.sync.reset.wizard"].create(
            {"user_id": cls.bob.id, "delete_policy": "delete_both"}
        )
        cls.prepared_settings = (
            cls.env["res.config.settings"]
            .with_user(cls.admin)
            .create({"outlook_sync_paused": True, "outlook_sync_enabled": False})
        )

    def setUp(self):
        super().setUp()
        self.answers = []

    def tearDown(self):
        # Whatever was refused or answered, no answer of the server carried a secret.
        for index, text in enumerate(self.answers):
            assert_no_secret(self, text, self.secrets, f"HTTP answer #{index}")
        super().tearDown()

    def refused(self, model, method, args=(), expected=ACCESS, **kwargs):
        self.answers.append(self.assertRpcRefused(model, method, args, expected, **kwargs))

    def answered(self, model, method, args=(), **kwargs):
        result, error, text = self.call_kw(model, method, args, **kwargs)
        self.answers.append(text)
        self.assertIsNone(error, f"{model}.{method} failed: {text[:300]}")
        return result

    def assertUntouched(self, user):
        account = self.accounts[user]
        account.invalidate_recordset()
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.access_token, self.secrets[f"{user.login}'s access token"])
        self.assertEqual(account.refresh_token, self.secrets[f"{user.login}'s refresh token"])

    # -- an internal user and the tokens --------------------------------------------------------------------
    def test_tokens_unreadable_through_every_reading_rpc(self):
        self.authenticate("sec_alice", "sec_alice")
        Account = "outlook.sync.account"
        for user in (self.alice, self.bob):
            ids = self.accounts[user].ids
            for field in TOKEN_FIELDS:
                with self.subTest(account=user.login, field=field):
                    self.refused(Account, "read", [ids, [field]])
                    self.refused(Account, "search_read", [[("id", "in", ids)]], fields=[field])
                    self.refused(Account, "web_read", [ids], specification={field: {}})
                    self.refused(Account, "web_search_read", [[("id", "in", ids)]], specification={field: {}})
                    self.refused(Account, "export_data", [ids, [field]])
                    self.refused(Account, "read_group", [[], [field], [field]])
                    # A domain or an order on a token would be an oracle, one character at a time.
                    self.refused(Account, "search", [[(field, "!=", False)]])
                    self.refused(Account, "search", [[]], order=f"{field} desc")
                    self.refused("outlook.sync.log", "search_read", [[(f"account_id.{field}", "!=", False)]])
            # Through a relation: Alice's own sync log, then its account's tokens.
            self.refused("outlook.sync.log", "export_data", [self.alice_log.ids, ["account_id/refresh_token"]])
            self.refused(
                "outlook.sync.log",
                "web_read",
                [self.alice_log.ids],
                specification={"account_id": {"fields": {"access_token": {}}}},
            )
            self.refused(Account, "read_group", [[], ["access_token:array_agg"], ["user_id"]])
            self.refused("res.users", "read", [user.ids, ["outlook_sync_account_ids"]])
            self.refused("res.users", "search", [[("outlook_sync_account_ids.access_token", "!=", False)]])
        # What Alice may read of her own connection comes without any token, whatever the form asks.
        own = self.answered(Account, "read", [self.accounts[self.alice].ids])
        self.assertEqual([row["state"] for row in own], ["connected"])
        self.assertFalse(set(TOKEN_FIELDS) & set(own[0]))
        status = self.answered(Account, "get_outlook_status")
        self.assertEqual(status["state"], "connected")
        self.answered(Account, "fields_get")

    def test_other_users_records_invisible(self):
        self.authenticate("sec_alice", "sec_alice")
        bob_account = self.accounts[self.bob]
        self.assertEqual(self.answered("outlook.sync.account", "search", [[]]), self.accounts[self.alice].ids)
        self.refused("outlook.sync.account", "read", [bob_account.ids, ["state"]])
        self.refused("outlook.sync.account", "web_read", [bob_account.ids], specification={"mailbox": {}})
        logs = self.answered("outlook.sync.log", "search_read", [[]], fields=["account_id"])
        self.assertEqual([log["id"] for log in logs], self.alice_log.ids)
        self.assertEqual(self.answered("outlook.sync.link", "search_read", [[]], fields=["remote_id"]), [])
        for model in ("outlook.sync.tombstone", "outlook.sync.auth.request", "outlook.sync.reset.wizard"):
            self.refused(model, "search_read", [[]])

    # -- an internal user and someone else's sync -----------------------------------------------------------
    def test_cannot_stop_restart_sync_or_reset_someone_else(self):
        self.authenticate("sec_alice", "sec_alice")
        bob = self.accounts[self.bob].ids
        for method in ("action_stop", "action_restart", "action_sync_now", "action_preview_sync"):
            self.refused("outlook.sync.account", method, [bob])
        # The user form's buttons, called on Bob (the preview reads Bob's Outlook calendar).
        self.refused("res.users", "action_outlook_sync_preview", [self.bob.ids])
        self.refused("outlook.sync.account", "write", [bob, {"state": "stopped"}])
        self.refused("outlook.sync.account", "write", [self.accounts[self.alice].ids, {"user_id": self.bob.id}])
        self.refused("outlook.sync.account", "unlink", [bob])
        self.refused("outlook.sync.account", "create", [{"user_id": self.bob.id}])
        # Reset Account, the wizard an administrator prepared included.
        self.refused("outlook.sync.reset.wizard", "create", [{"user_id": self.bob.id, "delete_policy": "delete_both"}])
        self.refused("outlook.sync.reset.wizard", "action_confirm", [self.wizard.ids])
        self.assertUntouched(self.bob)
        self.assertEqual(len(self.accounts[self.bob].link_ids), 1)

    def test_cannot_pause_or_switch_off_everyone(self):
        self.authenticate("sec_alice", "sec_alice")
        self.refused("ir.config_parameter", "set_param", ["outlook_calendar_sync.paused", "True"])
        self.refused("ir.config_parameter", "create", [{"key": "outlook_calendar_sync.paused", "value": "True"}])
        self.refused("res.config.settings", "create", [{"outlook_sync_paused": True}])
        # A settings record an administrator prepared (pause on, addon off) but did not save.
        self.refused("res.config.settings", "execute", [self.prepared_settings.ids])
        # set_values is public and Odoo does not check it: on no record, it would write every setting as empty.
        self.refused("res.config.settings", "set_values", [[]])
        self.refused("res.config.settings", "set_values", [self.prepared_settings.ids])
        # The config model has no public method: everything on it is private, hence unreachable over RPC.
        self.refused("outlook.sync.config", "_is_paused")
        self.env["ir.config_parameter"].invalidate_model()
        config = self.env["outlook.sync.config"]
        self.assertFalse(config._is_paused())
        self.assertTrue(config._is_configured())
        self.assertEqual(config._param("client_secret"), CLIENT_SECRET)

    def test_cannot_resume_everyone(self):
        configure(self.env, paused="True")
        self.authenticate("sec_alice", "sec_alice")
        self.refused("ir.config_parameter", "set_param", ["outlook_calendar_sync.paused", False])
        self.refused("res.config.settings", "create", [{"outlook_sync_paused": False}])
        self.refused("res.config.settings", "set_values", [[]])
        self.env["ir.config_parameter"].invalidate_model()
        self.assertTrue(self.env["outlook.sync.config"]._is_paused())

    def test_cannot_read_the_client_secret(self):
        self.authenticate("sec_alice", "sec_alice")
        self.refused("ir.config_parameter", "get_param", ["outlook_calendar_sync.client_secret"])
        self.refused("ir.config_parameter", "search_read", [[("key", "like", "outlook_calendar_sync")]])
        # Odoo reads settings for default_get (and the form's onchange) with elevated rights.
        self.refused("res.config.settings", "default_get", [["outlook_sync_client_secret"]])
        self.refused("res.config.settings", "onchange", [[], {}, [], {"outlook_sync_client_secret": {}}])
        self.refused("res.config.settings", "read", [self.prepared_settings.ids, ["outlook_sync_client_secret"]])
        self.refused("outlook.sync.config", "_param", ["client_secret"])
        self.refused("outlook.sync.config", "_graph_config")
        fields = self.answered("res.config.settings", "fields_get")
        self.assertNotIn("outlook_sync_client_secret", fields)

    # -- an administrator still can (the rules above are not merely "nobody") ------------------------------
    def test_administrator_manages_bob(self):
        self.authenticate("sec_admin", "sec_admin")
        self.assertEqual(self.answered("outlook.sync.account", "action_stop", [self.accounts[self.bob].ids]), True)
        self.accounts[self.bob].invalidate_recordset()
        self.assertEqual(self.accounts[self.bob].state, "stopped")

    def test_administrator_reads_and_saves_the_settings(self):
        self.authenticate("sec_admin", "sec_admin")
        # (Not kept for the secrets check: an administrator is the one who may read the secret.)
        values, error, _text = self.call_kw("res.config.settings", "default_get", [["outlook_sync_client_secret"]])
        self.assertIsNone(error)
        self.assertEqual(values["outlook_sync_client_secret"], CLIENT_SECRET)
        settings_id, error, _text = self.call_kw("res.config.settings", "create", [{"outlook_sync_paused": True}])
        self.assertIsNone(error)
        _result, error, text = self.call_kw("res.config.settings", "execute", [[settings_id]])
        self.assertIsNone(error, text[:500])
        self.env["ir.config_parameter"].invalidate_model()
        self.assertTrue(self.env["outlook.sync.config"]._is_paused())
        self.assertEqual(self.env["outlook.sync.config"]._param("client_secret"), CLIENT_SECRET)

    # -- portal users and anonymous visitors ----------------------------------------------------------------
    def test_portal_user_gets_nothing(self):
        self.authenticate("sec_portal", "sec_portal")
        for model in ADDON_MODELS:
            with self.subTest(model=model):
                self.refused(model, "search_read", [[]])
                self.refused(model, "read", [[1]])
        # Field descriptions are public in Odoo (not data), but not those of the tokens.
        fields = self.answered("outlook.sync.account", "fields_get")
        self.assertFalse(set(TOKEN_FIELDS) & set(fields))
        for method in (
            "get_outlook_status",
            "action_sync_my_calendar",
            "action_stop_my_sync",
            "action_restart_my_sync",
        ):
            self.refused("outlook.sync.account", method)
        self.refused("outlook.sync.account", "action_stop", [self.accounts[self.bob].ids])
        self.refused("res.users", "action_outlook_sync_preview", [self.bob.ids])
        self.refused("res.users", "read", [self.bob.ids, ["outlook_sync_state", "outlook_sync_last_error"]])
        self.refused("res.config.settings", "default_get", [["outlook_sync_client_secret"]])
        self.refused("res.config.settings", "set_values", [[]])
        connect = self.url_open("/outlook_calendar_sync/connect", allow_redirects=False)
        self.assertEqual(connect.status_code, 403)
        callback = self.url_open("/microsoft_account/authentication?code=abc&state=def", allow_redirects=False)
        self.assertEqual(callback.status_code, 403)
        self.answers += [connect.text, callback.text]
        self.assertFalse(self.env["outlook.sync.account"].search([("user_id", "=", self.portal.id)]))
        self.assertFalse(self.env["outlook.sync.auth.request"].search([("user_id", "=", self.portal.id)]))
        self.assertUntouched(self.bob)

    def test_anonymous_visitor_gets_nothing(self):
        self.authenticate(None, None)
        for model in ADDON_MODELS:
            with self.subTest(model=model):
                self.refused(model, "search_read", [[]], expected="odoo.http.SessionExpiredException")
        self.refused("outlook.sync.account", "get_outlook_status", expected="odoo.http.SessionExpiredException")
        connect = self.url_open("/outlook_calendar_sync/connect", allow_redirects=False)
        self.assertEqual(connect.status_code, 303)
        self.assertTrue(connect.headers["Location"].split("?")[0].endswith("/web/login"), connect.headers["Location"])
        self.answers.append(connect.text)
        public = self.env.ref("base.public_user")
        self.assertFalse(self.env["outlook.sync.account"].search([("user_id", "=", public.id)]))
        self.assertFalse(self.env["outlook.sync.auth.request"].search([("user_id", "=", public.id)]))
