"""Local change tracking: a run reads only what changed (dirty links and tombstones), never the whole calendar."""

import logging

from odoo import api, fields, models

from .outlook_event_values import RECURRENCE_FIELDS, content_hash, series_base
from .outlook_sync_account import TRACKING_STATES

_logger = logging.getLogger(__name__)

# Fields whose change Outlook must hear about. Anything else (followers, activity dates...) is not sent.
SYNCED_FIELDS = frozenset(
    {
        "name",
        "description",
        "location",
        "videocall_location",
        "start",
        "stop",
        "allday",
        "start_date",
        "stop_date",
        "duration",
        "user_id",
        "partner_ids",
        "attendee_ids",
        "privacy",
        "show_as",
        "alarm_ids",
        "active",
        "recurrency",
        "recurrence_id",
        "rrule",
        "event_tz",
        "categ_ids",
        *RECURRENCE_FIELDS,
    }
)
# Set while a run applies Outlook's changes, so that applying them does not queue them back to Outlook.
APPLYING_CONTEXT_KEY = "outlook_sync_applying"
# An account id whose Outlook copies must survive the deletion of their Odoo events (Reset Account).
KEEP_REMOTE_CONTEXT_KEY = "outlook_sync_keep_remote_account"
# Set inside `create`: the occurrences and writes Odoo makes while creating events are marked once, after it.
CREATING_CONTEXT_KEY = "outlook_sync_creating"
# Organizers (user ids) whose Outlook connection mails their attendees, looked up once for a batch of mails.
SYNCED_ORGANIZERS_CONTEXT_KEY = "outlook_sync_synced_organizers"


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    outlook_link_ids = fields.One2many(
        "outlook.sync.link", "event_id", string="Outlook sync status", groups="base.group_system", copy=False
    )
    outlook_organizer_email = fields.Char(
        string="Outlook organizer",
        copy=False,
        help="The organizer's address, for an event that came from Outlook and whose organizer is not an Odoo user.",
    )

    def _outlook_concerned_accounts(self):
        """The Outlook accounts that hold (or should hold) these events: organizers, attendees, existing links."""
        users = self.user_id | self.partner_ids.user_ids
        accounts = self.env["outlook.sync.account"].sudo().search([("user_id", "in", users.ids)])
        accounts |= self.env["outlook.sync.link"].sudo().search([("event_id", "in", self.ids)]).account_id
        return accounts

    def _outlook_mark_dirty(self):
        """Flag these events' links as changed (creating links for new events) and queue a run soon after."""
        if self.env.context.get(APPLYING_CONTEXT_KEY) or self.env.context.get(CREATING_CONTEXT_KEY) or not self:
            return
        # A series is one item in Outlook: any change to one of its events is a change to its base event.
        events = series_base(self.sudo().with_context(active_test=False))
        Link = self.env["outlook.sync.link"].sudo()
        accounts = events._outlook_concerned_accounts().filtered(lambda a: a.state in TRACKING_STATES)
        if not accounts:
            return
        existing = Link.search([("event_id", "in", events.ids), ("account_id", "in", accounts.ids)])
        existing.filtered(lambda link: not link.dirty).write({"dirty": True})
        known = {(link.account_id.id, link.event_id.id) for link in existing}
        new_links = []
        for event in events:
            event_users = event.user_id | event.partner_ids.user_ids
            for account in accounts:
                if (account.id, event.id) not in known and account.user_id in event_users:
                    new_links.append({"account_id": account.id, "event_id": event.id, "dirty": True})
        Link.create(new_links)
        accounts._mark_dirty()

    def _skip_send_mail_status_update(self):
        """Outlook mails the attendees of a meeting whose organizer syncs (invitations, updates, cancellations):
        Odoo sending its own as well would be every attendee's second mail. A connection waiting for a reconnect
        still counts: its changes are queued and Outlook mails when they reach it."""
        organizer = self.user_id
        synced = self.env.context.get(SYNCED_ORGANIZERS_CONTEXT_KEY)
        if synced is None:
            synced = self._outlook_synced_organizers()
        if organizer.id in synced:
            return True
        return super()._skip_send_mail_status_update()

    def _outlook_synced_organizers(self):
        """The ids of these events' organizers whose Outlook connection is tracking (and so mails their attendees)."""
        accounts = (
            self.env["outlook.sync.account"]
            .sudo()
            .search([("user_id", "in", self.user_id.ids), ("state", "in", TRACKING_STATES)])
        )
        # A tuple: a context value may be serialized.
        return tuple(accounts.user_id.ids)

    @api.model_create_multi
    def create(self, vals_list):
        # A new series' occurrences, and Odoo's own writes while it builds them, belong to events marked below.
        creating = self.with_context(**{CREATING_CONTEXT_KEY: True})
        events = super(CalendarEvent, creating).create(vals_list).with_env(self.env)
        events._outlook_mark_dirty()
        return events

    def write(self, vals):
        result = super().write(vals)
        if SYNCED_FIELDS.intersection(vals):
            self._outlook_mark_dirty()
        return result

    def unlink(self):
        if not self.env.context.get(APPLYING_CONTEXT_KEY):
            self._outlook_record_tombstones()
            # Deleting one occurrence changes its series (a deleted date), unless the whole series goes.
            occurrences = self.filtered(lambda e: e.recurrence_id and e.recurrence_id.base_event_id not in self)
            occurrences._outlook_mark_dirty()
        return super().unlink()

    def _outlook_record_tombstones(self):
        """Remember the Outlook copies of events about to be deleted, so the next run deletes them too. An event not
        linked yet but waiting for a run gets one as well, without an Outlook id: a run that created its copy may
        have died before linking it, and the next run recognises that copy by its transactionId and deletes it."""
        domain = [("event_id", "in", self.ids), "|", ("remote_id", "!=", False), ("dirty", "=", True)]
        keep_account_id = self.env.context.get(KEEP_REMOTE_CONTEXT_KEY)
        if keep_account_id:
            domain.append(("account_id", "!=", keep_account_id))
        links = self.env["outlook.sync.link"].sudo().search(domain)
        if not links:
            return
        self.env["outlook.sync.tombstone"].sudo().create(
            [
                {
                    "account_id": link.account_id.id,
                    "remote_id": link.remote_id,
                    "series_master_id": link.series_master_id,
                    "ical_uid": link.ical_uid,
                    "name": link.event_id.name,
                    "odoo_event_id": link.event_id.id,
                    "content_hash": link.dirty and link.remote_id and _last_hash(link),
                }
                for link in links
            ]
        )
        links.account_id._mark_dirty()


def _last_hash(link):
    """The content hash of a linked event about to be deleted. Only a change not yet synced can have an Outlook echo
    the link does not know of, hence only asked for dirty links. An event the engine cannot read has no hash: its
    deletion must still go ahead (the next run then treats an echo as a person's edit, the safe side)."""
    try:
        return content_hash(link.event_id, link.account_id.user_id, link.ical_uid)
    except ValueError as error:
        _logger.info("Outlook sync: no content hash for deleted event %s: %s", link.event_id.id, error)
        return False
