#![allow(clippy::unwrap_used)]
//! Hostile Odoo records: very long strings, up to 500 attendees with invalid, blank and duplicate
//! addresses, unknown `event_tz`, and fields of the wrong type. Reading never panics; a refusal
//! names the record and the field; what is read can be written to Graph or is refused by name.
//!
//! Short form: plain `cargo test`. Long form: `PROPTEST_CASES=20000 cargo test -p outlook-model
//! --test hostile_odoo_records -- --nocapture` (prints one `hostile-input:` line per property).

mod hostile_support;

use hostile_support::{Outcome, check_error_shape, error_field, run};
use outlook_model::graph::to_graph_create;
use outlook_model::odoo::OdooEvent;
use proptest::prelude::*;
use serde_json::{Value, json};

fn long_text() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => ".{0,30}".prop_map(Value::from),
        1 => (0usize..100_000).prop_map(|n| Value::from("é".repeat(n))),
        1 => Just(Value::Bool(false)),
        1 => Just(Value::from("<p onclick=x>hi</p><script>alert(1)</script>")),
    ]
}

fn address() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[a-c]{1,2}@fabrikam\\.com".prop_map(Value::from),
        1 => prop::sample::select(vec![
            "", " ", "not-an-address", "@", "a@", "@b.c", "a@b", "A@FABRIKAM.COM",
            "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=x", "a b@c.d",
            "<script>@x.y", "\u{0}@x.y",
        ])
        .prop_map(Value::from),
        1 => Just(Value::Bool(false)),
        1 => (0usize..5_000).prop_map(|n| Value::from(format!("{}@x.example", "a".repeat(n)))),
    ]
}

fn attendees() -> impl Strategy<Value = Value> {
    let attendee = || {
        (
            address(),
            long_text(),
            prop::sample::select(vec!["needsAction", "accepted", "declined", "tentative"]),
        )
            .prop_map(|(email, name, state)| json!({"email": email, "name": name, "state": state}))
    };
    prop_oneof![
        3 => prop::collection::vec(attendee(), 0..20).prop_map(Value::Array),
        1 => prop::collection::vec(attendee(), 480..=500).prop_map(Value::Array),
    ]
}

fn zone() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(false),
        json!("Europe/Brussels"),
        json!("Asia/Calcutta"),
        json!("UTC"),
        json!("Mars/Olympus_Mons"),
        json!(""),
        json!("Pacific Standard Time"),
        json!("tzone://Microsoft/Custom"),
        json!(42),
    ])
}

fn wrong_value() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!([1, 2]),
        json!({"a": 1}),
        json!(u64::MAX),
        json!("2026-02-30 10:00:00"),
        json!("0001-01-01 00:00:00"),
        json!("9999-12-31"),
    ])
}

const FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "location",
    "allday",
    "start",
    "stop",
    "start_date",
    "stop_date",
    "event_tz",
    "privacy",
    "show_as",
    "alarm_minutes",
    "videocall_location",
    "attendees",
    "organizer_email",
    "is_organizer",
    "own_state",
    "recurrence",
    "categories",
    "ical_uid",
    "active",
];

fn record() -> impl Strategy<Value = (Value, Option<&'static str>)> {
    (
        long_text(),
        long_text(),
        attendees(),
        zone(),
        any::<bool>(),
        prop::option::of((prop::sample::select(FIELDS), wrong_value())),
        prop::option::of((1u32..=3, prop::sample::select(vec![0u32, 1, 5, 999, 1000, 1_000_000_000]))),
    )
        .prop_map(|(name, description, attendees, event_tz, allday, damage, recurrence)| {
            let mut record = json!({
                "id": 7, "name": name, "description": description, "location": "Room",
                "allday": allday, "start": "2026-06-01 09:00:00", "stop": "2026-06-01 10:00:00",
                "start_date": "2026-06-01", "stop_date": "2026-06-01", "event_tz": event_tz,
                "privacy": "public", "show_as": "busy", "alarm_minutes": [15], "attendees": attendees,
                "organizer_email": "owner@contoso.com", "is_organizer": true, "categories": ["x"],
                "ical_uid": false, "active": true,
            });
            if let Some((interval, count)) = recurrence {
                record["recurrence"] = json!({
                    "rrule_type": "weekly", "interval": interval, "end_type": "count", "count": count,
                    "mon": true, "event_tz": record["event_tz"].clone(),
                });
            }
            let damaged = damage.map(|(field, value)| {
                record[field] = value;
                field
            });
            (record, damaged)
        })
}

#[test]
fn hostile_records_never_panic_and_errors_name_the_field() {
    run("odoo_records", 128, record(), |(value, damaged)| {
        let record = match OdooEvent::from_json(&value) {
            Ok(record) => record,
            Err(error) => {
                check_error_shape(&error)?;
                let field = error_field(&error);
                if let Some(damaged) = damaged {
                    prop_assert!(
                        field.starts_with(damaged) || !field.contains(['.', '[']),
                        "damaged {} but error names {}: {}",
                        damaged,
                        field,
                        error
                    );
                }
                return Ok(Outcome::Refused);
            }
        };
        let event = match record.to_event() {
            Ok(event) => event,
            Err(error) => {
                check_error_shape(&error)?;
                let named = error.to_string().contains("odoo:7") || damaged == Some("id");
                prop_assert!(named, "{}", error);
                return Ok(Outcome::Refused);
            }
        };
        match to_graph_create(&event) {
            Ok(body) => {
                // Graph takes at most 500 attendees; invalid or duplicate addresses never go out.
                let sent = body["attendees"].as_array().unwrap();
                prop_assert!(sent.len() <= 500);
                let mut keys: Vec<String> = sent
                    .iter()
                    .map(|a| {
                        a["emailAddress"]["address"]
                            .as_str()
                            .unwrap()
                            .to_ascii_lowercase()
                    })
                    .collect();
                let before = keys.len();
                keys.sort();
                keys.dedup();
                prop_assert_eq!(keys.len(), before, "duplicate attendees sent");
                Ok(Outcome::Accepted)
            }
            Err(error) => {
                check_error_shape(&error)?;
                Ok(Outcome::Refused)
            }
        }
    });
}

#[test]
fn unknown_event_tz_is_refused_naming_the_field() {
    let record = OdooEvent::from_json(&json!({
        "id": 9, "name": "Mars meeting", "start": "2026-06-01 09:00:00", "stop": "2026-06-01 10:00:00",
        "event_tz": "Mars/Olympus_Mons",
    }))
    .unwrap();
    let error = record.to_event().unwrap_err().to_string();
    assert!(
        error.contains("odoo:9")
            && error.contains("event_tz")
            && error.contains("Mars/Olympus_Mons"),
        "{error}"
    );
    let error = OdooEvent::from_json(&json!({"id": 9, "alarm_minutes": [-5]}))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("odoo:9") && error.contains("alarm_minutes"),
        "{error}"
    );

    // Outlook stores the years 1601 to 4500: an event outside is refused by name before any request.
    for (start, stop, accepted) in [
        ("0001-01-01 10:00:00", "0001-01-01 11:00:00", false),
        ("1900-03-01 10:00:00", "1900-03-01 11:00:00", true),
        ("2200-03-01 10:00:00", "2200-03-01 11:00:00", true),
        ("4600-01-01 10:00:00", "4600-01-01 11:00:00", false),
    ] {
        let event =
            OdooEvent::from_json(&json!({"id": 9, "name": "Far", "start": start, "stop": stop}))
                .unwrap()
                .to_event()
                .unwrap();
        match to_graph_create(&event) {
            Ok(_) => assert!(accepted, "{start}"),
            Err(error) => {
                assert!(!accepted, "{start}: {error}");
                assert!(
                    error.to_string().contains("`start`") && error.to_string().contains("1601"),
                    "{error}"
                );
            }
        }
    }
}
