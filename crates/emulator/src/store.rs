//! The emulator's state: mailboxes and their events, plus everything the test controls can inspect.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::identity::IdentityState;
use crate::limits::LimiterState;
use crate::mail::Mail;
use crate::recurrence::Recurrence;
use crate::timezones::{self, Zone};
use crate::views::DeltaState;

/// A wall-clock time with the zone it was given in.
#[derive(Debug, Clone)]
pub struct When {
    /// Wall-clock time.
    pub local: DateTime,
    /// Zone of `local`.
    pub zone: Zone,
}

impl When {
    /// The instant.
    pub fn instant(&self) -> Timestamp {
        self.zone.instant(self.local)
    }
}

/// Where a meeting copy comes from, or where an organiser's copies are.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// On an attendee's copy: the organiser's mailbox and event id.
    pub organizer: Option<(String, String)>,
    /// On an organiser's event: attendee mailbox -> copy id.
    pub copies: BTreeMap<String, String>,
}

/// An occurrence edited on its own.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Change key of the exception's own edits.
    pub change_key: String,
    /// Start (moved or not).
    pub start: When,
    /// End.
    pub end: When,
    /// Properties that override the master's.
    pub fields: Map<String, Value>,
    /// Last change.
    pub modified: Timestamp,
}

/// A single event or series master in one mailbox.
#[derive(Debug, Clone)]
pub struct Event {
    /// Graph id.
    pub id: String,
    /// Insertion order, for stable listings.
    pub seq: u64,
    /// Shared by all copies of a meeting.
    pub ical_uid: String,
    /// Bumped on every change of this item.
    pub change_key: String,
    /// Bumped on series-wide changes; occurrence change keys derive from it.
    pub series_key: String,
    /// Creation time.
    pub created: Timestamp,
    /// Last change.
    pub modified: Timestamp,
    /// Client idempotency key given on create.
    pub transaction_id: Option<String>,
    /// Start as given.
    pub start: When,
    /// End as given.
    pub end: When,
    /// All-day flag.
    pub is_all_day: bool,
    /// Recurrence (series masters only).
    pub recurrence: Option<Recurrence>,
    /// The other writable properties, normalised (enums lowerCamelCase, defaults filled).
    pub fields: Map<String, Value>,
    /// `organizer.emailAddress`.
    pub organizer: Value,
    /// Whether the mailbox owner organises it.
    pub is_organizer: bool,
    /// Cancelled by the organiser (attendee copies).
    pub is_cancelled: bool,
    /// The owner's response (`organizer` for the organiser) and its time.
    pub response: (String, Option<Timestamp>),
    /// Edited occurrences by original date.
    pub exceptions: BTreeMap<Date, Exception>,
    /// Deleted occurrences by original date.
    pub cancelled: BTreeSet<Date>,
    /// Meeting copy links.
    pub links: Links,
    /// When the server rotates the change key by itself (Exchange's post-create rotation quirk).
    pub rotate_at: Option<Timestamp>,
}

impl Event {
    /// The zone recurrence dates are computed in.
    pub fn series_zone(&self) -> Zone {
        self.recurrence
            .as_ref()
            .and_then(|r| r.time_zone.as_deref())
            .and_then(|name| timezones::resolve(name).ok())
            .unwrap_or_else(|| self.start.zone.clone())
    }

    /// The original (unedited) start and end of the occurrence on `date`.
    pub fn occurrence_times(&self, date: Date) -> (When, When) {
        if self.is_all_day {
            let days = self
                .start
                .local
                .date()
                .until(self.end.local.date())
                .map(|s| s.get_days())
                .unwrap_or(1);
            let start = date.to_datetime(jiff::civil::Time::midnight());
            let end = date
                .checked_add(jiff::Span::new().days(days))
                .unwrap_or(date)
                .to_datetime(jiff::civil::Time::midnight());
            let zone = self.start.zone.clone();
            return (
                When {
                    local: start,
                    zone: zone.clone(),
                },
                When { local: end, zone },
            );
        }
        let zone = self.series_zone();
        let time = zone.local(self.start.instant()).time();
        let start = When {
            local: date.to_datetime(time),
            zone: zone.clone(),
        };
        let duration = self.duration();
        let end_instant = start
            .instant()
            .checked_add(duration)
            .unwrap_or(start.instant());
        let end = When {
            local: zone.local(end_instant),
            zone,
        };
        (start, end)
    }

    /// `end - start`.
    pub fn duration(&self) -> SignedDuration {
        self.start.instant().duration_until(self.end.instant())
    }

    /// The occurrence dates up to `until`, without cancelled ones.
    pub fn occurrence_dates(&self, until: Date) -> Vec<Date> {
        match &self.recurrence {
            Some(rec) => rec
                .dates_until(until)
                .into_iter()
                .filter(|d| !self.cancelled.contains(d))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether `date` is an occurrence of this series that has not been cancelled.
    pub fn has_occurrence(&self, date: Date) -> bool {
        self.recurrence.is_some()
            && !self.cancelled.contains(&date)
            && self.occurrence_dates(date).last() == Some(&date)
    }

    /// The change key of the occurrence on `date`.
    pub fn occurrence_change_key(&self, date: Date) -> String {
        let own = self
            .exceptions
            .get(&date)
            .map(|e| e.change_key.as_str())
            .unwrap_or("");
        crate::ids::derived_change_key(&[&self.series_key, &date.to_string(), own])
    }

    /// The attendee list (organiser's view).
    pub fn attendees(&self) -> Vec<Value> {
        self.fields
            .get("attendees")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

/// One mailbox.
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Address as first seen.
    pub address: String,
    /// Display name derived from the address.
    pub display_name: String,
    /// The user's object id.
    pub user_id: String,
    /// Events by id.
    pub events: HashMap<String, Event>,
    /// transactionId -> event id.
    pub transactions: HashMap<String, String>,
    /// Delta and skip tokens.
    pub delta: DeltaState,
}

impl Mailbox {
    /// A new empty mailbox for `address`.
    pub fn new(address: &str) -> Mailbox {
        let local = address.split('@').next().unwrap_or(address);
        let display_name = local
            .split(['.', '_', '-'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut chars = p.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Mailbox {
            address: address.to_owned(),
            display_name,
            user_id: crate::ids::guid(),
            events: HashMap::new(),
            transactions: HashMap::new(),
            delta: DeltaState::default(),
        }
    }
}

/// Runtime configuration (`PUT /_emulator/config`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// Sleep per Graph request and per batch item, while holding its execution slot.
    pub service_time_ms: u64,
    /// Enforce Outlook's per-mailbox limits.
    pub limits: bool,
    /// Concurrent requests per mailbox.
    pub max_concurrent: usize,
    /// Requests per window per mailbox.
    pub rate_limit: usize,
    /// Window length.
    pub rate_window_s: u64,
    /// `expires_in` of access tokens.
    pub access_token_lifetime_s: u64,
    /// Delta page size without `Prefer: odata.maxpagesize`.
    pub delta_page_size_default: usize,
    /// Quirk: each delta round starts with an empty page carrying a nextLink (off by default).
    pub delta_empty_pages: bool,
    /// Quirk: changes outside the delta window come back as `@removed` (off by default).
    pub delta_removed_outside_window: bool,
    /// Quirk: this many ms after a create, the server rotates the event's change key by itself (0 = off).
    pub change_key_rotation_ms: u64,
    /// Quirk: each delta round also re-sends what the previous round sent (off by default).
    pub delta_replays: bool,
    /// How long a notification endpoint has to answer the validation handshake (Graph: 10 s).
    pub webhook_validation_timeout_ms: u64,
    /// How long a notification endpoint has to acknowledge a delivery (Graph: 3 s).
    pub webhook_ack_timeout_ms: u64,
    /// Delays before each retry of a failed delivery; its length bounds the retries.
    pub webhook_retry_ms: Vec<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            service_time_ms: 0,
            limits: false,
            max_concurrent: 4,
            rate_limit: 10_000,
            rate_window_s: 600,
            access_token_lifetime_s: 3599,
            delta_page_size_default: 100,
            delta_empty_pages: false,
            delta_removed_outside_window: false,
            change_key_rotation_ms: 0,
            delta_replays: false,
            webhook_validation_timeout_ms: 10_000,
            webhook_ack_timeout_ms: 3_000,
            webhook_retry_ms: vec![1_000, 10_000, 60_000],
        }
    }
}

/// Request counters (`GET /_emulator/requests`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// All Graph requests, batch envelopes and items included.
    pub total: u64,
    /// By `"METHOD /v1.0/route/{id}"`.
    pub by_route: BTreeMap<String, u64>,
    /// By mailbox address.
    pub by_mailbox: BTreeMap<String, u64>,
    /// Batch items.
    pub batch_items: u64,
    /// Throttled answers (429/503/504 with Retry-After).
    pub throttled: u64,
    /// Requests that came before a previous Retry-After elapsed.
    pub retry_after_violations: u64,
}

/// What a queued fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 (or 503/504) with Retry-After.
    Throttle,
    /// A Graph error status (500 by default).
    Error,
    /// Do the write, then drop the connection.
    LoseResponse,
    /// Drop the connection before doing anything.
    Reset,
}

/// A queued fault (`POST /_emulator/faults`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it still affects.
    #[serde(default = "one")]
    pub count: u32,
    /// Status for `throttle` / `error`.
    #[serde(default)]
    pub status: Option<u16>,
    /// Retry-After seconds for `throttle` (fractional allowed).
    #[serde(default)]
    pub retry_after: Option<Value>,
    /// Only this method.
    #[serde(default)]
    pub method: Option<String>,
    /// Only paths containing this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only this mailbox.
    #[serde(default)]
    pub mailbox: Option<String>,
}

fn one() -> u32 {
    1
}

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub struct World {
    /// Mailboxes by lower-cased address.
    pub mailboxes: HashMap<String, Mailbox>,
    /// OAuth state.
    pub identity: IdentityState,
    /// Recorded mails.
    pub outbox: Vec<Mail>,
    /// Configuration.
    pub config: Config,
    /// Request counters.
    pub counters: Counters,
    /// Pending faults, in order.
    pub faults: VecDeque<Fault>,
    /// Per-mailbox limiter state.
    pub limiter: LimiterState,
    /// Sequence for event insertion order.
    pub seq: u64,
    /// Last outbox sequence number handed out (survives `DELETE /_emulator/outbox`).
    pub mail_seq: u64,
    /// Change-notification subscriptions and their deliveries.
    pub webhooks: crate::subscriptions::WebhookState,
}

impl World {
    /// The mailbox for `address`, created if needed; returns its key.
    pub fn ensure_mailbox(&mut self, address: &str) -> String {
        let key = address.trim().to_ascii_lowercase();
        self.mailboxes
            .entry(key.clone())
            .or_insert_with(|| Mailbox::new(address.trim()));
        key
    }

    /// Applies due server-side change-key rotations in `mailbox` (see [`Config::change_key_rotation_ms`]).
    pub fn rotate_due_change_keys(&mut self, mailbox: &str) {
        let now = Timestamp::now();
        let Some(mb) = self.mailboxes.get_mut(mailbox) else {
            return;
        };
        for ev in mb.events.values_mut() {
            if ev.rotate_at.is_some_and(|at| at <= now) {
                ev.rotate_at = None;
                ev.change_key = crate::ids::new_change_key();
                ev.series_key = crate::ids::new_change_key();
            }
        }
    }

    /// The next insertion sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
