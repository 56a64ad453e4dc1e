//! Graph's `patternedRecurrence` JSON <-> [`Recurrence`].
//!
//! Reading follows Graph's rules: enum members in any case, unused integers sent as `0`, fields that do not
//! apply to the pattern type are ignored but still validated (a bad enum member is an error even where it
//! is ignored, as Graph does). Writing emits lowerCamelCase members and only the fields the type uses.

use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Pattern, Range, RangeEnd, Recurrence, WeekIndex, Weekday, canonical_days};
use crate::error::ModelError;
use crate::timezones;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a patternedRecurrence object")]
struct PatternedRecurrenceJson {
    pattern: PatternJson,
    range: RangeJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a recurrencePattern object")]
struct PatternJson {
    #[serde(rename = "type")]
    kind: String,
    interval: i64,
    #[serde(default)]
    days_of_week: Option<Vec<String>>,
    #[serde(default)]
    first_day_of_week: Option<String>,
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    day_of_month: Option<i64>,
    #[serde(default)]
    month: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a recurrenceRange object")]
struct RangeJson {
    #[serde(rename = "type")]
    kind: String,
    start_date: String,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default)]
    number_of_occurrences: Option<i64>,
    #[serde(default)]
    recurrence_time_zone: Option<String>,
}

/// Parses Graph's `recurrence` value. `item` (the event id) labels errors; field names in errors are JSON
/// paths starting at `recurrence`.
pub fn from_graph_json(value: &Value, item: &str) -> Result<Recurrence, ModelError> {
    // serde would read the structs from arrays too, naming `[0]` as the bad field.
    for (field, part) in [
        ("recurrence", Some(value)),
        ("recurrence.pattern", value.get("pattern")),
        ("recurrence.range", value.get("range")),
    ] {
        if let Some(part) = part.filter(|p| !p.is_object()) {
            return Err(ModelError::json(
                item,
                field,
                format!(
                    "expected an object, got {}",
                    crate::graph::read::json_kind(part)
                ),
            ));
        }
    }
    let raw: PatternedRecurrenceJson = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = match path.as_str() {
            "." | "" => "recurrence".to_owned(),
            path => format!("recurrence.{path}"),
        };
        ModelError::json(item, field, e.inner().to_string())
    })?;
    let p = &raw.pattern;
    let field = |name: &str| format!("recurrence.pattern.{name}");
    let interval = u32::try_from(p.interval)
        .map_err(|_| ModelError::invalid(item, field("interval"), p.interval, "must be >= 1"))?;
    let days = p
        .days_of_week
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, d)| {
            Weekday::from_graph_name(d).ok_or_else(|| {
                ModelError::invalid(
                    item,
                    field(&format!("daysOfWeek[{i}]")),
                    d,
                    "not a dayOfWeek",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let days = canonical_days(days);
    let first_day_of_week = match &p.first_day_of_week {
        None => Weekday::Sunday,
        Some(d) => Weekday::from_graph_name(d).ok_or_else(|| {
            ModelError::invalid(item, field("firstDayOfWeek"), d, "not a dayOfWeek")
        })?,
    };
    let index = match &p.index {
        None => WeekIndex::First,
        Some(i) => WeekIndex::ALL
            .into_iter()
            .find(|w| w.graph_name().eq_ignore_ascii_case(i))
            .ok_or_else(|| ModelError::invalid(item, field("index"), i, "not a weekIndex"))?,
    };
    let small = |name: &str, v: Option<i64>| -> Result<u8, ModelError> {
        let v = v.unwrap_or(0);
        u8::try_from(v).map_err(|_| ModelError::invalid(item, field(name), v, "out of range"))
    };
    let day_of_month = small("dayOfMonth", p.day_of_month)?;
    let month = small("month", p.month)?;
    let pattern = match p.kind.to_ascii_lowercase().as_str() {
        "daily" => Pattern::Daily { interval },
        "weekly" => Pattern::Weekly {
            interval,
            days,
            first_day_of_week,
        },
        "absolutemonthly" => Pattern::AbsoluteMonthly {
            interval,
            day_of_month,
        },
        "relativemonthly" => Pattern::RelativeMonthly {
            interval,
            days,
            index,
        },
        "absoluteyearly" => Pattern::AbsoluteYearly {
            interval,
            day_of_month,
            month,
        },
        "relativeyearly" => Pattern::RelativeYearly {
            interval,
            days,
            index,
            month,
        },
        _ => {
            return Err(ModelError::invalid(
                item,
                field("type"),
                &p.kind,
                "not a recurrencePatternType",
            ));
        }
    };

    let r = &raw.range;
    let rfield = |name: &str| format!("recurrence.range.{name}");
    let date = |name: &str, s: &str| -> Result<Date, ModelError> {
        s.parse::<Date>()
            .map_err(|e| ModelError::invalid(item, rfield(name), s, e.to_string()))
    };
    let start_date = date("startDate", &r.start_date)?;
    let end = match r.kind.to_ascii_lowercase().as_str() {
        "enddate" => {
            let raw_end = r.end_date.as_deref().ok_or_else(|| {
                ModelError::invalid(item, rfield("endDate"), "null", "required for type endDate")
            })?;
            RangeEnd::EndDate(date("endDate", raw_end)?)
        }
        "numbered" => {
            let n = r.number_of_occurrences.unwrap_or(0);
            RangeEnd::Numbered(u32::try_from(n).map_err(|_| {
                ModelError::invalid(item, rfield("numberOfOccurrences"), n, "must be > 0")
            })?)
        }
        "noend" => RangeEnd::NoEnd,
        _ => {
            return Err(ModelError::invalid(
                item,
                rfield("type"),
                &r.kind,
                "not a recurrenceRangeType",
            ));
        }
    };
    let time_zone = match r.recurrence_time_zone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => {
            let zone = timezones::resolve(name, item, &rfield("recurrenceTimeZone"))?;
            // A custom Outlook zone carries no rules we could use; fall back to the event's zone.
            (!zone.substituted_utc).then_some(zone.iana_name)
        }
    };
    let recurrence = Recurrence {
        pattern,
        range: Range {
            start_date,
            end,
            time_zone,
        },
    };
    recurrence.validate(item)?;
    Ok(recurrence)
}

/// Graph's `recurrence` value for a rule. The zone is sent as its Windows name when CLDR has one (what
/// Outlook stores), else as the IANA name (Graph accepts many of those).
pub fn to_graph_json(recurrence: &Recurrence) -> Value {
    let days =
        |days: &[Weekday]| -> Value { days.iter().map(|d| Value::from(d.graph_name())).collect() };
    let pattern = match &recurrence.pattern {
        Pattern::Daily { interval } => json!({"type": "daily", "interval": interval}),
        Pattern::Weekly {
            interval,
            days: d,
            first_day_of_week,
        } => json!({
            "type": "weekly", "interval": interval, "daysOfWeek": days(d),
            "firstDayOfWeek": first_day_of_week.graph_name(),
        }),
        Pattern::AbsoluteMonthly {
            interval,
            day_of_month,
        } => json!({"type": "absoluteMonthly", "interval": interval, "dayOfMonth": day_of_month}),
        Pattern::RelativeMonthly {
            interval,
            days: d,
            index,
        } => json!({
            "type": "relativeMonthly", "interval": interval, "daysOfWeek": days(d),
            "index": index.graph_name(),
        }),
        Pattern::AbsoluteYearly {
            interval,
            day_of_month,
            month,
        } => json!({
            "type": "absoluteYearly", "interval": interval, "dayOfMonth": day_of_month, "month": month,
        }),
        Pattern::RelativeYearly {
            interval,
            days: d,
            index,
            month,
        } => json!({
            "type": "relativeYearly", "interval": interval, "daysOfWeek": days(d),
            "index": index.graph_name(), "month": month,
        }),
    };
    let range = &recurrence.range;
    let mut r = Map::new();
    r.insert("startDate".into(), range.start_date.to_string().into());
    match range.end {
        RangeEnd::EndDate(end) => {
            r.insert("type".into(), "endDate".into());
            r.insert("endDate".into(), end.to_string().into());
        }
        RangeEnd::Numbered(n) => {
            r.insert("type".into(), "numbered".into());
            r.insert("numberOfOccurrences".into(), n.into());
        }
        RangeEnd::NoEnd => {
            r.insert("type".into(), "noEnd".into());
        }
    }
    if let Some(tz) = &range.time_zone {
        let name = timezones::iana_to_windows(tz).unwrap_or(tz);
        r.insert("recurrenceTimeZone".into(), name.into());
    }
    json!({"pattern": pattern, "range": Value::Object(r)})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::date;

    /// The doc response fixture of graph_api.md §2.3, verbatim.
    const DOC_FIXTURE: &str = r#"{
      "pattern": {"type":"weekly","interval":1,"month":0,"dayOfMonth":0,
                  "daysOfWeek":["monday"],"firstDayOfWeek":"sunday","index":"first"},
      "range": {"type":"endDate","startDate":"2017-09-04","endDate":"2017-12-31",
                "recurrenceTimeZone":"Pacific Standard Time","numberOfOccurrences":0}
    }"#;

    #[test]
    fn reads_the_documented_fixture() {
        let v: Value = serde_json::from_str(DOC_FIXTURE).unwrap();
        let r = from_graph_json(&v, "m1").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::Weekly {
                interval: 1,
                days: vec![Weekday::Monday],
                first_day_of_week: Weekday::Sunday
            }
        );
        assert_eq!(r.range.start_date, date(2017, 9, 4));
        assert_eq!(r.range.end, RangeEnd::EndDate(date(2017, 12, 31)));
        assert_eq!(r.range.time_zone.as_deref(), Some("America/Los_Angeles"));
        let back = to_graph_json(&r);
        assert_eq!(back["range"]["recurrenceTimeZone"], "Pacific Standard Time");
        assert_eq!(back["pattern"]["daysOfWeek"], json!(["monday"]));
        assert_eq!(from_graph_json(&back, "m1").unwrap(), r);
    }

    #[test]
    fn enums_in_any_case_and_relative_last() {
        let v = json!({
            "pattern": {"type": "RelativeMonthly", "interval": 2, "daysOfWeek": ["Friday", "MONDAY"],
                        "index": "Last"},
            "range": {"type": "Numbered", "startDate": "2024-01-26", "numberOfOccurrences": 6}
        });
        let r = from_graph_json(&v, "m1").unwrap();
        assert_eq!(
            r.pattern,
            Pattern::RelativeMonthly {
                interval: 2,
                days: vec![Weekday::Monday, Weekday::Friday],
                index: WeekIndex::Last
            }
        );
        assert_eq!(r.range.end, RangeEnd::Numbered(6));
    }

    #[test]
    fn errors_name_the_json_field() {
        let v = json!({"pattern": {"type": "weekly", "interval": "1"}, "range": {}});
        let e = from_graph_json(&v, "m1").unwrap_err();
        assert!(
            matches!(&e, ModelError::Json { item, field, .. } if item == "m1" && field == "recurrence.pattern.interval"),
            "{e}"
        );
        let v = json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "funday"]},
                       "range": {"type": "noEnd", "startDate": "2024-01-01"}});
        let e = from_graph_json(&v, "m1").unwrap_err();
        assert!(
            e.to_string().contains("recurrence.pattern.daysOfWeek[1]"),
            "{e}"
        );
        // An ignored field is still validated, as Graph does.
        let v = json!({"pattern": {"type": "daily", "interval": 1, "index": "fifth"},
                       "range": {"type": "noEnd", "startDate": "2024-01-01"}});
        assert!(from_graph_json(&v, "m1").is_err());
    }

    #[test]
    fn absurd_values_are_refused() {
        for (pattern, range, field) in [
            (
                json!({"type": "daily", "interval": 0}),
                json!({"type": "noEnd", "startDate": "2024-01-01"}),
                "interval",
            ),
            (
                json!({"type": "daily", "interval": 1}),
                json!({"type": "numbered", "startDate": "2024-01-01", "numberOfOccurrences": 1_000_000_000}),
                "numberOfOccurrences",
            ),
            (
                json!({"type": "daily", "interval": 1}),
                json!({"type": "endDate", "startDate": "2024-01-01", "endDate": "9999-12-31"}),
                "endDate",
            ),
            (
                json!({"type": "daily", "interval": 1}),
                json!({"type": "endDate", "startDate": "2024-01-01", "endDate": "2023-12-31"}),
                "endDate",
            ),
            (
                json!({"type": "absoluteYearly", "interval": 1, "month": 2, "dayOfMonth": 30}),
                json!({"type": "noEnd", "startDate": "2024-01-01"}),
                "dayOfMonth",
            ),
            (
                json!({"type": "weekly", "interval": 1, "daysOfWeek": []}),
                json!({"type": "noEnd", "startDate": "2024-01-01"}),
                "daysOfWeek",
            ),
        ] {
            let v = json!({"pattern": pattern, "range": range});
            let e = from_graph_json(&v, "m1").unwrap_err();
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
    }
}
