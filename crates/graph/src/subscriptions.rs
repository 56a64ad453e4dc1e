//! Change-notification subscriptions on the mailbox's events (webhooks). Notifications are only
//! hints: on one, run the stored delta link.

use http::Method;
use serde_json::{Value, json};

use crate::client::{Call, GraphClient};
use crate::error::GraphError;
use crate::retry::Replay;

/// Graph's maximum lifetime of an event subscription without resource data (10,080 minutes).
pub const MAX_SUBSCRIPTION_MINUTES: i64 = 10_080;

impl GraphClient {
    /// `POST /subscriptions` for `created,updated,deleted` on `/me/events`. Graph validates
    /// `notification_url` (and `lifecycle_url`) with a handshake before answering; `client_state`
    /// comes back in every notification and should be checked there. Returns the subscription
    /// (`id`, `expirationDateTime`, ...).
    pub async fn create_subscription(
        &self,
        notification_url: &str,
        lifecycle_url: Option<&str>,
        client_state: &str,
        expires: jiff::Timestamp,
    ) -> Result<Value, GraphError> {
        let mut body = json!({
            "changeType": "created,updated,deleted",
            "notificationUrl": notification_url,
            "resource": "/me/events",
            "expirationDateTime": expires.to_string(),
            "clientState": client_state,
        });
        if let Some(url) = lifecycle_url {
            body["lifecycleNotificationUrl"] = json!(url);
        }
        // Not repeated after an ambiguous failure: a second create answers 409.
        let call =
            Call::new(Method::POST, self.url(&["subscriptions"])?, Replay::Unsafe).json(&body);
        self.execute(&call).await?.json("created subscription")
    }

    /// `PATCH /subscriptions/{id}` with a new expiry; this also reauthorizes the subscription.
    pub async fn renew_subscription(
        &self,
        id: &str,
        expires: jiff::Timestamp,
    ) -> Result<Value, GraphError> {
        let body = json!({ "expirationDateTime": expires.to_string() });
        // Setting the same expiry twice is harmless, so this PATCH may be repeated.
        let call = Call::new(
            Method::PATCH,
            self.subscription_url(id, None)?,
            Replay::Idempotent,
        )
        .json(&body);
        self.execute(&call)
            .await?
            .json(&format!("renewed subscription {id}"))
    }

    /// `POST /subscriptions/{id}/reauthorize`, after a `reauthorizationRequired` lifecycle event.
    pub async fn reauthorize_subscription(&self, id: &str) -> Result<(), GraphError> {
        let call = Call::new(
            Method::POST,
            self.subscription_url(id, Some("reauthorize"))?,
            Replay::Idempotent,
        );
        self.execute(&call).await.map(drop)
    }

    /// `DELETE /subscriptions/{id}`. A subscription that is already gone (404) counts as deleted.
    pub async fn delete_subscription(&self, id: &str) -> Result<(), GraphError> {
        let call = Call::new(
            Method::DELETE,
            self.subscription_url(id, None)?,
            Replay::Idempotent,
        );
        match self.execute(&call).await {
            Ok(_) | Err(GraphError::Api { status: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn subscription_url(&self, id: &str, action: Option<&str>) -> Result<url::Url, GraphError> {
        if id.is_empty() {
            return Err(GraphError::InvalidInput {
                context: "subscription id".to_owned(),
                detail: "it is empty".to_owned(),
            });
        }
        match action {
            Some(action) => self.url(&["subscriptions", id, action]),
            None => self.url(&["subscriptions", id]),
        }
    }
}
