#![allow(clippy::unwrap_used)]
//! Property tests: Recurrence <-> Graph JSON, Recurrence <-> RRULE, Event -> Graph JSON -> Event.

use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};
use outlook_model::graph::{event_from_graph, to_graph_create};
use outlook_model::odoo::OdooEvent;
use outlook_model::recurrence::{graph_json, odoo, rrule};
use outlook_model::{
    Attendee, AttendeeType, EmailAddress, Event, EventKind, EventTime, ModelError, Pattern,
    Privacy, Range, RangeEnd, Recurrence, ResponseStatus, ShowAs, WeekIndex, Weekday,
};
use proptest::prelude::*;
use serde_json::Value;

/// CLDR territory-001 zones: these survive IANA -> Windows -> IANA unchanged.
const ZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Australia/Sydney",
];

fn weekday() -> impl Strategy<Value = Weekday> {
    prop::sample::select(Weekday::ALL.to_vec())
}

fn days() -> impl Strategy<Value = Vec<Weekday>> {
    prop::collection::btree_set(weekday(), 1..=7).prop_map(|s| s.into_iter().collect())
}

fn index() -> impl Strategy<Value = WeekIndex> {
    prop::sample::select(WeekIndex::ALL.to_vec())
}

fn pattern() -> impl Strategy<Value = Pattern> {
    let interval = 1u32..=999;
    prop_oneof![
        interval
            .clone()
            .prop_map(|interval| Pattern::Daily { interval }),
        (interval.clone(), days(), weekday()).prop_map(|(interval, days, first_day_of_week)| {
            Pattern::Weekly {
                interval,
                days,
                first_day_of_week,
            }
        }),
        (interval.clone(), 1u8..=31).prop_map(|(interval, day_of_month)| {
            Pattern::AbsoluteMonthly {
                interval,
                day_of_month,
            }
        }),
        (interval.clone(), days(), index()).prop_map(|(interval, days, index)| {
            Pattern::RelativeMonthly {
                interval,
                days,
                index,
            }
        }),
        (interval.clone(), 1u8..=12, 1u8..=31).prop_map(|(interval, month, day)| {
            let max = date(2024, month as i8, 1).days_in_month() as u8;
            Pattern::AbsoluteYearly {
                interval,
                day_of_month: day.min(max),
                month,
            }
        }),
        (interval, days(), index(), 1u8..=12).prop_map(|(interval, days, index, month)| {
            Pattern::RelativeYearly {
                interval,
                days,
                index,
                month,
            }
        }),
    ]
}

fn day_in_range() -> impl Strategy<Value = Date> {
    (0i32..40_000).prop_map(|n| date(1990, 1, 1).checked_add(n.days()).unwrap())
}

fn zone() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(ZONES.to_vec()).prop_map(str::to_owned))
}

fn recurrence() -> impl Strategy<Value = Recurrence> {
    (
        pattern(),
        day_in_range(),
        0u8..3,
        0i32..5000,
        1u32..=999,
        zone(),
    )
        .prop_map(|(pattern, start_date, end_kind, days, n, time_zone)| {
            let end = match end_kind {
                0 => RangeEnd::EndDate(start_date.checked_add(days.days()).unwrap()),
                1 => RangeEnd::Numbered(n),
                _ => RangeEnd::NoEnd,
            };
            Recurrence {
                pattern,
                range: Range {
                    start_date,
                    end,
                    time_zone,
                },
            }
        })
}

fn text() -> impl Strategy<Value = String> {
    "([A-Za-z0-9äé'&<>]([A-Za-z0-9äé'&<> ]{0,18}[A-Za-z0-9äé])?)?"
}

fn attendee() -> impl Strategy<Value = Attendee> {
    (
        "[a-z]{1,8}",
        prop::option::of("[A-Z][a-z]{1,8}"),
        prop::sample::select(vec![
            AttendeeType::Required,
            AttendeeType::Optional,
            AttendeeType::Resource,
        ]),
    )
        .prop_map(|(local, name, kind)| Attendee {
            name,
            email: Some(EmailAddress::new(format!("{local}@example.com"))),
            kind,
            response: ResponseStatus::None,
        })
}

fn event() -> impl Strategy<Value = Event> {
    let times = prop_oneof![
        (946_684_800i64..4_102_444_800, 0i64..864_000).prop_map(|(s, d)| (
            EventTime::Timed(Timestamp::from_second(s).unwrap()),
            EventTime::Timed(Timestamp::from_second(s + d).unwrap())
        )),
        (day_in_range(), 1i32..30).prop_map(|(d, n)| (
            EventTime::AllDay(d),
            EventTime::AllDay(d.checked_add(n.days()).unwrap())
        )),
    ];
    (
        (
            text(),
            "(<p>[a-z ]{0,20}</p>)?",
            prop::option::of(text().prop_filter("non-blank", |s| !s.is_empty())),
            times,
            zone(),
        ),
        (
            prop::collection::vec(attendee(), 0..4),
            prop::sample::select(vec![
                Privacy::Normal,
                Privacy::Personal,
                Privacy::Private,
                Privacy::Confidential,
            ]),
            prop::sample::select(vec![
                ShowAs::Unknown,
                ShowAs::Free,
                ShowAs::Tentative,
                ShowAs::Busy,
                ShowAs::Oof,
                ShowAs::WorkingElsewhere,
            ]),
            prop::option::of(0u32..100_000),
            prop::option::of(recurrence()),
            prop::collection::btree_set("[A-Z][a-z]{1,6}", 0..3),
        ),
    )
        .prop_map(
            |(
                (subject, body_html, location, (start, end), time_zone),
                (attendees, privacy, show_as, reminder_minutes, mut recurrence, categories),
            )| {
                // A series starts on the day of its master's start (Graph requires it).
                if let Some(r) = recurrence.as_mut() {
                    let first =
                        first_day(start, time_zone.as_deref().or(r.range.time_zone.as_deref()));
                    if let RangeEnd::EndDate(end) = &mut r.range.end {
                        *end = first
                            .checked_add(end.since(r.range.start_date).unwrap())
                            .unwrap();
                    }
                    r.range.start_date = first;
                }
                Event {
                    ical_uid: None,
                    subject,
                    body_html,
                    location,
                    start,
                    end,
                    time_zone,
                    organizer: None,
                    is_organizer: false,
                    attendees,
                    response: ResponseStatus::None,
                    privacy,
                    show_as,
                    reminder_minutes,
                    online_meeting_url: None,
                    recurrence,
                    deleted_occurrences: Vec::new(),
                    exceptions: Vec::new(),
                    kind: EventKind::Single,
                    series_master_id: None,
                    original_start: None,
                    is_cancelled: false,
                    categories: categories.into_iter().collect(),
                }
            },
        )
}

fn first_day(start: EventTime, zone: Option<&str>) -> Date {
    match start {
        EventTime::AllDay(d) => d,
        EventTime::Timed(ts) => zone
            .map_or(jiff::tz::TimeZone::UTC, |z| {
                jiff::tz::TimeZone::get(z).unwrap()
            })
            .to_datetime(ts)
            .date(),
    }
}

proptest! {
    // 256 cases by default; set PROPTEST_CASES for a longer soak.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn recurrence_graph_json_round_trip(r in recurrence()) {
        let json = graph_json::to_graph_json(&r);
        prop_assert_eq!(graph_json::from_graph_json(&json, "p").unwrap(), r);
    }

    #[test]
    fn recurrence_rrule_round_trip(r in recurrence()) {
        let text = rrule::to_rrule(&r);
        let back = rrule::from_rrule(&text, r.range.start_date, r.range.time_zone.as_deref(), "p").unwrap();
        prop_assert_eq!(back, r, "{}", text);
    }

    #[test]
    fn recurrence_odoo_round_trip_or_typed_refusal(r in recurrence()) {
        match odoo::to_odoo(&r, "p") {
            Ok(fields) => {
                let mut back = odoo::from_odoo(&fields, r.range.start_date, "p").unwrap();
                // Odoo has no week start; to_odoo only accepts rules where it does not matter.
                if let (Pattern::Weekly { first_day_of_week: theirs, .. }, Pattern::Weekly { first_day_of_week: ours, .. }) =
                    (&mut back.pattern, &r.pattern)
                {
                    *theirs = *ours;
                }
                prop_assert_eq!(back, r);
            }
            Err(ModelError::RecurrenceNotRepresentable { target: "Odoo", .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }

    #[test]
    fn event_odoo_round_trip_loses_only_what_odoo_cannot_store(e in event(), organizer in any::<bool>(), cancelled in any::<bool>()) {
        let mut e = e;
        e.is_organizer = organizer;
        e.is_cancelled = cancelled;
        e.response = if organizer { ResponseStatus::Organizer } else { ResponseStatus::TentativelyAccepted };
        e.organizer = Some(outlook_model::Person { name: Some("Dana".into()), email: Some(EmailAddress::new("dana@example.com")) });
        let record = match OdooEvent::from_event(&e) {
            Ok(record) => record,
            Err(ModelError::RecurrenceNotRepresentable { target: "Odoo", .. }) => return Ok(()),
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
        };
        // Through JSON, as the addon would see it.
        let record: OdooEvent = serde_json::from_value(serde_json::to_value(&record).unwrap()).unwrap();
        let back = record.to_event().unwrap();

        // The documented losses, and nothing else.
        let mut expected = e.clone();
        // Bodies are made safe on their way into Odoo (a no-op on this strategy's plain paragraphs).
        expected.body_html = outlook_model::odoo::html::sanitize_description(&e.body_html);
        expected.organizer.as_mut().unwrap().name = None;
        for a in &mut expected.attendees {
            a.kind = AttendeeType::Required;
        }
        if expected.privacy == Privacy::Personal {
            expected.privacy = Privacy::Private;
        }
        if expected.show_as != ShowAs::Free {
            expected.show_as = ShowAs::Busy;
        }
        if expected.recurrence.is_some() {
            expected.kind = EventKind::SeriesMaster;
        }
        if let Some(Recurrence { pattern: Pattern::Weekly { first_day_of_week, .. }, .. }) = expected.recurrence.as_mut() {
            *first_day_of_week = Weekday::Monday;
        }
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn event_graph_json_round_trip(e in event()) {
        let mut body = to_graph_create(&e).unwrap();
        body.insert("id".into(), "p".into());
        let back = event_from_graph(&Value::Object(body)).unwrap().event;

        let mut expected = e.clone();
        // Times are written in the event's effective zone, which Graph then reports as the event's zone.
        expected.time_zone = e.zone_name().map(str::to_owned);
        // Attendees come back in our (sorted, deduplicated) order; an unset rule zone is the event's.
        expected.attendees.sort_by_key(|a| a.email.as_ref().map(EmailAddress::key));
        expected.attendees.dedup_by(|a, b| a.email == b.email);
        if let Some(r) = expected.recurrence.as_mut() {
            if r.range.time_zone.is_none() {
                r.range.time_zone.clone_from(&e.time_zone);
            }
        }
        let mut back = back;
        back.attendees.sort_by_key(|a| a.email.as_ref().map(EmailAddress::key));
        prop_assert_eq!(back, expected);
    }
}
