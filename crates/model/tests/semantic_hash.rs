#![allow(clippy::unwrap_used)]
//! The semantic hash ignores churn and catches every change a person would call a change.

mod fixtures;

use fixtures::meeting;
use jiff::civil::date;
use outlook_model::graph::event_from_graph;
use outlook_model::{
    AttendeeType, EmailAddress, Event, EventKind, EventTime, Pattern, Privacy, Range, RangeEnd,
    Recurrence, ResponseStatus, ShowAs, semantic_hash, semantic_hash_hex,
};
use serde_json::Value;

#[test]
fn hash_is_stable_hex() {
    let h = semantic_hash_hex(&meeting());
    assert_eq!(h.len(), 64);
    assert_eq!(h, semantic_hash_hex(&meeting().clone()));
}

#[test]
fn graph_churn_does_not_change_the_hash() {
    let v: Value = serde_json::from_str(fixtures::DOC_EVENT).unwrap();
    let before = semantic_hash(&event_from_graph(&v).unwrap().event);
    let mut churned = v.clone();
    churned["changeKey"] = "AAAA".into();
    churned["@odata.etag"] = "W/\"AAAA\"".into();
    churned["lastModifiedDateTime"] = "2024-01-01T00:00:00.1234567Z".into();
    churned["attendees"][0]["status"]["time"] = "2024-01-01T10:00:00Z".into();
    churned["attendees"][0]["emailAddress"]["address"] = "SamanthaB@Contoso.onmicrosoft.com".into();
    churned["attendees"][0]["emailAddress"]["name"] = "Sam Booth".into();
    churned["body"]["content"] =
        "<html><head></head><body>\r\n  Does late morning\n work for you?  </body></html>".into();
    // The same instants expressed in UTC, as with Prefer: outlook.timezone="UTC".
    churned["start"] =
        serde_json::json!({"dateTime": "2017-04-15T18:00:00.0000000", "timeZone": "UTC"});
    churned["end"] =
        serde_json::json!({"dateTime": "2017-04-15T19:00:00.0000000", "timeZone": "UTC"});
    churned["id"] = "another-mailbox-id".into();
    assert_eq!(
        semantic_hash(&event_from_graph(&churned).unwrap().event),
        before
    );
}

#[test]
fn model_churn_does_not_change_the_hash() {
    let base = semantic_hash(&meeting());
    let mut e = meeting();
    e.attendees.reverse();
    e.categories.reverse();
    e.ical_uid = Some("other".into());
    e.kind = EventKind::Exception;
    e.series_master_id = Some("m".into());
    e.is_organizer = false;
    e.organizer.as_mut().unwrap().name = Some("Dana S.".into());
    e.organizer.as_mut().unwrap().email = Some(EmailAddress::new("DANA@contoso.com"));
    e.body_html = "<html><body><p>Agenda: budget</p></body></html>".into();
    e.time_zone = Some("Europe/Paris".into()); // not recurring: a label only
    assert_eq!(semantic_hash(&e), base);
}

#[test]
fn every_semantic_change_changes_the_hash() {
    let base = semantic_hash(&meeting());
    type Change = (&'static str, fn(&mut Event));
    let changes: Vec<Change> = vec![
        ("subject", |e| e.subject = "Other".into()),
        ("body", |e| e.body_html = "<p>Agenda: staff</p>".into()),
        ("location", |e| e.location = Some("Room 2".into())),
        ("start", |e| {
            e.start = EventTime::Timed("2024-05-06T08:30:00Z".parse().unwrap())
        }),
        ("end", |e| {
            e.end = EventTime::Timed("2024-05-06T10:00:00Z".parse().unwrap())
        }),
        ("all-day", |e| {
            e.start = EventTime::AllDay(date(2024, 5, 6));
            e.end = EventTime::AllDay(date(2024, 5, 7));
        }),
        ("organizer", |e| {
            e.organizer.as_mut().unwrap().email = Some(EmailAddress::new("lee@contoso.com"))
        }),
        ("attendee added", |e| {
            let mut a = e.attendees[0].clone();
            a.email = Some(EmailAddress::new("new@contoso.com"));
            e.attendees.push(a);
        }),
        ("attendee removed", |e| {
            e.attendees.pop();
        }),
        ("attendee type", |e| {
            e.attendees[0].kind = AttendeeType::Optional
        }),
        ("attendee response", |e| {
            e.attendees[1].response = ResponseStatus::Declined
        }),
        ("own response", |e| e.response = ResponseStatus::Accepted),
        ("privacy", |e| e.privacy = Privacy::Private),
        ("show as", |e| e.show_as = ShowAs::Oof),
        ("reminder", |e| e.reminder_minutes = Some(10)),
        ("reminder off", |e| e.reminder_minutes = None),
        ("online meeting", |e| {
            e.online_meeting_url = Some("https://teams.example/x".into())
        }),
        ("recurrence", |e| {
            e.recurrence = Some(Recurrence {
                pattern: Pattern::Daily { interval: 1 },
                range: Range {
                    start_date: date(2024, 5, 6),
                    end: RangeEnd::Numbered(3),
                    time_zone: None,
                },
            })
        }),
        ("cancelled", |e| e.is_cancelled = true),
        ("categories", |e| e.categories.push("Green".into())),
    ];
    for (what, change) in changes {
        let mut e = meeting();
        change(&mut e);
        assert_ne!(semantic_hash(&e), base, "{what}");
    }
}

#[test]
fn zone_counts_for_recurring_events() {
    let mut e = meeting();
    e.recurrence = Some(Recurrence {
        pattern: Pattern::Daily { interval: 1 },
        range: Range {
            start_date: date(2024, 5, 6),
            end: RangeEnd::NoEnd,
            time_zone: None,
        },
    });
    let base = semantic_hash(&e);
    e.time_zone = Some("America/New_York".into());
    assert_ne!(semantic_hash(&e), base);
}

/// The hash is persisted in sync state: changing the encoding makes every item look changed once. This
/// pins the value of a fixed event so that such a change is deliberate (bump ENCODING_VERSION and say so
/// in the release notes), never accidental.
#[test]
fn encoding_is_pinned() {
    assert_eq!(semantic_hash_hex(&meeting()), PINNED_MEETING_HASH);
}

const PINNED_MEETING_HASH: &str =
    "29f491b5f30297fecbab3813051f5b5a76de387a7762e069d4aee4add0933c65";

#[test]
fn encoding_of_recurrences_is_pinned() {
    let mut e = meeting();
    e.recurrence = Some(Recurrence {
        pattern: Pattern::RelativeMonthly {
            interval: 2,
            days: vec![
                outlook_model::Weekday::Saturday,
                outlook_model::Weekday::Sunday,
            ],
            index: outlook_model::WeekIndex::Last,
        },
        range: Range {
            start_date: date(2024, 5, 6),
            end: RangeEnd::EndDate(date(2025, 5, 6)),
            time_zone: None,
        },
    });
    assert_eq!(
        semantic_hash_hex(&e),
        "88451d7b9f4e2e49c694767b72ed4df437f545ca083a486c0d3c9370c4849ea9"
    );
}
