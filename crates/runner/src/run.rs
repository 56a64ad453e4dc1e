//! One run of one mailbox: pull, plan, push the Outlook side, return the Odoo side.

use std::collections::{HashMap, HashSet};

use outlook_engine::{
    Listing, LocalItem, LocalOp, OpRef, OpReport, Outcome, Plan, PlanConfig, RemoteItem, RemoteOp,
    Side, Status, StatusKey, WrittenItem, apply_results, apply_updates, plan, transaction_id,
};
use outlook_graph::GraphClient;
use outlook_model::Event;
use outlook_model::odoo::OdooEvent;

use crate::attendee;
use crate::echo::{OwnWrites, echo_round};
use crate::error::RunError;
use crate::journal::{Journal, SentWrite, unanswered_before_deletion};
use crate::local::{LocalView, first_sync_allows, local_values, read_local, without};
use crate::output::{
    AttendeeNote, ConflictReport, ItemFailure, LocalAction, LocalWrite, Notice, NoticeKind,
    PlannedOp, Report, RunOutput,
};
use crate::pull::{RemoteView, pull};
use crate::push::{
    Attendee, MAX_TRANSACTION_CHAIN, Prepared, Pushed, next_transaction_id, prepare, send,
};
use crate::state::{FirstSync, Link, RunInput, RunOptions, SyncState};

const LOG: &str = "outlook_sync::runner";

/// The engine's local id of a record the addon has yet to create for `remote_id`; it never leaves
/// this module (the link handed out has an empty `local_id` instead).
fn pending_local_id(remote_id: &str) -> String {
    format!("pending:{remote_id}")
}

/// Runs one sync of one mailbox.
///
/// Reads Outlook's delta (from `input.state.delta_link`, or a full round over the window when
/// there is none or it expired), plans against the stored links and the Odoo side, writes Outlook
/// (unless `options.dry_run`), and returns the Odoo writes, the new state and a report. Items that
/// fail are reported and retried next run; the rest go on.
///
/// # Errors
///
/// [`RunError`] when the run as a whole cannot proceed; nothing was written to Outlook then (except
/// for [`RunError::Apply`]), and the stored state must be kept.
pub async fn run(
    client: &GraphClient,
    input: RunInput,
    options: &RunOptions,
) -> Result<RunOutput, RunError> {
    run_journaled(client, input, options, &|_| {}).await
}

/// [`run`], telling `journal` each group of Outlook writes as soon as Outlook confirms them (once
/// per `$batch` envelope). A caller that commits them outside the run's transaction, and hands
/// them to the next run in [`RunInput::sent`] when this run's state was never committed (the
/// process died), lets that run know what was already sent (see the `journal` module).
///
/// # Errors
///
/// As [`run`].
pub async fn run_journaled(
    client: &GraphClient,
    input: RunInput,
    options: &RunOptions,
    journal: &(dyn Fn(Vec<SentWrite>) + Sync),
) -> Result<RunOutput, RunError> {
    if options.mailbox.trim().is_empty() {
        return Err(RunError::Input {
            mailbox: options.mailbox.clone(),
            detail: "options.mailbox is empty".to_owned(),
        });
    }
    let RunInput {
        mut state,
        local,
        sent,
    } = input;
    state.apply_sent(&sent);
    let mut report = Report {
        dry_run: options.dry_run,
        ..Report::default()
    };
    let links = index_links(&state, options)?;
    let mut remote = pull(client, &state, &links, options, &mut report).await?;

    let mut excluded: HashSet<String> = state.excluded_local.iter().cloned().collect();
    let mut local = read_local(&local, &links, &excluded, options, &mut report);
    let config = PlanConfig {
        policy: options.policy,
        transaction_salt: options.transaction_salt.clone(),
        allow_emptied_side: false,
    };
    let mut statuses: Vec<Status> = state.links.iter().map(|l| l.status.clone()).collect();
    let unanswered = unanswered_before_deletion(&sent, &mut statuses, remote.listing.deleted_ids());
    fold_transaction_chains(&mut remote.listing, &local.listing, &statuses, options);
    recreates_confirm_deletions(&mut remote, &statuses, options, &mut report);
    let removed = attendee::settle_for_attendees(&statuses, &links, &mut local, &mut remote);
    report.attendee_notes.extend(removed);
    let plan_error = |source| RunError::Plan {
        mailbox: options.mailbox.clone(),
        source,
    };
    let mut planned =
        plan(&statuses, &local.listing, &remote.listing, &config).map_err(plan_error)?;

    let first = state.links.is_empty() && state.delta_link.is_none();
    if first && options.first_sync != FirstSync::All {
        let newly: HashSet<String> = planned
            .remote_ops()
            .iter()
            .filter_map(|op| match op {
                RemoteOp::Create { local_id, .. } => Some(local_id),
                _ => None,
            })
            // A meeting the owner attends is never created by us; it only waits for its
            // invitation, so the policy has nothing to hold back.
            .filter(|id| {
                local.events.get(*id).is_some_and(|(_, event)| {
                    event.is_organizer && !first_sync_allows(options.first_sync, event, options.now)
                })
            })
            .cloned()
            .collect();
        if !newly.is_empty() {
            report.excluded_by_first_sync = newly.len();
            let listing: Listing<LocalItem> = without(&local.listing, &newly);
            planned = plan(&statuses, &listing, &remote.listing, &config).map_err(plan_error)?;
            excluded.extend(newly);
        }
    }
    report_conflicts(&planned, &local, &remote, &mut report);
    report_unanswered(&planned, &unanswered, &local, &mut report);

    let prepared = prepare(
        client,
        &planned,
        &local,
        &remote,
        &links,
        options,
        &mut report,
    )
    .await;
    let local_prepared: Vec<LocalPrepared> = planned
        .local_ops()
        .iter()
        .map(|op| prepare_local(op, &remote))
        .collect();
    record_planned(
        &planned,
        &prepared,
        &local_prepared,
        &local,
        &remote,
        &mut report,
    );

    if options.dry_run {
        // What can already be seen to fail (an event Outlook or Odoo cannot hold) is said now.
        for (op, item) in planned.remote_ops().iter().zip(&prepared) {
            if let Some(note) = attendee_note(op, item) {
                report.attendee_notes.push(note);
            }
            match item.known_failure() {
                Some(_) if matches!(item.attendee, Attendee::Waiting) => {}
                Some(reason) => {
                    report
                        .failures
                        .push(remote_failure(op, reason, &item.label));
                }
                None => report.mails.add(item.mails),
            }
        }
        report.local.updated += write_backs(&planned, &prepared).count();
        for (op, item) in planned.local_ops().iter().zip(&local_prepared) {
            if let Outcome::Failed { reason } = &item.outcome {
                report
                    .failures
                    .push(local_failure(op, reason, item.label.clone()));
            }
        }
        count_planned(&planned, &prepared, &mut report);
        return Ok(RunOutput {
            local_ops: Vec::new(),
            state,
            retry_local: Vec::new(),
            report,
        });
    }

    let pushed = send(
        client,
        &prepared,
        &Journal::new(&planned, &prepared, journal),
        &mut report,
    )
    .await;
    let mut reports = Vec::new();
    let mut deleted_remote = pushed.deleted_occurrences.clone();
    for (index, outcome) in pushed.outcomes.iter().enumerate() {
        let op = &planned.remote_ops()[index];
        let item = &prepared[index];
        if !matches!(outcome, Outcome::Failed { .. }) || matches!(item.attendee, Attendee::Waiting)
        {
            if let Some(note) = attendee_note(op, item) {
                report.attendee_notes.push(note);
            }
        }
        match outcome {
            // Not a failure: retried (the engine lists it in retry_local) and reported as a note.
            Outcome::Failed { .. } if matches!(item.attendee, Attendee::Waiting) => {}
            Outcome::Failed { reason } => {
                report.remote.failed += 1;
                report
                    .failures
                    .push(remote_failure(op, reason, &prepared[index].label));
            }
            Outcome::Deleted => {
                report.remote.deleted += 1;
                if let RemoteOp::Delete { remote_id } = op {
                    deleted_remote.push(remote_id.clone());
                }
                report.mails.add(prepared[index].mails);
            }
            Outcome::Written(_) => {
                if prepared[index].sends() {
                    match op {
                        RemoteOp::Create { .. } => report.remote.created += 1,
                        _ => report.remote.updated += 1,
                    }
                    report.mails.add(prepared[index].mails);
                }
            }
        }
        reports.push(OpReport {
            op: OpRef::Remote(index),
            outcome: outcome.clone(),
        });
    }
    for (index, item) in local_prepared.iter().enumerate() {
        reports.push(OpReport {
            op: OpRef::Local(index),
            outcome: item.outcome.clone(),
        });
    }
    let (delta_link, unconfirmed) = match own_writes(&prepared, &pushed, &deleted_remote) {
        Some(own) => match echo_round(
            client,
            &remote.delta_link,
            &own,
            &options.mailbox,
            &mut report,
        )
        .await
        {
            // Graph may replicate a write late: a create missing from the round is read by id
            // next run, as when the round is discarded.
            Some((link, seen)) => {
                let mut missing = created(&planned, &pushed.outcomes);
                missing.retain(|id| !seen.contains(id));
                (link, missing)
            }
            // The link read before the writes never saw this run's creates: one a person deletes
            // before the next run would never be reported removed. The next run reads them by id
            // (those its delta lists as changed cost nothing more).
            None => (remote.delta_link, created(&planned, &pushed.outcomes)),
        },
        None => (remote.delta_link, Vec::new()),
    };
    let applied = apply_results(&planned, &reports).map_err(|source| RunError::Apply {
        mailbox: options.mailbox.clone(),
        source,
    })?;

    // The new links: statuses after the updates, each with the remote content as now known.
    let mut new_statuses = statuses;
    apply_updates(&mut new_statuses, &applied.updates);
    let mut snapshots: HashMap<String, Event> = remote.events.clone();
    snapshots.extend(pushed.written);
    let mut new_links: Vec<Link> = new_statuses
        .into_iter()
        .map(|status| {
            let remote_event = snapshots.get(&status.remote_id).cloned().or_else(|| {
                links
                    .get(status.remote_id.as_str())
                    .and_then(|l| l.remote.clone())
            });
            Link {
                status,
                remote: remote_event,
            }
        })
        .collect();

    let mut local_ops = local_writes(
        &planned,
        local_prepared,
        &mut new_links,
        &links,
        &state.links,
        &mut report,
    );
    local_ops.extend(organizer_versions(
        &planned,
        &prepared,
        &pushed.outcomes,
        &mut new_links,
        &state.links,
        &mut report,
    ));

    let mut pending_remote = applied.retry_remote;
    pending_remote.extend(remote.held);
    pending_remote.extend(unconfirmed);
    pending_remote.sort_unstable();
    pending_remote.dedup();
    let mut retry_local: Vec<i64> = applied
        .retry_local
        .iter()
        .filter_map(|id| id.parse().ok())
        .chain(local.held.iter().copied())
        .collect();
    retry_local.sort_unstable();
    retry_local.dedup();
    let mut excluded_local: Vec<String> = excluded.into_iter().collect();
    excluded_local.sort_unstable();
    log::info!(
        target: LOG,
        "[{}] outlook: {} created, {} updated, {} deleted, {} failed; odoo: {} to create, {} to update, {} to delete; {} mails; {} requests",
        options.mailbox, report.remote.created, report.remote.updated, report.remote.deleted,
        report.remote.failed, report.local.created, report.local.updated, report.local.deleted,
        report.mails.total(), report.requests
    );
    Ok(RunOutput {
        local_ops,
        state: SyncState {
            delta_link: Some(delta_link),
            links: new_links,
            pending_remote,
            excluded_local,
            deleted_remote,
        },
        retry_local,
        report,
    })
}

/// What this run wrote to Outlook, when it sent anything: the echo round reads it back.
fn own_writes(prepared: &[Prepared], pushed: &Pushed, deleted: &[String]) -> Option<OwnWrites> {
    if !prepared.iter().any(Prepared::sends) {
        return None;
    }
    let mut own = OwnWrites {
        deleted: deleted.iter().cloned().collect(),
        // An occurrence edited on its own shows in the round as an exception under its own id.
        hashes: pushed.edited_occurrences.clone(),
        ..OwnWrites::default()
    };
    for (item, outcome) in prepared.iter().zip(&pushed.outcomes) {
        if let (true, Outcome::Written(written)) = (item.sends(), outcome) {
            own.hashes.insert(written.id.clone(), written.hash.clone());
            if let Some(modified) = written.modified_at {
                own.modified.insert(written.id.clone(), modified);
            }
        }
    }
    Some(own)
}

/// The Outlook ids of the events this run created.
fn created(planned: &Plan, outcomes: &[Outcome]) -> Vec<String> {
    planned
        .remote_ops()
        .iter()
        .zip(outcomes)
        .filter_map(|(op, outcome)| match (op, outcome) {
            (RemoteOp::Create { .. }, Outcome::Written(item)) => Some(item.id.clone()),
            _ => None,
        })
        .collect()
}

/// An event created under a later id of a create's `transactionId` chain (see
/// `push::recreate_deleted_copies`) is shown to the engine under the chain's first id, the one the
/// engine derives, so it links that event to its local item instead of copying it back to Odoo.
fn fold_transaction_chains(
    remote: &mut Listing<RemoteItem>,
    local: &Listing<LocalItem>,
    statuses: &[Status],
    options: &RunOptions,
) {
    let items = match remote {
        Listing::Full { items } => items,
        Listing::Delta { changed, .. } => changed,
    };
    if items.iter().all(|item| item.transaction_id.is_none()) {
        return;
    }
    let locals = match local {
        Listing::Full { items } => items,
        Listing::Delta { changed, .. } => changed,
    };
    let salt = options.transaction_salt.as_str();
    let firsts = locals
        .iter()
        .map(|item| item.id.as_str())
        .chain(local.deleted_ids().iter().map(String::as_str))
        .map(|id| transaction_id(salt, id, None))
        .chain(
            statuses
                .iter()
                .map(|s| transaction_id(salt, &s.local_id, Some(&s.remote_id))),
        );
    let mut chained: HashMap<String, String> = HashMap::new();
    for first in firsts {
        let mut id = first.clone();
        for _ in 0..MAX_TRANSACTION_CHAIN {
            id = next_transaction_id(&id);
            chained.insert(id.clone(), first.clone());
        }
    }
    for item in items.iter_mut() {
        if let Some(first) = item.transaction_id.as_ref().and_then(|t| chained.get(t)) {
            item.transaction_id = Some(first.clone());
        }
    }
}

/// Our re-create of a pair (an event carrying the pair's re-create `transactionId`) exists only
/// because an earlier run, whose result was not stored, confirmed the pair's Outlook event
/// deleted. When reading that event failed this run, it is gone all the same: shown as deleted,
/// the engine links the pair to its re-create instead of copying the re-create into Odoo as a
/// second event.
fn recreates_confirm_deletions(
    remote: &mut RemoteView,
    statuses: &[Status],
    options: &RunOptions,
    report: &mut Report,
) {
    if remote.held.is_empty() {
        return;
    }
    let items = match &remote.listing {
        Listing::Full { items } | Listing::Delta { changed: items, .. } => items,
    };
    let recreated: HashSet<&str> = items
        .iter()
        .filter_map(|item| item.transaction_id.as_deref())
        .collect();
    let salt = options.transaction_salt.as_str();
    let gone: Vec<String> = statuses
        .iter()
        .filter(|s| {
            remote.held.contains(&s.remote_id)
                && recreated
                    .contains(transaction_id(salt, &s.local_id, Some(&s.remote_id)).as_str())
        })
        .map(|s| s.remote_id.clone())
        .collect();
    for id in gone {
        match &mut remote.listing {
            Listing::Full { items } => items.retain(|item| item.id != id),
            Listing::Delta {
                changed, deleted, ..
            } => {
                changed.retain(|item| item.id != id);
                deleted.push(id.clone());
            }
        }
        remote.held.retain(|held| *held != id);
        report
            .failures
            .retain(|f| !(f.action == "read" && f.remote_id.as_deref() == Some(id.as_str())));
    }
}

/// Hands each local write the link it settles (taken out of `new_links`, which the state keeps)
/// and the link to restore if the addon cannot apply it.
fn local_writes(
    planned: &Plan,
    local_prepared: Vec<LocalPrepared>,
    new_links: &mut Vec<Link>,
    links: &HashMap<&str, &Link>,
    old_links: &[Link],
    report: &mut Report,
) -> Vec<LocalWrite> {
    let mut local_ops = Vec::new();
    for (op, item) in planned.local_ops().iter().zip(local_prepared) {
        if let Outcome::Failed { reason } = &item.outcome {
            report.local.failed += 1;
            report
                .failures
                .push(local_failure(op, reason, item.label.clone()));
            continue;
        }
        let (action, remote_id, local_id) = match op {
            LocalOp::Create { remote_id } => (LocalAction::Create, Some(remote_id.clone()), None),
            LocalOp::Update {
                remote_id,
                local_id,
            } => (
                LocalAction::Update,
                Some(remote_id.clone()),
                Some(local_id.clone()),
            ),
            LocalOp::Delete { local_id } => (LocalAction::Delete, None, Some(local_id.clone())),
        };
        let link = match action {
            LocalAction::Create => remote_id.as_deref().map(pending_local_id),
            LocalAction::Update => local_id.clone(),
            LocalAction::Delete => None,
        }
        .and_then(|key| take_link(new_links, &key))
        .map(|mut link| {
            if action == LocalAction::Create {
                link.status.local_id.clear();
            }
            link
        });
        let previous = match action {
            LocalAction::Create => remote_id
                .as_deref()
                .and_then(|id| links.get(id))
                .map(|l| (*l).clone()),
            _ => local_id
                .as_deref()
                .and_then(|id| old_links.iter().find(|l| l.status.local_id == id))
                .cloned(),
        };
        match action {
            LocalAction::Create => report.local.created += 1,
            LocalAction::Update => report.local.updated += 1,
            LocalAction::Delete => report.local.deleted += 1,
        }
        local_ops.push(LocalWrite {
            action,
            remote_id,
            local_id: local_id.as_deref().and_then(|id| id.parse().ok()),
            values: item.values,
            link,
            previous,
        });
    }
    local_ops
}

/// The stored links by remote id, with a precise error for a duplicate.
fn index_links<'a>(
    state: &'a SyncState,
    options: &RunOptions,
) -> Result<HashMap<&'a str, &'a Link>, RunError> {
    let mut by_remote = HashMap::new();
    for link in &state.links {
        if by_remote
            .insert(link.status.remote_id.as_str(), link)
            .is_some()
        {
            return Err(RunError::Input {
                mailbox: options.mailbox.clone(),
                detail: format!(
                    "state.links: remote id {:?} is linked more than once",
                    link.status.remote_id
                ),
            });
        }
    }
    Ok(by_remote)
}

fn take_link(links: &mut Vec<Link>, local_id: &str) -> Option<Link> {
    let index = links.iter().position(|l| l.status.local_id == local_id)?;
    Some(links.swap_remove(index))
}

/// A local op with its values and the outcome to report to the engine (assuming the addon applies
/// it; the addon restores [`LocalWrite::previous`] if it cannot).
struct LocalPrepared {
    values: Option<OdooEvent>,
    outcome: Outcome,
    label: Option<String>,
}

fn prepare_local(op: &LocalOp, remote: &RemoteView) -> LocalPrepared {
    let (remote_id, target) = match op {
        LocalOp::Delete { .. } => {
            return LocalPrepared {
                values: None,
                outcome: Outcome::Deleted,
                label: None,
            };
        }
        LocalOp::Create { remote_id } => (remote_id, pending_local_id(remote_id)),
        LocalOp::Update {
            remote_id,
            local_id,
        } => (remote_id, local_id.clone()),
    };
    let Some(event) = remote.events.get(remote_id) else {
        return LocalPrepared {
            values: None,
            outcome: Outcome::Failed {
                reason: format!("Outlook event {remote_id} was not read this run"),
            },
            label: None,
        };
    };
    let label = Some(event.label().to_owned());
    match local_values(event) {
        Ok((values, hash)) => LocalPrepared {
            values: Some(values),
            outcome: Outcome::Written(WrittenItem {
                id: target,
                hash,
                modified_at: None,
                ical_uid: event.ical_uid.clone(),
            }),
            label,
        },
        Err(reason) => LocalPrepared {
            values: None,
            outcome: Outcome::Failed { reason },
            label,
        },
    }
}

fn remote_failure(op: &RemoteOp, reason: &str, label: &Option<String>) -> ItemFailure {
    let (action, local_id, remote_id) = match op {
        RemoteOp::Create { local_id, .. } => ("create", Some(local_id.clone()), None),
        RemoteOp::Update {
            local_id,
            remote_id,
        } => ("update", Some(local_id.clone()), Some(remote_id.clone())),
        RemoteOp::Delete { remote_id } => ("delete", None, Some(remote_id.clone())),
    };
    ItemFailure {
        side: Side::Remote,
        action: action.to_owned(),
        local_id,
        remote_id,
        label: label.clone(),
        reason: reason.to_owned(),
    }
}

fn local_failure(op: &LocalOp, reason: &str, label: Option<String>) -> ItemFailure {
    let (action, local_id, remote_id) = match op {
        LocalOp::Create { remote_id } => ("create", None, Some(remote_id.clone())),
        LocalOp::Update {
            remote_id,
            local_id,
        } => ("update", Some(local_id.clone()), Some(remote_id.clone())),
        LocalOp::Delete { local_id } => ("delete", Some(local_id.clone()), None),
    };
    ItemFailure {
        side: Side::Local,
        action: action.to_owned(),
        local_id,
        remote_id,
        label,
        reason: reason.to_owned(),
    }
}

fn report_conflicts(plan: &Plan, local: &LocalView, remote: &RemoteView, report: &mut Report) {
    for conflict in plan.conflicts() {
        let loser = conflict.loser();
        let lost = match conflict.winner {
            Side::Local => remote
                .events
                .get(&loser.id)
                .and_then(|e| serde_json::to_value(e).ok()),
            Side::Remote => local
                .events
                .get(&loser.id)
                .and_then(|(values, _)| serde_json::to_value(values).ok()),
        };
        report.conflicts.push(ConflictReport {
            conflict: conflict.clone(),
            lost,
        });
    }
}

/// Says which Odoo events are deleted because of an Outlook deletion that followed an edit whose
/// delivery is unknown (the journal's policy), with the Odoo content that goes with them.
fn report_unanswered(
    plan: &Plan,
    unanswered: &[StatusKey],
    local: &LocalView,
    report: &mut Report,
) {
    for key in unanswered {
        let deleted = plan
            .local_ops()
            .iter()
            .any(|op| matches!(op, LocalOp::Delete { local_id } if *local_id == key.local_id));
        if !deleted {
            // Edited again in Odoo since: the edit beats the deletion as usual.
            continue;
        }
        let event = local.events.get(&key.local_id);
        report.notices.push(Notice {
            kind: NoticeKind::DeletedAfterUnansweredEdit,
            local_id: Some(key.local_id.clone()),
            remote_id: Some(key.remote_id.clone()),
            label: event.map(|(_, e)| e.label().to_owned()),
            reason: "deleted in Outlook after an Odoo edit was sent to it, in a sync run that \
                     stopped before Outlook confirmed the edit; the deletion is taken as the \
                     later change and the Odoo event is deleted (its content is kept in this \
                     report)"
                .to_owned(),
            lost: event.and_then(|(values, _)| serde_json::to_value(values).ok()),
        });
    }
}

fn record_planned(
    plan: &Plan,
    prepared: &[Prepared],
    local_prepared: &[LocalPrepared],
    local: &LocalView,
    remote: &RemoteView,
    report: &mut Report,
) {
    let local_label = |id: &str| local.events.get(id).map(|(_, e)| e.label().to_owned());
    let remote_label = |id: &str| remote.events.get(id).map(|e| e.label().to_owned());
    for (op, item) in plan.remote_ops().iter().zip(prepared) {
        if matches!(item.attendee, Attendee::Waiting) {
            // Nothing will be written for it: it is an attendee note, not an operation.
            continue;
        }
        let (action, local_id, remote_id) = match op {
            RemoteOp::Create { local_id, .. } => ("create", Some(local_id.clone()), None),
            RemoteOp::Update {
                local_id,
                remote_id,
            } => ("update", Some(local_id.clone()), Some(remote_id.clone())),
            RemoteOp::Delete { remote_id } => ("delete", None, Some(remote_id.clone())),
        };
        report.planned.push(PlannedOp {
            side: Side::Remote,
            action: action.to_owned(),
            label: item
                .label
                .clone()
                .or_else(|| remote_id.as_deref().and_then(remote_label)),
            local_id,
            remote_id,
            mails: item.mails,
        });
    }
    for back in write_backs(plan, prepared) {
        report.planned.push(PlannedOp {
            side: Side::Local,
            action: "update".to_owned(),
            local_id: Some(back.local_id.to_owned()),
            remote_id: Some(back.remote_id.to_owned()),
            label: prepared[back.index].label.clone(),
            mails: Default::default(),
        });
    }
    for (op, item) in plan.local_ops().iter().zip(local_prepared) {
        let (action, local_id, remote_id) = match op {
            LocalOp::Create { remote_id } => ("create", None, Some(remote_id.clone())),
            LocalOp::Update {
                remote_id,
                local_id,
            } => ("update", Some(local_id.clone()), Some(remote_id.clone())),
            LocalOp::Delete { local_id } => ("delete", Some(local_id.clone()), None),
        };
        report.planned.push(PlannedOp {
            side: Side::Local,
            action: action.to_owned(),
            label: item
                .label
                .clone()
                .or_else(|| local_id.as_deref().and_then(local_label)),
            local_id,
            remote_id,
            mails: Default::default(),
        });
    }
}

/// The dry run's counts: as a run would report them (a remote op counts when it writes).
fn count_planned(plan: &Plan, prepared: &[Prepared], report: &mut Report) {
    for (op, item) in plan.remote_ops().iter().zip(prepared) {
        if !item.sends() {
            continue;
        }
        match op {
            RemoteOp::Create { .. } => report.remote.created += 1,
            RemoteOp::Update { .. } => report.remote.updated += 1,
            RemoteOp::Delete { .. } => report.remote.deleted += 1,
        }
    }
    for op in plan.local_ops() {
        match op {
            LocalOp::Create { .. } => report.local.created += 1,
            LocalOp::Update { .. } => report.local.updated += 1,
            LocalOp::Delete { .. } => report.local.deleted += 1,
        }
    }
}

/// The organizer rules' report line for a remote op, if it has one.
fn attendee_note(op: &RemoteOp, item: &Prepared) -> Option<AttendeeNote> {
    match (&item.attendee, op) {
        (Attendee::Waiting, RemoteOp::Create { local_id, .. }) => {
            Some(attendee::waiting_note(local_id, item.label.clone()))
        }
        (
            Attendee::Copy {
                kept, first_link, ..
            },
            RemoteOp::Update {
                local_id,
                remote_id,
            },
        ) if !kept.is_empty() => Some(attendee::kept_note(
            local_id,
            remote_id,
            item.label.clone(),
            kept,
            *first_link,
        )),
        _ => None,
    }
}

/// A write of the organizer's version back to Odoo, planned beside an attendee copy's update.
struct WriteBack<'a> {
    index: usize,
    local_id: &'a str,
    remote_id: &'a str,
    values: &'a OdooEvent,
    hash: &'a str,
}

fn write_backs<'a>(
    planned: &'a Plan,
    prepared: &'a [Prepared],
) -> impl Iterator<Item = WriteBack<'a>> {
    planned
        .remote_ops()
        .iter()
        .zip(prepared)
        .enumerate()
        .filter_map(|(index, (op, item))| match (op, &item.attendee) {
            (
                RemoteOp::Update {
                    local_id,
                    remote_id,
                },
                Attendee::Copy {
                    local: Some(back), ..
                },
            ) => Some(WriteBack {
                index,
                local_id,
                remote_id,
                values: &back.0,
                hash: &back.1,
            }),
            _ => None,
        })
}

/// The Odoo writes that put the organizer's meeting fields back on events the owner attends,
/// for the attendee updates that succeeded. Each takes its pair's new link, with the hash of what
/// Odoo will hold; a failed write keeps the previous link like any other.
fn organizer_versions(
    planned: &Plan,
    prepared: &[Prepared],
    outcomes: &[Outcome],
    new_links: &mut Vec<Link>,
    old_links: &[Link],
    report: &mut Report,
) -> Vec<LocalWrite> {
    let mut writes = Vec::new();
    for back in write_backs(planned, prepared) {
        if !matches!(outcomes.get(back.index), Some(Outcome::Written(_))) {
            continue;
        }
        let Some(mut link) = take_link(new_links, back.local_id) else {
            log::warn!(
                target: LOG,
                "no link for Odoo event {} after updating its copy {}; the organizer's version is written next run",
                back.local_id, back.remote_id
            );
            continue;
        };
        back.hash.clone_into(&mut link.status.local_hash);
        report.local.updated += 1;
        writes.push(LocalWrite {
            action: LocalAction::Update,
            remote_id: Some(back.remote_id.to_owned()),
            local_id: back.local_id.parse().ok(),
            values: Some(back.values.clone()),
            link: Some(link),
            previous: old_links
                .iter()
                .find(|l| l.status.local_id == back.local_id)
                .cloned(),
        });
    }
    writes
}
