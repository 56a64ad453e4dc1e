//! What the engine needs to know about an event beyond its content: the semantic hash as hex, the
//! keys that pair copies existing on both sides before their first sync (the match key, and the
//! looser awaited key of meetings the owner attends), and a few small readers of Graph JSON.

use outlook_model::{Event, EventTime, semantic_hash_hex};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The engine's content hash of an event (the same function on both sides).
pub(crate) fn content_hash(event: &Event) -> String {
    semantic_hash_hex(event)
}

/// Digest of subject, start, end and organizer: two events with the same digest are taken to be
/// the same meeting when neither is linked yet. The organizer is the mailbox itself for events it
/// organises, so an Odoo event whose organizer partner has another address still matches.
pub(crate) fn match_key(event: &Event, mailbox: &str) -> String {
    let organizer = if event.is_organizer {
        mailbox.trim().to_lowercase()
    } else {
        organizer_address(event).unwrap_or_default()
    };
    digest([
        event.subject.trim().to_lowercase(),
        time_text(&event.start),
        time_text(&event.end),
        organizer,
    ])
}

/// Digest of organizer and subject of a meeting the owner attends, for the engine's last pairing
/// pass (`awaited_key`): it pairs an Odoo event waiting for its invitation with the copy the
/// invitation brought even after the owner moved the event in Odoo, where the match key no longer
/// agrees. The engine uses it only when unambiguous. A series and a single event never share
/// it (an organiser's one-off meeting is not the series still awaited). `None` for meetings the
/// owner organizes, and without an organizer address or a subject (too little to go on).
pub(crate) fn awaited_key(event: &Event) -> Option<String> {
    if event.is_organizer {
        return None;
    }
    let organizer = organizer_address(event).filter(|a| !a.is_empty())?;
    let subject = event.subject.trim().to_lowercase();
    if subject.is_empty() {
        return None;
    }
    let kind = if event.recurrence.is_some() {
        "series"
    } else {
        "single"
    };
    Some(digest([organizer, subject, kind.to_owned()]))
}

/// The organizer's address, compared without case.
fn organizer_address(event: &Event) -> Option<String> {
    Some(event.organizer.as_ref()?.email.as_ref()?.key())
}

/// Hex SHA-256 of length-prefixed fields (no two field lists share a digest).
fn digest<const N: usize>(fields: [String; N]) -> String {
    let mut digest = Sha256::new();
    for field in fields {
        digest.update((field.len() as u64).to_be_bytes());
        digest.update(field.as_bytes());
    }
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn time_text(time: &EventTime) -> String {
    match time {
        EventTime::Timed(ts) => format!("T{}", ts.as_second()),
        EventTime::AllDay(date) => format!("D{date}"),
    }
}

/// `lastModifiedDateTime` of a Graph event, Unix milliseconds.
pub(crate) fn graph_modified_ms(json: &Value) -> Option<i64> {
    json.get("lastModifiedDateTime")
        .and_then(Value::as_str)
        .and_then(|text| text.parse::<jiff::Timestamp>().ok())
        .map(|ts| ts.as_millisecond())
}

/// A string property of a Graph event, when present and non-empty.
pub(crate) fn graph_str<'a>(json: &'a Value, field: &str) -> Option<&'a str> {
    json.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `/me/events/{id}` for a `$batch` item, with the id percent-encoded where a path needs it.
pub(crate) fn event_path(id: &str) -> String {
    let mut out = String::from("/me/events/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'=') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(subject: &str, organizer: bool) -> Event {
        serde_json::from_value(serde_json::json!({
            "subject": subject,
            "start": {"timed": "2026-01-05T09:00:00Z"},
            "end": {"timed": "2026-01-05T10:00:00Z"},
            "is_organizer": organizer,
        }))
        .unwrap()
    }

    #[test]
    fn match_key_ignores_case_and_padding_of_subject_but_not_times() {
        let a = event("Standup", true);
        let b = event("  standup ", true);
        assert_eq!(match_key(&a, "Me@x.org"), match_key(&b, "me@x.org"));
        let mut c = a.clone();
        c.end = c.start;
        assert_ne!(match_key(&a, "me@x.org"), match_key(&c, "me@x.org"));
        assert_ne!(
            match_key(&a, "me@x.org"),
            match_key(&event("Standup", false), "me@x.org")
        );
    }

    #[test]
    fn awaited_key_is_organizer_and_subject_of_an_attended_meeting_whatever_its_times() {
        let attended = |subject: &str, organizer: &str| {
            let mut e = event(subject, false);
            e.organizer = serde_json::from_value(serde_json::json!({"email": organizer})).unwrap();
            e
        };
        let a = attended("Design review", "Org@Contoso.com");
        let mut moved = attended(" design REVIEW ", "org@contoso.com");
        moved.start = moved.end;
        assert!(awaited_key(&a).is_some());
        assert_eq!(awaited_key(&a), awaited_key(&moved));
        assert_ne!(
            awaited_key(&a),
            awaited_key(&attended("Design review", "other@contoso.com"))
        );
        assert_ne!(
            awaited_key(&a),
            awaited_key(&attended("Retro", "org@contoso.com"))
        );
        // A series is not the one-off meeting of the same name.
        let mut series = a.clone();
        series.recurrence = serde_json::from_value(serde_json::json!({
            "pattern": {"type": "daily", "interval": 1},
            "range": {"start_date": "2026-01-05", "end": {"type": "no_end"}},
        }))
        .unwrap();
        assert_ne!(awaited_key(&a), awaited_key(&series));
        // Only for meetings the owner attends, and with enough to go on.
        assert_eq!(awaited_key(&event("Design review", true)), None);
        assert_eq!(awaited_key(&event("Design review", false)), None);
        assert_eq!(awaited_key(&attended("  ", "org@contoso.com")), None);
    }

    #[test]
    fn event_paths_escape_what_a_path_cannot_hold() {
        assert_eq!(event_path("AAMk-_=="), "/me/events/AAMk-_==");
        assert_eq!(event_path("a/b+c"), "/me/events/a%2Fb%2Bc");
    }
}
