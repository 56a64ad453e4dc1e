//! OAuth: authorize + token with PKCE, refresh rotation, and the failure knobs.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{Env, json_of};
use reqwest::Method;
use serde_json::json;
use sha2::Digest;

const REDIRECT: &str = "http://localhost:8069/outlook/callback";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Runs authorize for `login` and returns the code from the redirect.
async fn authorize(env: &Env, login: &str, verifier: &str) -> String {
    let resp = env
        .http
        .get(env.url("/common/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", "app-1"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid offline_access Calendars.ReadWrite"),
            ("state", "s-123"),
            ("login_hint", login),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "s-123");
    pairs["code"].clone()
}

async fn redeem(env: &Env, code: &str, verifier: &str) -> (u16, serde_json::Value) {
    let resp = env
        .http
        .post(env.url("/common/oauth2/v2.0/token"))
        .form(&[
            ("client_id", "app-1"),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

async fn refresh(env: &Env, token: &str) -> (u16, serde_json::Value) {
    let resp = env
        .http
        .post(env.url("/tenant-x/oauth2/v2.0/token"))
        .form(&[
            ("client_id", "app-1"),
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
        ])
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

#[tokio::test]
async fn pkce_code_flow_issues_tokens_for_the_hinted_mailbox() {
    let env = Env::new();
    let verifier = "a-very-long-verifier-string-0123456789-abcdefghij";
    let code = authorize(&env, "Dana.Swope@contoso.com", verifier).await;
    let (status, body) = redeem(&env, &code, verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());
    assert!(
        body["scope"]
            .as_str()
            .unwrap()
            .contains("https://graph.microsoft.com/Calendars.ReadWrite")
    );
    let me = env
        .graph(Method::GET, body["access_token"].as_str().unwrap(), "/me")
        .send()
        .await
        .unwrap();
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["mail"], "Dana.Swope@contoso.com");
    assert_eq!(me["displayName"], "Dana Swope");

    // Single use: AADSTS54005.
    let (status, body) = redeem(&env, &code, verifier).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([54005]));
    for key in [
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
}

#[tokio::test]
async fn wrong_pkce_verifier_is_rejected() {
    let env = Env::new();
    let code = authorize(
        &env,
        "a@contoso.com",
        "the-right-verifier-0123456789-0123456789",
    )
    .await;
    let (status, body) = redeem(&env, &code, "another-verifier-0123456789-0123456789").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS501481")
    );
}

#[tokio::test]
async fn refresh_rotates_and_strict_rotation_rejects_reuse() {
    let env = Env::new();
    let first = env
        .post_json("/_emulator/mailboxes/a@contoso.com/token", json!({}))
        .await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&env, rt1).await;
    assert_eq!(status, 200);
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    env.put_json("/_emulator/oauth", json!({"strict_rotation": true}))
        .await;
    let (status, body) = refresh(&env, rt1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&env, rt2).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn knobs_fail_token_requests_like_entra() {
    let env = Env::new();
    let tokens = env
        .post_json("/_emulator/mailboxes/a@contoso.com/token", json!({}))
        .await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();

    env.put_json(
        "/_emulator/oauth",
        json!({"fail_next_token": "invalid_grant"}),
    )
    .await;
    let (status, body) = refresh(&env, &rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&env, &rt).await;
    assert_eq!(status, 200, "the knob fails only the next request");

    env.put_json("/_emulator/oauth", json!({"client_secret": "s3cret"}))
        .await;
    let (status, body) = refresh(&env, &rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(body["error_codes"], json!([7000215]));
    let resp = env
        .http
        .post(env.url("/common/oauth2/v2.0/token"))
        .basic_auth("app-1", Some("s3cret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "secret in HTTP Basic is accepted");

    env.put_json("/_emulator/oauth", json!({"secret_expired": true}))
        .await;
    let (status, body) = refresh(&env, &rt).await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([7000222]))
    );
    env.put_json(
        "/_emulator/oauth",
        json!({"secret_expired": false, "client_secret": null}),
    )
    .await;

    env.put_json(
        "/_emulator/oauth",
        json!({"revoke_mailbox": "A@contoso.com"}),
    )
    .await;
    let (status, body) = refresh(&env, &rt).await;
    assert_eq!((status, body["error_codes"].clone()), (400, json!([50173])));
}

#[tokio::test]
async fn graph_rejects_missing_unknown_and_expired_tokens() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let resp = env.http.get(env.url("/v1.0/me")).send().await.unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let (status, _) = json_of(
        env.graph(Method::GET, "garbage", "/me")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = json_of(env.graph(Method::GET, &token, "/me").send().await.unwrap()).await;
    assert_eq!(status, 200);
    env.post_json(
        "/_emulator/tokens/expire",
        json!({"mailbox": "a@contoso.com"}),
    )
    .await;
    let (status, body) = json_of(env.graph(Method::GET, &token, "/me").send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}

#[tokio::test]
async fn sign_in_page_without_hint_and_cancel_redirects_access_denied() {
    let env = Env::new();
    let base = [
        ("client_id", "app-1"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("state", "xyz"),
    ];
    let resp = env
        .http
        .get(env.url("/common/oauth2/v2.0/authorize"))
        .query(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("name=\"login_hint\"") && html.contains("value=\"cancel\""));
    let mut cancel = base.to_vec();
    cancel.push(("action", "cancel"));
    let resp = env
        .http
        .get(env.url("/common/oauth2/v2.0/authorize"))
        .query(&cancel)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("error=access_denied") && location.contains("state=xyz"),
        "{location}"
    );
}
