//! `GraphClient`: one mailbox's Graph calls as blocking Python methods that release the GIL while they wait.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use outlook_graph::{
    BatchRequest, DeltaItem, DeltaOutcome, DeltaStart, GraphClient, GraphError, OAuthClient,
    ResponseKind,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

use crate::config::{PyGraphConfig, PyTokens};
use crate::convert::{from_py, timestamp_from_py, to_py};
use crate::errors::graph_error;
use crate::runtime;

/// The Rust client bound to the process that built it (see `runtime`).
struct ProcessClient {
    pid: u32,
    client: GraphClient,
}

#[pyclass(frozen, module = "outlook_sync._native", name = "GraphClient")]
pub struct PyGraphClient {
    config: PyGraphConfig,
    state: Mutex<(outlook_graph::TokenSet, Option<ProcessClient>)>,
}

impl PyGraphClient {
    /// The client for this process, rebuilt (with the newest tokens) after a fork.
    fn client(&self, py: Python<'_>) -> PyResult<(GraphClient, std::sync::Arc<runtime::Engine>)> {
        let engine = runtime::engine().map_err(|e| graph_error(py, &e))?;
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pid = runtime::current_pid();
        if let Some(bound) = &state.1 {
            if bound.pid == pid {
                return Ok((bound.client.clone(), engine));
            }
            state.0 = bound.client.tokens();
        }
        let oauth = OAuthClient::new(
            engine.http.clone(),
            self.config.endpoints(),
            self.config.app(),
        )
        .map_err(|e| graph_error(py, &e))?;
        let client = GraphClient::new(
            engine.http.clone(),
            self.config.endpoints(),
            Some(oauth),
            state.0.clone(),
            self.config.options(),
        );
        state.1 = Some(ProcessClient {
            pid,
            client: client.clone(),
        });
        Ok((client, engine))
    }

    /// Runs one async call to completion with the GIL released.
    fn run<T, F, Fut>(&self, py: Python<'_>, call: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(GraphClient) -> Fut + Send,
        Fut: Future<Output = Result<T, GraphError>> + Send,
    {
        let (client, engine) = self.client(py)?;
        py.detach(|| engine.runtime.block_on(call(client)))
            .map_err(|e| graph_error(py, &e))
    }
}

#[pymethods]
impl PyGraphClient {
    #[new]
    fn new(config: PyGraphConfig, tokens: PyTokens) -> Self {
        Self {
            config,
            state: Mutex::new((tokens.inner, None)),
        }
    }

    /// The current tokens: after a refresh they differ from the ones given; persist them.
    #[getter]
    fn tokens(&self) -> PyTokens {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = match &state.1 {
            Some(bound) => bound.client.tokens(),
            None => state.0.clone(),
        };
        PyTokens { inner }
    }

    /// The signed-in user (`/me`): `id`, `displayName`, `mail`, `userPrincipalName`.
    fn me<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.run(py, |c| async move { c.me().await })?;
        to_py(py, &value)
    }

    /// Reads what changed in the calendar: the first call over a window (`start`, `end`), later calls from the
    /// stored `delta_link`. Returns a `DeltaResult`; `resync_required` means the link expired and a new full
    /// round over a window is needed.
    #[pyo3(signature = (*, start=None, end=None, delta_link=None))]
    fn delta(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        delta_link: Option<String>,
    ) -> PyResult<PyDeltaResult> {
        let from = match (start, end, delta_link) {
            (None, None, Some(link)) => DeltaStart::Link(link),
            (Some(s), Some(e), None) => DeltaStart::Window {
                start: timestamp_from_py(s, "start")?,
                end: timestamp_from_py(e, "end")?,
            },
            _ => {
                return Err(PyValueError::new_err(
                    "give either start and end (first round) or delta_link (later rounds)",
                ));
            }
        };
        let outcome = self.run(py, |c| async move { c.delta(from).await })?;
        PyDeltaResult::from_outcome(py, outcome)
    }

    fn get_event<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let value = self.run(py, |c| async move { c.get_event(&id).await })?;
        to_py(py, &value)
    }

    /// Occurrences and exceptions of a series between `start` and `end`, sorted by start.
    fn instances<'py>(
        &self,
        py: Python<'py>,
        master_id: String,
        start: &Bound<'py, PyAny>,
        end: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (start, end) = (
            timestamp_from_py(start, "start")?,
            timestamp_from_py(end, "end")?,
        );
        let mut values = self.run(
            py,
            |c| async move { c.instances(&master_id, start, end).await },
        )?;
        // Graph does not promise an order (its own example lists an exception first).
        values.sort_by(|a, b| start_of(a).cmp(start_of(b)));
        list(py, &values)
    }

    fn find_by_ical_uid<'py>(
        &self,
        py: Python<'py>,
        ical_uid: String,
    ) -> PyResult<Bound<'py, PyList>> {
        let values = self.run(py, |c| async move { c.find_by_ical_uid(&ical_uid).await })?;
        list(py, &values)
    }

    /// Creates an event. `transaction_id` makes the call idempotent: a retry after a lost response returns the
    /// event created the first time instead of a duplicate.
    fn create_event<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        transaction_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = from_py(event)?;
        if transaction_id.is_empty() {
            return Err(PyValueError::new_err("transaction_id must not be empty"));
        }
        let value = self.run(py, |c| async move {
            c.create_event(body, &transaction_id).await
        })?;
        to_py(py, &value)
    }

    /// Sends only the given properties (`patch`), so Outlook mails attendees only about what changed.
    fn update_event<'py>(
        &self,
        py: Python<'py>,
        id: String,
        patch: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = from_py(patch)?;
        let value = self.run(py, |c| async move { c.update_event(&id, body).await })?;
        to_py(py, &value)
    }

    /// Deletes an event; an event that is already gone counts as deleted.
    fn delete_event(&self, py: Python<'_>, id: String) -> PyResult<()> {
        self.run(py, |c| async move { c.delete_event(&id).await })
    }

    /// Cancels a meeting the user organises (Outlook mails a cancellation to the attendees).
    #[pyo3(signature = (id, comment=None))]
    fn cancel_event(&self, py: Python<'_>, id: String, comment: Option<String>) -> PyResult<()> {
        self.run(py, |c| async move {
            c.cancel_event(&id, comment.as_deref()).await
        })
    }

    /// Answers an invitation: `response` is "accept", "decline" or "tentativelyAccept".
    #[pyo3(signature = (id, response, comment=None, send_response=true))]
    fn respond(
        &self,
        py: Python<'_>,
        id: String,
        response: &str,
        comment: Option<String>,
        send_response: bool,
    ) -> PyResult<()> {
        let kind = match response.to_ascii_lowercase().as_str() {
            "accept" | "accepted" => ResponseKind::Accept,
            "decline" | "declined" => ResponseKind::Decline,
            "tentativelyaccept" | "tentativelyaccepted" | "tentative" => {
                ResponseKind::TentativelyAccept
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "response must be 'accept', 'decline' or 'tentativelyAccept', not {other:?}"
                )));
            }
        };
        self.run(py, |c| async move {
            c.respond(&id, kind, comment.as_deref(), send_response)
                .await
        })
    }

    /// Runs many requests through `$batch` (20 per envelope, throttled items retried after their
    /// `Retry-After`). Each request is a dict with `method`, `url` (relative, e.g. "/me/events"), optional
    /// `body` and `depends_on` (index of an earlier request). Returns, in the same order, dicts with `status`,
    /// `headers` and `body`, or with `status` and `error` for items that failed for good.
    fn batch<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut parsed = Vec::new();
        for (i, item) in requests.try_iter()?.enumerate() {
            let item = item?;
            let value = from_py(&item)?;
            parsed.push(batch_request(i, &value)?);
        }
        let results = self.run(py, |c| async move { Ok(c.batch(parsed).await) })?;
        let out = PyList::empty(py);
        for result in results {
            let dict = PyDict::new(py);
            match result {
                Ok(response) => {
                    dict.set_item("status", response.status)?;
                    dict.set_item("headers", response.headers)?;
                    dict.set_item(
                        "body",
                        match &response.body {
                            Some(body) => to_py(py, body)?,
                            None => py.None().into_bound(py),
                        },
                    )?;
                }
                Err(error) => {
                    let status = match &error {
                        GraphError::Api { status, .. } => *status,
                        GraphError::Throttled { .. } => 429,
                        _ => 0,
                    };
                    dict.set_item("status", status)?;
                    dict.set_item("error", graph_error(py, &error).into_value(py))?;
                }
            }
            out.append(dict)?;
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("GraphClient(graph_url={:?})", self.config.graph_url)
    }
}

fn batch_request(index: usize, value: &Value) -> PyResult<BatchRequest> {
    let field = |name: &str| value.get(name);
    let method = field("method").and_then(Value::as_str).ok_or_else(|| {
        PyValueError::new_err(format!("requests[{index}]: 'method' (str) is required"))
    })?;
    let method =
        http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            PyValueError::new_err(format!("requests[{index}]: unknown method {method:?}"))
        })?;
    let url = field("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with('/'))
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "requests[{index}]: 'url' must be a relative URL such as \"/me/events\""
            ))
        })?
        .to_owned();
    let depends_on = match field("depends_on") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|d| usize::try_from(d).ok()) {
            Some(d) if d < index => Some(d),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "requests[{index}]: 'depends_on' must be the index of an earlier request"
                )));
            }
        },
    };
    Ok(BatchRequest {
        method,
        url,
        body: field("body").filter(|b| !b.is_null()).cloned(),
        depends_on,
    })
}

/// `start.dateTime` of a Graph event; all our reads ask for UTC, so the strings sort chronologically.
fn start_of(event: &Value) -> &str {
    event
        .pointer("/start/dateTime")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn list<'py>(py: Python<'py>, values: &[Value]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for v in values {
        out.append(to_py(py, v)?)?;
    }
    Ok(out)
}

/// What one delta round returned, reduced to the final state of each item: an id that was replayed keeps its
/// last version, and an id whose last word was `@removed` is only in `removed`.
#[pyclass(frozen, module = "outlook_sync._native", name = "DeltaResult")]
pub struct PyDeltaResult {
    #[pyo3(get)]
    events: Py<PyList>,
    #[pyo3(get)]
    removed: Vec<String>,
    #[pyo3(get)]
    delta_link: Option<String>,
    #[pyo3(get)]
    resync_required: bool,
    #[pyo3(get)]
    pages: u32,
}

impl PyDeltaResult {
    fn from_outcome(py: Python<'_>, outcome: DeltaOutcome) -> PyResult<Self> {
        match outcome {
            DeltaOutcome::ResyncRequired { .. } => Ok(Self {
                events: PyList::empty(py).unbind(),
                removed: Vec::new(),
                delta_link: None,
                resync_required: true,
                pages: 0,
            }),
            DeltaOutcome::Changes {
                items,
                delta_link,
                pages,
            } => {
                // Last word per id wins; keep first-seen order for a stable output.
                let mut order: Vec<String> = Vec::new();
                let mut last: HashMap<String, Option<Value>> = HashMap::new();
                for item in items {
                    let (id, state) = match item {
                        DeltaItem::Upsert(value) => {
                            let id = value
                                .get("id")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned();
                            (id, Some(value))
                        }
                        DeltaItem::Removed { id } => (id, None),
                    };
                    if !last.contains_key(&id) {
                        order.push(id.clone());
                    }
                    last.insert(id, state);
                }
                let events = PyList::empty(py);
                let mut removed = Vec::new();
                for id in order {
                    match last.remove(&id).flatten() {
                        Some(value) => events.append(to_py(py, &value)?)?,
                        None => removed.push(id),
                    }
                }
                Ok(Self {
                    events: events.unbind(),
                    removed,
                    delta_link: Some(delta_link),
                    resync_required: false,
                    pages,
                })
            }
        }
    }
}

#[pymethods]
impl PyDeltaResult {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "DeltaResult(events={}, removed={}, resync_required={}, pages={})",
            self.events.bind(py).len(),
            self.removed.len(),
            self.resync_required,
            self.pages
        )
    }
}
