//! End-to-end tests against the project's Graph + identity emulator (`outlook-emulator`), over real
//! HTTP: the OAuth code flow, refresh rotation, identity errors, delta rounds, idempotent creates,
//! throttling and `$batch`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use outlook_emulator::EmulatorHandle;
use outlook_graph::{
    AppCredentials, BatchRequest, ClientOptions, DeltaItem, DeltaOutcome, DeltaStart, Endpoints,
    GraphClient, GraphError, Method, OAuthClient, ResponseKind, Secret, TokenSet, http_client,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://localhost:8069/outlook/callback";

struct Env {
    _emulator: EmulatorHandle,
    base: String,
    control: reqwest::Client,
}

impl Env {
    fn start() -> Self {
        let emulator = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let base = emulator.base_url().to_owned();
        Self {
            _emulator: emulator,
            base,
            control: reqwest::Client::new(),
        }
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            login_url: self.base.clone(),
            tenant: "common".into(),
            graph_url: self.base.clone(),
        }
    }

    fn oauth(&self, secret: Option<&str>) -> OAuthClient {
        let app = AppCredentials {
            client_id: "odoo-app".into(),
            client_secret: secret.map(Secret::from),
            redirect_uri: REDIRECT.into(),
        };
        OAuthClient::new(
            http_client(&ClientOptions::default()).unwrap(),
            self.endpoints(),
            app,
        )
        .unwrap()
    }

    /// `method /_emulator/{path}` with a JSON body; returns the JSON answer.
    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self
            .control
            .request(method.clone(), format!("{}/_emulator/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} /_emulator/{path} -> {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Tokens for `mailbox` without the browser flow.
    async fn tokens(&self, mailbox: &str) -> TokenSet {
        let issued = self
            .control(
                Method::POST,
                &format!("mailboxes/{mailbox}/token"),
                json!({}),
            )
            .await;
        TokenSet {
            access_token: Secret::from(issued["access_token"].as_str().unwrap()),
            refresh_token: issued["refresh_token"].as_str().map(Secret::from),
            expires_at: jiff::Timestamp::now()
                + jiff::SignedDuration::from_secs(issued["expires_in"].as_i64().unwrap()),
            scope: None,
        }
    }

    async fn client(&self, mailbox: &str, options: ClientOptions) -> GraphClient {
        let tokens = self.tokens(mailbox).await;
        let http = http_client(&options).unwrap();
        GraphClient::new(
            http,
            self.endpoints(),
            Some(self.oauth(None)),
            tokens,
            options,
        )
    }

    async fn stored_events(&self, mailbox: &str) -> Vec<Value> {
        let events = self
            .control(
                Method::GET,
                &format!("mailboxes/{mailbox}/events"),
                Value::Null,
            )
            .await;
        events["value"].as_array().cloned().unwrap()
    }

    async fn counters(&self) -> Value {
        self.control(Method::GET, "requests", Value::Null).await
    }
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    })
}

/// Follows the authorize redirect by hand and returns `(code, state)` from its `Location`.
async fn authorize(url: &str) -> (String, String) {
    let browser = http_client(&ClientOptions::default()).unwrap();
    let response = browser.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302, "authorize must redirect");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let get = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    (
        get("code").expect("code in Location"),
        get("state").expect("state in Location"),
    )
}

#[tokio::test]
async fn authorization_code_flow_with_pkce() {
    let env = Env::start();
    let oauth = env.oauth(None);
    let request =
        oauth.authorization_request("state-signed-by-odoo", Some("ada@contoso.test"), &[]);
    let (code, state) = authorize(&request.url).await;
    assert_eq!(state, "state-signed-by-odoo");

    // A wrong verifier is refused (PKCE), and does not burn the code in our favour.
    let wrong = oauth
        .exchange_code(&code, "not-the-verifier-not-the-verifier-not-the-v")
        .await
        .unwrap_err();
    assert!(
        matches!(
            wrong,
            GraphError::InvalidGrant { .. } | GraphError::OAuth { .. }
        ),
        "{wrong:?}"
    );

    let (code, _) = authorize(&request.url).await;
    let tokens = oauth
        .exchange_code(&code, request.pkce_verifier.expose())
        .await
        .unwrap();
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    assert!(tokens.expires_at > jiff::Timestamp::now());
    assert!(
        tokens
            .scope
            .as_deref()
            .unwrap_or_default()
            .contains("Calendars.ReadWrite")
    );

    // Codes are single use.
    let again = oauth
        .exchange_code(&code, request.pkce_verifier.expose())
        .await
        .unwrap_err();
    assert!(
        matches!(again, GraphError::InvalidGrant { .. }),
        "{again:?}"
    );
    assert!(
        !again.to_string().contains(&code),
        "the code never appears in errors"
    );

    let options = ClientOptions::default();
    let client = GraphClient::new(
        http_client(&options).unwrap(),
        env.endpoints(),
        Some(oauth),
        tokens,
        options,
    );
    let me = client.me().await.unwrap();
    let who = format!("{} {}", me["mail"], me["userPrincipalName"]);
    assert!(who.contains("ada@contoso.test"), "{me}");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let env = Env::start();
    env.control(Method::PUT, "oauth", json!({"strict_rotation": true}))
        .await;
    let oauth = env.oauth(None);
    let first = env.tokens("bob@contoso.test").await;
    let old = first.refresh_token.clone().unwrap();
    let second = oauth.refresh(old.expose()).await.unwrap();
    let rotated = second.refresh_token.clone().unwrap();
    assert_ne!(rotated.expose(), old.expose());
    assert_ne!(second.access_token.expose(), first.access_token.expose());
    // With strict rotation the old refresh token is dead: keeping the new one is what matters.
    let stale = oauth.refresh(old.expose()).await.unwrap_err();
    assert!(
        matches!(stale, GraphError::InvalidGrant { .. }),
        "{stale:?}"
    );
    oauth.refresh(rotated.expose()).await.unwrap();
}

#[tokio::test]
async fn identity_errors_say_what_to_do() {
    let env = Env::start();
    let oauth = env.oauth(None);
    let refresh = env.tokens("cy@contoso.test").await.refresh_token.unwrap();

    env.control(
        Method::PUT,
        "oauth",
        json!({"fail_next_token": "invalid_grant"}),
    )
    .await;
    let err = oauth.refresh(refresh.expose()).await.unwrap_err();
    assert!(matches!(err, GraphError::InvalidGrant { .. }), "{err:?}");
    assert!(err.to_string().contains("reconnect"), "{err}");

    env.control(
        Method::PUT,
        "oauth",
        json!({"fail_next_token": "interaction_required"}),
    )
    .await;
    let err = oauth.refresh(refresh.expose()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::InteractionRequired { .. }),
        "{err:?}"
    );

    env.control(
        Method::PUT,
        "oauth",
        json!({"fail_next_token": "invalid_client"}),
    )
    .await;
    let err = oauth.refresh(refresh.expose()).await.unwrap_err();
    assert!(matches!(err, GraphError::InvalidClient { .. }), "{err:?}");
    assert!(err.to_string().contains("administrator"), "{err}");

    // A configured, expired secret: AADSTS7000222, and the secret never shows.
    env.control(
        Method::PUT,
        "oauth",
        json!({"client_secret": "right-secret", "secret_expired": true}),
    )
    .await;
    let err = env
        .oauth(Some("right-secret"))
        .refresh(refresh.expose())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::InvalidClient { description } if description.contains("7000222")),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("right-secret"));

    env.control(
        Method::PUT,
        "oauth",
        json!({"client_secret": "right-secret", "secret_expired": false}),
    )
    .await;
    let err = env
        .oauth(Some("wrong-secret"))
        .refresh(refresh.expose())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidClient { .. }), "{err:?}");

    env.control(
        Method::PUT,
        "oauth",
        json!({"client_secret": null, "revoke_mailbox": "cy@contoso.test"}),
    )
    .await;
    let err = oauth.refresh(refresh.expose()).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::InvalidGrant { description } if description.contains("50173")),
        "{err:?}"
    );
}

#[tokio::test]
async fn delta_pages_then_reports_changes_and_deletions() {
    let env = Env::start();
    let mailbox = "dee@contoso.test";
    let seeded: Vec<Value> = (0..25)
        .map(|i| {
            event(
                &format!("Event {i}"),
                &format!("2026-03-{:02}T09:00:00", i + 1),
                &format!("2026-03-{:02}T10:00:00", i + 1),
            )
        })
        .collect();
    env.control(
        Method::POST,
        &format!("mailboxes/{mailbox}/seed"),
        json!({"events": seeded}),
    )
    .await;
    let client = env
        .client(
            mailbox,
            ClientOptions {
                page_size: 10,
                ..ClientOptions::default()
            },
        )
        .await;

    let window = DeltaStart::Window {
        start: at("2026-02-01T00:00:00Z"),
        end: at("2026-05-01T00:00:00Z"),
    };
    let DeltaOutcome::Changes {
        items,
        delta_link,
        pages,
    } = client.delta(window.clone()).await.unwrap()
    else {
        panic!("first round must succeed");
    };
    assert!(
        pages >= 3,
        "25 events at 10 per page need at least 3 pages, got {pages}"
    );
    let ids: Vec<String> = items
        .iter()
        .map(|item| match item {
            DeltaItem::Upsert(event) => event["id"].as_str().unwrap().to_owned(),
            DeltaItem::Removed { id } => panic!("nothing was removed yet: {id}"),
        })
        .collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 25);

    // Nothing changed: one page, nothing in it.
    let DeltaOutcome::Changes {
        items,
        delta_link,
        pages,
    } = client.delta(DeltaStart::Link(delta_link)).await.unwrap()
    else {
        panic!()
    };
    assert!(items.is_empty(), "{items:?}");
    assert_eq!(pages, 1, "an unchanged mailbox costs one request");

    client
        .update_event(&ids[3], json!({"subject": "Renamed"}))
        .await
        .unwrap();
    client.delete_event(&ids[7]).await.unwrap();
    let DeltaOutcome::Changes { items, .. } = client
        .delta(DeltaStart::Link(delta_link.clone()))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(
        items.iter().any(|i| matches!(i, DeltaItem::Upsert(e) if e["id"] == ids[3].as_str() && e["subject"] == "Renamed")),
        "{items:?}"
    );
    assert!(
        items.contains(&DeltaItem::Removed { id: ids[7].clone() }),
        "{items:?}"
    );

    // Expired state: a resync is required, not an error.
    env.control(Method::POST, "delta/expire", json!({})).await;
    match client.delta(DeltaStart::Link(delta_link)).await.unwrap() {
        DeltaOutcome::ResyncRequired { code } => {
            assert!(
                code.eq_ignore_ascii_case("syncStateNotFound") || code == "410",
                "{code}"
            );
        }
        other => panic!("expected ResyncRequired, got {other:?}"),
    }
    let DeltaOutcome::Changes { items, .. } = client.delta(window).await.unwrap() else {
        panic!()
    };
    assert_eq!(items.len(), 24);
}

#[tokio::test]
async fn create_after_a_lost_response_yields_exactly_one_event() {
    let env = Env::start();
    let mailbox = "eve@contoso.test";
    let client = env.client(mailbox, ClientOptions::default()).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "lose_response", "method": "POST", "path_contains": "/events"}),
    )
    .await;
    let created = client
        .create_event(
            event(
                "Budget review",
                "2026-04-02T13:00:00",
                "2026-04-02T14:00:00",
            ),
            "odoo-42-create",
        )
        .await
        .unwrap();
    assert_eq!(created["subject"], "Budget review");
    assert_eq!(created["transactionId"], "odoo-42-create");
    let stored = env.stored_events(mailbox).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["id"], created["id"]);

    // Creating the same thing again is idempotent too.
    let again = client
        .create_event(
            event(
                "Budget review",
                "2026-04-02T13:00:00",
                "2026-04-02T14:00:00",
            ),
            "odoo-42-create",
        )
        .await
        .unwrap();
    assert_eq!(again["id"], created["id"]);
    assert_eq!(env.stored_events(mailbox).await.len(), 1);
}

#[tokio::test]
async fn create_of_a_series_after_a_lost_response_returns_the_master() {
    let env = Env::start();
    let mailbox = "fay@contoso.test";
    let client = env.client(mailbox, ClientOptions::default()).await;
    let mut series = event("Stand-up", "2026-04-06T09:00:00", "2026-04-06T09:15:00");
    series["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "startDate": "2026-04-06", "numberOfOccurrences": 5}
    });
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "lose_response", "method": "POST"}),
    )
    .await;
    let created = client.create_event(series, "odoo-7-series").await.unwrap();
    assert_eq!(created["type"], "seriesMaster");
    assert_eq!(env.stored_events(mailbox).await.len(), 1);
    let occurrences = client
        .instances(
            created["id"].as_str().unwrap(),
            at("2026-04-01T00:00:00Z"),
            at("2026-06-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(occurrences.len(), 5);
}

#[tokio::test]
async fn a_429_holds_the_whole_mailbox_until_retry_after() {
    let env = Env::start();
    let client = env
        .client("gus@contoso.test", ClientOptions::default())
        .await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "throttle", "count": 1, "retry_after": "0.5"}),
    )
    .await;
    let started = Instant::now();
    let throttled = {
        let client = client.clone();
        tokio::spawn(async move { client.me().await })
    };
    // While the first request waits out its Retry-After, more requests of the same mailbox start:
    // none of them may reach the emulator before the pause ends.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let calls = (0..3).map(|_| client.me());
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(500));
    throttled.await.unwrap().unwrap();
    let counters = env.counters().await;
    assert_eq!(counters["throttled"], 1, "{counters}");
    assert_eq!(counters["retry_after_violations"], 0, "{counters}");
}

#[tokio::test]
async fn persistent_throttling_gives_up_within_the_budget() {
    let env = Env::start();
    let options = ClientOptions {
        max_attempts: 3,
        ..ClientOptions::default()
    };
    let client = env.client("gil@contoso.test", options).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "throttle", "count": 10, "retry_after": "0.2"}),
    )
    .await;
    let err = client.me().await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { retry_after: Some(d), waited } if d == Duration::from_millis(200) && waited == Duration::from_millis(400)),
        "{err:?}"
    );
    let counters = env.counters().await;
    assert_eq!(counters["throttled"], 3, "{counters}");
    assert_eq!(counters["retry_after_violations"], 0, "{counters}");
}

#[tokio::test]
async fn server_errors_on_reads_are_retried() {
    let env = Env::start();
    let client = env
        .client("gia@contoso.test", ClientOptions::default())
        .await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "error", "status": 503}),
    )
    .await;
    env.control(Method::POST, "faults", json!({"kind": "reset"}))
        .await;
    client.me().await.unwrap();
    assert_eq!(env.counters().await["by_route"]["GET /v1.0/me"], 3);
}

#[tokio::test]
async fn batch_of_45_creates_within_service_limits() {
    let env = Env::start();
    let mailbox = "hal@contoso.test";
    env.control(
        Method::PUT,
        "config",
        json!({"limits": true, "service_time_ms": 20}),
    )
    .await;
    let client = env.client(mailbox, ClientOptions::default()).await;
    let requests: Vec<BatchRequest> = (0..45)
        .map(|i| {
            let mut body = event(
                &format!("Batch {i}"),
                "2026-05-04T08:00:00",
                "2026-05-04T08:30:00",
            );
            body["transactionId"] = json!(format!("batch-{i}"));
            BatchRequest {
                method: Method::POST,
                url: "/me/events".into(),
                body: Some(body),
                depends_on: None,
            }
        })
        .collect();
    let results = client.batch(requests).await;
    assert_eq!(results.len(), 45);
    for (i, result) in results.iter().enumerate() {
        let response = result.as_ref().unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_eq!(response.status, 201);
        assert_eq!(
            response.body.as_ref().unwrap()["subject"],
            format!("Batch {i}"),
            "results keep input order"
        );
    }
    assert_eq!(env.stored_events(mailbox).await.len(), 45);
    let counters = env.counters().await;
    assert_eq!(counters["retry_after_violations"], 0, "{counters}");
    assert_eq!(counters["batch_items"], 45, "{counters}");
}

/// The observer hears each envelope once it has settled, before the batch returns: what a caller
/// records there survives a process that dies before the end of a long batch.
#[tokio::test]
async fn batch_observer_hears_each_envelope_as_it_settles() {
    let env = Env::start();
    let mailbox = "ida@contoso.test";
    let client = env.client(mailbox, ClientOptions::default()).await;
    let requests: Vec<BatchRequest> = (0..45)
        .map(|i| BatchRequest {
            method: Method::POST,
            url: "/me/events".into(),
            body: Some(event(
                &format!("Observed {i}"),
                "2026-05-04T08:00:00",
                "2026-05-04T08:30:00",
            )),
            depends_on: None,
        })
        .collect();
    let heard = std::sync::Mutex::new(Vec::new());
    let results = client
        .batch_observed(requests, &|settled| {
            let mut heard = heard.lock().unwrap();
            heard.push(
                settled
                    .iter()
                    .map(|(index, result)| {
                        let body = result.as_ref().unwrap().body.as_ref().unwrap();
                        (*index, body["subject"].as_str().unwrap().to_owned())
                    })
                    .collect::<Vec<_>>(),
            );
        })
        .await;
    let heard = heard.into_inner().unwrap();
    let mut sizes: Vec<usize> = heard.iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [5, 20, 20], "one call per envelope of at most 20");
    let mut indices: Vec<usize> = heard.iter().flatten().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..45).collect::<Vec<_>>(), "each item heard once");
    for (index, subject) in heard.iter().flatten() {
        assert_eq!(
            subject,
            &format!("Observed {index}"),
            "indices name the request"
        );
    }
    assert!(results.iter().all(Result::is_ok));
}

#[tokio::test]
async fn batch_items_fail_alone_and_dependencies_follow() {
    let env = Env::start();
    let client = env
        .client("ivy@contoso.test", ClientOptions::default())
        .await;
    let requests = vec![
        BatchRequest {
            method: Method::GET,
            url: "/me".into(),
            body: None,
            depends_on: None,
        },
        BatchRequest {
            method: Method::GET,
            url: "/me/events/AAMkAGnope=".into(),
            body: None,
            depends_on: None,
        },
        BatchRequest {
            method: Method::DELETE,
            url: "/me/events/AAMkAGnope=".into(),
            body: None,
            depends_on: Some(1),
        },
        BatchRequest {
            method: Method::GET,
            url: "me".into(),
            body: None,
            depends_on: None,
        },
    ];
    let results = client.batch(requests).await;
    assert_eq!(results[0].as_ref().unwrap().status, 200);
    assert!(
        matches!(
            &results[1],
            Err(GraphError::Api {
                status: 404 | 400,
                ..
            })
        ),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(&results[2], Err(GraphError::Api { status: 424, .. })),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(&results[3], Err(GraphError::InvalidInput { .. })),
        "{:?}",
        results[3]
    );
}

#[tokio::test]
async fn a_throttled_batch_item_is_resent_after_retry_after() {
    let env = Env::start();
    let client = env
        .client("jo@contoso.test", ClientOptions::default())
        .await;
    env.control(Method::POST, "faults", json!({"kind": "throttle", "count": 1, "retry_after": "0.3", "path_contains": "/me/events"})).await;
    let started = Instant::now();
    let body = event("Resent", "2026-05-05T08:00:00", "2026-05-05T08:30:00");
    let mut create = body.clone();
    create["transactionId"] = json!("resent-1");
    let results = client
        .batch(vec![BatchRequest {
            method: Method::POST,
            url: "/me/events".into(),
            body: Some(create),
            depends_on: None,
        }])
        .await;
    assert_eq!(results[0].as_ref().unwrap().status, 201, "{results:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let counters = env.counters().await;
    assert_eq!(counters["by_route"]["POST /v1.0/$batch"], 2, "{counters}");
    assert_eq!(counters["retry_after_violations"], 0, "{counters}");
    assert_eq!(env.stored_events("jo@contoso.test").await.len(), 1);
}

#[tokio::test]
async fn partly_throttled_batches_resend_only_the_throttled_items() {
    let env = Env::start();
    let client = env
        .client("jon@contoso.test", ClientOptions::default())
        .await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "throttle", "count": 3, "retry_after": "0.3", "method": "GET"}),
    )
    .await;
    let requests: Vec<BatchRequest> = (0..6)
        .map(|_| BatchRequest {
            method: Method::GET,
            url: "/me".into(),
            body: None,
            depends_on: None,
        })
        .collect();
    let results = client.batch(requests).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status == 200)),
        "{results:?}"
    );
    let counters = env.counters().await;
    assert_eq!(
        counters["batch_items"], 9,
        "6 items, then the 3 throttled ones again: {counters}"
    );
}

#[tokio::test]
async fn expired_tokens_are_refreshed_once_mid_run() {
    let env = Env::start();
    env.control(Method::PUT, "oauth", json!({"strict_rotation": true}))
        .await;
    let mailbox = "kim@contoso.test";
    let client = env.client(mailbox, ClientOptions::default()).await;
    let before = client.tokens();
    client.me().await.unwrap();
    env.control(Method::POST, "tokens/expire", json!({"mailbox": mailbox}))
        .await;
    // Four concurrent requests all meet the expired token; with strict rotation a second refresh
    // with the same refresh token would fail, so success proves the refresh was single-flight.
    let calls = (0..4).map(|_| client.me());
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let after = client.tokens();
    assert_ne!(after.access_token, before.access_token);
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the rotated refresh token is kept"
    );
}

#[tokio::test]
async fn event_lifecycle_and_lookups() {
    let env = Env::start();
    let organiser = "lee@contoso.test";
    let client = env.client(organiser, ClientOptions::default()).await;
    let mut meeting = event("Planning", "2026-06-01T10:00:00", "2026-06-01T11:00:00");
    meeting["attendees"] = json!([{"emailAddress": {"address": "guest@example.test", "name": "Guest"}, "type": "required"}]);
    let created = client.create_event(meeting, "odoo-99").await.unwrap();
    let id = created["id"].as_str().unwrap();
    let uid = created["iCalUId"].as_str().unwrap();

    let fetched = client.get_event(id).await.unwrap();
    assert_eq!(fetched["subject"], "Planning");
    let found = client.find_by_ical_uid(uid).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], created["id"]);
    assert!(
        client
            .find_by_ical_uid("no-such-uid-with-'quote")
            .await
            .unwrap()
            .is_empty()
    );

    client
        .cancel_event(id, Some("Sorry, cancelled"))
        .await
        .unwrap();
    let outbox = env.control(Method::GET, "outbox", Value::Null).await;
    let kinds: Vec<&str> = outbox["mails"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"invitation") && kinds.contains(&"cancellation"),
        "{kinds:?}"
    );

    client.delete_event(id).await.unwrap();
    client.delete_event(id).await.unwrap(); // already gone: still Ok
    let missing = client.get_event(id).await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing:?}");
}

#[tokio::test]
async fn attendee_responses_reach_the_organiser() {
    let env = Env::start();
    let organiser = env
        .client("max@contoso.test", ClientOptions::default())
        .await;
    let attendee = env
        .client("nia@contoso.test", ClientOptions::default())
        .await;
    let mut meeting = event("Review", "2026-06-02T10:00:00", "2026-06-02T11:00:00");
    meeting["attendees"] =
        json!([{"emailAddress": {"address": "nia@contoso.test"}, "type": "required"}]);
    let created = organiser.create_event(meeting, "odoo-100").await.unwrap();
    let copies = attendee
        .find_by_ical_uid(created["iCalUId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(copies.len(), 1, "the attendee's mailbox holds its own copy");
    let copy_id = copies[0]["id"].as_str().unwrap();
    attendee
        .respond(
            copy_id,
            ResponseKind::TentativelyAccept,
            Some("maybe"),
            true,
        )
        .await
        .unwrap();
    let seen = organiser
        .get_event(created["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        seen["attendees"][0]["status"]["response"], "tentativelyAccepted",
        "{seen}"
    );
}

#[tokio::test]
async fn a_dropped_connection_during_a_patch_is_reported_not_repeated() {
    let env = Env::start();
    let mailbox = "ola@contoso.test";
    let client = env.client(mailbox, ClientOptions::default()).await;
    let created = client
        .create_event(
            event("Draft", "2026-07-01T10:00:00", "2026-07-01T11:00:00"),
            "odoo-5",
        )
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    env.control(Method::DELETE, "requests", Value::Null).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "lose_response", "method": "PATCH"}),
    )
    .await;
    let err = client
        .update_event(id, json!({"subject": "Final"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Transport { timeout: false, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("PATCH /v1.0/me/events/"), "{err}");
    let patches = env.counters().await["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.starts_with("PATCH"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(
        patches, 1,
        "an update is not repeated after an ambiguous failure"
    );
    // The write did happen; the next delta or GET shows it.
    assert_eq!(client.get_event(id).await.unwrap()["subject"], "Final");
    println!("{err}");
}

#[tokio::test]
async fn never_more_than_four_requests_execute_per_mailbox() {
    let env = Env::start();
    env.control(
        Method::PUT,
        "config",
        json!({"limits": true, "service_time_ms": 40}),
    )
    .await;
    let client = env
        .client("pat@contoso.test", ClientOptions::default())
        .await;
    let singles = (0..10).map(|_| {
        let client = client.clone();
        async move { client.me().await.map(drop) }
    });
    let batches = (0..3).map(|_| {
        let client = client.clone();
        async move {
            let requests = (0..6)
                .map(|_| BatchRequest {
                    method: Method::GET,
                    url: "/me".into(),
                    body: None,
                    depends_on: None,
                })
                .collect();
            for result in client.batch(requests).await {
                result?;
            }
            Ok(())
        }
    });
    let (singles, batches) = tokio::join!(
        futures_util::future::join_all(singles),
        futures_util::future::join_all(batches)
    );
    assert!(singles.iter().chain(batches.iter()).all(Result::is_ok));
    let counters = env.counters().await;
    assert_eq!(
        counters["throttled"], 0,
        "the emulator never had to refuse a request: {counters}"
    );
    assert_eq!(counters["batch_items"], 18, "{counters}");
}

#[tokio::test]
async fn series_master_comes_with_cancelled_and_edited_occurrences() {
    let env = Env::start();
    let client = env
        .client("quin@contoso.test", ClientOptions::default())
        .await;
    let mut series = event(
        "Daily stand-up",
        "2026-04-20T09:00:00",
        "2026-04-20T09:15:00",
    );
    series["recurrence"] = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-04-20", "numberOfOccurrences": 5}
    });
    let master = client.create_event(series, "odoo-series-2").await.unwrap();
    let master_id = master["id"].as_str().unwrap();
    let occurrences = client
        .instances(
            master_id,
            at("2026-04-19T00:00:00Z"),
            at("2026-04-30T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(occurrences.len(), 5);
    let id_on = |day: &str| {
        occurrences
            .iter()
            .find(|o| o["start"]["dateTime"].as_str().unwrap().starts_with(day))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    client.delete_event(&id_on("2026-04-21")).await.unwrap();
    client
        .update_event(&id_on("2026-04-22"), json!({"subject": "Stand-up (demo)"}))
        .await
        .unwrap();

    let full = client.get_series_master(master_id).await.unwrap();
    assert_eq!(full["subject"], "Daily stand-up");
    assert_eq!(full["recurrence"]["pattern"]["type"], "daily");
    assert_eq!(full["iCalUId"], master["iCalUId"]);
    let cancelled = full["cancelledOccurrences"].as_array().unwrap();
    assert_eq!(cancelled.len(), 1, "{full}");
    assert!(
        cancelled[0].as_str().unwrap().ends_with("2026-04-21"),
        "{cancelled:?}"
    );
    let exceptions = full["exceptionOccurrences"].as_array().unwrap();
    assert_eq!(exceptions.len(), 1, "{full}");
    assert_eq!(exceptions[0]["subject"], "Stand-up (demo)");
}

#[tokio::test]
async fn a_sync_reset_also_requires_a_resync() {
    let env = Env::start();
    let mailbox = "rae@contoso.test";
    env.control(
        Method::POST,
        &format!("mailboxes/{mailbox}/seed"),
        json!({"events": [event("One", "2026-03-02T09:00:00", "2026-03-02T10:00:00")]}),
    )
    .await;
    let client = env.client(mailbox, ClientOptions::default()).await;
    let window = DeltaStart::Window {
        start: at("2026-03-01T00:00:00Z"),
        end: at("2026-04-01T00:00:00Z"),
    };
    let DeltaOutcome::Changes { delta_link, .. } = client.delta(window).await.unwrap() else {
        panic!()
    };
    env.control(
        Method::POST,
        "delta/expire",
        json!({"mailbox": mailbox, "reset": true}),
    )
    .await;
    let outcome = client.delta(DeltaStart::Link(delta_link)).await.unwrap();
    assert!(
        matches!(&outcome, DeltaOutcome::ResyncRequired { code } if code.eq_ignore_ascii_case("resyncRequired")),
        "{outcome:?}"
    );
}

/// A webhook endpoint: answers Graph's validation handshake and keeps every notification body.
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::extract::{Query, State};
    use axum::response::IntoResponse;
    type Received = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;
    async fn receive(
        State(received): State<Received>,
        Query(query): Query<std::collections::HashMap<String, String>>,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        if let Some(token) = query.get("validationToken") {
            return ([("content-type", "text/plain")], token.clone()).into_response();
        }
        received
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        axum::http::StatusCode::ACCEPTED.into_response()
    }
    let received = Received::default();
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graph/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn subscriptions_validate_notify_renew_and_delete() {
    let env = Env::start();
    let client = env
        .client("sam@contoso.test", ClientOptions::default())
        .await;
    let (url, received) = webhook_receiver().await;
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let subscription = client
        .create_subscription(&url, None, "k3y-per-subscription", expires)
        .await
        .unwrap();
    let id = subscription["id"].as_str().unwrap().to_owned();
    assert_eq!(subscription["resource"], "/me/events");

    client
        .create_event(
            event("Notify me", "2026-08-01T10:00:00", "2026-08-01T11:00:00"),
            "odoo-n1",
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while received.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = received
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a notification arrives");
    assert_eq!(first["value"][0]["clientState"], "k3y-per-subscription");
    assert_eq!(first["value"][0]["subscriptionId"], id.as_str());

    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    let renewed = client.renew_subscription(&id, later).await.unwrap();
    assert_eq!(renewed["id"], id.as_str());
    client.reauthorize_subscription(&id).await.unwrap();
    client.delete_subscription(&id).await.unwrap();
    client.delete_subscription(&id).await.unwrap(); // already gone: still Ok
    let err = client.renew_subscription(&id, later).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
}

#[tokio::test]
async fn a_subscription_whose_endpoint_fails_validation_is_refused() {
    let env = Env::start();
    let client = env
        .client("sue@contoso.test", ClientOptions::default())
        .await;
    // Nothing listens there: the handshake fails and Graph answers 400.
    let err = client
        .create_subscription(
            "http://127.0.0.1:9/notify",
            None,
            "state",
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}
