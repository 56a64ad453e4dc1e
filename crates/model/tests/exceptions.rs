#![allow(clippy::unwrap_used)]
//! Edited occurrences of a series (exceptions): read from Graph's `exceptionOccurrences`, part of
//! the series' content (hash), carried to and from Odoo's values, never part of a PATCH of the
//! master.

use jiff::civil::date;
use outlook_model::graph::{diff_to_graph_patch, event_from_graph};
use outlook_model::odoo::OdooEvent;
use outlook_model::{EventTime, OccurrenceException, semantic_hash, semantic_hash_hex};
use serde_json::{Value, json};

/// A daily series at 09:00 in Paris (07:00 UTC in June) with its third occurrence moved to 14:00
/// and renamed, as the emulator (and Graph, with `$expand=exceptionOccurrences`) sends it.
fn series_json() -> Value {
    json!({
        "id": "AAMkMaster=", "subject": "Daily stand-up", "type": "seriesMaster",
        "location": {"displayName": "Room 1"},
        "originalStartTimeZone": "Romance Standard Time",
        "start": {"dateTime": "2026-06-01T09:00:00.0000000", "timeZone": "Romance Standard Time"},
        "end":   {"dateTime": "2026-06-01T09:15:00.0000000", "timeZone": "Romance Standard Time"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 5,
                      "recurrenceTimeZone": "Romance Standard Time"}
        },
        "exceptionOccurrences": [
            {"id": "AAMkExc3=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Stand-up (late)", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-03T07:00:00Z",
             "start": {"dateTime": "2026-06-03T12:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-03T12:30:00.0000000", "timeZone": "UTC"}},
            // Edited, then set back to what the rule says: no exception at all.
            {"id": "AAMkExc2=", "type": "exception", "seriesMasterId": "AAMkMaster=",
             "subject": "Daily stand-up", "location": {"displayName": "Room 1"},
             "originalStart": "2026-06-02T07:00:00Z",
             "start": {"dateTime": "2026-06-02T07:00:00.0000000", "timeZone": "UTC"},
             "end":   {"dateTime": "2026-06-02T07:15:00.0000000", "timeZone": "UTC"}}
        ]
    })
}

fn at(text: &str) -> EventTime {
    EventTime::Timed(text.parse().unwrap())
}

#[test]
fn a_masters_exception_occurrences_are_its_exceptions_by_original_day() {
    let event = event_from_graph(&series_json()).unwrap().event;
    assert_eq!(
        event.exceptions,
        [OccurrenceException {
            date: date(2026, 6, 3),
            start: at("2026-06-03T12:00:00Z"),
            end: at("2026-06-03T12:30:00Z"),
            subject: "Stand-up (late)".into(),
            location: Some("Room 1".into()),
        }]
    );
}

#[test]
fn microsofts_documented_example_names_the_occurrence_by_occurrence_id() {
    // Learn `event-get` example 3: `$select` leaves only the selected fields, no originalStart.
    let json = json!({
        "id": "AAMkADAGAADDdm4NAAA=", "subject": "Daily stand-up",
        "recurrence": {"pattern": {"type": "daily", "interval": 1},
                       "range": {"type": "noEnd", "startDate": "2020-04-23"}},
        "start": {"dateTime": "2020-04-23T11:30:00.0000000", "timeZone": "UTC"},
        "end":   {"dateTime": "2020-04-23T12:00:00.0000000", "timeZone": "UTC"},
        "exceptionOccurrences": [{"id": "AAMkADM0ZGRhMjdjLTA==", "subject": "SM update 24",
            "occurrenceId": "OID.AAMkADAGAADDdm4NAAA=.2020-05-21",
            "start": {"dateTime": "2020-05-21T11:30:00.0000000", "timeZone": "UTC"},
            "end":   {"dateTime": "2020-05-21T12:00:00.0000000", "timeZone": "UTC"}}]
    });
    let event = event_from_graph(&json).unwrap().event;
    assert_eq!(event.exceptions.len(), 1);
    assert_eq!(event.exceptions[0].date, date(2020, 5, 21));
    assert_eq!(event.exceptions[0].subject, "SM update 24");
}

#[test]
fn an_exception_that_cannot_say_which_occurrence_it_is_is_an_error_naming_it() {
    let mut json = series_json();
    json["exceptionOccurrences"][0]
        .as_object_mut()
        .unwrap()
        .remove("originalStart");
    let error = event_from_graph(&json).unwrap_err().to_string();
    assert!(error.contains("AAMkMaster="), "{error}");
    assert!(
        error.contains("exceptionOccurrences[0].originalStart"),
        "{error}"
    );
}

#[test]
fn an_exception_changes_the_series_hash_but_never_the_masters_patch() {
    let with = event_from_graph(&series_json()).unwrap().event;
    let mut without = series_json();
    without
        .as_object_mut()
        .unwrap()
        .remove("exceptionOccurrences");
    let without = event_from_graph(&without).unwrap().event;
    assert!(without.exceptions.is_empty());
    assert_ne!(semantic_hash(&with), semantic_hash(&without));
    let mut renamed = with.clone();
    renamed.exceptions[0].subject = "Other".into();
    assert_ne!(semantic_hash(&renamed), semantic_hash(&with));
    // Outlook writes exceptions one instance at a time.
    assert!(diff_to_graph_patch(&without, &with).unwrap().is_empty());
}

/// The hash is persisted: pin the encoding of exceptions as `semantic_hash.rs` pins the rest.
#[test]
fn encoding_of_exceptions_is_pinned() {
    let event = event_from_graph(&series_json()).unwrap().event;
    assert_eq!(
        semantic_hash_hex(&event),
        "35588347f361b0e0077f6c4917ed50d9dc300ce286f94140a0fdf010b735c8e1"
    );
}

#[test]
fn odoo_values_carry_the_exceptions_both_ways_with_the_same_hash() {
    let event = event_from_graph(&series_json()).unwrap().event;
    let odoo = OdooEvent::from_event(&event).unwrap();
    let json = serde_json::to_value(&odoo).unwrap();
    assert_eq!(
        json["recurrence"]["exceptions"],
        json!([{"date": "2026-06-03", "start": "2026-06-03 12:00:00", "stop": "2026-06-03 12:30:00",
                "start_date": null, "stop_date": null, "name": "Stand-up (late)",
                "location": "Room 1"}])
    );
    let back = OdooEvent::from_json(&json).unwrap().to_event().unwrap();
    assert_eq!(back.exceptions, event.exceptions);
    assert_eq!(semantic_hash(&back), semantic_hash(&event));

    // The addon lists every occurrence edited on its own, in any order, with Odoo's `False`; one
    // that matches the rule again (an edit undone) is no exception.
    let mut listed = json.clone();
    listed["recurrence"]["exceptions"] = json!([
        {"date": "2026-06-04", "start": "2026-06-04 07:00:00", "stop": "2026-06-04 07:15:00",
         "start_date": false, "stop_date": false, "name": "Daily stand-up", "location": "Room 1"},
        {"date": "2026-06-03", "start": "2026-06-03 12:00:00", "stop": "2026-06-03 12:30:00",
         "name": "Stand-up (late)", "location": "Room 1"},
    ]);
    let listed = OdooEvent::from_json(&listed).unwrap().to_event().unwrap();
    assert_eq!(semantic_hash(&listed), semantic_hash(&event));

    let mut bad = json;
    bad["recurrence"]["exceptions"][0]["stop"] = json!("2026-06-03 11:00:00");
    let error = OdooEvent::from_json(&bad)
        .unwrap()
        .to_event()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("recurrence.exceptions[2026-06-03].stop"),
        "{error}"
    );
}

#[test]
fn all_day_exceptions_keep_odoos_inclusive_stop_date() {
    let json = json!({
        "id": "AAMkAllDay=", "subject": "Holiday", "isAllDay": true,
        "originalStartTimeZone": "Romance Standard Time",
        "start": {"dateTime": "2026-06-01T00:00:00.0000000", "timeZone": "Romance Standard Time"},
        "end":   {"dateTime": "2026-06-02T00:00:00.0000000", "timeZone": "Romance Standard Time"},
        "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                       "range": {"type": "noEnd", "startDate": "2026-06-01"}},
        "exceptionOccurrences": [{"id": "AAMkExc=", "subject": "Holiday", "isAllDay": true,
            "originalStart": "2026-06-08T00:00:00Z",
            "start": {"dateTime": "2026-06-09T00:00:00.0000000", "timeZone": "Romance Standard Time"},
            "end":   {"dateTime": "2026-06-11T00:00:00.0000000", "timeZone": "Romance Standard Time"}}]
    });
    let event = event_from_graph(&json).unwrap().event;
    assert_eq!(event.exceptions[0].date, date(2026, 6, 8));
    assert_eq!(
        event.exceptions[0].end,
        EventTime::AllDay(date(2026, 6, 11))
    );
    let odoo = serde_json::to_value(OdooEvent::from_event(&event).unwrap()).unwrap();
    assert_eq!(
        odoo["recurrence"]["exceptions"][0]["start_date"],
        "2026-06-09"
    );
    assert_eq!(
        odoo["recurrence"]["exceptions"][0]["stop_date"],
        "2026-06-10"
    );
    let back = OdooEvent::from_json(&odoo).unwrap().to_event().unwrap();
    // (Odoo has no first day of the week: compare what it can hold.)
    assert_eq!(back.exceptions, event.exceptions);
}
