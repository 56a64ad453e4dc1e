#![allow(clippy::unwrap_used)]
//! Graph JSON -> Event, on the documented fixtures and on the cases that break other clients.

mod fixtures;

use jiff::Timestamp;
use jiff::civil::date;
use outlook_model::graph::{DeltaItem, delta_item_from_graph, event_from_graph};
use outlook_model::{
    AttendeeType, EmailAddress, EventKind, EventTime, ModelError, Pattern, Privacy, ResponseStatus,
    ShowAs,
};
use serde_json::{Value, json};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn documented_event_fixture() {
    let v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    let g = event_from_graph(&v).unwrap();
    assert_eq!(g.id, "AAMkAGI1AAAt9AHjAAA=");
    assert_eq!(
        g.change_key.as_deref(),
        Some("ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==")
    );
    assert!(g.warnings.is_empty());
    let e = g.event;
    assert_eq!(e.subject, "Let's go for lunch");
    assert!(
        e.ical_uid
            .as_deref()
            .unwrap()
            .starts_with("040000008200E000")
    );
    // 11:00 Pacific Daylight Time (UTC-7) on 2017-04-15.
    assert_eq!(e.start, EventTime::Timed(ts("2017-04-15T18:00:00Z")));
    assert_eq!(e.end, EventTime::Timed(ts("2017-04-15T19:00:00Z")));
    assert_eq!(e.time_zone.as_deref(), Some("America/Los_Angeles"));
    assert_eq!(e.location.as_deref(), Some("Harry's Bar"));
    assert_eq!(e.reminder_minutes, Some(15));
    assert_eq!(
        (e.privacy, e.show_as, e.kind),
        (Privacy::Normal, ShowAs::Busy, EventKind::Single)
    );
    assert!(e.is_organizer);
    assert_eq!(e.response, ResponseStatus::Organizer);
    assert_eq!(
        e.organizer.unwrap().email,
        Some(EmailAddress::new("DanaS@contoso.onmicrosoft.com"))
    );
    assert_eq!(e.attendees.len(), 1);
    assert_eq!(e.attendees[0].name.as_deref(), Some("Samantha Booth"));
    assert_eq!(
        (e.attendees[0].kind, e.attendees[0].response),
        (AttendeeType::Required, ResponseStatus::None)
    );
    assert!(e.body_html.contains("Does late morning work for you?"));
    assert!(e.recurrence.is_none());
}

#[test]
fn documented_delta_pages() {
    let page: Value = serde_json::from_str(fixtures::DELTA_PAGE_1).unwrap();
    let item = delta_item_from_graph(&page["value"][0]).unwrap();
    let DeltaItem::Upsert(g) = item else {
        panic!("expected an upsert")
    };
    assert_eq!(g.id, "AAMkADNVxRAAA=");
    assert_eq!(g.event.start, EventTime::Timed(ts("2016-12-09T20:30:00Z")));
    assert_eq!(g.event.time_zone, None, "UTC is no zone");

    let page: Value = serde_json::from_str(fixtures::DELTA_PAGE_2).unwrap();
    assert_eq!(
        delta_item_from_graph(&page["value"][0]).unwrap(),
        DeltaItem::Removed {
            id: "AAMkADk0MGFkODE3...AAA=".into(),
            reason: Some("deleted".into())
        }
    );
    // The partial item has no start: a precise error, not a default.
    let err = delta_item_from_graph(&page["value"][1]).unwrap_err();
    assert!(
        matches!(&err, ModelError::Json { item, .. } if item == "AAMkADj1HvAAA="),
        "{err}"
    );
    assert!(err.to_string().contains("start"), "{err}");
}

#[test]
fn series_master_with_recurrence_fixture() {
    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["type"] = "seriesMaster".into();
    v["start"] =
        json!({"dateTime": "2017-09-04T11:00:00.0000000", "timeZone": "Pacific Standard Time"});
    v["end"] =
        json!({"dateTime": "2017-09-04T12:00:00.0000000", "timeZone": "Pacific Standard Time"});
    v["recurrence"] = serde_json::from_str(fixtures::DOC_RECURRENCE).unwrap();
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(e.kind, EventKind::SeriesMaster);
    assert!(matches!(
        e.recurrence.unwrap().pattern,
        Pattern::Weekly { interval: 1, .. }
    ));
}

#[test]
fn errors_name_item_and_field() {
    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["attendees"][0]["type"] = "chairperson".into();
    let err = event_from_graph(&v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item AAMkAGI1AAAt9AHjAAA=: field `attendees[0].type`: invalid value \"chairperson\": not a member of attendeeType"
    );

    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["reminderMinutesBeforeStart"] = "soon".into();
    let err = event_from_graph(&v).unwrap_err();
    assert!(
        matches!(&err, ModelError::Json { item, field, .. } if item == "AAMkAGI1AAAt9AHjAAA=" && field == "reminderMinutesBeforeStart"),
        "{err}"
    );

    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["start"]["timeZone"] = "Middle Earth Standard Time".into();
    let err = event_from_graph(&v).unwrap_err();
    assert_eq!(
        err,
        ModelError::UnknownTimeZone {
            name: "Middle Earth Standard Time".into(),
            item: "AAMkAGI1AAAt9AHjAAA=".into(),
            field: "start.timeZone".into()
        }
    );
}

#[test]
fn enums_in_any_case_and_odd_attendees() {
    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["sensitivity"] = "Private".into();
    v["showAs"] = "WORKINGELSEWHERE".into();
    v["attendees"] = json!([
        {"type": "Optional", "status": {"response": "TentativelyAccepted", "time": "2024-01-01T00:00:00Z"},
         "emailAddress": {"name": "Legacy", "address": "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=abc-legacy"}},
        {"type": "resource", "emailAddress": {"name": "Room 1"}},
        {"emailAddress": {"address": ""}}
    ]);
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(
        (e.privacy, e.show_as),
        (Privacy::Private, ShowAs::WorkingElsewhere)
    );
    assert_eq!(e.attendees.len(), 3);
    assert_eq!(e.attendees[0].kind, AttendeeType::Optional);
    assert_eq!(e.attendees[0].response, ResponseStatus::TentativelyAccepted);
    assert!(!e.attendees[0].email.as_ref().unwrap().is_smtp());
    assert_eq!(e.attendees[1].email, None);
    assert_eq!(e.attendees[2].email, None);
}

#[test]
fn dst_gap_time_in_berlin() {
    // 2021-03-28 02:30 does not exist in Berlin (clocks jump 02:00 -> 03:00): read as 03:30 CEST.
    let v = json!({"id": "x", "start": {"dateTime": "2021-03-28T02:30:00.0000000", "timeZone": "W. Europe Standard Time"},
                   "end": {"dateTime": "2021-03-28T04:00:00.0000000", "timeZone": "W. Europe Standard Time"}});
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(e.start, EventTime::Timed(ts("2021-03-28T01:30:00Z")));
    assert_eq!(e.end, EventTime::Timed(ts("2021-03-28T02:00:00Z")));
    assert_eq!(e.time_zone.as_deref(), Some("Europe/Berlin"));
    // The same wall time one week later is in CEST as well; one week earlier, in CET.
    let v = json!({"id": "x", "start": {"dateTime": "2021-03-21T02:30:00", "timeZone": "Europe/Berlin"},
                   "end": {"dateTime": "2021-03-21T03:30:00", "timeZone": "Europe/Berlin"}});
    assert_eq!(
        event_from_graph(&v).unwrap().event.start,
        EventTime::Timed(ts("2021-03-21T01:30:00Z"))
    );
}

#[test]
fn all_day_events_are_dates_in_their_own_zone() {
    let v = json!({"id": "a", "isAllDay": true, "originalStartTimeZone": "New Zealand Standard Time",
                   "start": {"dateTime": "2024-07-01T00:00:00.0000000", "timeZone": "New Zealand Standard Time"},
                   "end": {"dateTime": "2024-07-02T00:00:00.0000000", "timeZone": "New Zealand Standard Time"}});
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(
        (e.start, e.end),
        (
            EventTime::AllDay(date(2024, 7, 1)),
            EventTime::AllDay(date(2024, 7, 2))
        )
    );
    assert_eq!(e.time_zone.as_deref(), Some("Pacific/Auckland"));
    // The same event converted to UTC by a Prefer header: still the 1st, via the original zone.
    let v = json!({"id": "a", "isAllDay": true, "originalStartTimeZone": "New Zealand Standard Time",
                   "start": {"dateTime": "2024-06-30T12:00:00.0000000", "timeZone": "UTC"},
                   "end": {"dateTime": "2024-07-01T12:00:00.0000000", "timeZone": "UTC"}});
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(
        (e.start, e.end),
        (
            EventTime::AllDay(date(2024, 7, 1)),
            EventTime::AllDay(date(2024, 7, 2))
        )
    );
    // Not midnight anywhere: refused with the field.
    let v = json!({"id": "a", "isAllDay": true,
                   "start": {"dateTime": "2024-07-01T09:00:00", "timeZone": "UTC"},
                   "end": {"dateTime": "2024-07-02T00:00:00", "timeZone": "UTC"}});
    assert!(
        event_from_graph(&v)
            .unwrap_err()
            .to_string()
            .contains("start.dateTime")
    );
}

#[test]
fn custom_outlook_zones_are_utc_with_a_warning() {
    let v = json!({"id": "c", "originalStartTimeZone": "tzone://Microsoft/Custom",
                   "start": {"dateTime": "2024-01-10T09:00:00", "timeZone": "tzone://Microsoft/Custom"},
                   "end": {"dateTime": "2024-01-10T10:00:00", "timeZone": "Customized Time Zone"}});
    let g = event_from_graph(&v).unwrap();
    assert_eq!(g.event.start, EventTime::Timed(ts("2024-01-10T09:00:00Z")));
    assert_eq!(g.event.time_zone, None);
    let fields: Vec<_> = g.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        ["start.timeZone", "end.timeZone", "originalStartTimeZone"]
    );
}

#[test]
fn online_meeting_and_text_body() {
    let mut v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    v["isOnlineMeeting"] = true.into();
    v["onlineMeeting"] = json!({"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"});
    v["body"] = json!({"contentType": "text", "content": "a < b\nc"});
    v["isReminderOn"] = false.into();
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(
        e.online_meeting_url.as_deref(),
        Some("https://teams.microsoft.com/l/meetup-join/abc")
    );
    assert_eq!(e.body_html, "a &lt; b<br>c");
    assert_eq!(e.reminder_minutes, None);
}

#[test]
fn all_day_on_a_day_without_midnight() {
    // Chile starts DST at midnight: 2024-09-08T00:00 does not exist in America/Santiago.
    let v = json!({"id": "cl", "isAllDay": true, "originalStartTimeZone": "Pacific SA Standard Time",
                   "start": {"dateTime": "2024-09-08T00:00:00.0000000", "timeZone": "Pacific SA Standard Time"},
                   "end": {"dateTime": "2024-09-09T00:00:00.0000000", "timeZone": "Pacific SA Standard Time"}});
    let e = event_from_graph(&v).unwrap().event;
    assert_eq!(
        (e.start, e.end),
        (
            EventTime::AllDay(date(2024, 9, 8)),
            EventTime::AllDay(date(2024, 9, 9))
        )
    );
    assert_eq!(e.time_zone.as_deref(), Some("America/Santiago"));
}

#[test]
fn documented_series_master_with_cancelled_occurrences() {
    // graph_api.md §2.4, Learn event-get example 3 (start/end and exceptions as documented).
    let v: Value = serde_json::from_str(
        r#"{
      "id": "AAMkADAGAADDdm4NAAA=", "subject": "Daily stand-up",
      "cancelledOccurrences": ["OID.AAMkADAGAADDdm4NAAA=.2020-04-30", "OID.AAMkADAGAADDdm4NAAA=.2020-05-07"],
      "start": {"dateTime": "2020-04-23T11:30:00.0000000", "timeZone": "UTC"},
      "end":   {"dateTime": "2020-04-23T12:00:00.0000000", "timeZone": "UTC"},
      "exceptionOccurrences": [{"id": "AAMkADM0ZGRhMjdjLTA==", "subject": "SM update 24",
         "occurrenceId": "OID.AAMkADAGAADDdm4NAAA=.2020-05-21",
         "start": {"dateTime": "2020-05-21T11:30:00.0000000", "timeZone": "UTC"},
         "end":   {"dateTime": "2020-05-21T12:00:00.0000000", "timeZone": "UTC"}}]
    }"#,
    )
    .unwrap();
    let g = event_from_graph(&v).unwrap();
    assert_eq!(
        g.cancelled_occurrences,
        [date(2020, 4, 30), date(2020, 5, 7)]
    );
    let exception = event_from_graph(&v["exceptionOccurrences"][0]).unwrap();
    assert_eq!(exception.event.subject, "SM update 24");

    let mut bad = v.clone();
    bad["cancelledOccurrences"][1] = "OID.x.someday".into();
    assert!(
        event_from_graph(&bad)
            .unwrap_err()
            .to_string()
            .contains("cancelledOccurrences[1]")
    );
}

#[test]
fn model_deserializes_from_minimal_json() {
    let e: outlook_model::Event = serde_json::from_value(json!({
        "start": {"timed": "2024-01-01T10:00:00Z"}, "end": {"timed": "2024-01-01T11:00:00Z"},
        "attendees": [{"email": "a@example.com"}]
    }))
    .unwrap();
    assert_eq!(e.subject, "");
    assert_eq!(e.attendees[0].kind, AttendeeType::Required);
    assert_eq!(e.show_as, ShowAs::Busy);
}
