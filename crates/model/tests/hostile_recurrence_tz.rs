#![allow(clippy::unwrap_used)]
//! Absurd recurrences and time zones: Graph patterns and ranges, RRULE text and Odoo recurrence
//! fields with intervals and counts of 0 or 10^9, end dates in year 1 or 9999, day 31 in February,
//! unknown or empty zone names; Windows <-> IANA lookups of arbitrary names; events at the edges of
//! time written to Graph and Odoo. Nothing panics; a rule is converted exactly or refused with an
//! error naming the item and the rule part.
//!
//! Short form: plain `cargo test`. Long form: `PROPTEST_CASES=20000 cargo test -p outlook-model
//! --test hostile_recurrence_tz -- --nocapture` (prints one `hostile-input:` line per property).

mod hostile_support;

use hostile_support::{Outcome, check_error_shape, error_field, run};
use jiff::Timestamp;
use jiff::civil::Date;
use outlook_model::graph::to_graph_create;
use outlook_model::odoo::{OdooEndType, OdooEvent, OdooMonthBy, OdooRecurrence, OdooRruleType};
use outlook_model::recurrence::{graph_json, odoo, rrule};
use outlook_model::{Event, EventTime, ModelError, Recurrence, timezones};
use proptest::prelude::*;
use serde_json::{Value, json};

const ITEM: &str = "item-7";

fn absurd_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        // Sane values often enough that accepted rules are checked too.
        6 => 1i64..=12,
        2 => prop::sample::select(vec![
            0i64,
            1,
            2,
            4,
            5,
            7,
            12,
            13,
            29,
            30,
            31,
            32,
            255,
            256,
            998,
            999,
            1000,
            1_000_000_000,
            -1,
            i64::from(u32::MAX),
            i64::MAX,
            i64::MIN,
        ]),
        1 => any::<i64>(),
    ]
}

fn absurd_date() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (1601i16..=4500, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => prop::sample::select(vec![
            "0001-01-01",
            "1600-12-31",
            "1601-01-01",
            "1900-01-01",
            "2024-02-29",
            "2025-02-29",
            "2026-02-31",
            "2026-06-01",
            "2200-01-01",
            "4500-12-31",
            "4501-01-01",
            "9999-12-31",
            "-009999-01-01",
            "",
            "2026-6-1",
            "garbage",
        ])
        .prop_map(str::to_owned),
        1 => (-9999i16..=9999, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
    ]
}

fn zone_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "",
            " ",
            "UTC",
            "Etc/UTC",
            "Europe/Brussels",
            "Asia/Calcutta",
            "US/Eastern",
            "Pacific Standard Time",
            "pacific standard time",
            "W. Europe Standard Time",
            "tzone://Microsoft/Custom",
            "Customized Time Zone",
            "Asia/Toshkent (Tashkent)",
            "Mars/Olympus_Mons",
            "Europe/",
            "/",
            " (",
            "a (b",
            "../../../etc/passwd",
            "Europe/Brussels\u{0}",
            "Europe/Brussels (",
            "( )",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,30}",
        1 => "[A-Za-z_/+-]{0,30}",
    ]
}

fn one_of(values: &[&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values.to_vec()).prop_map(str::to_owned)
}

fn graph_recurrence() -> impl Strategy<Value = Value> {
    let pattern = (
        one_of(&[
            "daily",
            "weekly",
            "absoluteMonthly",
            "relativeMonthly",
            "absoluteYearly",
            "relativeYearly",
            "hourly",
            "",
        ]),
        absurd_int(),
        prop::collection::vec(
            one_of(&[
                "monday", "friday", "SUNDAY", "monday", "friday", "funday", "",
            ]),
            1..3,
        ),
        one_of(&["sunday", "monday", "sunday", "monday", "x"]),
        one_of(&[
            "first", "second", "fourth", "last", "LAST", "first", "last", "fifth", "",
        ]),
        absurd_int(),
        absurd_int(),
    )
        .prop_map(|(kind, interval, days, first, index, day, month)| {
            json!({"type": kind, "interval": interval, "daysOfWeek": days, "firstDayOfWeek": first,
                   "index": index, "dayOfMonth": day, "month": month})
        });
    let range = (
        one_of(&[
            "endDate", "numbered", "noEnd", "NOEND", "endDate", "numbered", "forever",
        ]),
        absurd_date(),
        prop::option::of(absurd_date()),
        prop::option::of(absurd_int()),
        prop::option::of(zone_name()),
    )
        .prop_map(|(kind, start, end, count, zone)| {
            json!({"type": kind, "startDate": start, "endDate": end, "numberOfOccurrences": count,
                   "recurrenceTimeZone": zone})
        });
    (pattern, range).prop_map(|(pattern, range)| json!({"pattern": pattern, "range": range}))
}

/// The rule with its zone as Outlook can tell it apart: Graph speaks Windows zone names, so a rule
/// zone goes out as its Windows zone and comes back as that zone's CLDR city (`Europe/Brussels` ->
/// `Romance Standard Time` -> `Europe/Paris`, `UTC` -> `UTC` -> `Etc/UTC`). Zones compare by that.
fn canonical(rule: &Recurrence) -> Recurrence {
    let mut rule = rule.clone();
    rule.range.time_zone = rule.range.time_zone.as_deref().map(|z| {
        let zone = timezones::resolve(z, ITEM, "zone").unwrap();
        zone.windows_name
            .and_then(timezones::windows_to_iana)
            .map_or(zone.iana_name, str::to_owned)
    });
    rule
}

/// A rule that was accepted must survive every conversion (exactly, or as a typed refusal).
fn check_accepted_rule(rule: &Recurrence) -> Result<(), TestCaseError> {
    prop_assert!(rule.validate(ITEM).is_ok());
    let back = graph_json::from_graph_json(&graph_json::to_graph_json(rule), ITEM);
    prop_assert_eq!(back.map(|r| canonical(&r)), Ok(canonical(rule)));
    let text = rrule::to_rrule(rule);
    let back = rrule::from_rrule(
        &text,
        rule.range.start_date,
        rule.range.time_zone.as_deref(),
        ITEM,
    );
    prop_assert_eq!(back.map(|r| canonical(&r)), Ok(canonical(rule)), "{}", text);
    match odoo::to_odoo(rule, ITEM) {
        Ok(fields) => {
            let back = odoo::from_odoo(&fields, rule.range.start_date, ITEM);
            prop_assert!(back.is_ok(), "{:?}", back);
        }
        Err(ModelError::RecurrenceNotRepresentable { .. }) => {}
        Err(other) => prop_assert!(false, "to_odoo: {}", other),
    }
    Ok(())
}

fn refused(error: &ModelError, prefix: &str) -> Result<Outcome, TestCaseError> {
    check_error_shape(error)?;
    let field = error_field(error);
    prop_assert!(field.starts_with(prefix), "field {} in {}", field, error);
    Ok(Outcome::Refused)
}

#[test]
fn graph_patterns_and_ranges_with_absurd_values() {
    run(
        "recurrence_graph",
        512,
        graph_recurrence(),
        |value| match graph_json::from_graph_json(&value, ITEM) {
            Ok(rule) => {
                check_accepted_rule(&rule)?;
                Ok(Outcome::Accepted)
            }
            Err(error) => refused(&error, "recurrence"),
        },
    );
}

fn rrule_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        one_of(&[
            "FREQ=DAILY",
            "FREQ=WEEKLY",
            "FREQ=MONTHLY",
            "FREQ=YEARLY",
            "FREQ=HOURLY",
            "FREQ=",
            "WKST=SU",
            "WKST=XX",
            "BYDAY=MO,WE",
            "BYDAY=-1FR",
            "BYDAY=5MO",
            "BYDAY=+0SU",
            "BYDAY=127MO",
            "BYDAY=-128MO",
            "BYDAY=999MO",
            "BYDAY=",
            "BYDAY=,",
            "BYDAY=é",
            "BYMONTHDAY=31",
            "BYMONTHDAY=-1",
            "BYMONTHDAY=0",
            "BYMONTHDAY=32",
            "BYMONTH=2",
            "BYMONTH=13",
            "BYMONTH=1,7",
            "BYSETPOS=-1",
            "BYSETPOS=5",
            "BYSETPOS=x",
            "UNTIL=00010101",
            "UNTIL=99991231",
            "UNTIL=99991231T235959Z",
            "UNTIL=20260230",
            "UNTIL=2026",
            "UNTIL=20260601T120000",
            "UNTIL=20260601T120000Z",
            "UNTIL=-0010101",
            "X-FOO=1",
            "=",
            ";",
            "\n",
            "\nEXDATE:20260101",
            "\nDTSTART:20260101T090000Z",
        ]),
        absurd_int().prop_map(|n| format!("INTERVAL={n}")),
        absurd_int().prop_map(|n| format!("COUNT={n}")),
        Just("INTERVAL=99999999999999999999".to_owned()),
        "[A-Z=;,0-9-]{0,20}",
    ];
    let freq = prop_oneof![
        4 => one_of(&["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY"]),
        1 => Just(String::new()),
    ];
    (
        prop::option::of(one_of(&[
            "RRULE:",
            "rrule:",
            "DTSTART:20260101T090000\nRRULE:",
        ])),
        freq,
        prop::collection::vec(part, 0..4),
    )
        .prop_map(|(prefix, freq, parts)| {
            format!("{}{freq};{}", prefix.unwrap_or_default(), parts.join(";"))
        })
}

fn start_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        prop::sample::select(vec![
            Date::MIN,
            Date::MAX,
            jiff::civil::date(1, 1, 1),
            jiff::civil::date(1601, 1, 1),
            jiff::civil::date(2024, 1, 31),
            jiff::civil::date(2026, 2, 28),
            jiff::civil::date(4500, 12, 31),
        ]),
        (-9999i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| jiff::civil::date(y, m, d)),
    ]
}

#[test]
fn rrule_text_with_absurd_values() {
    let strategy = (rrule_text(), start_date(), prop::option::of(zone_name()));
    run("recurrence_rrule", 512, strategy, |(text, start, zone)| {
        match rrule::from_rrule(&text, start, zone.as_deref(), ITEM) {
            Ok(rule) => {
                check_accepted_rule(&rule)?;
                Ok(Outcome::Accepted)
            }
            // Bounds are checked on the parsed rule and named in the model's (Graph's) terms.
            Err(error) if error_field(&error).starts_with("recurrence") => {
                refused(&error, "recurrence")
            }
            Err(error) => refused(&error, "rrule"),
        }
    });
}

fn odoo_recurrence() -> impl Strategy<Value = OdooRecurrence> {
    let kind = prop::sample::select(vec![
        OdooRruleType::Daily,
        OdooRruleType::Weekly,
        OdooRruleType::Monthly,
        OdooRruleType::Yearly,
    ]);
    let end = prop::sample::select(vec![
        OdooEndType::Count,
        OdooEndType::EndDate,
        OdooEndType::Forever,
    ]);
    let count = prop_oneof![
        prop::sample::select(vec![0u32, 1, 999, 1000, 1_000_000_000, u32::MAX]),
        any::<u32>()
    ];
    (
        (
            kind,
            count.clone(),
            end,
            prop::option::of(count),
            prop::option::of(start_date()),
        ),
        (
            any::<[bool; 7]>(),
            prop::option::of(prop::sample::select(vec![
                OdooMonthBy::Date,
                OdooMonthBy::Day,
            ])),
            prop::option::of(any::<u8>()),
            prop::option::of(one_of(&["1", "4", "-1", "5", "0", "-2", "x", ""])),
            prop::option::of(one_of(&["MO", "FR", "SU", "XX", ""])),
            prop::option::of(zone_name()),
        ),
    )
        .prop_map(
            |(
                (rrule_type, interval, end_type, count, until),
                (days, month_by, day, byday, weekday, event_tz),
            )| {
                OdooRecurrence {
                    rrule_type,
                    interval,
                    end_type,
                    count,
                    until,
                    mon: days[0],
                    tue: days[1],
                    wed: days[2],
                    thu: days[3],
                    fri: days[4],
                    sat: days[5],
                    sun: days[6],
                    month_by,
                    day,
                    byday,
                    weekday,
                    event_tz,
                    rrule: None,
                    deleted_dates: Vec::new(),
                    exceptions: Vec::new(),
                }
            },
        )
}

#[test]
fn odoo_recurrence_fields_with_absurd_values() {
    let strategy = (odoo_recurrence(), start_date());
    run(
        "recurrence_odoo",
        512,
        strategy,
        |(fields, start)| match odoo::from_odoo(&fields, start, ITEM) {
            Ok(rule) => {
                check_accepted_rule(&rule)?;
                Ok(Outcome::Accepted)
            }
            Err(error) => {
                check_error_shape(&error)?;
                Ok(Outcome::Refused)
            }
        },
    );
}

#[test]
fn zone_lookups_of_arbitrary_names() {
    run("time_zones", 1024, zone_name(), |name| {
        let _ = timezones::windows_to_iana(&name);
        let _ = timezones::iana_to_windows(&name);
        let _ = timezones::modern_iana_name(&name);
        match timezones::resolve(&name, ITEM, "start.timeZone") {
            Ok(zone) => {
                // A resolved zone must resolve again under the name we store, to the same rules.
                let again = timezones::resolve(&zone.iana_name, ITEM, "time_zone");
                prop_assert!(again.is_ok(), "{} -> {}", name, zone.iana_name);
                Ok(Outcome::Accepted)
            }
            Err(error) => {
                check_error_shape(&error)?;
                let unknown = matches!(error, ModelError::UnknownTimeZone { .. });
                prop_assert!(unknown, "{}", error);
                Ok(Outcome::Refused)
            }
        }
    });
}

fn edge_time() -> impl Strategy<Value = EventTime> {
    prop_oneof![
        prop::sample::select(vec![Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH])
            .prop_map(EventTime::Timed),
        (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
            .prop_map(|s| EventTime::Timed(Timestamp::from_second(s).unwrap())),
        start_date().prop_map(EventTime::AllDay),
        prop::sample::select(vec![Date::MIN, Date::MAX]).prop_map(EventTime::AllDay),
    ]
}

#[test]
fn events_at_the_edges_of_time_are_written_or_refused() {
    let strategy = (
        edge_time(),
        edge_time(),
        prop::option::of(zone_name()),
        prop::option::of(graph_recurrence()),
    );
    run(
        "event_edges",
        512,
        strategy,
        |(start, end, zone, recurrence)| {
            let mut event: Event =
                serde_json::from_value(json!({"start": start, "end": end})).unwrap();
            event.subject = "Edge".into();
            event.time_zone = zone;
            event.recurrence = recurrence.and_then(|r| graph_json::from_graph_json(&r, ITEM).ok());
            let graph = to_graph_create(&event);
            let odoo = OdooEvent::from_event(&event);
            if let Ok(record) = &odoo {
                let _ = record.to_event();
            }
            let _ = outlook_model::semantic_hash(&event);
            match (graph, odoo) {
                (Ok(_), Ok(_)) => Ok(Outcome::Accepted),
                (Err(error), _) | (_, Err(error)) => {
                    check_error_shape(&error)?;
                    Ok(Outcome::Refused)
                }
            }
        },
    );
}
