//! What a run returns: the Odoo writes, the new state, and the report for the sync log.

use outlook_engine::{Conflict, Side};
use outlook_model::odoo::OdooEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::state::{Link, SyncState};

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    /// Writes for the addon to apply to Odoo, in one transaction with [`RunOutput::state`].
    pub local_ops: Vec<LocalWrite>,
    /// The state to store. Its links are those no local write depends on: add each write's
    /// [`LocalWrite::link`] when the write succeeded; when it failed, pass the write to
    /// [`SyncState::keep_unapplied`].
    pub state: SyncState,
    /// Odoo ids whose change was not carried over: keep their dirty flags or tombstones and list
    /// them again next run.
    pub retry_local: Vec<i64>,
    /// What happened.
    pub report: Report,
}

/// One write to Odoo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalWrite {
    /// What to do.
    pub action: LocalAction,
    /// The Outlook event the content comes from (`None` for a delete).
    pub remote_id: Option<String>,
    /// The Odoo record written (`None` for a create).
    pub local_id: Option<i64>,
    /// The record's values (`id` unset); `None` for a delete.
    pub values: Option<OdooEvent>,
    /// The link to store when the write succeeded; for a create, set its `local_id` to the new
    /// record's id first (it is empty here). `None` for a delete.
    pub link: Option<Link>,
    /// The link to keep when the write failed (`None` when there was none); see
    /// [`SyncState::keep_unapplied`], which also has the next run read the event again.
    pub previous: Option<Link>,
}

/// The kind of a [`LocalWrite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAction {
    /// Create a record.
    Create,
    /// Overwrite a record.
    Update,
    /// Delete a record.
    Delete,
}

/// Operations per kind on one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Creates.
    pub created: usize,
    /// Updates.
    pub updated: usize,
    /// Deletes.
    pub deleted: usize,
    /// Operations that failed (see [`Report::failures`]).
    pub failed: usize,
}

/// The mails Outlook sends (or, in a dry run, would send) because of our writes: to attendees
/// for the meetings the mailbox organizes, to the organizer for its answers to invitations; one
/// per recipient, as Outlook counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mails {
    /// Invitations (creates, attendees added).
    pub invitations: usize,
    /// Updates (a meeting field changed).
    pub updates: usize,
    /// Cancellations (deletes, attendees removed).
    pub cancellations: usize,
    /// Answers to the organizer (the owner accepted, declined or tentatively accepted a meeting
    /// it attends).
    #[serde(default)]
    pub responses: usize,
}

impl Mails {
    /// All mails.
    pub fn total(&self) -> usize {
        self.invitations + self.updates + self.cancellations + self.responses
    }

    pub(crate) fn add(&mut self, other: Mails) {
        self.invitations += other.invitations;
        self.updates += other.updates;
        self.cancellations += other.cancellations;
        self.responses += other.responses;
    }
}

/// An item that could not be synced this run; it is retried next run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFailure {
    /// The side that could not be read or written.
    pub side: Side,
    /// `read`, `create`, `update` or `delete`.
    pub action: String,
    /// The Odoo id, when known.
    pub local_id: Option<String>,
    /// The Outlook id, when known.
    pub remote_id: Option<String>,
    /// The event's subject (or another label), when known.
    pub label: Option<String>,
    /// Why, for people (never contains secrets).
    pub reason: String,
}

/// Something the run does not sync, said out loud rather than skipped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsupported {
    /// The Outlook id concerned.
    pub remote_id: String,
    /// The event's label, when known.
    pub label: Option<String>,
    /// What is not synced.
    pub reason: String,
}

/// What the organizer rules did with an item the mailbox owner attends but does not organize
/// (see the crate documentation): nothing failed, the run did what an attendee may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeeNote {
    /// Which rule applied.
    pub kind: AttendeeNoteKind,
    /// The Odoo id, when known.
    pub local_id: Option<String>,
    /// The Outlook id of the owner's copy, when there is one.
    pub remote_id: Option<String>,
    /// The event's label.
    pub label: Option<String>,
    /// For [`AttendeeNoteKind::OrganizerVersionKept`]: the meeting fields changed in Odoo that
    /// were not sent, or, when the pair was being linked, those in which Odoo differed
    /// (`subject`, `body`, `location`, `start/end`, `recurrence`, `attendees`, `sensitivity`,
    /// `online meeting`, `cancelled`, `organizer`).
    pub fields: Vec<String>,
    /// What happened, for people.
    pub reason: String,
}

/// A decision the run took without knowing everything (see [`Report::notices`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Which decision.
    pub kind: NoticeKind,
    /// The Odoo id, when known.
    pub local_id: Option<String>,
    /// The Outlook id, when known.
    pub remote_id: Option<String>,
    /// The event's label.
    pub label: Option<String>,
    /// What happened, for people.
    pub reason: String,
    /// Content that did not survive the decision (the Odoo values), so that it is not lost unseen.
    pub lost: Option<Value>,
}

/// The decision a [`Notice`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Deleted in Outlook after an Odoo edit was sent whose answer never came (the run died): the
    /// deletion was taken as the later change, and the Odoo event deleted with that edit.
    DeletedAfterUnansweredEdit,
}

/// The rule an [`AttendeeNote`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeNoteKind {
    /// An Odoo event the owner attends has no copy in the mailbox yet: it is not created there
    /// (only the organizer's Outlook can create the meeting), stays unlinked and is listed in
    /// [`RunOutput::retry_local`] until the invitation arrives and the copy is linked.
    WaitingForInvitation,
    /// Meeting fields changed in Odoo on a meeting the owner only attends were not written to
    /// Outlook; the organizer's version was written back to Odoo. Also said when an Odoo event
    /// waiting for its invitation is linked to a copy that differs from it (say, the event was
    /// moved in Odoo while it waited).
    OrganizerVersionKept,
    /// The owner removed their copy of a meeting they attend from the mailbox while the event
    /// changed in Odoo: only the organizer can send the meeting again, so the removal stands and
    /// the Odoo event is deleted, its changes with it.
    RemovedWithOdooChanges,
}

/// A conflict resolved by policy, with the content that lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictReport {
    /// The engine's record (kind, winner, why, both versions' ids and hashes).
    pub conflict: Conflict,
    /// The losing version's content: the Outlook event (neutral model) or the Odoo values.
    pub lost: Option<Value>,
}

/// A planned operation, named for people (what a dry run shows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOp {
    /// The side written.
    pub side: Side,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The Odoo id, when known.
    pub local_id: Option<String>,
    /// The Outlook id, when known.
    pub remote_id: Option<String>,
    /// The event's label.
    pub label: Option<String>,
    /// Mails this operation makes Outlook send.
    pub mails: Mails,
}

/// What a run did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// True when nothing was written.
    pub dry_run: bool,
    /// True when the remote side was read as a full round over the window (first sync, or an
    /// expired delta link).
    pub full_round: bool,
    /// Why the stored delta link was dropped, when it was (Graph's code).
    pub resync_reason: Option<String>,
    /// Operations on Outlook (done, or planned in a dry run).
    pub remote: Counts,
    /// Operations on Odoo (returned for the addon to apply).
    pub local: Counts,
    /// Every planned operation.
    pub planned: Vec<PlannedOp>,
    /// Items that failed, with reasons.
    pub failures: Vec<ItemFailure>,
    /// Conflicts resolved by policy.
    pub conflicts: Vec<ConflictReport>,
    /// What was seen but is not synced.
    pub unsupported: Vec<Unsupported>,
    /// Items the organizer rules held back, once per item and run.
    #[serde(default)]
    pub attendee_notes: Vec<AttendeeNote>,
    /// Decisions taken on incomplete knowledge, each with what a person may want to check.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// Odoo events the first-sync policy kept out of Outlook this run.
    pub excluded_by_first_sync: usize,
    /// Mails Outlook sends (or would send) to attendees because of this run's writes.
    pub mails: Mails,
    /// Graph requests this run issued: delta pages, single calls and `$batch` envelopes (retries
    /// and token refreshes the client does on its own are not counted).
    pub requests: usize,
}
