import psycopg2
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..hooks import pre_init_hook
from .common import OutlookSyncCase


@tagged("post_install", "-at_install")
class TestModuleGuard(OutlookSyncCase):
    def test_installing_odoos_outlook_module_is_refused(self):
        Module = self.env["ir.module.module"]
        for name in ("microsoft_calendar", "microsoft_account"):
            module = Module.search([("name", "=", name)])
            with (
                self.assertRaisesRegex(UserError, "cannot be installed while Outlook Calendar Sync is installed"),
                self.env.cr.savepoint(),
            ):
                module.button_install()
            module.invalidate_recordset(["state"])
            self.assertEqual(module.state, "uninstalled")

    def test_database_guard_refuses_any_other_path(self):
        # The path `odoo-bin -i microsoft_calendar` takes: no ORM override is loaded yet, only the trigger runs.
        module = self.env["ir.module.module"].search([("name", "=", "microsoft_calendar")])
        with (
            self.assertRaisesRegex(psycopg2.errors.RaiseException, "cannot be installed while Outlook Calendar Sync"),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("UPDATE ir_module_module SET state = 'to install' WHERE id = %s", (module.id,))

    def test_other_installs_still_work(self):
        module = self.env["ir.module.module"].search([("name", "=", "google_calendar")])
        module.button_install()
        self.assertEqual(module.state, "to install")
        module.button_install_cancel()

    def test_pre_init_hook_refuses_beside_odoos_module(self):
        pre_init_hook(self.env)  # nothing conflicting installed here
        # Simulate the other way round (their module first), which the database guard would otherwise refuse.
        self.env.cr.execute("ALTER TABLE ir_module_module DISABLE TRIGGER outlook_calendar_sync_guard")
        self.env["ir.module.module"].search([("name", "=", "microsoft_account")]).state = "installed"
        with self.assertRaisesRegex(UserError, "Uninstall microsoft_account first"):
            pre_init_hook(self.env)
