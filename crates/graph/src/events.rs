//! Event reads and writes on the signed-in user's primary calendar.

use http::Method;
use serde_json::{Value, json};
use url::Url;

use crate::client::{Call, GraphClient};
use crate::create::is_duplicate_transaction;
use crate::error::GraphError;
use crate::retry::Replay;

const LOG: &str = "outlook_sync::graph::events";

/// Every v1.0 event property (graph_api.md §2.1) plus the two series extras, for
/// [`GraphClient::get_series_master`].
const SERIES_MASTER_SELECT: &[&str] = &[
    "allowNewTimeProposals",
    "attendees",
    "body",
    "bodyPreview",
    "cancelledOccurrences",
    "categories",
    "changeKey",
    "createdDateTime",
    "end",
    "exceptionOccurrences",
    "hasAttachments",
    "hideAttendees",
    "iCalUId",
    "importance",
    "isAllDay",
    "isCancelled",
    "isDraft",
    "isOnlineMeeting",
    "isOrganizer",
    "isReminderOn",
    "lastModifiedDateTime",
    "location",
    "locations",
    "onlineMeeting",
    "onlineMeetingProvider",
    "onlineMeetingUrl",
    "organizer",
    "originalEndTimeZone",
    "originalStartTimeZone",
    "recurrence",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "responseStatus",
    "sensitivity",
    "seriesMasterId",
    "showAs",
    "start",
    "subject",
    "transactionId",
    "type",
    "webLink",
];

/// How the mailbox owner answers a meeting invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// `POST .../accept`
    Accept,
    /// `POST .../decline`
    Decline,
    /// `POST .../tentativelyAccept`
    TentativelyAccept,
}

impl ResponseKind {
    fn action(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::TentativelyAccept => "tentativelyAccept",
        }
    }
}

impl GraphClient {
    /// `GET /me`: the signed-in user (id, userPrincipalName, mail, displayName, ...).
    pub async fn me(&self) -> Result<Value, GraphError> {
        let call = Call::new(Method::GET, self.url(&["me"])?, Replay::Idempotent);
        self.execute(&call).await?.json("GET /me")
    }

    /// `GET /me/events/{id}`: one event, series master or occurrence.
    pub async fn get_event(&self, id: &str) -> Result<Value, GraphError> {
        let call = Call::new(Method::GET, self.event_url(id, None)?, Replay::Idempotent);
        self.execute(&call).await?.json(&format!("event {id}"))
    }

    /// A series master with the two properties Graph returns only on request: its deleted
    /// occurrences (`cancelledOccurrences`) and its edited ones (`exceptionOccurrences`, expanded).
    /// Asking for them needs `$select`, which then has to name every other property too.
    pub async fn get_series_master(&self, id: &str) -> Result<Value, GraphError> {
        let mut url = self.event_url(id, None)?;
        url.query_pairs_mut()
            .append_pair("$select", &SERIES_MASTER_SELECT.join(","))
            .append_pair("$expand", "exceptionOccurrences");
        let call = Call::new(Method::GET, url, Replay::Idempotent);
        self.execute(&call)
            .await?
            .json(&format!("series master {id}"))
    }

    /// Occurrences and exceptions of a series master between `start` and `end` (cancelled
    /// occurrences are not included), all pages, in Graph's order (not chronological).
    pub async fn instances(
        &self,
        master_id: &str,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
    ) -> Result<Vec<Value>, GraphError> {
        let mut url = self.event_url(master_id, Some("instances"))?;
        url.query_pairs_mut()
            .append_pair("startDateTime", &start.to_string())
            .append_pair("endDateTime", &end.to_string());
        self.list_all(url, &format!("instances of {master_id}"))
            .await
    }

    /// Events (single instances and series masters) whose `iCalUId` is `ical_uid`: normally none or
    /// one, but Graph does not enforce it.
    pub async fn find_by_ical_uid(&self, ical_uid: &str) -> Result<Vec<Value>, GraphError> {
        let mut url = self.url(&["me", "events"])?;
        // OData string literals escape a quote by doubling it.
        let literal = ical_uid.replace('\'', "''");
        url.query_pairs_mut()
            .append_pair("$filter", &format!("iCalUId eq '{literal}'"));
        self.list_all(url, &format!("events with iCalUId {ical_uid}"))
            .await
    }

    /// `POST /me/events` with `transactionId`. If Graph says the transaction id was already used
    /// (a retry after a lost response), returns the event that first request created instead of
    /// failing or duplicating it.
    pub async fn create_event(
        &self,
        mut event: Value,
        transaction_id: &str,
    ) -> Result<Value, GraphError> {
        let Some(fields) = event.as_object_mut() else {
            return Err(GraphError::InvalidInput {
                context: "event to create".to_owned(),
                detail: "it is not a JSON object".to_owned(),
            });
        };
        if transaction_id.is_empty() {
            return Err(GraphError::InvalidInput {
                context: "transactionId".to_owned(),
                detail: "it is empty".to_owned(),
            });
        }
        fields.insert("transactionId".to_owned(), json!(transaction_id));
        let call =
            Call::new(Method::POST, self.url(&["me", "events"])?, Replay::Create).json(&event);
        match self.execute(&call).await {
            Ok(reply) => reply.json("created event"),
            Err(error) if is_duplicate_transaction(&error) => {
                log::info!(
                    target: LOG,
                    "{}transactionId {transaction_id} was already used; looking up the event it created", self.who()
                );
                match self.find_by_transaction_id(&event, transaction_id).await? {
                    Some(existing) => Ok(existing),
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// `PATCH /me/events/{id}` with only the changed fields; returns the updated event.
    pub async fn update_event(&self, id: &str, patch: Value) -> Result<Value, GraphError> {
        let call = Call::new(Method::PATCH, self.event_url(id, None)?, Replay::Unsafe).json(&patch);
        self.execute(&call)
            .await?
            .json(&format!("updated event {id}"))
    }

    /// `DELETE /me/events/{id}`. An event that is already gone (404) counts as deleted.
    pub async fn delete_event(&self, id: &str) -> Result<(), GraphError> {
        let call = Call::new(
            Method::DELETE,
            self.event_url(id, None)?,
            Replay::Idempotent,
        );
        match self.execute(&call).await {
            Ok(_) => Ok(()),
            Err(GraphError::Api { status: 404, .. }) => {
                log::debug!(target: LOG, "{}event {id} was already gone", self.who());
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// `POST /me/events/{id}/cancel`: the organiser cancels a meeting (attendees get a
    /// cancellation with `comment`).
    pub async fn cancel_event(&self, id: &str, comment: Option<&str>) -> Result<(), GraphError> {
        let body = match comment {
            Some(comment) => json!({ "comment": comment }),
            None => json!({}),
        };
        let call = Call::new(
            Method::POST,
            self.event_url(id, Some("cancel"))?,
            Replay::Unsafe,
        )
        .json(&body);
        self.execute(&call).await.map(drop)
    }

    /// Accepts, declines or tentatively accepts an invitation; `send_response` mails the organiser.
    pub async fn respond(
        &self,
        id: &str,
        response: ResponseKind,
        comment: Option<&str>,
        send_response: bool,
    ) -> Result<(), GraphError> {
        let mut body = json!({ "sendResponse": send_response });
        if let Some(comment) = comment {
            body["comment"] = json!(comment);
        }
        let call = Call::new(
            Method::POST,
            self.event_url(id, Some(response.action()))?,
            Replay::Unsafe,
        )
        .json(&body);
        self.execute(&call).await.map(drop)
    }

    fn event_url(&self, id: &str, action: Option<&str>) -> Result<Url, GraphError> {
        if id.is_empty() {
            return Err(GraphError::InvalidInput {
                context: "event id".to_owned(),
                detail: "it is empty".to_owned(),
            });
        }
        match action {
            Some(action) => self.url(&["me", "events", id, action]),
            None => self.url(&["me", "events", id]),
        }
    }
}
