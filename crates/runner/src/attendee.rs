//! Organizer rules: only the organizer's copy of a meeting changes the meeting.
//!
//! Every mailbox invited to a meeting holds its own copy (the same `iCalUId`, `isOrganizer`
//! false). Creating in Outlook an Odoo event the owner only attends would make them the organizer
//! of a second meeting and invite everyone again, the real organizer included; PATCHing meeting
//! fields on an attendee's copy changes that copy alone (the organizer's next update overwrites
//! it) and tells no one. So, for a meeting the owner attends:
//!
//! - an unlinked Odoo event is never created in Outlook: it waits, unlinked and offered again,
//!   until the organizer's invitation brings the copy, which the engine then links (by `iCalUId`,
//!   then by subject, start, end and organizer, then, when unambiguous, by organizer and subject
//!   alone, so that an event moved in Odoo while it waited is still linked: the copy's meeting
//!   fields then go to Odoo, as below);
//! - a change of the owner's own answer is sent as Graph's response action (`accept`, `decline`,
//!   `tentativelyAccept` with `sendResponse`, which mails the organizer);
//! - personal fields (reminder, show-as, categories) changed in Odoo are PATCHed on the copy:
//!   Graph allows it, mails no one, and the organizer's updates leave them alone;
//! - meeting fields changed in Odoo are not written: the organizer's version is kept and written
//!   back to Odoo, and the report names the fields.

use outlook_engine::{Listing, LocalItem, Status};
use outlook_graph::{BatchRequest, Method};
use outlook_model::graph::diff_to_graph_patch;
use outlook_model::hash::normalize_body;
use outlook_model::odoo::OdooEvent;
use outlook_model::{Event, ResponseStatus};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

use crate::identity::{content_hash, event_path};
use crate::local::{LocalView, local_values};
use crate::output::{AttendeeNote, AttendeeNoteKind};
use crate::pull::RemoteView;
use crate::state::Link;

/// Why an Odoo event the owner attends is not created in Outlook.
pub(crate) const WAITING_REASON: &str = "waiting for the organizer's invitation: only the \
    organizer's Outlook can create this meeting; the event is linked to the owner's copy when the \
    invitation reaches this mailbox";

/// Whether a pair is a meeting the mailbox owner attends rather than organizes, by either side.
pub(crate) fn is_attendee(local: Option<&Event>, remote: Option<&Event>) -> bool {
    local.is_some_and(|e| !e.is_organizer) || remote.is_some_and(|e| !e.is_organizer)
}

/// What to do with an attendee's copy that the engine planned to update.
pub(crate) struct AttendeeWrite {
    /// Personal fields to PATCH (empty: no PATCH).
    pub(crate) patch: Map<String, Value>,
    /// The answer to send, if the owner changed theirs in Odoo.
    pub(crate) response: Option<ResponseStatus>,
    /// The copy as it will read after the writes.
    pub(crate) expected: Event,
    /// The Odoo values to write back (the organizer's meeting fields) and their content hash, when
    /// Odoo differs from them.
    pub(crate) local: Option<(OdooEvent, String)>,
    /// Meeting fields changed in Odoo that are not sent (with no last-synced copy to tell Odoo's
    /// edits from the organizer's: every meeting field in which Odoo differs).
    pub(crate) kept: Vec<&'static str>,
}

impl AttendeeWrite {
    /// The `$batch` items: the PATCH of personal fields, then the response action.
    pub(crate) fn requests(&self, remote_id: &str) -> Vec<BatchRequest> {
        let mut requests = Vec::new();
        if !self.patch.is_empty() {
            requests.push(BatchRequest {
                method: Method::PATCH,
                url: event_path(remote_id),
                body: Some(Value::Object(self.patch.clone())),
                depends_on: None,
            });
        }
        if let Some(action) = self.response.and_then(response_action) {
            requests.push(BatchRequest {
                method: Method::POST,
                url: format!("{}/{action}", event_path(remote_id)),
                body: Some(json!({"sendResponse": true})),
                depends_on: None,
            });
        }
        requests
    }
}

/// Graph's action for an answer (`None` for "no answer", which cannot be sent).
fn response_action(response: ResponseStatus) -> Option<&'static str> {
    match response {
        ResponseStatus::Accepted => Some("accept"),
        ResponseStatus::Declined => Some("decline"),
        ResponseStatus::TentativelyAccepted => Some("tentativelyAccept"),
        ResponseStatus::None | ResponseStatus::NotResponded | ResponseStatus::Organizer => None,
    }
}

/// An event as Odoo would hold it: what the Odoo side is compared against, so that what Odoo
/// cannot express (attendee types, show-as "tentative") never reads as an edit.
fn as_odoo_holds(event: &Event) -> Result<Event, String> {
    let (values, _) = local_values(event)?;
    values.to_event().map_err(|e| e.to_string())
}

/// The meeting fields (those only the organizer changes) in which `a` and `b` differ.
fn meeting_differences(a: &Event, b: &Event) -> Vec<&'static str> {
    let text = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let addresses = |e: &Event| -> BTreeSet<String> {
        e.attendees
            .iter()
            .filter_map(|a| a.email.as_ref().map(|m| m.key()))
            .collect()
    };
    let organizer = |e: &Event| {
        e.organizer
            .as_ref()
            .and_then(|o| o.email.as_ref())
            .map(|m| m.key())
    };
    let mut out = Vec::new();
    for (field, differs) in [
        ("subject", a.subject.trim() != b.subject.trim()),
        (
            "body",
            normalize_body(&a.body_html) != normalize_body(&b.body_html),
        ),
        ("location", text(&a.location) != text(&b.location)),
        ("start/end", a.start != b.start || a.end != b.end),
        ("recurrence", a.recurrence != b.recurrence),
        ("attendees", addresses(a) != addresses(b)),
        ("sensitivity", a.privacy != b.privacy),
        (
            "online meeting",
            a.online_meeting_url != b.online_meeting_url,
        ),
        ("cancelled", a.is_cancelled != b.is_cancelled),
        ("organizer", organizer(a) != organizer(b)),
    ] {
        if differs {
            out.push(field);
        }
    }
    out
}

fn same_categories(a: &[String], b: &[String]) -> bool {
    let set =
        |c: &[String]| -> BTreeSet<String> { c.iter().map(|s| s.trim().to_owned()).collect() };
    set(a) == set(b)
}

/// Plans the writes for an attendee's copy whose Odoo side changed.
///
/// `synced` is the copy as of the last sync (`None` when the pair is being linked now), `remote`
/// the copy now, `local_values_now` and `local_event` the Odoo event now. A field counts as
/// changed in Odoo when Odoo's value differs from what the last synced copy looks like in Odoo.
/// Without a last sync, Odoo's personal fields are the event's (the organizer's, in a shared
/// calendar), not this attendee's: they are neither sent nor overwritten, and only an answer is
/// sent. With `organizer_syncs`, meeting fields are the organizer's run's business: nothing is
/// written back to Odoo and nothing is reported as kept.
pub(crate) fn plan_write(
    synced: Option<&Event>,
    remote: &Event,
    local_values_now: &OdooEvent,
    local_event: &Event,
    organizer_syncs: bool,
) -> Result<AttendeeWrite, String> {
    let now = as_odoo_holds(remote)?;
    let basis = synced.map(as_odoo_holds).transpose()?;
    let changed_here = |differs: fn(&Event, &Event) -> bool| {
        basis.as_ref().is_some_and(|b| differs(b, local_event)) && differs(&now, local_event)
    };

    let mut expected = remote.clone();
    let answer = local_event.response;
    // A cancelled meeting takes no answer (Outlook refuses one).
    let response = (!remote.is_organizer
        && !remote.is_cancelled
        && response_action(answer).is_some()
        && answer != now.response
        && basis.as_ref().is_none_or(|b| b.response != answer))
    .then_some(answer);
    if let Some(answer) = response {
        expected.response = answer;
    }
    if changed_here(|a, b| a.show_as != b.show_as) {
        expected.show_as = local_event.show_as;
    }
    if changed_here(|a, b| a.reminder_minutes != b.reminder_minutes) {
        expected.reminder_minutes = local_event.reminder_minutes;
    }
    if changed_here(|a, b| !same_categories(&a.categories, &b.categories)) {
        expected.categories.clone_from(&local_event.categories);
    }
    let patch = diff_to_graph_patch(remote, &expected).map_err(|e| e.to_string())?;
    if organizer_syncs {
        return Ok(AttendeeWrite {
            patch,
            response,
            expected,
            local: None,
            kept: Vec::new(),
        });
    }

    let differing = meeting_differences(&now, local_event);
    let kept = match &basis {
        Some(basis) => {
            let edited = meeting_differences(basis, local_event);
            differing
                .into_iter()
                .filter(|f| edited.contains(f))
                .collect()
        }
        None => differing,
    };

    // Odoo gets the organizer's meeting and the attendee's own fields. Attendee answers stay as
    // Odoo has them: an attendee's copy does not follow the others' answers.
    let (mut values, _) = local_values(&expected)?;
    if basis.is_none() {
        values
            .alarm_minutes
            .clone_from(&local_values_now.alarm_minutes);
        values.show_as = local_values_now.show_as;
        values.categories.clone_from(&local_values_now.categories);
    }
    for attendee in &mut values.attendees {
        let key = attendee.email.as_deref().map(str::to_ascii_lowercase);
        if let Some(known) = local_values_now
            .attendees
            .iter()
            .find(|a| a.email.as_deref().map(str::to_ascii_lowercase) == key && key.is_some())
        {
            attendee.state = known.state;
        }
    }
    let stored = values.to_event().map_err(|e| e.to_string())?;
    let hash = content_hash(&stored);
    let local_write = (hash != content_hash(local_event)).then_some((values, hash));
    Ok(AttendeeWrite {
        patch,
        response,
        expected,
        local: local_write,
        kept,
    })
}

/// Adjusts what the engine sees of linked meetings the owner attends, where its decision table
/// would break the organizer rules:
///
/// - changed on both sides: the engine would let one version win whole, losing the owner's answer
///   or the organizer's change. Shown as changed in Odoo only, its update goes through
///   [`plan_write`] against the copy as it is now, which keeps both (the organizer's meeting
///   fields for Odoo, the owner's answer and personal fields for Outlook);
/// - changed in Odoo while the copy was deleted from the mailbox: "modification beats deletion"
///   would create the meeting again, organized by the owner. Only the organizer can send it
///   again, so the deletion stands (shown as unchanged in Odoo, the pair is deleted there), and
///   the returned notes say that the Odoo changes go with it.
pub(crate) fn settle_for_attendees(
    statuses: &[Status],
    links: &HashMap<&str, &Link>,
    local: &mut LocalView,
    remote: &mut RemoteView,
) -> Vec<AttendeeNote> {
    let (local_events, remote_events) = (&local.events, &remote.events);
    let attendee = |status: &Status| {
        is_attendee(
            local_events.get(&status.local_id).map(|(_, e)| e),
            remote_events.get(&status.remote_id).or_else(|| {
                links
                    .get(status.remote_id.as_str())
                    .and_then(|l| l.remote.as_ref())
            }),
        )
    };
    let (remote_items, remote_deleted, remote_full) = match &mut remote.listing {
        Listing::Full { items } => (items, None, true),
        Listing::Delta {
            changed, deleted, ..
        } => (changed, Some(&*deleted), false),
    };
    let local_items: &mut Vec<LocalItem> = match &mut local.listing {
        Listing::Full { items } | Listing::Delta { changed: items, .. } => items,
    };
    let local_index: HashMap<String, usize> = local_items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.clone(), i))
        .collect();
    let remote_index: HashMap<String, usize> = remote_items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.clone(), i))
        .collect();
    let remote_uids: BTreeSet<String> = remote_items
        .iter()
        .filter_map(|item| item.ical_uid.clone())
        .collect();
    let mut unchanged_locals = Vec::new();
    let mut unchanged_remotes = Vec::new();
    let mut notes = Vec::new();
    for status in statuses {
        let Some(&l) = local_index.get(&status.local_id) else {
            continue;
        };
        let local_hash = &local_items[l].hash;
        if *local_hash == status.local_hash || !attendee(status) {
            continue;
        }
        match remote_index.get(&status.remote_id) {
            Some(&r) => {
                let remote_hash = &remote_items[r].hash;
                if *remote_hash != status.remote_hash && remote_hash != local_hash {
                    unchanged_remotes.push(r);
                }
            }
            None => {
                let gone =
                    remote_full || remote_deleted.is_some_and(|d| d.contains(&status.remote_id));
                let elsewhere = status
                    .ical_uid
                    .as_deref()
                    .is_some_and(|uid| remote_uids.contains(uid));
                if gone && !elsewhere {
                    unchanged_locals.push((l, status.local_hash.clone()));
                    let label = local_events
                        .get(&status.local_id)
                        .map(|(_, event)| event.label().to_owned());
                    notes.push(removed_note(status, label));
                }
            }
        }
    }
    let by_remote: HashMap<&str, &Status> =
        statuses.iter().map(|s| (s.remote_id.as_str(), s)).collect();
    for r in unchanged_remotes {
        if let Some(status) = by_remote.get(remote_items[r].id.as_str()) {
            remote_items[r].hash.clone_from(&status.remote_hash);
        }
    }
    for (l, hash) in unchanged_locals {
        local_items[l].hash = hash;
    }
    notes
}

/// The report line for an attended meeting removed from the mailbox while it changed in Odoo.
fn removed_note(status: &Status, label: Option<String>) -> AttendeeNote {
    AttendeeNote {
        kind: AttendeeNoteKind::RemovedWithOdooChanges,
        local_id: Some(status.local_id.clone()),
        remote_id: Some(status.remote_id.clone()),
        label,
        fields: Vec::new(),
        reason: "this meeting was removed from the Outlook calendar while it was changed in \
            Odoo; only the organizer can send it again, so the sync deletes it in Odoo too, and \
            the Odoo changes with it"
            .to_owned(),
    }
}

/// The report line for an Odoo event waiting for its invitation.
pub(crate) fn waiting_note(local_id: &str, label: Option<String>) -> AttendeeNote {
    AttendeeNote {
        kind: AttendeeNoteKind::WaitingForInvitation,
        local_id: Some(local_id.to_owned()),
        remote_id: None,
        label,
        fields: Vec::new(),
        reason: WAITING_REASON.to_owned(),
    }
}

/// The report line for meeting fields changed in Odoo and not sent. When the pair is being linked,
/// nothing tells who changed what: it says where Odoo differed.
pub(crate) fn kept_note(
    local_id: &str,
    remote_id: &str,
    label: Option<String>,
    kept: &[&'static str],
    first_link: bool,
) -> AttendeeNote {
    let fields = kept.join(", ");
    let reason = if first_link {
        format!(
            "only the organizer can change this meeting: the Odoo event's {fields} differed \
             from the organizer's invitation when the two were linked; Odoo's version was not \
             sent to Outlook, and the organizer's was kept in Odoo"
        )
    } else {
        format!(
            "only the organizer can change this meeting: the Odoo changes to {fields} were not \
             sent to Outlook, and the organizer's version was kept in Odoo"
        )
    };
    AttendeeNote {
        kind: AttendeeNoteKind::OrganizerVersionKept,
        local_id: Some(local_id.to_owned()),
        remote_id: Some(remote_id.to_owned()),
        label,
        fields: kept.iter().map(|f| (*f).to_owned()).collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use outlook_model::odoo::{OdooAttendeeState, OdooShowAs};

    /// The owner's copy of a meeting organised by someone else.
    fn copy() -> Event {
        serde_json::from_value(json!({
            "subject": "Review",
            "start": {"timed": "2026-01-05T09:00:00Z"},
            "end": {"timed": "2026-01-05T10:00:00Z"},
            "is_organizer": false,
            "organizer": {"email": "org@x.org"},
            "attendees": [{"email": "me@x.org"}, {"email": "ann@x.org"}],
            "response": "none",
            "show_as": "tentative",
            "reminder_minutes": 15,
        }))
        .unwrap()
    }

    /// Odoo's side as last written from `copy`, then edited by `edit`.
    fn odoo(edit: impl FnOnce(&mut OdooEvent)) -> (OdooEvent, Event) {
        let (mut values, _) = local_values(&copy()).unwrap();
        edit(&mut values);
        let event = values.to_event().unwrap();
        (values, event)
    }

    #[test]
    fn an_answer_and_a_reminder_are_sent_and_a_subject_is_taken_back() {
        let (values, event) = odoo(|v| {
            v.own_state = Some(OdooAttendeeState::Accepted);
            v.alarm_minutes = vec![30];
            v.name = Some("Mine now".into());
        });
        let write = plan_write(Some(&copy()), &copy(), &values, &event, false).unwrap();
        assert_eq!(write.response, Some(ResponseStatus::Accepted));
        assert_eq!(
            write.patch.keys().collect::<Vec<_>>(),
            ["isReminderOn", "reminderMinutesBeforeStart"]
        );
        assert_eq!(write.kept, ["subject"]);
        let requests = write_requests(&write);
        assert_eq!(
            requests,
            ["PATCH /me/events/id", "POST /me/events/id/accept"]
        );
        let (back, _) = write.local.unwrap();
        assert_eq!(back.name.as_deref(), Some("Review"));
        assert_eq!(back.own_state, Some(OdooAttendeeState::Accepted));
        assert_eq!(back.alarm_minutes, [30]);
    }

    fn write_requests(write: &AttendeeWrite) -> Vec<String> {
        write
            .requests("id")
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect()
    }

    #[test]
    fn a_first_link_sends_only_an_answer() {
        // Odoo's reminder and show-as are the event's, not this attendee's: left alone.
        let (values, event) = odoo(|v| {
            v.alarm_minutes = vec![60];
            v.show_as = OdooShowAs::Free;
            v.own_state = Some(OdooAttendeeState::Declined);
        });
        let write = plan_write(None, &copy(), &values, &event, false).unwrap();
        assert!(write.patch.is_empty(), "{:?}", write.patch);
        assert_eq!(write_requests(&write), ["POST /me/events/id/decline"]);
        assert!(write.kept.is_empty());
        // Odoo already holds the meeting, its own reminder and show-as, and the answer.
        assert!(write.local.is_none());
        assert_eq!(write.expected.reminder_minutes, Some(15));
    }

    #[test]
    fn nothing_changed_writes_nothing_and_no_answer_is_not_sent() {
        let (values, event) = odoo(|_| {});
        let write = plan_write(Some(&copy()), &copy(), &values, &event, false).unwrap();
        assert!(write_requests(&write).is_empty());
        assert!(write.local.is_none() && write.kept.is_empty());
        // "No answer" cannot be sent: Outlook's answer is written back.
        let mut answered = copy();
        answered.response = ResponseStatus::Accepted;
        let (values, event) = odoo(|v| v.own_state = Some(OdooAttendeeState::NeedsAction));
        let write = plan_write(Some(&answered), &answered, &values, &event, false).unwrap();
        assert!(write_requests(&write).is_empty());
        let (back, _) = write.local.unwrap();
        assert_eq!(back.own_state, Some(OdooAttendeeState::Accepted));
    }

    #[test]
    fn an_organizer_that_syncs_sends_the_meeting_edit_itself() {
        let (values, event) = odoo(|v| v.location = Some("Room 9".into()));
        let write = plan_write(Some(&copy()), &copy(), &values, &event, true).unwrap();
        assert!(write_requests(&write).is_empty());
        assert!(write.local.is_none() && write.kept.is_empty());
    }

    #[test]
    fn meeting_fields_ignore_what_odoo_cannot_hold() {
        let now = as_odoo_holds(&copy()).unwrap();
        let mut other = now.clone();
        other.attendees.reverse();
        other.show_as = outlook_model::ShowAs::Free;
        assert!(meeting_differences(&now, &other).is_empty());
        other.start = other.end;
        other.privacy = outlook_model::Privacy::Private;
        assert_eq!(
            meeting_differences(&now, &other),
            ["start/end", "sensitivity"]
        );
    }
}
