//! `outlook-runner`: one sync run of one mailbox — pull, plan, push.
//!
//! [`run`] drives the sans-IO engine (`outlook_engine`) the way its caller contract asks:
//!
//! 1. **Pull** Outlook: one calendarView delta round from the stored link (a full round over the
//!    window on the first run or after `410`), its delta link kept from *before* any write.
//!    Occurrences are collapsed to their series master (each master read once, in `$batch`), so a
//!    series is one item on each side and its edits are one PATCH to the master. Graph's
//!    `@removed` also means "left the window", so a removed linked item is read by id (`$batch`)
//!    and counts as deleted only when Outlook answers `404 ErrorItemNotFound`; an event still there
//!    keeps its link and is compared by content (moved out of the window: an update), and a read
//!    that fails deletes nothing, is reported and retried next run. A removed occurrence deletes
//!    its series only when the master itself reads `ErrorItemNotFound`.
//! 2. **Plan** with all stored statuses against the Odoo side (full listing or delta). The
//!    engine's safety stop (an emptied side) ends the run with [`RunError::Plan`], nothing written.
//!    On a first sync, [`FirstSync`] decides which pre-existing Odoo events go to Outlook; events
//!    existing on both sides are linked (by `transactionId`, `iCalUId`, then subject, start, end and
//!    organizer), never duplicated.
//! 3. **Push** Outlook in `$batch` envelopes of 20: creates carry the engine's deterministic
//!    `transactionId` (a retry after a lost response finds the first event instead of duplicating
//!    it; if that event was deleted since, Graph still refuses the id, and the create moves on to
//!    the next id of a deterministic chain, which later runs recognise too), updates send only the
//!    changed property groups (nothing at all when nothing a person would notice changed), deletes
//!    treat `404` as done. Each item has its own outcome; a failed item is reported and retried
//!    next run.
//! 4. **Return** the Odoo writes ([`LocalWrite`]), the new [`SyncState`] and a [`Report`] (counts per
//!    side, failures with reasons, conflicts with the losing content, mails Outlook sends, requests).
//!
//! A dry run ([`RunOptions::dry_run`]) stops after planning: it reports the operations of both
//! sides and the mails Outlook would send, writes nothing and returns the state unchanged.
//!
//! # Caller contract (the Odoo addon)
//!
//! - Apply [`RunOutput::local_ops`] and store [`RunOutput::state`] in one transaction. For each
//!   write, store its `link` on success (for a create, with `local_id` set to the new record's id);
//!   on failure, store its `previous` link *and* list its Outlook id in the state's
//!   `pending_remote` ([`SyncState::keep_unapplied`] does both): the stored delta link has moved
//!   past that change, so without it an Outlook event whose copy Odoo refused would never be
//!   offered again.
//! - Keep dirty flags / tombstones of [`RunOutput::retry_local`] and list them again next run.
//! - The values of a written record must read back unchanged (same fields, same normalisation):
//!   the link records the hash of what was written, so anything Odoo alters reads as a local edit.
//! - On [`RunError`], store nothing: the next run recognises what was already written to Outlook.
//!
//! # Known limits
//!
//! - Edited or deleted single occurrences of an Outlook series are not synced; they are reported in
//!   [`Report::unsupported`] (per series, with counts) whenever the master is read: on a full round,
//!   when occurrences of the series change, and when the delta removes ids we never linked (then
//!   every linked series is re-read, one request each, since Graph does not say which series a
//!   removed occurrence belonged to). Exceptions of Odoo series are not sent to Outlook either.
//! - A linked event outside the window is only seen again when Graph reports it (its `@removed`
//!   quirk for changes outside the window) or on a full round, which reads such events by id.

mod error;
mod identity;
mod local;
mod mails;
mod output;
mod pull;
mod push;
mod run;
mod state;

pub use error::RunError;
pub use output::{
    ConflictReport, Counts, ItemFailure, LocalAction, LocalWrite, Mails, PlannedOp, Report,
    RunOutput, Unsupported,
};
pub use run::run;
pub use state::{FirstSync, Link, LocalEvent, LocalListing, RunInput, RunOptions, SyncState};

/// The conflict policy type of [`RunOptions::policy`], re-exported so callers need not depend on
/// the engine.
pub use outlook_engine::ConflictPolicy;
