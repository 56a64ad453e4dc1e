//! How many mails Outlook sends to attendees because of a write (design decision 3: every Graph
//! write can mail everyone, so a run says how many it caused, and a dry run how many it would).
//!
//! Outlook's rules, as documented for the organiser's copy: a create invites every attendee; an
//! update invites those added, cancels those removed and, when a meeting field changed, updates
//! every remaining one; a delete cancels a meeting that is not cancelled yet. Nothing is mailed for
//! a write to an attendee's own copy, nor to the organiser, nor to an attendee without an address,
//! except the answer an attendee sends (`accept`, `decline`, `tentativelyAccept` with
//! `sendResponse`): one `response` to the organiser, counted where it is sent (`push`).

use std::collections::BTreeSet;

use outlook_model::Event;
use serde_json::{Map, Value};

use crate::output::Mails;

/// Properties whose change makes Outlook send an update to the attendees.
const MEETING_FIELDS: &[&str] = &[
    "subject",
    "body",
    "start",
    "end",
    "location",
    "recurrence",
    "isAllDay",
    "isOnlineMeeting",
];

fn recipients(event: &Event, mailbox: &str) -> BTreeSet<String> {
    let owner = mailbox.trim().to_lowercase();
    event
        .attendees
        .iter()
        .filter_map(|a| a.email.as_ref())
        .map(|e| e.key())
        .filter(|key| *key != owner)
        .collect()
}

/// Mails caused by creating `event` (we are always its organiser).
pub(crate) fn for_create(event: &Event, mailbox: &str) -> Mails {
    Mails {
        invitations: recipients(event, mailbox).len(),
        ..Mails::default()
    }
}

/// Mails caused by sending `patch` to turn `old` (the remote copy) into `new`.
pub(crate) fn for_update(
    old: &Event,
    new: &Event,
    patch: &Map<String, Value>,
    mailbox: &str,
) -> Mails {
    if !old.is_organizer || patch.is_empty() {
        return Mails::default();
    }
    let before = recipients(old, mailbox);
    let after = if patch.contains_key("attendees") {
        recipients(new, mailbox)
    } else {
        before.clone()
    };
    let meeting_changed = MEETING_FIELDS.iter().any(|f| patch.contains_key(*f));
    Mails {
        invitations: after.difference(&before).count(),
        cancellations: before.difference(&after).count(),
        updates: if meeting_changed {
            after.intersection(&before).count()
        } else {
            0
        },
        responses: 0,
    }
}

/// Mails caused by deleting the remote copy `old` (unknown content: none can be predicted).
pub(crate) fn for_delete(old: Option<&Event>, mailbox: &str) -> Mails {
    match old {
        Some(event) if event.is_organizer && !event.is_cancelled => Mails {
            cancellations: recipients(event, mailbox).len(),
            ..Mails::default()
        },
        _ => Mails::default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn meeting(attendees: &[&str]) -> Event {
        let attendees: Vec<Value> = attendees
            .iter()
            .map(|a| json!({"email": a, "kind": "required", "response": "none"}))
            .collect();
        serde_json::from_value(json!({
            "subject": "Review",
            "start": {"timed": "2026-01-05T09:00:00Z"},
            "end": {"timed": "2026-01-05T10:00:00Z"},
            "is_organizer": true,
            "attendees": attendees,
        }))
        .unwrap()
    }

    #[test]
    fn create_invites_everyone_but_the_owner() {
        let event = meeting(&["a@x.org", "B@x.org", "me@x.org"]);
        assert_eq!(for_create(&event, "ME@x.org").invitations, 2);
    }

    #[test]
    fn update_counts_added_removed_and_remaining() {
        let old = meeting(&["a@x.org", "b@x.org"]);
        let new = meeting(&["b@x.org", "c@x.org"]);
        let mut patch = Map::new();
        patch.insert("attendees".into(), json!([]));
        patch.insert("subject".into(), json!("x"));
        let mails = for_update(&old, &new, &patch, "me@x.org");
        assert_eq!(
            (mails.invitations, mails.cancellations, mails.updates),
            (1, 1, 1)
        );
        let mut quiet = Map::new();
        quiet.insert("categories".into(), json!(["Red"]));
        assert_eq!(for_update(&old, &old, &quiet, "me@x.org").total(), 0);
    }

    #[test]
    fn attendee_copies_and_cancelled_meetings_mail_nobody() {
        let mut copy = meeting(&["a@x.org"]);
        copy.is_organizer = false;
        assert_eq!(for_delete(Some(&copy), "me@x.org").total(), 0);
        let mut cancelled = meeting(&["a@x.org"]);
        cancelled.is_cancelled = true;
        assert_eq!(for_delete(Some(&cancelled), "me@x.org").total(), 0);
        assert_eq!(
            for_delete(Some(&meeting(&["a@x.org"])), "me@x.org").cancellations,
            1
        );
    }
}
