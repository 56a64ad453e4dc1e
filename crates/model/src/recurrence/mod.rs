//! A neutral recurrence rule covering all of Graph's `patternedRecurrence`, with conversions to and from
//! Graph JSON ([`graph_json`]), RFC 5545 RRULE text ([`rrule`]) and Odoo's recurrence fields ([`odoo`]).
//!
//! The model is Graph's, because Outlook is the side with the narrowest vocabulary that must be written
//! exactly: every rule here can be sent to Graph, and a source rule Graph cannot express is refused with
//! [`ModelError::RecurrenceNotRepresentable`] rather than approximated.

pub mod exceptions;
pub mod graph_json;
pub mod odoo;
pub mod rrule;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Largest accepted interval. Outlook's own UI stops at 999; anything above is a data error.
pub const MAX_INTERVAL: u32 = 999;
/// Largest accepted number of occurrences (Outlook's UI limit). Bounds every loop over occurrences.
pub const MAX_OCCURRENCES: u32 = 999;
/// Earliest accepted year (Outlook's calendar starts in 1601).
pub const MIN_YEAR: i16 = 1601;
/// Latest accepted year (Outlook treats dates after 4500 as "no end").
pub const MAX_YEAR: i16 = 4500;

/// Day of the week. Declared Monday first; that order is the canonical order of day lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Self::Monday,
        Self::Tuesday,
        Self::Wednesday,
        Self::Thursday,
        Self::Friday,
        Self::Saturday,
        Self::Sunday,
    ];

    /// Graph's name (`"monday"`).
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::Monday => "monday",
            Self::Tuesday => "tuesday",
            Self::Wednesday => "wednesday",
            Self::Thursday => "thursday",
            Self::Friday => "friday",
            Self::Saturday => "saturday",
            Self::Sunday => "sunday",
        }
    }

    /// RFC 5545 code (`"MO"`).
    pub fn ical_code(self) -> &'static str {
        match self {
            Self::Monday => "MO",
            Self::Tuesday => "TU",
            Self::Wednesday => "WE",
            Self::Thursday => "TH",
            Self::Friday => "FR",
            Self::Saturday => "SA",
            Self::Sunday => "SU",
        }
    }

    /// Parses Graph's name, any case.
    pub fn from_graph_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.graph_name().eq_ignore_ascii_case(name))
    }

    /// Parses an RFC 5545 code, any case.
    pub fn from_ical_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.ical_code().eq_ignore_ascii_case(code))
    }

    /// Monday = 0 .. Sunday = 6.
    pub fn index_from_monday(self) -> u8 {
        self as u8
    }

    /// The weekday of a date.
    pub fn of(date: Date) -> Self {
        Self::ALL[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
    }
}

/// Which week of the month a relative pattern means.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WeekIndex {
    /// First (Graph's default).
    #[default]
    First,
    /// Second.
    Second,
    /// Third.
    Third,
    /// Fourth.
    Fourth,
    /// Last.
    Last,
}

impl WeekIndex {
    /// All members in order.
    pub const ALL: [WeekIndex; 5] = [
        Self::First,
        Self::Second,
        Self::Third,
        Self::Fourth,
        Self::Last,
    ];

    /// Graph's name (`"first"`).
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Third => "third",
            Self::Fourth => "fourth",
            Self::Last => "last",
        }
    }

    /// The RFC 5545 ordinal (1..4, or -1 for last).
    pub fn ordinal(self) -> i8 {
        match self {
            Self::First => 1,
            Self::Second => 2,
            Self::Third => 3,
            Self::Fourth => 4,
            Self::Last => -1,
        }
    }

    /// The member for an RFC 5545 ordinal; `None` for ordinals Graph cannot express (5, -2, ...).
    pub fn from_ordinal(ordinal: i8) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.ordinal() == ordinal)
    }
}

/// How often the event repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pattern {
    /// Every `interval` days.
    Daily {
        /// Days between occurrences (>= 1).
        interval: u32,
    },
    /// Every `interval` weeks on `days`.
    Weekly {
        /// Weeks between occurrences (>= 1).
        interval: u32,
        /// Days of the week (non-empty, sorted, no duplicates).
        days: Vec<Weekday>,
        /// First day of the week; matters when `interval > 1`.
        first_day_of_week: Weekday,
    },
    /// Every `interval` months on day `day_of_month`.
    AbsoluteMonthly {
        /// Months between occurrences (>= 1).
        interval: u32,
        /// Day of the month (1..=31).
        day_of_month: u8,
    },
    /// Every `interval` months on the `index` `days` (with several days, the first that fits).
    RelativeMonthly {
        /// Months between occurrences (>= 1).
        interval: u32,
        /// Candidate days (non-empty, sorted, no duplicates).
        days: Vec<Weekday>,
        /// Which week.
        index: WeekIndex,
    },
    /// Every `interval` years on `month`/`day_of_month`.
    AbsoluteYearly {
        /// Years between occurrences (>= 1).
        interval: u32,
        /// Day of the month (valid for `month`).
        day_of_month: u8,
        /// Month (1..=12).
        month: u8,
    },
    /// Every `interval` years on the `index` `days` of `month`.
    RelativeYearly {
        /// Years between occurrences (>= 1).
        interval: u32,
        /// Candidate days (non-empty, sorted, no duplicates).
        days: Vec<Weekday>,
        /// Which week.
        index: WeekIndex,
        /// Month (1..=12).
        month: u8,
    },
}

impl Pattern {
    /// The interval of any pattern.
    pub fn interval(&self) -> u32 {
        match self {
            Self::Daily { interval }
            | Self::Weekly { interval, .. }
            | Self::AbsoluteMonthly { interval, .. }
            | Self::RelativeMonthly { interval, .. }
            | Self::AbsoluteYearly { interval, .. }
            | Self::RelativeYearly { interval, .. } => *interval,
        }
    }
}

/// When the series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum RangeEnd {
    /// After this date (inclusive).
    EndDate(Date),
    /// After this many occurrences (1..=[`MAX_OCCURRENCES`]).
    Numbered(u32),
    /// Never.
    NoEnd,
}

/// The span of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// First day of the series (Graph requires the date part of the master's start).
    pub start_date: Date,
    /// End.
    pub end: RangeEnd,
    /// IANA zone the rule is evaluated in; `None` means the event's zone.
    pub time_zone: Option<String>,
}

/// A recurrence rule: pattern plus range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// How often.
    pub pattern: Pattern,
    /// From when until when.
    pub range: Range,
}

/// Sorts and deduplicates a list of days into canonical order.
pub(crate) fn canonical_days(mut days: Vec<Weekday>) -> Vec<Weekday> {
    days.sort();
    days.dedup();
    days
}

impl Recurrence {
    /// Checks every bound: interval 1..=[`MAX_INTERVAL`], non-empty day lists, day-of-month valid for the
    /// month, occurrences 1..=[`MAX_OCCURRENCES`], years within [`MIN_YEAR`]..=[`MAX_YEAR`], end date not
    /// before start, a known zone. `item` labels the error.
    pub fn validate(&self, item: &str) -> Result<(), ModelError> {
        let interval = self.pattern.interval();
        if !(1..=MAX_INTERVAL).contains(&interval) {
            return Err(ModelError::invalid(
                item,
                "recurrence.pattern.interval",
                interval,
                format!("must be between 1 and {MAX_INTERVAL}"),
            ));
        }
        match &self.pattern {
            Pattern::Daily { .. } => {}
            Pattern::Weekly { days, .. } | Pattern::RelativeMonthly { days, .. } => {
                check_days(item, days)?;
            }
            Pattern::RelativeYearly { days, month, .. } => {
                check_days(item, days)?;
                check_month(item, *month)?;
            }
            Pattern::AbsoluteMonthly { day_of_month, .. } => {
                check_day_of_month(item, *day_of_month, None)?;
            }
            Pattern::AbsoluteYearly {
                day_of_month,
                month,
                ..
            } => {
                check_month(item, *month)?;
                check_day_of_month(item, *day_of_month, Some(*month))?;
            }
        }
        check_year(item, "recurrence.range.startDate", self.range.start_date)?;
        if let Some(zone) = &self.range.time_zone {
            // The rule is evaluated in this zone and written to Graph under it: it must be real.
            let field = "recurrence.range.recurrenceTimeZone";
            if crate::timezones::resolve(zone, item, field)?.substituted_utc {
                return Err(ModelError::invalid(
                    item,
                    field,
                    zone,
                    "an Outlook custom zone has no rules to evaluate a series in",
                ));
            }
        }
        match self.range.end {
            RangeEnd::NoEnd => {}
            RangeEnd::Numbered(n) => {
                if !(1..=MAX_OCCURRENCES).contains(&n) {
                    return Err(ModelError::invalid(
                        item,
                        "recurrence.range.numberOfOccurrences",
                        n,
                        format!("must be between 1 and {MAX_OCCURRENCES}"),
                    ));
                }
            }
            RangeEnd::EndDate(end) => {
                check_year(item, "recurrence.range.endDate", end)?;
                if end < self.range.start_date {
                    return Err(ModelError::invalid(
                        item,
                        "recurrence.range.endDate",
                        end,
                        format!("is before startDate {}", self.range.start_date),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_days(item: &str, days: &[Weekday]) -> Result<(), ModelError> {
    if days.is_empty() {
        Err(ModelError::invalid(
            item,
            "recurrence.pattern.daysOfWeek",
            "[]",
            "at least one day is required",
        ))
    } else {
        Ok(())
    }
}

fn check_month(item: &str, month: u8) -> Result<(), ModelError> {
    if (1..=12).contains(&month) {
        Ok(())
    } else {
        Err(ModelError::invalid(
            item,
            "recurrence.pattern.month",
            month,
            "must be between 1 and 12",
        ))
    }
}

fn check_day_of_month(item: &str, day: u8, month: Option<u8>) -> Result<(), ModelError> {
    // February 29 is a valid yearly rule (it fires in leap years), so check against a leap year.
    let max = match month {
        Some(m) => Date::new(2024, m as i8, 1).map_or(31, |d| d.days_in_month() as u8),
        None => 31,
    };
    if (1..=max).contains(&day) {
        Ok(())
    } else {
        Err(ModelError::invalid(
            item,
            "recurrence.pattern.dayOfMonth",
            day,
            format!("must be between 1 and {max}"),
        ))
    }
}

fn check_year(item: &str, field: &str, date: Date) -> Result<(), ModelError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(ModelError::invalid(
            item,
            field,
            date,
            format!("year must be between {MIN_YEAR} and {MAX_YEAR}"),
        ))
    }
}
