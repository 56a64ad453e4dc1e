//! JSON batching (`POST /v1.0/$batch`): at most 20 items, unique case-insensitive ids, relative urls; items run
//! at most 4 at a time, or one after the other when chained by `dependsOn`; a failed dependency gives 424;
//! responses come back shuffled inside a 200 envelope.

use std::sync::Arc;

use futures_util::StreamExt;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use crate::errors::GraphError;
use crate::graph::{self, GraphRequest, GraphResponse, Outcome};
use crate::server::Emulator;

const MAX_ITEMS: usize = 20;
/// Outlook runs at most four items of an unordered batch at a time.
const PARALLEL_ITEMS: usize = 4;

/// A parsed batch item.
struct Item {
    id: String,
    depends_on: Vec<String>,
    request: GraphRequest,
}

fn parse(envelope: &GraphRequest) -> Result<Vec<Item>, GraphError> {
    let bad = |m: String| GraphError::new(400, "BadRequest", m);
    let requests = envelope
        .body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad("Invalid batch payload format: a 'requests' array is required.".to_owned())
        })?;
    if requests.len() > MAX_ITEMS {
        return Err(bad(format!(
            "Number of batch requests ({}) exceeds the limit of {MAX_ITEMS}.",
            requests.len()
        )));
    }
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for (index, raw) in requests.iter().enumerate() {
        let obj = raw
            .as_object()
            .ok_or_else(|| bad(format!("requests[{index}] must be an object.")))?;
        let text = |name: &str| obj.get(name).and_then(Value::as_str).map(str::to_owned);
        let id =
            text("id").or_else(|| obj.get("id").and_then(Value::as_i64).map(|n| n.to_string()));
        let id = id.ok_or_else(|| bad(format!("requests[{index}].id is required.")))?;
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            return Err(bad(format!(
                "Batch request id '{id}' is used more than once (ids are case-insensitive)."
            )));
        }
        let method = text("method")
            .ok_or_else(|| bad(format!("requests[{index}].method is required.")))?
            .to_ascii_uppercase();
        let url = text("url").ok_or_else(|| bad(format!("requests[{index}].url is required.")))?;
        if url.contains("://") {
            return Err(bad(format!(
                "requests[{index}].url must be relative to the version, got '{url}'."
            )));
        }
        let mut headers: Vec<(String, String)> = envelope
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        if let Some(map) = obj.get("headers").and_then(Value::as_object) {
            for (k, v) in map {
                let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                headers.push((k.to_ascii_lowercase(), value));
            }
        }
        let body = obj.get("body").cloned().filter(|b| !b.is_null());
        if body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
            return Err(bad(format!(
                "requests[{index}] has a body but no Content-Type header."
            )));
        }
        let depends_on: Vec<String> = match obj.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(_) => {
                return Err(bad(format!(
                    "requests[{index}].dependsOn must be an array of ids."
                )));
            }
        };
        for dep in &depends_on {
            if !items.iter().any(|i| i.id.eq_ignore_ascii_case(dep)) {
                return Err(bad(format!(
                    "requests[{index}].dependsOn names '{dep}', which is not an earlier request."
                )));
            }
        }
        let relative = url.trim_start_matches('/');
        let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
        let path = format!("/{}", path.strip_prefix("v1.0/").unwrap_or(path));
        let query = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        items.push(Item {
            id,
            depends_on,
            request: GraphRequest {
                method,
                path,
                query,
                headers,
                body,
                origin: envelope.origin.clone(),
                arrived: envelope.arrived,
            },
        });
    }
    Ok(items)
}

fn item_json(id: &str, resp: &GraphResponse) -> Value {
    let mut headers = Map::new();
    for (k, v) in &resp.headers {
        if !k.eq_ignore_ascii_case("request-id") && !k.eq_ignore_ascii_case("client-request-id") {
            headers.insert(k.clone(), json!(v));
        }
    }
    let mut out = json!({"id": id, "status": resp.status, "headers": headers});
    if let Some(body) = &resp.body {
        out["body"] = body.clone();
    }
    out
}

/// Runs a batch; `Outcome::Drop` if an item's fault drops the connection.
pub async fn run(emulator: &Arc<Emulator>, envelope: GraphRequest) -> Outcome {
    let request_id = crate::ids::guid();
    let items = match parse(&envelope) {
        Ok(items) => items,
        Err(err) => return Outcome::Respond(GraphResponse::error(&err, &request_id, None)),
    };
    let mut results: Vec<(String, GraphResponse)> = Vec::with_capacity(items.len());
    let mut dropped = false;
    if items.iter().all(|i| i.depends_on.is_empty()) {
        let outcomes: Vec<(String, Outcome)> =
            futures_util::stream::iter(items.into_iter().map(|item| {
                let emulator = Arc::clone(emulator);
                async move { (item.id, graph::run(&emulator, item.request, true).await) }
            }))
            .buffer_unordered(PARALLEL_ITEMS)
            .collect()
            .await;
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Respond(resp) => results.push((id, resp)),
                Outcome::Drop => dropped = true,
            }
        }
    } else {
        for item in items {
            let failed_dependency = item.depends_on.iter().find(|dep| {
                results
                    .iter()
                    .find(|(id, _)| id.eq_ignore_ascii_case(dep))
                    .is_none_or(|(_, resp)| !(200..300).contains(&resp.status))
            });
            if let Some(dep) = failed_dependency {
                let err = GraphError::new(
                    424,
                    "FailedDependency",
                    format!("The request depends on request '{dep}', which failed."),
                );
                results.push((item.id, GraphResponse::error(&err, &request_id, None)));
                continue;
            }
            match graph::run(emulator, item.request, true).await {
                Outcome::Respond(resp) => results.push((item.id, resp)),
                Outcome::Drop => {
                    dropped = true;
                    results.push((
                        item.id,
                        GraphResponse {
                            status: 500,
                            headers: Vec::new(),
                            body: None,
                        },
                    ));
                }
            }
        }
    }
    if dropped {
        return Outcome::Drop;
    }
    results.shuffle(&mut rand::rng());
    let responses: Vec<Value> = results
        .iter()
        .map(|(id, resp)| item_json(id, resp))
        .collect();
    Outcome::Respond(GraphResponse {
        status: 200,
        headers: vec![
            ("request-id".into(), request_id),
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
        ],
        body: Some(json!({"responses": responses})),
    })
}
