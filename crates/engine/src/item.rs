//! What each side looks like now: items described by id and semantic hash, as a full listing or a
//! delta.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the two sides being synchronised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The local store (Odoo).
    Local,
    /// The remote mailbox (Outlook, through Microsoft Graph).
    Remote,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Local => Side::Remote,
            Side::Remote => Side::Local,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Local => "local",
            Side::Remote => "remote",
        })
    }
}

/// A local item as it is now.
///
/// `hash` must be a hash of the item's *semantic* content computed by the same function as the
/// remote side's (over the neutral event model), so that equal content gives equal hashes on both
/// sides: that is how two independent edits to the same content are recognised as no conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalItem {
    /// The local id (never reused).
    pub id: String,
    /// Semantic content hash.
    pub hash: String,
    /// The `iCalUId` the local item carries, if it has one (for example from an earlier import).
    pub ical_uid: Option<String>,
    /// Caller-computed identity digest (subject + start + end + organizer) used to link items that
    /// exist on both sides before their first sync.
    pub match_key: Option<String>,
    /// Caller-computed looser digest for a local item that waits for the remote side to bring its
    /// copy (a meeting the owner attends, whose invitation has not been linked yet). See
    /// [`RemoteItem::awaited_key`] for how it links, and what the plan then asks of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaited_key: Option<String>,
    /// Last modification time, Unix milliseconds (UTC); used by [`crate::ConflictPolicy::LatestWins`].
    pub modified_at: Option<i64>,
}

/// A remote item (a Graph event, series masters and single instances only) as it is now.
///
/// See [`LocalItem`] for the contract on `hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteItem {
    /// The Graph (immutable) event id.
    pub id: String,
    /// Semantic content hash.
    pub hash: String,
    /// Graph's `iCalUId`.
    pub ical_uid: Option<String>,
    /// Caller-computed identity digest; see the `match_key` of [`LocalItem`].
    pub match_key: Option<String>,
    /// Caller-computed looser digest of a remote copy that a local item may be waiting for (for a
    /// meeting: organizer and subject, not times, which may have moved on either side meanwhile).
    ///
    /// Weak evidence, so it is used last and only when it cannot pick the wrong partner: items
    /// that no `transactionId`, `iCalUId` or `match_key` paired are linked by it when exactly one
    /// such local item and exactly one such remote item carry the key (and their `iCalUId`s, when
    /// both known, agree). Otherwise both are left as they are (the local item is created
    /// remotely, the remote one locally).
    ///
    /// Such a pair differs by definition and has no common history, and the remote copy is the one
    /// the local item waited for: it is neither a conflict nor a matter of policy. The same holds
    /// for a local item with an awaited key that a stronger key paired with a differing copy. The plan hands it
    /// to the caller as a [`crate::RemoteOp::Update`] from the local item, and the caller merges
    /// (the runner applies its organizer rules: the copy's meeting fields are kept and written back
    /// to the local side, and the owner's own answer goes to the copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaited_key: Option<String>,
    /// Graph's `transactionId`, which links an event we created to its local item after a lost
    /// response or a crash.
    pub transaction_id: Option<String>,
    /// `lastModifiedDateTime`, Unix milliseconds (UTC).
    pub modified_at: Option<i64>,
}

/// What one side reports for this run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Listing<T> {
    /// Every item of the side. A linked id missing here was deleted.
    Full {
        /// All items.
        items: Vec<T>,
    },
    /// Only what changed since the last completed run; every linked id not mentioned is unchanged.
    Delta {
        /// Items created or modified (possibly with an unchanged hash, which is then ignored).
        changed: Vec<T>,
        /// Ids deleted. Ids the engine never linked are ignored (an item created and deleted
        /// between two runs, or the echo of our own delete), except that a new item of the other
        /// side carrying the `transactionId` derived from such a local id is our own create of
        /// it, made by a run that died before linking it: it is deleted, not copied back.
        deleted: Vec<String>,
        /// For deleted ids whose item changed after the last sync: the hash it had when deleted.
        /// A run may have copied that change to the other side and died before its status was
        /// stored; the other side then shows exactly this hash, which is our echo, not a
        /// person's edit, so it does not beat the deletion.
        #[serde(default, skip_serializing_if = "HashMap::is_empty")]
        deleted_hashes: HashMap<String, String>,
    },
}

impl<T> Listing<T> {
    /// The ids a delta lists as deleted (none for a full listing).
    pub fn deleted_ids(&self) -> &[String] {
        match self {
            Listing::Full { .. } => &[],
            Listing::Delta { deleted, .. } => deleted,
        }
    }

    /// A full listing.
    pub fn full(items: Vec<T>) -> Self {
        Listing::Full { items }
    }

    /// A delta listing.
    pub fn delta(changed: Vec<T>, deleted: Vec<String>) -> Self {
        Listing::Delta {
            changed,
            deleted,
            deleted_hashes: HashMap::new(),
        }
    }

    /// A delta listing whose deleted items carry their last hash (see `deleted_hashes`).
    pub fn delta_with_hashes(
        changed: Vec<T>,
        deleted: Vec<String>,
        deleted_hashes: HashMap<String, String>,
    ) -> Self {
        Listing::Delta {
            changed,
            deleted,
            deleted_hashes,
        }
    }

    /// True for a delta that reports nothing: with both sides like this a run has nothing to do.
    pub fn is_empty_delta(&self) -> bool {
        matches!(self, Listing::Delta { changed, deleted, .. } if changed.is_empty() && deleted.is_empty())
    }

    /// True for a listing of every item (as opposed to the changes since the last run).
    pub fn is_full(&self) -> bool {
        matches!(self, Listing::Full { .. })
    }

    pub(crate) fn items(&self) -> &[T] {
        match self {
            Listing::Full { items } => items,
            Listing::Delta { changed, .. } => changed,
        }
    }
}

/// What the engine reads from an item of either side.
pub(crate) trait Item {
    fn id(&self) -> &str;
    fn hash(&self) -> &str;
    fn ical_uid(&self) -> Option<&str>;
    fn match_key(&self) -> Option<&str>;
    fn awaited_key(&self) -> Option<&str>;
    fn modified_at(&self) -> Option<i64>;
}

macro_rules! impl_item {
    ($ty:ty) => {
        impl Item for $ty {
            fn id(&self) -> &str {
                &self.id
            }
            fn hash(&self) -> &str {
                &self.hash
            }
            fn ical_uid(&self) -> Option<&str> {
                self.ical_uid.as_deref()
            }
            fn match_key(&self) -> Option<&str> {
                self.match_key.as_deref()
            }
            fn awaited_key(&self) -> Option<&str> {
                self.awaited_key.as_deref()
            }
            fn modified_at(&self) -> Option<i64> {
                self.modified_at
            }
        }
    };
}

impl_item!(LocalItem);
impl_item!(RemoteItem);
