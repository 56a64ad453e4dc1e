#![allow(clippy::unwrap_used)]
//! Odoo records <-> Event: naive UTC times, inclusive all-day stop dates, `False` values.

mod fixtures;

use jiff::civil::date;
use outlook_model::odoo::{OdooAttendeeState, OdooEvent, OdooPrivacy, OdooShowAs};
use outlook_model::{
    EventKind, EventTime, ModelError, Pattern, Privacy, RangeEnd, ResponseStatus, ShowAs,
    WeekIndex, Weekday,
};
use serde_json::json;

#[test]
fn timed_record_from_a_read_dict() {
    let v = json!({
        "id": 42, "name": "Review", "description": "<p>Notes</p>", "location": false, "allday": false,
        "start": "2024-03-31 08:30:00", "stop": "2024-03-31 09:30:00", "start_date": false, "stop_date": false,
        "event_tz": "Europe/Berlin", "privacy": "confidential", "show_as": "free", "alarm_minutes": [10, 60],
        "videocall_location": "https://meet.example/x",
        "attendees": [{"email": "Sam@Example.com", "name": "Sam", "state": "tentative"},
                      {"email": false, "name": "No Mail", "state": "needsAction"}],
        "organizer_email": "dana@example.com", "is_organizer": false, "own_state": "accepted",
        "recurrence": false, "active": true
    });
    let o: OdooEvent = serde_json::from_value(v).unwrap();
    let e = o.to_event().unwrap();
    assert_eq!(
        e.start,
        EventTime::Timed("2024-03-31T08:30:00Z".parse().unwrap())
    );
    assert_eq!(
        e.end,
        EventTime::Timed("2024-03-31T09:30:00Z".parse().unwrap())
    );
    assert_eq!(e.time_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        (e.privacy, e.show_as),
        (Privacy::Confidential, ShowAs::Free)
    );
    assert_eq!(e.reminder_minutes, Some(60));
    assert_eq!(e.location, None);
    assert_eq!(
        e.online_meeting_url.as_deref(),
        Some("https://meet.example/x")
    );
    assert_eq!(e.response, ResponseStatus::Accepted);
    assert_eq!(e.attendees[0].response, ResponseStatus::TentativelyAccepted);
    assert_eq!(e.attendees[1].email, None);
    assert_eq!(e.attendees[1].name.as_deref(), Some("No Mail"));

    let back = OdooEvent::from_event(&e).unwrap();
    assert_eq!(back.start, o.start);
    assert_eq!(back.privacy, Some(OdooPrivacy::Confidential));
    assert_eq!(back.show_as, OdooShowAs::Free);
    assert_eq!(back.attendees[0].state, OdooAttendeeState::Tentative);
    assert_eq!(back.own_state, Some(OdooAttendeeState::Accepted));
    let json = serde_json::to_value(&back).unwrap();
    assert_eq!(json["start"], "2024-03-31 08:30:00");
}

#[test]
fn all_day_stop_is_inclusive_in_odoo_and_exclusive_in_the_model() {
    for zone in ["Pacific/Auckland", "America/Los_Angeles"] {
        let o: OdooEvent = serde_json::from_value(json!({
            "id": 7, "name": "Holiday", "allday": true, "start_date": "2024-12-24", "stop_date": "2024-12-26",
            "event_tz": zone, "start": "2024-12-24 08:00:00", "stop": "2024-12-26 18:00:00"
        }))
        .unwrap();
        let e = o.to_event().unwrap();
        assert_eq!(
            (e.start, e.end),
            (
                EventTime::AllDay(date(2024, 12, 24)),
                EventTime::AllDay(date(2024, 12, 27))
            )
        );
        let body = outlook_model::graph::to_graph_create(&e).unwrap();
        assert_eq!(body["end"]["dateTime"], "2024-12-27T00:00:00.0000000");
        let back = OdooEvent::from_event(&e).unwrap();
        assert_eq!(
            (back.start_date, back.stop_date),
            (Some(date(2024, 12, 24)), Some(date(2024, 12, 26)))
        );
    }
}

#[test]
fn recurring_record_and_its_limits() {
    let o: OdooEvent = serde_json::from_value(json!({
        "id": 9, "name": "Retro", "start": "2024-01-26 15:00:00", "stop": "2024-01-26 16:00:00",
        "event_tz": "Europe/Berlin", "is_organizer": true,
        "recurrence": {"rrule_type": "monthly", "interval": 1, "end_type": "count", "count": 6,
                       "month_by": "day", "byday": "-1", "weekday": "FR", "day": false, "until": false}
    }))
    .unwrap();
    let e = o.to_event().unwrap();
    assert_eq!(e.kind, EventKind::SeriesMaster);
    let r = e.recurrence.clone().unwrap();
    assert_eq!(
        r.pattern,
        Pattern::RelativeMonthly {
            interval: 1,
            days: vec![Weekday::Friday],
            index: WeekIndex::Last
        }
    );
    assert_eq!(r.range.end, RangeEnd::Numbered(6));
    assert_eq!(r.range.start_date, date(2024, 1, 26));

    let mut yearly = e.clone();
    yearly.recurrence.as_mut().unwrap().pattern = Pattern::RelativeYearly {
        interval: 1,
        days: vec![Weekday::Friday],
        index: WeekIndex::Last,
        month: 1,
    };
    let err = OdooEvent::from_event(&yearly).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::RecurrenceNotRepresentable { target: "Odoo", .. }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("item Retro: field `recurrence.pattern.type`"),
        "{err}"
    );
}

#[test]
fn missing_times_are_precise_errors() {
    let o: OdooEvent =
        serde_json::from_value(json!({"id": 3, "name": "x", "allday": true})).unwrap();
    assert_eq!(
        o.to_event().unwrap_err().to_string(),
        "item odoo:3: field `start_date`: invalid value \"False\": required for an all-day event"
    );
    let o: OdooEvent =
        serde_json::from_value(json!({"id": 4, "name": "x", "start": "2024-01-01 10:00:00"}))
            .unwrap();
    assert!(o.to_event().unwrap_err().to_string().contains("`stop`"));
    let bad = serde_json::from_value::<OdooEvent>(json!({"id": 5, "start": "yesterday"}));
    assert!(bad.is_err());
}
