//! An Odoo `calendar.event` as plain data, <-> [`Event`].

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::exception::OdooException;
use super::html::{safe_link, sanitize_description};
use super::{falsy, naive_utc};
use crate::error::ModelError;
use crate::event::{
    Attendee, AttendeeType, EmailAddress, Event, EventKind, EventTime, Person, Privacy,
    ResponseStatus, ShowAs,
};
use crate::recurrence::exceptions::canonical_exceptions;
use crate::recurrence::odoo::{OdooRecurrence, from_odoo, to_odoo};
use crate::timezones;

/// Odoo's `privacy` selection; `None` (Odoo's `False`) means "the owner's default", read as public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OdooPrivacy {
    /// Public.
    Public,
    /// Private.
    Private,
    /// Only internal users.
    Confidential,
}

/// Odoo's `show_as` selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OdooShowAs {
    /// Busy (Odoo's default).
    #[default]
    Busy,
    /// Free.
    Free,
}

/// Odoo's `calendar.attendee.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OdooAttendeeState {
    /// No answer yet.
    #[default]
    #[serde(rename = "needsAction")]
    NeedsAction,
    /// Accepted.
    #[serde(rename = "accepted")]
    Accepted,
    /// Declined.
    #[serde(rename = "declined")]
    Declined,
    /// Tentative.
    #[serde(rename = "tentative")]
    Tentative,
}

/// An attendee as the addon sees it (partner e-mail, name, attendee state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdooAttendee {
    /// Partner e-mail; may be missing or odd.
    #[serde(default, deserialize_with = "falsy::string")]
    pub email: Option<String>,
    /// Partner name.
    #[serde(default, deserialize_with = "falsy::string")]
    pub name: Option<String>,
    /// Answer.
    #[serde(default)]
    pub state: OdooAttendeeState,
}

fn default_true() -> bool {
    true
}

/// An Odoo `calendar.event` record, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an Odoo calendar.event record (object)")]
pub struct OdooEvent {
    /// Record id (`None` for a record still to be created).
    #[serde(default, deserialize_with = "falsy::option")]
    pub id: Option<i64>,
    /// Title.
    #[serde(default, deserialize_with = "falsy::string")]
    pub name: Option<String>,
    /// Description (HTML).
    #[serde(default, deserialize_with = "falsy::string")]
    pub description: Option<String>,
    /// Location.
    #[serde(default, deserialize_with = "falsy::string")]
    pub location: Option<String>,
    /// All-day flag.
    #[serde(default)]
    pub allday: bool,
    /// Start, naive UTC (timed events).
    #[serde(default, with = "naive_utc")]
    pub start: Option<DateTime>,
    /// Stop, naive UTC (timed events).
    #[serde(default, with = "naive_utc")]
    pub stop: Option<DateTime>,
    /// First day (all-day events).
    #[serde(default, deserialize_with = "falsy::option")]
    pub start_date: Option<Date>,
    /// Last day, **inclusive** (all-day events).
    #[serde(default, deserialize_with = "falsy::option")]
    pub stop_date: Option<Date>,
    /// IANA zone of the event.
    #[serde(default, deserialize_with = "falsy::string")]
    pub event_tz: Option<String>,
    /// Privacy.
    #[serde(default, deserialize_with = "falsy::option")]
    pub privacy: Option<OdooPrivacy>,
    /// Free/busy.
    #[serde(default)]
    pub show_as: OdooShowAs,
    /// Minutes of the event's notification alarms.
    #[serde(default)]
    pub alarm_minutes: Vec<u32>,
    /// Video call link.
    #[serde(default, deserialize_with = "falsy::string")]
    pub videocall_location: Option<String>,
    /// Attendees.
    #[serde(default)]
    pub attendees: Vec<OdooAttendee>,
    /// Organizer e-mail (the `user_id`'s partner).
    #[serde(default, deserialize_with = "falsy::string")]
    pub organizer_email: Option<String>,
    /// True if the syncing user organises the event.
    #[serde(default)]
    pub is_organizer: bool,
    /// The syncing user's own attendee state, if they are an attendee.
    #[serde(default, deserialize_with = "falsy::option")]
    pub own_state: Option<OdooAttendeeState>,
    /// Recurrence fields (series base events only), with the series' deleted occurrences as
    /// `recurrence.deleted_dates`: `["2026-06-02", ...]`, the days (in the series' zone) the rule
    /// gives and the series no longer has, in any order (read sorted, without repeats; written
    /// sorted). The addon lists the days on which the recurrence has no active event; a write's
    /// list names the occurrences to delete after the series is written. See
    /// [`Event::deleted_occurrences`].
    #[serde(default, deserialize_with = "falsy::option")]
    pub recurrence: Option<OdooRecurrence>,
    /// Tag names.
    #[serde(default)]
    pub categories: Vec<String>,
    /// iCalendar UID, when known.
    #[serde(default, deserialize_with = "falsy::string")]
    pub ical_uid: Option<String>,
    /// False for archived events.
    #[serde(default = "default_true")]
    pub active: bool,
}

/// Start and end from Odoo's time fields (`prefix` goes before each field name in errors): dates
/// with an inclusive stop for all-day events, naive UTC datetimes otherwise.
pub(super) fn odoo_times(
    item: &str,
    prefix: &str,
    allday: bool,
    [start, stop]: [Option<DateTime>; 2],
    [start_date, stop_date]: [Option<Date>; 2],
) -> Result<(EventTime, EventTime), ModelError> {
    let field = |name: &str| format!("{prefix}{name}");
    if allday {
        let start = start_date.ok_or_else(|| {
            ModelError::invalid(
                item,
                field("start_date"),
                "False",
                "required for an all-day event",
            )
        })?;
        let stop = stop_date.unwrap_or(start);
        if stop < start {
            return Err(ModelError::invalid(
                item,
                field("stop_date"),
                stop,
                format!("before start_date {start}"),
            ));
        }
        let end = all_day_end(stop)
            .map_err(|e| ModelError::invalid(item, field("stop_date"), stop, e.to_string()))?;
        return Ok((EventTime::AllDay(start), EventTime::AllDay(end)));
    }
    let instant = |name: &str, dt: Option<DateTime>| -> Result<Timestamp, ModelError> {
        let dt = dt.ok_or_else(|| {
            ModelError::invalid(item, field(name), "False", "required for a timed event")
        })?;
        TimeZone::UTC
            .to_timestamp(dt)
            .map_err(|e| ModelError::invalid(item, field(name), dt, e.to_string()))
    };
    let (start, stop) = (instant("start", start)?, instant("stop", stop)?);
    if stop < start {
        return Err(ModelError::invalid(
            item,
            field("stop"),
            stop,
            format!("before start {start}"),
        ));
    }
    Ok((EventTime::Timed(start), EventTime::Timed(stop)))
}

/// Odoo's time fields: `([start, stop], [start_date, stop_date])`.
pub(super) type OdooTimes = ([Option<DateTime>; 2], [Option<Date>; 2]);

/// Odoo's time fields for a start and end, the unused pair `None`.
pub(super) fn to_odoo_times(
    item: &str,
    start: EventTime,
    end: EventTime,
) -> Result<OdooTimes, ModelError> {
    match (start, end) {
        (EventTime::AllDay(s), EventTime::AllDay(e)) => {
            let stop = odoo_stop_date(s, e)
                .map_err(|err| ModelError::invalid(item, "end", e, err.to_string()))?;
            Ok(([None, None], [Some(s), Some(stop)]))
        }
        (EventTime::Timed(s), EventTime::Timed(e)) => Ok((
            [
                Some(TimeZone::UTC.to_datetime(s)),
                Some(TimeZone::UTC.to_datetime(e)),
            ],
            [None, None],
        )),
        (s, e) => Err(ModelError::invalid(
            item,
            "end",
            format!("{e:?}"),
            format!("not the same kind as start {s:?}"),
        )),
    }
}

/// Odoo's inclusive all-day stop date -> the exclusive end date of the model (and Graph). The one place
/// where the two conventions meet; see [`odoo_stop_date`] for the way back.
pub fn all_day_end(stop_date: Date) -> Result<Date, jiff::Error> {
    stop_date.checked_add(1.day())
}

/// The model's exclusive all-day end -> Odoo's inclusive stop date. An empty range (end <= start) stays
/// on the start day, the nearest thing Odoo can store.
pub fn odoo_stop_date(start: Date, end: Date) -> Result<Date, jiff::Error> {
    if end <= start {
        Ok(start)
    } else {
        end.checked_sub(1.day())
    }
}

fn state_to_response(state: OdooAttendeeState) -> ResponseStatus {
    match state {
        OdooAttendeeState::NeedsAction => ResponseStatus::None,
        OdooAttendeeState::Accepted => ResponseStatus::Accepted,
        OdooAttendeeState::Declined => ResponseStatus::Declined,
        OdooAttendeeState::Tentative => ResponseStatus::TentativelyAccepted,
    }
}

fn response_to_state(response: ResponseStatus) -> OdooAttendeeState {
    match response {
        ResponseStatus::None | ResponseStatus::NotResponded => OdooAttendeeState::NeedsAction,
        ResponseStatus::Organizer | ResponseStatus::Accepted => OdooAttendeeState::Accepted,
        ResponseStatus::Declined => OdooAttendeeState::Declined,
        ResponseStatus::TentativelyAccepted => OdooAttendeeState::Tentative,
    }
}

/// An Odoo attendee in the model: Odoo has no attendee types, so every one is required.
pub(super) fn attendee_from_odoo(attendee: &OdooAttendee) -> Attendee {
    Attendee {
        name: attendee.name.clone(),
        email: EmailAddress::parse_optional(attendee.email.as_deref()),
        kind: AttendeeType::Required,
        response: state_to_response(attendee.state),
    }
}

/// A model attendee as Odoo holds it (its type dropped).
pub(super) fn attendee_to_odoo(attendee: &Attendee) -> OdooAttendee {
    OdooAttendee {
        email: attendee.email.as_ref().map(|e| e.as_str().to_owned()),
        name: attendee.name.clone(),
        state: response_to_state(attendee.response),
    }
}

impl OdooEvent {
    /// A label for errors: `odoo:<id>`, else the name (clipped, see [`crate::error::clip`]).
    pub fn label(&self) -> String {
        match (self.id, &self.name) {
            (Some(id), _) => format!("odoo:{id}"),
            (None, Some(name)) => crate::error::clip(name.as_str()),
            (None, None) => "(new Odoo event)".into(),
        }
    }

    /// Reads a record from the addon's JSON. Unlike plain serde, the error names the record and the
    /// field holding the wrong value.
    pub fn from_json(value: &serde_json::Value) -> Result<OdooEvent, ModelError> {
        let item = match value.get("id") {
            Some(serde_json::Value::Number(id)) => format!("odoo:{id}"),
            _ => "(Odoo event)".to_owned(),
        };
        if !value.is_object() {
            return Err(ModelError::json(
                item,
                "(the whole record)",
                format!(
                    "expected an object, got {}",
                    crate::graph::read::json_kind(value)
                ),
            ));
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let field = match e.path().to_string().as_str() {
                "." | "" => "(the whole record)".to_owned(),
                path => path.to_owned(),
            };
            ModelError::json(item, field, e.inner().to_string())
        })
    }

    /// The neutral event. An `event_tz` that is no known zone is an error naming it. Reminders: Graph has one, so the largest alarm (the earliest warning) is kept.
    /// An archived record reads as cancelled.
    pub fn to_event(&self) -> Result<Event, ModelError> {
        let item = self.label();
        let (start, end) = odoo_times(
            &item,
            "",
            self.allday,
            [self.start, self.stop],
            [self.start_date, self.stop_date],
        )?;
        // An unknown zone would otherwise surface only when the event is written to Outlook, under
        // the model's field name: refuse it here, naming Odoo's field.
        let event_zone = self
            .event_tz
            .as_deref()
            .map(|name| timezones::resolve(name, &item, "event_tz"))
            .transpose()?;
        let recurrence = match &self.recurrence {
            None => None,
            Some(r) => {
                let rule_zone = r
                    .event_tz
                    .as_deref()
                    .map(|name| timezones::resolve(name, &item, "recurrence.event_tz"))
                    .transpose()?;
                // As Event::zone_name: the event's zone first, so both sides agree on the first day.
                let first_day = match start {
                    EventTime::AllDay(d) => d,
                    EventTime::Timed(ts) => {
                        let tz = event_zone
                            .as_ref()
                            .or(rule_zone.as_ref())
                            .map_or(TimeZone::UTC, |z| z.tz.clone());
                        tz.to_datetime(ts).date()
                    }
                };
                Some(from_odoo(r, first_day, &item)?)
            }
        };
        let response = if self.is_organizer {
            ResponseStatus::Organizer
        } else {
            self.own_state
                .map_or(ResponseStatus::None, state_to_response)
        };
        let mut event = Event {
            ical_uid: self.ical_uid.clone(),
            subject: self.name.clone().unwrap_or_default(),
            body_html: self.description.clone().unwrap_or_default(),
            location: self.location.clone(),
            start,
            end,
            // pytz still knows legacy spellings (Asia/Calcutta); the model uses current names.
            time_zone: self
                .event_tz
                .as_deref()
                .map(|z| timezones::modern_iana_name(z).to_owned()),
            organizer: self.organizer_email.as_deref().map(|e| Person {
                name: None,
                email: EmailAddress::parse_optional(Some(e)),
            }),
            is_organizer: self.is_organizer,
            attendees: self.attendees.iter().map(attendee_from_odoo).collect(),
            response,
            privacy: match self.privacy {
                None | Some(OdooPrivacy::Public) => Privacy::Normal,
                Some(OdooPrivacy::Private) => Privacy::Private,
                Some(OdooPrivacy::Confidential) => Privacy::Confidential,
            },
            show_as: match self.show_as {
                OdooShowAs::Busy => ShowAs::Busy,
                OdooShowAs::Free => ShowAs::Free,
            },
            reminder_minutes: self.alarm_minutes.iter().copied().max(),
            online_meeting_url: self.videocall_location.clone(),
            deleted_occurrences: self
                .recurrence
                .as_ref()
                .map(|r| crate::graph::read::canonical_dates(&r.deleted_dates))
                .unwrap_or_default(),
            kind: if recurrence.is_some() {
                EventKind::SeriesMaster
            } else {
                EventKind::Single
            },
            recurrence,
            series_master_id: None,
            original_start: None,
            is_cancelled: !self.active,
            categories: self.categories.clone(),
            exceptions: Vec::new(),
        };
        if let (Some(odoo), Some(_)) = (&self.recurrence, &event.recurrence) {
            let exceptions = odoo
                .exceptions
                .iter()
                .map(|exception| exception.to_exception(&item, self.allday))
                .collect::<Result<Vec<_>, _>>()?;
            event.exceptions = canonical_exceptions(&event, exceptions)?;
        }
        Ok(event)
    }

    /// The Odoo record for an event (`id` unset: the addon knows which record it writes).
    ///
    /// Lossy by Odoo's design, and documented here rather than hidden: Outlook's `personal` privacy becomes
    /// `private`; show-as other than free becomes busy; attendee types are dropped; `organizer` response
    /// becomes `accepted`; the body is sanitized ([`sanitize_description`]: no script, no tracking
    /// pixel) and an online-meeting link that is not `http(s)` is left out ([`safe_link`]). A recurrence Odoo cannot express is an error
    /// ([`ModelError::RecurrenceNotRepresentable`]), never a lookalike rule.
    pub fn from_event(event: &Event) -> Result<OdooEvent, ModelError> {
        let item = event.label();
        let mut out = OdooEvent {
            id: None,
            name: Some(event.subject.clone()),
            // Written by whoever sent the invitation and shown as HTML in Odoo: made safe here.
            description: Some(sanitize_description(&event.body_html))
                .filter(|b| !b.trim().is_empty()),
            location: event.location.clone(),
            allday: event.is_all_day(),
            start: None,
            stop: None,
            start_date: None,
            stop_date: None,
            event_tz: event.time_zone.clone(),
            privacy: Some(match event.privacy {
                Privacy::Normal => OdooPrivacy::Public,
                Privacy::Personal | Privacy::Private => OdooPrivacy::Private,
                Privacy::Confidential => OdooPrivacy::Confidential,
            }),
            show_as: if event.show_as == ShowAs::Free {
                OdooShowAs::Free
            } else {
                OdooShowAs::Busy
            },
            alarm_minutes: event.reminder_minutes.into_iter().collect(),
            // Odoo opens it with a button and mails it as a link: web links only.
            videocall_location: event
                .online_meeting_url
                .as_deref()
                .and_then(safe_link)
                .map(str::to_owned),
            attendees: event.attendees.iter().map(attendee_to_odoo).collect(),
            organizer_email: event
                .organizer
                .as_ref()
                .and_then(|o| o.email.as_ref())
                .map(|e| e.as_str().to_owned()),
            is_organizer: event.is_organizer,
            own_state: (!event.is_organizer).then(|| response_to_state(event.response)),
            recurrence: event
                .recurrence
                .as_ref()
                .map(|r| {
                    let mut odoo = to_odoo(r, item)?;
                    odoo.deleted_dates.clone_from(&event.deleted_occurrences);
                    odoo.exceptions = event
                        .exceptions
                        .iter()
                        .map(|exception| OdooException::from_exception(item, exception))
                        .collect::<Result<_, _>>()?;
                    Ok::<_, ModelError>(odoo)
                })
                .transpose()?,
            categories: event.categories.clone(),
            ical_uid: event.ical_uid.clone(),
            active: !event.is_cancelled,
        };
        ([out.start, out.stop], [out.start_date, out.stop_date]) =
            to_odoo_times(item, event.start, event.end)?;
        Ok(out)
    }
}
