//! Errors of planning and of applying results.

use thiserror::Error;

use crate::item::Side;
use crate::plan::OpRef;

/// Why [`crate::plan`] produced no plan. Nothing is written when this is returned.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PlanError {
    /// The side had linked items and is now empty: mirroring it would delete everything on the
    /// other side. Set [`crate::PlanConfig::allow_emptied_side`] to proceed deliberately.
    #[error(
        "safety stop: the {emptied} side had {linked} linked items and is now empty; \
         the plan would delete {would_delete} items on the {} side", emptied.other()
    )]
    SafetyStop {
        /// The side that is empty.
        emptied: Side,
        /// How many statuses linked items on that side.
        linked: usize,
        /// How many deletions the plan would have made on the other side.
        would_delete: usize,
    },
    /// Two items of one listing share an id.
    #[error("{side} listing: item id {id:?} appears more than once")]
    DuplicateItem {
        /// The listing's side.
        side: Side,
        /// The repeated id.
        id: String,
    },
    /// A delta reports the same id as both changed and deleted.
    #[error("{side} delta: item id {id:?} is both changed and deleted")]
    ContradictoryDelta {
        /// The listing's side.
        side: Side,
        /// The id.
        id: String,
    },
    /// Two statuses link the same item (the status store lost its uniqueness constraint).
    #[error("statuses: {side} id {id:?} is linked by more than one status")]
    DuplicateStatus {
        /// The side whose id is repeated.
        side: Side,
        /// The repeated id.
        id: String,
    },
    /// [`crate::PlanConfig::transaction_salt`] is empty, so remote creates of different links or
    /// databases could share `transactionId`s.
    #[error("config: transaction_salt is empty; set it to identify the database and mailbox link")]
    EmptySalt,
    /// [`crate::plan_touched`] was called with input only [`crate::plan`] can take.
    #[error("plan_touched: {problem}")]
    TouchedNeedsDeltas {
        /// What is wrong.
        problem: &'static str,
    },
    /// An item has an empty id or hash.
    #[error("{side} listing: item {id:?} has an empty {field}")]
    EmptyField {
        /// The listing's side.
        side: Side,
        /// The item's id (empty when the id itself is the empty field).
        id: String,
        /// `"id"` or `"hash"`.
        field: &'static str,
    },
}

/// Why [`crate::apply_results`] rejected the reported results. Nothing is applied when this is
/// returned; the caller's bug is named precisely.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApplyError {
    /// A result names an operation the plan does not have.
    #[error("result for {op}: the plan has no such operation")]
    UnknownOp {
        /// The reference given.
        op: OpRef,
    },
    /// Two results name the same operation.
    #[error("result for {op}: reported more than once")]
    DuplicateResult {
        /// The reference given.
        op: OpRef,
    },
    /// The outcome does not fit the operation (for example `Deleted` for a create).
    #[error("result for {op}: outcome {outcome} does not fit a {expected} operation")]
    OutcomeMismatch {
        /// The reference given.
        op: OpRef,
        /// The outcome's kind.
        outcome: &'static str,
        /// The operation's kind.
        expected: &'static str,
    },
    /// A written item came back with an empty field, or an update changed the item's id.
    #[error("result for {op}: written item has an invalid {field}")]
    InvalidWrittenItem {
        /// The reference given.
        op: OpRef,
        /// `"id"` (empty, or different from the updated item's) or `"hash"` (empty).
        field: &'static str,
    },
    /// The plan's internal bookkeeping is inconsistent (it was altered after [`crate::plan`] made
    /// it, for example through a hand-edited serialised copy).
    #[error("corrupt plan: {detail}")]
    CorruptPlan {
        /// What is inconsistent.
        detail: &'static str,
    },
}
