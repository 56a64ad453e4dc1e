//! [`Event`] -> Graph JSON: the create payload, and the minimal PATCH between two versions.
//!
//! Every Graph write can make Outlook mail all attendees, so a PATCH carries only the property groups whose
//! meaning changed. Each group is written by one function, and compared by a key that ignores what does
//! not matter (body whitespace, attendee order and names, address case, a zone relabel of a one-off event).
//!
//! Not written, because Graph sets them or they are not ours to set: `organizer` (always the mailbox
//! owner), `responseStatus`, `isCancelled`, `iCalUId`, `type`, `onlineMeeting` (we never create Teams
//! meetings). Attendees without an address cannot be invited and are left out of the payload; the Odoo
//! side keeps them.

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use super::datetime::{all_day_value, timed_value};
use super::enums::GraphEnum;
use crate::error::ModelError;
use crate::event::{Event, EventTime};
use crate::hash::normalize_body;
use crate::recurrence::{MAX_YEAR, MIN_YEAR, graph_json};
use crate::timezones;

/// The zone times are written in: the Windows name of [`Event::zone_name`] when known, else UTC.
struct OutZone {
    tz: TimeZone,
    name: String,
}

fn out_zone(event: &Event) -> Result<OutZone, ModelError> {
    match event.zone_name() {
        None => Ok(OutZone {
            tz: TimeZone::UTC,
            name: "UTC".into(),
        }),
        Some(name) => {
            let zone = timezones::resolve(name, event.label(), "time_zone")?;
            Ok(match zone.windows_name {
                Some(windows) => OutZone {
                    tz: zone.tz,
                    name: windows.to_owned(),
                },
                // No Windows name (CLDR covers every zone in use, so this is an exotic one): UTC keeps
                // instants exact, and all-day dates are written as dates either way.
                None => OutZone {
                    tz: TimeZone::UTC,
                    name: "UTC".into(),
                },
            })
        }
    }
}

/// One property group: what is written, and what is compared to decide whether it changed.
struct Group {
    fields: Map<String, Value>,
    key: Value,
}

impl Group {
    fn same(fields: Map<String, Value>) -> Self {
        let key = Value::Object(fields.clone());
        Self { fields, key }
    }
}

fn fields(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn groups(event: &Event) -> Result<Vec<Group>, ModelError> {
    let zone = out_zone(event)?;
    let time = |t: &EventTime| match t {
        EventTime::Timed(ts) => timed_value(*ts, &zone.tz, &zone.name),
        EventTime::AllDay(d) => all_day_value(*d, &zone.name),
    };
    let times = fields(vec![
        ("start", time(&event.start)),
        ("end", time(&event.end)),
        ("isAllDay", event.is_all_day().into()),
    ]);
    // A relabelled zone moves neither instants nor all-day dates; only a series' occurrences depend on
    // it (DST). Same rule as the semantic hash.
    let times_key = json!([
        event.start,
        event.end,
        event.recurrence.as_ref().map(|_| &zone.name)
    ]);

    let mut attendees: Vec<_> = event
        .attendees
        .iter()
        .filter_map(|a| a.email.as_ref().map(|e| (e, a)))
        .collect();
    attendees.sort_by_key(|(email, _)| email.key());
    attendees.dedup_by(|(x, _), (y, _)| x == y);
    let attendee_json: Vec<Value> = attendees
        .iter()
        .map(|(email, a)| {
            let mut address = Map::new();
            address.insert("address".into(), email.as_str().into());
            if let Some(name) = &a.name {
                address.insert("name".into(), name.as_str().into());
            }
            json!({"emailAddress": address, "type": a.kind.graph_name()})
        })
        .collect();
    let attendee_key: Vec<Value> = attendees
        .iter()
        .map(|(email, a)| json!([email.key(), a.kind.graph_name()]))
        .collect();

    let mut categories: Vec<&str> = event.categories.iter().map(|c| c.trim()).collect();
    categories.sort_unstable();
    categories.dedup();

    let recurrence = match &event.recurrence {
        None => Value::Null,
        Some(r) => {
            // Graph requires range.startDate to be the date part of the start as written.
            let mut r = r.clone();
            r.range.start_date = match event.start {
                EventTime::AllDay(d) => d,
                EventTime::Timed(ts) => zone.tz.to_datetime(ts).date(),
            };
            if r.range.time_zone.is_none() {
                r.range.time_zone.clone_from(&event.time_zone);
            }
            graph_json::to_graph_json(&r)
        }
    };

    let subject = event.subject.trim();
    let location = event.location.as_deref().map(str::trim).unwrap_or_default();
    Ok(vec![
        Group::same(fields(vec![("subject", subject.into())])),
        Group {
            fields: fields(vec![(
                "body",
                json!({"contentType": "html", "content": event.body_html}),
            )]),
            key: normalize_body(&event.body_html).into(),
        },
        Group {
            fields: times,
            key: times_key,
        },
        Group::same(fields(vec![("location", json!({"displayName": location}))])),
        Group::same(fields(vec![(
            "sensitivity",
            event.privacy.graph_name().into(),
        )])),
        Group::same(fields(vec![("showAs", event.show_as.graph_name().into())])),
        Group::same(match event.reminder_minutes {
            Some(m) => fields(vec![
                ("isReminderOn", true.into()),
                ("reminderMinutesBeforeStart", m.into()),
            ]),
            None => fields(vec![("isReminderOn", false.into())]),
        }),
        Group::same(fields(vec![("categories", json!(categories))])),
        Group {
            fields: fields(vec![("attendees", Value::Array(attendee_json))]),
            key: Value::Array(attendee_key),
        },
        Group::same(fields(vec![("recurrence", recurrence)])),
    ])
}

/// Exchange stores years [`MIN_YEAR`]..=[`MAX_YEAR`] only and Graph answers 400 to anything else.
/// Refusing here names the field, and spares a request that would fail again on every run.
fn check_storable(event: &Event) -> Result<(), ModelError> {
    for (field, time) in [("start", event.start), ("end", event.end)] {
        let year = match time {
            EventTime::Timed(ts) => ts.to_zoned(TimeZone::UTC).year(),
            EventTime::AllDay(date) => date.year(),
        };
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ModelError::invalid(
                event.label(),
                field,
                format!("{time:?}"),
                format!("Outlook stores the years {MIN_YEAR} to {MAX_YEAR} only"),
            ));
        }
    }
    Ok(())
}

/// The body of `POST /me/events` for an event. Fails if the event's zone name is unknown, its times are
/// malformed ([`Event::check_times`]) or outside the years Outlook stores.
pub fn to_graph_create(event: &Event) -> Result<Map<String, Value>, ModelError> {
    event.check_times()?;
    check_storable(event)?;
    let mut out = Map::new();
    for group in groups(event)? {
        out.extend(group.fields);
    }
    if out.get("recurrence").is_some_and(Value::is_null) {
        out.remove("recurrence");
    }
    Ok(out)
}

/// The body of `PATCH /me/events/{id}` turning `old` into `new`: only the changed property groups. Empty
/// when nothing a person would notice changed (then do not send anything at all). Attendees are sent only
/// when the set of addresses or their types changed; times only when the instants or dates (or, for
/// recurring events, the zone) changed. A removed recurrence is sent as `"recurrence": null`.
pub fn diff_to_graph_patch(old: &Event, new: &Event) -> Result<Map<String, Value>, ModelError> {
    new.check_times()?;
    check_storable(new)?;
    let mut out = Map::new();
    for (before, after) in groups(old)?.into_iter().zip(groups(new)?) {
        if before.key != after.key {
            out.extend(after.fields);
        }
    }
    Ok(out)
}
