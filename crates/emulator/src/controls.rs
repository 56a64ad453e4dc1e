//! Test controls under `/_emulator` (not part of Graph): reset, mailboxes and tokens, seeding, the outbox,
//! request counters, configuration, faults, identity knobs, token expiry.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::events::{self, WriteOptions};
use crate::identity::OAuthKnobs;
use crate::notify::{self, LifecycleEvent};
use crate::render::{self, RenderOptions};
use crate::server::Emulator;
use crate::store::{Config, Fault, World};

type Shared = State<Arc<Emulator>>;

/// The control routes, to nest under `/_emulator`.
pub fn routes() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/reset", post(reset))
        .route("/mailboxes/{address}/token", post(issue_token))
        .route("/mailboxes/{address}/seed", post(seed))
        .route("/mailboxes/{address}/events", get(mailbox_events))
        .route("/outbox", get(outbox).delete(clear_outbox))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/config", get(get_config).put(put_config))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/tokens/expire", post(expire_tokens))
        .route("/oauth", put(put_oauth))
        .route("/delta/expire", post(expire_delta))
        .route("/subscriptions/lifecycle", post(fire_lifecycle))
        .route(
            "/notifications",
            get(list_notifications).delete(clear_notifications),
        )
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// Parses a JSON body; an empty body is `{}`.
fn parse<T: DeserializeOwned>(body: &Bytes, what: &str) -> Result<T, String> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| format!("invalid {what} body: {e}"))
}

async fn reset(State(emulator): Shared) -> Response {
    emulator.with_world(|w| *w = World::default());
    ok(json!({"reset": true}))
}

async fn issue_token(State(emulator): Shared, Path(address): Path<String>) -> Response {
    if !address.contains('@') {
        return bad_request(format!("mailbox address '{address}' must contain '@'"));
    }
    let out = emulator.with_world(|w| {
        let key = w.ensure_mailbox(&address);
        w.identity.revoked.remove(&key);
        let lifetime = w.config.access_token_lifetime_s;
        w.identity.issue_tokens(
            &key,
            "openid profile offline_access User.Read Calendars.ReadWrite",
            lifetime,
            true,
        )
    });
    ok(out)
}

async fn seed(State(emulator): Shared, Path(address): Path<String>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Seed {
        events: Vec<Value>,
    }
    let seed: Seed = match parse(&body, "seed") {
        Ok(s) => s,
        Err(message) => return bad_request(message),
    };
    let (result, deliveries) = emulator.with_world(|w| {
        let key = w.ensure_mailbox(&address);
        // Seeded events are created like any other, so subscriptions hear of them.
        let before = notify::snapshot(w);
        let mut ids = Vec::with_capacity(seed.events.len());
        let mut failed = None;
        for (index, event) in seed.events.iter().enumerate() {
            match events::create(w, &key, event, WriteOptions { send_mail: false }) {
                Ok(id) => ids.push(id),
                Err(err) => {
                    failed = Some((index, err));
                    break;
                }
            }
        }
        let deliveries = before.map(|b| notify::changes(w, b)).unwrap_or_default();
        (failed.map_or(Ok(ids), Err), deliveries)
    });
    notify::spawn(&emulator, deliveries);
    match result {
        Ok(ids) => ok(json!({"ids": ids})),
        Err((index, err)) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": format!("events[{index}]: {}: {}", err.code, err.message), "index": index, "graph_error": err.body("seed", None)})),
        )
            .into_response(),
    }
}

async fn mailbox_events(State(emulator): Shared, Path(address): Path<String>) -> Response {
    let found = emulator.with_world(|w| {
        let key = address.to_ascii_lowercase();
        w.rotate_due_change_keys(&key);
        let mailbox = w.mailboxes.get(&key)?;
        let mut list: Vec<_> = mailbox.events.values().collect();
        list.sort_by_key(|e| e.seq);
        let opts = RenderOptions::default();
        let value: Vec<Value> = list
            .into_iter()
            .map(|ev| {
                let mut out = render::event(ev, &opts);
                if ev.recurrence.is_some() {
                    out.insert(
                        "cancelledOccurrences".into(),
                        render::cancelled_occurrences(ev),
                    );
                    let exceptions: Vec<Value> = ev
                        .exceptions
                        .keys()
                        .map(|d| Value::Object(render::occurrence(ev, *d, &opts)))
                        .collect();
                    out.insert("exceptionOccurrences".into(), Value::Array(exceptions));
                }
                Value::Object(out)
            })
            .collect();
        Some(value)
    });
    match found {
        Some(value) => ok(json!({"value": value})),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": format!("no mailbox '{address}'")})),
        )
            .into_response(),
    }
}

async fn outbox(State(emulator): Shared) -> Response {
    let mails = emulator.with_world(|w| serde_json::to_value(&w.outbox).unwrap_or(Value::Null));
    ok(json!({"mails": mails}))
}

async fn clear_outbox(State(emulator): Shared) -> Response {
    emulator.with_world(|w| w.outbox.clear());
    ok(json!({"mails": []}))
}

async fn requests(State(emulator): Shared) -> Response {
    ok(emulator.with_world(|w| serde_json::to_value(&w.counters).unwrap_or(Value::Null)))
}

async fn clear_requests(State(emulator): Shared) -> Response {
    emulator.with_world(|w| w.counters = Default::default());
    ok(json!({"cleared": true}))
}

async fn get_config(State(emulator): Shared) -> Response {
    ok(emulator.with_world(|w| serde_json::to_value(&w.config).unwrap_or(Value::Null)))
}

async fn put_config(State(emulator): Shared, body: Bytes) -> Response {
    let patch: serde_json::Map<String, Value> = match parse(&body, "config") {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    emulator.with_world(|w| {
        let mut current = serde_json::to_value(&w.config).unwrap_or_else(|_| json!({}));
        for (key, value) in patch {
            if current.get(&key).is_none() {
                return bad_request(format!("unknown config key '{key}'"));
            }
            current[&key] = value;
        }
        match serde_json::from_value::<Config>(current) {
            Ok(config) if config.max_concurrent == 0 || config.rate_limit == 0 => {
                bad_request("max_concurrent and rate_limit must be at least 1")
            }
            Ok(config) => {
                w.config = config;
                ok(serde_json::to_value(&w.config).unwrap_or(Value::Null))
            }
            Err(e) => bad_request(format!("invalid config value: {e}")),
        }
    })
}

async fn list_faults(State(emulator): Shared) -> Response {
    ok(emulator
        .with_world(|w| json!({"faults": serde_json::to_value(&w.faults).unwrap_or(Value::Null)})))
}

async fn add_fault(State(emulator): Shared, body: Bytes) -> Response {
    let fault: Fault = match parse(&body, "fault") {
        Ok(f) => f,
        Err(message) => return bad_request(message),
    };
    if fault.count == 0 {
        return bad_request("fault count must be at least 1");
    }
    if let Some(status) = fault.status
        && !(400..=599).contains(&status)
    {
        return bad_request(format!("fault status {status} is not an HTTP error status"));
    }
    if let Some(retry) = &fault.retry_after {
        let seconds = retry
            .as_f64()
            .or_else(|| retry.as_str().and_then(|s| s.parse().ok()));
        if seconds.is_none_or(|s: f64| s < 0.0) {
            return bad_request(format!(
                "fault retry_after must be a non-negative number of seconds, got {retry}"
            ));
        }
    }
    ok(emulator.with_world(|w| {
        w.faults.push_back(fault);
        json!({"pending": w.faults.len()})
    }))
}

async fn clear_faults(State(emulator): Shared) -> Response {
    emulator.with_world(|w| w.faults.clear());
    ok(json!({"pending": 0}))
}

#[derive(serde::Deserialize, Default)]
struct MailboxFilter {
    #[serde(default)]
    mailbox: Option<String>,
}

async fn expire_tokens(State(emulator): Shared, body: Bytes) -> Response {
    let filter: MailboxFilter = match parse(&body, "expire") {
        Ok(f) => f,
        Err(message) => return bad_request(message),
    };
    emulator.with_world(|w| {
        let key = filter.mailbox.as_deref().map(str::to_ascii_lowercase);
        w.identity.expire_access(key.as_deref());
    });
    ok(json!({"expired": true}))
}

async fn expire_delta(State(emulator): Shared, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Expire {
        #[serde(default)]
        mailbox: Option<String>,
        /// Answer `410` with a `Location` to a fresh round instead of `SyncStateNotFound`.
        #[serde(default)]
        reset: bool,
    }
    let expire: Expire = match parse(&body, "delta expire") {
        Ok(f) => f,
        Err(message) => return bad_request(message),
    };
    emulator.with_world(|w| {
        let key = expire.mailbox.as_deref().map(str::to_ascii_lowercase);
        for (k, mailbox) in w.mailboxes.iter_mut() {
            if key.as_deref().is_none_or(|m| m == k) {
                if expire.reset {
                    mailbox.delta.reset();
                } else {
                    mailbox.delta.expire();
                }
            }
        }
    });
    ok(json!({"expired": true, "reset": expire.reset}))
}

async fn fire_lifecycle(State(emulator): Shared, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fire {
        event: LifecycleEvent,
        #[serde(default)]
        mailbox: Option<String>,
    }
    let fire: Fire = match parse(&body, "lifecycle") {
        Ok(f) => f,
        Err(message) => {
            return bad_request(format!(
                "{message} ('event' must be reauthorizationRequired, subscriptionRemoved or missed)"
            ));
        }
    };
    let key = fire.mailbox.as_deref().map(str::to_ascii_lowercase);
    let (ids, deliveries) =
        emulator.with_world(|w| notify::lifecycle(w, fire.event, key.as_deref()));
    let posts = deliveries.len();
    notify::spawn(&emulator, deliveries);
    ok(json!({"subscriptions": ids, "posts": posts}))
}

async fn list_notifications(State(emulator): Shared) -> Response {
    let deliveries = emulator
        .with_world(|w| serde_json::to_value(&w.webhooks.deliveries).unwrap_or(Value::Null));
    ok(json!({"deliveries": deliveries}))
}

async fn clear_notifications(State(emulator): Shared) -> Response {
    emulator.with_world(|w| w.webhooks.deliveries.clear());
    ok(json!({"deliveries": []}))
}

async fn put_oauth(State(emulator): Shared, body: Bytes) -> Response {
    let patch: serde_json::Map<String, Value> = match parse(&body, "oauth") {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    emulator.with_world(|w| {
        let knobs = &mut w.identity.knobs;
        for (key, value) in &patch {
            let bool_of = |v: &Value| v.as_bool().ok_or_else(|| format!("oauth '{key}' must be a boolean"));
            let result: Result<(), String> = match key.as_str() {
                "client_secret" => match value {
                    Value::Null => {
                        knobs.client_secret = None;
                        Ok(())
                    }
                    Value::String(s) => {
                        knobs.client_secret = Some(s.clone());
                        Ok(())
                    }
                    _ => Err("oauth 'client_secret' must be a string or null".to_owned()),
                },
                "secret_expired" => bool_of(value).map(|b| knobs.secret_expired = b),
                "deny_consent" => bool_of(value).map(|b| knobs.deny_consent = b),
                "strict_rotation" => bool_of(value).map(|b| knobs.strict_rotation = b),
                "fail_next_token" => match value {
                    Value::Null => {
                        knobs.fail_next_token = None;
                        Ok(())
                    }
                    Value::String(s) if ["invalid_grant", "invalid_client", "interaction_required"].contains(&s.as_str()) => {
                        knobs.fail_next_token = Some(s.clone());
                        Ok(())
                    }
                    other => Err(format!(
                        "oauth 'fail_next_token' must be invalid_grant, invalid_client, interaction_required or null, got {other}"
                    )),
                },
                "revoke_mailbox" => match value.as_str() {
                    Some(address) => {
                        w.identity.revoked.insert(address.to_ascii_lowercase());
                        Ok(())
                    }
                    None => Err("oauth 'revoke_mailbox' must be an address".to_owned()),
                },
                other => Err(format!("unknown oauth key '{other}'")),
            };
            if let Err(message) = result {
                return bad_request(message);
            }
        }
        let knobs: &OAuthKnobs = &w.identity.knobs;
        ok(json!({
            "client_secret_configured": knobs.client_secret.is_some(),
            "secret_expired": knobs.secret_expired,
            "deny_consent": knobs.deny_consent,
            "fail_next_token": knobs.fail_next_token,
            "strict_rotation": knobs.strict_rotation,
        }))
    })
}
