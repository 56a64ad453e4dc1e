#![allow(clippy::unwrap_used)]
//! Hostile and broken Graph payloads: a valid series master with fields replaced by random JSON
//! (wrong types, nulls, huge numbers and strings, random nesting), near-valid JSON text with random
//! byte damage, and arbitrary bytes. Parsing never panics; a refusal names the item and the field
//! that was damaged.
//!
//! Short form: plain `cargo test`. Long form: `PROPTEST_CASES=20000 cargo test -p outlook-model
//! --test hostile_graph_json -- --nocapture` (prints one `hostile-input:` line per property).

mod hostile_support;

use hostile_support::{Outcome, check_error_shape, error_field, error_item, run};
use outlook_model::graph::{delta_item_from_graph, event_from_graph, to_graph_create};
use outlook_model::{ModelError, semantic_hash};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const ID: &str = "AAMkAGI1AAAt9AHjAAA=";

fn template() -> Value {
    json!({
        "id": ID,
        "changeKey": "ck1",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "subject": "Weekly review",
        "body": {"contentType": "html", "content": "<p>Agenda</p>"},
        "start": {"dateTime": "2026-06-01T09:00:00.0000000", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-06-01T10:00:00.0000000", "timeZone": "W. Europe Standard Time"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "isAllDay": false,
        "location": {"displayName": "Room 1"},
        "attendees": [
            {"type": "required", "status": {"response": "accepted"},
             "emailAddress": {"name": "Ann", "address": "ann@fabrikam.com"}},
        ],
        "organizer": {"emailAddress": {"name": "Owner", "address": "owner@contoso.com"}},
        "isOrganizer": true,
        "responseStatus": {"response": "organizer"},
        "sensitivity": "normal",
        "showAs": "busy",
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 15,
        "onlineMeeting": {"joinUrl": "https://teams.example/join"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday",
                        "index": "first", "dayOfMonth": 0, "month": 0},
            "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 10,
                      "recurrenceTimeZone": "W. Europe Standard Time"}
        },
        "type": "seriesMaster",
        "isCancelled": false,
        "categories": ["Blue"],
        "cancelledOccurrences": ["OID.AAMkAGI1AAAt9AHjAAA=.2026-06-08"],
    })
}

/// Paths (dot-separated, numbers index arrays) of the template that mutations target.
const PATHS: &[&str] = &[
    "id",
    "changeKey",
    "iCalUId",
    "subject",
    "body",
    "body.content",
    "body.contentType",
    "start",
    "start.dateTime",
    "start.timeZone",
    "end",
    "end.dateTime",
    "end.timeZone",
    "originalStartTimeZone",
    "originalStart",
    "isAllDay",
    "location",
    "location.displayName",
    "attendees",
    "attendees.0",
    "attendees.0.type",
    "attendees.0.status",
    "attendees.0.status.response",
    "attendees.0.emailAddress",
    "attendees.0.emailAddress.address",
    "organizer",
    "organizer.emailAddress",
    "organizer.emailAddress.name",
    "isOrganizer",
    "responseStatus",
    "responseStatus.response",
    "sensitivity",
    "showAs",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "onlineMeeting",
    "onlineMeeting.joinUrl",
    "onlineMeetingUrl",
    "recurrence",
    "recurrence.pattern",
    "recurrence.pattern.type",
    "recurrence.pattern.interval",
    "recurrence.pattern.daysOfWeek",
    "recurrence.pattern.daysOfWeek.0",
    "recurrence.pattern.firstDayOfWeek",
    "recurrence.pattern.index",
    "recurrence.pattern.dayOfMonth",
    "recurrence.pattern.month",
    "recurrence.range",
    "recurrence.range.type",
    "recurrence.range.startDate",
    "recurrence.range.endDate",
    "recurrence.range.numberOfOccurrences",
    "recurrence.range.recurrenceTimeZone",
    "type",
    "seriesMasterId",
    "isCancelled",
    "categories",
    "categories.0",
    "cancelledOccurrences",
    "cancelledOccurrences.0",
];

/// Strings that mean something to some field somewhere, or break naive parsers.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "0",
            "-1",
            "null",
            "true",
            "2026-02-30",
            "2026-06-01T25:00:00",
            "2026-06-01T09:00:00Z",
            "2026-06-01T09:00:00+14:00",
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59.9999999",
            "-009999-01-01T00:00:00",
            "Mars/Olympus_Mons",
            "tzone://Microsoft/Custom",
            "Asia/Toshkent (Tashkent)",
            " (",
            "/",
            "../../../etc/passwd",
            "Pacific Standard Time",
            "UTC",
            "monday",
            "fifth",
            "LAST",
            "unknownFutureValue",
            "seriesMaster",
            "occurrence",
            "endDate",
            "noEnd",
            "numbered",
            "relativeYearly",
            "OID..",
            "OID.x.2026-13-01",
            "<script>alert(1)</script>",
            "\u{0}\u{1}\u{7f}",
            "😀🇧🇪",
        ])
        .prop_map(str::to_owned),
        ".{0,40}",
        // Huge strings: a 100,000-character subject is a real Outlook event.
        (0usize..120_000, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            31,
            32,
            255,
            256,
            999,
            1000,
            1_000_000_000,
            i64::from(i32::MAX),
            i64::MAX,
            i64::MIN
        ])
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        Just(json!(1e308)),
        Just(json!(0.5)),
    ]
}

/// Random JSON, nested up to a few levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(vec![
                            "dateTime", "timeZone", "type", "interval", "response", "address",
                            "content", "pattern", "range", "@removed", "id",
                        ])
                        .prop_map(str::to_owned),
                        "[a-zA-Z@.]{0,12}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value nested `depth` times (arrays or objects), as deep as serde_json lets a payload be.
fn deep(depth: usize, objects: bool) -> Value {
    let mut value = Value::Null;
    for _ in 0..depth {
        value = if objects {
            json!({ "a": value })
        } else {
            json!([value])
        };
    }
    value
}

fn set_path(root: &mut Value, path: &str, new: Value) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let next = match node {
            Value::Object(map) => {
                if last {
                    map.insert((*part).to_owned(), new);
                    return;
                }
                map.entry((*part).to_owned()).or_insert(Value::Null)
            }
            Value::Array(items) => {
                // A number in the path indexes the template's array; an earlier mutation may have
                // put an array where an object was, and then a name has nowhere to go.
                let Ok(index) = part.parse::<usize>() else {
                    return;
                };
                if items.len() <= index {
                    return;
                }
                if last {
                    items[index] = new;
                    return;
                }
                &mut items[index]
            }
            // An earlier mutation replaced a parent: this one has nowhere to go.
            _ => return,
        };
        node = next;
    }
}

/// The fields an error may rightly name when `path` was damaged. Times are checked against each
/// other (an end before a damaged start is reported on `end`), and `isAllDay` makes both times
/// subject to the midnight rule.
fn related(path: &str) -> Vec<String> {
    let top = path.split('.').next().unwrap_or(path);
    let mut out = vec![top.to_owned()];
    match top {
        "start" | "end" | "isAllDay" => {
            out.extend(["start".to_owned(), "end".to_owned()]);
        }
        // A damaged master id makes the item label `?`; nothing else changes.
        _ => {}
    }
    out
}

/// Checks one parse: refusal names the item and a field related to the damage; acceptance yields
/// an event that the rest of the pipeline handles without panicking.
fn check_parse(value: &Value, damaged: &[&str]) -> Result<Outcome, TestCaseError> {
    match event_from_graph(value) {
        Ok(read) => {
            // What the runner does next with an event read from Graph.
            let _ = semantic_hash(&read.event);
            let _ = to_graph_create(&read.event);
            let _ = outlook_model::odoo::OdooEvent::from_event(&read.event)
                .and_then(|record| record.to_event());
            Ok(Outcome::Accepted)
        }
        Err(error) => {
            check_error_shape(&error)?;
            if let [one] = damaged {
                let field = error_field(&error).to_ascii_lowercase();
                let ok = field == "(the whole event)"
                    || related(one)
                        .iter()
                        .any(|r| field.starts_with(&r.to_ascii_lowercase()));
                prop_assert!(ok, "damaged {one}, error names {field}: {error}");
                let item = error_item(&error);
                prop_assert!(
                    item == ID || item == "?" || one.starts_with("id"),
                    "item {item} for damage at {one}"
                );
            }
            Ok(Outcome::Refused)
        }
    }
}

#[test]
fn damaged_fields_never_panic_and_errors_name_the_field() {
    let damage = prop::collection::vec((prop::sample::select(PATHS), arb_json()), 1..4);
    run("graph_json_fields", 256, damage, |damage| {
        let mut value = template();
        for (path, new) in &damage {
            set_path(&mut value, path, new.clone());
        }
        let paths: Vec<&str> = damage.iter().map(|(p, _)| *p).collect();
        let outcome = check_parse(&value, &paths)?;
        // Delta items go through the same reader (or are tombstones).
        let _ = delta_item_from_graph(&value);
        Ok(outcome)
    });
}

#[test]
fn deep_nesting_at_any_field_is_refused_or_ignored() {
    let strategy = (prop::sample::select(PATHS), 1usize..=120, any::<bool>());
    run(
        "graph_json_nesting",
        64,
        strategy,
        |(path, depth, objects)| {
            let mut value = template();
            set_path(&mut value, path, deep(depth, objects));
            check_parse(&value, &[path])
        },
    );
}

#[test]
fn damaged_json_text_and_arbitrary_bytes_never_panic() {
    let text = template().to_string().into_bytes();
    let len = text.len();
    let damaged =
        prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..8).prop_map(move |edits| {
            let mut bytes = text.clone();
            for (at, byte, op) in edits {
                let at = at.min(bytes.len().saturating_sub(1));
                match op {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        });
    let bytes = prop_oneof![damaged, prop::collection::vec(any::<u8>(), 0..512)];
    run("graph_json_bytes", 256, bytes, |bytes| {
        // The client parses response bytes with serde_json (its recursion limit bounds nesting).
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => {
                let _ = delta_item_from_graph(&value);
                check_parse(&value, &[])
            }
            Err(_) => Ok(Outcome::Refused),
        }
    });
}

#[test]
fn examples_of_precise_errors() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("subject", json!(42), "subject"),
        ("start", Value::Null, "start"),
        (
            "start.timeZone",
            json!("Mars/Olympus_Mons"),
            "start.timeZone",
        ),
        ("end.dateTime", json!("2026-06-01T08:00:00"), "end.dateTime"),
        ("attendees.0.type", json!("boss"), "attendees[0].type"),
        ("attendees", json!({"a": 1}), "attendees"),
        (
            "reminderMinutesBeforeStart",
            json!(-5),
            "reminderMinutesBeforeStart",
        ),
        (
            "recurrence.pattern.interval",
            json!(0),
            "recurrence.pattern.interval",
        ),
        (
            "recurrence.pattern.interval",
            json!(1_000_000_000),
            "recurrence.pattern.interval",
        ),
        (
            "recurrence.range.numberOfOccurrences",
            json!(1_000_000_000),
            "recurrence.range.numberOfOccurrences",
        ),
        (
            "recurrence.range.numberOfOccurrences",
            json!(0),
            "recurrence.range.numberOfOccurrences",
        ),
        (
            "recurrence.range",
            json!({"type": "endDate", "startDate": "2026-06-01", "endDate": "9999-12-31"}),
            "recurrence.range.endDate",
        ),
        (
            "recurrence.pattern",
            json!({"type": "absoluteYearly", "interval": 1, "month": 2, "dayOfMonth": 31}),
            "recurrence.pattern.dayOfMonth",
        ),
        (
            "recurrence.pattern.index",
            json!("fifth"),
            "recurrence.pattern.index",
        ),
        (
            "cancelledOccurrences.0",
            json!("garbage"),
            "cancelledOccurrences[0]",
        ),
    ];
    for (path, new, field) in cases {
        let mut value = template();
        set_path(&mut value, path, new);
        let error = event_from_graph(&value).unwrap_err();
        let named = match &error {
            ModelError::Json { field, .. }
            | ModelError::InvalidValue { field, .. }
            | ModelError::UnknownTimeZone { field, .. } => field.clone(),
            other => panic!("{path}: {other}"),
        };
        assert_eq!(named, field, "{path}: {error}");
        assert!(error.to_string().contains(ID), "{error}");
    }
    // A huge value is clipped in the message, which stays readable.
    let mut value = template();
    set_path(&mut value, "sensitivity", json!("x".repeat(100_000)));
    let error = event_from_graph(&value).unwrap_err().to_string();
    assert!(
        error.len() < 1_000 && error.contains("sensitivity"),
        "{}",
        error.len()
    );
    // Not an object at all.
    let error = event_from_graph(&json!([1, 2])).unwrap_err();
    assert!(error.to_string().contains("Graph event object"), "{error}");
}
