//! The decision table: from (statuses, local listing, remote listing) to a [`Plan`].
//!
//! The algorithm is vdirsyncer's (after OfflineIMAP's): an id recorded in a status but gone from
//! its side is a deletion, an item on a side but in no status is a creation, and an item changed
//! only if its semantic hash differs from the recorded one. It runs in phases:
//!
//! 1. every status looks up its two ids; pairs unchanged on both sides are done (the idle path);
//! 2. a status whose item is gone may find it again under a new id: by `iCalUId`, or, for a remote
//!    re-create interrupted by a crash, by the `transactionId` we would have sent;
//! 3. each remaining status goes through the decision table;
//! 4. the safety guard refuses to mirror a side that has become empty;
//! 5. new items are linked to new items of the other side (by `transactionId`, `iCalUId`, then match
//!    key, then, only where one item on each side has it, awaited key) so that nothing existing on
//!    both sides is duplicated; the rest are created, except our own creates of local items
//!    deleted before they were linked, which are deleted.

use std::collections::HashMap;

use crate::candidates::Candidates;
use crate::config::{ConflictPolicy, PlanConfig};
use crate::error::PlanError;
use crate::index::{Seen, SideIndex};
use crate::item::{Item, Listing, LocalItem, RemoteItem, Side};
use crate::plan::{
    Basis, Conflict, ConflictKind, LocalOp, Plan, RemoteOp, Resolution, Source, Version,
};
use crate::status::{Status, StatusKey, StatusUpdate};
use crate::transaction::transaction_id;

/// Computes the smallest set of operations that brings both sides into agreement.
///
/// `statuses` must be all statuses of the mailbox link (with delta listings, see [`plan_touched`]
/// for reading fewer). Pure: no IO, no clock, and the same inputs always give the same plan. When
/// both listings are empty deltas it returns an empty plan without looking at the statuses.
///
/// # Errors
///
/// [`PlanError::SafetyStop`] when a side listed in full, that had linked items, is now empty and
/// the plan would delete on the other side (unless [`PlanConfig::allow_emptied_side`]); a delta's
/// deletions are explicit and never trip it. The other variants for
/// inconsistent input (duplicate ids, contradictory deltas, empty ids, hashes or salt).
pub fn plan(
    statuses: &[Status],
    local: &Listing<LocalItem>,
    remote: &Listing<RemoteItem>,
    config: &PlanConfig,
) -> Result<Plan, PlanError> {
    plan_with(statuses, statuses.len(), local, remote, config)
}

/// [`plan`] for two delta listings, given only the statuses the deltas touch, so that a run costs
/// in proportion to the changes, not to the calendar (design decision 12).
///
/// `touched` must contain every status whose `local_id` is in the local delta or whose `remote_id`
/// is in the remote delta (changed or deleted): one indexed query. A changed item whose status is
/// left out would look new and be created again. Extra statuses are harmless. `linked_total` is
/// the number of statuses the link has in all (checked against `touched`).
///
/// # Errors
///
/// As [`plan`], and [`PlanError::TouchedNeedsDeltas`] when a listing is full (a full listing
/// is compared against every status) or `linked_total` is below `touched.len()`.
pub fn plan_touched(
    touched: &[Status],
    linked_total: usize,
    local: &Listing<LocalItem>,
    remote: &Listing<RemoteItem>,
    config: &PlanConfig,
) -> Result<Plan, PlanError> {
    if matches!(local, Listing::Full { .. }) || matches!(remote, Listing::Full { .. }) {
        return Err(PlanError::TouchedNeedsDeltas {
            problem: "a listing is full; full listings need all statuses (use plan)",
        });
    }
    if linked_total < touched.len() {
        return Err(PlanError::TouchedNeedsDeltas {
            problem: "linked_total is smaller than the number of statuses given",
        });
    }
    plan_with(touched, linked_total, local, remote, config)
}

fn plan_with(
    statuses: &[Status],
    linked_total: usize,
    local: &Listing<LocalItem>,
    remote: &Listing<RemoteItem>,
    config: &PlanConfig,
) -> Result<Plan, PlanError> {
    if config.transaction_salt.is_empty() {
        return Err(PlanError::EmptySalt);
    }
    if local.is_empty_delta() && remote.is_empty_delta() {
        return Ok(Plan::default());
    }
    let mut planner = Planner {
        locals: SideIndex::new(Side::Local, local)?,
        remotes: SideIndex::new(Side::Remote, remote)?,
        config,
        plan: Plan::default(),
        deletes: [0, 0],
    };

    // Phase 1: the idle path; no allocation per unchanged pair.
    let mut pending = Vec::new();
    for status in statuses {
        let local = planner
            .locals
            .observe(&status.local_id, &status.local_hash)?;
        let remote = planner
            .remotes
            .observe(&status.remote_id, &status.remote_hash)?;
        if local != Seen::Unchanged || remote != Seen::Unchanged {
            pending.push(Pair {
                status,
                local: Found::at(local),
                remote: Found::at(remote),
            });
        }
    }

    let new_locals = planner.locals.untaken();
    let new_remotes = planner.remotes.untaken();

    // Phase 2: re-identify gone items among the new ones.
    if !pending.is_empty() && (!new_locals.is_empty() || !new_remotes.is_empty()) {
        planner.rebind(&mut pending, &new_locals, &new_remotes);
    }

    // Phase 3: the decision table for linked pairs.
    let mut gone = [0usize; 2];
    for pair in &pending {
        gone[0] += usize::from(pair.local.seen == Seen::Gone);
        gone[1] += usize::from(pair.remote.seen == Seen::Gone);
        planner.decide_linked(pair);
    }

    // Phase 4: the empty-side guard. Only a full listing can be "suddenly empty": a delta's
    // deletions are explicit (a tombstone, a removal the caller confirmed), and a person may well
    // delete their last event. `new_*` may include items rebound in phase 2, which are also
    // counted as present through their status: harmless, since only zero matters here.
    if linked_total > 0 && !config.allow_emptied_side {
        for (emptied, gone, new, full) in [
            (Side::Local, gone[0], new_locals.len(), local.is_full()),
            (Side::Remote, gone[1], new_remotes.len(), remote.is_full()),
        ] {
            let would_delete = planner.deletes[side_slot(emptied.other())];
            if full && gone == linked_total && new == 0 && would_delete > 0 {
                return Err(PlanError::SafetyStop {
                    emptied,
                    linked: linked_total,
                    would_delete,
                });
            }
        }
    }

    // Phase 5: new items.
    if !new_locals.is_empty() || !new_remotes.is_empty() {
        planner.link_or_create(&new_locals, &new_remotes, local.deleted_ids());
    }
    Ok(planner.plan)
}

/// A linked pair whose status does not describe both sides any more.
struct Pair<'a> {
    status: &'a Status,
    local: Found,
    remote: Found,
}

/// What one side of a pair shows, and whether the item was found under a new id.
#[derive(Clone, Copy)]
struct Found {
    seen: Seen,
    moved_to: Option<usize>,
}

impl Found {
    fn at(seen: Seen) -> Self {
        Found {
            seen,
            moved_to: None,
        }
    }
}

struct Planner<'a> {
    locals: SideIndex<'a, LocalItem>,
    remotes: SideIndex<'a, RemoteItem>,
    config: &'a PlanConfig,
    plan: Plan,
    /// Planned deletions per side (see [`side_slot`]).
    deletes: [usize; 2],
}

fn side_slot(side: Side) -> usize {
    match side {
        Side::Local => 0,
        Side::Remote => 1,
    }
}

impl<'a> Planner<'a> {
    /// Phase 2: a gone item may have reappeared under a new id. Locals first, because the
    /// `transactionId` of a remote re-create depends on the (possibly new) local id.
    fn rebind(&mut self, pending: &mut [Pair<'_>], new_locals: &[usize], new_remotes: &[usize]) {
        let local_uids = Candidates::build(&self.locals, new_locals, |item| item.ical_uid());
        let remote_uids = Candidates::build(&self.remotes, new_remotes, |item| item.ical_uid());
        let remote_txns = Candidates::build(&self.remotes, new_remotes, |item| {
            item.transaction_id.as_deref()
        });

        for pair in pending.iter_mut() {
            let Some(uid) = pair.status.ical_uid.as_deref() else {
                continue;
            };
            if pair.local.seen == Seen::Gone
                && let Some(index) = local_uids.find(uid, &self.locals)
            {
                self.locals.take(index);
                pair.local = moved(index, self.locals.item(index), &pair.status.local_hash);
            }
        }
        for pair in pending.iter_mut() {
            if pair.remote.seen != Seen::Gone {
                continue;
            }
            // Our own interrupted re-create first: it is certainly this pair's copy.
            let by_txn = match pair.local.seen {
                Seen::Changed(_) => {
                    let txn = transaction_id(
                        &self.config.transaction_salt,
                        self.local_id(pair),
                        Some(&pair.status.remote_id),
                    );
                    remote_txns.find(&txn, &self.remotes)
                }
                _ => None,
            };
            let found = by_txn.or_else(|| {
                let uid = pair.status.ical_uid.as_deref()?;
                remote_uids.find(uid, &self.remotes)
            });
            if let Some(index) = found {
                self.remotes.take(index);
                pair.remote = moved(index, self.remotes.item(index), &pair.status.remote_hash);
            }
        }
    }

    fn local_id<'p>(&'p self, pair: &'p Pair<'_>) -> &'p str {
        match pair.local.moved_to {
            Some(index) => self.locals.item(index).id(),
            None => &pair.status.local_id,
        }
    }

    fn remote_id<'p>(&'p self, pair: &'p Pair<'_>) -> &'p str {
        match pair.remote.moved_to {
            Some(index) => self.remotes.item(index).id(),
            None => &pair.status.remote_id,
        }
    }

    /// What the pair's remote side shows, except that a remote change carrying the hash the
    /// deleted local item last had is the echo of that item's own last edit, copied by a run that
    /// died before storing its status: not a person's change, so the deletion stands alone.
    fn remote_seen(&self, pair: &Pair<'_>) -> Seen {
        match (pair.local.seen, pair.remote.seen) {
            (Seen::Gone, Seen::Changed(r))
                if self.locals.deleted_hash(&pair.status.local_id)
                    == Some(self.remotes.item(r).hash.as_str()) =>
            {
                Seen::Unchanged
            }
            (_, seen) => seen,
        }
    }

    /// Phase 3: one row of the decision table.
    fn decide_linked(&mut self, pair: &Pair<'_>) {
        let status = pair.status;
        let local_id = self.local_id(pair).to_owned();
        let remote_id = self.remote_id(pair).to_owned();
        let replaces = Some(status.key());
        match (pair.local.seen, self.remote_seen(pair)) {
            // Only reached when an item was re-identified with unchanged content: record its new id.
            (Seen::Unchanged, Seen::Unchanged) => {
                let mut moved = status.clone();
                if let Some(index) = pair.local.moved_to {
                    let item = self.locals.item(index);
                    moved.local_id = local_id;
                    moved.local_mtime = item.modified_at.or(moved.local_mtime);
                }
                if let Some(index) = pair.remote.moved_to {
                    let item = self.remotes.item(index);
                    moved.remote_id = remote_id;
                    moved.remote_mtime = item.modified_at.or(moved.remote_mtime);
                    moved.ical_uid = item.ical_uid.clone().or(moved.ical_uid);
                }
                self.plan.status_updates.push(StatusUpdate::Put {
                    status: moved,
                    replaces,
                });
            }
            (Seen::Changed(l), Seen::Unchanged) => {
                let basis = basis(replaces, Some(source(self.locals.item(l))), status);
                self.update_remote(local_id, remote_id, basis);
            }
            (Seen::Unchanged, Seen::Changed(r)) => {
                let basis = basis(replaces, Some(source(self.remotes.item(r))), status);
                self.update_local(remote_id, local_id, basis);
            }
            (Seen::Changed(l), Seen::Changed(r)) => {
                let (local, remote) = (self.locals.item(l), self.remotes.item(r));
                if local.hash == remote.hash {
                    // Both sides made the same change (or a crash hid that we already copied it).
                    self.plan.status_updates.push(StatusUpdate::Put {
                        status: linked_status(local, remote, status.ical_uid.as_deref()),
                        replaces,
                    });
                } else {
                    self.resolve(ConflictKind::BothModified, local, remote, replaces, status);
                }
            }
            (Seen::Gone, Seen::Unchanged) => {
                self.deletes[side_slot(Side::Remote)] += 1;
                self.plan.push_remote(
                    RemoteOp::Delete { remote_id },
                    basis(replaces, None, status),
                );
            }
            (Seen::Unchanged, Seen::Gone) => {
                self.deletes[side_slot(Side::Local)] += 1;
                self.plan
                    .push_local(LocalOp::Delete { local_id }, basis(replaces, None, status));
            }
            (Seen::Gone, Seen::Changed(r)) => {
                let remote = self.remotes.item(r);
                self.plan.conflicts.push(Conflict {
                    kind: ConflictKind::ModifiedVsDeleted,
                    winner: Side::Remote,
                    resolution: Resolution::ModificationBeatsDeletion,
                    local: deleted_version(&local_id, status.local_mtime),
                    remote: version(remote),
                });
                self.plan.push_local(
                    LocalOp::Create { remote_id },
                    basis(replaces, Some(source(remote)), status),
                );
            }
            (Seen::Changed(l), Seen::Gone) => {
                let local = self.locals.item(l);
                self.plan.conflicts.push(Conflict {
                    kind: ConflictKind::ModifiedVsDeleted,
                    winner: Side::Local,
                    resolution: Resolution::ModificationBeatsDeletion,
                    local: version(local),
                    remote: deleted_version(&remote_id, status.remote_mtime),
                });
                let transaction_id = transaction_id(
                    &self.config.transaction_salt,
                    &local_id,
                    Some(&status.remote_id),
                );
                self.plan.push_remote(
                    RemoteOp::Create {
                        local_id,
                        transaction_id,
                    },
                    basis(replaces, Some(source(local)), status),
                );
            }
            (Seen::Gone, Seen::Gone) => {
                self.plan
                    .status_updates
                    .push(StatusUpdate::Remove { key: status.key() });
            }
        }
    }

    /// Both versions exist and differ: the policy picks a winner, the loser is overwritten and
    /// reported.
    fn resolve(
        &mut self,
        kind: ConflictKind,
        local: &'a LocalItem,
        remote: &'a RemoteItem,
        replaces: Option<StatusKey>,
        status: &Status,
    ) {
        let (winner, resolution) = decide_winner(self.config.policy, local, remote);
        self.plan.conflicts.push(Conflict {
            kind,
            winner,
            resolution,
            local: version(local),
            remote: version(remote),
        });
        match winner {
            Side::Local => {
                let basis = basis(replaces, Some(source(local)), status);
                self.update_remote(local.id.clone(), remote.id.clone(), basis);
            }
            Side::Remote => {
                let basis = basis(replaces, Some(source(remote)), status);
                self.update_local(remote.id.clone(), local.id.clone(), basis);
            }
        }
    }

    fn update_remote(&mut self, local_id: String, remote_id: String, basis: Basis) {
        self.plan.push_remote(
            RemoteOp::Update {
                local_id,
                remote_id,
            },
            basis,
        );
    }

    fn update_local(&mut self, remote_id: String, local_id: String, basis: Basis) {
        self.plan.push_local(
            LocalOp::Update {
                remote_id,
                local_id,
            },
            basis,
        );
    }

    /// Phase 5: link new items that are the same event on both sides, create the rest.
    fn link_or_create(&mut self, new_locals: &[usize], new_remotes: &[usize], deleted: &[String]) {
        if !new_locals.is_empty() && !new_remotes.is_empty() {
            let remote_txns = Candidates::build(&self.remotes, new_remotes, |item| {
                item.transaction_id.as_deref()
            });
            let remote_uids = Candidates::build(&self.remotes, new_remotes, |item| item.ical_uid());
            let remote_keys =
                Candidates::build(&self.remotes, new_remotes, |item| item.match_key());
            // Strongest evidence first: our own create, then the shared iCalUId, then the digest.
            for pass in 0..3 {
                for &l in new_locals {
                    if self.locals.is_taken(l) {
                        continue;
                    }
                    let local = self.locals.item(l);
                    let found = match pass {
                        0 => remote_txns.find(
                            &transaction_id(&self.config.transaction_salt, &local.id, None),
                            &self.remotes,
                        ),
                        1 => local
                            .ical_uid()
                            .and_then(|uid| remote_uids.find(uid, &self.remotes)),
                        _ => local
                            .match_key()
                            .and_then(|key| remote_keys.find(key, &self.remotes)),
                    };
                    if let Some(r) = found {
                        self.locals.take(l);
                        self.remotes.take(r);
                        self.link_new(local, self.remotes.item(r));
                    }
                }
            }
            self.link_awaited(new_locals, new_remotes);
        }
        for &l in new_locals {
            if !self.locals.is_taken(l) {
                let local = self.locals.item(l);
                let transaction_id = transaction_id(&self.config.transaction_salt, &local.id, None);
                self.plan.push_remote(
                    RemoteOp::Create {
                        local_id: local.id.clone(),
                        transaction_id,
                    },
                    Basis {
                        replaces: None,
                        source: Some(source(local)),
                        ical_uid: None,
                    },
                );
            }
        }
        let orphans = self.orphaned_creates(new_remotes, deleted);
        for &r in new_remotes {
            if !self.remotes.is_taken(r) {
                let remote = self.remotes.item(r);
                if let Some(local_id) = orphans.get(remote.id.as_str()) {
                    self.delete_orphan(local_id, remote);
                    continue;
                }
                self.plan.push_local(
                    LocalOp::Create {
                        remote_id: remote.id.clone(),
                    },
                    Basis {
                        replaces: None,
                        source: Some(source(remote)),
                        ical_uid: None,
                    },
                );
            }
        }
    }

    /// New remote items that are our own creates of local items deleted since, by remote id: a
    /// run created them and died before linking them, then the local item was deleted (which
    /// left only its id in the delta). Copying them back would undo that deletion.
    fn orphaned_creates(
        &self,
        new_remotes: &[usize],
        deleted: &'a [String],
    ) -> HashMap<&'a str, &'a str> {
        if deleted.is_empty() {
            return HashMap::new();
        }
        let ours: HashMap<String, &str> = deleted
            .iter()
            .map(|id| {
                (
                    transaction_id(&self.config.transaction_salt, id, None),
                    id.as_str(),
                )
            })
            .collect();
        new_remotes
            .iter()
            .map(|&r| self.remotes.item(r))
            .filter_map(|remote| {
                let local_id = ours.get(remote.transaction_id.as_deref()?)?;
                Some((remote.id.as_str(), *local_id))
            })
            .collect()
    }

    /// Deletes our own create of a local item deleted before it was linked.
    fn delete_orphan(&mut self, local_id: &str, remote: &RemoteItem) {
        self.deletes[side_slot(Side::Remote)] += 1;
        self.plan.push_remote(
            RemoteOp::Delete {
                remote_id: remote.id.clone(),
            },
            Basis {
                // Never stored: removing it is a no-op, but settling a delete needs its key.
                replaces: Some(StatusKey {
                    local_id: local_id.to_owned(),
                    remote_id: remote.id.clone(),
                }),
                source: None,
                ical_uid: remote.ical_uid.clone(),
            },
        );
    }

    /// The weakest evidence, used last: a local item waiting for its copy and a remote copy with
    /// the same awaited key, when no other item left on either side has that key. Two candidates
    /// on one side may be two distinct meetings: then nothing is linked by it (a duplicate can be
    /// deleted by a person; a wrong merge overwrites a meeting).
    fn link_awaited(&mut self, new_locals: &[usize], new_remotes: &[usize]) {
        let locals: Vec<usize> = new_locals
            .iter()
            .copied()
            .filter(|&l| !self.locals.is_taken(l))
            .collect();
        let remotes: Vec<usize> = new_remotes
            .iter()
            .copied()
            .filter(|&r| !self.remotes.is_taken(r))
            .collect();
        let local_keys = Candidates::build(&self.locals, &locals, |item| item.awaited_key());
        let remote_keys = Candidates::build(&self.remotes, &remotes, |item| item.awaited_key());
        for l in locals {
            let local = self.locals.item(l);
            let Some(key) = local.awaited_key() else {
                continue;
            };
            let Some(r) = remote_keys
                .only(key)
                .filter(|_| local_keys.only(key) == Some(l))
            else {
                continue;
            };
            let remote = self.remotes.item(r);
            if matches!((&local.ical_uid, &remote.ical_uid), (Some(a), Some(b)) if a != b) {
                // Known to be copies of two different meetings.
                continue;
            }
            self.locals.take(l);
            self.remotes.take(r);
            self.link_new(local, remote);
        }
    }

    fn link_new(&mut self, local: &'a LocalItem, remote: &'a RemoteItem) {
        if local.hash == remote.hash {
            self.plan.status_updates.push(StatusUpdate::Put {
                status: linked_status(local, remote, None),
                replaces: None,
            });
        } else if local.awaited_key.is_some() {
            // A local item waiting for its copy, found (by whatever key): not a conflict for the
            // policy to settle, the caller merges the copy it waited for (see
            // `RemoteItem::awaited_key`).
            let basis = Basis {
                replaces: None,
                source: Some(source(local)),
                ical_uid: remote.ical_uid.clone().or_else(|| local.ical_uid.clone()),
            };
            self.update_remote(local.id.clone(), remote.id.clone(), basis);
        } else {
            let (winner, resolution) = decide_winner(self.config.policy, local, remote);
            self.plan.conflicts.push(Conflict {
                kind: ConflictKind::LinkedWithDifferences,
                winner,
                resolution,
                local: version(local),
                remote: version(remote),
            });
            let basis = |source| Basis {
                replaces: None,
                source: Some(source),
                ical_uid: remote.ical_uid.clone().or_else(|| local.ical_uid.clone()),
            };
            match winner {
                Side::Local => {
                    self.update_remote(local.id.clone(), remote.id.clone(), basis(source(local)))
                }
                Side::Remote => {
                    self.update_local(remote.id.clone(), local.id.clone(), basis(source(remote)))
                }
            }
        }
    }
}

/// The state of an item found again under a new id, judged against the status's hash.
fn moved(index: usize, item: &impl Item, recorded_hash: &str) -> Found {
    Found {
        seen: if item.hash() == recorded_hash {
            Seen::Unchanged
        } else {
            Seen::Changed(index)
        },
        moved_to: Some(index),
    }
}

fn decide_winner(
    policy: ConflictPolicy,
    local: &LocalItem,
    remote: &RemoteItem,
) -> (Side, Resolution) {
    match policy {
        ConflictPolicy::LocalWins => (Side::Local, Resolution::LocalWinsPolicy),
        ConflictPolicy::RemoteWins => (Side::Remote, Resolution::RemoteWinsPolicy),
        ConflictPolicy::LatestWins => match (local.modified_at, remote.modified_at) {
            (Some(l), Some(r)) if l > r => (Side::Local, Resolution::NewerEdit),
            (Some(l), Some(r)) if r > l => (Side::Remote, Resolution::NewerEdit),
            (Some(_), None) => (Side::Local, Resolution::NewerEdit),
            (None, Some(_)) => (Side::Remote, Resolution::NewerEdit),
            _ => (Side::Remote, Resolution::TieGoesToRemote),
        },
    }
}

fn source(item: &impl Item) -> Source {
    Source {
        id: item.id().to_owned(),
        hash: item.hash().to_owned(),
        ical_uid: item.ical_uid().map(str::to_owned),
        modified_at: item.modified_at(),
    }
}

fn basis(replaces: Option<StatusKey>, source: Option<Source>, status: &Status) -> Basis {
    Basis {
        replaces,
        source,
        ical_uid: status.ical_uid.clone(),
    }
}

fn version(item: &impl Item) -> Version {
    Version {
        id: item.id().to_owned(),
        hash: Some(item.hash().to_owned()),
        modified_at: item.modified_at(),
    }
}

fn deleted_version(id: &str, last_seen: Option<i64>) -> Version {
    Version {
        id: id.to_owned(),
        hash: None,
        modified_at: last_seen,
    }
}

/// The status of a pair seen equal on both sides right now. The remote `iCalUId` is the
/// authoritative one (Graph assigns it).
fn linked_status(local: &LocalItem, remote: &RemoteItem, known_uid: Option<&str>) -> Status {
    Status {
        local_id: local.id.clone(),
        remote_id: remote.id.clone(),
        ical_uid: remote
            .ical_uid
            .clone()
            .or_else(|| local.ical_uid.clone())
            .or_else(|| known_uid.map(str::to_owned)),
        local_hash: local.hash.clone(),
        remote_hash: remote.hash.clone(),
        local_mtime: local.modified_at,
        remote_mtime: remote.modified_at,
    }
}
