//! The sent journal: Outlook writes recorded the moment Outlook confirms them, so that a run that
//! dies before its state is committed does not leave the next run blind to what it sent.
//!
//! Without it, the next run plans from the links of the last committed run: the edit the dead run
//! sent still looks unsent, and its echo in Outlook looks like a person's edit. A person deleting
//! the event in Outlook meanwhile would then lose to "a modification beats a deletion" (the event
//! comes back), and the echo could win a "latest edit" conflict against a newer Odoo edit.
//!
//! The caller commits each batch of [`SentWrite`]s outside the run's transaction as it is told of
//! them ([`crate::run_journaled`]), hands those not yet superseded by a committed state to the next
//! run ([`crate::RunInput::sent`]), and forgets them once a run's state is committed.
//!
//! Only writes that settle their pair on their own are recorded: a create or update sent as one
//! request, with no Odoo write for the pair in the same run (that write dies with the run) and no
//! occurrence writes after it (they may not have happened). Anything else keeps the previous
//! behaviour: the next run sees the difference again and plans it.
//!
//! Updates are also recorded *before* they are sent ([`Delivery::Pending`]), then again once
//! answered: confirmed, or refused when Outlook answered with an error. A pending entry nothing
//! followed is an update whose answer never arrived: the run died (or the connection did) after
//! sending it. Whether it took effect is then unknown; the next run finds out for free when the
//! copy is still there (its delta shows our content, or nothing if the write never landed). Only
//! when a person has deleted the copy since is nothing left to compare, and the policy is this
//! module's: the deletion is taken as made after the edit, as it is when the write was
//! confirmed, and the run reports it with the Odoo content that went with it
//! ([`unanswered_before_deletion`]). A write whose answer was lost has, in practice, almost
//! always reached Outlook; the other reading would re-create an event a person deleted.

use std::collections::{HashMap, HashSet};

use outlook_engine::{
    LocalOp, Plan, RemoteOp, Status, StatusKey, StatusUpdate, remote_intended, remote_written,
};
use outlook_graph::{BatchResponse, GraphError};
use serde::{Deserialize, Serialize};

use crate::push::{Action, Attendee, Prepared, answered};
use crate::state::{Link, SyncState};

const LOG: &str = "outlook_sync::runner";

/// One Outlook write that Outlook confirmed (or, for an update, one about to be sent, or refused):
/// the link as the run would have stored it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentWrite {
    /// The pair after the write: Odoo's content as sent, Outlook's as answered (empty while
    /// [`Delivery::Pending`]).
    pub link: Link,
    /// The stored link this one supersedes (the same pair, possibly under an older id).
    #[serde(default)]
    pub replaces: Option<StatusKey>,
    /// The write created the Outlook event: the stored delta link predates it, so the next run
    /// reads it by id (a person may have deleted it since).
    #[serde(default)]
    pub created: bool,
    /// What is known of the write's fate.
    #[serde(default)]
    pub delivery: Delivery,
}

/// What a run knew of one write when it recorded it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Outlook answered with the written event.
    #[default]
    Confirmed,
    /// About to be sent; a later entry for the pair says how it ended, unless the run died first.
    Pending,
    /// Outlook answered with an error: nothing was written.
    Refused,
}

impl SyncState {
    /// Applies the writes of runs that died after sending them, oldest first, as their commits
    /// would have. A state without a delta link (first sync, reset) is left alone: its full round
    /// links what those runs created by `transactionId`, and the first-sync policy must still see
    /// a state with no links.
    pub fn apply_sent(&mut self, sent: &[SentWrite]) {
        if self.delta_link.is_none() {
            return;
        }
        // One pass over the links, whatever the number of writes: the pairs (and the links they
        // replace) are dropped, then each pair's latest write is added.
        let sent: Vec<&SentWrite> = sent
            .iter()
            .filter(|write| write.delivery == Delivery::Confirmed)
            .collect();
        let mut dropped: HashSet<(&str, &str)> = HashSet::new();
        let mut local_ids: HashSet<&str> = HashSet::new();
        let mut remote_ids: HashSet<&str> = HashSet::new();
        for write in &sent {
            let status = &write.link.status;
            local_ids.insert(&status.local_id);
            remote_ids.insert(&status.remote_id);
            if let Some(key) = &write.replaces {
                dropped.insert((&key.local_id, &key.remote_id));
            }
        }
        self.links.retain(|link| {
            let old = &link.status;
            !dropped.contains(&(old.local_id.as_str(), old.remote_id.as_str()))
                && !local_ids.contains(old.local_id.as_str())
                && !remote_ids.contains(old.remote_id.as_str())
        });
        let (mut later_local, mut later_remote) = (HashSet::new(), HashSet::new());
        let mut latest: Vec<&SentWrite> = Vec::new();
        for write in sent.into_iter().rev() {
            let status = &write.link.status;
            let fresh_local = later_local.insert(status.local_id.as_str());
            let fresh_remote = later_remote.insert(status.remote_id.as_str());
            if fresh_local && fresh_remote {
                latest.push(write);
            }
        }
        for write in latest.into_iter().rev() {
            let remote_id = &write.link.status.remote_id;
            self.links.push(write.link.clone());
            if write.created && !self.pending_remote.contains(remote_id) {
                self.pending_remote.push(remote_id.clone());
            }
        }
    }
}

/// Updates whose answer never came (see the module's policy) and whose Outlook copy is now
/// confirmed deleted: their statuses take the Odoo content that was sent, so an Odoo event that
/// has not changed since is deleted like any event deleted in Outlook after a sync, while one
/// edited again since still beats the deletion. Returns the pairs so treated.
pub(crate) fn unanswered_before_deletion(
    sent: &[SentWrite],
    statuses: &mut [Status],
    deleted: &[String],
) -> Vec<StatusKey> {
    // The last entry of each Odoo event says how its latest write ended.
    let mut last: HashMap<&str, &SentWrite> = HashMap::new();
    for write in sent {
        last.insert(&write.link.status.local_id, write);
    }
    let deleted: HashSet<&str> = deleted.iter().map(String::as_str).collect();
    let mut treated = Vec::new();
    for status in statuses.iter_mut() {
        let Some(write) = last.get(status.local_id.as_str()) else {
            continue;
        };
        let sent_status = &write.link.status;
        if write.delivery == Delivery::Pending
            && sent_status.remote_id == status.remote_id
            && deleted.contains(status.remote_id.as_str())
        {
            status.local_hash.clone_from(&sent_status.local_hash);
            status.local_mtime = sent_status.local_mtime;
            treated.push(StatusKey {
                local_id: status.local_id.clone(),
                remote_id: status.remote_id.clone(),
            });
        }
    }
    treated
}

/// What a run records as its `$batch` envelopes settle.
pub(crate) struct Journal<'a> {
    plan: &'a Plan,
    prepared: &'a [Prepared],
    /// Per remote op: whether its success settles the pair on its own.
    recorded: Vec<bool>,
    sink: &'a (dyn Fn(Vec<SentWrite>) + Sync),
}

impl<'a> Journal<'a> {
    pub(crate) fn new(
        plan: &'a Plan,
        prepared: &'a [Prepared],
        sink: &'a (dyn Fn(Vec<SentWrite>) + Sync),
    ) -> Self {
        let mut odoo_local: HashSet<&str> = HashSet::new();
        let mut odoo_remote: HashSet<&str> = HashSet::new();
        for op in plan.local_ops() {
            match op {
                LocalOp::Create { remote_id } => {
                    odoo_remote.insert(remote_id);
                }
                LocalOp::Update {
                    remote_id,
                    local_id,
                } => {
                    odoo_remote.insert(remote_id);
                    odoo_local.insert(local_id);
                }
                LocalOp::Delete { local_id } => {
                    odoo_local.insert(local_id);
                }
            }
        }
        let recorded = plan
            .remote_ops()
            .iter()
            .zip(prepared)
            .map(|(op, item)| {
                let alone = match op {
                    RemoteOp::Create { local_id, .. } => !odoo_local.contains(local_id.as_str()),
                    RemoteOp::Update {
                        local_id,
                        remote_id,
                    } => {
                        !odoo_local.contains(local_id.as_str())
                            && !odoo_remote.contains(remote_id.as_str())
                    }
                    RemoteOp::Delete { .. } => false,
                };
                alone
                    && matches!(item.action, Action::Send(_))
                    && matches!(item.attendee, Attendee::None)
                    && !item.series.as_ref().is_some_and(|series| series.writes())
            })
            .collect();
        Journal {
            plan,
            prepared,
            recorded,
            sink,
        }
    }

    /// Records the updates about to be sent, before anything is sent (see [`Delivery::Pending`]).
    pub(crate) fn intend(&self) {
        let writes: Vec<SentWrite> = (0..self.recorded.len())
            .filter_map(|op| self.pending(op))
            .collect();
        if !writes.is_empty() {
            (self.sink)(writes);
        }
    }

    /// The pending entry of a recorded update.
    fn pending(&self, op: usize) -> Option<SentWrite> {
        if !self.recorded.get(op).copied().unwrap_or(false) {
            return None;
        }
        let Some(StatusUpdate::Put { status, replaces }) = remote_intended(self.plan, op) else {
            return None;
        };
        Some(SentWrite {
            link: Link {
                status,
                remote: None,
            },
            replaces,
            created: false,
            delivery: Delivery::Pending,
        })
    }

    /// Records the settled results of one envelope, `(op index, result)`.
    pub(crate) fn record<'r>(
        &self,
        settled: impl IntoIterator<Item = (usize, &'r Result<BatchResponse, GraphError>)>,
    ) {
        let mut writes = Vec::new();
        for (op, result) in settled {
            if !self.recorded.get(op).copied().unwrap_or(false) {
                continue;
            }
            let Action::Send(request) = &self.prepared[op].action else {
                continue;
            };
            let (outcome, event) = answered(&request.method, result.clone());
            match remote_written(self.plan, op, &outcome) {
                Ok(Some(StatusUpdate::Put { status, replaces })) => writes.push(SentWrite {
                    link: Link {
                        status,
                        remote: event.map(|(_, event)| event),
                    },
                    replaces,
                    created: matches!(self.plan.remote_ops()[op], RemoteOp::Create { .. }),
                    delivery: Delivery::Confirmed,
                }),
                Ok(_) => {}
                Err(error) => {
                    log::warn!(target: LOG, "sent journal: op {op} not recorded: {error}")
                }
            }
            // An update Outlook answered without taking it: its pending entry is settled.
            if refused(result) {
                if let Some(refused) = self.pending(op) {
                    writes.push(SentWrite {
                        delivery: Delivery::Refused,
                        ..refused
                    });
                }
            }
        }
        if !writes.is_empty() {
            (self.sink)(writes);
        }
    }
}

/// Whether Outlook answered that it did not take the request: an error status (a throttled
/// request was not run), except a gateway timeout, which may have run. A lost connection, or a
/// success whose body could not be read, leaves the write's fate to the next run.
fn refused(result: &Result<BatchResponse, GraphError>) -> bool {
    match result {
        Ok(_) => false,
        Err(GraphError::Throttled { .. }) => true,
        Err(error) => error.status().is_some_and(|status| status != 504),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use outlook_engine::Status;

    use super::*;

    fn link(local: &str, remote: &str, hash: &str) -> Link {
        Link {
            status: Status {
                local_id: local.into(),
                remote_id: remote.into(),
                ical_uid: None,
                local_hash: hash.into(),
                remote_hash: hash.into(),
                local_mtime: None,
                remote_mtime: None,
            },
            remote: None,
        }
    }

    fn state(links: Vec<Link>) -> SyncState {
        SyncState {
            delta_link: Some("https://graph/delta?token=1".into()),
            links,
            ..SyncState::default()
        }
    }

    #[test]
    fn a_sent_update_replaces_the_pairs_link_and_a_create_is_read_by_id() {
        let mut state = state(vec![link("1", "A", "old"), link("2", "B", "b")]);
        state.apply_sent(&[
            SentWrite {
                link: link("1", "A", "sent"),
                replaces: Some(StatusKey {
                    local_id: "1".into(),
                    remote_id: "A".into(),
                }),
                created: false,
                delivery: Delivery::Confirmed,
            },
            SentWrite {
                link: link("3", "C", "new"),
                replaces: None,
                created: true,
                delivery: Delivery::Confirmed,
            },
        ]);
        let mut hashes: Vec<(&str, &str)> = state
            .links
            .iter()
            .map(|l| (l.status.local_id.as_str(), l.status.local_hash.as_str()))
            .collect();
        hashes.sort_unstable();
        assert_eq!(hashes, [("1", "sent"), ("2", "b"), ("3", "new")]);
        assert_eq!(state.pending_remote, ["C"]);
    }

    #[test]
    fn later_writes_of_the_same_pair_win_and_a_state_without_delta_link_is_left_alone() {
        let writes = [
            SentWrite {
                link: link("1", "A", "first"),
                replaces: None,
                created: false,
                delivery: Delivery::Confirmed,
            },
            SentWrite {
                link: link("1", "A", "second"),
                replaces: None,
                created: false,
                delivery: Delivery::Confirmed,
            },
        ];
        let mut synced = state(vec![link("1", "A", "old")]);
        synced.apply_sent(&writes);
        assert_eq!(synced.links.len(), 1);
        assert_eq!(synced.links[0].status.local_hash, "second");

        let mut first = SyncState::default();
        first.apply_sent(&writes);
        assert_eq!(first, SyncState::default());
    }

    fn entry(local: &str, remote: &str, hash: &str, delivery: Delivery) -> SentWrite {
        SentWrite {
            link: link(local, remote, hash),
            replaces: None,
            created: false,
            delivery,
        }
    }

    #[test]
    fn only_confirmed_writes_are_applied_and_only_an_unanswered_one_meets_a_deletion() {
        let sent = [
            entry("1", "A", "one", Delivery::Pending),
            entry("2", "B", "two", Delivery::Pending),
            entry("2", "B", "two", Delivery::Refused),
            entry("3", "C", "three", Delivery::Pending),
            entry("4", "D", "four", Delivery::Pending),
            entry("4", "D", "four", Delivery::Confirmed),
        ];
        let pairs = [("1", "A"), ("2", "B"), ("3", "C"), ("4", "D")];
        let mut synced = state(pairs.map(|(l, r)| link(l, r, "old")).to_vec());
        synced.apply_sent(&sent);
        let hash = |state: &SyncState, id: &str| {
            state
                .links
                .iter()
                .find(|l| l.status.local_id == id)
                .unwrap()
                .status
                .local_hash
                .clone()
        };
        assert_eq!(
            ["1", "2", "3", "4"].map(|id| hash(&synced, id)),
            ["old", "old", "old", "four"]
        );

        let mut statuses: Vec<Status> = synced.links.iter().map(|l| l.status.clone()).collect();
        // C was not deleted: its delta will say whether the write landed.
        let deleted = ["A".to_owned(), "B".to_owned(), "D".to_owned()];
        let treated = unanswered_before_deletion(&sent, &mut statuses, &deleted);
        assert_eq!(
            treated,
            [StatusKey {
                local_id: "1".into(),
                remote_id: "A".into()
            }]
        );
        let by_id = |id: &str| {
            statuses
                .iter()
                .find(|s| s.local_id == id)
                .unwrap()
                .local_hash
                .clone()
        };
        assert_eq!(
            ["1", "2", "3", "4"].map(by_id),
            ["one", "old", "old", "four"]
        );
    }
}
