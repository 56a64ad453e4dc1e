//! JSON `$batch`: any number of requests, sent as envelopes of at most 20, with per-item retries of
//! throttled items.
//!
//! Requests linked by `depends_on` always travel in the same envelope (a chain longer than 20 is
//! split into consecutive envelopes, sent one after the other). Envelopes without links between
//! them run concurrently, within the mailbox's concurrency limit.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use http::Method;
use serde_json::{Map, Value, json};

use crate::client::{Call, GraphClient};
use crate::create::is_duplicate_transaction;
use crate::error::{GraphError, api_error_from_json};
use crate::gate::BATCH_PARALLELISM;
use crate::retry::{Replay, backoff};

const LOG: &str = "outlook_sync::graph::batch";

/// Graph accepts at most this many requests per `$batch`.
pub const MAX_BATCH_SIZE: usize = 20;

/// One request inside a `$batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// HTTP method.
    pub method: Method,
    /// Relative to the version root, e.g. `/me/events/{id}`.
    pub url: String,
    /// JSON body (sent with `Content-Type: application/json`).
    pub body: Option<Value>,
    /// Index (in the same `Vec`) of an earlier request that must succeed first.
    pub depends_on: Option<usize>,
}

/// A successful (status below 400) answer to one request of a `$batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResponse {
    /// The item's HTTP status.
    pub status: u16,
    /// The item's headers.
    pub headers: BTreeMap<String, String>,
    /// The item's body, if any.
    pub body: Option<Value>,
}

type ItemResult = Result<BatchResponse, GraphError>;

/// Told the settled results of each envelope of a batch, by index into the batch's requests.
pub type BatchObserver<'a> = dyn Fn(&[(usize, &ItemResult)]) + Sync + 'a;

/// An item to send again in the next round, and what to report if we give up on it.
struct Resend {
    retry_after: Option<Duration>,
    error: GraphError,
    status: u16,
}

impl GraphClient {
    /// Runs any number of requests through `$batch`: envelopes of at most 20, results in input
    /// order. Items answered 429/503 (and 504 when repeating is safe) are sent again after their
    /// `Retry-After`; any other failure is that item's `Err` only. A create whose `transactionId`
    /// was already used resolves to the event it created, as [`GraphClient::create_event`] does.
    pub async fn batch(&self, requests: Vec<BatchRequest>) -> Vec<ItemResult> {
        self.batch_observed(requests, &|_| {}).await
    }

    /// [`GraphClient::batch`], telling `observer` the results of each envelope as soon as it has
    /// settled (indices into `requests`). A caller that must not lose track of what Outlook has
    /// accepted (a process can die before the whole batch returns) records them there.
    pub async fn batch_observed(
        &self,
        requests: Vec<BatchRequest>,
        observer: &BatchObserver<'_>,
    ) -> Vec<ItemResult> {
        let mut early: BTreeMap<usize, ItemResult> = BTreeMap::new();
        for (index, request) in requests.iter().enumerate() {
            if let Err(error) = validate(index, request) {
                early.insert(index, Err(error));
            }
        }
        let lanes = plan_lanes(&dependencies(&requests));
        let runs = lanes
            .into_iter()
            .map(|lane| self.run_lane(&requests, lane, &early, observer));
        let mut results: Vec<Option<ItemResult>> = vec![None; requests.len()];
        for lane in futures_util::future::join_all(runs).await {
            for (index, result) in lane {
                results[index] = Some(result);
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(index, result)| {
                result.unwrap_or_else(|| {
                    Err(GraphError::Payload {
                        context: format!("batch request {index}"),
                        detail: "no result was produced".to_owned(),
                    })
                })
            })
            .collect()
    }

    /// Runs the envelopes of one lane one after the other.
    async fn run_lane(
        &self,
        requests: &[BatchRequest],
        lane: Vec<Vec<usize>>,
        early: &BTreeMap<usize, ItemResult>,
        observer: &BatchObserver<'_>,
    ) -> Vec<(usize, ItemResult)> {
        let mut done: BTreeMap<usize, ItemResult> = BTreeMap::new();
        for chunk in lane {
            for &index in &chunk {
                if let Some(result) = early.get(&index) {
                    done.insert(index, result.clone());
                }
            }
            let pending = chunk
                .iter()
                .copied()
                .filter(|i| !done.contains_key(i))
                .collect();
            self.run_envelope(requests, pending, &mut done).await;
            let settled: Vec<(usize, &ItemResult)> = chunk
                .iter()
                .filter_map(|&index| done.get(&index).map(|result| (index, result)))
                .collect();
            observer(&settled);
        }
        done.into_iter().collect()
    }

    /// Sends `pending` (at most 20 items) and re-sends throttled ones until each has a result.
    async fn run_envelope(
        &self,
        requests: &[BatchRequest],
        mut pending: Vec<usize>,
        done: &mut BTreeMap<usize, ItemResult>,
    ) {
        let options = self.options().clone();
        let mut round: u32 = 0;
        let mut waited = Duration::ZERO;
        loop {
            // A dependency already settled: fail its dependents, or send them unlinked.
            pending.retain(|&index| {
                match requests[index]
                    .depends_on
                    .and_then(|d| done.get(&d).map(|r| (d, r)))
                {
                    Some((dependency, Err(_))) => {
                        done.insert(index, Err(failed_dependency(index, dependency)));
                        false
                    }
                    _ => true,
                }
            });
            if pending.is_empty() {
                return;
            }
            round += 1;
            let (envelope, weight, replay) = self.envelope(requests, &pending);
            let call = match self.url(&["$batch"]) {
                Ok(url) => {
                    let mut call = Call::new(Method::POST, url, replay).json(&envelope);
                    call.weight = weight;
                    call
                }
                Err(error) => {
                    settle_all(&pending, &error, done);
                    return;
                }
            };
            let answers = match self
                .execute(&call)
                .await
                .and_then(|reply| reply.json("$batch response"))
            {
                Ok(json) => parse_answers(&json),
                Err(error) => Err(error),
            };
            let answers = match answers {
                Ok(answers) => answers,
                Err(error) => {
                    settle_all(&pending, &error, done);
                    return;
                }
            };
            let mut retry: BTreeMap<usize, Resend> = BTreeMap::new();
            let mut failed_on_dependency = Vec::new();
            for &index in &pending {
                let Some(answer) = answers.get(&index.to_string()) else {
                    done.insert(
                        index,
                        Err(GraphError::Payload {
                            context: format!("$batch response, request {index}"),
                            detail: "no response carries this request's id".to_owned(),
                        }),
                    );
                    continue;
                };
                let request = &requests[index];
                let status = answer.status;
                if status < 400 {
                    done.insert(index, Ok(answer.clone()));
                    continue;
                }
                let request_id = answer
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("request-id"))
                    .map(|(_, v)| v.as_str());
                let error = api_error_from_json(
                    status,
                    answer.body.as_ref().unwrap_or(&Value::Null),
                    request_id,
                );
                let retryable = match status {
                    429 | 503 => true,
                    504 => replay_of(request).may_repeat_after_ambiguous_failure(),
                    _ => false,
                };
                if retryable {
                    let retry_after = answer
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .and_then(|(_, v)| {
                            crate::retry::parse_retry_after(v, jiff::Timestamp::now())
                        });
                    retry.insert(
                        index,
                        Resend {
                            retry_after,
                            error,
                            status,
                        },
                    );
                } else if status == 424 {
                    failed_on_dependency.push((index, error));
                } else if is_duplicate_transaction(&error) && replay_of(request) == Replay::Create {
                    done.insert(index, self.recover_create(index, request, error).await);
                } else {
                    done.insert(index, Err(error));
                }
            }
            // A 424 caused by a dependency we are about to retry is retried with it.
            for (index, error) in failed_on_dependency {
                match requests[index].depends_on {
                    Some(dependency) if retry.contains_key(&dependency) => {
                        retry.insert(
                            index,
                            Resend {
                                retry_after: None,
                                error,
                                status: 424,
                            },
                        );
                    }
                    _ => {
                        done.insert(index, Err(error));
                    }
                }
            }
            if retry.is_empty() {
                return;
            }
            let longest = retry.values().filter_map(|r| r.retry_after).max();
            let throttled = retry.values().any(|r| r.status == 429);
            let wait = longest.unwrap_or_else(|| backoff(round, &mut rand::rng()));
            if throttled {
                self.pause_mailbox(wait);
            }
            if round >= options.max_attempts || waited + wait > options.max_total_wait {
                log::warn!(
                    target: LOG,
                    "{}{} batch item(s) still throttled after {round} round(s) and {:.1}s; giving up", self.who(),
                    retry.len(),
                    waited.as_secs_f64()
                );
                for (index, resend) in retry {
                    let result = if matches!(resend.status, 429 | 503) {
                        GraphError::Throttled {
                            retry_after: resend.retry_after.or(longest),
                            waited,
                        }
                    } else {
                        resend.error
                    };
                    done.insert(index, Err(result));
                }
                return;
            }
            log::info!(
                target: LOG,
                "{}{} batch item(s) throttled; resending in {:.2}s", self.who(),
                retry.len(),
                wait.as_secs_f64()
            );
            // After a 429 the mailbox pause holds the next envelope; otherwise wait here.
            if !throttled {
                tokio::time::sleep(wait).await;
            }
            waited += wait;
            pending = retry.into_keys().collect();
        }
    }

    /// The `$batch` body for `pending`, its weight in execution slots, and whether repeating the
    /// whole envelope is safe.
    fn envelope(&self, requests: &[BatchRequest], pending: &[usize]) -> (Value, u32, Replay) {
        let options = self.options();
        let prefer = format!(
            r#"IdType="ImmutableId", outlook.timezone="{}", outlook.body-content-type="{}""#,
            options.time_zone, options.body_type
        );
        let in_round: BTreeSet<usize> = pending.iter().copied().collect();
        let mut roots: u32 = 0;
        let mut replay = Replay::Idempotent;
        let items: Vec<Value> = pending
            .iter()
            .map(|&index| {
                let request = &requests[index];
                let mut headers = Map::new();
                headers.insert("Prefer".to_owned(), json!(prefer));
                let mut item = json!({
                    "id": index.to_string(),
                    "method": request.method.as_str(),
                    "url": request.url,
                });
                if let Some(body) = &request.body {
                    headers.insert("Content-Type".to_owned(), json!("application/json"));
                    item["body"] = body.clone();
                }
                item["headers"] = Value::Object(headers);
                match request.depends_on.filter(|d| in_round.contains(d)) {
                    Some(dependency) => item["dependsOn"] = json!([dependency.to_string()]),
                    None => roots += 1,
                }
                replay = match (replay, replay_of(request)) {
                    (Replay::Unsafe, _) | (_, Replay::Unsafe) => Replay::Unsafe,
                    (Replay::Create, _) | (_, Replay::Create) => Replay::Create,
                    _ => Replay::Idempotent,
                };
                item
            })
            .collect();
        // Outlook runs at most 4 unlinked items of a batch at once and a chain one at a time:
        // that is how many of the mailbox's slots the envelope occupies.
        let weight = roots.clamp(1, BATCH_PARALLELISM);
        (json!({ "requests": items }), weight, replay)
    }

    async fn recover_create(
        &self,
        index: usize,
        request: &BatchRequest,
        error: GraphError,
    ) -> ItemResult {
        let body = request.body.as_ref().unwrap_or(&Value::Null);
        let Some(transaction_id) = body.get("transactionId").and_then(Value::as_str) else {
            return Err(error);
        };
        log::info!(target: LOG, "{}batch request {index}: transactionId {transaction_id} already used; looking up its event", self.who());
        match self.find_by_transaction_id(body, transaction_id).await? {
            Some(event) => Ok(BatchResponse {
                status: 201,
                headers: BTreeMap::new(),
                body: Some(event),
            }),
            None => Err(error),
        }
    }
}

fn validate(index: usize, request: &BatchRequest) -> Result<(), GraphError> {
    let invalid = |detail: String| GraphError::InvalidInput {
        context: format!("batch request {index}"),
        detail,
    };
    if !request.url.starts_with('/') {
        return Err(invalid(format!(
            "url {:?} must be relative to the version root and start with `/`",
            request.url
        )));
    }
    if let Some(dependency) = request.depends_on
        && dependency >= index
    {
        return Err(invalid(format!(
            "depends_on {dependency} must refer to an earlier request"
        )));
    }
    Ok(())
}

/// Whether repeating this request is safe (see [`Replay`]).
fn replay_of(request: &BatchRequest) -> Replay {
    match request.method {
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE => Replay::Idempotent,
        Method::POST
            if request
                .body
                .as_ref()
                .and_then(|b| b.get("transactionId"))
                .is_some_and(Value::is_string) =>
        {
            Replay::Create
        }
        _ => Replay::Unsafe,
    }
}

/// `depends_on` of each request, ignoring invalid (forward) links.
fn dependencies(requests: &[BatchRequest]) -> Vec<Option<usize>> {
    requests
        .iter()
        .enumerate()
        .map(|(index, r)| r.depends_on.filter(|d| *d < index))
        .collect()
}

/// Groups requests into lanes of envelopes. Linked requests (a component of the `depends_on`
/// forest) stay in one envelope when they fit, and small components are packed together in input
/// order; a component above 20 becomes a lane of consecutive envelopes.
fn plan_lanes(dependencies: &[Option<usize>]) -> Vec<Vec<Vec<usize>>> {
    // Every link points backwards, so one forward pass finds each request's component root.
    let mut root = Vec::with_capacity(dependencies.len());
    for (index, dependency) in dependencies.iter().enumerate() {
        let r = dependency.map_or(index, |d| root[d]);
        root.push(r);
    }
    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (index, r) in root.iter().enumerate() {
        components.entry(*r).or_default().push(index);
    }
    let mut lanes = Vec::new();
    let mut packed: Vec<usize> = Vec::new();
    for (_, members) in components {
        if members.len() > MAX_BATCH_SIZE {
            lanes.push(
                members
                    .chunks(MAX_BATCH_SIZE)
                    .map(<[usize]>::to_vec)
                    .collect(),
            );
            continue;
        }
        if packed.len() + members.len() > MAX_BATCH_SIZE {
            lanes.push(vec![std::mem::take(&mut packed)]);
        }
        packed.extend(members);
    }
    if !packed.is_empty() {
        lanes.push(vec![packed]);
    }
    for lane in &mut lanes {
        for chunk in lane.iter_mut() {
            chunk.sort_unstable();
        }
    }
    lanes
}

fn failed_dependency(index: usize, dependency: usize) -> GraphError {
    GraphError::Api {
        status: 424,
        code: "FailedDependency".to_owned(),
        message: format!("batch request {index} was not sent because request {dependency} failed"),
        request_id: None,
    }
}

fn settle_all(pending: &[usize], error: &GraphError, done: &mut BTreeMap<usize, ItemResult>) {
    for &index in pending {
        done.insert(index, Err(error.clone()));
    }
}

/// The envelope's `responses`, keyed by id.
fn parse_answers(json: &Value) -> Result<BTreeMap<String, BatchResponse>, GraphError> {
    let payload = |detail: String| GraphError::Payload {
        context: "$batch response".to_owned(),
        detail,
    };
    let responses = json
        .get("responses")
        .and_then(Value::as_array)
        .ok_or_else(|| payload("`responses` is missing or not an array".to_owned()))?;
    let mut answers = BTreeMap::new();
    for (position, response) in responses.iter().enumerate() {
        let id = response
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| payload(format!("response {position} has no string `id`")))?;
        let status = response
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| payload(format!("response {id} has no numeric `status`")))?;
        let headers = match response.get("headers") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), value)
                })
                .collect(),
            Some(_) => {
                return Err(payload(format!(
                    "response {id}: `headers` is not an object"
                )));
            }
        };
        let body = response.get("body").filter(|b| !b.is_null()).cloned();
        answers.insert(
            id.to_owned(),
            BatchResponse {
                status,
                headers,
                body,
            },
        );
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn flat(lanes: &[Vec<Vec<usize>>]) -> Vec<usize> {
        let mut all: Vec<usize> = lanes.iter().flatten().flatten().copied().collect();
        all.sort_unstable();
        all
    }

    #[test]
    fn independent_requests_pack_into_envelopes_of_twenty() {
        let lanes = plan_lanes(&vec![None; 45]);
        let sizes: Vec<Vec<usize>> = lanes
            .iter()
            .map(|l| l.iter().map(Vec::len).collect())
            .collect();
        assert_eq!(sizes, vec![vec![20], vec![20], vec![5]]);
        assert_eq!(flat(&lanes), (0..45).collect::<Vec<_>>());
        assert_eq!(lanes[1][0][0], 20, "input order is kept");
    }

    #[test]
    fn linked_requests_share_an_envelope() {
        // 0..19 independent, then 19 <- 20 <- 21: the chain must not be split across envelopes.
        let mut deps = vec![None; 19];
        deps.extend([None, Some(19), Some(20)]);
        let lanes = plan_lanes(&deps);
        let envelope_of = |i: usize| lanes.iter().position(|l| l[0].contains(&i)).unwrap();
        assert_eq!(envelope_of(19), envelope_of(21));
        assert!(
            lanes
                .iter()
                .all(|l| l.iter().all(|c| c.len() <= MAX_BATCH_SIZE))
        );
        assert_eq!(flat(&lanes), (0..22).collect::<Vec<_>>());
    }

    #[test]
    fn long_chains_become_sequential_lanes() {
        let deps: Vec<Option<usize>> = (0..45usize).map(|i| i.checked_sub(1)).collect();
        let lanes = plan_lanes(&deps);
        assert_eq!(lanes.len(), 1);
        let sizes: Vec<usize> = lanes[0].iter().map(Vec::len).collect();
        assert_eq!(sizes, [20, 20, 5]);
        assert_eq!(lanes[0][1][0], 20);
    }

    #[test]
    fn invalid_requests_are_named() {
        let bad_url = BatchRequest {
            method: Method::GET,
            url: "me/events".into(),
            body: None,
            depends_on: None,
        };
        assert!(
            matches!(validate(0, &bad_url), Err(GraphError::InvalidInput { context, .. }) if context == "batch request 0")
        );
        let forward = BatchRequest {
            method: Method::GET,
            url: "/me".into(),
            body: None,
            depends_on: Some(3),
        };
        let err = validate(2, &forward).unwrap_err();
        assert!(
            err.to_string()
                .contains("depends_on 3 must refer to an earlier request"),
            "{err}"
        );
    }

    #[test]
    fn answers_are_keyed_by_id_whatever_their_order() {
        // graph_api.md §8 response fixture: shuffled order, per-item 429 with Retry-After.
        let json = json!({ "responses": [
            { "id": "1", "status": 200, "headers": {"Content-Type": "application/json"}, "body": {"value": []} },
            { "id": "3", "status": 429, "headers": {"Retry-After": "7"},
              "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}} },
            { "id": "2", "status": 424, "body": {"error": {"code": "FailedDependency", "message": "..."}} } ] });
        let answers = parse_answers(&json).unwrap();
        assert_eq!(answers["3"].status, 429);
        assert_eq!(answers["3"].headers["Retry-After"], "7");
        assert_eq!(answers["2"].headers.len(), 0);
        assert_eq!(answers["1"].body, Some(json!({"value": []})));
        let err = parse_answers(&json!({"responses": [{"id": 1, "status": 200}]})).unwrap_err();
        assert!(
            err.to_string().contains("response 0 has no string `id`"),
            "{err}"
        );
    }

    #[test]
    fn replay_classification() {
        let req = |method: Method, body: Option<Value>| BatchRequest {
            method,
            url: "/me/events".into(),
            body,
            depends_on: None,
        };
        assert_eq!(replay_of(&req(Method::GET, None)), Replay::Idempotent);
        assert_eq!(replay_of(&req(Method::DELETE, None)), Replay::Idempotent);
        assert_eq!(
            replay_of(&req(Method::POST, Some(json!({"transactionId": "t"})))),
            Replay::Create
        );
        assert_eq!(
            replay_of(&req(Method::POST, Some(json!({})))),
            Replay::Unsafe
        );
        assert_eq!(
            replay_of(&req(Method::PATCH, Some(json!({})))),
            Replay::Unsafe
        );
    }
}
