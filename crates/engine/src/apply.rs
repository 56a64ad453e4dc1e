//! Turning the outcomes of a plan's operations into status updates.
//!
//! Per-item rollback (as vdirsyncer does it): an op that failed, or was never reported because the
//! run crashed, changes no status, so the next run sees the same difference and plans it again,
//! while every other item moves on.

use serde::{Deserialize, Serialize};

use crate::error::ApplyError;
use crate::plan::{Basis, LocalOp, OpRef, Plan, RemoteOp, Source};
use crate::status::{Status, StatusKey, StatusUpdate};

/// The state of an item right after the caller wrote it (create or update).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenItem {
    /// The item's id on the written side (the new id for a create; unchanged for an update).
    pub id: String,
    /// The semantic hash of the item *as the written side now returns it*: an echo of our own write
    /// then shows no change, even where the side normalises content.
    pub hash: String,
    /// Its modification time after the write, Unix milliseconds.
    pub modified_at: Option<i64>,
    /// Its `iCalUId`, if the written side reports one (Graph does on create).
    pub ical_uid: Option<String>,
}

/// What happened to one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A create or update succeeded. After a "transactionId already used" answer to a create,
    /// report the existing event this way.
    Written(WrittenItem),
    /// A delete succeeded, or the item was already gone.
    Deleted,
    /// The operation failed; its item keeps its old status and is retried next run. `reason` is
    /// shown to people: it must not contain secrets.
    Failed {
        /// Why, for the sync log.
        reason: String,
    },
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Written(_) => "written",
            Outcome::Deleted => "deleted",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// The outcome of one operation of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpReport {
    /// Which operation.
    pub op: OpRef,
    /// What happened.
    pub outcome: Outcome,
}

/// An operation that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Which operation.
    pub op: OpRef,
    /// The caller's reason, or `None` when no outcome was reported (the op was not attempted).
    pub reason: Option<String>,
}

/// The result of [`apply_results`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Status changes to commit together with the local writes (see [`crate::apply_updates`]).
    pub updates: Vec<StatusUpdate>,
    /// Operations that failed or were not reported.
    pub failures: Vec<Failure>,
    /// Local ids the next run must list again, even in a delta (keep their dirty flags or
    /// tombstones): their change was not carried over.
    pub retry_local: Vec<String>,
    /// Remote ids the next run must list again, even in a delta (fetch them by id, reporting those
    /// not found as deleted, or keep the previous delta token): their change was not carried over.
    pub retry_remote: Vec<String>,
}

/// Combines `plan` with the outcome of its operations into the status updates to commit.
///
/// Operations without a report count as not attempted: their items keep their old status, so a run
/// that crashed after some remote writes can call this with what it knows (or not at all) and the
/// next run neither loses nor duplicates anything. Status updates that need no write are always
/// included.
///
/// # Errors
///
/// When a report names an operation the plan does not have, names one twice, or does not fit it;
/// nothing is applied then.
pub fn apply_results(plan: &Plan, reports: &[OpReport]) -> Result<Applied, ApplyError> {
    if plan.remote_basis.len() != plan.remote_ops.len()
        || plan.local_basis.len() != plan.local_ops.len()
    {
        return Err(ApplyError::CorruptPlan {
            detail: "operation and bookkeeping counts differ",
        });
    }
    let mut remote: Vec<Option<&Outcome>> = vec![None; plan.remote_ops.len()];
    let mut local: Vec<Option<&Outcome>> = vec![None; plan.local_ops.len()];
    for report in reports {
        let slot = match report.op {
            OpRef::Remote(index) => remote.get_mut(index),
            OpRef::Local(index) => local.get_mut(index),
        }
        .ok_or(ApplyError::UnknownOp { op: report.op })?;
        if slot.replace(&report.outcome).is_some() {
            return Err(ApplyError::DuplicateResult { op: report.op });
        }
    }

    let mut applied = Applied {
        updates: plan.status_updates.clone(),
        ..Applied::default()
    };
    for (index, (op, outcome)) in plan.remote_ops.iter().zip(&remote).enumerate() {
        let op_ref = OpRef::Remote(index);
        let basis = &plan.remote_basis[index];
        match settle(op_ref, Target::of(op), basis, *outcome)? {
            Settled::Written(written, source) => {
                applied.updates.push(remote_put(written, source, basis));
            }
            Settled::Deleted(key) => applied.updates.push(StatusUpdate::Remove { key }),
            Settled::NotDone(reason) => {
                let (local_id, remote_id) = match op {
                    RemoteOp::Create { local_id, .. } => (Some(local_id), None),
                    RemoteOp::Update {
                        local_id,
                        remote_id,
                    } => (Some(local_id), Some(remote_id)),
                    RemoteOp::Delete { remote_id } => (None, Some(remote_id)),
                };
                applied.not_done(op_ref, reason, local_id, remote_id, basis);
            }
        }
    }
    for (index, (op, outcome)) in plan.local_ops.iter().zip(&local).enumerate() {
        let op_ref = OpRef::Local(index);
        let basis = &plan.local_basis[index];
        let target = match op {
            LocalOp::Create { .. } => Target::Create,
            LocalOp::Update { local_id, .. } => Target::Update(local_id),
            LocalOp::Delete { .. } => Target::Delete,
        };
        match settle(op_ref, target, basis, *outcome)? {
            Settled::Written(written, source) => applied.updates.push(StatusUpdate::Put {
                status: Status {
                    local_id: written.id.clone(),
                    remote_id: source.id.clone(),
                    ical_uid: pick_uid(&source.ical_uid, &written.ical_uid, basis),
                    local_hash: written.hash.clone(),
                    remote_hash: source.hash.clone(),
                    local_mtime: written.modified_at,
                    remote_mtime: source.modified_at,
                },
                replaces: basis.replaces.clone(),
            }),
            Settled::Deleted(key) => applied.updates.push(StatusUpdate::Remove { key }),
            Settled::NotDone(reason) => {
                let (local_id, remote_id) = match op {
                    LocalOp::Create { remote_id } => (None, Some(remote_id)),
                    LocalOp::Update {
                        remote_id,
                        local_id,
                    } => (Some(local_id), Some(remote_id)),
                    LocalOp::Delete { local_id } => (Some(local_id), None),
                };
                applied.not_done(op_ref, reason, local_id, remote_id, basis);
            }
        }
    }
    applied.retry_local.sort_unstable();
    applied.retry_local.dedup();
    applied.retry_remote.sort_unstable();
    applied.retry_remote.dedup();
    Ok(applied)
}

impl Applied {
    /// Records a failed or unreported op and the ids whose change must be listed again: the op's own
    /// ids and those of the status it would have replaced (a deletion's tombstone, say).
    fn not_done(
        &mut self,
        op: OpRef,
        reason: Option<String>,
        local_id: Option<&String>,
        remote_id: Option<&String>,
        basis: &Basis,
    ) {
        self.failures.push(Failure { op, reason });
        self.retry_local.extend(local_id.cloned());
        self.retry_remote.extend(remote_id.cloned());
        if let Some(key) = &basis.replaces {
            self.retry_local.push(key.local_id.clone());
            self.retry_remote.push(key.remote_id.clone());
        }
    }
}

/// The kind of op, with the id an update must keep.
#[derive(Clone, Copy)]
enum Target<'p> {
    Create,
    Update(&'p str),
    Delete,
}

impl<'p> Target<'p> {
    fn of(op: &'p RemoteOp) -> Self {
        match op {
            RemoteOp::Create { .. } => Target::Create,
            RemoteOp::Update { remote_id, .. } => Target::Update(remote_id),
            RemoteOp::Delete { .. } => Target::Delete,
        }
    }
}

enum Settled<'p> {
    Written(&'p WrittenItem, &'p Source),
    Deleted(StatusKey),
    NotDone(Option<String>),
}

/// Checks `outcome` against the op and says what it means for the status.
fn settle<'p>(
    op: OpRef,
    target: Target<'_>,
    basis: &'p Basis,
    outcome: Option<&'p Outcome>,
) -> Result<Settled<'p>, ApplyError> {
    let mismatch = |outcome: &Outcome, expected| ApplyError::OutcomeMismatch {
        op,
        outcome: outcome.name(),
        expected,
    };
    let corrupt = ApplyError::CorruptPlan {
        detail: "operation lacks the status it works on",
    };
    match (outcome, target) {
        (None, _) => Ok(Settled::NotDone(None)),
        (Some(Outcome::Failed { reason }), _) => Ok(Settled::NotDone(Some(reason.clone()))),
        (Some(Outcome::Written(written)), Target::Create | Target::Update(_)) => {
            if written.id.is_empty() {
                return Err(ApplyError::InvalidWrittenItem { op, field: "id" });
            }
            if let Target::Update(id) = target
                && written.id != id
            {
                return Err(ApplyError::InvalidWrittenItem { op, field: "id" });
            }
            if written.hash.is_empty() {
                return Err(ApplyError::InvalidWrittenItem { op, field: "hash" });
            }
            let source = basis.source.as_ref().ok_or(corrupt)?;
            Ok(Settled::Written(written, source))
        }
        (Some(Outcome::Deleted), Target::Delete) => {
            Ok(Settled::Deleted(basis.replaces.clone().ok_or(corrupt)?))
        }
        (Some(outcome @ Outcome::Deleted), Target::Create) => Err(mismatch(outcome, "create")),
        (Some(outcome @ Outcome::Deleted), Target::Update(_)) => Err(mismatch(outcome, "update")),
        (Some(outcome @ Outcome::Written(_)), Target::Delete) => Err(mismatch(outcome, "delete")),
    }
}

/// The status update of one remote op that succeeded, alone: what [`apply_results`] would store
/// for it. A caller records it as soon as Outlook confirms the write (a sent journal), so that a
/// run that dies before its commit leaves the next run knowing what was sent.
///
/// `Ok(None)` when the outcome stores nothing of its own (a failure, a deletion).
///
/// # Errors
///
/// As [`apply_results`]: an index the plan does not have, or an outcome that does not fit the op.
pub fn remote_written(
    plan: &Plan,
    index: usize,
    outcome: &Outcome,
) -> Result<Option<StatusUpdate>, ApplyError> {
    let op_ref = OpRef::Remote(index);
    let (op, basis) = plan
        .remote_ops
        .get(index)
        .zip(plan.remote_basis.get(index))
        .ok_or(ApplyError::UnknownOp { op: op_ref })?;
    Ok(
        match settle(op_ref, Target::of(op), basis, Some(outcome))? {
            Settled::Written(written, source) => Some(remote_put(written, source, basis)),
            Settled::Deleted(_) | Settled::NotDone(_) => None,
        },
    )
}

/// What a remote update is about to store, as far as it is known before Outlook answers: the pair
/// and its local side as read (the remote side is left empty). A caller records it before sending
/// (a write-ahead journal), so that a run that dies with the write unanswered leaves the next run
/// knowing which Odoo content may have reached Outlook.
///
/// `None` for creates (Outlook has not named the event yet), deletes and unknown indices.
pub fn remote_intended(plan: &Plan, index: usize) -> Option<StatusUpdate> {
    let (RemoteOp::Update { remote_id, .. }, basis) = plan
        .remote_ops
        .get(index)
        .zip(plan.remote_basis.get(index))?
    else {
        return None;
    };
    let source = basis.source.as_ref()?;
    Some(StatusUpdate::Put {
        status: Status {
            local_id: source.id.clone(),
            remote_id: remote_id.clone(),
            ical_uid: pick_uid(&None, &source.ical_uid, basis),
            local_hash: source.hash.clone(),
            remote_hash: String::new(),
            local_mtime: source.modified_at,
            remote_mtime: None,
        },
        replaces: basis.replaces.clone(),
    })
}

/// The status a successful remote create or update leaves: the local side as it was read, the
/// remote side as Outlook answered.
fn remote_put(written: &WrittenItem, source: &Source, basis: &Basis) -> StatusUpdate {
    StatusUpdate::Put {
        status: Status {
            local_id: source.id.clone(),
            remote_id: written.id.clone(),
            ical_uid: pick_uid(&written.ical_uid, &source.ical_uid, basis),
            local_hash: source.hash.clone(),
            remote_hash: written.hash.clone(),
            local_mtime: source.modified_at,
            remote_mtime: written.modified_at,
        },
        replaces: basis.replaces.clone(),
    }
}

/// Graph assigns `iCalUId`, so the remote one wins; then the local one; then the old status's.
fn pick_uid(remote: &Option<String>, local: &Option<String>, basis: &Basis) -> Option<String> {
    remote
        .clone()
        .or_else(|| local.clone())
        .or_else(|| basis.ical_uid.clone())
}
