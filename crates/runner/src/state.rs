//! What a run reads and returns: the stored sync state of a mailbox link, the Odoo side, options.

use std::collections::HashMap;

use jiff::Timestamp;
use outlook_engine::{ConflictPolicy, Status};
use outlook_model::Event;
use outlook_model::odoo::OdooEvent;
use serde::{Deserialize, Serialize};

use crate::journal::SentWrite;
use crate::output::LocalWrite;

/// The state stored per mailbox link between runs; commit the returned one together with the local
/// writes, in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// Graph's `@odata.deltaLink` of the last committed run; `None` before the first run (or after
    /// a reset), which makes the run a full round over the window ([`RunOptions::window_start`] to
    /// [`RunOptions::window_end`]).
    #[serde(default)]
    pub delta_link: Option<String>,
    /// One per linked pair.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Remote ids whose change was not carried over (a failed op, an unreadable event): the next
    /// run reads them again by id, whatever the delta says.
    #[serde(default)]
    pub pending_remote: Vec<String>,
    /// Local ids the first-sync policy kept out of Outlook. They stay out (and unlinked) for good;
    /// resetting the state to its default applies the policy afresh.
    #[serde(default)]
    pub excluded_local: Vec<String>,
    /// Remote ids the last run deleted: their removal in the next delta is our own echo, not a
    /// sign that a series lost occurrences (which would make the next run re-read every series).
    #[serde(default)]
    pub deleted_remote: Vec<String>,
}

impl SyncState {
    /// Records that the addon could not apply `write` (the caller contract's failure path): keeps
    /// its [`LocalWrite::previous`] link and has the next run read the Outlook event again by id,
    /// since the delta link stored with this state has already moved past its change.
    pub fn keep_unapplied(&mut self, write: &LocalWrite) {
        let remote_id = write
            .remote_id
            .clone()
            .or_else(|| write.previous.as_ref().map(|l| l.status.remote_id.clone()));
        if let Some(previous) = &write.previous {
            self.links.push(previous.clone());
        }
        if let Some(id) = remote_id
            && !self.pending_remote.contains(&id)
        {
            self.pending_remote.push(id);
        }
    }
}

/// A linked pair: the engine's status plus the remote event as last synced, which turns a local
/// edit into the smallest PATCH without reading the event again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The engine's record.
    #[serde(flatten)]
    pub status: Status,
    /// The remote event as of the last sync; `None` when unknown (it is then read before a PATCH).
    #[serde(default)]
    pub remote: Option<Event>,
}

/// One Odoo event as the addon reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalEvent {
    /// The record's values; `id` is required.
    pub values: OdooEvent,
    /// The record's `write_date`; without it the latest-edit policy lets Outlook's version win.
    #[serde(default)]
    pub modified_at: Option<Timestamp>,
    /// For an event the owner attends (`is_organizer` false): true when the organizer's own
    /// mailbox syncs this event through the same database. Meeting fields edited in Odoo then
    /// reach Outlook through the organizer's run, and this run leaves them alone (it neither sends
    /// them nor writes the organizer's Outlook version over them, which would undo an edit the
    /// organizer's run has not sent yet). When false, this run writes the organizer's version back
    /// to Odoo. Ignored for events the owner organizes.
    #[serde(default)]
    pub organizer_syncs: bool,
}

/// The Odoo side of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LocalListing {
    /// Every synced Odoo event of the user (first sync, or a periodic full pass that heals drift).
    Full {
        /// All events.
        events: Vec<LocalEvent>,
    },
    /// Only what changed since the last committed run (dirty records and tombstones), plus the
    /// ids the previous run returned in [`crate::RunOutput::retry_local`].
    Delta {
        /// Created or modified events.
        changed: Vec<LocalEvent>,
        /// Ids of deleted events.
        deleted: Vec<i64>,
        /// For deleted events changed since the last committed run: the content hash they had
        /// when deleted (what the binding's `local_hash` gives for their values). A run that copied that change
        /// to Outlook and died before committing left an Outlook copy with this content: the
        /// next run recognises it as our own write and deletes it, instead of taking it for a
        /// person's edit that beats the deletion.
        #[serde(default)]
        deleted_hashes: HashMap<i64, String>,
    },
}

/// Which Odoo events that exist before the first sync are copied to Outlook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstSync {
    /// All of them.
    #[default]
    All,
    /// Only those that end after [`RunOptions::now`] (a series: that has not ended).
    Future,
    /// None: only events created or linked afterwards are synced.
    None,
}

/// The stored state and the Odoo side of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInput {
    /// As returned by the previous committed run (default for the first).
    #[serde(default)]
    pub state: SyncState,
    /// The Odoo side.
    pub local: LocalListing,
    /// Writes of runs that died after Outlook confirmed them and before their state was
    /// committed (see [`crate::run_journaled`]), oldest first; applied to `state` before planning.
    #[serde(default)]
    pub sent: Vec<SentWrite>,
}

/// How a run behaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// The mailbox address (for reports and to leave its owner out of the mail count).
    pub mailbox: String,
    /// Conflict resolution.
    #[serde(default)]
    pub policy: ConflictPolicy,
    /// Which pre-existing Odoo events go to Outlook on the first sync.
    #[serde(default)]
    pub first_sync: FirstSync,
    /// Plan and report only: nothing is written, the state is returned unchanged.
    #[serde(default)]
    pub dry_run: bool,
    /// Stable per-link input to `transactionId`s (see `outlook_engine::PlanConfig`): identify the
    /// database and the mailbox link. Never change it for a link.
    pub transaction_salt: String,
    /// Start of the window a full round reads.
    pub window_start: Timestamp,
    /// End of that window.
    pub window_end: Timestamp,
    /// The current time (for the `future` first-sync policy); passed in so runs are reproducible.
    pub now: Timestamp,
}
