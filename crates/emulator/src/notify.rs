//! Webhook delivery: the validation handshake, change notifications after event writes, and lifecycle events.
//!
//! Changes are found by comparing each subscribed mailbox's event change keys before and after a write, so
//! every path that changes events (Graph writes, batch items, attendee copies, seeding) notifies alike.
//! Deliveries run on their own tasks and never delay the request that caused them. They go only to the URL the
//! client registered: no proxy, no redirects followed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::server::Emulator;
use crate::store::World;
use crate::subscriptions::{ChangeType, TENANT_ID};

/// What a delivery was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// The `validationToken` handshake of a create.
    Validation,
    /// Change notifications.
    Notification,
    /// A lifecycle event.
    Lifecycle,
}

/// One delivery attempt (`GET /_emulator/notifications`). Payloads are not kept: they carry `clientState`.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Order of recording.
    pub seq: u64,
    /// Handshake, notification or lifecycle event.
    pub kind: DeliveryKind,
    /// The exact URL posted to.
    pub url: String,
    /// 1 for the first attempt, then one more per retry.
    pub attempt: u32,
    /// The endpoint's HTTP status, if it answered in time.
    pub status: Option<u16>,
    /// Whether the attempt counted as delivered.
    pub delivered: bool,
    /// Why it did not, if it did not.
    pub error: Option<String>,
    /// How long the endpoint took (or until the timeout).
    pub elapsed_ms: u64,
    /// The subscriptions the payload was for.
    pub subscription_ids: Vec<String>,
    /// Change types (notifications) or the lifecycle event, in payload order.
    pub events: Vec<String>,
    /// When the attempt started.
    pub at: String,
}

/// A payload to deliver. Its Debug output leaves the body out: it carries `clientState`.
#[derive(Clone)]
pub struct Delivery {
    kind: DeliveryKind,
    url: String,
    body: Value,
    subscription_ids: Vec<String>,
    events: Vec<String>,
    instance: String,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("subscription_ids", &self.subscription_ids)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

fn client(emulator: &Emulator) -> Result<reqwest::Client, String> {
    emulator
        .http_client()
        .map_err(|e| format!("no HTTP client: {e}"))
}

/// The outcome of one POST.
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
    elapsed: Duration,
    body: Option<(String, String)>,
}

/// POSTs `body` to `url` within `timeout`; with `read_body` the answer's content type and text come back.
async fn post(
    emulator: &Emulator,
    url: &str,
    content_type: &str,
    body: String,
    timeout: Duration,
    read_body: bool,
) -> Attempt {
    let started = Instant::now();
    let http = match client(emulator) {
        Ok(c) => c,
        Err(error) => {
            return Attempt {
                status: None,
                error: Some(error),
                elapsed: started.elapsed(),
                body: None,
            };
        }
    };
    let exchange = async {
        let resp = http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let content = if read_body {
            let kind = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            Some((kind, resp.text().await?))
        } else {
            None
        };
        Ok::<_, reqwest::Error>((status, content))
    };
    let (status, error, body) = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => (
            None,
            Some(format!("no answer within {} ms", timeout.as_millis())),
            None,
        ),
        // The error's text names the URL, which the client chose; nothing secret is in it.
        Ok(Err(e)) => (None, Some(format!("request failed: {e}")), None),
        Ok(Ok((status, body))) => (Some(status), None, body),
    };
    Attempt {
        status,
        error,
        elapsed: started.elapsed(),
        body,
    }
}

fn record(emulator: &Emulator, delivery: &Delivery, attempt: u32, outcome: &Attempt, ok: bool) {
    let at = Timestamp::now()
        .checked_sub(jiff::SignedDuration::try_from(outcome.elapsed).unwrap_or_default())
        .unwrap_or_else(|_| Timestamp::now());
    emulator.with_world(|w| {
        if w.webhooks.instance != delivery.instance {
            return;
        }
        let seq = w.webhooks.deliveries.len() as u64 + 1;
        let error = match (&outcome.error, outcome.status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(s)) if !ok => Some(format!("answered {s}")),
            _ => None,
        };
        w.webhooks.deliveries.push(DeliveryRecord {
            seq,
            kind: delivery.kind,
            url: delivery.url.clone(),
            attempt,
            status: outcome.status,
            delivered: ok,
            error,
            elapsed_ms: u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX),
            subscription_ids: delivery.subscription_ids.clone(),
            events: delivery.events.clone(),
            at: crate::timezones::format_utc(at),
        });
    });
}

/// The validation handshake: `POST {url}?validationToken=...` must answer 200, `text/plain`, with the decoded
/// token as its body, within `timeout`. The error names what was wrong.
pub async fn validate(
    emulator: &Arc<Emulator>,
    url: &str,
    subscription_id: &str,
    timeout: Duration,
) -> Result<(), String> {
    // Like Graph's, the token has spaces and colons, so an endpoint that echoes it undecoded fails.
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        crate::ids::guid()
    );
    let mut target = url::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
    target
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let instance = emulator.with_world(|w| w.webhooks.instance.clone());
    let delivery = Delivery {
        kind: DeliveryKind::Validation,
        url: target.to_string(),
        body: Value::Null,
        subscription_ids: vec![subscription_id.to_owned()],
        events: Vec::new(),
        instance,
    };
    let outcome = post(
        emulator,
        &delivery.url,
        "text/plain; charset=utf-8",
        String::new(),
        timeout,
        true,
    )
    .await;
    let verdict = match (&outcome.error, outcome.status, &outcome.body) {
        (Some(e), _, _) => Err(e.clone()),
        (None, Some(200), Some((kind, text))) => {
            if !kind.to_ascii_lowercase().starts_with("text/plain") {
                Err(format!("answered Content-Type '{kind}', not text/plain"))
            } else if *text != token {
                Err("answered a body that is not the decoded validationToken".to_owned())
            } else {
                Ok(())
            }
        }
        (None, status, _) => Err(format!(
            "answered {}",
            status.map_or_else(|| "nothing".to_owned(), |s| s.to_string())
        )),
    };
    record(emulator, &delivery, 1, &outcome, verdict.is_ok());
    verdict
}

/// What goes into one POST to one URL.
#[derive(Default)]
struct Batch {
    items: Vec<Value>,
    subscription_ids: Vec<String>,
    events: Vec<String>,
}

impl Batch {
    fn add(&mut self, item: Value, subscription_id: &str, event: &str) {
        self.items.push(item);
        if !self.subscription_ids.iter().any(|s| s == subscription_id) {
            self.subscription_ids.push(subscription_id.to_owned());
        }
        self.events.push(event.to_owned());
    }

    fn into_delivery(self, kind: DeliveryKind, url: String, instance: &str) -> Delivery {
        Delivery {
            kind,
            url,
            body: json!({"value": self.items}),
            subscription_ids: self.subscription_ids,
            events: self.events,
            instance: instance.to_owned(),
        }
    }
}

/// Change keys of the events of every mailbox with a subscription, before a write.
#[derive(Debug)]
pub struct Snapshot(HashMap<String, HashMap<String, String>>);

fn change_keys(world: &World, mailbox: &str) -> HashMap<String, String> {
    world
        .mailboxes
        .get(mailbox)
        .map(|m| {
            m.events
                .values()
                .map(|e| (e.id.clone(), e.change_key.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// `None` when no subscription is active, so writes cost nothing extra then.
pub fn snapshot(world: &mut World) -> Option<Snapshot> {
    world.webhooks.purge_expired(Timestamp::now());
    if world.webhooks.subscriptions.is_empty() {
        return None;
    }
    let mut watched: Vec<&String> = world
        .webhooks
        .subscriptions
        .values()
        .map(|s| &s.mailbox)
        .collect();
    watched.sort();
    watched.dedup();
    Some(Snapshot(
        watched
            .into_iter()
            .map(|m| (m.clone(), change_keys(world, m)))
            .collect(),
    ))
}

/// The notifications a write caused: one POST per notification URL, carrying every matching subscription's
/// items (Graph batches notifications of several subscriptions in one POST).
pub fn changes(world: &World, before: Snapshot) -> Vec<Delivery> {
    let mut by_url: BTreeMap<&str, Batch> = BTreeMap::new();
    for (mailbox, old) in &before.0 {
        let new = change_keys(world, mailbox);
        let mut found: Vec<(ChangeType, &str, &str)> = Vec::new();
        for (id, key) in &new {
            match old.get(id) {
                None => found.push((ChangeType::Created, id, key)),
                Some(previous) if previous != key => found.push((ChangeType::Updated, id, key)),
                Some(_) => {}
            }
        }
        for (id, key) in old {
            if !new.contains_key(id) {
                found.push((ChangeType::Deleted, id, key));
            }
        }
        if found.is_empty() {
            continue;
        }
        found.sort();
        let user_id = world
            .mailboxes
            .get(mailbox)
            .map_or("", |m| m.user_id.as_str());
        let subs = world
            .webhooks
            .subscriptions
            .values()
            .filter(|s| &s.mailbox == mailbox && !s.paused);
        for sub in subs {
            for (kind, id, key) in found
                .iter()
                .filter(|(k, _, _)| sub.change_types.contains(k))
            {
                let resource = format!("Users/{user_id}/Events/{id}");
                let item = json!({
                    "id": crate::ids::token(),
                    "subscriptionId": sub.id,
                    "subscriptionExpirationDateTime": crate::timezones::format_utc(sub.expires),
                    "clientState": sub.client_state,
                    "changeType": kind.as_str(),
                    "resource": resource,
                    "tenantId": TENANT_ID,
                    "resourceData": {
                        "@odata.type": "#Microsoft.Graph.Event",
                        "@odata.id": resource,
                        "@odata.etag": format!("W/\"{key}\""),
                        "id": id,
                    },
                });
                by_url
                    .entry(sub.notification_url.as_str())
                    .or_default()
                    .add(item, &sub.id, kind.as_str());
            }
        }
    }
    let instance = &world.webhooks.instance;
    by_url
        .into_iter()
        .map(|(url, batch)| {
            batch.into_delivery(DeliveryKind::Notification, url.to_owned(), instance)
        })
        .collect()
}

/// Which lifecycle event to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    /// Notifications pause until the client reauthorizes or renews.
    ReauthorizationRequired,
    /// The subscription is gone; the client must recreate it.
    SubscriptionRemoved,
    /// Some notifications were not delivered.
    Missed,
}

impl LifecycleEvent {
    fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
            LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
            LifecycleEvent::Missed => "missed",
        }
    }
}

/// Fires `event` for the active subscriptions (of `mailbox`, if given): posts it to each one's
/// `lifecycleNotificationUrl` (those without one get nothing), pauses them for `reauthorizationRequired` and
/// deletes them for `subscriptionRemoved`. Returns the subscriptions concerned and the deliveries to spawn.
pub fn lifecycle(
    world: &mut World,
    event: LifecycleEvent,
    mailbox: Option<&str>,
) -> (Vec<String>, Vec<Delivery>) {
    world.webhooks.purge_expired(Timestamp::now());
    let chosen: Vec<String> = world
        .webhooks
        .subscriptions
        .values()
        .filter(|s| mailbox.is_none_or(|m| s.mailbox == m))
        .map(|s| s.id.clone())
        .collect();
    let mut by_url: BTreeMap<String, Batch> = BTreeMap::new();
    for id in &chosen {
        let Some(sub) = world.webhooks.subscriptions.get_mut(id) else {
            continue;
        };
        if let Some(url) = &sub.lifecycle_url {
            let item = json!({
                "subscriptionId": sub.id,
                "subscriptionExpirationDateTime": crate::timezones::format_utc(sub.expires),
                "tenantId": TENANT_ID,
                "clientState": sub.client_state,
                "lifecycleEvent": event.as_str(),
            });
            by_url
                .entry(url.clone())
                .or_default()
                .add(item, &sub.id, event.as_str());
        }
        match event {
            LifecycleEvent::ReauthorizationRequired => sub.paused = true,
            LifecycleEvent::SubscriptionRemoved => {
                world.webhooks.subscriptions.remove(id);
            }
            LifecycleEvent::Missed => {}
        }
    }
    let instance = &world.webhooks.instance;
    let deliveries = by_url
        .into_iter()
        .map(|(url, batch)| batch.into_delivery(DeliveryKind::Lifecycle, url, instance))
        .collect();
    (chosen, deliveries)
}

/// Starts each delivery on its own task. Must run inside the emulator's tokio runtime.
pub fn spawn(emulator: &Arc<Emulator>, deliveries: Vec<Delivery>) {
    for delivery in deliveries {
        let emulator = Arc::clone(emulator);
        tokio::spawn(async move { deliver(&emulator, delivery).await });
    }
}

/// Posts a notification until an endpoint answers 2xx in time, retrying after each delay of
/// `webhook_retry_ms`, and giving up early once none of its subscriptions exists any more.
async fn deliver(emulator: &Arc<Emulator>, delivery: Delivery) {
    let (ack, retries) = emulator.with_world(|w| {
        (
            Duration::from_millis(w.config.webhook_ack_timeout_ms),
            w.config.webhook_retry_ms.clone(),
        )
    });
    let body = delivery.body.to_string();
    let mut attempt: u32 = 1;
    loop {
        let outcome = post(
            emulator,
            &delivery.url,
            "application/json; charset=utf-8",
            body.clone(),
            ack,
            false,
        )
        .await;
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        record(emulator, &delivery, attempt, &outcome, ok);
        if ok {
            return;
        }
        let Some(delay) = retries.get(attempt as usize - 1) else {
            return;
        };
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        let wanted = emulator.with_world(|w| {
            // A lifecycle event (subscriptionRemoved above all) outlives its subscription.
            w.webhooks.instance == delivery.instance
                && (delivery.kind == DeliveryKind::Lifecycle
                    || delivery
                        .subscription_ids
                        .iter()
                        .any(|id| w.webhooks.subscriptions.contains_key(id)))
        });
        if !wanted {
            return;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_output_leaves_the_payload_out() {
        let delivery = Delivery {
            kind: DeliveryKind::Notification,
            url: "http://127.0.0.1:1/notify".into(),
            body: json!({"value": [{"clientState": "s3cret-value"}]}),
            subscription_ids: vec!["s".into()],
            events: vec!["created".into()],
            instance: "i".into(),
        };
        let text = format!("{delivery:?}");
        assert!(text.contains("127.0.0.1:1/notify"));
        assert!(!text.contains("s3cret-value"));
    }
}
