//! How a run resolves conflicts and when it refuses to run.

use serde::{Deserialize, Serialize};

/// Which version wins when both sides changed the same pair differently.
///
/// Whatever the policy, the losing version is reported in [`crate::Plan::conflicts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The more recent `modified_at` wins. On a tie, or when neither time is known, the remote
    /// version wins: keeping it needs no Graph write, and a Graph write may mail every attendee.
    /// A known time beats an unknown one.
    #[default]
    LatestWins,
    /// The local version always wins.
    LocalWins,
    /// The remote version always wins.
    RemoteWins,
}

/// Settings of one planning run for one mailbox link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanConfig {
    /// Conflict resolution.
    pub policy: ConflictPolicy,
    /// Stable, per-link input to the `transactionId` of remote creates: identify the database and
    /// the mailbox link (for example `"<database uuid>/<mailbox link id>"`). It must never change
    /// for a link, or a create retried after a crash could be duplicated.
    pub transaction_salt: String,
    /// Allow a plan that deletes items on one side because the other side, which had linked items,
    /// is now completely empty. Off by default: an empty side usually means an auth, scope or
    /// configuration glitch, and mirroring it would delete the whole calendar.
    pub allow_emptied_side: bool,
}

impl PlanConfig {
    /// The default policy ([`ConflictPolicy::LatestWins`]) with the safety stop on.
    pub fn new(transaction_salt: impl Into<String>) -> Self {
        PlanConfig {
            policy: ConflictPolicy::default(),
            transaction_salt: transaction_salt.into(),
            allow_emptied_side: false,
        }
    }
}
