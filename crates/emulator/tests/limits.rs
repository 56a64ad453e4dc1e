//! Service limits, service time, the Retry-After detector and injected faults.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Env, json_of, meeting};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn five_parallel_requests_over_a_limit_of_four_give_one_429() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"limits": true, "service_time_ms": 500}),
    )
    .await;
    let requests = (0..5).map(|_| env.graph(Method::GET, &token, "/me").send());
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        4,
        "{statuses:?}"
    );
    let counters = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["throttled"], 1);
}

#[tokio::test]
async fn the_rate_window_throttles_and_early_retries_count_as_violations() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"limits": true, "rate_limit": 3, "rate_window_s": 60}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            env.graph(Method::GET, &token, "/me")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let resp = env.graph(Method::GET, &token, "/me").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let (_, body) = json_of(resp).await;
    assert_eq!(body["error"]["code"], "TooManyRequests");
    // A request that may have left before the 429 reached the client is not its fault...
    env.graph(Method::GET, &token, "/me").send().await.unwrap();
    let counters = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["retry_after_violations"], 0);
    // ...one sent well after it, inside the Retry-After, is.
    tokio::time::sleep(outlook_emulator::VIOLATION_GRACE * 2).await;
    env.graph(Method::GET, &token, "/me").send().await.unwrap();
    let counters = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["retry_after_violations"], 1);
    // Other mailboxes are not affected.
    let other = env.token("b@contoso.com").await;
    assert_eq!(
        env.graph(Method::GET, &other, "/me")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn service_time_is_slept_per_request() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json("/_emulator/config", json!({"service_time_ms": 150}))
        .await;
    let started = Instant::now();
    env.graph(Method::GET, &token, "/me").send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn throttle_and_error_faults_match_filters_and_run_out() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.post_json("/_emulator/faults", json!({"kind": "throttle", "status": 503, "retry_after": 0.2, "method": "POST", "count": 2})).await;
    env.post_json(
        "/_emulator/faults",
        json!({"kind": "error", "path_contains": "/me/calendarView"}),
    )
    .await;
    assert_eq!(
        env.graph(Method::GET, &token, "/me")
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "method filter"
    );
    for _ in 0..2 {
        let resp = env
            .graph(Method::POST, &token, "/me/events")
            .json(&meeting("x", &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "0.2");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        env.graph(Method::POST, &token, "/me/events")
            .json(&meeting("x", &[]))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let (status, body) = json_of(
        env.graph(
            Method::GET,
            &token,
            "/me/calendarView?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 500);
    assert!(body["error"]["code"].is_string());
    let counters = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["retry_after_violations"], 0, "the client waited");
}

#[tokio::test]
async fn lose_response_does_the_write_and_reset_does_not() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.post_json(
        "/_emulator/faults",
        json!({"kind": "lose_response", "method": "POST"}),
    )
    .await;
    let mut ev = meeting("lost", &[]);
    ev["transactionId"] = json!("tx-1");
    let result = env
        .graph(Method::POST, &token, "/me/events")
        .json(&ev)
        .send()
        .await;
    assert!(result.is_err(), "the response was lost");
    let (status, body) = json_of(
        env.graph(Method::POST, &token, "/me/events")
            .json(&ev)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorDuplicateTransactionId"))
    );

    env.post_json(
        "/_emulator/faults",
        json!({"kind": "reset", "mailbox": "A@contoso.com"}),
    )
    .await;
    let mut ev = meeting("reset", &[]);
    ev["transactionId"] = json!("tx-2");
    assert!(
        env.graph(Method::POST, &token, "/me/events")
            .json(&ev)
            .send()
            .await
            .is_err()
    );
    assert_eq!(
        env.graph(Method::POST, &token, "/me/events")
            .json(&ev)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let stored = env
        .get_json("/_emulator/mailboxes/a@contoso.com/events")
        .await;
    let subjects: Vec<&str> = stored["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["lost", "reset"]);
}

#[tokio::test]
async fn config_and_reset_controls() {
    let env = Env::new();
    let config = env.get_json("/_emulator/config").await;
    assert_eq!(
        config,
        json!({"service_time_ms": 0, "limits": false, "max_concurrent": 4, "rate_limit": 10000, "rate_window_s": 600, "access_token_lifetime_s": 3599, "delta_page_size_default": 100, "delta_empty_pages": false, "delta_removed_outside_window": false, "change_key_rotation_ms": 0, "delta_replays": false, "webhook_validation_timeout_ms": 10000, "webhook_ack_timeout_ms": 3000, "webhook_retry_ms": [1000, 10000, 60000]})
    );
    let resp = env
        .http
        .put(env.url("/_emulator/config"))
        .json(&json!({"limitz": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let token = env.token("a@contoso.com").await;
    env.put_json("/_emulator/config", json!({"access_token_lifetime_s": 60}))
        .await;
    env.post_json("/_emulator/reset", json!({})).await;
    let (status, _) = json_of(env.graph(Method::GET, &token, "/me").send().await.unwrap()).await;
    assert_eq!(status, 401, "tokens are forgotten");
    let counters: Value = env.get_json("/_emulator/requests").await;
    assert_eq!(counters["total"], 1);
}

#[tokio::test]
async fn items_of_one_batch_are_not_early_retries_but_a_hasty_next_request_is() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"limits": true, "max_concurrent": 2, "service_time_ms": 100}),
    )
    .await;
    let requests: Vec<Value> = (0..6)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let resp = env
        .graph(Method::POST, &token, "/$batch")
        .json(&json!({"requests": requests}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let throttled = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    assert!(
        throttled >= 2,
        "four items at once over a limit of two: {body}"
    );
    assert_eq!(
        env.get_json("/_emulator/requests").await["retry_after_violations"],
        0
    );
    env.graph(Method::GET, &token, "/me").send().await.unwrap();
    assert_eq!(
        env.get_json("/_emulator/requests").await["retry_after_violations"],
        1
    );
}
