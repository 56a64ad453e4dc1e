//! The semantic hash: a fingerprint of what a person would call "a change" to an event.
//!
//! The engine stores it per side at every successful sync; an item changed if and only if its hash
//! changed. So it must ignore churn (Graph's `changeKey`, `lastModifiedDateTime`, ids, attendee order,
//! address case, response times, reformatted HTML whitespace) and must be stable across releases: it is a
//! SHA-256 over a hand-written, versioned, length-prefixed encoding, never `std::hash` or map order.
//!
//! Fields that count, in encoding order:
//! 1. `subject` (trimmed)
//! 2. `body_html` after [`normalize_body`] (outer `<html>/<body>` wrapper dropped, whitespace collapsed)
//! 3. `location` (trimmed; empty = none)
//! 4. `start` and `end` (instant in UTC seconds+nanos, or date), and whether all-day
//! 5. `time_zone`, only for recurring events (it decides the occurrences' wall-clock times and days)
//! 6. organizer address (normalized key), not the display name
//! 7. attendees as a sorted set of (address key or, without an address, the trimmed name; type; response)
//! 8. own `response`
//! 9. `privacy`, `show_as`, `reminder_minutes`, `online_meeting_url`
//! 10. `recurrence` as canonical RRULE text plus start date and rule zone
//! 11. `is_cancelled`
//! 12. `categories` as a sorted, deduplicated set
//! 13. `deleted_occurrences` of a series as a sorted, deduplicated set of dates, only when there are
//!     any (so the hash of every event without deleted occurrences is what it was before this field)
//! 14. `exceptions` of a series (edited occurrences), only when there are any (same reason), sorted
//!     by original date: per exception its date, start and end (as in 4), trimmed subject and
//!     location, then, only when the occurrence has a body of its own (one that is not the
//!     master's after [`normalize_body`]), that body after [`normalize_body`]. Adding 13 and 14
//!     left every earlier hash as it was, so `ENCODING_VERSION` stayed 1.
//! 15. attendees of the exceptions that have their own (a set of addresses other than the
//!     master's), only when there are any: per such exception its date and its attendees' keys
//!     (as in 7, without type or answer), sorted
//! 16. reminders of the exceptions that have their own (other than the master's), only when there
//!     are any: per such exception its date and its minutes (empty for none)
//!
//! Encoding change (occurrence bodies): the body part of 14 was added after 14 itself. An exception
//! with the master's body encodes exactly as before (five parts), so the hash of every series
//! without exceptions, and of every series whose exceptions have the master's body, is unchanged;
//! only a series with an occurrence whose body is its own hashes differently (six parts, the sixth
//! being that body), which is what a body edit of one occurrence should do. `ENCODING_VERSION`
//! stays 1.
//!
//! Encoding change (occurrence attendees and reminders): 15 and 16 were added after 14, in lists of
//! their own that are left out when empty, so every series whose exceptions have the master's
//! attendees and reminder hashes as before. `ENCODING_VERSION` stays 1.
//!
//! Not counted: `ical_uid`, `kind`, `series_master_id`, `original_start` (identity, not content),
//! `is_organizer` (a property of whose mailbox we read), display names of people.

use sha2::{Digest, Sha256};

use crate::event::{Event, EventTime};
use crate::graph::enums::GraphEnum;
use crate::recurrence::exceptions::{attendee_key, same_attendees};
use crate::recurrence::rrule;

/// Bump when the encoding changes: old and new hashes then never collide by accident.
const ENCODING_VERSION: u8 = 1;

/// SHA-256 of the event's semantic content; see the module documentation for exactly which fields count.
pub fn semantic_hash(event: &Event) -> [u8; 32] {
    let mut enc = Encoder(Sha256::new());
    enc.0.update([ENCODING_VERSION]);
    enc.str(b's', event.subject.trim());
    enc.str(b'b', &normalize_body(&event.body_html));
    enc.str(
        b'l',
        event.location.as_deref().map(str::trim).unwrap_or_default(),
    );
    enc.time(b'S', &event.start);
    enc.time(b'E', &event.end);
    if event.recurrence.is_some() {
        enc.str(b'z', event.time_zone.as_deref().unwrap_or_default());
    }
    enc.str(
        b'o',
        &event
            .organizer
            .as_ref()
            .and_then(|o| o.email.as_ref())
            .map(|e| e.key())
            .unwrap_or_default(),
    );
    let mut attendees: Vec<String> = event
        .attendees
        .iter()
        .map(|a| {
            format!(
                "{}\u{1f}{}\u{1f}{}",
                attendee_key(a),
                a.kind.graph_name(),
                a.response.graph_name()
            )
        })
        .collect();
    attendees.sort();
    attendees.dedup();
    enc.list(b'a', &attendees);
    // Graph's member names: fixed by Microsoft's schema, unlike our Debug output.
    enc.str(b'r', event.response.graph_name());
    enc.str(b'p', event.privacy.graph_name());
    enc.str(b'f', event.show_as.graph_name());
    enc.str(
        b'm',
        &event
            .reminder_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    enc.str(
        b'u',
        event.online_meeting_url.as_deref().unwrap_or_default(),
    );
    let recurrence = event.recurrence.as_ref().map(|r| {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            rrule::to_rrule(r),
            r.range.start_date,
            r.range.time_zone.as_deref().unwrap_or_default()
        )
    });
    enc.str(b'R', recurrence.as_deref().unwrap_or_default());
    enc.str(b'c', if event.is_cancelled { "1" } else { "0" });
    let mut categories: Vec<String> = event
        .categories
        .iter()
        .map(|c| c.trim().to_owned())
        .collect();
    categories.sort();
    categories.dedup();
    enc.list(b'C', &categories);
    if event.recurrence.is_some() && !event.deleted_occurrences.is_empty() {
        let mut deleted: Vec<String> = event
            .deleted_occurrences
            .iter()
            .map(ToString::to_string)
            .collect();
        deleted.sort();
        deleted.dedup();
        enc.list(b'X', &deleted);
    }
    if event.recurrence.is_some() && !event.exceptions.is_empty() {
        let master_body = normalize_body(&event.body_html);
        let mut exceptions: Vec<String> = event
            .exceptions
            .iter()
            .map(|e| {
                let mut text = format!(
                    "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                    e.date,
                    time_text(&e.start),
                    time_text(&e.end),
                    e.subject.trim(),
                    e.location.as_deref().map(str::trim).unwrap_or_default()
                );
                // Only a body of its own counts (see 14): the master's is encoded already.
                if let Some(body) = e.body_html.as_deref().map(normalize_body)
                    && body != master_body
                {
                    text.push('\u{1f}');
                    text.push_str(&body);
                }
                text
            })
            .collect();
        // Canonical events are sorted already; sorting here keeps the hash independent of that.
        exceptions.sort();
        enc.list(b'Y', &exceptions);
    }
    if event.recurrence.is_some() {
        // 15 and 16: only what differs from the master counts (canonical events say `None` then).
        let mut attendees: Vec<String> = event
            .exceptions
            .iter()
            .filter_map(|e| {
                let own = e.attendees.as_deref()?;
                if same_attendees(own, &event.attendees) {
                    return None;
                }
                let mut keys: Vec<String> = own.iter().map(attendee_key).collect();
                keys.sort();
                keys.dedup();
                Some(format!("{}\u{1f}{}", e.date, keys.join("\u{1f}")))
            })
            .collect();
        if !attendees.is_empty() {
            attendees.sort();
            enc.list(b'A', &attendees);
        }
        let mut reminders: Vec<String> = event
            .exceptions
            .iter()
            .filter_map(|e| {
                let own = e
                    .reminder_minutes
                    .filter(|r| *r != event.reminder_minutes)?;
                Some(format!(
                    "{}\u{1f}{}",
                    e.date,
                    own.map(|m| m.to_string()).unwrap_or_default()
                ))
            })
            .collect();
        if !reminders.is_empty() {
            reminders.sort();
            enc.list(b'M', &reminders);
        }
    }
    enc.0.finalize().into()
}

/// [`semantic_hash`] as 64 lowercase hex digits.
pub fn semantic_hash_hex(event: &Event) -> String {
    semantic_hash(event)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The body as compared: the content of `<body>` when there is an HTML wrapper (Outlook adds one, Odoo
/// does not), with every whitespace run collapsed to one space and the ends trimmed.
pub fn normalize_body(html: &str) -> String {
    let inner = body_content(html).unwrap_or(html);
    inner.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn body_content(html: &str) -> Option<&str> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<body")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = lower.rfind("</body>").filter(|e| *e >= start)?;
    html.get(start..end)
}

/// Length-prefixed, tagged fields: no two different events can encode to the same byte stream.
struct Encoder(Sha256);

impl Encoder {
    fn str(&mut self, tag: u8, value: &str) {
        self.0.update([tag]);
        self.0.update((value.len() as u64).to_be_bytes());
        self.0.update(value.as_bytes());
    }

    fn list(&mut self, tag: u8, values: &[String]) {
        self.0.update([tag]);
        self.0.update((values.len() as u64).to_be_bytes());
        for v in values {
            self.str(b'.', v);
        }
    }

    fn time(&mut self, tag: u8, time: &EventTime) {
        self.str(tag, &time_text(time));
    }
}

fn time_text(time: &EventTime) -> String {
    match time {
        EventTime::Timed(ts) => format!("T{}.{:09}", ts.as_second(), ts.subsec_nanosecond()),
        EventTime::AllDay(d) => format!("D{d}"),
    }
}
