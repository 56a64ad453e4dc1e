//! Per-side lookup of this run's items by id, and what a status finds there.
//!
//! This is the hot path of an idle full sync (every status looks up both of its ids), so it
//! borrows ids instead of copying them and allocates once per side, not once per item.

use std::collections::{HashMap, HashSet};

use crate::error::PlanError;
use crate::item::{Item, Listing, Side};

/// What a status finds on one side for the id it recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Listed with the recorded hash, or (delta) not mentioned at all.
    Unchanged,
    /// Listed with a different hash: the item at this index changed.
    Changed(usize),
    /// Not in a full listing, or deleted in a delta.
    Gone,
}

/// One side's items for this run.
pub(crate) struct SideIndex<'a, T> {
    pub(crate) side: Side,
    pub(crate) items: &'a [T],
    full: bool,
    by_id: HashMap<&'a str, usize>,
    deleted: HashSet<&'a str>,
    deleted_hashes: Option<&'a HashMap<String, String>>,
    /// Items already accounted for: found by a status, or taken by a match. The rest are new.
    taken: Vec<bool>,
}

impl<'a, T: Item> SideIndex<'a, T> {
    /// Indexes `listing`, rejecting duplicate ids, empty fields and contradictory deltas.
    pub(crate) fn new(side: Side, listing: &'a Listing<T>) -> Result<Self, PlanError> {
        let items = listing.items();
        let mut by_id = HashMap::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if item.id().is_empty() {
                return Err(PlanError::EmptyField {
                    side,
                    id: String::new(),
                    field: "id",
                });
            }
            if item.hash().is_empty() {
                return Err(PlanError::EmptyField {
                    side,
                    id: item.id().to_owned(),
                    field: "hash",
                });
            }
            if by_id.insert(item.id(), index).is_some() {
                return Err(PlanError::DuplicateItem {
                    side,
                    id: item.id().to_owned(),
                });
            }
        }
        let (full, deleted, deleted_hashes) = match listing {
            Listing::Full { .. } => (true, HashSet::new(), None),
            Listing::Delta {
                deleted,
                deleted_hashes,
                ..
            } => {
                let mut set = HashSet::with_capacity(deleted.len());
                for id in deleted {
                    if by_id.contains_key(id.as_str()) {
                        return Err(PlanError::ContradictoryDelta {
                            side,
                            id: id.clone(),
                        });
                    }
                    set.insert(id.as_str());
                }
                (false, set, Some(deleted_hashes))
            }
        };
        Ok(SideIndex {
            side,
            items,
            full,
            by_id,
            deleted,
            deleted_hashes,
            taken: vec![false; items.len()],
        })
    }

    /// What the status that recorded `id` with `hash` finds now. Claims the listed item, so that
    /// a second status claiming it is caught and the item is not mistaken for a new one.
    pub(crate) fn observe(&mut self, id: &str, hash: &str) -> Result<Seen, PlanError> {
        if let Some(&index) = self.by_id.get(id) {
            if std::mem::replace(&mut self.taken[index], true) {
                return Err(PlanError::DuplicateStatus {
                    side: self.side,
                    id: id.to_owned(),
                });
            }
            return Ok(if self.items[index].hash() == hash {
                Seen::Unchanged
            } else {
                Seen::Changed(index)
            });
        }
        Ok(if self.full || self.deleted.contains(id) {
            Seen::Gone
        } else {
            Seen::Unchanged
        })
    }

    /// The hash a deleted item had when it was deleted, if the delta gives it.
    pub(crate) fn deleted_hash(&self, id: &str) -> Option<&'a str> {
        self.deleted_hashes?.get(id).map(String::as_str)
    }

    /// Indexes of items no status claimed, in listing order.
    pub(crate) fn untaken(&self) -> Vec<usize> {
        self.taken
            .iter()
            .enumerate()
            .filter_map(|(index, &taken)| (!taken).then_some(index))
            .collect()
    }

    pub(crate) fn is_taken(&self, index: usize) -> bool {
        self.taken[index]
    }

    pub(crate) fn take(&mut self, index: usize) {
        self.taken[index] = true;
    }

    pub(crate) fn item(&self, index: usize) -> &'a T {
        &self.items[index]
    }
}
