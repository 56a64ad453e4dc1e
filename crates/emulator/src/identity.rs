//! The identity platform: authorization codes with PKCE, access and refresh tokens, and the knobs that make
//! token requests fail the way Entra ID does.

use std::collections::{HashMap, HashSet};
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::errors::IdentityError;
use crate::store::World;

/// Authorization codes live about ten minutes.
const CODE_LIFETIME: SignedDuration = SignedDuration::from_secs(600);

/// An issued authorization code.
#[derive(Clone)]
pub struct AuthCode {
    mailbox: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<(String, String)>,
    issued: Timestamp,
    used: bool,
}

/// An issued access token.
#[derive(Clone)]
pub struct AccessToken {
    /// Mailbox key.
    pub mailbox: String,
    /// Expiry.
    pub expires: Timestamp,
}

#[derive(Clone)]
struct RefreshToken {
    mailbox: String,
    scope: String,
    used: bool,
}

/// The identity knobs (`PUT /_emulator/oauth`).
#[derive(Clone, Default, Deserialize, PartialEq)]
pub struct OAuthKnobs {
    /// When set, a different client secret fails with `invalid_client` (AADSTS7000215).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Every token request fails with `invalid_client` (AADSTS7000222).
    #[serde(default)]
    pub secret_expired: bool,
    /// The user declines consent at `authorize`.
    #[serde(default)]
    pub deny_consent: bool,
    /// The next token request fails with this error.
    #[serde(default)]
    pub fail_next_token: Option<String>,
    /// A refresh token is invalid once used.
    #[serde(default)]
    pub strict_rotation: bool,
}

impl fmt::Debug for OAuthKnobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthKnobs")
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("secret_expired", &self.secret_expired)
            .field("deny_consent", &self.deny_consent)
            .field("fail_next_token", &self.fail_next_token)
            .field("strict_rotation", &self.strict_rotation)
            .finish()
    }
}

/// Tokens and codes. Debug output shows counts only, never a secret.
#[derive(Default)]
pub struct IdentityState {
    codes: HashMap<String, AuthCode>,
    /// Access tokens by value.
    pub access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// Knobs.
    pub knobs: OAuthKnobs,
    /// Mailboxes whose grants were revoked until they consent again.
    pub revoked: HashSet<String>,
}

impl fmt::Debug for IdentityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityState")
            .field("codes", &self.codes.len())
            .field("access", &self.access.len())
            .field("refresh", &self.refresh.len())
            .field(
                "client_secret_configured",
                &self.knobs.client_secret.is_some(),
            )
            .field("revoked", &self.revoked)
            .finish()
    }
}

impl IdentityState {
    /// Records consent by `mailbox` and issues an authorization code.
    pub fn issue_code(
        &mut self,
        mailbox: &str,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        challenge: Option<(String, String)>,
    ) -> String {
        self.revoked.remove(mailbox);
        let code = crate::ids::token();
        let entry = AuthCode {
            mailbox: mailbox.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
            challenge,
            issued: Timestamp::now(),
            used: false,
        };
        self.codes.insert(code.clone(), entry);
        code
    }

    /// Issues an access token (and a refresh token when `with_refresh`) for `mailbox`.
    pub fn issue_tokens(
        &mut self,
        mailbox: &str,
        scope: &str,
        lifetime_s: u64,
        with_refresh: bool,
    ) -> Value {
        let access = format!("EwB{}", crate::ids::token());
        let lifetime = i64::try_from(lifetime_s).unwrap_or(3599);
        let expires = Timestamp::now()
            .checked_add(SignedDuration::from_secs(lifetime))
            .unwrap_or(Timestamp::MAX);
        self.access.insert(
            access.clone(),
            AccessToken {
                mailbox: mailbox.to_owned(),
                expires,
            },
        );
        let mut out = json!({
            "token_type": "Bearer",
            "scope": granted_scope(scope),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        });
        if with_refresh {
            let refresh = format!("M.C5{}", crate::ids::token());
            self.refresh.insert(
                refresh.clone(),
                RefreshToken {
                    mailbox: mailbox.to_owned(),
                    scope: scope.to_owned(),
                    used: false,
                },
            );
            out["refresh_token"] = json!(refresh);
        }
        out
    }

    /// The mailbox of a valid access token; `Err` carries Graph's 401 message.
    pub fn check_access(&self, token: &str) -> Result<String, &'static str> {
        match self.access.get(token) {
            None => Err("CompactToken parsing failed with error code: 80049217"),
            Some(t) if t.expires <= Timestamp::now() => {
                Err("Access token has expired or is not yet valid.")
            }
            Some(t) => Ok(t.mailbox.clone()),
        }
    }

    /// Expires every access token (of `mailbox`, if given).
    pub fn expire_access(&mut self, mailbox: Option<&str>) {
        let past = Timestamp::now()
            .checked_sub(SignedDuration::from_secs(1))
            .unwrap_or(Timestamp::MIN);
        for token in self.access.values_mut() {
            if mailbox.is_none_or(|m| m == token.mailbox) {
                token.expires = past;
            }
        }
    }
}

/// The `scope` of a token response: Graph scopes in their long form, OIDC scopes dropped.
fn granted_scope(requested: &str) -> String {
    let scopes: Vec<String> = requested
        .split_whitespace()
        .filter(|s| {
            !["openid", "profile", "email", "offline_access"]
                .contains(&s.to_ascii_lowercase().as_str())
        })
        .map(|s| {
            if s.contains("://") {
                s.to_owned()
            } else {
                format!("https://graph.microsoft.com/{s}")
            }
        })
        .collect();
    if scopes.is_empty() {
        "https://graph.microsoft.com/User.Read".to_owned()
    } else {
        scopes.join(" ")
    }
}

fn has_scope(scope: &str, name: &str) -> bool {
    scope
        .split_whitespace()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// An unsigned OpenID Connect id token naming the mailbox (the emulator has no keys to sign with).
fn id_token(world: &World, mailbox: &str, client_id: &str) -> String {
    let (name, address, oid) = world
        .mailboxes
        .get(mailbox)
        .map(|m| (m.display_name.clone(), m.address.clone(), m.user_id.clone()))
        .unwrap_or_default();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"none"}"#);
    let now = Timestamp::now().as_second();
    let claims = json!({
        "aud": client_id, "iss": "https://login.microsoftonline.com/emulator/v2.0", "iat": now, "nbf": now,
        "exp": now + 3600, "name": name, "preferred_username": address, "email": address, "oid": oid,
        "sub": oid, "tid": "00000000-0000-0000-0000-000000000000", "ver": "2.0",
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    format!("{header}.{payload}.")
}

/// Whether a PKCE verifier matches the challenge.
fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    if method.eq_ignore_ascii_case("plain") {
        return challenge == verifier;
    }
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// The token endpoint's request, from the form body and the `Authorization` header.
pub struct TokenRequest {
    params: HashMap<String, String>,
    basic: Option<(String, String)>,
}

impl TokenRequest {
    /// Parses a form body and an optional `Authorization: Basic` header.
    pub fn parse(body: &[u8], authorization: Option<&str>) -> TokenRequest {
        let params = url::form_urlencoded::parse(body).into_owned().collect();
        let basic = authorization
            .and_then(|h| {
                h.strip_prefix("Basic ")
                    .or_else(|| h.strip_prefix("basic "))
            })
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| {
                let (id, secret) = text.split_once(':')?;
                let decode = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                };
                Some((decode(id)?, decode(secret)?))
            });
        TokenRequest { params, basic }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub fn token(world: &mut World, req: &TokenRequest) -> Result<Value, IdentityError> {
    let client_id = req
        .get("client_id")
        .or(req.basic.as_ref().map(|(id, _)| id.as_str()))
        .ok_or_else(|| {
            IdentityError::new(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        })?
        .to_owned();
    let secret = req
        .get("client_secret")
        .or(req.basic.as_ref().map(|(_, s)| s.as_str()));
    let knobs = world.identity.knobs.clone();
    if knobs.secret_expired {
        return Err(IdentityError::new(
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app."
            ),
        ));
    }
    if let Some(expected) = &knobs.client_secret
        && secret != Some(expected.as_str())
    {
        return Err(IdentityError::new(
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        ));
    }
    if let Some(kind) = world.identity.knobs.fail_next_token.take() {
        return Err(match kind.as_str() {
            "invalid_client" => {
                IdentityError::new("invalid_client", 7000215, "Invalid client secret provided.")
            }
            "interaction_required" => IdentityError::new(
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.",
            ),
            _ => IdentityError::new(
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity.",
            ),
        });
    }
    let lifetime = world.config.access_token_lifetime_s;
    match req.get("grant_type") {
        Some("authorization_code") => {
            let code_value = req.get("code").ok_or_else(|| {
                IdentityError::new(
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'code'.",
                )
            })?;
            let code = world.identity.codes.get(code_value).cloned().ok_or_else(|| {
                IdentityError::new("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity.")
            })?;
            if code.used {
                return Err(IdentityError::new(
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                ));
            }
            if Timestamp::now().duration_since(code.issued) > CODE_LIFETIME {
                return Err(IdentityError::new(
                    "invalid_grant",
                    70008,
                    "The provided authorization code has expired.",
                ));
            }
            if code.client_id != client_id {
                return Err(IdentityError::new(
                    "invalid_grant",
                    70000,
                    "The authorization code was issued to another client.",
                ));
            }
            if req.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
                return Err(IdentityError::new(
                    "invalid_grant",
                    500112,
                    "The reply address does not match the reply address provided when requesting the authorization code.",
                ));
            }
            if let Some((method, challenge)) = &code.challenge {
                let ok = req
                    .get("code_verifier")
                    .is_some_and(|v| pkce_matches(method, challenge, v));
                if !ok {
                    return Err(IdentityError::new(
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ));
                }
            }
            if let Some(entry) = world.identity.codes.get_mut(code_value) {
                entry.used = true;
            }
            let with_refresh = has_scope(&code.scope, "offline_access");
            let mut out =
                world
                    .identity
                    .issue_tokens(&code.mailbox, &code.scope, lifetime, with_refresh);
            if has_scope(&code.scope, "openid") {
                out["id_token"] = json!(id_token(world, &code.mailbox, &client_id));
            }
            Ok(out)
        }
        Some("refresh_token") => {
            let value = req.get("refresh_token").ok_or_else(|| {
                IdentityError::new(
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'refresh_token'.",
                )
            })?;
            let entry = world.identity.refresh.get(value).cloned().ok_or_else(|| {
                IdentityError::new(
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                )
            })?;
            if world.identity.revoked.contains(&entry.mailbox) {
                return Err(IdentityError::new(
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
                ));
            }
            if entry.used && knobs.strict_rotation {
                return Err(IdentityError::new(
                    "invalid_grant",
                    70008,
                    "The refresh token was already used and has been revoked.",
                ));
            }
            if let Some(e) = world.identity.refresh.get_mut(value) {
                e.used = true;
            }
            let scope = req.get("scope").map_or(entry.scope.clone(), str::to_owned);
            Ok(world
                .identity
                .issue_tokens(&entry.mailbox, &scope, lifetime, true))
        }
        Some(other) => Err(IdentityError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Err(IdentityError::new(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches("S256", challenge, verifier));
        assert!(!pkce_matches("S256", challenge, "wrong"));
    }

    #[test]
    fn debug_output_shows_no_tokens() {
        let mut state = IdentityState::default();
        let out = state.issue_tokens("a@b.c", "offline_access Calendars.ReadWrite", 60, true);
        let debug = format!("{state:?}");
        let access = out["access_token"].as_str().unwrap_or_default();
        assert!(!access.is_empty() && !debug.contains(access));
        assert_eq!(
            out["scope"],
            "https://graph.microsoft.com/Calendars.ReadWrite"
        );
    }
}
