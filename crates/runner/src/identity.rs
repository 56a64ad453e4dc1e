//! What the engine needs to know about an event beyond its content: the semantic hash as hex, the
//! match key that pairs copies existing on both sides before their first sync, and a few small
//! readers of Graph JSON.

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
        event
            .organizer
            .as_ref()
            .and_then(|o| o.email.as_ref())
            .map(|e| e.key())
            .unwrap_or_default()
    };
    let mut digest = Sha256::new();
    for field in [
        event.subject.trim().to_lowercase(),
        time_text(&event.start),
        time_text(&event.end),
        organizer,
    ] {
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
    fn event_paths_escape_what_a_path_cannot_hold() {
        assert_eq!(event_path("AAMk-_=="), "/me/events/AAMk-_==");
        assert_eq!(event_path("a/b+c"), "/me/events/a%2Fb%2Bc");
    }
}
