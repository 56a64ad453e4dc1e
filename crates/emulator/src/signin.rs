//! The identity platform's HTTP endpoints: `authorize` (instant consent for `login_hint`, else a small sign-in
//! page) and `token`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::identity::{self, TokenRequest};
use crate::server::Emulator;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><title>Sign in - error</title></head><body><h1>Sign in</h1><p>{}</p></body></html>",
        escape(message)
    );
    (status, Html(html)).into_response()
}

fn redirect_with(redirect_uri: &url::Url, pairs: &[(&str, &str)]) -> Response {
    let mut target = redirect_uri.clone();
    {
        let mut query = target.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    // 302 Found, as the identity platform answers.
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub async fn authorize(
    State(emulator): State<Arc<Emulator>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| params.get(k).map(String::as_str).filter(|s| !s.is_empty());
    let Some(client_id) = get("client_id") else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        );
    };
    let Some(redirect_text) = get("redirect_uri") else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "AADSTS900144: The request must contain the parameter 'redirect_uri'.",
        );
    };
    let Ok(redirect_uri) = url::Url::parse(redirect_text) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "AADSTS50011: The redirect URI specified in the request is not a valid URL.",
        );
    };
    let state = get("state").unwrap_or("");
    let with_state = |mut pairs: Vec<(&'static str, String)>| {
        if !state.is_empty() {
            pairs.push(("state", state.to_owned()));
        }
        pairs
    };
    let deny = |code: &str, description: &str| {
        let pairs = with_state(vec![
            ("error", code.to_owned()),
            ("error_description", description.to_owned()),
        ]);
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_with(&redirect_uri, &refs)
    };
    if get("response_type") != Some("code") {
        return deny(
            "unsupported_response_type",
            "AADSTS700054: response_type 'code' is required.",
        );
    }
    let denied = emulator.with_world(|w| w.identity.knobs.deny_consent);
    if get("action") == Some("cancel") || denied {
        return deny(
            "access_denied",
            "AADSTS65004: User declined to consent to access the app.",
        );
    }
    let Some(login) = get("login_hint") else {
        if get("prompt") == Some("none") {
            return deny(
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
            );
        }
        return sign_in_page(&params);
    };
    let challenge = get("code_challenge").map(|c| {
        (
            get("code_challenge_method").unwrap_or("plain").to_owned(),
            c.to_owned(),
        )
    });
    let scope = get("scope").unwrap_or("openid profile offline_access User.Read");
    let code = emulator.with_world(|w| {
        let key = w.ensure_mailbox(login);
        w.identity
            .issue_code(&key, client_id, redirect_text, scope, challenge)
    });
    let pairs = with_state(vec![("code", code)]);
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(&redirect_uri, &refs)
}

/// The sign-in page: an e-mail field, Accept and Cancel; it submits back to `authorize`.
fn sign_in_page(params: &HashMap<String, String>) -> Response {
    let hidden: String = params
        .iter()
        .filter(|(k, _)| k.as_str() != "login_hint" && k.as_str() != "action")
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sign in (Outlook emulator)</h1><form method=\"get\">{hidden}\
         <label>E-mail <input type=\"email\" name=\"login_hint\" required autofocus></label>\
         <button type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button>\
         </form></body></html>"
    );
    Html(html).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let request = TokenRequest::parse(&body, authorization);
    let result = emulator.with_world(|w| identity::token(w, &request));
    let no_store = [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ];
    match result {
        Ok(body) => (StatusCode::OK, no_store, Json(body)).into_response(),
        Err(err) => {
            let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, no_store, Json(err.body())).into_response()
        }
    }
}
