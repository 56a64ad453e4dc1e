//! Change-notification subscriptions (`/v1.0/subscriptions`): the resource, its validation rules and its CRUD
//! handlers. Delivery (the validation handshake, notifications, lifecycle events) lives in `notify`.
//!
//! Only event subscriptions exist here: `resource` is `/me/events` or `/users/{id}/events`, and as with
//! delegated permissions a mailbox can subscribe only to its own events.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::errors::GraphError;
use crate::graph::{GraphRequest, GraphResponse};
use crate::server::Emulator;
use crate::store::World;

/// Graph's longest lifetime of an event subscription without resource data.
pub const MAX_LIFETIME_MINUTES: i64 = 10_080;
/// Shorter lifetimes asked for are raised to this.
pub const MIN_LIFETIME_MINUTES: i64 = 45;
/// Graph's limit on `clientState`.
const MAX_CLIENT_STATE: usize = 128;
/// The emulator's one tenant (the `tid` of its id tokens).
pub const TENANT_ID: &str = "00000000-0000-0000-0000-000000000000";
/// `applicationId` of every subscription: the emulator does not tell client applications apart.
const APPLICATION_ID: &str = "00000000-0000-0000-0000-000000000001";

/// One kind of change a subscription asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeType {
    /// An event was created.
    Created,
    /// An event changed.
    Updated,
    /// An event was deleted.
    Deleted,
}

impl ChangeType {
    /// Graph's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
        }
    }

    fn parse(text: &str) -> Option<ChangeType> {
        [
            ChangeType::Created,
            ChangeType::Updated,
            ChangeType::Deleted,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A subscription to the events of one mailbox.
#[derive(Clone)]
pub struct Subscription {
    /// Graph id (a GUID).
    pub id: String,
    /// Key of the watched mailbox, which is also the creator's.
    pub mailbox: String,
    /// `resource` as the client gave it.
    pub resource: String,
    /// The change types asked for, sorted, without duplicates.
    pub change_types: Vec<ChangeType>,
    /// Where notifications go.
    pub notification_url: String,
    /// Where lifecycle events go (set only at creation).
    pub lifecycle_url: Option<String>,
    /// When it expires.
    pub expires: Timestamp,
    /// Echoed in every notification; a shared secret, so never in Debug output or logs.
    pub client_state: Option<String>,
    /// `latestSupportedTlsVersion`, echoed.
    pub latest_tls: String,
    /// After a `reauthorizationRequired` lifecycle event notifications pause until reauthorize or PATCH.
    pub paused: bool,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("mailbox", &self.mailbox)
            .field("change_types", &self.change_types)
            .field("notification_url", &self.notification_url)
            .field("expires", &self.expires)
            .field(
                "client_state",
                &self.client_state.as_ref().map(|_| "<redacted>"),
            )
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Whether it has not expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires > now
    }

    /// Graph's JSON for the subscription.
    pub fn to_json(&self, creator_id: &str) -> Value {
        let change_type: Vec<&str> = self.change_types.iter().map(|c| c.as_str()).collect();
        json!({
            "id": self.id,
            "resource": self.resource,
            "applicationId": APPLICATION_ID,
            "changeType": change_type.join(","),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": null,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": crate::timezones::format_utc(self.expires),
            "creatorId": creator_id,
            "includeResourceData": false,
            "latestSupportedTlsVersion": self.latest_tls,
            "encryptionCertificate": null,
            "encryptionCertificateId": null,
            "notificationUrlAppId": null,
        })
    }
}

/// Subscriptions and the record of deliveries.
#[derive(Debug)]
pub struct WebhookState {
    /// Subscriptions by id.
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Every delivery attempt (handshakes, notifications, lifecycle events), oldest first.
    pub deliveries: Vec<crate::notify::DeliveryRecord>,
    /// Tells this state apart from the one a `reset` replaces, so late attempts are not recorded in it.
    pub instance: String,
}

impl Default for WebhookState {
    fn default() -> Self {
        WebhookState {
            subscriptions: BTreeMap::new(),
            deliveries: Vec::new(),
            instance: crate::ids::guid(),
        }
    }
}

impl WebhookState {
    /// Forgets expired subscriptions (Graph deletes them on its own).
    pub fn purge_expired(&mut self, now: Timestamp) {
        self.subscriptions.retain(|_, s| s.is_active(now));
    }
}

/// The routes under `/subscriptions`.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionRoute {
    /// `/subscriptions`.
    Collection,
    /// `/subscriptions/{id}`.
    Item(String),
    /// `/subscriptions/{id}/reauthorize`.
    Reauthorize(String),
}

fn not_found(id: &str) -> GraphError {
    GraphError::new(
        404,
        "ResourceNotFound",
        format!("The subscription '{id}' was not found."),
    )
}

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(400, "InvalidRequest", message)
}

/// What a create asks for, validated.
struct NewSubscription {
    resource: String,
    change_types: Vec<ChangeType>,
    notification_url: String,
    lifecycle_url: Option<String>,
    expires: Timestamp,
    client_state: Option<String>,
    latest_tls: String,
}

fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, GraphError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(GraphError::body_read(format!(
            "Property '{name}' must be a string, got {other}."
        ))),
    }
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, GraphError> {
    string_field(body, name)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid(format!("Property '{name}' is required.")))
}

/// Parses `changeType`: a comma-separated, non-empty subset of created, updated, deleted.
fn change_types(text: &str) -> Result<Vec<ChangeType>, GraphError> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let kind = ChangeType::parse(part).ok_or_else(|| {
            invalid(format!(
                "Property 'changeType' has an unsupported value '{}': use created, updated or deleted.",
                part.trim()
            ))
        })?;
        if out.contains(&kind) {
            return Err(invalid(format!(
                "Property 'changeType' names '{}' twice.",
                kind.as_str()
            )));
        }
        out.push(kind);
    }
    out.sort();
    Ok(out)
}

/// Checks a notification URL. Graph demands HTTPS; the emulator also takes `http` so tests can listen
/// locally. Other schemes are refused, so delivery can only ever reach an HTTP endpoint the client named.
fn endpoint(name: &str, text: &str) -> Result<String, GraphError> {
    let url = url::Url::parse(text).map_err(|e| {
        invalid(format!(
            "Property '{name}' is not a valid absolute URL ({e})."
        ))
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(invalid(format!(
            "Property '{name}' must be an https (or, in the emulator, http) URL with a host."
        )));
    }
    Ok(text.to_owned())
}

/// Checks `expirationDateTime` against the cap and raises short lifetimes to the minimum.
fn expiration(text: &str, now: Timestamp) -> Result<Timestamp, GraphError> {
    let at = crate::timezones::parse_bound(text).ok_or_else(|| {
        invalid(format!(
            "Property 'expirationDateTime' is not a valid date-time: '{text}'."
        ))
    })?;
    if at <= now {
        return Err(invalid(format!(
            "Property 'expirationDateTime' must be in the future, got '{text}'."
        )));
    }
    let lifetime = now.duration_until(at);
    if lifetime > SignedDuration::from_mins(MAX_LIFETIME_MINUTES) {
        return Err(invalid(format!(
            "Property 'expirationDateTime' is too far in the future: subscription expiration can only be {MAX_LIFETIME_MINUTES} minutes in the future."
        )));
    }
    let min = SignedDuration::from_mins(MIN_LIFETIME_MINUTES);
    Ok(if lifetime < min {
        now.checked_add(min).unwrap_or(at)
    } else {
        at
    })
}

/// Checks that `resource` names the events of the caller's own mailbox.
fn check_resource(world: &World, mailbox: &str, resource: &str) -> Result<(), GraphError> {
    let unsupported = || {
        invalid(format!(
            "Property 'resource' must be '/me/events' or '/users/{{id}}/events', got '{resource}'."
        ))
    };
    if resource.contains('?') {
        return Err(invalid(format!(
            "Property 'resource' must not carry query options (such as $filter) for event subscriptions, got '{resource}'."
        )));
    }
    let segments: Vec<&str> = resource.split('/').filter(|s| !s.is_empty()).collect();
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    match segments.as_slice() {
        [me, events] if is(me, "me") && is(events, "events") => Ok(()),
        [users, who, events] if is(users, "users") && is(events, "events") => {
            let own = world
                .mailboxes
                .get(mailbox)
                .is_some_and(|m| m.address.eq_ignore_ascii_case(who) || m.user_id == *who);
            if own {
                Ok(())
            } else {
                Err(GraphError::new(
                    403,
                    "ErrorAccessDenied",
                    format!(
                        "Access is denied: delegated subscriptions can watch only the signed-in user's mailbox, not '{who}'."
                    ),
                ))
            }
        }
        _ => Err(unsupported()),
    }
}

fn parse_new(
    world: &World,
    mailbox: &str,
    body: &Value,
    now: Timestamp,
) -> Result<NewSubscription, GraphError> {
    const KNOWN: [&str; 11] = [
        "changeType",
        "notificationUrl",
        "lifecycleNotificationUrl",
        "resource",
        "expirationDateTime",
        "clientState",
        "latestSupportedTlsVersion",
        "includeResourceData",
        "encryptionCertificate",
        "encryptionCertificateId",
        "notificationUrlAppId",
    ];
    let body = body
        .as_object()
        .ok_or_else(|| GraphError::body_read("The subscription body must be a JSON object."))?;
    if let Some(unknown) = body
        .keys()
        .find(|k| !k.starts_with('@') && !KNOWN.contains(&k.as_str()))
    {
        return Err(GraphError::body_read(format!(
            "The property '{unknown}' does not exist on type 'microsoft.graph.subscription'."
        )));
    }
    if body.get("includeResourceData") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "Property 'includeResourceData': notifications with resource data are not supported by the emulator.",
        ));
    }
    let resource = required(body, "resource")?;
    check_resource(world, mailbox, resource)?;
    let change_types = change_types(required(body, "changeType")?)?;
    let notification_url = endpoint("notificationUrl", required(body, "notificationUrl")?)?;
    let lifecycle_url = string_field(body, "lifecycleNotificationUrl")?
        .map(|u| endpoint("lifecycleNotificationUrl", u))
        .transpose()?;
    let expires = expiration(required(body, "expirationDateTime")?, now)?;
    let client_state = string_field(body, "clientState")?.map(str::to_owned);
    if let Some(state) = &client_state
        && state.chars().count() > MAX_CLIENT_STATE
    {
        return Err(invalid(format!(
            "Property 'clientState' is {} characters long; at most {MAX_CLIENT_STATE} are allowed.",
            state.chars().count()
        )));
    }
    let latest_tls = match string_field(body, "latestSupportedTlsVersion")? {
        None => "v1_2".to_owned(),
        Some(v) if ["v1_0", "v1_1", "v1_2", "v1_3"].contains(&v) => v.to_owned(),
        Some(other) => {
            return Err(invalid(format!(
                "Property 'latestSupportedTlsVersion' must be v1_0, v1_1, v1_2 or v1_3, got '{other}'."
            )));
        }
    };
    Ok(NewSubscription {
        resource: resource.to_owned(),
        change_types,
        notification_url,
        lifecycle_url,
        expires,
        client_state,
        latest_tls,
    })
}

/// Graph answers a second subscription for the same change types on the same mailbox with 409.
fn duplicate_of(world: &World, mailbox: &str, change_types: &[ChangeType]) -> Option<String> {
    world
        .webhooks
        .subscriptions
        .values()
        .find(|s| s.mailbox == mailbox && s.change_types == change_types)
        .map(|s| s.id.clone())
}

fn conflict(existing: &str) -> GraphError {
    GraphError::new(
        409,
        "ExtensionError",
        format!("Subscription Id {existing} already exists for the requested combination."),
    )
}

fn creator_id(world: &World, mailbox: &str) -> String {
    world
        .mailboxes
        .get(mailbox)
        .map(|m| m.user_id.clone())
        .unwrap_or_default()
}

fn with_context(mut value: Value, origin: &str, entity: bool) -> Value {
    let suffix = if entity { "/$entity" } else { "" };
    value["@odata.context"] = json!(format!("{origin}/v1.0/$metadata#subscriptions{suffix}"));
    value
}

/// Runs a `/subscriptions` request of `mailbox` (already authenticated and admitted).
pub async fn handle(
    emulator: &Arc<Emulator>,
    mailbox: &str,
    req: &GraphRequest,
    route: SubscriptionRoute,
) -> Result<GraphResponse, GraphError> {
    let method = req.method.as_str();
    let origin = req.origin.as_str();
    match (route, method) {
        (SubscriptionRoute::Collection, "POST") => create(emulator, mailbox, req).await,
        (SubscriptionRoute::Collection, "GET") => Ok(emulator.with_world(|w| {
            w.webhooks.purge_expired(Timestamp::now());
            let creator = creator_id(w, mailbox);
            let value: Vec<Value> = w
                .webhooks
                .subscriptions
                .values()
                .filter(|s| s.mailbox == mailbox)
                .map(|s| s.to_json(&creator))
                .collect();
            GraphResponse::json(200, with_context(json!({"value": value}), origin, false))
        })),
        (SubscriptionRoute::Item(id), "GET") => emulator.with_world(|w| {
            w.webhooks.purge_expired(Timestamp::now());
            let creator = creator_id(w, mailbox);
            let sub = own(w, mailbox, &id)?;
            Ok(GraphResponse::json(
                200,
                with_context(sub.to_json(&creator), origin, true),
            ))
        }),
        (SubscriptionRoute::Item(id), "PATCH") => emulator.with_world(|w| {
            let now = Timestamp::now();
            w.webhooks.purge_expired(now);
            let expires = parse_renewal(req.body.as_ref(), now)?;
            let creator = creator_id(w, mailbox);
            own(w, mailbox, &id)?;
            let sub = w
                .webhooks
                .subscriptions
                .get_mut(&id)
                .ok_or_else(|| not_found(&id))?;
            sub.expires = expires;
            // A renewal also reauthorizes (Graph: PATCH "does both").
            sub.paused = false;
            Ok(GraphResponse::json(
                200,
                with_context(sub.to_json(&creator), origin, true),
            ))
        }),
        (SubscriptionRoute::Item(id), "DELETE") => emulator.with_world(|w| {
            w.webhooks.purge_expired(Timestamp::now());
            own(w, mailbox, &id)?;
            w.webhooks.subscriptions.remove(&id);
            Ok(GraphResponse::empty(204))
        }),
        (SubscriptionRoute::Reauthorize(id), "POST") => emulator.with_world(|w| {
            w.webhooks.purge_expired(Timestamp::now());
            own(w, mailbox, &id)?;
            if let Some(sub) = w.webhooks.subscriptions.get_mut(&id) {
                sub.paused = false;
            }
            Ok(GraphResponse::empty(204))
        }),
        (_, other) => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!("The HTTP method '{other}' is not allowed on this resource."),
        )),
    }
}

/// The subscription `id` if it belongs to `mailbox` (another mailbox's is "not found", as in Graph).
fn own<'a>(world: &'a World, mailbox: &str, id: &str) -> Result<&'a Subscription, GraphError> {
    world
        .webhooks
        .subscriptions
        .get(id)
        .filter(|s| s.mailbox == mailbox)
        .ok_or_else(|| not_found(id))
}

fn parse_renewal(body: Option<&Value>, now: Timestamp) -> Result<Timestamp, GraphError> {
    let body = body
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("PATCH of a subscription needs a JSON object body."))?;
    if let Some(other) = body
        .keys()
        .find(|k| !k.starts_with('@') && k.as_str() != "expirationDateTime")
    {
        return Err(invalid(format!(
            "Property '{other}' cannot be changed on a subscription in the emulator; only 'expirationDateTime' can (delete and recreate for the rest)."
        )));
    }
    expiration(required(body, "expirationDateTime")?, now)
}

async fn create(
    emulator: &Arc<Emulator>,
    mailbox: &str,
    req: &GraphRequest,
) -> Result<GraphResponse, GraphError> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let (new, timeout) = emulator.with_world(|w| {
        let now = Timestamp::now();
        w.webhooks.purge_expired(now);
        let new = parse_new(w, mailbox, &body, now)?;
        if let Some(existing) = duplicate_of(w, mailbox, &new.change_types) {
            return Err(conflict(&existing));
        }
        let timeout = Duration::from_millis(w.config.webhook_validation_timeout_ms);
        Ok((new, timeout))
    })?;
    let id = crate::ids::guid();
    let mut urls = vec![new.notification_url.as_str()];
    urls.extend(new.lifecycle_url.as_deref());
    for url in urls {
        if let Err(reason) = crate::notify::validate(emulator, url, &id, timeout).await {
            return Err(GraphError::new(
                400,
                "ValidationError",
                format!(
                    "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request ({reason})."
                ),
            ));
        }
    }
    emulator.with_world(|w| {
        // Another create may have won the race while the handshake ran.
        if let Some(existing) = duplicate_of(w, mailbox, &new.change_types) {
            return Err(conflict(&existing));
        }
        let sub = Subscription {
            id: id.clone(),
            mailbox: mailbox.to_owned(),
            resource: new.resource,
            change_types: new.change_types,
            notification_url: new.notification_url,
            lifecycle_url: new.lifecycle_url,
            expires: new.expires,
            client_state: new.client_state,
            latest_tls: new.latest_tls,
            paused: false,
        };
        let out = sub.to_json(&creator_id(w, mailbox));
        w.webhooks.subscriptions.insert(id, sub);
        Ok(GraphResponse::json(
            201,
            with_context(out, &req.origin, true),
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn change_types_are_a_sorted_subset_without_duplicates() {
        assert_eq!(
            change_types("deleted, Created").unwrap(),
            vec![ChangeType::Created, ChangeType::Deleted]
        );
        assert_eq!(change_types("updated,updated").unwrap_err().status, 400);
        assert_eq!(change_types("moved").unwrap_err().status, 400);
        assert_eq!(change_types("").unwrap_err().status, 400);
    }

    #[test]
    fn expiration_is_capped_and_raised() {
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let short = expiration("2030-01-01T00:10:00Z", now).unwrap();
        assert_eq!(short, "2030-01-01T00:45:00Z".parse::<Timestamp>().unwrap());
        let max = expiration("2030-01-08T00:00:00.0000000Z", now).unwrap();
        assert_eq!(max, "2030-01-08T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(
            expiration("2030-01-08T00:01:00Z", now).unwrap_err().status,
            400
        );
        assert_eq!(
            expiration("2029-12-31T23:00:00Z", now).unwrap_err().status,
            400
        );
    }

    #[test]
    fn debug_output_hides_the_client_state() {
        let sub = Subscription {
            id: "s".into(),
            mailbox: "a@b".into(),
            resource: "/me/events".into(),
            change_types: vec![ChangeType::Created],
            notification_url: "http://127.0.0.1:1/n".into(),
            lifecycle_url: None,
            expires: Timestamp::UNIX_EPOCH,
            client_state: Some("s3cret-value".into()),
            latest_tls: "v1_2".into(),
            paused: false,
        };
        assert!(!format!("{sub:?}").contains("s3cret-value"));
    }
}
