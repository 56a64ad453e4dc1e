//! Graph event JSON -> [`Event`].

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::datetime::DateTimeTimeZone;
use super::enums::GraphEnum;
use crate::error::{ModelError, Warning};
use crate::event::{
    Attendee, AttendeeType, EmailAddress, Event, EventKind, EventTime, Person, Privacy,
    ResponseStatus, ShowAs,
};
use crate::recurrence::exceptions::{
    OccurrenceException, canonical_exceptions, original_date, series_zone,
};
use crate::recurrence::graph_json;
use crate::timezones;

/// An event read from Graph, with the ids the engine stores beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEvent {
    /// Graph id (per mailbox; immutable when requested with `Prefer: IdType="ImmutableId"`).
    pub id: String,
    /// Graph's `changeKey`, informational only (churns without content changes).
    pub change_key: Option<String>,
    /// The content.
    pub event: Event,
    /// Dates of deleted occurrences of a series master (`cancelledOccurrences`, present only when asked
    /// for with `$select`). Graph never sends deleted occurrences otherwise, so this is the only way to
    /// learn about them without expanding the rule.
    pub cancelled_occurrences: Vec<Date>,
    /// Things worth telling a person (custom zones read as UTC, ...).
    pub warnings: Vec<Warning>,
}

/// One item of a delta page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeltaItem {
    /// Created or updated.
    Upsert(Box<GraphEvent>),
    /// `@removed`: left the window or was deleted (Graph does not say which).
    Removed {
        /// Graph id.
        id: String,
        /// `@removed.reason`, e.g. `deleted`.
        reason: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a Graph event object")]
struct RawEvent {
    id: String,
    change_key: Option<String>,
    #[serde(rename = "iCalUId")]
    ical_uid: Option<String>,
    subject: Option<String>,
    body: Option<RawBody>,
    start: DateTimeTimeZone,
    end: DateTimeTimeZone,
    original_start_time_zone: Option<String>,
    original_start: Option<String>,
    is_all_day: Option<bool>,
    location: Option<RawLocation>,
    attendees: Option<Vec<RawAttendee>>,
    organizer: Option<RawRecipient>,
    is_organizer: Option<bool>,
    response_status: Option<RawResponse>,
    sensitivity: Option<String>,
    show_as: Option<String>,
    is_reminder_on: Option<bool>,
    reminder_minutes_before_start: Option<i64>,
    online_meeting: Option<RawOnlineMeeting>,
    online_meeting_url: Option<String>,
    recurrence: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
    series_master_id: Option<String>,
    is_cancelled: Option<bool>,
    categories: Option<Vec<String>>,
    cancelled_occurrences: Option<Vec<String>>,
    exception_occurrences: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBody {
    content_type: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLocation {
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEmailAddress {
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecipient {
    email_address: Option<RawEmailAddress>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResponse {
    response: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAttendee {
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<RawResponse>,
    email_address: Option<RawEmailAddress>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOnlineMeeting {
    join_url: Option<String>,
}

/// A JSON path for errors; the root is named as such.
fn json_path(path: &serde_path_to_error::Path) -> String {
    match path.to_string().as_str() {
        "." | "" => "(the whole event)".to_owned(),
        other => other.to_owned(),
    }
}

/// The JSON kind of a value, for "expected an object, got ..." errors.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn item_id(value: &Value) -> String {
    value
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// Reads one delta item: an `@removed` tombstone or a full event.
pub fn delta_item_from_graph(value: &Value) -> Result<DeltaItem, ModelError> {
    if let Some(removed) = value.get("@removed") {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ModelError::json("?", "id", "an @removed item without an id"))?;
        return Ok(DeltaItem::Removed {
            id: id.to_owned(),
            reason: removed
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    event_from_graph(value).map(|e| DeltaItem::Upsert(Box::new(e)))
}

/// Reads an event as Graph sends it. Errors name the item id and the JSON field.
///
/// `start`/`end` may be in UTC or any zone; the event's own zone comes from `originalStartTimeZone`
/// (an unknown or custom one there is a warning, since the instants do not depend on it), else from
/// `start.timeZone`. UTC counts as "no zone".
pub fn event_from_graph(value: &Value) -> Result<GraphEvent, ModelError> {
    let item = item_id(value);
    // serde would read a struct from an array too, and then name `[0]` as the bad field.
    if !value.is_object() {
        return Err(ModelError::json(
            item,
            "(the whole event)",
            format!("expected a Graph event object, got {}", json_kind(value)),
        ));
    }
    let raw: RawEvent = serde_path_to_error::deserialize(value)
        .map_err(|e| ModelError::json(&item, json_path(e.path()), e.inner().to_string()))?;
    let item = raw.id.as_str();
    let mut warnings = Vec::new();
    let mut warn = |field: &str, message: String| {
        warnings.push(Warning {
            item: item.to_owned(),
            field: field.to_owned(),
            message,
        });
    };

    let start_zone = raw.start.zone(item, "start")?;
    let end_zone = raw.end.zone(item, "end")?;
    for (field, zone) in [("start.timeZone", &start_zone), ("end.timeZone", &end_zone)] {
        if zone.substituted_utc {
            warn(
                field,
                "non-standard Outlook zone read as UTC; local times may be off".into(),
            );
        }
    }
    let event_zone = match raw.original_start_time_zone.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            match timezones::resolve(name, item, "originalStartTimeZone") {
                Ok(zone) if zone.substituted_utc => {
                    warn(
                        "originalStartTimeZone",
                        format!("non-standard Outlook zone {name:?}; zone unknown"),
                    );
                    None
                }
                Ok(zone) => Some(zone),
                Err(e) => {
                    warn("originalStartTimeZone", e.to_string());
                    None
                }
            }
        }
        _ => (!start_zone.substituted_utc).then(|| start_zone.clone()),
    };
    let time_zone = event_zone
        .as_ref()
        .map(|z| z.iana_name.clone())
        .filter(|n| !matches!(n.as_str(), "UTC" | "Etc/UTC" | "Etc/GMT"));

    let start_ts = raw.start.timestamp(&start_zone.tz, item, "start")?;
    let end_ts = raw.end.timestamp(&end_zone.tz, item, "end")?;
    let (start, end) = if raw.is_all_day.unwrap_or(false) {
        let day =
            |raw: &DateTimeTimeZone, ts: Timestamp, field: &str| -> Result<Date, ModelError> {
                // Normally midnight as written, in the zone it is labelled with. Compare the wall-clock text:
                // where DST starts at midnight (America/Santiago) that midnight has no instant.
                if let Some(date) = raw.civil_date_at_midnight() {
                    return Ok(date);
                }
                // A client that asked for another zone may get converted values: find the day in the
                // event's own zone.
                event_zone
                    .as_ref()
                    .and_then(|z| {
                        let zoned = ts.to_zoned(z.tz.clone());
                        let start_of_day = zoned.start_of_day().ok()?;
                        (start_of_day == zoned).then(|| zoned.date())
                    })
                    .ok_or_else(|| {
                        ModelError::invalid(
                            item,
                            format!("{field}.dateTime"),
                            &raw.date_time,
                            "an all-day event must start and end at midnight",
                        )
                    })
            };
        let (s, e) = (
            day(&raw.start, start_ts, "start")?,
            day(&raw.end, end_ts, "end")?,
        );
        if e <= s {
            return Err(ModelError::invalid(
                item,
                "end.dateTime",
                e,
                format!("all-day end must be after start {s}"),
            ));
        }
        (EventTime::AllDay(s), EventTime::AllDay(e))
    } else {
        if end_ts < start_ts {
            return Err(ModelError::invalid(
                item,
                "end.dateTime",
                end_ts,
                format!("before start {start_ts}"),
            ));
        }
        (EventTime::Timed(start_ts), EventTime::Timed(end_ts))
    };

    let body_html = match raw.body {
        Some(RawBody {
            content_type,
            content: Some(content),
        }) => {
            if content_type.is_some_and(|t| t.eq_ignore_ascii_case("text")) {
                text_to_html(&content)
            } else {
                content
            }
        }
        _ => String::new(),
    };

    let attendees = raw
        .attendees
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let (name, email) = person_parts(a.email_address);
            Ok(Attendee {
                name,
                email,
                kind: match a.kind {
                    Some(k) => AttendeeType::parse(&k, item, &format!("attendees[{i}].type"))?,
                    None => AttendeeType::Required,
                },
                response: match a.status.and_then(|s| s.response) {
                    Some(r) => {
                        ResponseStatus::parse(&r, item, &format!("attendees[{i}].status.response"))?
                    }
                    None => ResponseStatus::None,
                },
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;

    let organizer = raw.organizer.and_then(|o| {
        let (name, email) = person_parts(o.email_address);
        (name.is_some() || email.is_some()).then_some(Person { name, email })
    });

    let reminder_minutes = match (raw.is_reminder_on, raw.reminder_minutes_before_start) {
        (Some(false), _) | (None, None) => None,
        (_, minutes) => {
            let m = minutes.unwrap_or(0);
            Some(u32::try_from(m).map_err(|_| {
                ModelError::invalid(item, "reminderMinutesBeforeStart", m, "must be >= 0")
            })?)
        }
    };

    let online_meeting_url = raw
        .online_meeting
        .and_then(|m| m.join_url)
        .or(raw.online_meeting_url)
        .filter(|u| !u.trim().is_empty());

    let recurrence = match raw.recurrence {
        None | Some(Value::Null) => None,
        Some(v) => Some(graph_json::from_graph_json(&v, item)?),
    };

    let original_start = raw
        .original_start
        .map(|s| {
            s.parse::<Timestamp>()
                .map_err(|e| ModelError::invalid(item, "originalStart", &s, e.to_string()))
        })
        .transpose()?;

    // Values look like "OID.{masterId}.2020-04-30": the date is after the last dot.
    let cancelled_occurrences = raw
        .cancelled_occurrences
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, oid)| {
            oid.rsplit('.')
                .next()
                .and_then(|d| d.parse::<Date>().ok())
                .ok_or_else(|| {
                    ModelError::invalid(
                        item,
                        format!("cancelledOccurrences[{i}]"),
                        oid,
                        "expected OID.<master id>.<YYYY-MM-DD>",
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut event = Event {
        ical_uid: raw.ical_uid.filter(|u| !u.is_empty()),
        subject: raw.subject.unwrap_or_default(),
        body_html,
        location: raw
            .location
            .and_then(|l| l.display_name)
            .filter(|l| !l.trim().is_empty()),
        start,
        end,
        time_zone,
        organizer,
        is_organizer: raw.is_organizer.unwrap_or(false),
        attendees,
        response: match raw.response_status.and_then(|r| r.response) {
            Some(r) => ResponseStatus::parse(&r, item, "responseStatus.response")?,
            None => ResponseStatus::None,
        },
        privacy: match raw.sensitivity {
            Some(s) => Privacy::parse(&s, item, "sensitivity")?,
            None => Privacy::Normal,
        },
        show_as: match raw.show_as {
            Some(s) => ShowAs::parse(&s, item, "showAs")?,
            None => ShowAs::Busy,
        },
        reminder_minutes,
        online_meeting_url,
        deleted_occurrences: if recurrence.is_some() {
            canonical_dates(&cancelled_occurrences)
        } else {
            Vec::new()
        },
        recurrence,
        kind: match raw.kind {
            Some(k) => EventKind::parse(&k, item, "type")?,
            None => EventKind::Single,
        },
        series_master_id: raw.series_master_id.filter(|s| !s.is_empty()),
        original_start,
        is_cancelled: raw.is_cancelled.unwrap_or(false),
        categories: raw.categories.unwrap_or_default(),
        exceptions: Vec::new(),
    };
    if event.recurrence.is_some() {
        let exceptions = raw
            .exception_occurrences
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, json)| exception_from_graph(&event, item, i, json))
            .collect::<Result<Vec<_>, _>>()?;
        event.exceptions = canonical_exceptions(&event, exceptions)?;
    }
    Ok(GraphEvent {
        id: raw.id,
        change_key: raw.change_key,
        event,
        cancelled_occurrences,
        warnings,
    })
}

/// One of a master's `exceptionOccurrences` (`master` is the master read so far). Its original
/// day comes from `originalStart` ([`original_date`]), else from the beta `occurrenceId`
/// (`OID.{masterId}.YYYY-MM-DD`). Errors name the master and the element.
fn exception_from_graph(
    master: &Event,
    item: &str,
    index: usize,
    json: &Value,
) -> Result<OccurrenceException, ModelError> {
    let field = |name: &str| format!("exceptionOccurrences[{index}].{name}");
    let read = event_from_graph(json).map_err(|e| {
        ModelError::invalid(
            item,
            field("(the occurrence)"),
            item_id(json),
            e.to_string(),
        )
    })?;
    let occurrence = read.event;
    if occurrence.is_all_day() != master.is_all_day() {
        return Err(ModelError::invalid(
            item,
            field("isAllDay"),
            occurrence.is_all_day(),
            "an edited occurrence must be all-day exactly when its series is",
        ));
    }
    let date = match occurrence.original_start {
        Some(original) => original_date(&series_zone(master)?, master.is_all_day(), original),
        None => {
            let oid = json
                .get("occurrenceId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ModelError::invalid(
                        item,
                        field("originalStart"),
                        "(missing)",
                        "an edited occurrence needs originalStart (or occurrenceId) to say which \
                         occurrence it is",
                    )
                })?;
            oid.rsplit('.')
                .next()
                .and_then(|d| d.parse::<Date>().ok())
                .ok_or_else(|| {
                    ModelError::invalid(
                        item,
                        field("occurrenceId"),
                        oid,
                        "expected OID.<master id>.<YYYY-MM-DD>",
                    )
                })?
        }
    };
    Ok(OccurrenceException {
        date,
        start: occurrence.start,
        end: occurrence.end,
        subject: occurrence.subject,
        location: occurrence.location,
        // Left out of a `$select` that does not ask for it: then nothing says it is not the
        // master's. Canonical form makes it `None` when it is the master's.
        body_html: json.get("body").map(|_| occurrence.body_html),
        // The same for its attendees and reminder (Graph sends them whole, as for any event).
        attendees: json.get("attendees").map(|_| occurrence.attendees),
        reminder_minutes: ["isReminderOn", "reminderMinutesBeforeStart"]
            .iter()
            .any(|field| json.get(*field).is_some())
            .then_some(occurrence.reminder_minutes),
    })
}

/// Dates sorted, without duplicates: the model's form of [`Event::deleted_occurrences`].
pub(crate) fn canonical_dates(dates: &[Date]) -> Vec<Date> {
    let mut out = dates.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

fn person_parts(raw: Option<RawEmailAddress>) -> (Option<String>, Option<EmailAddress>) {
    let Some(raw) = raw else {
        return (None, None);
    };
    (
        raw.name.filter(|n| !n.trim().is_empty()),
        EmailAddress::parse_optional(raw.address.as_deref()),
    )
}

/// Plain text as HTML: escaped, line breaks kept.
fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}
