from odoo import fields, models


class OutlookSyncLink(models.Model):
    """What an Odoo event and its copy in one Outlook mailbox looked like at the last sync (a status record).

    Graph ids are per mailbox, so an event attended by several synced users has one link per mailbox.
    """

    _name = "outlook.sync.link"
    _description = "Outlook Calendar sync status of an event in one mailbox"
    _order = "id"

    account_id = fields.Many2one("outlook.sync.account", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one(related="account_id.user_id", store=True, index=True)
    event_id = fields.Many2one("calendar.event", required=True, ondelete="cascade", index=True)
    remote_id = fields.Char(string="Outlook id", index=True, help="The event's immutable id in this mailbox.")
    series_master_id = fields.Char(
        string="Outlook series id", help="For an occurrence of a recurring event: the id of its series master."
    )
    ical_uid = fields.Char(string="iCalendar UID", index=True)
    content_hash = fields.Char(help="Hash of the event's content as last synced.")
    synced_at = fields.Datetime()
    dirty = fields.Boolean(help="Changed in Odoo since the last sync.")

    _sql_constraints = [
        ("event_account_unique", "unique(account_id, event_id)", "An event has one link per Outlook mailbox."),
    ]
