//! Graph's `dateTimeTimeZone` (`{"dateTime": "2017-04-15T11:00:00.0000000", "timeZone": "Pacific Standard
//! Time"}`) <-> instants and dates.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ModelError;
use crate::timezones::{self, ResolvedZone};

/// The raw JSON shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTimeZone {
    /// Wall-clock time without offset (Graph sends 7 fractional digits).
    pub date_time: String,
    /// Windows or IANA zone name; Graph omits it in rare cases, meaning UTC.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl DateTimeTimeZone {
    /// Resolves the zone (`UTC` when absent). `field` is `start` or `end`, for errors.
    pub fn zone(&self, item: &str, field: &str) -> Result<ResolvedZone, ModelError> {
        let name = self
            .time_zone
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        timezones::resolve(name.unwrap_or("UTC"), item, &format!("{field}.timeZone"))
    }

    /// The date, if the wall-clock value is exactly midnight (all-day events).
    pub fn civil_date_at_midnight(&self) -> Option<Date> {
        let dt = self.date_time.trim().parse::<DateTime>().ok()?;
        (dt.time() == jiff::civil::Time::midnight()).then(|| dt.date())
    }

    /// The instant. A wall-clock time inside a DST gap or overlap is resolved the way Outlook and RFC 5545
    /// do ("compatible": a skipped 02:30 becomes 03:30; a repeated 02:30 is the first one).
    pub fn timestamp(
        &self,
        zone: &TimeZone,
        item: &str,
        field: &str,
    ) -> Result<Timestamp, ModelError> {
        let bad = |e: jiff::Error| {
            ModelError::invalid(
                item,
                format!("{field}.dateTime"),
                &self.date_time,
                e.to_string(),
            )
        };
        match self.date_time.trim().parse::<DateTime>() {
            Ok(dt) => Ok(zone.to_ambiguous_timestamp(dt).compatible().map_err(bad)?),
            // Some producers append an offset or `Z`; then it is an instant already.
            Err(e) => self
                .date_time
                .trim()
                .parse::<Timestamp>()
                .map_err(|_| bad(e)),
        }
    }
}

/// The `dateTimeTimeZone` value for an instant shown in `zone` named `zone_name`.
pub fn timed_value(ts: Timestamp, zone: &TimeZone, zone_name: &str) -> Value {
    let local = zone.to_datetime(ts);
    json!({"dateTime": format_local(local), "timeZone": zone_name})
}

/// The `dateTimeTimeZone` value for an all-day boundary: midnight of `date` in `zone_name`, never shifted.
pub fn all_day_value(date: Date, zone_name: &str) -> Value {
    json!({"dateTime": format!("{date}T00:00:00.0000000"), "timeZone": zone_name})
}

/// Graph's own format: seconds and 7 fractional digits (100 ns ticks).
fn format_local(dt: DateTime) -> String {
    format!(
        "{}.{:07}",
        dt.strftime("%Y-%m-%dT%H:%M:%S"),
        dt.subsec_nanosecond() / 100
    )
}
