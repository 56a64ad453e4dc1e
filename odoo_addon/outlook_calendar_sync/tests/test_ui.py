from odoo.tests import HttpCase, new_test_user, tagged

from outlook_sync.emulator import Emulator

from .common import configure, connect_with_emulator


@tagged("post_install", "-at_install")
class TestOutlookUi(HttpCase):
    """The Outlook panel and the Reset Account wizard in a real browser, against our emulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = Emulator.start()
        cls.addClassCleanup(cls.emulator.stop)
        configure(cls.env, cls.emulator.url)
        cls.user = new_test_user(cls.env, login="ocs_web", password="ocs_web_pw", email="web@example.com")
        cls.admin = new_test_user(
            cls.env,
            login="ocs_webadmin",
            password="ocs_webadmin_pw",
            groups="base.group_user,base.group_system",
            email="webadmin@example.com",
        )

    def test_outlook_button_offers_to_connect(self):
        self.start_tour("/odoo/calendar", "outlook_sync_connect_tour", login="ocs_web")

    def test_setup_needed(self):
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.client_secret", "")
        self.start_tour("/odoo/calendar", "outlook_sync_setup_admin_tour", login="ocs_webadmin")
        self.start_tour("/odoo/calendar", "outlook_sync_setup_user_tour", login="ocs_web")

    def test_outlook_button_states(self):
        account = connect_with_emulator(self.env, self.emulator, self.user, mailbox=self.user.email)
        self.start_tour("/odoo/calendar", "outlook_sync_button_tour", login="ocs_web")
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.log_ids.mapped("trigger"), ["button"])

    def test_reset_account_wizard(self):
        account = connect_with_emulator(self.env, self.emulator, self.user, mailbox=self.user.email)
        event = (
            self.env["calendar.event"]
            .with_user(self.user)
            .create({"name": "Mine", "start": "2026-12-01 09:00:00", "stop": "2026-12-01 10:00:00"})
        )
        self.start_tour(
            f"/odoo/action-base.action_res_users/{self.user.id}", "outlook_sync_reset_tour", login="ocs_webadmin"
        )
        self.assertFalse(event.exists())
        self.assertEqual(account.state, "not_connected")
        self.assertEqual(account.sudo().next_sync_mode, "all")
