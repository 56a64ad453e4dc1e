//! Time zone names: Windows (what Outlook speaks) <-> IANA (what Odoo and jiff speak).
//!
//! The mapping is CLDR's `windowsZones.xml`, as packaged by the `windows-timezones` crate (its chrono-tz
//! feature carries the reverse table over every territory row). CLDR still writes some IANA ids in their
//! legacy spelling (`Asia/Calcutta`); we rename those to the current tzdb names on the way out and accept
//! both on the way in.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;

use jiff::tz::TimeZone;
use windows_timezones::WindowsTimezone;

use crate::error::ModelError;

mod links;

/// CLDR's legacy IANA spellings and their current tzdb names (tzdb `backward` renames). Only renames are
/// listed, not zones that tzdb merely links to a neighbour (CLDR's `Europe/Bratislava` stays as is).
const LEGACY_IANA: &[(&str, &str)] = &[
    ("Africa/Asmera", "Africa/Asmara"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Coral_Harbour", "America/Atikokan"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Godthab", "America/Nuuk"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Ponape", "Pacific/Pohnpei"),
    ("Pacific/Truk", "Pacific/Chuuk"),
];

/// Names Graph uses for zones that have no standard identity (desktop Outlook's custom zones). They are
/// read as UTC and flagged, so the caller can warn instead of failing the whole event.
const NON_STANDARD_UTC: &[&str] = &[
    "tzone://Microsoft/Custom",
    "tzone://Microsoft/Utc",
    "Customized Time Zone",
];

/// The current tzdb name for a legacy spelling: CLDR's (`Asia/Calcutta` -> `Asia/Kolkata`) and tzdb's
/// backward links that CLDR does not list (`US/Eastern` -> `America/New_York`). Other names, including
/// unknown ones, come back unchanged.
pub fn modern_iana_name(name: &str) -> &str {
    let find = |table: &'static [(&'static str, &'static str)], name: &str| {
        table
            .iter()
            .find(|(old, _)| old.eq_ignore_ascii_case(name))
            .map(|(_, new)| *new)
    };
    let name = find(links::BACKWARD_LINKS, name).unwrap_or(name);
    find(LEGACY_IANA, name).unwrap_or(name)
}

struct Tables {
    /// Lowercased Windows name -> zone.
    windows_by_name: HashMap<String, WindowsTimezone>,
    /// Lowercased current IANA name -> Windows zone (all CLDR territory rows).
    windows_by_iana: HashMap<String, WindowsTimezone>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut windows_by_name = HashMap::new();
        let mut windows_by_iana: HashMap<String, WindowsTimezone> = HashMap::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let Ok(windows) = WindowsTimezone::try_from(tz) else {
                continue;
            };
            windows_by_name.insert(windows.name().to_ascii_lowercase(), windows);
            let key = modern_iana_name(tz.name()).to_ascii_lowercase();
            // Several rows can land on one current name once legacy spellings are renamed; the zone whose
            // territory-001 ("golden") id it is wins, as CLDR intends.
            let is_golden = modern_iana_name(windows.tzdb_id()).eq_ignore_ascii_case(&key);
            if is_golden || !windows_by_iana.contains_key(&key) {
                windows_by_iana.insert(key, windows);
            }
        }
        Tables {
            windows_by_name,
            windows_by_iana,
        }
    })
}

fn windows_zone(name: &str) -> Option<WindowsTimezone> {
    WindowsTimezone::from_str(name).ok().or_else(|| {
        tables()
            .windows_by_name
            .get(&name.to_ascii_lowercase())
            .copied()
    })
}

/// Windows zone name (any case) -> current IANA name of CLDR's territory-001 zone.
///
/// `windows_to_iana("India Standard Time") == Some("Asia/Kolkata")` (CLDR says `Asia/Calcutta`).
pub fn windows_to_iana(name: &str) -> Option<&'static str> {
    windows_zone(name.trim()).map(|w| modern_iana_name(w.tzdb_id()))
}

/// IANA name (any case, current or legacy spelling) -> Windows zone name. Many IANA zones share one
/// Windows zone (`Europe/Rome` and `Europe/Berlin` are both `W. Europe Standard Time`).
pub fn iana_to_windows(name: &str) -> Option<&'static str> {
    let name = name.trim();
    let key = modern_iana_name(name).to_ascii_lowercase();
    if let Some(w) = tables().windows_by_iana.get(&key) {
        return Some(w.name());
    }
    // tzdb may know the name under another spelling (case, or a link jiff resolves).
    let canonical = TimeZone::get(name).ok()?.iana_name()?.to_owned();
    tables()
        .windows_by_iana
        .get(&modern_iana_name(&canonical).to_ascii_lowercase())
        .map(|w| w.name())
}

/// A zone name resolved to real tzdb rules.
#[derive(Debug, Clone)]
pub struct ResolvedZone {
    /// The rules.
    pub tz: TimeZone,
    /// Current IANA name (`"UTC"` for the UTC fallback).
    pub iana_name: String,
    /// Windows name, when CLDR has one.
    pub windows_name: Option<&'static str>,
    /// True when the name was one of Outlook's non-standard zones (`tzone://Microsoft/Custom`, ...) read
    /// as UTC. Callers should surface a warning: local times of such events may be off.
    pub substituted_utc: bool,
}

/// Resolves a Windows name, an IANA name, or one of Graph's IANA-ish names (`"Asia/Toshkent (Tashkent)"`).
///
/// `item` and `field` only label the error. Outlook's custom zones resolve to UTC with
/// [`ResolvedZone::substituted_utc`] set; any other unknown name is [`ModelError::UnknownTimeZone`].
pub fn resolve(name: &str, item: &str, field: &str) -> Result<ResolvedZone, ModelError> {
    lookup(name).ok_or_else(|| ModelError::unknown_zone(name, item, field))
}

fn lookup(raw: &str) -> Option<ResolvedZone> {
    let name = raw.trim();
    if NON_STANDARD_UTC
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
    {
        return Some(ResolvedZone {
            tz: TimeZone::UTC,
            iana_name: "UTC".to_owned(),
            windows_name: Some("UTC"),
            substituted_utc: true,
        });
    }
    if let Some(windows) = windows_zone(name) {
        let iana = modern_iana_name(windows.tzdb_id());
        return Some(ResolvedZone {
            tz: TimeZone::get(iana).ok()?,
            iana_name: iana.to_owned(),
            windows_name: Some(windows.name()),
            substituted_utc: false,
        });
    }
    // Graph's accepted list has entries like "Asia/Toshkent (Tashkent)": the part in parentheses is a
    // label; the rest may itself be a misspelling, so try the label's city too.
    let (head, label) = match name.split_once(" (") {
        Some((head, rest)) => (head.trim(), rest.strip_suffix(')').map(str::trim)),
        None => (name, None),
    };
    let tz = TimeZone::get(modern_iana_name(head)).ok().or_else(|| {
        let (area, _) = head.split_once('/')?;
        TimeZone::get(&format!("{area}/{}", label?)).ok()
    })?;
    let iana = modern_iana_name(tz.iana_name()?).to_owned();
    Some(ResolvedZone {
        windows_name: iana_to_windows(&iana),
        iana_name: iana,
        tz,
        substituted_utc: false,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn windows_to_iana_uses_current_names() {
        for (windows, iana) in [
            ("Pacific Standard Time", "America/Los_Angeles"),
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("India Standard Time", "Asia/Kolkata"),
            ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
            ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
            ("Greenland Standard Time", "America/Nuuk"),
            ("Nepal Standard Time", "Asia/Kathmandu"),
            ("FLE Standard Time", "Europe/Kyiv"),
            ("Tokyo Standard Time", "Asia/Tokyo"),
            ("New Zealand Standard Time", "Pacific/Auckland"),
            ("UTC", "Etc/UTC"),
            ("AUS Eastern Standard Time", "Australia/Sydney"),
            ("pacific standard time", "America/Los_Angeles"),
        ] {
            assert_eq!(windows_to_iana(windows), Some(iana), "{windows}");
            // Every returned name must be one jiff knows.
            assert!(TimeZone::get(iana).is_ok(), "{iana}");
        }
    }

    #[test]
    fn iana_to_windows_covers_non_golden_and_legacy_names() {
        for (iana, windows) in [
            ("America/Los_Angeles", "Pacific Standard Time"),
            ("Europe/Rome", "W. Europe Standard Time"),
            ("Europe/Paris", "Romance Standard Time"),
            ("Asia/Kolkata", "India Standard Time"),
            ("Asia/Calcutta", "India Standard Time"),
            ("America/Buenos_Aires", "Argentina Standard Time"),
            ("America/Argentina/Buenos_Aires", "Argentina Standard Time"),
            ("America/Indianapolis", "US Eastern Standard Time"),
            ("America/Godthab", "Greenland Standard Time"),
            ("America/Nuuk", "Greenland Standard Time"),
            ("America/Toronto", "Eastern Standard Time"),
            ("Pacific/Auckland", "New Zealand Standard Time"),
            ("europe/berlin", "W. Europe Standard Time"),
            ("US/Eastern", "Eastern Standard Time"),
            ("Canada/Pacific", "Pacific Standard Time"),
            ("Asia/Istanbul", "Turkey Standard Time"),
            ("US/East-Indiana", "US Eastern Standard Time"),
        ] {
            assert_eq!(iana_to_windows(iana), Some(windows), "{iana}");
        }
    }

    #[test]
    fn resolve_accepts_windows_iana_and_graph_oddities() {
        let z = resolve("W. Europe Standard Time", "e1", "start.timeZone").unwrap();
        assert_eq!(z.iana_name, "Europe/Berlin");
        assert!(!z.substituted_utc);
        let z = resolve("Asia/Calcutta", "e1", "start.timeZone").unwrap();
        assert_eq!(z.iana_name, "Asia/Kolkata");
        assert_eq!(z.windows_name, Some("India Standard Time"));
        let z = resolve("US/Pacific", "e1", "start.timeZone").unwrap();
        assert_eq!(z.iana_name, "America/Los_Angeles");
        let z = resolve("Europe/Bratislava", "e1", "start.timeZone").unwrap();
        assert_eq!(
            z.iana_name, "Europe/Bratislava",
            "a zone CLDR lists keeps its name"
        );
        let z = resolve("Asia/Toshkent (Tashkent)", "e1", "start.timeZone").unwrap();
        assert_eq!(z.iana_name, "Asia/Tashkent");
        for odd in [
            "tzone://Microsoft/Custom",
            "tzone://Microsoft/Utc",
            "Customized Time Zone",
        ] {
            let z = resolve(odd, "e1", "originalStartTimeZone").unwrap();
            assert!(z.substituted_utc, "{odd}");
            assert_eq!(z.tz, TimeZone::UTC);
        }
    }

    #[test]
    fn unknown_zone_error_names_item_and_field() {
        let err = resolve(
            "Mars/Olympus_Mons",
            "AAMkAGI1AAAt9AHjAAA=",
            "start.timeZone",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "item AAMkAGI1AAAt9AHjAAA=: unknown time zone \"Mars/Olympus_Mons\" in field `start.timeZone`"
        );
    }
}
