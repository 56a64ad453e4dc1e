//! Odoo 18's `calendar.recurrence` fields <-> [`Recurrence`].
//!
//! Odoo's vocabulary is narrower than Outlook's: no `relativeYearly`, one weekday in monthly-by-day rules,
//! yearly rules only on the start's own date, no week start (dateutil's default, Monday). A Graph rule
//! outside that vocabulary is [`ModelError::RecurrenceNotRepresentable`], never a lookalike.
//! The fields are authoritative; Odoo's `rrule` string is filled on the way out for reference and ignored
//! on the way in.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Pattern, Range, RangeEnd, Recurrence, WeekIndex, Weekday, canonical_days, rrule};
use crate::error::ModelError;
use crate::odoo::falsy;

/// Odoo's `rrule_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OdooRruleType {
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Monthly.
    Monthly,
    /// Yearly.
    Yearly,
}

/// Odoo's `end_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OdooEndType {
    /// After `count` occurrences.
    Count,
    /// Until `until` (inclusive).
    EndDate,
    /// Never.
    Forever,
}

/// Odoo's `month_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OdooMonthBy {
    /// On day `day` of the month.
    Date,
    /// On the `byday` `weekday` of the month.
    Day,
}

/// The recurrence fields of an Odoo `calendar.recurrence` record, as the addon reads them (`False` is
/// accepted for every optional field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdooRecurrence {
    /// Frequency.
    pub rrule_type: OdooRruleType,
    /// Interval (>= 1).
    pub interval: u32,
    /// How the series ends.
    pub end_type: OdooEndType,
    /// Number of occurrences (`end_type == count`).
    #[serde(default, deserialize_with = "falsy::option")]
    pub count: Option<u32>,
    /// Last date (`end_type == end_date`), inclusive.
    #[serde(default, deserialize_with = "falsy::option")]
    pub until: Option<Date>,
    /// Weekly on Monday.
    #[serde(default)]
    pub mon: bool,
    /// Weekly on Tuesday.
    #[serde(default)]
    pub tue: bool,
    /// Weekly on Wednesday.
    #[serde(default)]
    pub wed: bool,
    /// Weekly on Thursday.
    #[serde(default)]
    pub thu: bool,
    /// Weekly on Friday.
    #[serde(default)]
    pub fri: bool,
    /// Weekly on Saturday.
    #[serde(default)]
    pub sat: bool,
    /// Weekly on Sunday.
    #[serde(default)]
    pub sun: bool,
    /// Monthly by date or by weekday.
    #[serde(default, deserialize_with = "falsy::option")]
    pub month_by: Option<OdooMonthBy>,
    /// Day of the month (`month_by == date`).
    #[serde(default, deserialize_with = "falsy::option")]
    pub day: Option<u8>,
    /// Week of the month: `"1"`..`"4"` or `"-1"` (`month_by == day`).
    #[serde(default, deserialize_with = "falsy::string")]
    pub byday: Option<String>,
    /// Weekday code `"MO"`..`"SU"` (`month_by == day`).
    #[serde(default, deserialize_with = "falsy::string")]
    pub weekday: Option<String>,
    /// IANA zone the rule is evaluated in.
    #[serde(default, deserialize_with = "falsy::string")]
    pub event_tz: Option<String>,
    /// Odoo's RRULE text; informational (see the module notes).
    #[serde(default, deserialize_with = "falsy::string")]
    pub rrule: Option<String>,
    /// Deleted occurrences: the dates (in the series' zone, `YYYY-MM-DD`) the rule gives but the
    /// series no longer has (Odoo: no active event of the recurrence on that day; Outlook:
    /// `cancelledOccurrences`). Not part of the rule itself: [`from_odoo`] and [`to_odoo`] leave
    /// it alone, and [`crate::odoo::OdooEvent`] carries it to and from
    /// [`crate::Event::deleted_occurrences`].
    #[serde(default)]
    pub deleted_dates: Vec<Date>,
    /// Edited occurrences ([`crate::Event::exceptions`]): `[{"date": "2026-06-02", "start": ...,
    /// "stop": ..., "name": ..., "location": ..., "description": ...}, ...]`, each with its full
    /// times, name and location, and its description unless it is the series' (see
    /// [`crate::odoo::OdooException`]). Read in any order; written sorted by date, one per
    /// occurrence whose times, name, location or description differ from what the rule and the
    /// series give. Like `deleted_dates`, not part of the rule: [`from_odoo`] and [`to_odoo`]
    /// leave it alone.
    #[serde(default)]
    pub exceptions: Vec<crate::odoo::OdooException>,
}

impl OdooRecurrence {
    fn day_flags(&self) -> Vec<Weekday> {
        let flags = [
            self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun,
        ];
        Weekday::ALL
            .into_iter()
            .zip(flags)
            .filter_map(|(d, on)| on.then_some(d))
            .collect()
    }
}

/// A zone name, `None` when missing or blank (Odoo's `False` and `""` both mean "no zone").
fn blank_is_none(zone: Option<&str>) -> Option<String> {
    zone.map(str::trim)
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
}

/// Odoo's fields for a rule, or [`ModelError::RecurrenceNotRepresentable`] naming what Odoo lacks.
pub fn to_odoo(recurrence: &Recurrence, item: &str) -> Result<OdooRecurrence, ModelError> {
    let no = |field: &str, reason: &str| ModelError::not_representable(item, field, "Odoo", reason);
    let mut out = OdooRecurrence {
        rrule_type: OdooRruleType::Daily,
        interval: recurrence.pattern.interval(),
        end_type: OdooEndType::Forever,
        count: None,
        until: None,
        mon: false,
        tue: false,
        wed: false,
        thu: false,
        fri: false,
        sat: false,
        sun: false,
        month_by: None,
        day: None,
        byday: None,
        weekday: None,
        event_tz: recurrence.range.time_zone.clone(),
        rrule: Some(rrule::to_rrule(recurrence)),
        deleted_dates: Vec::new(),
        exceptions: Vec::new(),
    };
    let one_day = |days: &[Weekday]| -> Result<Weekday, ModelError> {
        match days {
            [d] => Ok(*d),
            _ => Err(no(
                "recurrence.pattern.daysOfWeek",
                "Odoo's monthly-by-weekday rule takes exactly one weekday",
            )),
        }
    };
    match &recurrence.pattern {
        Pattern::Daily { .. } => {}
        Pattern::Weekly {
            interval,
            days,
            first_day_of_week,
        } => {
            if *interval > 1 && splits_weeks_differently(days, *first_day_of_week) {
                return Err(no(
                    "recurrence.pattern.firstDayOfWeek",
                    "Odoo weeks start on Monday; with this interval and these days the occurrences would differ",
                ));
            }
            out.rrule_type = OdooRruleType::Weekly;
            for d in days {
                match d {
                    Weekday::Monday => out.mon = true,
                    Weekday::Tuesday => out.tue = true,
                    Weekday::Wednesday => out.wed = true,
                    Weekday::Thursday => out.thu = true,
                    Weekday::Friday => out.fri = true,
                    Weekday::Saturday => out.sat = true,
                    Weekday::Sunday => out.sun = true,
                }
            }
        }
        Pattern::AbsoluteMonthly { day_of_month, .. } => {
            out.rrule_type = OdooRruleType::Monthly;
            out.month_by = Some(OdooMonthBy::Date);
            out.day = Some(*day_of_month);
        }
        Pattern::RelativeMonthly { days, index, .. } => {
            out.rrule_type = OdooRruleType::Monthly;
            out.month_by = Some(OdooMonthBy::Day);
            out.weekday = Some(one_day(days)?.ical_code().to_owned());
            out.byday = Some(index.ordinal().to_string());
        }
        Pattern::AbsoluteYearly {
            day_of_month,
            month,
            ..
        } => {
            let start = recurrence.range.start_date;
            if start.month().unsigned_abs() != *month || start.day().unsigned_abs() != *day_of_month
            {
                return Err(no(
                    "recurrence.pattern.dayOfMonth",
                    "Odoo's yearly rules repeat on the start date; this rule names another day",
                ));
            }
            out.rrule_type = OdooRruleType::Yearly;
        }
        Pattern::RelativeYearly { .. } => {
            return Err(no(
                "recurrence.pattern.type",
                "Odoo has no yearly rule on a weekday of a month (relativeYearly)",
            ));
        }
    }
    match recurrence.range.end {
        RangeEnd::Numbered(n) => {
            out.end_type = OdooEndType::Count;
            out.count = Some(n);
        }
        RangeEnd::EndDate(d) => {
            out.end_type = OdooEndType::EndDate;
            out.until = Some(d);
        }
        RangeEnd::NoEnd => {}
    }
    Ok(out)
}

/// True if grouping `days` into weeks starting on `first_day` differs from Monday-based weeks, i.e. some
/// but not all of the days fall between `first_day` and the following Monday.
fn splits_weeks_differently(days: &[Weekday], first_day: Weekday) -> bool {
    let offset = |d: Weekday| (7 + d.index_from_monday() - first_day.index_from_monday()) % 7;
    let boundary = offset(Weekday::Monday);
    let before = days.iter().filter(|d| offset(**d) < boundary).count();
    before != 0 && before != days.len()
}

/// The rule of Odoo fields. `start_date` is the series' first date in its zone. `item` labels errors.
pub fn from_odoo(
    odoo: &OdooRecurrence,
    start_date: Date,
    item: &str,
) -> Result<Recurrence, ModelError> {
    let interval = odoo.interval;
    let pattern = match odoo.rrule_type {
        OdooRruleType::Daily => Pattern::Daily { interval },
        OdooRruleType::Weekly => {
            let days = odoo.day_flags();
            if days.is_empty() {
                return Err(ModelError::invalid(
                    item,
                    "recurrence.mon..sun",
                    "none",
                    "a weekly rule needs a day",
                ));
            }
            Pattern::Weekly {
                interval,
                days,
                // dateutil, which Odoo uses, starts weeks on Monday by default.
                first_day_of_week: Weekday::Monday,
            }
        }
        OdooRruleType::Monthly => match odoo.month_by.unwrap_or(OdooMonthBy::Date) {
            OdooMonthBy::Date => Pattern::AbsoluteMonthly {
                interval,
                day_of_month: odoo.day.unwrap_or(start_date.day().unsigned_abs()),
            },
            OdooMonthBy::Day => {
                let code = odoo.weekday.as_deref().unwrap_or("");
                let day = Weekday::from_ical_code(code).ok_or_else(|| {
                    ModelError::invalid(item, "recurrence.weekday", code, "expected MO..SU")
                })?;
                let raw = odoo.byday.as_deref().unwrap_or("");
                let index = raw
                    .trim()
                    .parse::<i8>()
                    .ok()
                    .and_then(WeekIndex::from_ordinal)
                    .ok_or_else(|| {
                        ModelError::invalid(
                            item,
                            "recurrence.byday",
                            raw,
                            "expected 1, 2, 3, 4 or -1",
                        )
                    })?;
                Pattern::RelativeMonthly {
                    interval,
                    days: canonical_days(vec![day]),
                    index,
                }
            }
        },
        OdooRruleType::Yearly => Pattern::AbsoluteYearly {
            interval,
            day_of_month: start_date.day().unsigned_abs(),
            month: start_date.month().unsigned_abs(),
        },
    };
    let end = match odoo.end_type {
        OdooEndType::Forever => RangeEnd::NoEnd,
        OdooEndType::Count => RangeEnd::Numbered(odoo.count.ok_or_else(|| {
            ModelError::invalid(
                item,
                "recurrence.count",
                "False",
                "required when end_type is count",
            )
        })?),
        OdooEndType::EndDate => RangeEnd::EndDate(odoo.until.ok_or_else(|| {
            ModelError::invalid(
                item,
                "recurrence.until",
                "False",
                "required when end_type is end_date",
            )
        })?),
    };
    let recurrence = Recurrence {
        pattern,
        range: Range {
            start_date,
            end,
            time_zone: blank_is_none(odoo.event_tz.as_deref()),
        },
    };
    recurrence.validate(item).map_err(in_odoo_terms)?;
    Ok(recurrence)
}

/// [`Recurrence::validate`] names fields in Graph's terms; a rule read from Odoo is refused naming
/// the `calendar.recurrence` field a person can fix instead.
fn in_odoo_terms(error: ModelError) -> ModelError {
    const NAMES: &[(&str, &str)] = &[
        ("recurrence.pattern.interval", "recurrence.interval"),
        ("recurrence.pattern.dayOfMonth", "recurrence.day"),
        ("recurrence.pattern.daysOfWeek", "recurrence.mon..sun"),
        ("recurrence.range.numberOfOccurrences", "recurrence.count"),
        ("recurrence.range.endDate", "recurrence.until"),
        ("recurrence.range.recurrenceTimeZone", "recurrence.event_tz"),
    ];
    let rename = |field: String| {
        NAMES
            .iter()
            .find(|(graph, _)| *graph == field)
            .map_or(field, |(_, odoo)| (*odoo).to_owned())
    };
    match error {
        ModelError::InvalidValue {
            item,
            field,
            value,
            reason,
        } => ModelError::InvalidValue {
            item,
            field: rename(field),
            value,
            reason,
        },
        ModelError::UnknownTimeZone { name, item, field } => ModelError::UnknownTimeZone {
            name,
            item,
            field: rename(field),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::date;
    use serde_json::json;

    fn rec(pattern: Pattern, start: Date) -> Recurrence {
        Recurrence {
            pattern,
            range: Range {
                start_date: start,
                end: RangeEnd::Numbered(5),
                time_zone: Some("Europe/Berlin".into()),
            },
        }
    }

    #[test]
    fn reads_an_odoo_read_dict_with_false_values() {
        let v = json!({
            "rrule_type": "monthly", "interval": 1, "end_type": "end_date", "count": false,
            "until": "2024-12-31", "mon": false, "tue": false, "wed": false, "thu": false, "fri": false,
            "sat": false, "sun": false, "month_by": "day", "day": false, "byday": "-1", "weekday": "FR",
            "event_tz": "Europe/Brussels", "rrule": "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20241231T235959"
        });
        let o: OdooRecurrence = serde_json::from_value(v).unwrap();
        let r = from_odoo(&o, date(2024, 1, 26), "odoo:7").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::RelativeMonthly {
                interval: 1,
                days: vec![Weekday::Friday],
                index: WeekIndex::Last
            }
        );
        assert_eq!(r.range.end, RangeEnd::EndDate(date(2024, 12, 31)));
        assert_eq!(r.range.time_zone.as_deref(), Some("Europe/Brussels"));
        let back = to_odoo(&r, "odoo:7").unwrap();
        assert_eq!(
            (
                back.month_by,
                back.byday.as_deref(),
                back.weekday.as_deref()
            ),
            (Some(OdooMonthBy::Day), Some("-1"), Some("FR"))
        );
    }

    #[test]
    fn absurd_fields_are_refused_naming_the_odoo_field() {
        let base = json!({"rrule_type": "daily", "interval": 1, "end_type": "forever"});
        for (patch, field) in [
            (json!({"interval": 0}), "recurrence.interval"),
            (json!({"interval": 1_000_000_000}), "recurrence.interval"),
            (
                json!({"end_type": "count", "count": 1_000_000_000}),
                "recurrence.count",
            ),
            (json!({"end_type": "count", "count": 0}), "recurrence.count"),
            (
                json!({"end_type": "end_date", "until": "9999-12-31"}),
                "recurrence.until",
            ),
            (
                json!({"end_type": "end_date", "until": "0001-01-01"}),
                "recurrence.until",
            ),
            (
                json!({"rrule_type": "monthly", "month_by": "date", "day": 32}),
                "recurrence.day",
            ),
            (json!({"rrule_type": "weekly"}), "recurrence.mon..sun"),
            (
                json!({"event_tz": "Mars/Olympus_Mons"}),
                "recurrence.event_tz",
            ),
        ] {
            let mut value = base.clone();
            value
                .as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            let o: OdooRecurrence = serde_json::from_value(value).unwrap();
            let e = from_odoo(&o, date(2026, 2, 28), "odoo:3").unwrap_err();
            let named = match &e {
                ModelError::InvalidValue { field, .. }
                | ModelError::UnknownTimeZone { field, .. } => field.as_str(),
                other => panic!("{other}"),
            };
            assert_eq!(named, field, "{e}");
        }
    }

    #[test]
    fn round_trips_what_odoo_can_express() {
        let start = date(2024, 3, 14);
        for p in [
            Pattern::Daily { interval: 3 },
            Pattern::Weekly {
                interval: 2,
                days: vec![Weekday::Tuesday, Weekday::Thursday],
                first_day_of_week: Weekday::Sunday,
            },
            Pattern::AbsoluteMonthly {
                interval: 1,
                day_of_month: 14,
            },
            Pattern::RelativeMonthly {
                interval: 1,
                days: vec![Weekday::Thursday],
                index: WeekIndex::Second,
            },
            Pattern::AbsoluteYearly {
                interval: 1,
                day_of_month: 14,
                month: 3,
            },
        ] {
            let r = rec(p, start);
            let o = to_odoo(&r, "e").unwrap();
            let mut back = from_odoo(&o, start, "e").unwrap();
            // Odoo has no week start; a weekly rule that does not straddle it keeps its occurrences.
            if let (
                Pattern::Weekly {
                    first_day_of_week: a,
                    ..
                },
                Pattern::Weekly {
                    first_day_of_week: b,
                    ..
                },
            ) = (&r.pattern, &mut back.pattern)
            {
                *b = *a;
            }
            assert_eq!(back, r);
        }
    }

    #[test]
    fn refuses_what_odoo_cannot_express() {
        let start = date(2024, 3, 14);
        for (p, field) in [
            (
                Pattern::RelativeYearly {
                    interval: 1,
                    days: vec![Weekday::Thursday],
                    index: WeekIndex::Fourth,
                    month: 11,
                },
                "recurrence.pattern.type",
            ),
            (
                Pattern::RelativeMonthly {
                    interval: 1,
                    days: vec![Weekday::Saturday, Weekday::Sunday],
                    index: WeekIndex::First,
                },
                "recurrence.pattern.daysOfWeek",
            ),
            (
                Pattern::AbsoluteYearly {
                    interval: 1,
                    day_of_month: 1,
                    month: 7,
                },
                "recurrence.pattern.dayOfMonth",
            ),
            (
                Pattern::Weekly {
                    interval: 2,
                    days: vec![Weekday::Monday, Weekday::Sunday],
                    first_day_of_week: Weekday::Sunday,
                },
                "recurrence.pattern.firstDayOfWeek",
            ),
        ] {
            match to_odoo(&rec(p, start), "e") {
                Err(ModelError::RecurrenceNotRepresentable {
                    field: f,
                    target: "Odoo",
                    ..
                }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
