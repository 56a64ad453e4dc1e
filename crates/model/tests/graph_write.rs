#![allow(clippy::unwrap_used)]
//! Event -> Graph JSON: create payloads, all-day and zone handling, minimal PATCH diffs.

mod fixtures;

use fixtures::meeting;
use jiff::civil::date;
use outlook_model::graph::{diff_to_graph_patch, event_from_graph, to_graph_create};
use outlook_model::{
    Attendee, AttendeeType, EmailAddress, Event, EventTime, Pattern, Range, RangeEnd, Recurrence,
    ResponseStatus, Weekday,
};
use serde_json::{Value, json};

/// What Graph would return for a create: our payload plus server-set fields.
fn echo(event: &Event) -> Event {
    let mut body = to_graph_create(event).unwrap();
    body.insert("id".into(), "new-id".into());
    event_from_graph(&Value::Object(body)).unwrap().event
}

#[test]
fn create_payload_sends_explicit_windows_zone() {
    let body = to_graph_create(&meeting()).unwrap();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2024-05-06T10:00:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(body["end"]["dateTime"], "2024-05-06T11:00:00.0000000");
    assert_eq!(body["isAllDay"], false);
    assert_eq!(body["subject"], "Planning");
    assert_eq!(
        body["body"],
        json!({"contentType": "html", "content": "<p>Agenda:  budget</p>"})
    );
    assert_eq!(body["location"], json!({"displayName": "Room 1"}));
    assert_eq!(
        (&body["isReminderOn"], &body["reminderMinutesBeforeStart"]),
        (&json!(true), &json!(15))
    );
    assert_eq!(
        (&body["sensitivity"], &body["showAs"]),
        (&json!("normal"), &json!("busy"))
    );
    assert_eq!(
        body["attendees"],
        json!([
            {"emailAddress": {"address": "kim@contoso.com", "name": "Kim"}, "type": "optional"},
            {"emailAddress": {"address": "sam@contoso.com", "name": "Sam"}, "type": "required"},
        ])
    );
    for absent in [
        "organizer",
        "responseStatus",
        "recurrence",
        "isCancelled",
        "iCalUId",
    ] {
        assert!(!body.contains_key(absent), "{absent}");
    }
}

#[test]
fn no_zone_means_utc() {
    let mut e = meeting();
    e.time_zone = None;
    let body = to_graph_create(&e).unwrap();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2024-05-06T08:00:00.0000000", "timeZone": "UTC"})
    );
}

#[test]
fn unknown_zone_is_an_error_naming_the_event() {
    let mut e = meeting();
    e.time_zone = Some("Atlantis/Capital".into());
    let err = to_graph_create(&e).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item Planning: unknown time zone \"Atlantis/Capital\" in field `time_zone`"
    );
}

#[test]
fn all_day_round_trips_across_zones_without_shifting() {
    for (zone, windows) in [
        ("Pacific/Auckland", "New Zealand Standard Time"),
        ("America/Los_Angeles", "Pacific Standard Time"),
    ] {
        let mut e = meeting();
        e.time_zone = Some(zone.into());
        // Over a DST change in both zones (NZ ends DST on 2024-04-07, US starts on 2024-03-10).
        e.start = EventTime::AllDay(date(2024, 3, 9));
        e.end = EventTime::AllDay(date(2024, 4, 9));
        let body = to_graph_create(&e).unwrap();
        assert_eq!(
            body["start"],
            json!({"dateTime": "2024-03-09T00:00:00.0000000", "timeZone": windows})
        );
        assert_eq!(
            body["end"],
            json!({"dateTime": "2024-04-09T00:00:00.0000000", "timeZone": windows})
        );
        assert_eq!(body["isAllDay"], true);
        let back = echo(&e);
        assert_eq!((back.start, back.end), (e.start, e.end), "{zone}");
        assert_eq!(back.time_zone.as_deref(), Some(zone));
    }
}

#[test]
fn dst_gap_event_round_trips_its_instant() {
    let mut e = meeting();
    // 03:30 CEST on the spring-forward day, what an 02:30 wall time resolves to.
    e.start = EventTime::Timed("2021-03-28T01:30:00Z".parse().unwrap());
    e.end = EventTime::Timed("2021-03-28T02:30:00Z".parse().unwrap());
    let body = to_graph_create(&e).unwrap();
    assert_eq!(body["start"]["dateTime"], "2021-03-28T03:30:00.0000000");
    assert_eq!(echo(&e).start, e.start);
}

#[test]
fn recurrence_start_date_follows_the_event() {
    let mut e = meeting();
    e.recurrence = Some(Recurrence {
        pattern: Pattern::Weekly {
            interval: 1,
            days: vec![Weekday::Monday],
            first_day_of_week: Weekday::Sunday,
        },
        range: Range {
            start_date: date(2024, 1, 1),
            end: RangeEnd::Numbered(4),
            time_zone: None,
        },
    });
    let body = to_graph_create(&e).unwrap();
    assert_eq!(body["recurrence"]["range"]["startDate"], "2024-05-06");
    assert_eq!(
        body["recurrence"]["range"]["recurrenceTimeZone"],
        "W. Europe Standard Time"
    );
}

#[test]
fn patch_is_empty_for_churn() {
    let old = meeting();
    let mut new = meeting();
    new.attendees.reverse();
    new.attendees[0].email = Some(EmailAddress::new("KIM@Contoso.com"));
    new.attendees[0].name = Some("Kim Abercrombie".into());
    new.attendees[1].response = ResponseStatus::Declined; // answers are not the organizer's to write
    new.body_html = "<p>Agenda:\n budget</p>".into();
    new.categories.reverse();
    new.time_zone = Some("Europe/Rome".into()); // same instants, another label
    new.ical_uid = None;
    assert_eq!(
        diff_to_graph_patch(&old, &new).unwrap(),
        serde_json::Map::new()
    );
}

#[test]
fn patch_holds_only_what_changed() {
    let old = meeting();
    type Case = (fn(&mut Event), &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (|e| e.subject = "Planning v2".into(), &["subject"]),
        (|e| e.body_html = "<p>New agenda</p>".into(), &["body"]),
        (|e| e.location = None, &["location"]),
        (
            |e| e.end = EventTime::Timed("2024-05-06T09:30:00Z".parse().unwrap()),
            &["start", "end", "isAllDay"],
        ),
        (|e| e.reminder_minutes = None, &["isReminderOn"]),
        (
            |e| e.reminder_minutes = Some(30),
            &["isReminderOn", "reminderMinutesBeforeStart"],
        ),
        (
            |e| e.privacy = outlook_model::Privacy::Private,
            &["sensitivity"],
        ),
        (|e| e.show_as = outlook_model::ShowAs::Free, &["showAs"]),
        (|e| e.categories.push("Green".into()), &["categories"]),
        (
            |e| e.attendees[1].kind = AttendeeType::Required,
            &["attendees"],
        ),
        (
            |e| e.attendees.pop().map(drop).unwrap_or_default(),
            &["attendees"],
        ),
        (
            |e| {
                e.attendees.push(Attendee {
                    name: None,
                    email: Some(EmailAddress::new("new@contoso.com")),
                    kind: AttendeeType::Required,
                    response: ResponseStatus::None,
                })
            },
            &["attendees"],
        ),
    ];
    for (change, expected) in cases {
        let mut new = old.clone();
        change(&mut new);
        let patch = diff_to_graph_patch(&old, &new).unwrap();
        let mut keys: Vec<&str> = patch.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}

#[test]
fn patch_removing_a_recurrence_sends_null() {
    let mut old = meeting();
    old.recurrence = Some(Recurrence {
        pattern: Pattern::Daily { interval: 1 },
        range: Range {
            start_date: date(2024, 5, 6),
            end: RangeEnd::NoEnd,
            time_zone: None,
        },
    });
    let patch = diff_to_graph_patch(&old, &meeting()).unwrap();
    assert_eq!(patch.get("recurrence"), Some(&Value::Null));
    // With a recurrence, a zone relabel changes the occurrences: times and rule are sent.
    let mut new = old.clone();
    new.time_zone = Some("Asia/Tokyo".into());
    let patch = diff_to_graph_patch(&old, &new).unwrap();
    assert!(
        patch.contains_key("start") && patch.contains_key("recurrence"),
        "{patch:?}"
    );
}

#[test]
fn malformed_times_are_refused_not_sent() {
    let mut e = meeting();
    e.end = EventTime::AllDay(date(2024, 5, 7));
    let err = to_graph_create(&e).unwrap_err();
    assert!(
        err.to_string().starts_with("item Planning: field `end`"),
        "{err}"
    );
    let mut e = meeting();
    e.end = EventTime::Timed("2024-05-06T07:00:00Z".parse().unwrap());
    assert!(diff_to_graph_patch(&meeting(), &e).is_err());
}
