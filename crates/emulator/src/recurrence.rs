//! Graph's `patternedRecurrence`: parsing (enums case-insensitive, ignored fields still validated), output
//! (lowerCamelCase enums, unused ints as 0) and expansion into occurrence dates.
//!
//! Expansion works on dates in the recurrence time zone; the caller puts the series' wall-clock start time on
//! each date in that zone, which keeps occurrences at the same local time across DST changes.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde_json::{Map, Value, json};

use crate::errors::GraphError;

/// `recurrencePatternType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternType {
    /// Every `interval` days.
    Daily,
    /// On `daysOfWeek` every `interval` weeks.
    Weekly,
    /// On `dayOfMonth` every `interval` months.
    AbsoluteMonthly,
    /// On the `index`th of `daysOfWeek` every `interval` months.
    RelativeMonthly,
    /// On `month`/`dayOfMonth` every `interval` years.
    AbsoluteYearly,
    /// On the `index`th of `daysOfWeek` in `month` every `interval` years.
    RelativeYearly,
}

/// `recurrenceRangeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeType {
    /// Until `endDate` (inclusive).
    EndDate,
    /// Forever.
    NoEnd,
    /// `numberOfOccurrences` times.
    Numbered,
}

/// A validated `patternedRecurrence`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    /// Pattern type.
    pub pattern: PatternType,
    /// Interval (>= 1) in the pattern's unit.
    pub interval: i32,
    /// `daysOfWeek`, in the order given.
    pub days_of_week: Vec<Weekday>,
    /// `firstDayOfWeek` (default Sunday): where weekly intervals start counting.
    pub first_day_of_week: Weekday,
    /// `index`: 0..=3 for first..fourth, 4 for last.
    pub index: u8,
    /// `dayOfMonth` (0 if unused).
    pub day_of_month: i8,
    /// `month` (0 if unused).
    pub month: i8,
    /// Range type.
    pub range: RangeType,
    /// `startDate`: the first day the pattern may match.
    pub start_date: Date,
    /// `endDate` for `RangeType::EndDate`.
    pub end_date: Option<Date>,
    /// `numberOfOccurrences` for `RangeType::Numbered` (0 otherwise).
    pub count: i32,
    /// `recurrenceTimeZone` as given, if any.
    pub time_zone: Option<String>,
}

const WEEK_INDEX: [&str; 5] = ["first", "second", "third", "fourth", "last"];
/// Upper bound on pattern periods walked, so no input can make expansion unbounded.
const MAX_PERIODS: i64 = 200_000;

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Sunday => "sunday",
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
    }
}

fn parse_weekday(text: &str, field: &str) -> Result<Weekday, GraphError> {
    let days = [
        Weekday::Sunday,
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
    ];
    days.into_iter()
        .find(|d| weekday_name(*d).eq_ignore_ascii_case(text))
        .ok_or_else(|| enum_error(text, field, "dayOfWeek"))
}

fn enum_error(value: &str, field: &str, type_name: &str) -> GraphError {
    GraphError::body_read(format!(
        "Cannot convert the literal '{value}' to the expected type 'microsoft.graph.{type_name}' (property '{field}')."
    ))
}

fn str_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, GraphError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(GraphError::body_read(format!(
            "Property '{path}.{key}' must be a string, got {other}."
        ))),
    }
}

fn int_field(obj: &Map<String, Value>, key: &str, path: &str) -> Result<i64, GraphError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_i64().ok_or_else(|| {
            GraphError::body_read(format!(
                "Property '{path}.{key}' must be an integer, got {v}."
            ))
        }),
    }
}

fn date_field(obj: &Map<String, Value>, key: &str) -> Result<Option<Date>, GraphError> {
    match str_field(obj, key, "recurrence.range")? {
        None => Ok(None),
        Some(text) => text.parse::<Date>().map(Some).map_err(|_| {
            GraphError::body_read(format!(
                "Property 'recurrence.range.{key}' is not a date: '{text}'."
            ))
        }),
    }
}

impl Recurrence {
    /// Parses and validates a `patternedRecurrence` JSON object.
    pub fn parse(value: &Value) -> Result<Recurrence, GraphError> {
        let obj = value
            .as_object()
            .ok_or_else(|| GraphError::body_read("Property 'recurrence' must be an object."))?;
        let pattern = obj
            .get("pattern")
            .and_then(Value::as_object)
            .ok_or_else(|| GraphError::invalid_request("recurrence.pattern is required."))?;
        let range = obj
            .get("range")
            .and_then(Value::as_object)
            .ok_or_else(|| GraphError::invalid_request("recurrence.range is required."))?;

        let type_text = str_field(pattern, "type", "recurrence.pattern")?
            .ok_or_else(|| GraphError::invalid_request("recurrence.pattern.type is required."))?;
        let pattern_type = [
            ("daily", PatternType::Daily),
            ("weekly", PatternType::Weekly),
            ("absoluteMonthly", PatternType::AbsoluteMonthly),
            ("relativeMonthly", PatternType::RelativeMonthly),
            ("absoluteYearly", PatternType::AbsoluteYearly),
            ("relativeYearly", PatternType::RelativeYearly),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(type_text))
        .map(|(_, t)| t)
        .ok_or_else(|| {
            enum_error(
                type_text,
                "recurrence.pattern.type",
                "recurrencePatternType",
            )
        })?;

        let interval = int_field(pattern, "interval", "recurrence.pattern")?;
        if !(1..=999).contains(&interval) {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.interval must be between 1 and 999, got {interval}."
            )));
        }
        let days_of_week = match pattern.get("daysOfWeek") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|d| {
                    d.as_str()
                        .ok_or_else(|| {
                            GraphError::body_read(
                                "recurrence.pattern.daysOfWeek must hold strings.",
                            )
                        })
                        .and_then(|s| parse_weekday(s, "recurrence.pattern.daysOfWeek"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(GraphError::body_read(
                    "recurrence.pattern.daysOfWeek must be an array.",
                ));
            }
        };
        let first_day_of_week = match str_field(pattern, "firstDayOfWeek", "recurrence.pattern")? {
            Some(text) => parse_weekday(text, "recurrence.pattern.firstDayOfWeek")?,
            None => Weekday::Sunday,
        };
        let index = match str_field(pattern, "index", "recurrence.pattern")? {
            Some(text) => WEEK_INDEX
                .iter()
                .position(|n| n.eq_ignore_ascii_case(text))
                .ok_or_else(|| enum_error(text, "recurrence.pattern.index", "weekIndex"))?,
            None => 0,
        };
        let day_of_month = int_field(pattern, "dayOfMonth", "recurrence.pattern")?;
        let month = int_field(pattern, "month", "recurrence.pattern")?;
        if !(0..=31).contains(&day_of_month) {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.dayOfMonth must be between 1 and 31, got {day_of_month}."
            )));
        }
        if !(0..=12).contains(&month) {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.month must be between 1 and 12, got {month}."
            )));
        }
        let needs_days = matches!(
            pattern_type,
            PatternType::Weekly | PatternType::RelativeMonthly | PatternType::RelativeYearly
        );
        if needs_days && days_of_week.is_empty() {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.daysOfWeek is required for pattern type '{type_text}'."
            )));
        }
        if matches!(
            pattern_type,
            PatternType::AbsoluteMonthly | PatternType::AbsoluteYearly
        ) && day_of_month == 0
        {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.dayOfMonth is required for pattern type '{type_text}'."
            )));
        }
        if matches!(
            pattern_type,
            PatternType::AbsoluteYearly | PatternType::RelativeYearly
        ) && month == 0
        {
            return Err(GraphError::invalid_request(format!(
                "recurrence.pattern.month is required for pattern type '{type_text}'."
            )));
        }

        let range_text = str_field(range, "type", "recurrence.range")?
            .ok_or_else(|| GraphError::invalid_request("recurrence.range.type is required."))?;
        let range_type = [
            ("endDate", RangeType::EndDate),
            ("noEnd", RangeType::NoEnd),
            ("numbered", RangeType::Numbered),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(range_text))
        .map(|(_, t)| t)
        .ok_or_else(|| enum_error(range_text, "recurrence.range.type", "recurrenceRangeType"))?;
        let start_date = date_field(range, "startDate")?.ok_or_else(|| {
            GraphError::invalid_request("recurrence.range.startDate is required.")
        })?;
        let end_date = date_field(range, "endDate")?.filter(|d| d.year() > 1);
        let count = int_field(range, "numberOfOccurrences", "recurrence.range")?;
        match range_type {
            RangeType::EndDate => match end_date {
                None => {
                    return Err(GraphError::invalid_request(
                        "recurrence.range.endDate is required for range type 'endDate'.",
                    ));
                }
                Some(end) if end < start_date => {
                    return Err(GraphError::invalid_request(format!(
                        "recurrence.range.endDate {end} is before recurrence.range.startDate {start_date}."
                    )));
                }
                Some(_) => {}
            },
            RangeType::Numbered if !(1..=999_999).contains(&count) => {
                return Err(GraphError::invalid_request(format!(
                    "recurrence.range.numberOfOccurrences must be greater than 0, got {count}."
                )));
            }
            _ => {}
        }
        let time_zone = str_field(range, "recurrenceTimeZone", "recurrence.range")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(name) = &time_zone {
            crate::timezones::resolve(name)?;
        }
        // The ranges above make these conversions lossless.
        Ok(Recurrence {
            pattern: pattern_type,
            interval: i32::try_from(interval).unwrap_or(1),
            days_of_week,
            first_day_of_week,
            index: u8::try_from(index).unwrap_or(0),
            day_of_month: i8::try_from(day_of_month).unwrap_or(0),
            month: i8::try_from(month).unwrap_or(0),
            range: range_type,
            start_date,
            end_date: if range_type == RangeType::EndDate {
                end_date
            } else {
                None
            },
            count: if range_type == RangeType::Numbered {
                i32::try_from(count).unwrap_or(1)
            } else {
                0
            },
            time_zone,
        })
    }

    /// Graph's output form; `zone_name` fills `recurrenceTimeZone` when none was given.
    pub fn to_json(&self, zone_name: &str) -> Value {
        let type_name = match self.pattern {
            PatternType::Daily => "daily",
            PatternType::Weekly => "weekly",
            PatternType::AbsoluteMonthly => "absoluteMonthly",
            PatternType::RelativeMonthly => "relativeMonthly",
            PatternType::AbsoluteYearly => "absoluteYearly",
            PatternType::RelativeYearly => "relativeYearly",
        };
        let range_name = match self.range {
            RangeType::EndDate => "endDate",
            RangeType::NoEnd => "noEnd",
            RangeType::Numbered => "numbered",
        };
        json!({
            "pattern": {
                "type": type_name,
                "interval": self.interval,
                "month": self.month,
                "dayOfMonth": self.day_of_month,
                "daysOfWeek": self.days_of_week.iter().map(|d| weekday_name(*d)).collect::<Vec<_>>(),
                "firstDayOfWeek": weekday_name(self.first_day_of_week),
                "index": WEEK_INDEX[usize::from(self.index.min(4))],
            },
            "range": {
                "type": range_name,
                "startDate": self.start_date.to_string(),
                "endDate": self.end_date.map_or_else(|| "0001-01-01".to_owned(), |d| d.to_string()),
                "recurrenceTimeZone": self.time_zone.as_deref().unwrap_or(zone_name),
                "numberOfOccurrences": self.count,
            }
        })
    }

    /// The occurrence dates of the series that fall on or before `until`, in order.
    pub fn dates_until(&self, until: Date) -> Vec<Date> {
        let last = match self.end_date {
            Some(end) if end < until => end,
            _ => until,
        };
        let mut dates = Vec::new();
        let limit = if self.range == RangeType::Numbered {
            usize::try_from(self.count).unwrap_or(0)
        } else {
            usize::MAX
        };
        for period in 0..MAX_PERIODS {
            let Some(candidates) = self.period_dates(period) else {
                break;
            };
            let mut past_end = false;
            for date in candidates {
                if date < self.start_date {
                    continue;
                }
                if date > last {
                    past_end = true;
                    break;
                }
                dates.push(date);
                if dates.len() >= limit {
                    return dates;
                }
            }
            if past_end {
                break;
            }
        }
        dates
    }

    /// The candidate dates of the `period`th period (day, week, month or year), sorted; `None` past the
    /// representable calendar.
    fn period_dates(&self, period: i64) -> Option<Vec<Date>> {
        let step = period.checked_mul(i64::from(self.interval))?;
        let start = self.start_date;
        match self.pattern {
            PatternType::Daily => Some(vec![start.checked_add(step.days()).ok()?]),
            PatternType::Weekly => {
                let back = (start.weekday().to_sunday_zero_offset()
                    - self.first_day_of_week.to_sunday_zero_offset())
                .rem_euclid(7);
                let week_start = start
                    .checked_sub(i64::from(back).days())
                    .ok()?
                    .checked_add((step * 7).days())
                    .ok()?;
                let mut dates: Vec<Date> = self
                    .days_of_week
                    .iter()
                    .filter_map(|d| {
                        let offset = (d.to_sunday_zero_offset()
                            - self.first_day_of_week.to_sunday_zero_offset())
                        .rem_euclid(7);
                        week_start.checked_add(i64::from(offset).days()).ok()
                    })
                    .collect();
                dates.sort();
                dates.dedup();
                Some(dates)
            }
            PatternType::AbsoluteMonthly | PatternType::RelativeMonthly => {
                let first = start.first_of_month().checked_add(step.months()).ok()?;
                Some(self.dates_in_month(first))
            }
            PatternType::AbsoluteYearly | PatternType::RelativeYearly => {
                let year = i64::from(start.year()).checked_add(step)?;
                let first = Date::new(i16::try_from(year).ok()?, self.month, 1).ok()?;
                Some(self.dates_in_month(first))
            }
        }
    }

    /// The matching date(s) of the month that starts on `first`.
    fn dates_in_month(&self, first: Date) -> Vec<Date> {
        match self.pattern {
            PatternType::AbsoluteMonthly | PatternType::AbsoluteYearly => {
                // Outlook puts "day 31" on the last day of shorter months.
                let day = self.day_of_month.min(first.days_in_month());
                first.with().day(day).build().into_iter().collect()
            }
            _ => {
                let matching: Vec<Date> = (0..first.days_in_month())
                    .filter_map(|offset| first.checked_add(i64::from(offset).days()).ok())
                    .filter(|d| self.days_of_week.contains(&d.weekday()))
                    .collect();
                let pick = if self.index >= 4 {
                    matching.last()
                } else {
                    matching.get(usize::from(self.index))
                };
                pick.copied().into_iter().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dates(value: Value, until: &str) -> Vec<String> {
        let rec = Recurrence::parse(&value).unwrap();
        rec.dates_until(until.parse().unwrap())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn weekly_with_first_day_of_week_and_interval() {
        let got = dates(
            json!({"pattern":{"type":"Weekly","interval":2,"daysOfWeek":["Monday","sunday"],"firstDayOfWeek":"monday"},
                   "range":{"type":"numbered","startDate":"2024-01-03","numberOfOccurrences":4}}),
            "2025-01-01",
        );
        // Week of Mon 2024-01-01: Sunday 01-07 (Monday 01-01 is before the start); then two weeks later.
        assert_eq!(
            got,
            ["2024-01-07", "2024-01-15", "2024-01-21", "2024-01-29"]
        );
    }

    #[test]
    fn relative_monthly_last_weekday_and_absolute_day_clamps() {
        let got = dates(
            json!({"pattern":{"type":"relativeMonthly","interval":1,"daysOfWeek":["friday"],"index":"last"},
                   "range":{"type":"endDate","startDate":"2024-01-01","endDate":"2024-04-30"}}),
            "2030-01-01",
        );
        assert_eq!(
            got,
            ["2024-01-26", "2024-02-23", "2024-03-29", "2024-04-26"]
        );
        let got = dates(
            json!({"pattern":{"type":"absoluteMonthly","interval":1,"dayOfMonth":31},
                   "range":{"type":"noEnd","startDate":"2024-01-31"}}),
            "2024-04-30",
        );
        assert_eq!(
            got,
            ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
        );
    }

    #[test]
    fn yearly_patterns_and_output_zeroes() {
        let got = dates(
            json!({"pattern":{"type":"relativeYearly","interval":1,"daysOfWeek":["thursday"],"index":"fourth","month":11},
                   "range":{"type":"numbered","startDate":"2024-01-01","numberOfOccurrences":2}}),
            "2030-01-01",
        );
        assert_eq!(got, ["2024-11-28", "2025-11-27"]);
        let rec = Recurrence::parse(&json!({"pattern":{"type":"daily","interval":1},
            "range":{"type":"noEnd","startDate":"2024-01-01"}}))
        .unwrap();
        let out = rec.to_json("UTC");
        assert_eq!(out["pattern"]["month"], 0);
        assert_eq!(out["pattern"]["dayOfMonth"], 0);
        assert_eq!(out["range"]["numberOfOccurrences"], 0);
        assert_eq!(out["pattern"]["index"], "first");
    }

    #[test]
    fn invalid_values_are_rejected_with_the_field_named() {
        let err = Recurrence::parse(&json!({"pattern":{"type":"weekly","interval":1},
            "range":{"type":"noEnd","startDate":"2024-01-01"}}))
        .unwrap_err();
        assert!(err.message.contains("daysOfWeek"), "{}", err.message);
        let err = Recurrence::parse(
            &json!({"pattern":{"type":"daily","interval":1,"index":"fifth"},
            "range":{"type":"noEnd","startDate":"2024-01-01"}}),
        )
        .unwrap_err();
        assert_eq!(err.code, "RequestBodyRead");
    }
}
