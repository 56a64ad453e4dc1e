//! The output of planning: operations per side, status updates and the conflict report.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::item::Side;
use crate::status::{StatusKey, StatusUpdate};

/// A write to the remote mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemoteOp {
    /// Create a copy of the local item. Send `transaction_id` as the event's `transactionId`; if
    /// Graph answers that it was already used, the event exists: find it and report it as written.
    Create {
        /// The local item to copy.
        local_id: String,
        /// Deterministic idempotency key (see [`crate::transaction_id`]).
        transaction_id: String,
    },
    /// Overwrite the remote item with the local item's content (for a pair just linked by its
    /// awaited key, merge the two instead: see [`crate::RemoteItem::awaited_key`]).
    Update {
        /// The source.
        local_id: String,
        /// The target.
        remote_id: String,
    },
    /// Delete the remote item.
    Delete {
        /// The target.
        remote_id: String,
    },
}

/// A write to the local store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LocalOp {
    /// Create a local copy of the remote item.
    Create {
        /// The remote item to copy.
        remote_id: String,
    },
    /// Overwrite the local item with the remote item's content.
    Update {
        /// The source.
        remote_id: String,
        /// The target.
        local_id: String,
    },
    /// Delete the local item.
    Delete {
        /// The target.
        local_id: String,
    },
}

/// Names one operation of a [`Plan`] by its position, for reporting its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "side", content = "index", rename_all = "snake_case")]
pub enum OpRef {
    /// `plan.remote_ops()[index]`.
    Remote(usize),
    /// `plan.local_ops()[index]`.
    Local(usize),
}

impl fmt::Display for OpRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpRef::Remote(index) => write!(f, "remote op #{index}"),
            OpRef::Local(index) => write!(f, "local op #{index}"),
        }
    }
}

/// What kind of disagreement a [`Conflict`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides changed a linked pair to different content.
    BothModified,
    /// One side deleted the item, the other modified it: the modification wins and the item is
    /// re-created on the deleting side.
    ModifiedVsDeleted,
    /// Two unlinked items were identified as the same event (by `iCalUId`, match key or
    /// `transactionId`) but differ; with no common history the policy decides.
    LinkedWithDifferences,
}

/// Why the winner of a [`Conflict`] won.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// [`crate::ConflictPolicy::LocalWins`].
    LocalWinsPolicy,
    /// [`crate::ConflictPolicy::RemoteWins`].
    RemoteWinsPolicy,
    /// [`crate::ConflictPolicy::LatestWins`], and the winner's edit is more recent (or the only
    /// one with a known time).
    NewerEdit,
    /// [`crate::ConflictPolicy::LatestWins`] with equal or unknown times: the remote side wins.
    TieGoesToRemote,
    /// A modification beats a deletion.
    ModificationBeatsDeletion,
}

/// One side's version in a [`Conflict`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The item id on that side.
    pub id: String,
    /// The content hash, `None` when that side deleted the item.
    pub hash: Option<String>,
    /// The modification time, if known.
    pub modified_at: Option<i64>,
}

/// A disagreement resolved by policy. The losing version is overwritten (or re-created over), so
/// the caller should record it where a person can find it (the sync log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// What happened.
    pub kind: ConflictKind,
    /// The side whose version is kept.
    pub winner: Side,
    /// Why.
    pub resolution: Resolution,
    /// The local version.
    pub local: Version,
    /// The remote version.
    pub remote: Version,
}

impl Conflict {
    /// The losing version.
    pub fn loser(&self) -> &Version {
        match self.winner {
            Side::Local => &self.remote,
            Side::Remote => &self.local,
        }
    }
}

/// The unwritten side of a create or update, as read this run; it goes into the new status when
/// the write succeeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Source {
    pub(crate) id: String,
    pub(crate) hash: String,
    pub(crate) ical_uid: Option<String>,
    pub(crate) modified_at: Option<i64>,
}

/// What [`crate::apply_results`] needs to turn a successful op into a status update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Basis {
    /// The status the op supersedes (updated on success of a write, removed on success of a delete).
    pub(crate) replaces: Option<StatusKey>,
    /// `None` for deletes.
    pub(crate) source: Option<Source>,
    /// The status's `iCalUId`, kept when neither side reports one.
    pub(crate) ical_uid: Option<String>,
}

/// The smallest set of writes that brings both sides into agreement, computed by [`crate::plan`].
///
/// Execute the remote ops, then the local ops, report every outcome to [`crate::apply_results`],
/// and commit its status updates together with the local writes. Ops are independent of each
/// other: one failing never requires skipping another.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub(crate) remote_ops: Vec<RemoteOp>,
    pub(crate) remote_basis: Vec<Basis>,
    pub(crate) local_ops: Vec<LocalOp>,
    pub(crate) local_basis: Vec<Basis>,
    pub(crate) status_updates: Vec<StatusUpdate>,
    pub(crate) conflicts: Vec<Conflict>,
}

impl Plan {
    /// Writes to the remote mailbox, in a deterministic order.
    pub fn remote_ops(&self) -> &[RemoteOp] {
        &self.remote_ops
    }

    /// Writes to the local store, in a deterministic order.
    pub fn local_ops(&self) -> &[LocalOp] {
        &self.local_ops
    }

    /// Status changes that need no write (pairs linked because they are already equal, pairs
    /// deleted on both sides, items re-identified under a new id). [`crate::apply_results`]
    /// includes them in its output; they are shown here for reporting.
    pub fn status_updates(&self) -> &[StatusUpdate] {
        &self.status_updates
    }

    /// Disagreements resolved by policy; each names the losing version.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// True when the run has nothing to write and nothing to record.
    pub fn is_empty(&self) -> bool {
        self.remote_ops.is_empty()
            && self.local_ops.is_empty()
            && self.status_updates.is_empty()
            && self.conflicts.is_empty()
    }

    pub(crate) fn push_remote(&mut self, op: RemoteOp, basis: Basis) {
        self.remote_ops.push(op);
        self.remote_basis.push(basis);
    }

    pub(crate) fn push_local(&mut self, op: LocalOp, basis: Basis) {
        self.local_ops.push(op);
        self.local_basis.push(basis);
    }
}
