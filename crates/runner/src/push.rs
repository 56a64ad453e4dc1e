//! Writing the Outlook side: the plan's remote operations as `$batch` items (creates with their
//! `transactionId`, minimal PATCHes, deletes), each with its own outcome.

use std::collections::HashMap;

use outlook_engine::{Outcome, Plan, RemoteOp, WrittenItem};
use outlook_graph::{
    BatchObserver, BatchRequest, BatchResponse, GraphClient, GraphError, MAX_BATCH_SIZE, Method,
};
use outlook_model::Event;
use outlook_model::graph::{diff_to_graph_patch, event_from_graph, to_graph_create};
use outlook_model::odoo::OdooEvent;
use serde_json::{Value, json};

use crate::attendee::{self, AttendeeWrite};
use crate::identity::{content_hash, event_path, graph_modified_ms};
use crate::journal::Journal;
use crate::local::LocalView;
use crate::mails;
use crate::occurrences::{self, SeriesWrite};
use crate::output::{Mails, Report};
use crate::pull::RemoteView;
use crate::state::{Link, RunOptions};

const LOG: &str = "outlook_sync::runner";

/// One remote op, prepared.
pub(crate) struct Prepared {
    /// The request to send, or the outcome known without sending one.
    pub(crate) action: Action,
    /// Mails the write causes when it succeeds.
    pub(crate) mails: Mails,
    /// The event's label for reports.
    pub(crate) label: Option<String>,
    /// What the organizer rules decided for a meeting the owner attends.
    pub(crate) attendee: Attendee,
    /// For a series: its deleted occurrences, written after the master.
    pub(crate) series: Option<SeriesWrite>,
}

pub(crate) enum Action {
    /// One request, whose answer gives the outcome.
    Send(BatchRequest),
    /// Writes to an attendee's copy (personal fields, the answer): none of them returns the copy
    /// as it ends up, so the outcome is the copy as expected after them.
    Respond {
        requests: Vec<BatchRequest>,
        remote_id: String,
        expected: Box<Event>,
        modified_at: Option<i64>,
    },
    /// No request: the outcome is known.
    Done(Outcome),
}

impl Prepared {
    /// Whether the op writes to Outlook.
    pub(crate) fn sends(&self) -> bool {
        if self.series.as_ref().is_some_and(SeriesWrite::writes) {
            return true;
        }
        match &self.action {
            Action::Send(_) => true,
            Action::Respond { requests, .. } => !requests.is_empty(),
            Action::Done(_) => false,
        }
    }

    /// The reason of an outcome known before sending anything, if it is a failure.
    pub(crate) fn known_failure(&self) -> Option<&str> {
        match &self.action {
            Action::Done(Outcome::Failed { reason }) => Some(reason),
            _ => None,
        }
    }
}

/// The organizer rules' part of a prepared op.
#[derive(Default)]
pub(crate) enum Attendee {
    /// Not a meeting the owner attends, or nothing to say.
    #[default]
    None,
    /// An Odoo event the owner attends, not created in Outlook: it waits for the invitation.
    Waiting,
    /// An attendee's copy: Odoo values to write back (the organizer's meeting fields), the
    /// meeting fields changed in Odoo that were not sent, and whether the pair is being linked
    /// (an awaited event meeting its invitation: `kept` are the fields where Odoo differed).
    Copy {
        local: Option<Box<(OdooEvent, String)>>,
        kept: Vec<&'static str>,
        first_link: bool,
    },
}

/// What the remote writes produced.
pub(crate) struct Pushed {
    /// One per remote op, in plan order.
    pub(crate) outcomes: Vec<Outcome>,
    /// Events as Outlook returned them after a create or update, by id.
    pub(crate) written: HashMap<String, Event>,
    /// Ids of the occurrences deleted (their removal in the next delta is our own echo).
    pub(crate) deleted_occurrences: Vec<String>,
    /// Content hash of each occurrence edited on its own, by id (its next delta entry is our echo).
    pub(crate) edited_occurrences: HashMap<String, String>,
}

/// Turns each remote op into a request (or an outcome, when no request is needed or possible).
/// Updates of items whose last-synced content is unknown read it first, in one batch.
pub(crate) async fn prepare(
    client: &GraphClient,
    plan: &Plan,
    local: &LocalView,
    remote: &RemoteView,
    links: &HashMap<&str, &Link>,
    options: &RunOptions,
    report: &mut Report,
) -> Vec<Prepared> {
    let unknown: Vec<String> = plan
        .remote_ops()
        .iter()
        .filter_map(|op| match op {
            RemoteOp::Update { remote_id, .. }
                if !remote.events.contains_key(remote_id)
                    && links
                        .get(remote_id.as_str())
                        .is_none_or(|l| l.remote.is_none()) =>
            {
                Some(remote_id.clone())
            }
            _ => None,
        })
        .collect();
    let mut fetched: HashMap<String, Result<Event, String>> = HashMap::new();
    if !unknown.is_empty() {
        let requests = unknown
            .iter()
            .map(|id| BatchRequest {
                method: Method::GET,
                url: event_path(id),
                body: None,
                depends_on: None,
            })
            .collect::<Vec<_>>();
        report.requests += requests.len().div_ceil(MAX_BATCH_SIZE);
        for (id, result) in unknown.into_iter().zip(client.batch(requests).await) {
            let event = result
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    r.body
                        .ok_or_else(|| "the event came back without a body".to_owned())
                })
                .and_then(|body| event_from_graph(&body).map_err(|e| e.to_string()))
                .map(|read| read.event);
            fetched.insert(id, event);
        }
    }

    plan.remote_ops()
        .iter()
        .map(|op| prepare_one(op, local, remote, links, &fetched, options))
        .collect()
}

fn failed(reason: impl Into<String>) -> Action {
    Action::Done(Outcome::Failed {
        reason: reason.into(),
    })
}

/// A prepared op outside the organizer rules.
fn prepared(action: Action, mails: Mails, label: Option<String>) -> Prepared {
    Prepared {
        action,
        mails,
        label,
        attendee: Attendee::None,
        series: None,
    }
}

/// A prepared write to a series (or a single event, then `series` is `None`): the mails of the
/// occurrences it deletes or edits are added to those of the master's write. A series whose
/// occurrence edits cannot be written fails before anything is sent.
fn prepared_series(
    action: Action,
    mails: Mails,
    label: Option<String>,
    series: Option<Result<SeriesWrite, String>>,
    event: &Event,
    mailbox: &str,
) -> Prepared {
    let series = match series.transpose() {
        Ok(series) => series,
        Err(reason) => return prepared(failed(reason), Mails::default(), label),
    };
    let mut mails = mails;
    if let Some(series) = &series {
        mails.add(series.mails(event, mailbox));
    }
    Prepared {
        series,
        ..prepared(action, mails, label)
    }
}

fn prepare_one(
    op: &RemoteOp,
    local: &LocalView,
    remote: &RemoteView,
    links: &HashMap<&str, &Link>,
    fetched: &HashMap<String, Result<Event, String>>,
    options: &RunOptions,
) -> Prepared {
    let local_event = |id: &str| local.events.get(id).map(|(_, event)| event);
    match op {
        RemoteOp::Create {
            local_id,
            transaction_id,
        } => {
            let Some(event) = local_event(local_id) else {
                return missing(local_id);
            };
            let label = Some(event.label().to_owned());
            if attendee::is_attendee(Some(event), None) {
                // Creating it would make the owner organizer of a second meeting and invite
                // everyone again: it waits for the organizer's invitation.
                return Prepared {
                    action: failed(attendee::WAITING_REASON),
                    mails: Mails::default(),
                    label,
                    attendee: Attendee::Waiting,
                    series: None,
                };
            }
            match to_graph_create(event) {
                Ok(mut body) => {
                    body.insert("transactionId".to_owned(), json!(transaction_id));
                    prepared_series(
                        Action::Send(BatchRequest {
                            method: Method::POST,
                            url: "/me/events".to_owned(),
                            body: Some(Value::Object(body)),
                            depends_on: None,
                        }),
                        mails::for_create(event, &options.mailbox),
                        label,
                        SeriesWrite::plan(None, event, None),
                        event,
                        &options.mailbox,
                    )
                }
                Err(error) => prepared(failed(error.to_string()), Mails::default(), label),
            }
        }
        RemoteOp::Update {
            local_id,
            remote_id,
        } => {
            let Some((values, new)) = local.events.get(local_id) else {
                return missing(local_id);
            };
            let label = Some(new.label().to_owned());
            let link = links.get(remote_id.as_str());
            // The remote content now: read this run, else as last synced, else read just now.
            let old = match remote.events.get(remote_id) {
                Some(event) => Ok(event),
                None => match link.and_then(|l| l.remote.as_ref()) {
                    Some(event) => Ok(event),
                    None => match fetched.get(remote_id) {
                        Some(Ok(event)) => Ok(event),
                        Some(Err(reason)) => {
                            Err(format!("reading the Outlook event failed: {reason}"))
                        }
                        None => Err("the Outlook event's content is unknown".to_owned()),
                    },
                },
            };
            let old = match old {
                Ok(old) => old,
                Err(reason) => return prepared(failed(reason), Mails::default(), label),
            };
            let modified_at = link.and_then(|l| l.status.remote_mtime);
            if attendee::is_attendee(Some(new), Some(old)) {
                let synced = link.and_then(|l| l.remote.as_ref());
                let organizer_syncs = local.organizer_syncs.contains(local_id);
                return match attendee::plan_write(synced, old, values, new, organizer_syncs) {
                    Ok(write) => respond(write, remote_id, modified_at, label, link.is_none()),
                    Err(reason) => prepared(failed(reason), Mails::default(), label),
                };
            }
            let typed = (!new.attendees.is_empty()).then(|| {
                let mut typed = new.clone();
                typed.keep_attendee_types_of(old);
                typed
            });
            let new = typed.as_ref().unwrap_or(new);
            match diff_to_graph_patch(old, new) {
                // Nothing Outlook shows would change: write nothing (a write may mail everyone).
                Ok(patch) if patch.is_empty() => {
                    let series = SeriesWrite::plan(Some(old), new, None).map(|series| {
                        series.map(|mut series| {
                            series.unchanged = Some(Box::new(old.clone()));
                            series
                        })
                    });
                    prepared_series(
                        Action::Done(Outcome::Written(WrittenItem {
                            id: remote_id.clone(),
                            hash: content_hash(old),
                            modified_at,
                            ical_uid: old.ical_uid.clone(),
                        })),
                        Mails::default(),
                        label,
                        series,
                        new,
                        &options.mailbox,
                    )
                }
                Ok(patch) => prepared_series(
                    Action::Send(BatchRequest {
                        method: Method::PATCH,
                        url: event_path(remote_id),
                        body: Some(Value::Object(patch.clone())),
                        depends_on: None,
                    }),
                    mails::for_update(old, new, &patch, &options.mailbox),
                    label,
                    SeriesWrite::plan(Some(old), new, Some(&patch)),
                    new,
                    &options.mailbox,
                ),
                Err(error) => prepared(failed(error.to_string()), Mails::default(), label),
            }
        }
        RemoteOp::Delete { remote_id } => {
            let old = remote.events.get(remote_id).or_else(|| {
                links
                    .get(remote_id.as_str())
                    .and_then(|l| l.remote.as_ref())
            });
            prepared(
                Action::Send(BatchRequest {
                    method: Method::DELETE,
                    url: event_path(remote_id),
                    body: None,
                    depends_on: None,
                }),
                mails::for_delete(old, &options.mailbox),
                old.map(|e| e.label().to_owned()),
            )
        }
    }
}

/// The writes to an attendee's copy, or none when only Odoo needs the organizer's version.
fn respond(
    write: AttendeeWrite,
    remote_id: &str,
    modified_at: Option<i64>,
    label: Option<String>,
    first_link: bool,
) -> Prepared {
    let requests = write.requests(remote_id);
    let mails = Mails {
        responses: usize::from(write.response.is_some()),
        ..Mails::default()
    };
    let action = if requests.is_empty() {
        Action::Done(Outcome::Written(WrittenItem {
            id: remote_id.to_owned(),
            hash: content_hash(&write.expected),
            modified_at,
            ical_uid: write.expected.ical_uid.clone(),
        }))
    } else {
        Action::Respond {
            requests,
            remote_id: remote_id.to_owned(),
            expected: Box::new(write.expected),
            modified_at,
        }
    };
    Prepared {
        action,
        mails,
        label,
        attendee: Attendee::Copy {
            local: write.local.map(Box::new),
            kept: write.kept,
            first_link,
        },
        series: None,
    }
}

fn missing(local_id: &str) -> Prepared {
    prepared(
        failed(format!("Odoo event {local_id} was not in the listing")),
        Mails::default(),
        None,
    )
}

/// Sends the prepared requests (all in `$batch` envelopes of 20) and reads each outcome; `journal`
/// records each envelope's confirmed writes as soon as it settles.
pub(crate) async fn send(
    client: &GraphClient,
    prepared: &[Prepared],
    journal: &Journal<'_>,
    report: &mut Report,
) -> Pushed {
    // Every request of every op in one `$batch` run; `slots` names the op of each request.
    let mut requests: Vec<BatchRequest> = Vec::new();
    let mut slots = Vec::new();
    for (index, item) in prepared.iter().enumerate() {
        match &item.action {
            Action::Send(request) => {
                slots.push(index);
                requests.push(request.clone());
            }
            Action::Respond { requests: own, .. } => {
                for request in own {
                    slots.push(index);
                    requests.push(request.clone());
                }
            }
            Action::Done(_) => {}
        }
    }
    let mut outcomes: Vec<Option<Outcome>> = prepared
        .iter()
        .map(|item| match &item.action {
            Action::Done(outcome) => Some(outcome.clone()),
            Action::Send(_) | Action::Respond { .. } => None,
        })
        .collect();
    let mut written = HashMap::new();
    let mut answers: HashMap<usize, Vec<Result<BatchResponse, GraphError>>> = HashMap::new();
    if !requests.is_empty() {
        report.requests += requests.len().div_ceil(MAX_BATCH_SIZE);
        journal.intend();
        let observe = |settled: &[(usize, &Result<BatchResponse, GraphError>)]| {
            journal.record(
                settled
                    .iter()
                    .map(|(index, result)| (slots[*index], *result)),
            );
        };
        let mut results = client.batch_observed(requests.clone(), &observe).await;
        recreate_deleted_copies(client, &mut requests, &mut results, &observe, report).await;
        for (index, result) in slots.into_iter().zip(results) {
            answers.entry(index).or_default().push(result);
        }
    }
    for (index, results) in answers {
        let outcome = match &prepared[index].action {
            Action::Respond {
                remote_id,
                expected,
                modified_at,
                ..
            } => {
                let (outcome, event) = responded(remote_id, expected, *modified_at, results);
                if let Some(event) = event {
                    written.insert(remote_id.clone(), event);
                }
                outcome
            }
            Action::Send(request) => match results.into_iter().next() {
                Some(result) => {
                    let (outcome, event) = answered(&request.method, result);
                    if let Some((id, event)) = event {
                        written.insert(id, event);
                    }
                    outcome
                }
                None => continue,
            },
            Action::Done(_) => continue,
        };
        outcomes[index] = Some(outcome);
    }
    let series: Vec<Option<&SeriesWrite>> = prepared.iter().map(|p| p.series.as_ref()).collect();
    let occurrences = if series.iter().any(Option::is_some) {
        occurrences::apply(client, &series, &mut outcomes, &mut written, report).await
    } else {
        occurrences::OccurrenceWrites::default()
    };
    Pushed {
        outcomes: outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| Outcome::Failed {
                    reason: "no result was produced".to_owned(),
                })
            })
            .collect(),
        written,
        deleted_occurrences: occurrences.deleted,
        edited_occurrences: occurrences.edited,
    }
}

/// The outcome of one create, update or delete, and the event Outlook returned.
pub(crate) fn answered(
    method: &Method,
    result: Result<BatchResponse, GraphError>,
) -> (Outcome, Option<(String, Event)>) {
    match (*method == Method::DELETE, result) {
        (true, Ok(_)) | (true, Err(GraphError::Api { status: 404, .. })) => {
            (Outcome::Deleted, None)
        }
        (false, Ok(response)) => match response
            .body
            .as_ref()
            .map(|body| (body, event_from_graph(body)))
        {
            Some((body, Ok(read))) => {
                let item = WrittenItem {
                    id: read.id.clone(),
                    hash: content_hash(&read.event),
                    modified_at: graph_modified_ms(body),
                    ical_uid: read.event.ical_uid.clone(),
                };
                (Outcome::Written(item), Some((read.id, read.event)))
            }
            Some((_, Err(error))) => (
                Outcome::Failed {
                    reason: format!("Outlook's answer could not be read: {error}"),
                },
                None,
            ),
            None => (
                Outcome::Failed {
                    reason: "Outlook answered without the event".to_owned(),
                },
                None,
            ),
        },
        (_, Err(error)) => (
            Outcome::Failed {
                reason: error.to_string(),
            },
            None,
        ),
    }
}

/// The outcome of the writes to an attendee's copy: the copy as expected after them (the PATCH's
/// answer, when there was one, with the answer sent), or the first failure. A write that
/// succeeded beside a failed one is seen as an Outlook change by the next run, which plans what
/// is still missing against it.
fn responded(
    remote_id: &str,
    expected: &Event,
    modified_at: Option<i64>,
    results: Vec<Result<BatchResponse, GraphError>>,
) -> (Outcome, Option<Event>) {
    let mut event = expected.clone();
    let mut modified_at = modified_at;
    for result in results {
        match result {
            Err(error) => {
                return (
                    Outcome::Failed {
                        reason: error.to_string(),
                    },
                    None,
                );
            }
            Ok(response) => {
                if let Some(body) = response.body.as_ref()
                    && let Ok(read) = event_from_graph(body)
                {
                    event = read.event;
                    event.response = expected.response;
                    modified_at = graph_modified_ms(body).or(modified_at);
                }
            }
        }
    }
    let item = WrittenItem {
        id: remote_id.to_owned(),
        hash: content_hash(&event),
        modified_at,
        ical_uid: event.ical_uid.clone(),
    };
    (Outcome::Written(item), Some(event))
}

/// How many times one run moves a create on to the next `transactionId` of its chain.
pub(crate) const MAX_TRANSACTION_CHAIN: usize = 4;

/// Graph refuses a `transactionId` it has seen before even when the event created with it was
/// deleted since (the graph client found no event carrying it): our copy was created by a run
/// whose result was never stored (a crash, a lost response), then deleted in Outlook. Retrying
/// with the same id would fail on every run for good, so the create moves on to the next id of a
/// deterministic chain (each derived from the one refused), which stays idempotent: a later retry
/// walks the same chain and finds the event created with any of its ids.
async fn recreate_deleted_copies(
    client: &GraphClient,
    requests: &mut [BatchRequest],
    results: &mut [Result<BatchResponse, GraphError>],
    observe: &BatchObserver<'_>,
    report: &mut Report,
) {
    for _ in 0..MAX_TRANSACTION_CHAIN {
        let refused: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(index, result)| {
                requests[*index].method == Method::POST
                    && matches!(result, Err(error) if error.api_code()
                        .is_some_and(|code| code.eq_ignore_ascii_case("ErrorDuplicateTransactionId")))
            })
            .map(|(index, _)| index)
            .collect();
        if refused.is_empty() {
            return;
        }
        let mut retries = Vec::new();
        for index in &refused {
            let body = requests[*index]
                .body
                .as_mut()
                .and_then(Value::as_object_mut);
            let Some(body) = body else { continue };
            let Some(refused_id) = body.get("transactionId").and_then(Value::as_str) else {
                continue;
            };
            let next = next_transaction_id(refused_id);
            log::info!(
                target: LOG,
                "transactionId {refused_id} was used by a copy deleted since; creating with {next}"
            );
            body.insert("transactionId".to_owned(), json!(next));
            retries.push(*index);
        }
        if retries.is_empty() {
            return;
        }
        report.requests += retries.len().div_ceil(MAX_BATCH_SIZE);
        // The observer names requests by their index in `requests`, not in this smaller batch.
        let observe_retries = |settled: &[(usize, &Result<BatchResponse, GraphError>)]| {
            let named: Vec<_> = settled
                .iter()
                .map(|(index, result)| (retries[*index], *result))
                .collect();
            observe(&named);
        };
        let resent = client
            .batch_observed(
                retries.iter().map(|i| requests[*i].clone()).collect(),
                &observe_retries,
            )
            .await;
        for (index, result) in retries.into_iter().zip(resent) {
            results[index] = result;
        }
    }
}

/// The `transactionId` a create moves on to after `refused` turned out to belong to a deleted
/// copy (a hash of the refused id, so the chain depends only on the first one).
pub(crate) fn next_transaction_id(refused: &str) -> String {
    outlook_engine::transaction_id(refused, "next-after-deleted-copy", None)
}
