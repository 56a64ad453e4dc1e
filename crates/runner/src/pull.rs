//! Reading the Outlook side: one delta round, collapsed to what the engine compares (series masters
//! and single events), with every unreadable item reported rather than dropped.
//!
//! calendarView delta returns occurrences, never masters. A series must be ONE item on each side
//! (edits go through the master), so occurrences name their master, and each master is read once,
//! all of them in `$batch` envelopes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::future::join_all;
use outlook_engine::{Listing, RemoteItem, Side};
use outlook_graph::{BatchRequest, DeltaItem, DeltaOutcome, DeltaStart, GraphClient, GraphError};
use outlook_model::graph::event_from_graph;
use outlook_model::{Event, EventKind};
use serde_json::Value;

use crate::error::RunError;
use crate::identity::{
    awaited_key, content_hash, event_path, graph_modified_ms, graph_str, match_key,
};
use crate::output::{ItemFailure, Report, Unsupported};
use crate::state::{Link, RunOptions, SyncState};

const LOG: &str = "outlook_sync::runner::pull";

/// The remote side as this run sees it.
pub(crate) struct RemoteView {
    /// What the engine compares.
    pub(crate) listing: Listing<RemoteItem>,
    /// The content of every event read this run, by id.
    pub(crate) events: HashMap<String, Event>,
    /// The new delta link, read before any write (the echo round may move it past our writes).
    pub(crate) delta_link: String,
    /// Ids that could not be read: listed again next run.
    pub(crate) held: Vec<String>,
}

enum Seen {
    Upsert(Value),
    Removed,
}

/// Runs the delta round and reads the masters and retried ids it needs.
pub(crate) async fn pull(
    client: &GraphClient,
    state: &SyncState,
    links: &HashMap<&str, &Link>,
    options: &RunOptions,
    report: &mut Report,
) -> Result<RemoteView, RunError> {
    let pull_error = |source: GraphError| RunError::Pull {
        mailbox: options.mailbox.clone(),
        source,
    };
    let window = DeltaStart::Window {
        start: options.window_start,
        end: options.window_end,
    };
    let mut outcome = match &state.delta_link {
        Some(link) => {
            let outcome = client
                .delta(DeltaStart::Link(link.clone()))
                .await
                .map_err(pull_error)?;
            if let DeltaOutcome::ResyncRequired { code } = &outcome {
                log::info!(target: LOG, "[{}] delta link expired ({code}); reading the window again", options.mailbox);
                report.requests += 1;
                report.resync_reason = Some(code.clone());
            }
            outcome
        }
        None => {
            report.full_round = true;
            client.delta(window.clone()).await.map_err(pull_error)?
        }
    };
    if matches!(outcome, DeltaOutcome::ResyncRequired { .. }) {
        report.full_round = true;
        outcome = client.delta(window).await.map_err(pull_error)?;
    }
    let (items, delta_link, pages) = match outcome {
        DeltaOutcome::Changes {
            items,
            delta_link,
            pages,
        } => (items, delta_link, pages),
        DeltaOutcome::ResyncRequired { code } => {
            return Err(pull_error(GraphError::Payload {
                context: "delta over the window".to_owned(),
                detail: format!("a fresh round answered resync required ({code})"),
            }));
        }
    };
    report.requests += pages as usize;
    let full = report.full_round;

    // Later entries win: a delta may replay an item, and a removal after an upsert is final.
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut masters: BTreeSet<String> = BTreeSet::new();
    for item in items {
        match item {
            DeltaItem::Removed { id } => {
                seen.insert(id, Seen::Removed);
            }
            DeltaItem::Upsert(json) => {
                let kind = graph_str(&json, "type").unwrap_or("singleInstance");
                if matches!(kind, "occurrence" | "exception") {
                    if let Some(master) = graph_str(&json, "seriesMasterId") {
                        masters.insert(master.to_owned());
                        continue;
                    }
                }
                match graph_str(&json, "id") {
                    Some(id) => {
                        seen.insert(id.to_owned(), Seen::Upsert(json));
                    }
                    None => report.failures.push(ItemFailure {
                        side: Side::Remote,
                        action: "read".to_owned(),
                        local_id: None,
                        remote_id: None,
                        label: graph_str(&json, "subject").map(outlook_model::error::clip),
                        reason: "a delta item has no id".to_owned(),
                    }),
                }
            }
        }
    }

    // What to read by id: series masters (with their deleted and edited occurrences, which only a
    // master read reveals: a deleted occurrence is a removed id the delta does not tie to a
    // series), ids a previous run could not carry over, and linked items whose absence must be
    // confirmed before it is taken for a deletion.
    let mut series: BTreeSet<String> = masters;
    let mut plain: BTreeSet<String> = BTreeSet::new();
    // Graph also says `@removed` for an event that merely left the window (moved out of it, or
    // changed while outside it): only a read answering `ErrorItemNotFound` proves a deletion.
    let confirming: BTreeSet<String> = seen
        .iter()
        .filter(|(id, entry)| matches!(entry, Seen::Removed) && links.contains_key(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    for id in confirming.iter().chain(&state.pending_remote) {
        if links.get(id.as_str()).is_some_and(|link| is_series(link)) {
            series.insert(id.clone());
        } else {
            plain.insert(id.clone());
        }
    }
    let unknown_removals = seen.iter().any(|(id, s)| {
        matches!(s, Seen::Removed)
            && !links.contains_key(id.as_str())
            && !state.deleted_remote.contains(id)
    });
    if full || unknown_removals {
        // A full round lists only the window: a linked event outside it is not deleted. Removed
        // ids we never linked may be occurrences of a deleted (or thinned) series: Graph does not
        // say which series an occurrence belonged to, so the linked series are read again.
        for (id, link) in links {
            match link.remote.as_ref().map(|event| event.recurrence.is_some()) {
                Some(true) => {
                    series.insert((*id).to_owned());
                }
                Some(false) if full => {
                    plain.insert((*id).to_owned());
                }
                None => {
                    plain.insert((*id).to_owned());
                }
                Some(false) => {}
            }
        }
    }
    series.retain(|id| !matches!(seen.get(id), Some(Seen::Upsert(_))));
    plain.retain(|id| !series.contains(id) && !matches!(seen.get(id), Some(Seen::Upsert(_))));
    let mut held = Vec::new();
    let mut read: Vec<(String, Result<Value, GraphError>)> = Vec::new();
    if !series.is_empty() {
        report.requests += series.len();
        let reads = series.iter().map(|id| client.get_series_master(id));
        read.extend(series.iter().cloned().zip(join_all(reads).await));
    }
    if !plain.is_empty() {
        let ids: Vec<String> = plain.into_iter().collect();
        let requests = ids
            .iter()
            .map(|id| BatchRequest {
                method: outlook_graph::Method::GET,
                url: event_path(id),
                body: None,
                depends_on: None,
            })
            .collect::<Vec<_>>();
        report.requests += requests.len().div_ceil(outlook_graph::MAX_BATCH_SIZE);
        let results = client.batch(requests).await;
        read.extend(ids.into_iter().zip(results).map(|(id, result)| {
            let body = result.and_then(|response| {
                response.body.ok_or_else(|| GraphError::Payload {
                    context: format!("event {id}"),
                    detail: "the event came back without a body".to_owned(),
                })
            });
            (id, body)
        }));
    }
    for (id, result) in read {
        match result {
            // Still there (in the window or not): the same event, compared by content like any
            // other. A cancelled meeting comes back as such and is archived in Odoo, as when the
            // delta itself reports the cancellation.
            Ok(body) => {
                seen.insert(id, Seen::Upsert(body));
            }
            Err(error) if is_item_not_found(&error) => {
                seen.insert(id, Seen::Removed);
            }
            Err(error) => {
                // Unknown is not gone: whatever the delta said, nothing is deleted this run.
                seen.remove(&id);
                let reason = if confirming.contains(&id) {
                    format!(
                        "Outlook reported the event as removed, but reading it to confirm failed \
                         ({error}); nothing was deleted, it is read again next run"
                    )
                } else {
                    error.to_string()
                };
                report.failures.push(ItemFailure {
                    label: links
                        .get(id.as_str())
                        .and_then(|link| link.remote.as_ref())
                        .map(|event| event.label().to_owned()),
                    ..read_failure(&id, reason)
                });
                held.push(id);
            }
        }
    }

    let mut items = Vec::new();
    let mut deleted = Vec::new();
    let mut events = HashMap::new();
    for (id, entry) in seen {
        match entry {
            Seen::Removed => {
                if !full {
                    deleted.push(id);
                }
            }
            Seen::Upsert(json) => match event_from_graph(&json) {
                Ok(read)
                    if matches!(
                        read.event.kind,
                        EventKind::Occurrence | EventKind::Exception
                    ) =>
                {
                    // Only reachable through a retried id that named an occurrence.
                    report.unsupported.push(Unsupported {
                        remote_id: id,
                        label: Some(read.event.label().to_owned()),
                        reason: "a single occurrence of a series is not synced on its own"
                            .to_owned(),
                    });
                }
                Ok(read) => {
                    for warning in &read.warnings {
                        log::warn!(target: LOG, "[{}] {warning}", options.mailbox);
                    }
                    items.push(RemoteItem {
                        id: read.id.clone(),
                        hash: content_hash(&read.event),
                        ical_uid: read.event.ical_uid.clone(),
                        match_key: Some(match_key(&read.event, &options.mailbox)),
                        awaited_key: awaited_key(&read.event),
                        transaction_id: graph_str(&json, "transactionId").map(str::to_owned),
                        modified_at: graph_modified_ms(&json),
                    });
                    events.insert(read.id, read.event);
                }
                Err(error) => {
                    report.failures.push(ItemFailure {
                        label: graph_str(&json, "subject").map(outlook_model::error::clip),
                        ..read_failure(&id, error.to_string())
                    });
                    held.push(id);
                }
            },
        }
    }
    if full {
        // An item that could not be read is not a deletion: keep it as last synced.
        for id in &held {
            if let Some(link) = links.get(id.as_str()) {
                items.push(RemoteItem {
                    id: id.clone(),
                    hash: link.status.remote_hash.clone(),
                    ical_uid: link.status.ical_uid.clone(),
                    match_key: None,
                    awaited_key: None,
                    transaction_id: None,
                    modified_at: link.status.remote_mtime,
                });
            }
        }
    }
    let listing = if full {
        Listing::full(items)
    } else {
        Listing::delta(items, deleted)
    };
    Ok(RemoteView {
        listing,
        events,
        delta_link,
        held,
    })
}

/// Whether a link is to a series master as last synced (read with its occurrences' exceptions).
fn is_series(link: &Link) -> bool {
    link.remote
        .as_ref()
        .is_some_and(|event| event.recurrence.is_some())
}

/// A read by id proves a deletion only with Graph's "not found" for an item; any other 404 (a
/// routing or tenant problem) says nothing about the event.
fn is_item_not_found(error: &GraphError) -> bool {
    matches!(error, GraphError::Api { status: 404, code, .. }
        if code.eq_ignore_ascii_case("ErrorItemNotFound"))
}

fn read_failure(id: &str, reason: String) -> ItemFailure {
    ItemFailure {
        side: Side::Remote,
        action: "read".to_owned(),
        local_id: None,
        remote_id: Some(id.to_owned()),
        label: None,
        reason,
    }
}
