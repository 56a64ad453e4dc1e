//! The outbox: the mails Outlook would send, one entry per recipient.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::store::World;

/// The kind of a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailKind {
    /// Meeting request.
    Invitation,
    /// Meeting update.
    Update,
    /// Meeting cancellation.
    Cancellation,
    /// Attendee response to the organiser.
    Response,
}

/// One recorded mail.
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    /// Position in the outbox (1-based, never reused until reset).
    pub seq: u64,
    /// Kind.
    pub kind: MailKind,
    /// Sender address.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Subject of the event.
    pub subject: String,
    /// Mailbox whose write caused it.
    pub mailbox: String,
    /// Id of the written item in that mailbox.
    pub event_id: String,
    /// iCalUId of the written item.
    pub ical_uid: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// For `response`: `accepted`, `declined` or `tentativelyAccepted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// What a write is about, for the mails it causes.
#[derive(Debug, Clone)]
pub struct MailContext {
    /// Sender.
    pub from: String,
    /// Subject.
    pub subject: String,
    /// Mailbox of the write.
    pub mailbox: String,
    /// Item id.
    pub event_id: String,
    /// iCalUId.
    pub ical_uid: String,
}

/// The recipient addresses of an attendee list: every attendee with an address, never the organiser.
pub fn recipients(attendees: &[Value], organizer: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for attendee in attendees {
        let address = attendee
            .pointer("/emailAddress/address")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        if address.is_empty()
            || address.eq_ignore_ascii_case(organizer)
            || out.iter().any(|a| a.eq_ignore_ascii_case(address))
        {
            continue;
        }
        out.push(address.to_owned());
    }
    out
}

/// Records one mail per recipient.
pub fn send(
    world: &mut World,
    kind: MailKind,
    ctx: &MailContext,
    to: &[String],
    response: Option<&str>,
) {
    let at = Timestamp::now().to_string();
    for recipient in to {
        world.mail_seq += 1;
        let seq = world.mail_seq;
        world.outbox.push(Mail {
            seq,
            kind,
            from: ctx.from.clone(),
            to: recipient.clone(),
            subject: ctx.subject.clone(),
            mailbox: ctx.mailbox.clone(),
            event_id: ctx.event_id.clone(),
            ical_uid: ctx.ical_uid.clone(),
            at: at.clone(),
            response: response.map(str::to_owned),
        });
    }
}
