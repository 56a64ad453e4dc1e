//! Stateful property test in the manner of vdirsyncer's `SyncMachine`: two in-memory sides receive
//! random creates, edits and deletes; sync runs use random listing modes and conflict policies,
//! random ops fail (before the write, or after it with the response lost), and some runs crash
//! after their remote writes, before anything local is committed.
//!
//! After every completed run: statuses stay unique; if every op succeeded, both sides hold the
//! same items (a bijection through the statuses, with equal content), every modification made
//! since the last sync is on both sides or reported as a conflict's loser, every conflict's winner
//! follows the policy, and planning again (full and delta) yields an empty plan.
//!
//! Case count: `PROPTEST_CASES` (proptest's default, 256, otherwise).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};

use outlook_engine::{
    ConflictKind, ConflictPolicy, Listing, LocalItem, LocalOp, OpRef, OpReport, Outcome, Plan,
    PlanConfig, PlanError, RemoteItem, RemoteOp, Side, Status, WrittenItem, apply_results,
    apply_updates, plan, plan_touched, transaction_id,
};
use proptest::prelude::*;
use proptest::sample::Index;

const SALT: &str = "db/mailbox";

#[derive(Clone, Debug)]
struct Entry {
    content: String,
    modified_at: i64,
    ical_uid: Option<String>,
    match_key: Option<String>,
    transaction_id: Option<String>,
}

/// What happens to one op of a run.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// The write is refused; nothing changed.
    Fail,
    /// The write happened but the response was lost (remote only; a local write is transactional,
    /// so there it behaves like `Fail`).
    LostResponse,
}

#[derive(Clone, Debug)]
enum Action {
    Create(Side, bool),
    Edit(Side, Index, bool),
    Delete(Side, Index),
    /// A change of modification time without a change of content (Graph's `changeKey` churn).
    Touch(Side, Index),
    /// Outlook gives an event a new id, keeping its `iCalUId` (moved, or restored after deletion).
    MoveRemote(Index),
    /// The same event appears on both sides before it was ever synced.
    CreateOnBoth {
        same_content: bool,
        by_uid: bool,
    },
    Sync(SyncRun),
}

#[derive(Clone, Debug)]
struct SyncRun {
    local_full: bool,
    remote_full: bool,
    policy: ConflictPolicy,
    allow_emptied_side: bool,
    faults: Vec<Fault>,
    crash_after_remote_writes: bool,
    /// With two deltas, give the planner only the statuses the deltas touch.
    touched_statuses: bool,
}

impl SyncRun {
    fn clean(local_full: bool, remote_full: bool) -> Self {
        SyncRun {
            local_full,
            remote_full,
            policy: ConflictPolicy::LatestWins,
            allow_emptied_side: true,
            faults: Vec::new(),
            crash_after_remote_writes: false,
            touched_statuses: false,
        }
    }
}

#[derive(Default)]
struct World {
    clock: i64,
    counter: u64,
    local: BTreeMap<String, Entry>,
    remote: BTreeMap<String, Entry>,
    /// Local ids changed or deleted since the last committed run (dirty flags and tombstones).
    local_dirty: BTreeSet<String>,
    /// Remote ids changed or deleted since the stored delta token.
    remote_log: BTreeSet<String>,
    statuses: Vec<Status>,
}

enum RunEnd {
    Completed { plan: Plan, all_ok: bool },
    Stopped,
    Crashed,
}

impl World {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn tick(&mut self, advance: bool) -> i64 {
        self.clock += i64::from(advance);
        self.clock
    }

    fn side(&mut self, side: Side) -> (&mut BTreeMap<String, Entry>, &mut BTreeSet<String>) {
        match side {
            Side::Local => (&mut self.local, &mut self.local_dirty),
            Side::Remote => (&mut self.remote, &mut self.remote_log),
        }
    }

    fn user(&mut self, action: &Action) {
        match action {
            Action::Create(side, advance) => {
                let id = self.fresh(if *side == Side::Local { "l" } else { "r" });
                let content = self.fresh("c");
                let modified_at = self.tick(*advance);
                let ical_uid = (*side == Side::Remote).then(|| self.fresh("uid"));
                let (items, log) = self.side(*side);
                items.insert(
                    id.clone(),
                    Entry {
                        content,
                        modified_at,
                        ical_uid,
                        match_key: None,
                        transaction_id: None,
                    },
                );
                log.insert(id);
            }
            Action::Edit(side, pick, advance) => {
                let content = self.fresh("c");
                let modified_at = self.tick(*advance);
                let (items, log) = self.side(*side);
                if items.is_empty() {
                    return;
                }
                let id = items.keys().nth(pick.index(items.len())).unwrap().clone();
                let entry = items.get_mut(&id).unwrap();
                entry.content = content;
                entry.modified_at = modified_at;
                log.insert(id);
            }
            Action::Delete(side, pick) => {
                let (items, log) = self.side(*side);
                if items.is_empty() {
                    return;
                }
                let id = items.keys().nth(pick.index(items.len())).unwrap().clone();
                items.remove(&id);
                log.insert(id);
            }
            Action::Touch(side, pick) => {
                let modified_at = self.tick(true);
                let (items, log) = self.side(*side);
                if items.is_empty() {
                    return;
                }
                let id = items.keys().nth(pick.index(items.len())).unwrap().clone();
                items.get_mut(&id).unwrap().modified_at = modified_at;
                log.insert(id);
            }
            Action::MoveRemote(pick) => {
                if self.remote.is_empty() {
                    return;
                }
                let old = self
                    .remote
                    .keys()
                    .nth(pick.index(self.remote.len()))
                    .unwrap()
                    .clone();
                let new = self.fresh("r");
                let entry = self.remote.remove(&old).unwrap();
                self.remote.insert(new.clone(), entry);
                self.remote_log.insert(old);
                self.remote_log.insert(new);
            }
            Action::CreateOnBoth {
                same_content,
                by_uid,
            } => {
                let (local_id, remote_id) = (self.fresh("l"), self.fresh("r"));
                let content = self.fresh("c");
                let other_content = if *same_content {
                    content.clone()
                } else {
                    self.fresh("c")
                };
                let uid = self.fresh("uid");
                let key = self.fresh("key");
                let modified_at = self.tick(true);
                let (local_uid, local_key) = if *by_uid {
                    (Some(uid.clone()), None)
                } else {
                    (None, Some(key.clone()))
                };
                self.local.insert(
                    local_id.clone(),
                    Entry {
                        content,
                        modified_at,
                        ical_uid: local_uid,
                        match_key: local_key,
                        transaction_id: None,
                    },
                );
                self.remote.insert(
                    remote_id.clone(),
                    Entry {
                        content: other_content,
                        modified_at,
                        ical_uid: Some(uid),
                        match_key: (!by_uid).then_some(key),
                        transaction_id: None,
                    },
                );
                self.local_dirty.insert(local_id);
                self.remote_log.insert(remote_id);
            }
            Action::Sync(_) => unreachable!("syncs are run by the driver"),
        }
    }

    fn local_listing(&self, full: bool) -> Listing<LocalItem> {
        let item = |id: &String, e: &Entry| LocalItem {
            id: id.clone(),
            hash: e.content.clone(),
            ical_uid: e.ical_uid.clone(),
            match_key: e.match_key.clone(),
            awaited_key: None,
            modified_at: Some(e.modified_at),
        };
        if full {
            return Listing::full(self.local.iter().map(|(id, e)| item(id, e)).collect());
        }
        let (changed, deleted) = split(&self.local_dirty, &self.local);
        Listing::delta(
            changed.into_iter().map(|(id, e)| item(id, e)).collect(),
            deleted,
        )
    }

    fn remote_listing(&self, full: bool) -> Listing<RemoteItem> {
        let item = |id: &String, e: &Entry| RemoteItem {
            id: id.clone(),
            hash: e.content.clone(),
            ical_uid: e.ical_uid.clone(),
            match_key: e.match_key.clone(),
            awaited_key: None,
            transaction_id: e.transaction_id.clone(),
            modified_at: Some(e.modified_at),
        };
        if full {
            return Listing::full(self.remote.iter().map(|(id, e)| item(id, e)).collect());
        }
        let (changed, deleted) = split(&self.remote_log, &self.remote);
        Listing::delta(
            changed.into_iter().map(|(id, e)| item(id, e)).collect(),
            deleted,
        )
    }

    /// Plans with all statuses, or (two deltas and `touched`) with those the deltas touch, as a
    /// database query by id would find them.
    fn plan(
        &self,
        local: &Listing<LocalItem>,
        remote: &Listing<RemoteItem>,
        touched: bool,
        config: &PlanConfig,
    ) -> Result<Plan, PlanError> {
        let (
            true,
            Listing::Delta {
                changed: local_changed,
                deleted: local_deleted,
                ..
            },
            Listing::Delta {
                changed: remote_changed,
                deleted: remote_deleted,
                ..
            },
        ) = (touched, local, remote)
        else {
            return plan(&self.statuses, local, remote, config);
        };
        let local_ids: HashSet<&str> = local_changed
            .iter()
            .map(|item| item.id.as_str())
            .chain(local_deleted.iter().map(String::as_str))
            .collect();
        let remote_ids: HashSet<&str> = remote_changed
            .iter()
            .map(|item| item.id.as_str())
            .chain(remote_deleted.iter().map(String::as_str))
            .collect();
        let touched: Vec<Status> = self
            .statuses
            .iter()
            .filter(|s| {
                local_ids.contains(s.local_id.as_str()) || remote_ids.contains(s.remote_id.as_str())
            })
            .cloned()
            .collect();
        plan_touched(&touched, self.statuses.len(), local, remote, config)
    }

    fn sync(&mut self, run: &SyncRun) -> RunEnd {
        let config = PlanConfig {
            policy: run.policy,
            allow_emptied_side: run.allow_emptied_side,
            ..PlanConfig::new(SALT)
        };
        let planned = self.plan(
            &self.local_listing(run.local_full),
            &self.remote_listing(run.remote_full),
            run.touched_statuses,
            &config,
        );
        let plan = match planned {
            Ok(plan) => plan,
            Err(PlanError::SafetyStop { emptied, .. }) => {
                // Raised only when that side really is empty and something was linked.
                let emptied_items = match emptied {
                    Side::Local => &self.local,
                    Side::Remote => &self.remote,
                };
                assert!(
                    emptied_items.is_empty(),
                    "safety stop on a non-empty {emptied} side"
                );
                assert!(!self.statuses.is_empty());
                return RunEnd::Stopped;
            }
            Err(other) => panic!("unexpected plan error: {other}"),
        };
        let mut faults = run
            .faults
            .iter()
            .copied()
            .chain(std::iter::repeat(Fault::None));
        let mut reports = Vec::new();
        let mut remote_written = BTreeSet::new();
        for (index, op) in plan.remote_ops().iter().enumerate() {
            let fault = faults.next().unwrap();
            let outcome = match fault {
                Fault::Fail => failed("refused"),
                Fault::None | Fault::LostResponse => {
                    let outcome = self.execute_remote(op, &mut remote_written);
                    if matches!(fault, Fault::LostResponse) {
                        failed("response lost")
                    } else {
                        outcome
                    }
                }
            };
            reports.push(OpReport {
                op: OpRef::Remote(index),
                outcome,
            });
        }
        // Graph's delta (from the token read before the writes) will show our writes again.
        self.remote_log.extend(remote_written.iter().cloned());
        if run.crash_after_remote_writes {
            return RunEnd::Crashed;
        }
        let mut local_written = BTreeSet::new();
        for (index, op) in plan.local_ops().iter().enumerate() {
            let outcome = match faults.next().unwrap() {
                Fault::Fail | Fault::LostResponse => failed("refused"),
                Fault::None => self.execute_local(op, &mut local_written),
            };
            reports.push(OpReport {
                op: OpRef::Local(index),
                outcome,
            });
        }
        let applied = apply_results(&plan, &reports).unwrap();
        apply_updates(&mut self.statuses, &applied.updates);
        // Commit: dirty flags and the delta token advance, except for what must be retried. Our
        // own local writes are marked dirty as well, to prove their echo is ignored.
        self.local_dirty = applied.retry_local.iter().cloned().collect();
        self.local_dirty.extend(local_written);
        self.remote_log = applied.retry_remote.iter().cloned().collect();
        self.remote_log.extend(remote_written);
        RunEnd::Completed {
            all_ok: applied.failures.is_empty(),
            plan,
        }
    }

    fn execute_remote(&mut self, op: &RemoteOp, written: &mut BTreeSet<String>) -> Outcome {
        let now = self.tick(true);
        match op {
            RemoteOp::Create {
                local_id,
                transaction_id,
            } => {
                if self
                    .remote
                    .values()
                    .any(|e| e.transaction_id.as_ref() == Some(transaction_id))
                {
                    return failed("ErrorDuplicateTransactionId");
                }
                let source = self
                    .local
                    .get(local_id)
                    .expect("create source exists")
                    .clone();
                let id = self.fresh("r");
                let entry = Entry {
                    content: source.content,
                    modified_at: now,
                    ical_uid: Some(self.fresh("uid")),
                    match_key: source.match_key,
                    transaction_id: Some(transaction_id.clone()),
                };
                let outcome = written_outcome(&id, &entry);
                self.remote.insert(id.clone(), entry);
                written.insert(id);
                outcome
            }
            RemoteOp::Update {
                local_id,
                remote_id,
            } => {
                let content = self.local[local_id].content.clone();
                let Some(entry) = self.remote.get_mut(remote_id) else {
                    return failed("404");
                };
                entry.content = content;
                entry.modified_at = now;
                written.insert(remote_id.clone());
                written_outcome(remote_id, entry)
            }
            RemoteOp::Delete { remote_id } => {
                if self.remote.remove(remote_id).is_some() {
                    written.insert(remote_id.clone());
                }
                Outcome::Deleted
            }
        }
    }

    fn execute_local(&mut self, op: &LocalOp, written: &mut BTreeSet<String>) -> Outcome {
        let now = self.tick(true);
        match op {
            LocalOp::Create { remote_id } => {
                let source = self.remote[remote_id].clone();
                let id = self.fresh("l");
                let entry = Entry {
                    content: source.content,
                    modified_at: now,
                    ical_uid: source.ical_uid,
                    match_key: source.match_key,
                    transaction_id: None,
                };
                let outcome = written_outcome(&id, &entry);
                self.local.insert(id.clone(), entry);
                written.insert(id);
                outcome
            }
            LocalOp::Update {
                remote_id,
                local_id,
            } => {
                let content = self.remote[remote_id].content.clone();
                let entry = self.local.get_mut(local_id).expect("update target exists");
                entry.content = content;
                entry.modified_at = now;
                written.insert(local_id.clone());
                written_outcome(local_id, entry)
            }
            LocalOp::Delete { local_id } => {
                self.local.remove(local_id);
                written.insert(local_id.clone());
                Outcome::Deleted
            }
        }
    }

    /// Contents changed since the last sync on either side: these must not be lost silently. A
    /// remote item moved to a new id is recognised by its `iCalUId`.
    fn unsynced_contents(&self) -> BTreeSet<String> {
        let local_synced: HashSet<(&str, &str)> = self
            .statuses
            .iter()
            .map(|s| (s.local_id.as_str(), s.local_hash.as_str()))
            .collect();
        let remote_synced: HashSet<(&str, &str)> = self
            .statuses
            .iter()
            .map(|s| (s.remote_id.as_str(), s.remote_hash.as_str()))
            .collect();
        let local = self
            .local
            .iter()
            .filter(|(id, e)| !local_synced.contains(&(id.as_str(), e.content.as_str())));
        let remote_synced_by_uid: HashSet<(&str, &str)> = self
            .statuses
            .iter()
            .filter_map(|s| Some((s.ical_uid.as_deref()?, s.remote_hash.as_str())))
            .collect();
        // Our own creates of local items a person deleted since: the deletion stands (the engine
        // deletes them), so their content is not a person's edit to keep.
        let orphaned: HashSet<String> = (1..=self.counter)
            .map(|n| format!("l{n}"))
            .filter(|id| !self.local.contains_key(id))
            .map(|id| transaction_id(SALT, &id, None))
            .collect();
        let remote = self.remote.iter().filter(|(id, e)| {
            !e.transaction_id
                .as_ref()
                .is_some_and(|t| orphaned.contains(t))
                && !remote_synced.contains(&(id.as_str(), e.content.as_str()))
                && !e
                    .ical_uid
                    .as_deref()
                    .is_some_and(|uid| remote_synced_by_uid.contains(&(uid, e.content.as_str())))
        });
        local
            .chain(remote)
            .map(|(_, e)| e.content.clone())
            .collect()
    }

    fn assert_statuses_unique(&self) {
        let locals: HashSet<_> = self.statuses.iter().map(|s| &s.local_id).collect();
        let remotes: HashSet<_> = self.statuses.iter().map(|s| &s.remote_id).collect();
        assert_eq!(
            locals.len(),
            self.statuses.len(),
            "duplicate local id in statuses"
        );
        assert_eq!(
            remotes.len(),
            self.statuses.len(),
            "duplicate remote id in statuses"
        );
    }

    /// Both sides hold the same items: the statuses are a bijection with equal content.
    fn assert_converged(&self) {
        assert_eq!(
            self.statuses.len(),
            self.local.len(),
            "local items not all linked"
        );
        assert_eq!(
            self.statuses.len(),
            self.remote.len(),
            "remote items not all linked"
        );
        for s in &self.statuses {
            let local = &self
                .local
                .get(&s.local_id)
                .expect("linked local exists")
                .content;
            let remote = &self
                .remote
                .get(&s.remote_id)
                .expect("linked remote exists")
                .content;
            assert_eq!(local, remote, "pair {s:?} differs");
            assert_eq!(
                (&s.local_hash, &s.remote_hash),
                (local, remote),
                "stale status"
            );
        }
    }

    fn contents(&self, side: Side) -> BTreeSet<&str> {
        let items = match side {
            Side::Local => &self.local,
            Side::Remote => &self.remote,
        };
        items.values().map(|e| e.content.as_str()).collect()
    }

    /// With nothing changed since, planning again must find nothing to do in either mode.
    fn assert_idle(&self) {
        for (local_full, remote_full) in [(true, true), (false, false), (true, false)] {
            let p = plan(
                &self.statuses,
                &self.local_listing(local_full),
                &self.remote_listing(remote_full),
                &PlanConfig::new(SALT),
            )
            .unwrap();
            assert!(
                p.is_empty(),
                "not idle ({local_full}, {remote_full}): {p:?}"
            );
        }
    }
}

fn split<'a>(
    log: &BTreeSet<String>,
    items: &'a BTreeMap<String, Entry>,
) -> (Vec<(&'a String, &'a Entry)>, Vec<String>) {
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    for id in log {
        match items.get_key_value(id) {
            Some(pair) => changed.push(pair),
            None => deleted.push(id.clone()),
        }
    }
    (changed, deleted)
}

fn failed(reason: &str) -> Outcome {
    Outcome::Failed {
        reason: reason.into(),
    }
}

fn written_outcome(id: &str, entry: &Entry) -> Outcome {
    Outcome::Written(WrittenItem {
        id: id.into(),
        hash: entry.content.clone(),
        modified_at: Some(entry.modified_at),
        ical_uid: entry.ical_uid.clone(),
    })
}

/// Checks a completed run in which every op succeeded.
fn check_clean_run(
    world: &World,
    plan: &Plan,
    unsynced_before: &BTreeSet<String>,
    policy: ConflictPolicy,
) {
    world.assert_converged();
    let present = world.contents(Side::Local);
    let losers: BTreeSet<&str> = plan
        .conflicts()
        .iter()
        .filter_map(|c| c.loser().hash.as_deref())
        .collect();
    for content in unsynced_before {
        assert!(
            present.contains(content.as_str()) || losers.contains(content.as_str()),
            "modification {content} lost without a report"
        );
    }
    for conflict in plan.conflicts() {
        let winner = match conflict.winner {
            Side::Local => &conflict.local,
            Side::Remote => &conflict.remote,
        };
        let winner_hash = winner.hash.as_deref().expect("a winner exists");
        assert!(
            present.contains(winner_hash),
            "winner {conflict:?} not synced"
        );
        if let Some(loser) = conflict.loser().hash.as_deref() {
            assert!(!present.contains(loser), "loser {conflict:?} still present");
        }
        let expected = match (conflict.kind, policy) {
            (ConflictKind::ModifiedVsDeleted, _) => {
                if conflict.local.hash.is_some() {
                    Side::Local
                } else {
                    Side::Remote
                }
            }
            (_, ConflictPolicy::LocalWins) => Side::Local,
            (_, ConflictPolicy::RemoteWins) => Side::Remote,
            (_, ConflictPolicy::LatestWins) => {
                if conflict.local.modified_at > conflict.remote.modified_at {
                    Side::Local
                } else {
                    Side::Remote
                }
            }
        };
        assert_eq!(conflict.winner, expected, "{conflict:?} under {policy:?}");
    }
    world.assert_idle();
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Local), Just(Side::Remote)]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::Fail),
        1 => Just(Fault::LostResponse),
    ]
}

fn sync_run() -> impl Strategy<Value = SyncRun> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            Just(ConflictPolicy::LatestWins),
            Just(ConflictPolicy::LocalWins),
            Just(ConflictPolicy::RemoteWins)
        ],
        prop::bool::weighted(0.3),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(fault(), 1..8),
        ],
        prop::bool::weighted(0.15),
        any::<bool>(),
    )
        .prop_map(
            |(local_full, remote_full, policy, allow_emptied_side, faults, crash, touched)| {
                SyncRun {
                    local_full,
                    remote_full,
                    policy,
                    allow_emptied_side,
                    faults,
                    crash_after_remote_writes: crash,
                    touched_statuses: touched,
                }
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (side(), any::<bool>()).prop_map(|(s, a)| Action::Create(s, a)),
        3 => (side(), any::<Index>(), any::<bool>()).prop_map(|(s, i, a)| Action::Edit(s, i, a)),
        2 => (side(), any::<Index>()).prop_map(|(s, i)| Action::Delete(s, i)),
        1 => (side(), any::<Index>()).prop_map(|(s, i)| Action::Touch(s, i)),
        1 => any::<Index>().prop_map(Action::MoveRemote),
        1 => (any::<bool>(), any::<bool>())
            .prop_map(|(same_content, by_uid)| Action::CreateOnBoth { same_content, by_uid }),
        3 => sync_run().prop_map(Action::Sync),
    ]
}

fn run_scenario(actions: &[Action]) {
    let mut world = World::default();
    for action in actions {
        match action {
            Action::Sync(run) => sync_and_check(&mut world, run),
            user => world.user(user),
        }
    }
    // However the scenario left things, a clean run in each listing mode converges.
    for (local_full, remote_full) in [(false, false), (true, true)] {
        sync_and_check(&mut world, &SyncRun::clean(local_full, remote_full));
    }
    world.assert_converged();
}

fn sync_and_check(world: &mut World, run: &SyncRun) {
    let unsynced_before = world.unsynced_contents();
    match world.sync(run) {
        RunEnd::Completed { plan, all_ok } => {
            world.assert_statuses_unique();
            if all_ok {
                check_clean_run(world, &plan, &unsynced_before, run.policy);
            }
        }
        RunEnd::Stopped | RunEnd::Crashed => world.assert_statuses_unique(),
    }
}

proptest! {
    #[test]
    fn two_sides_converge_without_loss_or_duplicates(actions in prop::collection::vec(action(), 1..40)) {
        run_scenario(&actions);
    }
}
