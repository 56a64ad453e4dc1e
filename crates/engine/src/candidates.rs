//! Lookup of not-yet-linked items by an identity key (`iCalUId`, match key, `transactionId`,
//! awaited key).

use std::collections::HashMap;

use crate::index::SideIndex;
use crate::item::Item;

/// Untaken items of one side grouped by one key, in listing order within a key so that duplicate
/// keys pair up deterministically.
pub(crate) struct Candidates<'a> {
    by_key: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Candidates<'a> {
    /// Groups the items at `indices` by `key`; items without a key are left out.
    pub(crate) fn build<T: Item>(
        side: &SideIndex<'a, T>,
        indices: &[usize],
        key: impl Fn(&'a T) -> Option<&'a str>,
    ) -> Self {
        let mut by_key: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for &index in indices {
            if let Some(value) = key(side.item(index)).filter(|value| !value.is_empty()) {
                by_key.entry(value).or_default().push(index);
            }
        }
        Candidates { by_key }
    }

    /// The first item with `key` that is still untaken on `side`.
    pub(crate) fn find<T: Item>(&self, key: &str, side: &SideIndex<'a, T>) -> Option<usize> {
        self.by_key
            .get(key)?
            .iter()
            .copied()
            .find(|&index| !side.is_taken(index))
    }

    /// The one item with `key`, when exactly one has it (taken or not: build from untaken items).
    pub(crate) fn only(&self, key: &str) -> Option<usize> {
        match self.by_key.get(key)?.as_slice() {
            [index] => Some(*index),
            _ => None,
        }
    }
}
