//! Time zone names as Graph accepts them (Windows names and IANA names) and Graph's `dateTimeTimeZone` format.

use std::str::FromStr;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde_json::{Value, json};
use windows_timezones::WindowsTimezone;

use crate::errors::GraphError;

/// A zone as the client named it, with its rules.
#[derive(Debug, Clone)]
pub struct Zone {
    /// The name as given (Windows or IANA); echoed back in `timeZone` fields.
    pub name: String,
    /// The rules (IANA data bundled with jiff).
    pub tz: TimeZone,
}

impl Zone {
    /// UTC, Graph's default output zone.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The instant of a wall-clock time in this zone (DST gaps move forward, folds take the earlier time).
    pub fn instant(&self, local: DateTime) -> Timestamp {
        match local.to_zoned(self.tz.clone()) {
            Ok(zoned) => zoned.timestamp(),
            // Only out-of-range years fail; they cannot come from validated input.
            Err(_) => Timestamp::UNIX_EPOCH,
        }
    }

    /// The wall-clock time of an instant in this zone.
    pub fn local(&self, instant: Timestamp) -> DateTime {
        Zoned::new(instant, self.tz.clone()).datetime()
    }
}

/// Resolves a Windows zone name (as in CLDR's windowsZones.xml) or an IANA name.
///
/// Graph documents a fixed list of about 100 IANA names; the emulator accepts every IANA name jiff knows, a
/// superset. Unknown names give Graph's `400 TimeZoneNotSupportedException`.
pub fn resolve(name: &str) -> Result<Zone, GraphError> {
    let trimmed = name.trim();
    if trimmed.eq_ignore_ascii_case("utc")
        || trimmed.eq_ignore_ascii_case("Coordinated Universal Time")
    {
        return Ok(Zone {
            name: trimmed.to_owned(),
            tz: TimeZone::UTC,
        });
    }
    if let Ok(windows) = WindowsTimezone::from_str(trimmed)
        && let Ok(tz) = jiff::tz::db().get(windows.tzdb_id())
    {
        return Ok(Zone {
            name: trimmed.to_owned(),
            tz,
        });
    }
    if !trimmed.is_empty()
        && let Ok(tz) = jiff::tz::db().get(trimmed)
    {
        return Ok(Zone {
            name: trimmed.to_owned(),
            tz,
        });
    }
    Err(GraphError::new(
        400,
        "TimeZoneNotSupportedException",
        format!(
            "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
        ),
    ))
}

/// Reads the last segment of `/me/outlook/supportedTimeZones`: `Some(false)` for the default (Windows names),
/// `Some(true)` for `supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')`.
pub fn supported_zones_standard(segment: &str) -> Option<bool> {
    const NAME: &str = "supportedTimeZones";
    let head = segment.get(..NAME.len())?;
    if !head.eq_ignore_ascii_case(NAME) {
        return None;
    }
    let rest = segment.get(NAME.len()..)?;
    if rest.is_empty() || rest == "()" {
        return Some(false);
    }
    let arg = rest.strip_prefix('(')?.strip_suffix(')')?;
    let (key, value) = arg.split_once('=')?;
    if !key.trim().eq_ignore_ascii_case("TimeZoneStandard") {
        return None;
    }
    let value = value.trim();
    let value = value
        .strip_prefix("microsoft.graph.timeZoneStandard")
        .unwrap_or(value)
        .trim_matches('\'');
    if value.eq_ignore_ascii_case("Iana") {
        Some(true)
    } else if value.eq_ignore_ascii_case("Windows") {
        Some(false)
    } else {
        None
    }
}

/// The zones a mailbox supports as `timeZoneInformation` objects: Windows names with their display names, or
/// (`iana`) the IANA zone CLDR maps each Windows zone to.
pub fn supported(iana: bool) -> Vec<Value> {
    use strum::IntoEnumIterator;
    let mut seen = std::collections::HashSet::new();
    WindowsTimezone::iter()
        .filter_map(|zone| {
            let (alias, display) = if iana {
                (zone.tzdb_id(), zone.tzdb_id())
            } else {
                (zone.name(), zone.description())
            };
            seen.insert(alias)
                .then(|| json!({"alias": alias, "displayName": display}))
        })
        .collect()
}

/// Graph's `dateTime` text: no offset, seven fractional digits.
pub fn format_local(local: DateTime) -> String {
    format!(
        "{}.{:07}",
        local.strftime("%Y-%m-%dT%H:%M:%S"),
        local.subsec_nanosecond() / 100
    )
}

/// A `dateTimeTimeZone` object for an instant shown in `zone`.
pub fn date_time_time_zone(instant: Timestamp, zone: &Zone) -> Value {
    json!({"dateTime": format_local(zone.local(instant)), "timeZone": zone.name})
}

/// Parses a `dateTime` value: a wall-clock time, optionally with fractional seconds. A value that carries an
/// offset or `Z` is converted into `zone`.
pub fn parse_local(text: &str, zone: &Zone) -> Option<DateTime> {
    if let Ok(local) = DateTime::from_str(text) {
        return Some(local);
    }
    Timestamp::from_str(text)
        .ok()
        .map(|instant| zone.local(instant))
}

/// Parses a calendarView bound (`startDateTime`/`endDateTime`): an offset is honoured, none means UTC.
pub fn parse_bound(text: &str) -> Option<Timestamp> {
    if let Ok(instant) = Timestamp::from_str(text) {
        return Some(instant);
    }
    DateTime::from_str(text)
        .ok()
        .and_then(|local| local.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// Graph's text for an instant in `createdDateTime` / `lastModifiedDateTime` (UTC, seven digits, `Z`).
pub fn format_utc(instant: Timestamp) -> String {
    format!("{}Z", format_local(Zone::utc().local(instant)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn windows_and_iana_names_resolve_and_unknown_names_fail() {
        let pst = resolve("Pacific Standard Time").unwrap();
        let la = resolve("America/Los_Angeles").unwrap();
        let local: DateTime = "2017-04-15T12:00:00".parse().unwrap();
        assert_eq!(pst.instant(local), la.instant(local));
        assert_eq!(pst.instant(local).to_string(), "2017-04-15T19:00:00Z");
        let err = resolve("Mars/Olympus_Mons").unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (400, "TimeZoneNotSupportedException")
        );
    }

    #[test]
    fn supported_time_zones_segment_names_the_standard() {
        assert_eq!(supported_zones_standard("supportedTimeZones"), Some(false));
        assert_eq!(
            supported_zones_standard("SupportedTimeZones()"),
            Some(false)
        );
        assert_eq!(
            supported_zones_standard(
                "supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')"
            ),
            Some(true)
        );
        assert_eq!(
            supported_zones_standard("supportedTimeZones(TimeZoneStandard='Windows')"),
            Some(false)
        );
        assert_eq!(
            supported_zones_standard("supportedTimeZones(TimeZoneStandard='Mars')"),
            None
        );
        assert_eq!(supported_zones_standard("supportedLanguages"), None);
        assert_eq!(supported_zones_standard("supported"), None);
    }

    #[test]
    fn date_times_have_seven_fractional_digits() {
        let local: DateTime = "2017-04-15T11:00:00.5".parse().unwrap();
        assert_eq!(format_local(local), "2017-04-15T11:00:00.5000000");
        assert_eq!(
            parse_bound("2024-01-01T00:00:00+02:00")
                .unwrap()
                .to_string(),
            "2023-12-31T22:00:00Z"
        );
        assert_eq!(
            parse_bound("2024-01-01T00:00:00").unwrap().to_string(),
            "2024-01-01T00:00:00Z"
        );
    }
}
