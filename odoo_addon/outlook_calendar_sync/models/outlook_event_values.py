"""calendar.event <-> the engine's Odoo values (``OdooEvent`` in crates/model/src/odoo/record.rs).

One mapping in each direction, kept side by side so that what a run writes reads back the same way. Where Odoo
normalises what it is given (sanitised HTML, an attendee without an address, alarms), the link stores the hash of
what Odoo holds after the write (see ``outlook_sync.local_hash``), so the next run does not mistake it for an edit.
"""

import logging
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

_logger = logging.getLogger(__name__)


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


def _body(html):
    """A description as the engine compares bodies (``normalize_body``): Odoo's re-rendering of one text (an HTML
    wrapper, other whitespace) is the same body."""
    return outlook_sync.normalize_body(str(html or ""))


def _reminder(event):
    """The reminder the engine reads from an event's alarms: the largest of its minutes, else none."""
    return max(_alarm_minutes(event), default=None)


def _alarm_minutes(event):
    return sorted({alarm.duration_minutes for alarm in event.alarm_ids if alarm.duration_minutes > 0})


def _attendees(event):
    """The attendees of ``event`` the engine hears of: everyone but its organizer."""
    organizer_email, organizer_partner = _organizer(event)
    return event.attendee_ids.filtered(
        lambda a: (
            a.partner_id != organizer_partner
            and not (organizer_email and email_normalize(a.email or "") == organizer_email)
        )
    )


def _attendee_values(attendees):
    return [
        {"email": attendee.email or None, "name": attendee.common_name or None, "state": attendee.state}
        for attendee in attendees
    ]


def _range(event):
    """What places an occurrence: its dates for an all-day event, else its naive UTC start and stop."""
    return (event.start_date, event.stop_date) if event.allday else (event.start, event.stop)


def _regular_range(base, day, tz):
    """The :func:`_range` the rule gives the occurrence of ``day`` in the series ``base`` starts: the base's
    wall-clock start time on that day in the series' zone, and the base's duration (as the engine computes it)."""
    if base.allday:
        return day, day + (base.stop_date - base.start_date)
    wall = pytz.utc.localize(base.start).astimezone(tz).time().replace(tzinfo=None)
    start = tz.localize(datetime.combine(day, wall)).astimezone(pytz.utc).replace(tzinfo=None)
    return start, start + (base.stop - base.start)


class SeriesDays:
    """Which day of its rule each active occurrence of a series stands for, and the rule's days left empty.

    Odoo does not remember the day an occurrence came from. An occurrence at its rule's times stands for its own
    day; one moved within a rule's day that has no other, for that day; any other one (moved to a day the rule does
    not give, or a second one on a rule's day) for the nearest day left empty, which is then not a deletion. Missing a
    deletion is better than deleting, in Outlook, an occurrence that was only moved. Odoo makes at most 720 events of
    an endless rule, so for one only the days up to its last event count."""

    def __init__(self, base):
        self.base = base
        self.tz = _series_zone(base)
        rec = base.recurrence_id
        if base.allday:
            dtstart = datetime.combine(base.start_date, time(8))
        else:
            dtstart = pytz.utc.localize(base.start).astimezone(self.tz).replace(tzinfo=None)
        occurrences = rec.calendar_event_ids.filtered("active").sorted(lambda e: (e.start, e.id))
        self.rule_days = sorted({occurrence.date() for occurrence in rec._get_rrule(dtstart=dtstart)})
        held = [_local_date(occurrence, self.tz) for occurrence in occurrences]
        last = max(held, default=dtstart.date()) if rec.end_type == "forever" else None
        in_range = {day for day in self.rule_days if day >= dtstart.date() and (last is None or day <= last)}
        self.original = {}
        taken = set()
        rest = []
        for occurrence in occurrences:
            day = _local_date(occurrence, self.tz)
            if day in in_range and day not in taken and _range(occurrence) == _regular_range(base, day, self.tz):
                self.original[occurrence] = day
                taken.add(day)
            else:
                rest.append(occurrence)
        moved = []
        for occurrence in rest:
            day = _local_date(occurrence, self.tz)
            if day in in_range and day not in taken:
                self.original[occurrence] = day
                taken.add(day)
            else:
                moved.append(occurrence)
        self.missing = sorted(in_range - taken)
        # (occurrence, day of the rule, day it is on now) of the edited occurrences Outlook cannot hold, filled by
        # exceptions().
        self.crossed = []
        for occurrence in moved:
            if not self.missing:
                break
            day = _local_date(occurrence, self.tz)
            nearest = min(self.missing, key=lambda empty, day=day: abs((empty - day).days))
            self.missing.remove(nearest)
            self.original[occurrence] = nearest

    def crosses(self, occurrence, day):
        """Whether ``occurrence``, standing for ``day``, sits on or past the day of a neighbouring occurrence of the
        rule: Outlook refuses such a move (``ErrorOccurrenceCrossingBoundary``), so it cannot be an exception there."""
        index = self.rule_days.index(day)
        now = _local_date(occurrence, self.tz)
        before = self.rule_days[index - 1] if index > 0 else None
        after = self.rule_days[index + 1] if index + 1 < len(self.rule_days) else None
        return (before is not None and now <= before) or (after is not None and now >= after)

    def exceptions(self):
        """{occurrence: day} of the occurrences edited on their own (times, name, location, description, attendees or
        reminder not those the rule and the base event give) that Outlook can hold; the base event is the series
        itself, never one of them. Descriptions are compared as the engine compares bodies, attendees as the same
        partners (the engine, comparing addresses, may still find them the series'), reminders as the largest alarm.
        An occurrence moved past a neighbour is left out, listed in ``crossed`` and logged."""
        base = self.base
        out = {}
        self.crossed = []
        for occurrence, day in self.original.items():
            if occurrence == base:
                continue
            regular = (
                _range(occurrence) == _regular_range(base, day, self.tz)
                and (occurrence.name or "").strip() == (base.name or "").strip()
                and (occurrence.location or "").strip() == (base.location or "").strip()
                and _body(occurrence.description) == _body(base.description)
                and occurrence.partner_ids == base.partner_ids
                and _reminder(occurrence) == _reminder(base)
            )
            if regular:
                continue
            if self.crosses(occurrence, day):
                _logger.warning(
                    "Outlook sync: occurrence %s of the series %s moved past a neighbouring occurrence; Outlook cannot "
                    "hold that move, so it is not synced",
                    occurrence.id,
                    base.id,
                )
                self.crossed.append((occurrence, day, _local_date(occurrence, self.tz)))
                continue
            out[occurrence] = day
        return out


def _exception_values(occurrence, day):
    """An occurrence edited on its own, in the engine's values (``OdooException`` in crates/model)."""
    return {
        "date": day.isoformat(),
        "start": None if occurrence.allday else fields.Datetime.to_string(occurrence.start),
        "stop": None if occurrence.allday else fields.Datetime.to_string(occurrence.stop),
        "start_date": fields.Date.to_string(occurrence.start_date) if occurrence.allday else None,
        "stop_date": fields.Date.to_string(occurrence.stop_date) if occurrence.allday else None,
        "name": occurrence.name or None,
        "location": occurrence.location or None,
        # Its own, even when it is the series' (the engine then takes it for the series'). So are its attendees and
        # alarms.
        "description": str(occurrence.description) if occurrence.description else None,
        "attendees": _attendee_values(_attendees(occurrence)),
        "alarm_minutes": _alarm_minutes(occurrence),
    }


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


def _occurrence_write(occurrence, wanted, base, lookups):
    """The fields to write for ``occurrence`` to hold ``wanted`` (engine exception values), or {} when it does. An
    exception without a description, attendees or alarms has the series' (``base``'s); descriptions are compared as
    the engine compares bodies, so one Odoo rendered again is not written again, and alarms by the reminder they make,
    so an occurrence's own alarms are kept while they make the one wanted. ``lookups`` is an
    :class:`_OccurrenceLookups`."""
    if occurrence.allday:
        start = fields.Date.to_date(wanted.get("start_date"))
        stop = fields.Date.to_date(wanted.get("stop_date")) or start
        times = (
            {
                "start_date": start,
                "stop_date": stop,
                "start": datetime.combine(start, time(8)),
                "stop": datetime.combine(stop, time(18)),
            }
            if start and (start, stop) != _range(occurrence)
            else {}
        )
    else:
        start = fields.Datetime.to_datetime(wanted.get("start"))
        stop = fields.Datetime.to_datetime(wanted.get("stop"))
        times = {"start": start, "stop": stop} if start and stop and (start, stop) != _range(occurrence) else {}
    vals = dict(times)
    name = (wanted.get("name") or "").replace("\x00", "")
    if name.strip() != (occurrence.name or "").strip():
        vals["name"] = name
    location = wanted.get("location") or False
    if (location or "").strip() != (occurrence.location or "").strip():
        vals["location"] = location
    # Made safe by the engine on its way here, as the series' description is.
    description = (wanted["description"] or False) if "description" in wanted else base.description
    if _body(description) != _body(occurrence.description):
        vals["description"] = description
    partners = lookups.partners(wanted["attendees"]) if "attendees" in wanted else base.partner_ids
    if partners != occurrence.partner_ids:
        vals["partner_ids"] = [fields.Command.set(partners.ids)]
    if "alarm_minutes" in wanted:
        minutes = wanted["alarm_minutes"] or []
        reminder, alarms = max(minutes, default=None), lookups.alarms(minutes)
    else:
        reminder, alarms = _reminder(base), base.alarm_ids
    if reminder != _reminder(occurrence):
        vals["alarm_ids"] = [fields.Command.set(alarms.ids)]
    return vals


class _OccurrenceLookups:
    """Partners and alarms for the occurrences of a series whose engine values are ``values``, in ``user``'s mailbox,
    sharing a run's ``lookups``."""

    def __init__(self, values, user, lookups):
        self.values, self.user, self.lookups = values, user, lookups

    def partners(self, attendees):
        """The partners of an occurrence with these attendee values: as for its series (``_people``), the
        organizer's included."""
        return _people({**self.values, "attendees": attendees}, self.user, self.lookups)[2]

    def alarms(self, minutes):
        return self.lookups.alarms(minutes)


def apply_exceptions(event, values, user, lookups=None):
    """Makes the occurrences of ``event``'s series hold the edited occurrences of the engine's ``values`` (moved,
    renamed, another location, description, attendees or reminder), and any occurrence edited here that the values
    no longer list hold what the rule and the series give again. Each is written on its own, as Odoo's "this event
    only" does (never Odoo's rewrite of the whole series), and only when it differs. Called after the series and its
    deleted dates are written, in ``user``'s mailbox. Returns what could not be held, in words for the sync log."""
    rec = event.recurrence_id
    if not rec or not event.recurrency:
        return []
    base = rec.base_event_id or event
    lookups = _OccurrenceLookups(values, user, lookups or Lookups(event.env))
    wanted = {item["date"]: item for item in (values.get("recurrence") or {}).get("exceptions") or []}
    days = SeriesDays(base)
    edited = days.exceptions()
    for occurrence, day in days.original.items():
        if occurrence == base:
            continue
        item = wanted.get(day.isoformat())
        if item is None:
            if occurrence not in edited:
                continue
            start, stop = _regular_range(base, day, days.tz)
            item = {
                "start": fields.Datetime.to_string(start) if not base.allday else None,
                "stop": fields.Datetime.to_string(stop) if not base.allday else None,
                "start_date": fields.Date.to_string(start) if base.allday else None,
                "stop_date": fields.Date.to_string(stop) if base.allday else None,
                "name": base.name,
                "location": base.location,
            }
        vals = _occurrence_write(occurrence, item, base, lookups)
        if vals:
            occurrence.write({**vals, "recurrence_update": "self_only"})
    unmatched = sorted(wanted.keys() - {day.isoformat() for occ, day in days.original.items() if occ != base})
    if unmatched:
        # The first occurrence (the base event is the series itself), one deleted here but not in Outlook, or one
        # past the last of the 720 events Odoo makes of an endless rule.
        return [
            event.env._(
                "the occurrence(s) of %(days)s edited on their own in Outlook have no Odoo occurrence to hold that "
                "edit (Odoo's first occurrence stands for the whole series)",
                days=", ".join(unmatched),
            )
        ]
    return []


def apply_occurrences(event, values, user, lookups=None):
    """Applies the single occurrences of the engine's ``values`` to ``event``'s series in ``user``'s mailbox: deleted
    ones, then edited ones. Returns what could not be applied, in words for the sync log."""
    apply_deleted_dates(event, values)
    return apply_exceptions(event, values, user, lookups)


def event_values(event, user, ical_uid=None, crossed=None):
    """``event`` as ``user``'s mailbox sees it, in the engine's values (times in naive UTC). ``crossed``, a list,
    receives the (occurrence, day of its rule, day it is on) of the series' occurrences moved where Outlook cannot
    hold them (``SeriesDays.crossed``)."""
    organizer_email = _organizer(event)[0]
    is_organizer = event.user_id == user
    own = event.attendee_ids.filtered(lambda a: a.partner_id == user.partner_id)[:1]
    recurrence = None
    if event.recurrency and event.recurrence_id:
        rec = event.recurrence_id
        recurrence = {name: rec[name] for name in RECURRENCE_FIELDS}
        recurrence["until"] = fields.Date.to_string(rec.until) if rec.until else None
        recurrence["event_tz"] = rec.event_tz or None
        # The single occurrences deleted or edited on their own: Outlook writes them one instance at a time.
        days = SeriesDays(event)
        recurrence["deleted_dates"] = [day.isoformat() for day in days.missing]
        recurrence["exceptions"] = sorted(
            (_exception_values(occurrence, day) for occurrence, day in days.exceptions().items()),
            key=lambda values: values["date"],
        )
        if crossed is not None:
            crossed.extend(days.crossed)
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
        "alarm_minutes": _alarm_minutes(event),
        "videocall_location": event.videocall_location or None,
        "attendees": _attendee_values(_attendees(event)),
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
