from odoo import fields, models

from .outlook_sync_account import STATES


class ResUsers(models.Model):
    _inherit = "res.users"

    outlook_sync_account_ids = fields.One2many("outlook.sync.account", "user_id", groups="base.group_system")
    outlook_sync_state = fields.Selection(
        STATES, string="Outlook connection", compute="_compute_outlook_sync", groups="base.group_system"
    )
    outlook_sync_mailbox = fields.Char(
        string="Outlook account", compute="_compute_outlook_sync", groups="base.group_system"
    )
    outlook_sync_last_sync = fields.Datetime(
        string="Outlook last sync", compute="_compute_outlook_sync", groups="base.group_system"
    )
    outlook_sync_last_error = fields.Text(
        string="Outlook last error", compute="_compute_outlook_sync", groups="base.group_system"
    )

    def _compute_outlook_sync(self):
        for user in self:
            account = user.outlook_sync_account_ids[:1]
            user.outlook_sync_state = account.state or "not_connected"
            user.outlook_sync_mailbox = account.mailbox
            user.outlook_sync_last_sync = account.last_sync_at or account.last_run_at
            user.outlook_sync_last_error = account.last_error

    def action_outlook_sync_preview(self):
        self.ensure_one()
        return self.env["outlook.sync.account"]._for_user(self).action_preview_sync()

    def action_outlook_sync_open_logs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Outlook sync log"),
            "res_model": "outlook.sync.log",
            "view_mode": "list,form",
            "domain": [("user_id", "=", self.id)],
        }
