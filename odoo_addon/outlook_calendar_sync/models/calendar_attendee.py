from odoo import models

from .calendar_event import SYNCED_ORGANIZERS_CONTEXT_KEY


class CalendarAttendee(models.Model):
    _inherit = "calendar.attendee"

    def write(self, vals):
        result = super().write(vals)
        # An answer given in Odoo (accept, decline...) is a change Outlook must hear about.
        if "state" in vals:
            self.event_id._outlook_mark_dirty()
        return result

    def _send_mail_to_attendees(self, mail_template, force_send=False):
        # Odoo asks every event whether to skip its mails (a query each) before it reads this context key, which
        # makes it send nothing anyway: creating thousands of events in a sync paid one query per event for it.
        if self.env.context.get("no_mail_to_attendees"):
            return False
        # Odoo then asks each event whether its organizer's Outlook mails instead: one lookup for all of them.
        synced = self.event_id._outlook_synced_organizers()
        attendees = self.with_context(**{SYNCED_ORGANIZERS_CONTEXT_KEY: synced})
        return super(CalendarAttendee, attendees)._send_mail_to_attendees(mail_template, force_send=force_send)
