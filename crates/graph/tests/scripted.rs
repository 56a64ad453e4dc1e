//! Request-shape and retry-policy tests against a tiny scripted HTTP server: for behaviour the
//! emulator does not produce on demand (non-JSON error bodies, foreign links, counted refreshes).
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use outlook_graph::{
    AppCredentials, BatchRequest, ClientOptions, Endpoints, GraphClient, GraphError, OAuthClient,
    Secret, TokenSet, http_client,
};
use serde_json::json;

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

/// A canned answer: status, extra headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<Seen>>,
    /// Answers for Graph calls, consumed in order; afterwards `200 {"ok": true}`.
    script: Mutex<VecDeque<Canned>>,
    valid_token: Mutex<String>,
    refreshes: Mutex<u32>,
    /// Canned token-endpoint answers, consumed in order; afterwards fresh tokens.
    token_answers: Mutex<VecDeque<(u16, String)>>,
    token_calls: Mutex<u32>,
    /// Answer every Graph call with 401, whatever the token.
    reject_all: Mutex<bool>,
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    fake.seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        headers: headers.clone(),
        body,
        at: Instant::now(),
    });
    if path.ends_with("/oauth2/v2.0/token") {
        *fake.token_calls.lock().unwrap() += 1;
        let canned = fake.token_answers.lock().unwrap().pop_front();
        if let Some((status, body)) = canned {
            return (StatusCode::from_u16(status).unwrap(), body).into_response();
        }
        // Slow enough that concurrent 401s overlap with the refresh.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = {
            let mut refreshes = fake.refreshes.lock().unwrap();
            *refreshes += 1;
            *refreshes
        };
        *fake.valid_token.lock().unwrap() = format!("at-{n}");
        let body = json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"),
            "expires_in": 3599, "token_type": "Bearer", "scope": "Calendars.ReadWrite"});
        return ([("content-type", "application/json")], body.to_string()).into_response();
    }
    let expected = format!("Bearer {}", fake.valid_token.lock().unwrap());
    let rejected = *fake.reject_all.lock().unwrap();
    if rejected
        || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str())
    {
        let body = json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}});
        return (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let next = fake.script.lock().unwrap().pop_front();
    match next {
        Some((status, extra, body)) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (name, value) in extra {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        None => (
            [("content-type", "application/json")],
            json!({"ok": true}).to_string(),
        )
            .into_response(),
    }
}

struct Setup {
    fake: Arc<Fake>,
    client: GraphClient,
    /// The fake server's base URL, for links the client takes as its own.
    base: String,
}

async fn setup(options: ClientOptions, token_valid_for: i64) -> Setup {
    let fake = Arc::new(Fake::default());
    *fake.valid_token.lock().unwrap() = "at-0".to_owned();
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let endpoints = Endpoints {
        login_url: base.clone(),
        tenant: "common".into(),
        graph_url: base.clone(),
    };
    let http = http_client(&options).unwrap();
    let oauth = OAuthClient::new(
        http.clone(),
        endpoints.clone(),
        AppCredentials {
            client_id: "app".into(),
            client_secret: Some(Secret::from("s3cret")),
            redirect_uri: "http://localhost/cb".into(),
        },
    )
    .unwrap();
    let tokens = TokenSet {
        access_token: Secret::from("at-0"),
        refresh_token: Some(Secret::from("rt-0")),
        expires_at: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(token_valid_for),
        scope: None,
    };
    let client = GraphClient::new(http, endpoints, Some(oauth), tokens, options);
    Setup { fake, client, base }
}

fn fast() -> ClientOptions {
    ClientOptions {
        max_attempts: 3,
        max_total_wait: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

fn script(fake: &Fake, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
    fake.script
        .lock()
        .unwrap()
        .push_back((status, headers, body.to_owned()));
}

fn graph_calls(fake: &Fake) -> Vec<Seen> {
    fake.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path.starts_with("/v1.0"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_request_carries_auth_prefer_and_correlation_headers() {
    let s = setup(
        ClientOptions {
            time_zone: "W. Europe Standard Time".into(),
            body_type: "text".into(),
            ..fast()
        },
        3600,
    )
    .await;
    s.client.me().await.unwrap();
    let seen = graph_calls(&s.fake);
    assert_eq!(seen.len(), 1);
    let h = &seen[0].headers;
    assert_eq!(seen[0].path, "/v1.0/me");
    assert_eq!(h["authorization"], "Bearer at-0");
    assert_eq!(h["accept"], "application/json");
    let prefer: Vec<&str> = h
        .get_all("prefer")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(prefer.contains(&r#"IdType="ImmutableId""#), "{prefer:?}");
    assert!(
        prefer.contains(&r#"outlook.timezone="W. Europe Standard Time""#),
        "{prefer:?}"
    );
    assert!(
        prefer.contains(&r#"outlook.body-content-type="text""#),
        "{prefer:?}"
    );
    assert_eq!(h["client-request-id"].len(), 36);
    assert!(
        h["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("outlook-sync/")
    );
}

#[tokio::test]
async fn a_429_pauses_the_whole_mailbox_for_retry_after() {
    let s = setup(fast(), 3600).await;
    script(
        &s.fake,
        429,
        vec![("retry-after", "0.4".into())],
        r#"{"error":{"code":"TooManyRequests","message":"Please retry again later."}}"#,
    );
    let first = s.client.clone();
    let throttled = tokio::spawn(async move { first.get_event("AAA=").await });
    // Let the 429 land, then start an unrelated request: it must wait out the pause too.
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.client.me().await.unwrap();
    throttled.await.unwrap().unwrap();
    let seen = graph_calls(&s.fake);
    assert_eq!(seen.len(), 3);
    let after_429: Vec<Duration> = seen[1..]
        .iter()
        .map(|x| x.at.duration_since(seen[0].at))
        .collect();
    assert!(
        after_429.iter().all(|d| *d >= Duration::from_millis(400)),
        "{after_429:?}"
    );
}

#[tokio::test]
async fn persistent_503_gives_up_after_max_attempts() {
    let s = setup(
        ClientOptions {
            max_attempts: 2,
            ..fast()
        },
        3600,
    )
    .await;
    for _ in 0..2 {
        script(
            &s.fake,
            503,
            vec![("retry-after", "0.1".into())],
            r#"{"error":{"code":"ServiceUnavailable","message":"busy"}}"#,
        );
    }
    let err = s.client.get_event("AAA=").await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { retry_after: Some(d), .. } if d == Duration::from_millis(100)),
        "{err:?}"
    );
    assert_eq!(graph_calls(&s.fake).len(), 2);
}

#[tokio::test]
async fn non_json_502_on_a_patch_is_not_repeated_and_is_reported() {
    let s = setup(fast(), 3600).await;
    script(&s.fake, 502, vec![], "<html>Bad Gateway</html>");
    let err = s
        .client
        .update_event("AAA=", json!({"subject": "x"}))
        .await
        .unwrap_err();
    let GraphError::Api {
        status,
        code,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*status, code.as_str()), (502, ""));
    assert!(message.contains("<html>Bad Gateway</html>"), "{message}");
    assert_eq!(
        graph_calls(&s.fake).len(),
        1,
        "a PATCH is not repeated after an ambiguous failure"
    );
}

#[tokio::test]
async fn a_502_on_a_get_is_retried() {
    let s = setup(fast(), 3600).await;
    script(&s.fake, 502, vec![], "bad gateway");
    let event = s.client.get_event("AAA=").await.unwrap();
    assert_eq!(event, json!({"ok": true}));
    assert_eq!(graph_calls(&s.fake).len(), 2);
}

#[tokio::test]
async fn concurrent_401s_cause_one_refresh() {
    let s = setup(fast(), 3600).await;
    // The fake now accepts only the token its refresh issues (at-1).
    *s.fake.valid_token.lock().unwrap() = "revoked-elsewhere".to_owned();
    let calls = (0..4).map(|i| {
        let client = s.client.clone();
        async move { client.get_event(&format!("E{i}")).await }
    });
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(*s.fake.refreshes.lock().unwrap(), 1);
    let tokens = s.client.tokens();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(
        tokens.refresh_token.unwrap().expose(),
        "rt-1",
        "the rotated refresh token is kept"
    );
}

#[tokio::test]
async fn token_near_expiry_is_refreshed_before_the_request() {
    let s = setup(fast(), 60).await;
    s.client.me().await.unwrap();
    assert_eq!(*s.fake.refreshes.lock().unwrap(), 1);
    let seen = graph_calls(&s.fake);
    assert_eq!(seen.len(), 1, "no request left with the old token");
    assert_eq!(seen[0].headers["authorization"], "Bearer at-1");
}

#[tokio::test]
async fn unauthorized_after_refresh_is_reported() {
    let s = setup(fast(), 3600).await;
    *s.fake.reject_all.lock().unwrap() = true;
    let err = s.client.me().await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Unauthorized { message } if message.contains("InvalidAuthenticationToken")),
        "{err:?}"
    );
    assert!(err.needs_reconnect());
    assert_eq!(*s.fake.refreshes.lock().unwrap(), 1, "exactly one refresh");
    assert_eq!(graph_calls(&s.fake).len(), 2, "one retry after the refresh");
}

#[tokio::test]
async fn token_endpoint_html_error_names_the_status_without_secrets() {
    let s = setup(fast(), 60).await;
    for _ in 0..3 {
        s.fake
            .token_answers
            .lock()
            .unwrap()
            .push_back((500, "<html>oops</html>".to_owned()));
    }
    let err = s.client.me().await.unwrap_err();
    assert_eq!(
        *s.fake.token_calls.lock().unwrap(),
        3,
        "a refresh is repeated after a 500, boundedly"
    );
    assert!(
        matches!(&err, GraphError::Payload { context, .. } if context.contains("HTTP 500")),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("rt-0") && !text.contains("s3cret"), "{text}");
}

#[tokio::test]
async fn token_endpoint_oauth_errors_map_to_actions() {
    let s = setup(fast(), 60).await;
    s.fake.token_answers.lock().unwrap().push_back((
        400,
        json!({"error": "invalid_grant", "error_description": "AADSTS50173: The provided grant has expired due to it being revoked.\r\nTrace ID: abc\r\nCorrelation ID: def", "error_codes": [50173]}).to_string(),
    ));
    let err = s.client.me().await.unwrap_err();
    assert_eq!(
        err,
        GraphError::InvalidGrant {
            description: "AADSTS50173: The provided grant has expired due to it being revoked"
                .into()
        }
    );
    assert_eq!(
        *s.fake.token_calls.lock().unwrap(),
        1,
        "a definite answer is not repeated"
    );
    assert!(
        graph_calls(&s.fake).is_empty(),
        "no Graph request without a usable token"
    );
}

#[tokio::test]
async fn a_busy_token_endpoint_is_retried_after_retry_after() {
    let s = setup(fast(), 60).await;
    s.fake
        .token_answers
        .lock()
        .unwrap()
        .push_back((503, "busy".to_owned()));
    s.fake.token_answers.lock().unwrap().push_back((
        400,
        json!({"error": "temporarily_unavailable", "error_description": "AADSTS90055: throttled"})
            .to_string(),
    ));
    s.client.me().await.unwrap();
    assert_eq!(*s.fake.token_calls.lock().unwrap(), 3);
    assert_eq!(s.client.tokens().refresh_token.unwrap().expose(), "rt-1");
}

/// A delta round over January 2026 that the script makes fail.
async fn failed_window_delta(s: &Setup) -> GraphError {
    let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let end: jiff::Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
    s.client
        .delta(outlook_graph::DeltaStart::Window { start, end })
        .await
        .unwrap_err()
}

#[tokio::test]
async fn foreign_next_links_are_refused() {
    let s = setup(fast(), 3600).await;
    script(&s.fake, 200, vec![("content-type", "application/json".into())],
        &json!({"value": [], "@odata.nextLink": "https://evil.example/v1.0/me/calendarView/delta?$skiptoken=x"}).to_string());
    let err = failed_window_delta(&s).await;
    assert!(
        matches!(&err, GraphError::Payload { context, detail } if context == "delta page 1" && detail.contains("https://evil.example")),
        "{err:?}"
    );
    assert_eq!(graph_calls(&s.fake).len(), 1);
    let first = &graph_calls(&s.fake)[0];
    assert_eq!(
        (&first.method, first.path.as_str()),
        (&Method::GET, "/v1.0/me/calendarView/delta")
    );
    assert!(
        first
            .headers
            .get_all("prefer")
            .iter()
            .any(|v| v == "odata.maxpagesize=200")
    );
}

/// Graph's delta can hand out a new nextLink with the same page for ever (msgraph-sdk-dotnet#3082):
/// the round stops after ten such pages instead of spending the mailbox's budget.
#[tokio::test]
async fn a_delta_round_that_replays_the_same_page_stops() {
    let s = setup(fast(), 3600).await;
    let base = s.base.clone();
    let page = |skip: u32, ids: &[&str]| {
        let value: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "changeKey": "ck1", "subject": "Daily"}))
            .collect();
        json!({"value": value,
               "@odata.nextLink": format!("{base}/v1.0/me/calendarView/delta?$skiptoken=t{skip}")})
        .to_string()
    };
    let json_type = || vec![("content-type", "application/json".to_owned())];
    script(&s.fake, 200, json_type(), &page(0, &["a", "b"]));
    // One legitimate replay, then new content: the round goes on.
    script(&s.fake, 200, json_type(), &page(1, &["a", "b"]));
    script(&s.fake, 200, json_type(), &page(2, &["c"]));
    for skip in 3..40 {
        script(&s.fake, 200, json_type(), &page(skip, &["b", "c"]));
    }
    let err = failed_window_delta(&s).await;
    assert!(
        matches!(&err, GraphError::Payload { context, detail }
            if context == "delta page 13" && detail.contains("10 pages in a row with nothing new")),
        "{err:?}"
    );
    assert_eq!(graph_calls(&s.fake).len(), 13);
}

#[tokio::test]
async fn batch_envelopes_link_dependencies_and_results_keep_input_order() {
    let s = setup(fast(), 3600).await;
    // Answers in shuffled order, as Graph may send them.
    let answer = json!({"responses": [
        {"id": "2", "status": 204, "headers": {}},
        {"id": "0", "status": 201, "headers": {"Content-Type": "application/json"}, "body": {"id": "NEW="}},
        {"id": "1", "status": 200, "body": {"id": "NEW=", "subject": "Renamed"}}
    ]});
    script(
        &s.fake,
        200,
        vec![("content-type", "application/json".into())],
        &answer.to_string(),
    );
    let requests = vec![
        BatchRequest {
            method: Method::POST,
            url: "/me/events".into(),
            body: Some(json!({"subject": "A", "transactionId": "t-1"})),
            depends_on: None,
        },
        BatchRequest {
            method: Method::PATCH,
            url: "/me/events/NEW=".into(),
            body: Some(json!({"subject": "Renamed"})),
            depends_on: Some(0),
        },
        BatchRequest {
            method: Method::DELETE,
            url: "/me/events/OLD=".into(),
            body: None,
            depends_on: None,
        },
    ];
    let results = s.client.batch(requests).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.as_ref().unwrap().status).collect();
    assert_eq!(statuses, [201, 200, 204]);
    assert_eq!(
        results[1].as_ref().unwrap().body.as_ref().unwrap()["subject"],
        "Renamed"
    );

    let seen = graph_calls(&s.fake);
    assert_eq!(seen.len(), 1, "three requests, one envelope");
    assert_eq!(
        (&seen[0].method, seen[0].path.as_str()),
        (&Method::POST, "/v1.0/$batch")
    );
    let envelope: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    let items = envelope["requests"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], "0");
    assert_eq!(items[0]["headers"]["Content-Type"], "application/json");
    assert!(
        items[0]["headers"]["Prefer"]
            .as_str()
            .unwrap()
            .contains(r#"IdType="ImmutableId""#)
    );
    assert_eq!(items[1]["dependsOn"], json!(["0"]));
    assert_eq!(items[2]["method"], "DELETE");
    assert!(items[2].get("body").is_none() && items[2].get("dependsOn").is_none());
}

#[tokio::test]
async fn a_failed_batch_item_fails_its_dependents_without_sending_them() {
    let s = setup(fast(), 3600).await;
    let answer = json!({"responses": [
        {"id": "0", "status": 404, "headers": {"request-id": "r-9"}, "body": {"error": {"code": "ErrorItemNotFound", "message": "gone"}}},
        {"id": "1", "status": 424, "body": {"error": {"code": "FailedDependency", "message": "dependency failed"}}}
    ]});
    script(
        &s.fake,
        200,
        vec![("content-type", "application/json".into())],
        &answer.to_string(),
    );
    let requests = vec![
        BatchRequest {
            method: Method::GET,
            url: "/me/events/X=".into(),
            body: None,
            depends_on: None,
        },
        BatchRequest {
            method: Method::DELETE,
            url: "/me/events/X=".into(),
            body: None,
            depends_on: Some(0),
        },
    ];
    let results = s.client.batch(requests).await;
    assert_eq!(
        results[0],
        Err(GraphError::Api {
            status: 404,
            code: "ErrorItemNotFound".into(),
            message: "gone".into(),
            request_id: Some("r-9".into())
        })
    );
    assert!(
        matches!(&results[1], Err(GraphError::Api { status: 424, .. })),
        "{:?}",
        results[1]
    );
    assert_eq!(graph_calls(&s.fake).len(), 1);
}

#[tokio::test]
async fn batch_items_throttled_past_the_budget_report_throttled() {
    let s = setup(
        ClientOptions {
            max_attempts: 2,
            ..fast()
        },
        3600,
    )
    .await;
    let throttled = |ids: &[&str]| {
        let mut responses: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| json!({"id": id, "status": 429, "headers": {"Retry-After": "0.1"},
                "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}}))
            .collect();
        if ids.len() == 1 {
            return json!({ "responses": responses }).to_string();
        }
        responses.push(json!({"id": "1", "status": 200, "body": {"ok": 1}}));
        json!({ "responses": responses }).to_string()
    };
    let json_type = || vec![("content-type", "application/json".to_owned())];
    script(&s.fake, 200, json_type(), &throttled(&["0", "x"]));
    script(&s.fake, 200, json_type(), &throttled(&["0"]));
    let get = || BatchRequest {
        method: Method::GET,
        url: "/me".into(),
        body: None,
        depends_on: None,
    };
    let started = Instant::now();
    let results = s.client.batch(vec![get(), get()]).await;
    assert_eq!(
        results[0],
        Err(GraphError::Throttled {
            retry_after: Some(Duration::from_millis(100)),
            waited: Duration::from_millis(100)
        })
    );
    assert_eq!(results[1].as_ref().unwrap().status, 200);
    let seen = graph_calls(&s.fake);
    assert_eq!(
        seen.len(),
        2,
        "the throttled item alone is sent again, once"
    );
    let second: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(second["requests"].as_array().unwrap().len(), 1);
    assert!(seen[1].at.duration_since(seen[0].at) >= Duration::from_millis(100));
    assert!(started.elapsed() < Duration::from_secs(2));
}
