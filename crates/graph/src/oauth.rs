//! OAuth 2.0 authorization-code flow with PKCE against the Microsoft identity platform (v2
//! endpoints), driven by the `oauth2` crate over our own `reqwest` client.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};

use crate::config::{AppCredentials, DEFAULT_SCOPES, Endpoints};
use crate::error::{GraphError, oauth_error, snippet};
use crate::retry::parse_retry_after;
use crate::secret::Secret;
use crate::transport::transport_error;

const LOG: &str = "outlook_sync::graph::oauth";

/// Token lifetime assumed when the token endpoint omits `expires_in` (it never should): short, so a
/// wrong guess costs an early refresh rather than a 401.
const FALLBACK_LIFETIME: Duration = Duration::from_secs(600);

/// Tokens of one mailbox. The caller persists them (the refresh token rotates on every refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// Bearer token for Graph.
    pub access_token: Secret,
    /// Refresh token; present when `offline_access` was granted.
    pub refresh_token: Option<Secret>,
    /// When the access token expires (computed from `expires_in` at request time).
    pub expires_at: jiff::Timestamp,
    /// The scopes actually granted, space-separated (may be fewer than requested).
    pub scope: Option<String>,
}

/// Where to send the user's browser, and the PKCE verifier to keep (server-side) until the callback.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The authorize URL, with `state`, PKCE challenge and `response_mode=query`.
    pub url: String,
    /// The PKCE verifier; pass it to [`OAuthClient::exchange_code`].
    pub pkce_verifier: Secret,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Client of the identity platform's authorize and token endpoints for one app registration.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    client: Client,
    token_url: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client.client_id().as_str())
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// Validates the endpoints and the redirect URI.
    pub fn new(
        http: reqwest::Client,
        endpoints: Endpoints,
        app: AppCredentials,
    ) -> Result<Self, GraphError> {
        let base = endpoints.login_url.trim_end_matches('/');
        let tenant = endpoints.tenant.trim_matches('/');
        if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
            return Err(GraphError::InvalidInput {
                context: "tenant".to_owned(),
                detail: format!("{tenant:?} is not a tenant id, domain or `common`"),
            });
        }
        let auth_url = format!("{base}/{tenant}/oauth2/v2.0/authorize");
        let token_url = format!("{base}/{tenant}/oauth2/v2.0/token");
        let invalid = |context: &str, detail: String| GraphError::InvalidInput {
            context: context.to_owned(),
            detail,
        };
        let auth = AuthUrl::new(auth_url)
            .map_err(|e| invalid("login URL", format!("{:?}: {e}", endpoints.login_url)))?;
        let token = TokenUrl::new(token_url.clone())
            .map_err(|e| invalid("login URL", format!("{:?}: {e}", endpoints.login_url)))?;
        let redirect = RedirectUrl::new(app.redirect_uri.clone())
            .map_err(|e| invalid("redirect URI", format!("{:?}: {e}", app.redirect_uri)))?;
        if app.client_id.trim().is_empty() {
            return Err(invalid("client id", "it is empty".to_owned()));
        }
        let mut client = BasicClient::new(ClientId::new(app.client_id))
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect)
            // Microsoft documents the secret as a body parameter.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = app.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        Ok(Self {
            http,
            client,
            token_url,
        })
    }

    /// Builds the authorize URL: PKCE S256, the caller's `state` (Odoo signs it and binds it to the
    /// user), `response_mode=query`, and `scopes` ([`DEFAULT_SCOPES`] when empty).
    pub fn authorization_request(
        &self,
        state: &str,
        login_hint: Option<&str>,
        scopes: &[&str],
    ) -> AuthorizationRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = if scopes.is_empty() {
            DEFAULT_SCOPES
        } else {
            scopes
        };
        let state = state.to_owned();
        let mut request = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", "query");
        if let Some(hint) = login_hint.filter(|h| !h.is_empty()) {
            request = request.add_extra_param("login_hint", hint);
        }
        let (url, _state) = request.url();
        AuthorizationRequest {
            url: url.into(),
            pkce_verifier: Secret::from(verifier.secret().clone()),
        }
    }

    /// Redeems an authorization code (single use, about 10 minutes) with its PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenSet, GraphError> {
        let http = self.adapter();
        // A code is single use: repeat only when the first attempt surely was not processed.
        let tokens = self
            .with_retries("authorization code", Repeat::OnlyUnprocessed, None, || {
                self.client
                    .exchange_code(AuthorizationCode::new(code.to_owned()))
                    .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
                    .request_async(&http)
            })
            .await?;
        log::info!(target: LOG, "authorization code redeemed (scopes: {})", tokens.scope.as_deref().unwrap_or("-"));
        Ok(tokens)
    }

    /// Exchanges a refresh token. Keeps the rotated refresh token Microsoft returns, and falls back
    /// to the old one only if none came back.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, GraphError> {
        let http = self.adapter();
        let old = RefreshToken::new(refresh_token.to_owned());
        // Microsoft keeps the old refresh token valid for a while after rotating it, so a refresh
        // whose answer was lost can be repeated.
        let tokens = self
            .with_retries("token refresh", Repeat::Always, Some(refresh_token), || {
                self.client
                    .exchange_refresh_token(&old)
                    .request_async(&http)
            })
            .await?;
        log::debug!(target: LOG, "access token refreshed, valid until {}", tokens.expires_at);
        Ok(tokens)
    }

    /// Runs a token request, repeating it after transient failures (at most [`TOKEN_ATTEMPTS`]).
    async fn with_retries<F, Fut>(
        &self,
        what: &str,
        repeat: Repeat,
        previous_refresh_token: Option<&str>,
        request: F,
    ) -> Result<TokenSet, GraphError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = TokenResult>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let issued = jiff::Timestamp::now();
            let response = request().await;
            let wait = match &response {
                Err(error) if attempt < TOKEN_ATTEMPTS => transient_wait(error, repeat, attempt),
                _ => None,
            };
            match wait {
                Some(wait) => {
                    log::info!(target: LOG, "{what} failed transiently; retrying in {:.2}s", wait.as_secs_f64());
                    tokio::time::sleep(wait).await;
                }
                None => return self.finish(what, issued, response, previous_refresh_token),
            }
        }
    }

    /// The `oauth2` crate's HTTP hook over our client. Non-200 answers that are not the identity
    /// platform's JSON error come back as [`TokenHttpError::Status`], so we can name the status.
    fn adapter(
        &self,
    ) -> impl Fn(
        oauth2::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, TokenHttpError>> + Send>,
    > + use<> {
        let http = self.http.clone();
        move |request: oauth2::HttpRequest| {
            let http = http.clone();
            Box::pin(async move { send_token_request(&http, request).await })
        }
    }

    fn finish(
        &self,
        what: &str,
        issued: jiff::Timestamp,
        response: TokenResult,
        previous_refresh_token: Option<&str>,
    ) -> Result<TokenSet, GraphError> {
        let response = response.map_err(|e| {
            let err = map_token_error(what, e);
            log::warn!(target: LOG, "{what} failed: {err}");
            err
        })?;
        let lifetime = response.expires_in().unwrap_or(FALLBACK_LIFETIME);
        let expires_at = jiff::SignedDuration::try_from(lifetime)
            .ok()
            .and_then(|d| issued.checked_add(d).ok())
            .unwrap_or(issued);
        let refresh_token = response
            .refresh_token()
            .map(|t| Secret::from(t.secret().clone()))
            .or_else(|| previous_refresh_token.map(Secret::from));
        let scope = response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        });
        let access = response.access_token().secret();
        if access.is_empty() {
            return Err(GraphError::Payload {
                context: format!("{what} response from {}", self.token_url),
                detail: "`access_token` is empty".to_owned(),
            });
        }
        Ok(TokenSet {
            access_token: Secret::from(access.clone()),
            refresh_token,
            expires_at,
            scope,
        })
    }
}

type TokenError = RequestTokenError<TokenHttpError, BasicErrorResponse>;
type TokenResult = Result<BasicTokenResponse, TokenError>;

/// Attempts per token request.
const TOKEN_ATTEMPTS: u32 = 3;
/// Longest wait between token attempts: a user may be waiting on the OAuth callback.
const TOKEN_MAX_WAIT: Duration = Duration::from_secs(10);

/// Which transient failures a token request may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Only when the server surely did not process it (connect failure, 429, 503,
    /// `temporarily_unavailable`).
    OnlyUnprocessed,
    /// Also after a lost answer or a 500/502/504.
    Always,
}

/// How long to wait before repeating after `error`, or `None` when repeating cannot help.
fn transient_wait(error: &TokenError, repeat: Repeat, attempt: u32) -> Option<Duration> {
    let backoff = || crate::retry::backoff(attempt, &mut rand::rng());
    let wait = match error {
        RequestTokenError::Request(TokenHttpError::Transport { unsent: true, .. }) => backoff(),
        RequestTokenError::Request(TokenHttpError::Transport { unsent: false, .. })
            if repeat == Repeat::Always =>
        {
            backoff()
        }
        RequestTokenError::Request(TokenHttpError::Status {
            status: 429 | 503,
            retry_after,
            ..
        }) => retry_after.unwrap_or_else(backoff),
        RequestTokenError::Request(TokenHttpError::Status {
            status: 500 | 502 | 504,
            ..
        }) if repeat == Repeat::Always => backoff(),
        RequestTokenError::ServerResponse(response) if matches!(response.error(), BasicErrorResponseType::Extension(code) if code == "temporarily_unavailable") => {
            backoff()
        }
        _ => return None,
    };
    Some(wait.min(TOKEN_MAX_WAIT))
}

/// Failure of one token-endpoint HTTP exchange, below the OAuth protocol level.
#[derive(Debug, thiserror::Error)]
enum TokenHttpError {
    #[error("{error}")]
    Transport {
        error: GraphError,
        /// The request never reached the server.
        unsent: bool,
    },
    #[error("HTTP {status}: {snippet}")]
    Status {
        status: u16,
        snippet: String,
        retry_after: Option<Duration>,
    },
}

impl TokenHttpError {
    fn transport(error: reqwest::Error) -> Self {
        let unsent = error.is_connect() || error.is_builder();
        Self::Transport {
            error: transport_error("token endpoint", error),
            unsent,
        }
    }
}

async fn send_token_request(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TokenHttpError> {
    let request = reqwest::Request::try_from(request).map_err(TokenHttpError::transport)?;
    let started = std::time::Instant::now();
    let response = http
        .execute(request)
        .await
        .map_err(TokenHttpError::transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(TokenHttpError::transport)?;
    // Never log the query or body of the token endpoint.
    log::debug!(target: LOG, "POST token endpoint -> {} ({} ms)", status.as_u16(), started.elapsed().as_millis());
    if status != http::StatusCode::OK && !is_oauth_error_body(&body) {
        let retry_after = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
        return Err(TokenHttpError::Status {
            status: status.as_u16(),
            snippet: snippet(&body),
            retry_after,
        });
    }
    let mut out = http::Response::builder()
        .status(status)
        .body(body.to_vec())
        .map_err(|e| TokenHttpError::Status {
            status: status.as_u16(),
            snippet: e.to_string(),
            retry_after: None,
        })?;
    *out.headers_mut() = headers;
    Ok(out)
}

fn is_oauth_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("error").is_some_and(serde_json::Value::is_string))
}

fn map_token_error(what: &str, error: TokenError) -> GraphError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let code = serde_json::to_value(response.error())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown_error".to_owned());
            oauth_error(
                &code,
                response.error_description().map_or("", String::as_str),
            )
        }
        RequestTokenError::Request(TokenHttpError::Transport { error, .. }) => error,
        RequestTokenError::Request(TokenHttpError::Status {
            status, snippet, ..
        }) => GraphError::Payload {
            context: format!("{what}: token endpoint answered HTTP {status}"),
            detail: if snippet.is_empty() {
                "empty body".to_owned()
            } else {
                format!("not an OAuth error body: {snippet}")
            },
        },
        // The body may hold tokens: report only where parsing failed and the error category.
        RequestTokenError::Parse(err, _body) => GraphError::Payload {
            context: format!("{what} response"),
            detail: format!(
                "field `{}` is missing or malformed ({:?})",
                err.path(),
                err.inner().classify()
            ),
        },
        RequestTokenError::Other(detail) => GraphError::Payload {
            context: format!("{what} response"),
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::Engine;
    use sha2::Digest;

    use super::*;

    fn client(secret: Option<&str>) -> OAuthClient {
        OAuthClient::new(
            reqwest::Client::new(),
            Endpoints {
                login_url: "https://login.example.test/".into(),
                tenant: "contoso.onmicrosoft.com".into(),
                graph_url: "https://graph.example.test".into(),
            },
            AppCredentials {
                client_id: "app-123".into(),
                client_secret: secret.map(Secret::from),
                redirect_uri: "https://odoo.example.test/outlook/callback".into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn authorization_url_carries_pkce_s256_state_and_hint() {
        let request = client(Some("s3cret")).authorization_request(
            "signed.state",
            Some("ada@contoso.com"),
            &[],
        );
        let url = url::Url::parse(&request.url).unwrap();
        assert_eq!(url.path(), "/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
        let params: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(params["client_id"], "app-123");
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["response_mode"], "query");
        assert_eq!(params["state"], "signed.state");
        assert_eq!(params["login_hint"], "ada@contoso.com");
        assert_eq!(
            params["redirect_uri"],
            "https://odoo.example.test/outlook/callback"
        );
        assert_eq!(params["scope"], DEFAULT_SCOPES.join(" "));
        assert_eq!(params["code_challenge_method"], "S256");
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            sha2::Sha256::digest(request.pkce_verifier.expose().as_bytes()),
        );
        assert_eq!(params["code_challenge"], expected);
        assert!(
            !request.url.contains("s3cret"),
            "the client secret never goes to the browser"
        );
        assert!(request.pkce_verifier.expose().len() >= 43);
    }

    #[test]
    fn each_request_has_a_fresh_verifier_and_custom_scopes() {
        let c = client(None);
        let a = c.authorization_request("s", None, &["Calendars.Read"]);
        let b = c.authorization_request("s", None, &[]);
        assert_ne!(a.pkce_verifier.expose(), b.pkce_verifier.expose());
        assert!(a.url.contains("scope=Calendars.Read&") || a.url.ends_with("scope=Calendars.Read"));
        assert!(!a.url.contains("login_hint"));
    }

    #[test]
    fn bad_configuration_is_rejected_with_the_setting_named() {
        let err = OAuthClient::new(
            reqwest::Client::new(),
            Endpoints::default(),
            AppCredentials {
                client_id: "x".into(),
                client_secret: None,
                redirect_uri: "not a url".into(),
            },
        )
        .unwrap_err();
        assert!(
            matches!(&err, GraphError::InvalidInput { context, .. } if context == "redirect URI"),
            "{err}"
        );
        let err = OAuthClient::new(
            reqwest::Client::new(),
            Endpoints {
                tenant: "a/b".into(),
                ..Endpoints::default()
            },
            AppCredentials {
                client_id: "x".into(),
                client_secret: None,
                redirect_uri: "http://localhost/cb".into(),
            },
        )
        .unwrap_err();
        assert!(
            matches!(&err, GraphError::InvalidInput { context, .. } if context == "tenant"),
            "{err}"
        );
    }

    #[test]
    fn token_sets_and_authorization_requests_redact_in_debug() {
        let tokens = TokenSet {
            access_token: Secret::from("eyJ0eXAi.access"),
            refresh_token: Some(Secret::from("AwABAAAA.refresh")),
            expires_at: jiff::Timestamp::UNIX_EPOCH,
            scope: Some("Calendars.ReadWrite".into()),
        };
        let text = format!("{tokens:?}");
        assert!(
            !text.contains("eyJ0eXAi") && !text.contains("AwABAAAA"),
            "{text}"
        );
        assert!(text.contains("Calendars.ReadWrite"));
        let request = client(None).authorization_request("s", None, &[]);
        let text = format!("{request:?}");
        assert!(!text.contains(request.pkce_verifier.expose()), "{text}");
    }

    #[test]
    fn debug_output_has_no_secret() {
        let text = format!("{:?}", client(Some("s3cret")));
        assert!(
            text.contains("app-123") && !text.contains("s3cret"),
            "{text}"
        );
    }
}
