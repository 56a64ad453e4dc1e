//! JSON batching: envelope, per-item results, dependsOn, validation, per-item throttling.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, json_of, meeting};
use reqwest::Method;
use serde_json::{Value, json};

async fn batch(env: &Env, token: &str, requests: Value) -> (u16, Value) {
    json_of(
        env.graph(Method::POST, token, "/$batch")
            .json(&json!({"requests": requests}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn by_id<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn items_run_with_their_own_status_headers_and_body() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let existing = env.create(&token, meeting("old", &[])).await;
    let (status, body) = batch(
        &env,
        &token,
        json!([
            {"id": "1", "method": "GET", "url": "/me/calendarView?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z",
             "headers": {"Prefer": "outlook.timezone=\"UTC\""}},
            {"id": "2", "method": "POST", "url": "/me/events", "headers": {"Content-Type": "application/json"}, "body": meeting("new", &[])},
            {"id": "3", "method": "DELETE", "url": format!("/me/events/{}", existing["id"].as_str().unwrap())},
            {"id": "4", "method": "GET", "url": "/me/events/AAMkAGNvdGhlcmUAAA="},
            {"id": "5", "method": "GET", "url": "/me/events/not*an*id"}
        ]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_id(&body, "1")["status"], 200);
    assert_eq!(
        by_id(&body, "1")["body"]["value"].as_array().unwrap().len(),
        1
    );
    assert!(by_id(&body, "1")["headers"]["Preference-Applied"].is_string());
    assert_eq!(by_id(&body, "2")["status"], 201);
    assert_eq!(by_id(&body, "2")["body"]["subject"], "new");
    assert_eq!(by_id(&body, "3")["status"], 204);
    assert_eq!(
        by_id(&body, "4")["status"],
        404,
        "a well-formed unknown id is not found"
    );
    assert_eq!(
        by_id(&body, "4")["body"]["error"]["code"],
        "ErrorItemNotFound"
    );
    assert_eq!(by_id(&body, "5")["status"], 400);
    assert_eq!(
        by_id(&body, "5")["body"]["error"]["code"],
        "ErrorInvalidIdMalformed"
    );

    let counters = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["batch_items"], 5);
    assert_eq!(counters["by_route"]["POST /v1.0/$batch"], 1);
    assert_eq!(counters["by_route"]["DELETE /v1.0/me/events/{id}"], 1);
    assert_eq!(counters["by_route"]["GET /v1.0/me/events/{id}"], 2);
    assert_eq!(counters["by_route"]["GET /v1.0/me/events/{id}"], 2);
}

#[tokio::test]
async fn a_failed_dependency_gives_424() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let (status, body) = batch(
        &env,
        &token,
        json!([
            {"id": "a", "method": "PATCH", "url": "/me/events/AAAA", "headers": {"Content-Type": "application/json"}, "body": {"subject": "x"}},
            {"id": "b", "dependsOn": ["A"], "method": "GET", "url": "/me"},
            {"id": "c", "dependsOn": ["b"], "method": "GET", "url": "/me"}
        ]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_id(&body, "a")["status"], 404);
    assert_eq!(by_id(&body, "b")["status"], 424);
    assert_eq!(by_id(&body, "c")["status"], 424);
}

#[tokio::test]
async fn malformed_envelopes_fail_as_a_whole() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let dup = json!([{"id": "x", "method": "GET", "url": "/me"}, {"id": "X", "method": "GET", "url": "/me"}]);
    assert_eq!(batch(&env, &token, dup).await.0, 400);
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    assert_eq!(batch(&env, &token, Value::Array(many)).await.0, 400);
    let no_type =
        json!([{"id": "1", "method": "POST", "url": "/me/events", "body": {"subject": "x"}}]);
    assert_eq!(batch(&env, &token, no_type).await.0, 400);
}

#[tokio::test]
async fn a_throttled_item_gets_429_inside_a_200_envelope() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.post_json(
        "/_emulator/faults",
        json!({"kind": "throttle", "retry_after": "2.5", "path_contains": "/me/events"}),
    )
    .await;
    let (status, body) = batch(
        &env,
        &token,
        json!([{"id": "1", "method": "GET", "url": "/me/events"}, {"id": "2", "method": "GET", "url": "/me"}]),
    )
    .await;
    assert_eq!(status, 200);
    let throttled = by_id(&body, "1");
    assert_eq!(throttled["status"], 429);
    assert_eq!(throttled["headers"]["Retry-After"], "2.5");
    assert_eq!(throttled["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(by_id(&body, "2")["status"], 200);
}
