from odoo import models


class CalendarAttendee(models.Model):
    _inherit = "calendar.attendee"

    def write(self, vals):
        result = super().write(vals)
        # An answer given in Odoo (accept, decline...) is a change Outlook must hear about.
        if "state" in vals:
            self.event_id._outlook_mark_dirty()
        return result
