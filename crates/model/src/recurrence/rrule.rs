//! RFC 5545 RRULE text <-> [`Recurrence`].
//!
//! Only rules Graph can express are accepted; anything else (BYHOUR, BYWEEKNO, a fifth Monday, several
//! months...) is [`ModelError::RecurrenceNotRepresentable`] naming the part, never approximated.
//!
//! Written rules are canonical: `FREQ;INTERVAL;BYMONTH;BYMONTHDAY;BYDAY;BYSETPOS;WKST;COUNT|UNTIL`, with
//! `UNTIL` as a DATE (Graph's end date is a date, inclusive). Relative patterns with one day use an
//! ordinal (`BYDAY=-1FR`); with several days, Graph's "first day that fits" is `BYDAY=SA,SU;BYSETPOS=1`.

use std::collections::BTreeMap;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::{Pattern, Range, RangeEnd, Recurrence, WeekIndex, Weekday, canonical_days};
use crate::error::ModelError;

/// The RRULE for a recurrence (no `RRULE:` prefix, no DTSTART: the event's start carries that).
pub fn to_rrule(recurrence: &Recurrence) -> String {
    let day_list = |days: &[Weekday]| {
        canonical_days(days.to_vec())
            .iter()
            .map(|d| d.ical_code())
            .collect::<Vec<_>>()
            .join(",")
    };
    // Relative rules: one day takes an ordinal; several days are Graph's "first that fits", a BYSETPOS.
    let relative = |days: &[Weekday], index: WeekIndex| match days {
        [one] => vec![format!("BYDAY={}{}", index.ordinal(), one.ical_code())],
        _ => vec![
            format!("BYDAY={}", day_list(days)),
            format!("BYSETPOS={}", index.ordinal()),
        ],
    };
    let (freq, by): (&str, Vec<String>) = match &recurrence.pattern {
        Pattern::Daily { .. } => ("DAILY", vec![]),
        Pattern::Weekly {
            days,
            first_day_of_week,
            ..
        } => (
            "WEEKLY",
            vec![
                format!("BYDAY={}", day_list(days)),
                format!("WKST={}", first_day_of_week.ical_code()),
            ],
        ),
        Pattern::AbsoluteMonthly { day_of_month, .. } => {
            ("MONTHLY", vec![format!("BYMONTHDAY={day_of_month}")])
        }
        Pattern::RelativeMonthly { days, index, .. } => {
            ("MONTHLY", relative(&canonical_days(days.clone()), *index))
        }
        Pattern::AbsoluteYearly {
            day_of_month,
            month,
            ..
        } => (
            "YEARLY",
            vec![
                format!("BYMONTH={month}"),
                format!("BYMONTHDAY={day_of_month}"),
            ],
        ),
        Pattern::RelativeYearly {
            days, index, month, ..
        } => {
            let mut by = vec![format!("BYMONTH={month}")];
            by.extend(relative(&canonical_days(days.clone()), *index));
            ("YEARLY", by)
        }
    };
    let mut parts = vec![
        format!("FREQ={freq}"),
        format!("INTERVAL={}", recurrence.pattern.interval()),
    ];
    parts.extend(by);
    match recurrence.range.end {
        RangeEnd::Numbered(n) => parts.push(format!("COUNT={n}")),
        RangeEnd::EndDate(d) => parts.push(format!("UNTIL={}", d.strftime("%Y%m%d"))),
        RangeEnd::NoEnd => {}
    }
    parts.join(";")
}

/// Parses an RRULE. Accepts an optional `RRULE:` prefix and a `DTSTART` line (as Odoo's `rrule` field
/// carries them); EXDATE/RDATE lines or a second rule are refused by name. `start_date` is the date of the series' first occurrence
/// (in `time_zone`); it fills what the rule leaves implicit (a weekly rule without BYDAY repeats on the
/// start's weekday). `item` labels errors.
pub fn from_rrule(
    text: &str,
    start_date: Date,
    time_zone: Option<&str>,
    item: &str,
) -> Result<Recurrence, ModelError> {
    let rule = rule_line(text, item)?;
    let parts = split_parts(rule, item)?;
    let field = |k: &str| format!("rrule.{k}");
    let unsupported =
        |k: &str, why: &str| ModelError::not_representable(item, field(k), "Graph", why);

    for key in parts.keys() {
        if !matches!(
            key.as_str(),
            "FREQ"
                | "INTERVAL"
                | "COUNT"
                | "UNTIL"
                | "BYDAY"
                | "BYMONTHDAY"
                | "BYMONTH"
                | "BYSETPOS"
                | "WKST"
        ) {
            return Err(unsupported(
                key,
                "Outlook recurrences have no such rule part",
            ));
        }
    }
    let get = |k: &str| parts.get(k).map(String::as_str);
    let interval = match get("INTERVAL") {
        None => 1,
        Some(v) => v.parse::<u32>().map_err(|_| {
            ModelError::invalid(item, field("INTERVAL"), v, "not a positive integer")
        })?,
    };
    let wkst = match get("WKST") {
        None => Weekday::Monday, // RFC 5545's default.
        Some(v) => Weekday::from_ical_code(v)
            .ok_or_else(|| ModelError::invalid(item, field("WKST"), v, "not a weekday code"))?,
    };
    let byday = get("BYDAY").map(|v| parse_byday(v, item)).transpose()?;
    let bymonthday = get("BYMONTHDAY")
        .map(|v| parse_small(v, "BYMONTHDAY", 1, 31, item))
        .transpose()?;
    let bymonth = get("BYMONTH")
        .map(|v| parse_small(v, "BYMONTH", 1, 12, item))
        .transpose()?;
    let bysetpos = get("BYSETPOS")
        .map(|v| {
            let n = v
                .parse::<i8>()
                .map_err(|_| ModelError::invalid(item, field("BYSETPOS"), v, "not an integer"))?;
            WeekIndex::from_ordinal(n).ok_or_else(|| {
                unsupported(
                    "BYSETPOS",
                    "Outlook only has first..fourth and last (1..4, -1)",
                )
            })
        })
        .transpose()?;

    // The days of a relative rule: either one ordinal day (`-1FR`), or plain days with BYSETPOS.
    let relative =
        |byday: &[(Option<i8>, Weekday)]| -> Result<Option<(Vec<Weekday>, WeekIndex)>, ModelError> {
            let ordinals: Vec<i8> = byday.iter().filter_map(|(o, _)| *o).collect();
            match (ordinals.as_slice(), bysetpos) {
                ([], None) => Ok(None),
                ([], Some(index)) => Ok(Some((
                    canonical_days(byday.iter().map(|(_, d)| *d).collect()),
                    index,
                ))),
                ([o], None) if byday.len() == 1 => {
                    let index = WeekIndex::from_ordinal(*o).ok_or_else(|| {
                        unsupported(
                            "BYDAY",
                            "Outlook only has first..fourth and last (1..4, -1)",
                        )
                    })?;
                    Ok(Some((vec![byday[0].1], index)))
                }
                _ => Err(unsupported(
                    "BYDAY",
                    "several ordinal days, or ordinals mixed with BYSETPOS, have no Outlook equivalent",
                )),
            }
        };
    let plain_days =
        |byday: &[(Option<i8>, Weekday)], k: &str| -> Result<Vec<Weekday>, ModelError> {
            if byday.iter().any(|(o, _)| o.is_some()) || bysetpos.is_some() {
                return Err(unsupported(
                    k,
                    "ordinal days only exist in monthly and yearly Outlook rules",
                ));
            }
            Ok(canonical_days(byday.iter().map(|(_, d)| *d).collect()))
        };

    let freq = get("FREQ")
        .ok_or_else(|| ModelError::invalid(item, field("FREQ"), "", "FREQ is required"))?;
    let pattern = match freq.to_ascii_uppercase().as_str() {
        "DAILY" => {
            if bymonthday.is_some() || bymonth.is_some() {
                return Err(unsupported("FREQ", "a daily rule with BYMONTH/BYMONTHDAY"));
            }
            match byday {
                None => Pattern::Daily { interval },
                // "Every weekday" is commonly written DAILY;BYDAY=MO,TU,WE,TH,FR: with interval 1 it is
                // exactly a weekly rule on those days.
                Some(d) if interval == 1 => Pattern::Weekly {
                    interval: 1,
                    days: plain_days(&d, "BYDAY")?,
                    first_day_of_week: wkst,
                },
                Some(_) => {
                    return Err(unsupported(
                        "BYDAY",
                        "a daily rule with an interval and BYDAY",
                    ));
                }
            }
        }
        "WEEKLY" => {
            if bymonthday.is_some() || bymonth.is_some() {
                return Err(unsupported("FREQ", "a weekly rule with BYMONTH/BYMONTHDAY"));
            }
            let days = match byday {
                Some(d) => plain_days(&d, "BYDAY")?,
                None => vec![Weekday::of(start_date)],
            };
            Pattern::Weekly {
                interval,
                days,
                first_day_of_week: wkst,
            }
        }
        "MONTHLY" => {
            if bymonth.is_some() {
                return Err(unsupported(
                    "BYMONTH",
                    "a monthly rule limited to some months",
                ));
            }
            match (byday, bymonthday) {
                (Some(_), Some(_)) => {
                    return Err(unsupported("BYDAY", "BYDAY together with BYMONTHDAY"));
                }
                (Some(d), None) => match relative(&d)? {
                    Some((days, index)) => Pattern::RelativeMonthly {
                        interval,
                        days,
                        index,
                    },
                    None => return Err(unsupported("BYDAY", "every given weekday of the month")),
                },
                (None, day) => {
                    if bysetpos.is_some() {
                        return Err(unsupported("BYSETPOS", "BYSETPOS without BYDAY"));
                    }
                    Pattern::AbsoluteMonthly {
                        interval,
                        day_of_month: day.unwrap_or(start_date.day().unsigned_abs()),
                    }
                }
            }
        }
        "YEARLY" => {
            let month = bymonth.unwrap_or(start_date.month().unsigned_abs());
            match (byday, bymonthday) {
                (Some(_), Some(_)) => {
                    return Err(unsupported("BYDAY", "BYDAY together with BYMONTHDAY"));
                }
                (Some(d), None) => match relative(&d)? {
                    Some((days, index)) => Pattern::RelativeYearly {
                        interval,
                        days,
                        index,
                        month,
                    },
                    None => return Err(unsupported("BYDAY", "every given weekday of the year")),
                },
                (None, day) => {
                    if bysetpos.is_some() {
                        return Err(unsupported("BYSETPOS", "BYSETPOS without BYDAY"));
                    }
                    Pattern::AbsoluteYearly {
                        interval,
                        day_of_month: day.unwrap_or(start_date.day().unsigned_abs()),
                        month,
                    }
                }
            }
        }
        other => {
            return Err(unsupported(
                "FREQ",
                &format!("FREQ={other} has no Outlook equivalent"),
            ));
        }
    };
    let end =
        match (get("COUNT"), get("UNTIL")) {
            (Some(_), Some(_)) => {
                return Err(ModelError::invalid(
                    item,
                    field("UNTIL"),
                    rule,
                    "COUNT and UNTIL are exclusive",
                ));
            }
            (Some(c), None) => RangeEnd::Numbered(c.parse::<u32>().map_err(|_| {
                ModelError::invalid(item, field("COUNT"), c, "not a positive integer")
            })?),
            (None, Some(u)) => RangeEnd::EndDate(parse_until(u, time_zone, item)?),
            (None, None) => RangeEnd::NoEnd,
        };
    let recurrence = Recurrence {
        pattern,
        range: Range {
            start_date,
            end,
            time_zone: time_zone
                .map(str::trim)
                .filter(|z| !z.is_empty())
                .map(str::to_owned),
        },
    };
    recurrence.validate(item)?;
    Ok(recurrence)
}

fn rule_line<'a>(text: &'a str, item: &str) -> Result<&'a str, ModelError> {
    // DTSTART is redundant with the event's start; everything else besides the one RRULE changes the
    // set of occurrences and has no place in an Outlook rule.
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !starts_with_ignore_case(l, "DTSTART"));
    let first = lines
        .next()
        .ok_or_else(|| ModelError::invalid(item, "rrule", text, "no RRULE found"))?;
    if let Some(extra) = lines.next() {
        let name = extra.split([':', ';']).next().unwrap_or(extra);
        return Err(ModelError::not_representable(
            item,
            format!("rrule.{}", name.to_ascii_uppercase()),
            "Graph",
            "an Outlook series is one rule; extra rules and dates (EXDATE, RDATE) are deleted or added \
             occurrences, which have to be synced as such",
        ));
    }
    Ok(if starts_with_ignore_case(first, "RRULE:") {
        &first["RRULE:".len()..]
    } else {
        first
    })
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn split_parts(rule: &str, item: &str) -> Result<BTreeMap<String, String>, ModelError> {
    let mut parts = BTreeMap::new();
    for part in rule.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| ModelError::invalid(item, "rrule", part, "expected NAME=VALUE"))?;
        let key = k.trim().to_ascii_uppercase();
        if parts.insert(key.clone(), v.trim().to_owned()).is_some() {
            return Err(ModelError::invalid(
                item,
                format!("rrule.{key}"),
                part,
                "given twice",
            ));
        }
    }
    Ok(parts)
}

fn parse_small(v: &str, key: &str, min: u8, max: u8, item: &str) -> Result<u8, ModelError> {
    if v.contains(',') {
        return Err(ModelError::not_representable(
            item,
            format!("rrule.{key}"),
            "Graph",
            "several values; Outlook rules take one",
        ));
    }
    match v.parse::<i16>() {
        Ok(n) if n < 0 => Err(ModelError::not_representable(
            item,
            format!("rrule.{key}"),
            "Graph",
            "negative values (counting from the end) have no Outlook equivalent",
        )),
        Ok(n) if (i16::from(min)..=i16::from(max)).contains(&n) => Ok(n as u8),
        _ => Err(ModelError::invalid(
            item,
            format!("rrule.{key}"),
            v,
            format!("must be between {min} and {max}"),
        )),
    }
}

fn parse_byday(v: &str, item: &str) -> Result<Vec<(Option<i8>, Weekday)>, ModelError> {
    v.split(',')
        .map(|entry| {
            let entry = entry.trim();
            let bad = || ModelError::invalid(item, "rrule.BYDAY", entry, "expected [+-n]MO..SU");
            let split = entry.len().checked_sub(2).ok_or_else(bad)?;
            let (ordinal, code) = (
                entry.get(..split).ok_or_else(bad)?,
                entry.get(split..).ok_or_else(bad)?,
            );
            let day = Weekday::from_ical_code(code).ok_or_else(bad)?;
            let ordinal = match ordinal.trim_start_matches('+') {
                "" => None,
                n => Some(n.parse::<i8>().map_err(|_| bad())?),
            };
            Ok((ordinal, day))
        })
        .collect()
}

/// UNTIL is a DATE, a floating DATE-TIME, or a UTC DATE-TIME; Graph wants the last date in the rule's zone.
fn parse_until(v: &str, time_zone: Option<&str>, item: &str) -> Result<Date, ModelError> {
    let bad = |reason: &str| ModelError::invalid(item, "rrule.UNTIL", v, reason);
    if v.len() == 8 {
        return Date::strptime("%Y%m%d", v).map_err(|_| bad("expected YYYYMMDD"));
    }
    let (local, utc) = match v.strip_suffix(['Z', 'z']) {
        Some(local) => (local, true),
        None => (v, false),
    };
    let dt = DateTime::strptime("%Y%m%dT%H%M%S", local)
        .map_err(|_| bad("expected YYYYMMDD[THHMMSS[Z]]"))?;
    if !utc {
        return Ok(dt.date());
    }
    let tz = match time_zone.map(str::trim).filter(|z| !z.is_empty()) {
        // Any name the model accepts elsewhere (IANA, legacy or Windows) is accepted here too.
        Some(name) => crate::timezones::resolve(name, item, "rrule.UNTIL")?.tz,
        None => TimeZone::UTC,
    };
    let ts = dt
        .to_zoned(TimeZone::UTC)
        .map_err(|e| bad(&e.to_string()))?
        .timestamp();
    Ok(ts.to_zoned(tz).date())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::date;

    fn parse(text: &str) -> Result<Recurrence, ModelError> {
        from_rrule(text, date(2024, 1, 1), None, "e1")
    }

    #[test]
    fn common_rules() {
        let r = parse(
            "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=WE,MO;WKST=SU;COUNT=10",
        )
        .unwrap();
        assert_eq!(
            r.pattern,
            Pattern::Weekly {
                interval: 2,
                days: vec![Weekday::Monday, Weekday::Wednesday],
                first_day_of_week: Weekday::Sunday
            }
        );
        assert_eq!(r.range.end, RangeEnd::Numbered(10));
        assert_eq!(
            to_rrule(&r),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU;COUNT=10"
        );

        let r = parse("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20241231T235959Z").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::RelativeMonthly {
                interval: 1,
                days: vec![Weekday::Friday],
                index: WeekIndex::Last
            }
        );
        assert_eq!(r.range.end, RangeEnd::EndDate(date(2024, 12, 31)));

        let r = parse("FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::RelativeMonthly {
                interval: 1,
                days: vec![Weekday::Saturday, Weekday::Sunday],
                index: WeekIndex::First
            }
        );
        assert_eq!(
            to_rrule(&r),
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=SA,SU;BYSETPOS=1"
        );

        let r = parse("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::RelativeYearly {
                interval: 1,
                days: vec![Weekday::Thursday],
                index: WeekIndex::Fourth,
                month: 11
            }
        );

        // Implicit parts come from the start date (2024-01-01 is a Monday).
        assert_eq!(
            parse("FREQ=YEARLY").unwrap().pattern,
            Pattern::AbsoluteYearly {
                interval: 1,
                day_of_month: 1,
                month: 1
            }
        );
        assert_eq!(
            parse("FREQ=WEEKLY").unwrap().pattern,
            Pattern::Weekly {
                interval: 1,
                days: vec![Weekday::Monday],
                first_day_of_week: Weekday::Monday
            }
        );
        // Every weekday.
        assert!(
            matches!(parse("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR").unwrap().pattern, Pattern::Weekly { interval: 1, ref days, .. } if days.len() == 5)
        );
    }

    #[test]
    fn until_in_utc_is_read_in_the_rule_zone() {
        // 2024-03-01T03:00Z is still 2024-02-29 in Los Angeles.
        let r = from_rrule(
            "FREQ=DAILY;UNTIL=20240301T030000Z",
            date(2024, 2, 1),
            Some("America/Los_Angeles"),
            "e1",
        )
        .unwrap();
        assert_eq!(r.range.end, RangeEnd::EndDate(date(2024, 2, 29)));
    }

    #[test]
    fn rules_outlook_cannot_express_are_refused_by_part() {
        for (rule, part) in [
            ("FREQ=HOURLY", "FREQ"),
            ("FREQ=DAILY;BYHOUR=9", "BYHOUR"),
            ("FREQ=MONTHLY;BYDAY=5MO", "BYDAY"),
            ("FREQ=MONTHLY;BYDAY=1MO,3MO", "BYDAY"),
            ("FREQ=MONTHLY;BYMONTHDAY=-1", "BYMONTHDAY"),
            ("FREQ=YEARLY;BYMONTH=1,7", "BYMONTH"),
            ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY"),
            ("RRULE:FREQ=DAILY\nEXDATE:20240102T090000Z", "EXDATE"),
            ("FREQ=DAILY\nRRULE:FREQ=WEEKLY", "RRULE"),
        ] {
            match parse(rule) {
                Err(ModelError::RecurrenceNotRepresentable { field, .. }) => {
                    assert_eq!(field, format!("rrule.{part}"), "{rule}")
                }
                other => panic!("{rule}: {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_and_absurd_rules_are_errors() {
        for rule in [
            "",
            "FREQ",
            "INTERVAL=2",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;COUNT=1000000000",
            "FREQ=DAILY;UNTIL=99991231",
            "FREQ=DAILY;COUNT=2;UNTIL=20240101",
            "FREQ=DAILY;FREQ=WEEKLY",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=DAILY;UNTIL=2024",
        ] {
            assert!(parse(rule).is_err(), "{rule}");
        }
    }
}
