//! Sans-IO two-way reconciliation between a local store (Odoo) and a remote mailbox (Outlook).
//!
//! Items are described by ids and a semantic content hash, never by their content, so the same
//! core serves any pair of stores. The algorithm is vdirsyncer's: a [`Status`] per linked pair
//! records what both sides looked like at the last successful sync, and [`plan`] compares each
//! side's current [`Listing`] (full, or a delta of what changed) against it through a decision
//! table. A run is:
//!
//! 1. [`plan`] with the stored statuses and both listings;
//! 2. execute [`Plan::remote_ops`], then [`Plan::local_ops`], collecting an [`OpReport`] per op;
//! 3. [`apply_results`], then commit [`Applied::updates`] together with the local writes, and
//!    list [`Applied::retry_local`] / [`Applied::retry_remote`] again in the next run.
//!
//! Guarantees: nothing is written for items whose hash did not change; a modification beats a
//! deletion; conflicting edits are resolved by [`ConflictPolicy`] and the loser is reported; an
//! emptied side stops the run ([`PlanError::SafetyStop`]); a failed op only holds back its own
//! item; a crash between a remote write and the local commit never duplicates (remote creates carry
//! a deterministic [`transaction_id`], and new items are linked to their counterpart by
//! `transactionId`, `iCalUId`, match key or, where unambiguous, awaited key before anything is
//! created).
//!
//! # Caller contract
//!
//! - **Hashes** are computed by one function over the neutral event model on both sides, so equal
//!   content hashes equally; only then are identical edits on both sides recognised as no conflict.
//!   Leave volatile fields (`changeKey`, `lastModifiedDateTime`, attendee response times) out.
//! - **Statuses**: pass all of a mailbox link's statuses to [`plan`]; with two delta listings,
//!   [`plan_touched`] takes only those the deltas touch. Store them per link with `local_id` and
//!   `remote_id` each unique, and commit [`Applied::updates`] in the same transaction as the
//!   local writes. With both deltas empty, skip the run (or call [`plan`] with no statuses).
//! - **Written hashes**: report the hash of what the written side returns after the write, not
//!   of what was sent, so the echo of our own write in the next delta is no change.
//! - **Deltas**: after a committed run, a delta must contain everything changed since the listing
//!   this run used, plus the retry ids. Graph's delta token read *before* our writes does exactly
//!   that (our writes come back as echoes); a token read *after* them does too when everything
//!   between the two is our own echo, which is how the runner saves the next run from re-reading
//!   its writes (`outlook_runner`, step 3).
//! - **Crashes**: if the process dies after remote writes, store nothing; the next run links what
//!   was created (by `transactionId`) and recognises what was updated (equal hashes).
//!
//! # Known limits
//!
//! - A remote create whose response was lost, followed by the user deleting the local item before
//!   the next run, re-creates the local item from the orphan copy (the deletion of a never-linked
//!   item is not recorded anywhere).
//! - If Graph remembered `transactionId`s of *deleted* events, a first create retried after its
//!   orphan copy was deleted in Outlook would be refused for good; the caller then sees
//!   `ErrorDuplicateTransactionId` with no event to find and must report the op as failed.

mod apply;
mod candidates;
mod config;
mod error;
mod index;
mod item;
mod plan;
mod reconcile;
mod status;
mod transaction;

pub use apply::{
    Applied, Failure, OpReport, Outcome, WrittenItem, apply_results, remote_intended,
    remote_written,
};
pub use config::{ConflictPolicy, PlanConfig};
pub use error::{ApplyError, PlanError};
pub use item::{Listing, LocalItem, RemoteItem, Side};
pub use plan::{Conflict, ConflictKind, LocalOp, OpRef, Plan, RemoteOp, Resolution, Version};
pub use reconcile::{plan, plan_touched};
pub use status::{Status, StatusKey, StatusUpdate, apply_updates};
pub use transaction::transaction_id;
