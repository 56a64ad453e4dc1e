"""calendar.event <-> the engine's Odoo values (``OdooEvent`` in crates/model/src/odoo/record.rs).

One mapping in each direction, kept side by side so that what a run writes reads back the same way. Where Odoo
normalises what it is given (sanitised HTML, an attendee without an address, alarms), the link stores the hash of
what Odoo holds after the write (see ``outlook_sync.local_hash``), so the next run does not mistake it for an edit.
"""

from collections import Counter
from datetime import datetime, time

import pytz
from odoo import fields
from odoo.tools import email_normalize

import outlook_sync

RECURRENCE_FIELDS = (
    "rrule_type",
    "interval",
    "end_type",
    "count",
    "until",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "month_by",
    "day",
    "byday",
    "weekday",
)
WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ATTENDEE_STATES = {"needsAction", "accepted", "declined", "tentative"}


def series_base(events):
    """The events that stand for ``events`` in Outlook: a series is one item there, its base event here."""
    return events.browse({(event.recurrence_id.base_event_id or event).id for event in events})


def _organizer(event):
    """(address, partner) of the event's organizer: its Odoo user, else the address Outlook gave."""
    if event.user_id:
        return email_normalize(event.user_id.email) or event.user_id.email or None, event.user_id.partner_id
    return event.outlook_organizer_email or None, event.env["res.partner"]


def _series_zone(event):
    """The zone a series' occurrences are dated in: the event's, else its rule's, else UTC (as the engine reads it)."""
    return pytz.timezone(_zone(event.event_tz) or _zone(event.recurrence_id.event_tz) or "UTC")


def _local_date(event, tz):
    if event.allday:
        return event.start_date
    return pytz.utc.localize(event.start).astimezone(tz).date()


def deleted_dates(event):
    """The deleted occurrences of the series ``event`` is the base of: the days (``YYYY-MM-DD`` in the series' zone)
    its rule gives from the base event on, on which the recurrence has no active event any more (Odoo keeps no
    other trace of an occurrence deleted or archived). Odoo makes at most 720 events of an endless rule, so for one
    only the days up to its last event count.

    Odoo does not remember the day an occurrence moved to another day came from either: each such occurrence (on a
    day the rule does not give, or a second one on a rule's day) is taken to come from the nearest day left empty,
    which is then not a deletion. Missing a deletion is better than deleting, in Outlook, an occurrence that was
    only moved."""
    rec = event.recurrence_id
    tz = _series_zone(event)
    if event.allday:
        dtstart = datetime.combine(event.start_date, time(8))
    else:
        dtstart = pytz.utc.localize(event.start).astimezone(tz).replace(tzinfo=None)
    held = Counter(_local_date(occurrence, tz) for occurrence in rec.calendar_event_ids)
    rule_days = {occurrence.date() for occurrence in rec._get_rrule(dtstart=dtstart)}
    last = max(held, default=dtstart.date()) if rec.end_type == "forever" else None
    missing = sorted(day for day in rule_days - held.keys() if day >= dtstart.date() and (last is None or day <= last))
    moved = sorted(day for day, count in held.items() for _ in range(count - (day in rule_days)))
    for day in moved:
        if not missing:
            break
        missing.remove(min(missing, key=lambda empty, day=day: abs((empty - day).days)))
    return [day.isoformat() for day in missing]


def apply_deleted_dates(event, values):
    """Deletes the occurrences of ``event``'s series on the deleted dates of the engine's ``values``. Called after
    the series itself is written, since writing a whole series makes all its occurrences again. The base event's own
    day is left alone: deleting it would move the series' start (its next occurrence becomes the base)."""
    dates = set((values.get("recurrence") or {}).get("deleted_dates") or [])
    rec = event.recurrence_id
    if not dates or not rec:
        return
    tz = _series_zone(event)
    base = rec.base_event_id
    rec.calendar_event_ids.filtered(
        lambda occurrence: occurrence != base and _local_date(occurrence, tz).isoformat() in dates
    ).unlink()


def event_values(event, user, ical_uid=None):
    """``event`` as ``user``'s mailbox sees it, in the engine's values (times in naive UTC)."""
    organizer_email, organizer_partner = _organizer(event)
    is_organizer = event.user_id == user
    attendees = event.attendee_ids.filtered(
        lambda a: (
            a.partner_id != organizer_partner
            and not (organizer_email and email_normalize(a.email or "") == organizer_email)
        )
    )
    own = event.attendee_ids.filtered(lambda a: a.partner_id == user.partner_id)[:1]
    recurrence = None
    if event.recurrency and event.recurrence_id:
        rec = event.recurrence_id
        recurrence = {name: rec[name] for name in RECURRENCE_FIELDS}
        recurrence["until"] = fields.Date.to_string(rec.until) if rec.until else None
        recurrence["event_tz"] = rec.event_tz or None
        recurrence["deleted_dates"] = deleted_dates(event)
    return {
        "id": event.id,
        "name": event.name or None,
        "description": str(event.description) if event.description else None,
        "location": event.location or None,
        "allday": event.allday,
        "start": None if event.allday else fields.Datetime.to_string(event.start),
        "stop": None if event.allday else fields.Datetime.to_string(event.stop),
        "start_date": fields.Date.to_string(event.start_date) if event.allday else None,
        "stop_date": fields.Date.to_string(event.stop_date) if event.allday else None,
        "event_tz": event.event_tz or None,
        "privacy": event.privacy or None,
        "show_as": event.show_as or "busy",
        "alarm_minutes": sorted({alarm.duration_minutes for alarm in event.alarm_ids if alarm.duration_minutes > 0}),
        "videocall_location": event.videocall_location or None,
        "attendees": [
            {"email": attendee.email or None, "name": attendee.common_name or None, "state": attendee.state}
            for attendee in attendees
        ],
        "organizer_email": organizer_email,
        "is_organizer": is_organizer,
        "own_state": own.state if own and not is_organizer else None,
        "recurrence": recurrence,
        "categories": sorted(event.categ_ids.mapped("name")),
        "ical_uid": ical_uid,
        "active": event.active,
    }


def _partner(env, email, name):
    """The partner for an attendee address: an Odoo user's first, else any partner, else a new one."""
    normalized = email_normalize(email or "")
    if not normalized:
        return env["res.partner"]
    Partner = env["res.partner"].with_context(active_test=False)
    user = env["res.users"].search([("email_normalized", "=", normalized)], limit=1)
    if user:
        return user.partner_id
    partner = Partner.search([("email_normalized", "=", normalized)], order="id", limit=1)
    return partner or Partner.create({"name": name or normalized, "email": normalized})


def _alarms(env, minutes_list):
    Alarm = env["calendar.alarm"]
    alarms = Alarm
    for minutes in minutes_list:
        alarm = Alarm.search([("alarm_type", "=", "notification"), ("duration_minutes", "=", minutes)], limit=1)
        if not alarm:
            alarm = Alarm.create(
                {
                    "name": env._("%(minutes)s minutes before (Outlook)", minutes=minutes),
                    "alarm_type": "notification",
                    "duration": minutes,
                    "interval": "minutes",
                }
            )
        alarms |= alarm
    return alarms


def _categories(env, names):
    Type = env["calendar.event.type"]
    types = Type
    for name in names:
        types |= Type.search([("name", "=", name)], limit=1) or Type.create({"name": name})
    return types


class Lookups:
    """Users, partners, alarms and event types found (or created) during one run, by key: importing a calendar asks
    for the same few addresses thousands of times. ``forget()`` after a savepoint rolls back: what it created is
    gone."""

    def __init__(self, env):
        self.env = env
        self._found = {}

    def forget(self):
        self._found.clear()

    def _get(self, key, find):
        if key not in self._found:
            self._found[key] = find()
        return self._found[key]

    def user(self, email):
        return self._get(
            ("user", email), lambda: self.env["res.users"].search([("email_normalized", "=", email)], limit=1)
        )

    def partner(self, email, name):
        normalized = email_normalize(email or "")
        if not normalized:
            return self.env["res.partner"]
        return self._get(("partner", normalized), lambda: _partner(self.env, normalized, name))

    def alarms(self, minutes_list):
        alarms = self.env["calendar.alarm"]
        for minutes in minutes_list:
            alarms |= self._get(("alarm", minutes), lambda minutes=minutes: _alarms(self.env, [minutes]))
        return alarms

    def categories(self, names):
        types = self.env["calendar.event.type"]
        for name in names:
            types |= self._get(("category", name), lambda name=name: _categories(self.env, [name]))
        return types


def _people(values, user, lookups):
    """(organizer user, partners, {partner_id: state}) for the engine's values in ``user``'s mailbox."""
    organizer_email = email_normalize(values.get("organizer_email") or "") or values.get("organizer_email")
    if values.get("is_organizer"):
        organizer = user
    elif organizer_email:
        organizer = lookups.user(organizer_email)
    else:
        organizer = user.browse()
    partners = organizer.partner_id
    if not organizer and organizer_email:
        partners |= lookups.partner(organizer_email, None)
    states = {}
    for attendee in values.get("attendees") or []:
        partner = lookups.partner(attendee.get("email"), attendee.get("name"))
        if partner:
            partners |= partner
            if attendee.get("state") in ATTENDEE_STATES:
                states[partner.id] = attendee["state"]
    if not values.get("is_organizer"):
        partners |= user.partner_id
        if values.get("own_state") in ATTENDEE_STATES:
            states[user.partner_id.id] = values["own_state"]
    if organizer:
        states.setdefault(organizer.partner_id.id, "accepted")
    return organizer, organizer_email, partners, states


def _time_values(values):
    if values.get("allday"):
        # Odoo keeps all-day events at 08:00-18:00 of their days, like its own form does.
        return {
            "allday": True,
            "start": f"{values['start_date']} 08:00:00",
            "stop": f"{values['stop_date']} 18:00:00",
            "start_date": values["start_date"],
            "stop_date": values["stop_date"],
        }
    return {"allday": False, "start": values["start"], "stop": values["stop"]}


def _recurrence_values(recurrence):
    """Odoo's recurrence fields for ``recurrence``, only those its rule uses: Odoo keeps defaults in the others
    (a weekly rule still has a ``month_by``), and writing them would change nothing but look like a change."""
    vals = {
        "recurrency": True,
        "rrule_type": recurrence.get("rrule_type"),
        "interval": recurrence.get("interval") or 1,
        "end_type": recurrence.get("end_type"),
    }
    if vals["end_type"] == "count":
        vals["count"] = recurrence.get("count")
    elif vals["end_type"] == "end_date":
        vals["until"] = recurrence.get("until")
    if vals["rrule_type"] == "weekly":
        vals.update({name: bool(recurrence.get(name)) for name in WEEKDAY_FIELDS})
    elif vals["rrule_type"] == "monthly":
        vals["month_by"] = recurrence.get("month_by")
        if vals["month_by"] == "date":
            vals["day"] = recurrence.get("day")
        else:
            vals.update(byday=recurrence.get("byday"), weekday=recurrence.get("weekday"))
    return vals


def _zone(name):
    """An IANA zone Odoo's ``event_tz`` accepts, else none (the times themselves are UTC and stay right)."""
    return name if name in pytz.all_timezones_set else False


def write_values(env, values, user, lookups=None):
    """Odoo field values for the engine's ``values`` of an event in ``user``'s mailbox, plus the attendee
    states to set once the attendees exist: ``(vals, {partner_id: state})``. ``lookups`` (a :class:`Lookups`)
    shares the searches of a whole run."""
    lookups = lookups or Lookups(env)
    organizer, organizer_email, partners, states = _people(values, user, lookups)
    vals = {
        # PostgreSQL cannot store NUL characters, and they mean nothing in a title.
        "name": (values.get("name") or "").replace("\x00", ""),
        "description": values.get("description") or False,
        "location": values.get("location") or False,
        "videocall_location": values.get("videocall_location") or False,
        "privacy": values.get("privacy") or False,
        "show_as": values.get("show_as") or "busy",
        "event_tz": _zone(values.get("event_tz")),
        "user_id": organizer.id or False,
        "outlook_organizer_email": False if organizer else (organizer_email or False),
        "partner_ids": [fields.Command.set(partners.ids)],
        "alarm_ids": [fields.Command.set(lookups.alarms(values.get("alarm_minutes") or []).ids)],
        "categ_ids": [fields.Command.set(lookups.categories(values.get("categories") or []).ids)],
        "active": values.get("active", True),
        **_time_values(values),
    }
    recurrence = values.get("recurrence")
    if recurrence:
        vals.update(_recurrence_values(recurrence))
        vals["event_tz"] = vals["event_tz"] or _zone(recurrence.get("event_tz"))
    return vals, states


def content_hash(event, user, ical_uid=None):
    """The engine's hash of ``event`` as ``user``'s mailbox sees it: what a link records as Odoo's side."""
    return outlook_sync.local_hash(event_values(event, user, ical_uid))
