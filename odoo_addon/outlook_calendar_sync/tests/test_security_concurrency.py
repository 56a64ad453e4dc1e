"""Reset Account and the OAuth callback while a sync run holds the same account."""

from urllib.parse import parse_qs, urlsplit

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.sql_db import db_connect
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tests.common import get_db_name

import outlook_sync
from outlook_sync.emulator import Emulator

from .common import configure


@tagged("post_install", "-at_install")
class TestResetWaitsForRunningSync(TransactionCase):
    """Reset Account takes the account's lock as a sync run does, so the two never act on one mailbox at once."""

    def test_reset_refused_while_a_run_holds_the_account(self):
        admin = self.env.ref("base.user_admin")
        # The lock is a row lock in PostgreSQL, so the account must exist for other connections: committed here and
        # removed again at the end (the test's own transaction cannot see it).
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account_id = (
                env["outlook.sync.account"]
                .create({"user_id": admin.id, "state": "connected", "access_token": "at-1", "refresh_token": "rt-1"})
                .id
            )
            cr.commit()

        def cleanup():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM outlook_sync_account WHERE id = %s", (account_id,))

        self.addCleanup(cleanup)
        with self.registry.cursor() as run_cr, self.registry.cursor() as reset_cr:
            running = api.Environment(run_cr, SUPERUSER_ID, {})["outlook.sync.account"].browse(account_id)
            self.assertTrue(running._try_lock())
            env = api.Environment(reset_cr, SUPERUSER_ID, {})
            account = env["outlook.sync.account"].browse(account_id)

            def reset():
                env["outlook.sync.reset.wizard"].create({"user_id": admin.id}).action_confirm()

            with self.assertRaisesRegex(UserError, "running right now"):
                reset()
            reset_cr.rollback()
            self.assertEqual((account.state, account.access_token), ("connected", "at-1"))
            # Once the run has ended, the reset goes through.
            run_cr.rollback()
            reset()
            self.assertEqual((account.state, account.access_token), ("not_connected", False))
            reset_cr.rollback()


@tagged("post_install", "-at_install")
class TestConnectWhileSyncRuns(HttpCase):
    """The OAuth callback takes the account's lock before spending the single-use code."""

    @classmethod
    def setUpClass(cls):
        # The administrator's account, committed before this class's transaction starts: the test (through its HTTP
        # requests) and another connection (a sync run in progress) then see the same row.
        registry = Registry(get_db_name())
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            admin = env.ref("base.user_admin")
            cls.account_id = env["outlook.sync.account"].create({"user_id": admin.id, "state": "error"}).id
            cr.commit()

        def cleanup():
            with db_connect(get_db_name()).cursor() as cr:
                cr.execute("DELETE FROM outlook_sync_account WHERE id = %s", (cls.account_id,))

        cls.addClassCleanup(cleanup)
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        configure(cls.env, cls.emulator.url)

    def start(self):
        """The administrator's way through Microsoft's consent: ``(callback URL, PKCE verifier)``."""
        self.authenticate("admin", "admin")
        response = self.url_open("/outlook_calendar_sync/connect", allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        consent = self.opener.get(response.headers["Location"], allow_redirects=False, timeout=10)
        pending = self.env["outlook.sync.auth.request"].search([], order="id desc", limit=1)
        return consent.headers["Location"], pending.code_verifier

    def test_callback_during_a_run_keeps_the_code_unspent(self):
        account = self.env["outlook.sync.account"].browse(self.account_id)
        # A connection of its own (in an HttpCase, the registry's cursors are the test's own transaction).
        with db_connect(get_db_name()).cursor() as run_cr:
            run_cr.execute("SELECT id FROM outlook_sync_account WHERE id = %s FOR NO KEY UPDATE", (self.account_id,))
            callback, verifier = self.start()
            response = self.url_open(callback, allow_redirects=False)
            run_cr.rollback()
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertIn("being synchronized right now", response.text)
        account.invalidate_recordset()
        self.assertEqual((account.state, account.access_token), ("error", False))
        # The code was not spent: it can still be redeemed (here, directly).
        code = parse_qs(urlsplit(callback).query)["code"][0]
        tokens = outlook_sync.OAuth(self.env["outlook.sync.config"]._graph_config()).exchange_code(code, verifier)
        self.assertTrue(tokens.access_token)
        # With the run over, the sign-in goes through.
        callback, _verifier = self.start()
        self.assertEqual(self.url_open(callback, allow_redirects=False).status_code, 303)
        account.invalidate_recordset()
        self.assertEqual(account.state, "connected")
