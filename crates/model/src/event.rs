//! The neutral event model the reconciliation engine works on.
//!
//! It knows neither Graph nor Odoo: `graph` and `odoo` convert into and out of it. Times are UTC instants
//! (timed events) or plain dates (all-day events, end exclusive as in Graph and RFC 5545); the event's IANA
//! zone is kept beside them because recurrences and all-day days are defined in it.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{MAX_ERROR_TEXT, ModelError};
use crate::recurrence::Recurrence;
use crate::recurrence::exceptions::OccurrenceException;

/// When an event starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTime {
    /// An instant (timed events).
    Timed(Timestamp),
    /// A calendar date (all-day events). An end date is exclusive: a one-day event on the 5th ends on the 6th.
    AllDay(Date),
}

impl EventTime {
    /// True for [`EventTime::AllDay`].
    pub fn is_all_day(&self) -> bool {
        matches!(self, Self::AllDay(_))
    }
}

/// An e-mail address as received, compared by a normalized key (trimmed, ASCII-lowercased).
///
/// Anything is accepted, including legacy Exchange DNs (`/O=EXCHANGELABS/OU=...`) and strings without `@`:
/// people's calendars contain them, and refusing them would break a whole event. Use
/// [`EmailAddress::is_smtp`] to tell whether it looks like a mailbox one can write to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Wraps an address; surrounding whitespace is dropped, case is kept for display.
    pub fn new(address: impl AsRef<str>) -> Self {
        Self(address.as_ref().trim().to_owned())
    }

    /// Wraps an optional address; `None` for a missing or blank one.
    pub fn parse_optional(address: Option<&str>) -> Option<Self> {
        address.map(Self::new).filter(|a| !a.0.is_empty())
    }

    /// The address as received (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The comparison key. Only ASCII is folded: the domain part is case-insensitive and, in practice, so are
    /// local parts at Exchange and every large provider; non-ASCII local parts are left alone.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// True if this looks like an SMTP address (`local@domain.tld`), false for X.500 DNs and oddities.
    pub fn is_smtp(&self) -> bool {
        let Some((local, domain)) = self.0.rsplit_once('@') else {
            return false;
        };
        !local.is_empty()
            && !self.0.starts_with('/')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !self.0.chars().any(char::is_whitespace)
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl Eq for EmailAddress {}
impl Hash for EmailAddress {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for EmailAddress {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for EmailAddress {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A person: organizer or attendee identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Person {
    /// Display name, if any.
    pub name: Option<String>,
    /// Address, if any. May be missing or a legacy DN; see [`EmailAddress`].
    pub email: Option<EmailAddress>,
}

/// Whether an attendee is required, optional, or a resource (room, equipment).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeType {
    /// Required attendee (the default).
    #[default]
    Required,
    /// Optional attendee.
    Optional,
    /// A room or piece of equipment.
    Resource,
}

/// A response to an invitation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// No response recorded.
    #[default]
    None,
    /// This is the organizer's own copy.
    Organizer,
    /// Tentatively accepted.
    TentativelyAccepted,
    /// Accepted.
    Accepted,
    /// Declined.
    Declined,
    /// Invited, has not answered.
    NotResponded,
}

/// An attendee of a meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attendee {
    /// Display name, if any.
    pub name: Option<String>,
    /// Address, if any. Attendees without an address are kept (they come from Outlook that way).
    pub email: Option<EmailAddress>,
    /// Required, optional or resource.
    pub kind: AttendeeType,
    /// Their response.
    pub response: ResponseStatus,
}

/// Who may see the event's details.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    /// Visible as usual.
    #[default]
    Normal,
    /// Outlook's "personal".
    Personal,
    /// Private.
    Private,
    /// Confidential.
    Confidential,
}

/// How the time shows in free/busy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ShowAs {
    /// Unknown.
    Unknown,
    /// Free.
    Free,
    /// Tentative.
    Tentative,
    /// Busy (the default).
    #[default]
    Busy,
    /// Out of office.
    Oof,
    /// Working elsewhere.
    WorkingElsewhere,
}

/// The role of an event in a series.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A non-recurring event.
    #[default]
    Single,
    /// The master of a series (carries the recurrence).
    SeriesMaster,
    /// An unmodified occurrence of a series.
    Occurrence,
    /// A modified occurrence of a series.
    Exception,
}

/// A calendar event, independent of Graph and Odoo. In serialized form only `start` and `end` are
/// required; every other field has its natural default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The iCalendar UID shared by all copies of a meeting (Graph's `iCalUId`).
    #[serde(default)]
    pub ical_uid: Option<String>,
    /// Title.
    #[serde(default)]
    pub subject: String,
    /// Description as HTML (empty when none).
    #[serde(default)]
    pub body_html: String,
    /// Location display name.
    #[serde(default)]
    pub location: Option<String>,
    /// Start.
    pub start: EventTime,
    /// End (exclusive for all-day events). Always of the same kind as `start`.
    pub end: EventTime,
    /// The event's IANA zone, when known. All-day dates and recurrences are meant in this zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Organizer, when known.
    #[serde(default)]
    pub organizer: Option<Person>,
    /// True if the calendar owner organises this event.
    #[serde(default)]
    pub is_organizer: bool,
    /// Attendees (order carries no meaning).
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    /// The calendar owner's own response.
    #[serde(default)]
    pub response: ResponseStatus,
    /// Privacy.
    #[serde(default)]
    pub privacy: Privacy,
    /// Free/busy status.
    #[serde(default)]
    pub show_as: ShowAs,
    /// Reminder minutes before start; `None` means no reminder.
    #[serde(default)]
    pub reminder_minutes: Option<u32>,
    /// Join URL of an online meeting (read from Graph, never created by us).
    #[serde(default)]
    pub online_meeting_url: Option<String>,
    /// The recurrence (series masters only).
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Deleted occurrences of a series (masters only): the dates, in the series' zone, the rule
    /// gives but the series no longer has, sorted and without duplicates. Graph's
    /// `cancelledOccurrences`; written to Outlook one occurrence at a time (a DELETE of that
    /// instance), never as part of the master.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_occurrences: Vec<Date>,
    /// Edited occurrences of a series (masters only), in canonical form
    /// ([`crate::recurrence::exceptions::canonical_exceptions`]: sorted by original date, each
    /// different from what the rule gives). Graph's `exceptionOccurrences`; written to Outlook one
    /// occurrence at a time (a PATCH of that instance), never as part of the master.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<OccurrenceException>,
    /// Role in a series.
    #[serde(default)]
    pub kind: EventKind,
    /// Graph id of the series master (occurrences and exceptions).
    #[serde(default)]
    pub series_master_id: Option<String>,
    /// Original start of an occurrence or exception.
    #[serde(default)]
    pub original_start: Option<Timestamp>,
    /// True if the organizer cancelled the meeting.
    #[serde(default)]
    pub is_cancelled: bool,
    /// Category names.
    #[serde(default)]
    pub categories: Vec<String>,
}

impl Event {
    /// A label for error messages and reports: the subject if there is one, else the UID, else
    /// `"(untitled event)"`; at most [`MAX_ERROR_TEXT`] characters of it (a subject may be 100,000
    /// characters long, and a sync log line need not be).
    pub fn label(&self) -> &str {
        let label = if !self.subject.trim().is_empty() {
            &self.subject
        } else if let Some(uid) = &self.ical_uid {
            uid
        } else {
            "(untitled event)"
        };
        match label.char_indices().nth(MAX_ERROR_TEXT) {
            Some((cut, _)) => &label[..cut],
            None => label,
        }
    }

    /// Gives each attendee that `other` also invites (same address, without case) `other`'s type.
    /// Odoo holds no attendee types: an Odoo edit written over an Outlook event must leave its
    /// optional attendees and resources as they are, and a newly invited attendee stays required.
    pub fn keep_attendee_types_of(&mut self, other: &Event) {
        let kinds: std::collections::HashMap<String, AttendeeType> = other
            .attendees
            .iter()
            .filter_map(|a| Some((a.email.as_ref()?.key(), a.kind)))
            .collect();
        for attendee in &mut self.attendees {
            if let Some(kind) = attendee.email.as_ref().and_then(|e| kinds.get(&e.key())) {
                attendee.kind = *kind;
            }
        }
    }

    /// The zone the event's wall-clock times are meant in: its own, else its recurrence's. Writers show
    /// times in it and a series' first day is the start's date in it.
    pub fn zone_name(&self) -> Option<&str> {
        self.time_zone.as_deref().or_else(|| {
            self.recurrence
                .as_ref()
                .and_then(|r| r.range.time_zone.as_deref())
        })
    }

    /// True if the event is all-day.
    pub fn is_all_day(&self) -> bool {
        self.start.is_all_day()
    }

    /// Checks that `start` and `end` are of the same kind and in order (an all-day event lasts at least
    /// one day). Writers call this so that a malformed event is refused with its name, not sent.
    pub fn check_times(&self) -> Result<(), ModelError> {
        let ok = match (self.start, self.end) {
            (EventTime::Timed(s), EventTime::Timed(e)) => s <= e,
            (EventTime::AllDay(s), EventTime::AllDay(e)) => s < e,
            _ => {
                return Err(ModelError::invalid(
                    self.label(),
                    "end",
                    format!("{:?}", self.end),
                    format!(
                        "not the same kind (timed or all-day) as start {:?}",
                        self.start
                    ),
                ));
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ModelError::invalid(
                self.label(),
                "end",
                format!("{:?}", self.end),
                format!("must be after start {:?}", self.start),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_by_normalized_key() {
        let a = EmailAddress::new(" Sam@Contoso.COM ");
        assert_eq!(a, EmailAddress::new("sam@contoso.com"));
        assert_eq!(a.as_str(), "Sam@Contoso.COM");
        assert_eq!(a.key(), "sam@contoso.com");
        assert_eq!(EmailAddress::parse_optional(Some("  ")), None);
        assert_eq!(EmailAddress::parse_optional(None), None);
    }

    #[test]
    fn labels_are_clipped_on_a_character_boundary() {
        let mut event: Event =
            serde_json::from_value(serde_json::json!({"start": {"all_day": "2026-01-01"},
                "end": {"all_day": "2026-01-02"}}))
            .unwrap_or_else(|e| panic!("{e}"));
        event.subject = "é".repeat(100_000);
        assert_eq!(event.label().chars().count(), MAX_ERROR_TEXT);
        event.subject = "Short".into();
        assert_eq!(event.label(), "Short");
    }

    #[test]
    fn smtp_detection_keeps_odd_addresses_usable() {
        assert!(EmailAddress::new("sam@contoso.com").is_smtp());
        for odd in [
            "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP (FYDIBOHF23SPDLT)/CN=RECIPIENTS/CN=abc",
            "sam",
            "sam@localhost",
            "@contoso.com",
            "sam@contoso.",
            "sam smith@contoso.com",
        ] {
            assert!(!EmailAddress::new(odd).is_smtp(), "{odd}");
        }
        // Odd addresses still compare and order without panicking.
        let mut v = [
            EmailAddress::new("/O=X/CN=B"),
            EmailAddress::new("/o=x/cn=a"),
        ];
        v.sort();
        assert_eq!(v[0].as_str(), "/o=x/cn=a");
    }
}
