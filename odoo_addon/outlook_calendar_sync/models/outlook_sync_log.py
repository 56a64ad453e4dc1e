from odoo import fields, models


class OutlookSyncLog(models.Model):
    """One sync run as a person reads it: when, how long, what changed on each side, what failed and why."""

    _name = "outlook.sync.log"
    _description = "Outlook Calendar sync run"
    _order = "started_at desc, id desc"
    _rec_name = "started_at"

    account_id = fields.Many2one("outlook.sync.account", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one(related="account_id.user_id", store=True, index=True)
    started_at = fields.Datetime(required=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 2))
    trigger = fields.Selection(
        [("button", "Outlook button"), ("cron", "Scheduled"), ("connect", "Connection")], required=True
    )
    full_pass = fields.Boolean(help="All events were compared, not only the changes since the last run.")
    status = fields.Selection(
        [
            ("success", "Success"),
            ("partial", "Partly failed"),
            ("failed", "Failed"),
        ],
        required=True,
    )
    odoo_created = fields.Integer(string="Created in Odoo")
    odoo_updated = fields.Integer(string="Updated in Odoo")
    odoo_deleted = fields.Integer(string="Deleted in Odoo")
    outlook_created = fields.Integer(string="Created in Outlook")
    outlook_updated = fields.Integer(string="Updated in Outlook")
    outlook_deleted = fields.Integer(string="Deleted in Outlook")
    failure_count = fields.Integer(string="Failures")
    mail_count = fields.Integer(
        string="Mails to attendees", help="Invitations, updates and cancellations Outlook sends because of this run."
    )
    message = fields.Text(help="What happened, with the reason of every failure.")
