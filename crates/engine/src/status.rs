//! The status record: what a linked pair looked like at the last successful sync.
//!
//! This replaces tombstones and timestamps (design decision 2): an id in the status but missing on a
//! side is a deletion, an id on a side but in no status is a creation, and an item changed only if
//! its semantic hash differs from the one recorded here.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// One linked pair (a local event and its copy in one mailbox) as of the last successful sync.
///
/// The caller stores these between runs, one per (mailbox link, local item). `local_id` and
/// `remote_id` must each be unique within a mailbox link (enforce it with unique indexes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The local (Odoo) item id.
    pub local_id: String,
    /// The remote (Graph, immutable) event id in this mailbox.
    pub remote_id: String,
    /// Graph's `iCalUId`, shared by all copies of a meeting; used to re-identify an item whose id
    /// changed.
    pub ical_uid: Option<String>,
    /// Semantic hash of the local item when it was last in sync.
    pub local_hash: String,
    /// Semantic hash of the remote item when it was last in sync.
    pub remote_hash: String,
    /// Local modification time at the last sync (Unix milliseconds), informative only.
    pub local_mtime: Option<i64>,
    /// Remote modification time at the last sync (Unix milliseconds), informative only.
    pub remote_mtime: Option<i64>,
}

impl Status {
    /// The identity of this record, as used to replace or remove it.
    pub fn key(&self) -> StatusKey {
        StatusKey {
            local_id: self.local_id.clone(),
            remote_id: self.remote_id.clone(),
        }
    }
}

/// Identifies one stored [`Status`] (both ids, since either may change on re-identification).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusKey {
    /// The stored record's `local_id`.
    pub local_id: String,
    /// The stored record's `remote_id`.
    pub remote_id: String,
}

/// A change to the stored statuses, to be committed together with the local writes.
///
/// A database caller applies every removal (including each put's `replaces`) before inserting, so
/// the unique indexes on `local_id` and `remote_id` never see a transient duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusUpdate {
    /// Store `status`, first removing the record `replaces` when it is given.
    Put {
        /// The record to store.
        status: Status,
        /// The record it supersedes (same pair, possibly under an old id).
        replaces: Option<StatusKey>,
    },
    /// Remove a record: the pair no longer exists on either side.
    Remove {
        /// The record to remove.
        key: StatusKey,
    },
}

/// Applies `updates` to an in-memory status list (for callers without a database, and tests).
///
/// Removals (including the `replaces` of every put) happen before insertions, so a put may reuse an
/// id that another update frees. Cost: one pass over `statuses` plus the updates.
pub fn apply_updates(statuses: &mut Vec<Status>, updates: &[StatusUpdate]) {
    if updates.is_empty() {
        return;
    }
    let removed: HashSet<(&str, &str)> = updates
        .iter()
        .filter_map(|update| match update {
            StatusUpdate::Put { replaces, .. } => replaces.as_ref(),
            StatusUpdate::Remove { key } => Some(key),
        })
        .map(|key| (key.local_id.as_str(), key.remote_id.as_str()))
        .collect();
    if !removed.is_empty() {
        statuses.retain(|s| !removed.contains(&(s.local_id.as_str(), s.remote_id.as_str())));
    }
    statuses.extend(updates.iter().filter_map(|update| match update {
        StatusUpdate::Put { status, .. } => Some(status.clone()),
        StatusUpdate::Remove { .. } => None,
    }));
}
