from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OutlookSyncCase


@tagged("post_install", "-at_install")
class TestAccess(OutlookSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account_a = cls.connected_account(cls.user_a)
        cls.account_b = cls.connected_account(cls.user_b, access_token="bob-at", refresh_token="bob-rt")
        cls.env["outlook.sync.log"].create(
            [
                {"account_id": account.id, "started_at": "2026-11-01 10:00:00", "trigger": "cron", "status": "success"}
                for account in (cls.account_a, cls.account_b)
            ]
        )

    def test_user_sees_only_own_account_and_log(self):
        Account = self.Account.with_user(self.user_a)
        self.assertEqual(Account.search([]), self.account_a)
        self.assertEqual(self.env["outlook.sync.log"].with_user(self.user_a).search([]).account_id, self.account_a)
        with self.assertRaises(AccessError):
            Account.browse(self.account_b.id).read(["state"])

    def test_user_cannot_read_tokens_even_own(self):
        account = self.Account.with_user(self.user_a).browse(self.account_a.id)
        self.assertEqual(account.state, "connected")
        for field in ("access_token", "refresh_token", "token_expires_at", "delta_state"):
            with self.assertRaises(AccessError):
                account.read([field])
        self.assertNotIn("access_token", account.get_outlook_status())
        self.assertNotIn("rt", str(account.get_outlook_status().values()))

    def test_user_cannot_write_accounts_directly(self):
        with self.assertRaises(AccessError):
            self.Account.with_user(self.user_a).browse(self.account_a.id).write({"state": "stopped"})

    def test_user_stops_and_restarts_own_sync(self):
        self.Account.with_user(self.user_a).action_stop_my_sync()
        self.assertEqual(self.account_a.state, "stopped")
        self.Account.with_user(self.user_a).action_restart_my_sync()
        self.assertEqual(self.account_a.state, "connected")
        self.assertTrue(self.account_a.full_sync_needed)

    def test_user_cannot_stop_or_restart_someone_else(self):
        self.account_b.action_stop()  # as superuser, to test restart too
        # Even with record rules bypassed, the action itself checks who acts.
        other = self.Account.with_user(self.user_a).browse(self.account_b.id).sudo()
        with self.assertRaises(AccessError):
            other.action_restart()
        self.account_b.action_restart()
        with self.assertRaises(AccessError):
            other.action_stop()
        with self.assertRaises(AccessError):
            other.action_sync_now()
        self.assertEqual(self.account_b.state, "connected")

    def test_user_cannot_reset_anyone(self):
        with self.assertRaises(AccessError):
            self.env["outlook.sync.reset.wizard"].with_user(self.user_a).create({"user_id": self.user_a.id})
        wizard = self.env["outlook.sync.reset.wizard"].create({"user_id": self.user_b.id})
        with self.assertRaises(AccessError):
            wizard.with_user(self.user_a).action_confirm()
        self.assertEqual(self.account_b.state, "connected")

    def test_portal_gets_nothing(self):
        for model in ("outlook.sync.account", "outlook.sync.log", "outlook.sync.link", "outlook.sync.tombstone"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.portal).search([])
        with self.assertRaises(AccessError):
            self.Account.with_user(self.portal).action_sync_my_calendar()

    def test_admin_manages_everyone(self):
        Account = self.Account.with_user(self.admin)
        self.assertEqual(
            Account.search([("id", "in", (self.account_a | self.account_b).ids)]), self.account_a | self.account_b
        )
        self.assertEqual(Account.browse(self.account_b.id).refresh_token, "bob-rt")
        Account.browse(self.account_b.id).action_stop()
        self.assertEqual(self.account_b.state, "stopped")
        self.assertEqual(len(self.env["outlook.sync.log"].with_user(self.admin).search([])), 2)

    def test_admin_reaches_the_user_form_fields(self):
        user_b = self.env["res.users"].with_user(self.admin).browse(self.user_b.id)
        self.assertEqual(user_b.outlook_sync_state, "connected")
        with self.assertRaises(AccessError):
            self.env["res.users"].with_user(self.user_a).browse(self.user_b.id).read(["outlook_sync_state"])
