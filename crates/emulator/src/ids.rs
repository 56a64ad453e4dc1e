//! Opaque identifiers: event ids, occurrence ids, change keys, iCalUIds, tokens.
//!
//! Event ids look like Exchange's: URL-safe base64 with padding, always ending in `=`. An occurrence id encodes
//! its master's raw id and the occurrence's original date, so any occurrence id can be resolved without a table.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use jiff::civil::Date;
use rand::RngCore;
use sha2::{Digest, Sha256};

const MASTER_TAG: u8 = 0x01;
const OCCURRENCE_TAG: u8 = 0x02;
/// 32 raw bytes: a multiple of 3 plus 2, so the base64 form ends in exactly one `=`.
const RAW_ID_LEN: usize = 32;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A fresh event id.
pub fn new_event_id() -> String {
    let mut raw: [u8; RAW_ID_LEN] = random_bytes();
    raw[0] = MASTER_TAG;
    URL_SAFE.encode(raw)
}

/// The id of the occurrence of `master_id` originally on `date`; `None` if `master_id` is not ours.
pub fn occurrence_id(master_id: &str, date: Date) -> Option<String> {
    let raw = URL_SAFE.decode(master_id).ok()?;
    if raw.len() != RAW_ID_LEN {
        return None;
    }
    let mut bytes = Vec::with_capacity(RAW_ID_LEN + 9);
    bytes.push(OCCURRENCE_TAG);
    bytes.extend_from_slice(&raw);
    bytes.extend_from_slice(date.strftime("%Y%m%d").to_string().as_bytes());
    Some(URL_SAFE.encode(bytes))
}

/// What an id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedId {
    /// A single event or series master.
    Item(String),
    /// An occurrence (or exception): the master's id and the original date.
    Occurrence(String, Date),
}

/// Parses an id the emulator issued; `None` means malformed (Graph: `ErrorInvalidIdMalformed`).
pub fn parse_id(id: &str) -> Option<ParsedId> {
    let raw = URL_SAFE.decode(id).ok()?;
    match raw.first() {
        Some(&MASTER_TAG) if raw.len() == RAW_ID_LEN => Some(ParsedId::Item(id.to_owned())),
        Some(&OCCURRENCE_TAG) if raw.len() == RAW_ID_LEN + 9 => {
            let master = URL_SAFE.encode(&raw[1..=RAW_ID_LEN]);
            let date_text = std::str::from_utf8(&raw[RAW_ID_LEN + 1..]).ok()?;
            let date = Date::strptime("%Y%m%d", date_text).ok()?;
            Some(ParsedId::Occurrence(master, date))
        }
        _ => None,
    }
}

/// Whether `id` is at least shaped like an Exchange id (base64 text), so that an unknown one is "not found"
/// rather than "malformed".
pub fn looks_like_id(id: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD as URL_NO_PAD};
    let bare = id.trim_end_matches('=');
    !bare.is_empty() && (URL_NO_PAD.decode(bare).is_ok() || STANDARD_NO_PAD.decode(bare).is_ok())
}

/// A fresh change key (base64 of 16 random bytes, `==`-terminated like Exchange's).
pub fn new_change_key() -> String {
    STANDARD.encode(random_bytes::<16>())
}

/// The id of a mailbox's default calendar (stable, URL-safe, `=`-terminated like event ids).
pub fn calendar_id(user_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"calendar\0");
    hasher.update(user_id.as_bytes());
    URL_SAFE.encode(hasher.finalize())
}

/// A change key derived from parts, stable for equal inputs (used for occurrences of a series).
pub fn derived_change_key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    STANDARD.encode(&hasher.finalize()[..16])
}

/// The fixed class id that starts every Outlook global object id.
const GOID_PREFIX: &str = "040000008200E00074C5B7101A82E008";

/// A fresh iCalUId in Outlook's global-object-id layout (instance date zeroed: the series or single item).
pub fn new_ical_uid(created_filetime: u64) -> String {
    let data: [u8; 16] = random_bytes();
    let data_hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
    let time_hex: String = created_filetime
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "{GOID_PREFIX}00000000{time_hex}{}10000000{data_hex}",
        "0".repeat(16)
    )
}

/// The iCalUId of one occurrence: Outlook writes the instance date into bytes 16..20 of the global object id.
pub fn occurrence_ical_uid(series_uid: &str, date: Date) -> String {
    let prefix_len = GOID_PREFIX.len();
    if series_uid.len() < prefix_len + 8 || !series_uid.is_ascii() {
        return format!("{series_uid}.{}", date.strftime("%Y%m%d"));
    }
    let year = u16::try_from(date.year()).unwrap_or(0);
    format!(
        "{}{:04X}{:02X}{:02X}{}",
        &series_uid[..prefix_len],
        year,
        date.month(),
        date.day(),
        &series_uid[prefix_len + 8..]
    )
}

/// A random token for OAuth codes, access and refresh tokens, delta and skip tokens.
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<24>())
}

/// A random GUID string (request ids, trace ids, object ids).
pub fn guid() -> String {
    let b: [u8; 16] = random_bytes();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn event_ids_end_in_padding_and_round_trip_occurrences() {
        let id = new_event_id();
        assert!(id.ends_with('=') && !id.ends_with("=="), "{id}");
        assert_eq!(parse_id(&id), Some(ParsedId::Item(id.clone())));
        let date = Date::new(2024, 3, 31).unwrap();
        let occ = occurrence_id(&id, date).unwrap();
        assert!(occ.ends_with('='), "{occ}");
        assert_eq!(parse_id(&occ), Some(ParsedId::Occurrence(id, date)));
        assert_eq!(parse_id("not-an-id"), None);
    }

    #[test]
    fn occurrence_ical_uid_embeds_the_date() {
        let uid = new_ical_uid(0x01D2_94B5_7D35_2BDA);
        assert_eq!(uid.len(), 112);
        let occ = occurrence_ical_uid(&uid, Date::new(2020, 4, 30).unwrap());
        assert_eq!(&occ[32..40], "07E4041E");
        assert_eq!(occ.len(), uid.len());
    }
}
