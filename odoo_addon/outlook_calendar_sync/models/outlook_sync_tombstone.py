from odoo import fields, models


class OutlookSyncTombstone(models.Model):
    """An Odoo event deleted after it was synced, or while waiting for its first run: the next run removes its
    Outlook copy in this mailbox (for the latter, a copy a run made and died before linking)."""

    _name = "outlook.sync.tombstone"
    _description = "Outlook Calendar sync: event deleted in Odoo"
    _order = "id"

    account_id = fields.Many2one("outlook.sync.account", required=True, ondelete="cascade", index=True)
    remote_id = fields.Char(string="Outlook id", help="Empty for an event deleted before any run linked it.")
    series_master_id = fields.Char(string="Outlook series id")
    ical_uid = fields.Char(string="iCalendar UID")
    name = fields.Char(string="Event", help="The deleted event's title, for the sync log.")
    odoo_event_id = fields.Integer(string="Deleted Odoo event id")
    content_hash = fields.Char(
        help="The event's content hash when deleted, kept when it had changes no run had committed yet: an "
        "Outlook copy showing that content is the echo of a run that died after writing it, not a person's edit."
    )

    def _as_dict(self):
        self.ensure_one()
        return {
            "odoo_id": self.odoo_event_id,
            "remote_id": self.remote_id,
            "series_master_id": self.series_master_id or None,
            "ical_uid": self.ical_uid or None,
        }
