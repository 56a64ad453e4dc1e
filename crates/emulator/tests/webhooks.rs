//! Change notifications: subscriptions CRUD and rules, the validation handshake, delivery with retries, and
//! lifecycle events, against a small webhook listener on 127.0.0.1.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::{Env, json_of, meeting};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};

/// How the listener answers a validation handshake.
#[derive(Debug, Clone, Copy)]
enum Handshake {
    /// 200, text/plain, the decoded token: correct.
    Echo,
    /// The token as it appeared in the URL, still percent-encoded.
    Undecoded,
    /// The right body with a JSON content type.
    WrongType,
    /// This status.
    Status(u16),
    /// The right answer, after this many ms.
    Slow(u64),
}

/// A request the listener received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: String,
    content_type: String,
    body: String,
}

#[derive(Clone)]
struct Hook {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
    handshake: Arc<Mutex<Handshake>>,
    /// (status, delay in ms) for the next notifications; 202 at once when empty.
    answers: Arc<Mutex<VecDeque<(u16, u64)>>>,
}

impl Hook {
    async fn start() -> Hook {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hook = Hook {
            base,
            received: Arc::default(),
            handshake: Arc::new(Mutex::new(Handshake::Echo)),
            answers: Arc::default(),
        };
        let state = hook.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let hook = state.clone();
            async move { hook.answer(uri, headers, body).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        hook
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn answer(&self, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let query = uri.query().unwrap_or("").to_owned();
        self.received.lock().unwrap().push(Received {
            path: uri.path().to_owned(),
            query: query.clone(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let raw_token = query
            .split('&')
            .find_map(|p| p.strip_prefix("validationToken="))
            .map(str::to_owned);
        if let Some(raw) = raw_token {
            let token: String = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "validationToken")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let mode = *self.handshake.lock().unwrap();
            let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
            return match mode {
                Handshake::Echo => (plain, token).into_response(),
                Handshake::Undecoded => (plain, raw).into_response(),
                Handshake::WrongType => {
                    ([(header::CONTENT_TYPE, "application/json")], token).into_response()
                }
                Handshake::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
                Handshake::Slow(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    (plain, token).into_response()
                }
            };
        }
        let (status, delay) = self.answers.lock().unwrap().pop_front().unwrap_or((202, 0));
        tokio::time::sleep(Duration::from_millis(delay)).await;
        StatusCode::from_u16(status).unwrap().into_response()
    }

    /// Notification and lifecycle payloads received at `path` (handshakes excluded).
    fn payloads(&self, path: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path && !r.query.contains("validationToken="))
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    /// Waits until `n` payloads reached `path`, then returns all of them.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.payloads(path);
            if got.len() >= n || Instant::now() > deadline {
                assert!(
                    got.len() >= n,
                    "expected {n} payloads at {path}, got {got:?}"
                );
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn in_minutes(minutes: i64) -> String {
    Timestamp::now()
        .checked_add(SignedDuration::from_mins(minutes))
        .unwrap()
        .to_string()
}

fn subscription(hook: &Hook, change_type: &str) -> Value {
    json!({
        "changeType": change_type,
        "notificationUrl": hook.url("/notify?source=graph"),
        "resource": "/me/events",
        "expirationDateTime": in_minutes(60 * 24),
        "clientState": "k3y-per-subscription",
    })
}

async fn subscribe(env: &Env, token: &str, body: Value) -> (u16, Value) {
    json_of(
        env.graph(Method::POST, token, "/subscriptions")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn deliveries(env: &Env) -> Vec<Value> {
    env.get_json("/_emulator/notifications").await["deliveries"]
        .as_array()
        .unwrap()
        .clone()
}

/// The delivery log once it holds at least `n` entries of `kind` (or after 5 s, whatever it holds).
async fn deliveries_logged(env: &Env, kind: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = deliveries(env).await;
        let logged = log.iter().filter(|d| d["kind"] == kind).count();
        if logged >= n || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn create_runs_the_validation_handshake_and_answers_201() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    let (status, sub) =
        subscribe(&env, &token, subscription(&hook, "created,updated,deleted")).await;
    assert_eq!(status, 201, "{sub}");
    assert_eq!(sub["changeType"], "created,updated,deleted");
    assert_eq!(sub["resource"], "/me/events");
    assert_eq!(sub["clientState"], "k3y-per-subscription");
    assert_eq!(sub["notificationUrl"], hook.url("/notify?source=graph"));
    assert!(sub["expirationDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        sub["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#subscriptions/$entity")
    );

    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let handshake = &received[0];
    assert_eq!(handshake.path, "/notify");
    assert!(
        handshake.query.starts_with("source=graph&validationToken="),
        "the URL's own query is kept"
    );
    assert!(handshake.content_type.starts_with("text/plain"));
    assert!(handshake.body.is_empty());

    let log = deliveries(&env).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "validation");
    assert_eq!(log[0]["delivered"], true);
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["subscription_ids"], json!([sub["id"]]));
}

#[tokio::test]
async fn a_failed_handshake_creates_nothing() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"webhook_validation_timeout_ms": 300}),
    )
    .await;
    for mode in [
        Handshake::Undecoded,
        Handshake::WrongType,
        Handshake::Status(500),
        Handshake::Slow(1_000),
    ] {
        *hook.handshake.lock().unwrap() = mode;
        let (status, body) = subscribe(&env, &token, subscription(&hook, "created")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("ValidationError")),
            "{mode:?}: {body}"
        );
    }
    let list = env
        .graph(Method::GET, &token, "/subscriptions")
        .send()
        .await
        .unwrap();
    let (_, list) = json_of(list).await;
    assert_eq!(list["value"], json!([]));
    let log = deliveries(&env).await;
    assert_eq!(log.len(), 4);
    assert!(
        log.iter()
            .all(|d| d["delivered"] == false && d["error"].is_string())
    );

    // An endpoint nobody listens on fails too.
    let mut body = subscription(&hook, "created");
    body["notificationUrl"] = json!("http://127.0.0.1:9/notify");
    let (status, _) = subscribe(&env, &token, body).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn subscription_rules_follow_graph() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    let other = env.token("b@contoso.com").await;
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_owned();

    let mut long = subscription(&hook, "created");
    long["expirationDateTime"] = json!(in_minutes(10_081));
    let (status, body) = subscribe(&env, &token, long).await;
    assert_eq!((status, code(&body).as_str()), (400, "InvalidRequest"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expirationDateTime")
    );

    let mut state = subscription(&hook, "created");
    state["clientState"] = json!("x".repeat(129));
    let (status, body) = subscribe(&env, &token, state).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("clientState")
    );

    for (field, value, expected) in [
        ("changeType", json!("created,moved"), 400),
        ("changeType", json!("created,created"), 400),
        ("resource", json!("/me/messages"), 400),
        ("resource", json!("/me/events?$filter=subject eq 'x'"), 400),
        ("resource", json!("/users/b@contoso.com/events"), 403),
        ("notificationUrl", json!("ftp://127.0.0.1/notify"), 400),
        ("expirationDateTime", json!("2001-01-01T00:00:00Z"), 400),
        ("includeResourceData", json!(true), 400),
        ("unknownThing", json!(1), 400),
    ] {
        let mut body = subscription(&hook, "created");
        body[field] = value.clone();
        let (status, answer) = subscribe(&env, &token, body).await;
        assert_eq!(status, expected, "{field} = {value}: {answer}");
    }
    assert!(
        hook.received.lock().unwrap().is_empty(),
        "bad requests never reach the endpoint"
    );

    // Short lifetimes are raised to 45 minutes; /users/{own address}/events is the same resource as /me/events.
    let mut short = subscription(&hook, "created");
    short["expirationDateTime"] = json!(in_minutes(5));
    short["resource"] = json!("/users/a@contoso.com/events");
    let (status, sub) = subscribe(&env, &token, short).await;
    assert_eq!(status, 201);
    let expires: Timestamp = sub["expirationDateTime"].as_str().unwrap().parse().unwrap();
    let minutes = Timestamp::now().duration_until(expires).as_secs() / 60;
    assert!((44..=45).contains(&minutes), "{minutes}");

    // Same change types on the same mailbox: 409; other change types or another mailbox: fine.
    let (status, body) = subscribe(&env, &token, subscription(&hook, "created")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(sub["id"].as_str().unwrap())
    );
    let (status, _) = subscribe(&env, &token, subscription(&hook, "created,deleted")).await;
    assert_eq!(status, 201);
    let (status, _) = subscribe(&env, &other, subscription(&hook, "created")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn subscriptions_can_be_read_renewed_reauthorized_and_deleted() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    let other = env.token("b@contoso.com").await;
    let (_, sub) = subscribe(&env, &token, subscription(&hook, "updated")).await;
    let path = format!("/subscriptions/{}", sub["id"].as_str().unwrap());

    let (status, list) = json_of(
        env.graph(Method::GET, &token, "/subscriptions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (status, one) = json_of(env.graph(Method::GET, &token, &path).send().await.unwrap()).await;
    assert_eq!((status, &one["id"]), (200, &sub["id"]));
    let (status, _) = json_of(env.graph(Method::GET, &other, &path).send().await.unwrap()).await;
    assert_eq!(status, 404, "another mailbox does not see it");

    let renewed_to = in_minutes(60 * 24 * 6);
    let (status, renewed) = json_of(
        env.graph(Method::PATCH, &token, &path)
            .json(&json!({"expirationDateTime": renewed_to}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let got: Timestamp = renewed["expirationDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Graph shows seven fractional digits.
    let asked: Timestamp = renewed_to.parse().unwrap();
    assert!(asked.duration_until(got).abs() < SignedDuration::from_micros(1));
    let (status, _) = json_of(
        env.graph(Method::PATCH, &token, &path)
            .json(&json!({"expirationDateTime": in_minutes(20_000)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    let reauthorize = format!("{path}/reauthorize");
    let resp = env
        .graph(Method::POST, &token, &reauthorize)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    let resp = env
        .graph(Method::DELETE, &token, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (status, body) = json_of(env.graph(Method::GET, &token, &path).send().await.unwrap()).await;
    assert_eq!(status, 404, "{body}");
    let resp = env
        .graph(Method::DELETE, &token, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn event_changes_are_notified_with_graph_payloads() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    let me = env.graph(Method::GET, &token, "/me").send().await.unwrap();
    let user_id = json_of(me).await.1["id"].as_str().unwrap().to_owned();
    let (_, all) = subscribe(&env, &token, subscription(&hook, "created,updated,deleted")).await;
    let mut deletes = subscription(&hook, "deleted");
    deletes["notificationUrl"] = json!(hook.url("/deletes"));
    deletes["clientState"] = json!("other-secret");
    let (_, only_deletes) = subscribe(&env, &token, deletes).await;

    let created = env.create(&token, meeting("m", &[])).await;
    let id = created["id"].as_str().unwrap();
    let got = hook.wait_for("/notify", 1).await;
    let item = &got[0]["value"][0];
    let resource = format!("Users/{user_id}/Events/{id}");
    assert_eq!(item["subscriptionId"], all["id"]);
    assert_eq!(
        item["subscriptionExpirationDateTime"],
        all["expirationDateTime"]
    );
    assert_eq!(item["clientState"], "k3y-per-subscription");
    assert_eq!(item["changeType"], "created");
    assert_eq!(item["resource"], resource);
    assert_eq!(item["tenantId"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(
        item["resourceData"],
        json!({"@odata.type": "#Microsoft.Graph.Event", "@odata.id": resource, "@odata.etag": created["@odata.etag"], "id": id})
    );
    let received = hook.received.lock().unwrap().clone();
    let post = received
        .iter()
        .find(|r| r.path == "/notify" && !r.query.contains("validationToken"))
        .unwrap();
    assert_eq!(
        post.query, "source=graph",
        "posted to the registered URL, query and all"
    );
    assert!(post.content_type.starts_with("application/json"));

    let patched = env
        .graph(Method::PATCH, &token, &format!("/me/events/{id}"))
        .json(&json!({"subject": "renamed"}))
        .send()
        .await
        .unwrap();
    let (_, patched) = json_of(patched).await;
    let got = hook.wait_for("/notify", 2).await;
    assert_eq!(got[1]["value"][0]["changeType"], "updated");
    assert_eq!(
        got[1]["value"][0]["resourceData"]["@odata.etag"],
        patched["@odata.etag"]
    );

    let resp = env
        .graph(Method::DELETE, &token, &format!("/me/events/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let got = hook.wait_for("/notify", 3).await;
    assert_eq!(got[2]["value"][0]["changeType"], "deleted");
    assert_eq!(got[2]["value"][0]["resourceData"]["id"], id);

    let deletes = hook.wait_for("/deletes", 1).await;
    assert_eq!(
        deletes.len(),
        1,
        "the deleted-only subscription hears only the delete"
    );
    assert_eq!(deletes[0]["value"][0]["subscriptionId"], only_deletes["id"]);
    assert_eq!(deletes[0]["value"][0]["clientState"], "other-secret");

    // Seeding is a change too; reads are not.
    env.post_json(
        "/_emulator/mailboxes/a@contoso.com/seed",
        json!({"events": [meeting("seeded", &[])]}),
    )
    .await;
    let got = hook.wait_for("/notify", 4).await;
    assert_eq!(got[3]["value"][0]["changeType"], "created");
    env.graph(Method::GET, &token, "/me/events")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hook.payloads("/notify").len(), 4);
}

#[tokio::test]
async fn attendee_copies_notify_the_attendee_subscription() {
    let env = Env::new();
    let hook = Hook::start().await;
    let organiser = env.token("a@contoso.com").await;
    let attendee = env.token("b@contoso.com").await;
    let mut body = subscription(&hook, "created");
    body["notificationUrl"] = json!(hook.url("/b"));
    let (status, _) = subscribe(&env, &attendee, body).await;
    assert_eq!(status, 201);
    env.create(&organiser, meeting("m", &["b@contoso.com"]))
        .await;
    let got = hook.wait_for("/b", 1).await;
    assert_eq!(got[0]["value"][0]["changeType"], "created");
}

#[tokio::test]
async fn failed_deliveries_are_retried_then_given_up() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"webhook_ack_timeout_ms": 300, "webhook_retry_ms": [50, 50]}),
    )
    .await;
    subscribe(&env, &token, subscription(&hook, "created")).await;

    // A 500, then an answer slower than the ack timeout, then a 202: three attempts, the last delivered.
    hook.answers
        .lock()
        .unwrap()
        .extend([(500, 0), (202, 800), (202, 0)]);
    env.create(&token, meeting("m1", &[])).await;
    let got = hook.wait_for("/notify", 3).await;
    assert!(
        got.iter().all(|p| p == &got[0]),
        "each retry posts the same payload"
    );
    // The hook has its third post before the emulator has logged that attempt's answer.
    let log = deliveries_logged(&env, "notification", 3).await;
    let attempts: Vec<(u64, bool)> = log
        .iter()
        .filter(|d| d["kind"] == "notification")
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["delivered"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, false), (2, false), (3, true)]);

    // Failing every time: 1 + 2 retries, then it stops.
    env.http
        .delete(env.url("/_emulator/notifications"))
        .send()
        .await
        .unwrap();
    hook.answers
        .lock()
        .unwrap()
        .extend([(503, 0), (503, 0), (503, 0), (503, 0)]);
    env.create(&token, meeting("m2", &[])).await;
    hook.wait_for("/notify", 6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.payloads("/notify").len(), 6);
    let log = deliveries(&env).await;
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|d| d["status"] == 503 && d["delivered"] == false)
    );
}

#[tokio::test]
async fn deliveries_never_slow_the_graph_request() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    subscribe(&env, &token, subscription(&hook, "created")).await;
    hook.answers.lock().unwrap().push_back((202, 1_500));
    let started = Instant::now();
    env.create(&token, meeting("m", &[])).await;
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn lifecycle_events_fire_on_demand() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    let mut body = subscription(&hook, "created");
    body["lifecycleNotificationUrl"] = json!(hook.url("/lifecycle"));
    let (status, sub) = subscribe(&env, &token, body).await;
    assert_eq!(status, 201);
    assert_eq!(sub["lifecycleNotificationUrl"], hook.url("/lifecycle"));
    let handshakes: Vec<String> = hook
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        handshakes,
        ["/notify", "/lifecycle"],
        "both URLs are validated"
    );

    // reauthorizationRequired: notifications pause until reauthorize.
    let fired = env
        .post_json(
            "/_emulator/subscriptions/lifecycle",
            json!({"event": "reauthorizationRequired", "mailbox": "a@contoso.com"}),
        )
        .await;
    assert_eq!(fired["subscriptions"], json!([sub["id"]]));
    let got = hook.wait_for("/lifecycle", 1).await;
    assert_eq!(
        got[0]["value"][0],
        json!({"subscriptionId": sub["id"], "subscriptionExpirationDateTime": sub["expirationDateTime"],
               "tenantId": "00000000-0000-0000-0000-000000000000", "clientState": "k3y-per-subscription",
               "lifecycleEvent": "reauthorizationRequired"})
    );
    env.create(&token, meeting("while paused", &[])).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        hook.payloads("/notify").is_empty(),
        "paused until reauthorized"
    );
    let reauthorize = format!("/subscriptions/{}/reauthorize", sub["id"].as_str().unwrap());
    env.graph(Method::POST, &token, &reauthorize)
        .send()
        .await
        .unwrap();
    env.create(&token, meeting("after", &[])).await;
    hook.wait_for("/notify", 1).await;

    env.post_json(
        "/_emulator/subscriptions/lifecycle",
        json!({"event": "missed"}),
    )
    .await;
    let got = hook.wait_for("/lifecycle", 2).await;
    assert_eq!(got[1]["value"][0]["lifecycleEvent"], "missed");

    env.post_json(
        "/_emulator/subscriptions/lifecycle",
        json!({"event": "subscriptionRemoved"}),
    )
    .await;
    let got = hook.wait_for("/lifecycle", 3).await;
    assert_eq!(got[2]["value"][0]["lifecycleEvent"], "subscriptionRemoved");
    let path = format!("/subscriptions/{}", sub["id"].as_str().unwrap());
    let resp = env.graph(Method::GET, &token, &path).send().await.unwrap();
    assert_eq!(resp.status(), 404, "subscriptionRemoved deletes it");

    let resp = env
        .http
        .post(env.url("/_emulator/subscriptions/lifecycle"))
        .json(&json!({"event": "expired"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn batch_items_notify_like_plain_requests() {
    let env = Env::new();
    let hook = Hook::start().await;
    let token = env.token("a@contoso.com").await;
    subscribe(&env, &token, subscription(&hook, "created")).await;
    let item = |id: &str| {
        json!({"id": id, "method": "POST", "url": "/me/events",
               "headers": {"Content-Type": "application/json"}, "body": meeting(id, &[])})
    };
    let resp = env
        .graph(Method::POST, &token, "/$batch")
        .json(&json!({"requests": [item("1"), item("2")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got = hook.wait_for("/notify", 2).await;
    let mut ids: Vec<&str> = got
        .iter()
        .map(|p| p["value"][0]["resourceData"]["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2, "one notification per created event");
}
