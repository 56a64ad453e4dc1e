from datetime import datetime, timedelta, timezone

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from .common import EmulatorCase


@tagged("post_install", "-at_install")
class TestRunSync(EmulatorCase):
    def logs(self, account):
        return self.env["outlook.sync.log"].search([("account_id", "=", account.id)])

    def test_first_run_sends_the_users_events_and_clears_the_queue(self):
        account = self.emulator_account(self.user_a)
        event = self.event(self.user_a)
        self.assertTrue(account.dirty)
        log = account._run_sync(trigger="button")
        self.assertEqual(log.status, "success", log.message)
        self.assertTrue(log.full_pass)
        self.assertEqual(log.outlook_created, 1)
        self.assertIn("Outlook: 1 created", log.message)
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.mailbox, "alice@example.com")
        self.assertEqual(account.last_sync_at, log.started_at)
        self.assertFalse(account.dirty, "what was queued was sent")
        self.assertFalse(account.full_sync_needed)
        link = account.sudo().link_ids
        self.assertEqual(link.event_id, event)
        self.assertTrue(link.remote_id)
        self.assertFalse(link.dirty)
        [copy] = self.emulator.events("alice@example.com")
        self.assertEqual(copy["id"], link.remote_id)
        self.assertEqual(copy["iCalUId"], link.ical_uid)
        self.assertEqual(log.user_id, self.user_a)
        self.assertGreaterEqual(log.duration, 0.0)

    def test_expired_access_token_is_refreshed_and_rotation_stored(self):
        account = self.emulator_account(self.user_a).sudo()
        old_refresh = account.refresh_token
        account.token_expires_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
        self.emulator.expire_tokens("alice@example.com")
        log = account._run_sync()
        self.assertEqual(log.status, "success", log.message)
        self.assertNotEqual(account.refresh_token, old_refresh)
        self.assertGreater(account.token_expires_at, datetime.now(timezone.utc).replace(tzinfo=None))

    def test_a_failed_run_keeps_the_refresh_token_microsoft_rotated(self):
        account = self.emulator_account(self.user_a).sudo()
        self.assertEqual(account._run_sync().status, "success")
        old_refresh = account.refresh_token
        account.token_expires_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
        self.emulator.expire_tokens("alice@example.com")
        self.emulator.oauth(strict_rotation=True)  # a used refresh token is dead
        self.emulator.fault("error", count=20, status=500, path_contains="calendarView")
        failed = account._run_sync()
        self.assertEqual(failed.status, "failed", failed.message)
        self.assertNotEqual(account.refresh_token, old_refresh, "the rotated token survives the failed run")
        self.emulator.clear_faults()
        self.assertEqual(account._run_sync().status, "success", "and the next run signs in with it")

    def test_revoked_consent_asks_to_reconnect(self):
        account = self.emulator_account(self.user_a).sudo()
        account.token_expires_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
        self.emulator.expire_tokens("alice@example.com")
        self.emulator.oauth(revoke_mailbox="alice@example.com")
        log = account._run_sync()
        self.assertEqual(log.status, "failed")
        self.assertEqual(account.state, "reconnect")
        self.assertIn("reconnect the Outlook account", account.last_error)
        self.assertNotIn(account.refresh_token, log.message)

    def test_one_users_failure_does_not_stop_the_others(self):
        alice = self.emulator_account(self.user_a).sudo()
        bob = self.emulator_account(self.user_b)
        alice.write({"access_token": "garbage", "refresh_token": "garbage"})
        self.Account._cron_sync_all()
        self.assertEqual(self.logs(alice).status, "failed")
        self.assertIn(alice.state, ("error", "reconnect"))
        self.assertEqual(self.logs(bob).status, "success")
        self.assertEqual(bob.state, "connected")

    def test_cron_skips_stopped_and_unconfigured(self):
        account = self.emulator_account(self.user_a)
        account.action_stop()
        self.Account._cron_sync_all()
        self.assertFalse(self.logs(account))
        account.action_restart()
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.enabled", "False")
        self.Account._cron_sync_all()
        self.assertFalse(self.logs(account))

    def test_button_refuses_when_paused(self):
        account = self.emulator_account(self.user_a)
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.paused", "True")
        status = self.Account.with_user(self.user_a).get_outlook_status()
        self.assertTrue(status["paused"])
        with self.assertRaisesRegex(Exception, "paused"):
            self.Account.with_user(self.user_a).action_sync_my_calendar()
        self.assertFalse(self.logs(account))

    def test_button_runs_for_the_user(self):
        self.emulator_account(self.user_a)
        status = self.Account.with_user(self.user_a).action_sync_my_calendar()
        self.assertEqual(status["state"], "connected")
        self.assertIn("Outlook: 0 created", status["summary"])
        self.assertEqual(status["mailbox"], "alice@example.com")

    def test_switching_mailbox_starts_over(self):
        account = self.emulator_account(self.user_a)
        account.sudo().mailbox = "alice@example.com"
        event = self.event(self.user_a)
        link = account.sudo().link_ids
        link.write({"remote_id": "id-in-alice-mailbox", "dirty": False})
        account.sudo().write({"delta_state": "{}", "full_sync_needed": False})
        event.with_user(self.user_a).unlink()
        self.assertTrue(self.env["outlook.sync.tombstone"].search([("account_id", "=", account.id)]))
        account._connect(account._tokens(), mailbox="alice.other@example.com")
        self.assertFalse(account.sudo().link_ids)
        self.assertFalse(self.env["outlook.sync.tombstone"].search([("account_id", "=", account.id)]))
        self.assertFalse(account.sudo().delta_state)
        self.assertTrue(account.full_sync_needed)
        self.assertEqual(account.mailbox, "alice.other@example.com")


@tagged("post_install", "-at_install")
class TestOneRunPerUser(EmulatorCase):
    """Two workers (the cron, the button) never run the same user's sync at once: the second one skips."""

    def test_a_run_holding_the_account_makes_another_skip(self):
        admin = self.env.ref("base.user_admin")
        # The lock is a row lock in PostgreSQL, so the account must exist for another connection: committed here
        # and removed again at the end.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account_id = env["outlook.sync.account"].create({"user_id": admin.id, "state": "connected"}).id
            cr.commit()

        def cleanup():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM outlook_sync_account WHERE id = %s", (account_id,))

        self.addCleanup(cleanup)
        # Two workers, each with its own connection (the test's own transaction cannot see the committed row).
        with self.registry.cursor() as first_cr, self.registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})["outlook.sync.account"].browse(account_id)
            second = api.Environment(second_cr, SUPERUSER_ID, {})["outlook.sync.account"].browse(account_id)
            self.assertTrue(first._try_lock())
            log = second._run_sync(trigger="cron")
            self.assertFalse(log, "the second run skips instead of waiting or running twice")
            first_cr.rollback()
            self.assertTrue(second._try_lock(), "once the first run ends, the next one proceeds")
            second_cr.rollback()
