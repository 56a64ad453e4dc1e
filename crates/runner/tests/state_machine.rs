//! State-machine property test of whole sync runs against the Graph emulator.
//!
//! Each case starts from a fresh emulator mailbox and an in-memory stand-in for the Odoo addon,
//! then applies random steps: edits on either side (creates, subject / time / location edits,
//! deletes; some Odoo events invite one or two external attendees, some are weekly series); a
//! second, unsynced mailbox that organizes meetings the owner attends (invites, edits, cancels,
//! and sends meetings Odoo already holds as awaited), with the owner answering them in Odoo; and
//! sync runs with random faults queued first (`429`, `503`, `500`, a response lost after the write
//! took effect, a connection reset) and, sometimes, a crash mid-run (Outlook was written, the
//! output is thrown away and nothing is stored) or an Odoo write the addon fails to apply (the
//! contract's failure path, [`outlook_runner::SyncState::keep_unapplied`]). After every run that
//! completed, and at the end of the case, the test clears the leftover faults, runs once more
//! without faults and checks:
//!
//! - both sides hold the same events, one-to-one through the stored links (subject, start, end and
//!   location compared; no duplicate on either side);
//! - every edit made since the last check is on both sides, unless a run reported a conflict on
//!   that event (the losing version is in the report);
//! - a further run writes nothing to Graph, plans nothing and mails no one, and the one after it
//!   costs only the delta;
//! - mails: each attendee is invited once per Outlook event, updated only for Odoo edits and at
//!   most once per edit, cancelled only for Odoo deletions; every Odoo create and every Odoo edit
//!   that survives does mail; and a run without faults mails exactly what its report says;
//! - organizer rules: no meeting exists twice in the owner's mailbox; the owner never organizes a
//!   copy of a meeting they attend or were invited to (an awaited Odoo meeting is never created
//!   in Outlook, and is linked once its copy arrives); the organiser's mailbox holds only its own
//!   meetings; the organiser gets one answer per answer given in Odoo, at most; a meeting-field
//!   edit made in Odoo on an attended meeting gives way to the organiser's version, or to the
//!   owner's removal of their copy in Outlook, only with a note in the report.
//!
//! One emulator serves the whole process (`POST /_emulator/reset` between cases). The default is a
//! quick CI run; a long run (`make adversarial` runs one and collects its figures):
//!
//! ```text
//! PROPTEST_CASES=300 SYNC_SM_STEPS=16 cargo test -p outlook-runner --test state_machine -- --nocapture
//! ```
//!
//! The test ends by printing its figures on one line, summed over the cases run up to the first
//! that failed (if one did; the runs that shrink it are counted apart), whether it passed or not:
//! `state_machine: cases=… steps=… sync_runs=… faults={…} items_checked=… items_lost=…
//! duplicates=… result=…` (see [`Figures`]).
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use outlook_emulator::EmulatorHandle;
use outlook_engine::{Conflict, Side};
use outlook_graph::{ClientOptions, Endpoints, GraphClient, Secret, TokenSet, http_client};
use outlook_model::odoo::OdooAttendeeState;
use outlook_model::odoo::OdooEvent;
use outlook_model::semantic_hash_hex;
use outlook_runner::{
    AttendeeNoteKind, ConflictPolicy, Delivery, FirstSync, LocalAction, LocalEvent, LocalListing,
    RunError, RunInput, RunOptions, RunOutput, SentWrite, SyncState, run_journaled,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{FileFailurePersistence, TestRunner};
use serde_json::{Value, json};

const MAILBOX: &str = "owner@contoso.com";
const ATTENDEES: [&str; 2] = ["ann@fabrikam.com", "bob@fabrikam.com"];
/// Present on both sides from the start and never touched, so no step empties a side (which
/// would trip the engine's safety stop, a behaviour tested elsewhere).
const ANCHOR: &str = "Anchor";
/// Another hosted mailbox, not synced: it organizes meetings the owner attends.
const ORGANISER: &str = "org@contoso.com";

fn emulator_url() -> String {
    static EMULATOR: OnceLock<EmulatorHandle> = OnceLock::new();
    EMULATOR
        .get_or_init(|| outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap())
        .base_url()
        .to_owned()
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// Steps

#[derive(Clone, Debug)]
enum Field {
    /// A fresh subject.
    Subject,
    /// A new start (one hour long), in December 2026.
    Time { day: i8, hour: i8 },
    /// A fresh location, or none.
    Location { clear: bool },
}

#[derive(Clone, Copy, Debug)]
enum FaultKind {
    Throttle429,
    Throttle503,
    Error500,
    LoseResponse,
    Reset,
}

impl FaultKind {
    /// Its name in the figures.
    fn label(self) -> &'static str {
        match self {
            FaultKind::Throttle429 => "429",
            FaultKind::Throttle503 => "503",
            FaultKind::Error500 => "500",
            FaultKind::LoseResponse => "lost_response",
            FaultKind::Reset => "reset",
        }
    }

    /// The label of a fault the emulator still holds (`GET /_emulator/faults`), as queued here.
    fn label_of_queued(fault: &Value) -> &'static str {
        match (fault["kind"].as_str(), fault["status"].as_u64()) {
            (Some("throttle"), Some(503)) => FaultKind::Throttle503.label(),
            (Some("throttle"), _) => FaultKind::Throttle429.label(),
            (Some("error"), _) => FaultKind::Error500.label(),
            (Some("lose_response"), _) => FaultKind::LoseResponse.label(),
            _ => FaultKind::Reset.label(),
        }
    }
}

#[derive(Clone, Debug)]
struct Fault {
    kind: FaultKind,
    /// Only requests of this method (`None`: the next request whatever it is).
    method: Option<&'static str>,
    /// Only requests whose path contains this (`/events` reaches the items of a `$batch`).
    path: Option<&'static str>,
}

#[derive(Clone, Debug)]
enum Step {
    OdooCreate {
        day: i8,
        hour: i8,
        attendees: i8,
        /// Weekly, three times, on the start's weekday.
        weekly: bool,
    },
    OdooEdit {
        pick: Index,
        field: Field,
    },
    OdooDelete {
        pick: Index,
    },
    OutlookCreate {
        day: i8,
        hour: i8,
    },
    OutlookEdit {
        pick: Index,
        field: Field,
    },
    OutlookDelete {
        pick: Index,
    },
    Sync {
        faults: Vec<Fault>,
        crash: bool,
        delta: bool,
        /// The addon fails to apply one of the run's Odoo writes (picked by this index).
        fail_local: Option<Index>,
    },
    /// The other mailbox (not synced) invites the owner and a guest to a new meeting.
    OrgInvite {
        day: i8,
        hour: i8,
    },
    /// The organiser edits one of its meetings; the owner's copy follows.
    OrgEdit {
        pick: Index,
        field: Field,
    },
    /// The organiser cancels one of its meetings; the owner's copy is marked cancelled.
    OrgCancel {
        pick: Index,
    },
    /// In Odoo, the owner answers a meeting they attend.
    OdooRespond {
        pick: Index,
        answer: Index,
    },
    /// In Odoo, a meeting the owner attends and the organiser has not sent yet.
    OdooAttend {
        day: i8,
        hour: i8,
    },
    /// The organiser sends a meeting Odoo was waiting for (same subject, start and end).
    OrgSendsAwaited {
        pick: Index,
    },
}

#[derive(Clone, Debug)]
struct Case {
    policy: ConflictPolicy,
    odoo: Vec<(i8, i8, i8)>,
    outlook: Vec<(i8, i8)>,
    steps: Vec<Step>,
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Subject),
        (1i8..=28, 8i8..=17).prop_map(|(day, hour)| Field::Time { day, hour }),
        any::<bool>().prop_map(|clear| Field::Location { clear }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    let kind = prop_oneof![
        Just(FaultKind::Throttle429),
        Just(FaultKind::Throttle503),
        Just(FaultKind::Error500),
        Just(FaultKind::LoseResponse),
        Just(FaultKind::Reset),
    ];
    let method = prop_oneof![
        Just(None),
        Just(Some("GET")),
        Just(Some("POST")),
        Just(Some("PATCH")),
        Just(Some("DELETE")),
    ];
    let path = prop_oneof![Just(None), Just(Some("/events"))];
    (kind, method, path).prop_map(|(kind, method, path)| Fault { kind, method, path })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (1i8..=28, 8i8..=17, 0i8..=2, prop::bool::weighted(0.2)).prop_map(
            |(day, hour, attendees, weekly)| Step::OdooCreate { day, hour, attendees, weekly }
        ),
        3 => (any::<Index>(), field()).prop_map(|(pick, field)| Step::OdooEdit { pick, field }),
        1 => any::<Index>().prop_map(|pick| Step::OdooDelete { pick }),
        2 => (1i8..=28, 8i8..=17).prop_map(|(day, hour)| Step::OutlookCreate { day, hour }),
        3 => (any::<Index>(), field()).prop_map(|(pick, field)| Step::OutlookEdit { pick, field }),
        1 => any::<Index>().prop_map(|pick| Step::OutlookDelete { pick }),
        1 => (1i8..=28, 8i8..=17).prop_map(|(day, hour)| Step::OrgInvite { day, hour }),
        1 => (any::<Index>(), field()).prop_map(|(pick, field)| Step::OrgEdit { pick, field }),
        1 => any::<Index>().prop_map(|pick| Step::OrgCancel { pick }),
        1 => (any::<Index>(), any::<Index>())
            .prop_map(|(pick, answer)| Step::OdooRespond { pick, answer }),
        1 => (1i8..=28, 8i8..=17).prop_map(|(day, hour)| Step::OdooAttend { day, hour }),
        1 => any::<Index>().prop_map(|pick| Step::OrgSendsAwaited { pick }),
        3 => (
            prop::collection::vec(fault(), 0..=2),
            prop::bool::weighted(0.2),
            any::<bool>(),
            prop::option::weighted(0.25, any::<Index>()),
        )
            .prop_map(|(faults, crash, delta, fail_local)| Step::Sync {
                faults,
                crash,
                delta,
                fail_local,
            }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let steps = env_number("SYNC_SM_STEPS", 8) as usize;
    (
        prop_oneof![
            Just(ConflictPolicy::LatestWins),
            Just(ConflictPolicy::LocalWins),
            Just(ConflictPolicy::RemoteWins),
        ],
        prop::collection::vec((1i8..=28, 8i8..=17, 0i8..=2), 0..=2),
        prop::collection::vec((1i8..=28, 8i8..=17), 0..=2),
        prop::collection::vec(step(), 1..=steps),
    )
        .prop_map(|(policy, odoo, outlook, steps)| Case {
            policy,
            odoo,
            outlook,
            steps,
        })
}

// ---------------------------------------------------------------------------------------------
// Content as both sides are compared: subject, start, end (UTC, to the minute), location.

type Content = (String, String, String, String);

fn odoo_content(values: &OdooEvent) -> Content {
    let minute = |t: Option<DateTime>| {
        t.map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    };
    (
        values.name.clone().unwrap_or_default(),
        minute(values.start),
        minute(values.stop),
        values.location.clone().unwrap_or_default(),
    )
}

fn outlook_content(event: &Value) -> Content {
    let minute = |v: &Value| v.as_str().unwrap_or_default().chars().take(16).collect();
    (
        event["subject"].as_str().unwrap_or_default().to_owned(),
        minute(&event["start"]["dateTime"]),
        minute(&event["end"]["dateTime"]),
        event["location"]["displayName"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn start_end(day: i8, hour: i8) -> (DateTime, DateTime) {
    let start = jiff::civil::date(2026, 12, day).at(hour, 0, 0, 0);
    (start, start + jiff::Span::new().hours(1))
}

// ---------------------------------------------------------------------------------------------
// The Odoo side

struct Record {
    values: OdooEvent,
    modified_at: Timestamp,
}

/// The addon reduced to the caller contract: records with dirty flags and tombstones, and the
/// stored state, replaced only when a run completes.
#[derive(Default)]
struct Odoo {
    records: BTreeMap<i64, Record>,
    state: SyncState,
    next_id: i64,
    dirty: BTreeSet<i64>,
    /// Deleted records, with their content hash when they were dirty (the addon's tombstone).
    tombstones: BTreeMap<i64, Option<String>>,
    /// The sent journal: what runs since the last committed one had Outlook confirm, kept
    /// outside their transaction (a crashed run's entries survive it).
    sent: Vec<SentWrite>,
}

impl Odoo {
    fn insert(&mut self, mut values: OdooEvent) -> i64 {
        self.next_id += 1;
        values.id = Some(self.next_id);
        self.records.insert(
            self.next_id,
            Record {
                values,
                modified_at: Timestamp::now(),
            },
        );
        self.next_id
    }

    /// A person's edit: the record is dirty.
    fn touch(&mut self, id: i64) {
        if let Some(record) = self.records.get_mut(&id) {
            record.modified_at = Timestamp::now();
        }
        self.dirty.insert(id);
    }

    fn listing(&self, delta: bool) -> LocalListing {
        let event = |id: &i64| {
            self.records.get(id).map(|r| LocalEvent {
                values: r.values.clone(),
                modified_at: Some(r.modified_at),
                organizer_syncs: false,
            })
        };
        if delta {
            LocalListing::Delta {
                changed: self.dirty.iter().filter_map(event).collect(),
                deleted: self.tombstones.keys().copied().collect(),
                deleted_hashes: self
                    .tombstones
                    .iter()
                    .filter_map(|(id, hash)| Some((*id, hash.clone()?)))
                    .collect(),
            }
        } else {
            LocalListing::Full {
                events: self.records.keys().filter_map(event).collect(),
            }
        }
    }

    /// Applies a completed run's writes and stores its state, in one "transaction". The write
    /// picked by `fail` cannot be applied (a constraint, an access rule): the contract's failure
    /// path is taken for it instead. Returns whether a write was refused so.
    fn commit(&mut self, output: RunOutput, fail: Option<Index>) -> bool {
        let mut state = output.state;
        // The committed state includes everything the journal held.
        self.sent.clear();
        let failing = fail
            .filter(|_| !output.local_ops.is_empty())
            .map(|pick| pick.index(output.local_ops.len()));
        for (index, write) in output.local_ops.into_iter().enumerate() {
            if Some(index) == failing {
                state.keep_unapplied(&write);
                continue;
            }
            match write.action {
                LocalAction::Create => {
                    let mut values = write.values.unwrap();
                    values.id = None;
                    let id = self.insert(values);
                    let mut link = write.link.unwrap();
                    link.status.local_id = id.to_string();
                    state.links.push(link);
                }
                LocalAction::Update => {
                    let id = write.local_id.unwrap();
                    let mut values = write.values.unwrap();
                    values.id = Some(id);
                    let record = self.records.get_mut(&id).unwrap();
                    record.values = values;
                    record.modified_at = Timestamp::now();
                    state.links.push(write.link.unwrap());
                }
                LocalAction::Delete => {
                    self.records.remove(&write.local_id.unwrap());
                }
            }
        }
        let retry: HashSet<i64> = output.retry_local.iter().copied().collect();
        self.dirty.retain(|id| retry.contains(id));
        self.tombstones.retain(|id, _| retry.contains(id));
        self.state = state;
        failing.is_some()
    }
}

fn odoo_event(name: &str, day: i8, hour: i8, attendees: i8) -> OdooEvent {
    let (start, stop) = start_end(day, hour);
    let attendees: Vec<Value> = ATTENDEES[..attendees as usize]
        .iter()
        .map(|email| json!({"email": email, "name": email, "state": "needsAction"}))
        .collect();
    serde_json::from_value(json!({
        "name": name,
        "start": start.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        "stop": stop.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        "event_tz": "Europe/Brussels",
        "attendees": attendees,
        "organizer_email": MAILBOX,
        "is_organizer": true,
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// What the checks need to know about the steps since the last check.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Touched {
    Odoo(i64),
    Outlook(usize),
}

#[derive(Default)]
struct Segment {
    /// The content each touched item was left with by its last edit (`None`: deleted). Outlook
    /// items are numbered in `outlook_ids`.
    touched: HashMap<Touched, Option<Content>>,
    outlook_ids: Vec<String>,
    /// Content of edited Outlook items before their first edit since the last check.
    outlook_before: HashMap<Touched, Content>,
    /// Meeting edits per Odoo record (creates not counted).
    odoo_edits: HashMap<i64, usize>,
    odoo_created: BTreeSet<i64>,
    odoo_deleted: BTreeSet<i64>,
    /// Content of the Odoo records at the last check.
    odoo_before: HashMap<i64, Content>,
    /// Every (local id, remote id) pair any run handed out since the last check.
    pairs: HashSet<(String, String)>,
    conflicts: Vec<Conflict>,
    mails: Vec<Value>,
    /// Edits per organiser meeting (its id in the organiser's mailbox).
    org_edits: HashMap<String, usize>,
    org_cancelled: BTreeSet<String>,
    /// Answers given in Odoo per record.
    responds: HashMap<i64, usize>,
    /// Records whose meeting-field edits a run did not send (only the organiser may), or deleted
    /// with their edits because the owner removed their copy of the meeting (reported).
    kept: HashSet<String>,
}

impl Segment {
    fn outlook_key(&mut self, id: &str) -> Touched {
        let index = match self.outlook_ids.iter().position(|known| known == id) {
            Some(index) => index,
            None => {
                self.outlook_ids.push(id.to_owned());
                self.outlook_ids.len() - 1
            }
        };
        Touched::Outlook(index)
    }

    fn remember(&mut self, state: &SyncState, local_ops: &[outlook_runner::LocalWrite]) {
        let links = state
            .links
            .iter()
            .chain(local_ops.iter().filter_map(|w| w.link.as_ref()));
        for link in links {
            self.pairs
                .insert((link.status.local_id.clone(), link.status.remote_id.clone()));
        }
    }

    /// Whether a run reported a conflict on this local or remote id (or on its counterpart).
    fn in_conflict(&self, local: Option<i64>, remote: Option<&str>) -> bool {
        let local = local.map(|l| l.to_string());
        let mut locals: HashSet<String> = local.iter().cloned().collect();
        let mut remotes: HashSet<String> = remote.iter().map(|r| (*r).to_owned()).collect();
        for (l, r) in &self.pairs {
            if locals.contains(l) || remotes.contains(r) {
                locals.insert(l.clone());
                remotes.insert(r.clone());
            }
        }
        self.conflicts
            .iter()
            .any(|c| locals.contains(&c.local.id) || remotes.contains(&c.remote.id))
    }
}

// ---------------------------------------------------------------------------------------------
// The figures a long run prints

/// Faults as the figures name them: the queued kinds, then a crash after the Outlook writes (the
/// output never stored) and an Odoo write the addon could not apply.
const FIGURE_FAULTS: [&str; 7] = [
    "429",
    "503",
    "500",
    "lost_response",
    "reset",
    "crash_mid_run",
    "odoo_write_refused",
];

/// What one case, or all of them up to the first that failed, met and found.
#[derive(Default)]
struct Figures {
    cases: usize,
    /// Whether a case failed: the cases proptest runs after it only shrink that failure, so
    /// they are counted apart ([`Figures::shrink_runs`]) rather than summed in.
    failed: bool,
    shrink_runs: usize,
    /// Steps applied (edits on either side, organiser steps, faulty runs).
    steps: usize,
    /// Every run of the sync: under faults, and the clean ones of the checks.
    sync_runs: usize,
    /// Faults that took effect, by [`FIGURE_FAULTS`] name (a queued fault no request met is not
    /// counted).
    faults: BTreeMap<&'static str, usize>,
    /// Changes (creates, edits and deletions, on either side) checked after a settled run; an item
    /// changed again later is checked again.
    items_checked: usize,
    /// Items wrong after a settled run: an edit missing on a side with no conflict reported, an
    /// event one side holds and the other lacks, linked events that differ.
    items_lost: usize,
    /// Extra copies: an event twice on one side, a meeting twice in the mailbox, an id linked twice.
    duplicates: usize,
}

impl Figures {
    fn fault(&mut self, name: &'static str, count: usize) {
        *self.faults.entry(name).or_default() += count;
    }

    fn add_case(&mut self, case: &Figures, failed: bool) {
        if self.failed {
            self.shrink_runs += 1;
            return;
        }
        self.failed = failed;
        self.cases += 1;
        self.steps += case.steps;
        self.sync_runs += case.sync_runs;
        for (name, count) in &case.faults {
            self.fault(name, *count);
        }
        self.items_checked += case.items_checked;
        self.items_lost += case.items_lost;
        self.duplicates += case.duplicates;
    }

    /// The line `make adversarial` collects, in the faults suite's shape.
    fn summary_line(&self, max_steps: u32, result: &str) -> String {
        let faults: Vec<String> = FIGURE_FAULTS
            .iter()
            .map(|name| {
                format!(
                    "\"{name}\": {}",
                    self.faults.get(name).copied().unwrap_or(0)
                )
            })
            .collect();
        let shrinking = if self.failed {
            format!(
                " ({} shrinking runs after the failing case)",
                self.shrink_runs
            )
        } else {
            String::new()
        };
        format!(
            "state_machine: cases={} steps={} (at most {max_steps} a case) sync_runs={} faults={{{}}} \
             items_checked={} items_lost={} duplicates={} result={result}{shrinking}",
            self.cases,
            self.steps,
            self.sync_runs,
            faults.join(", "),
            self.items_checked,
            self.items_lost,
            self.duplicates,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The world of one case

struct World {
    base: String,
    http: reqwest::Client,
    token: String,
    client: GraphClient,
    options: RunOptions,
    odoo: Odoo,
    segment: Segment,
    counter: u32,
    log: String,
    /// The organiser's token and meetings (id, cancelled).
    org_token: String,
    org: Vec<(String, bool)>,
    /// Odoo events the owner attends that the organiser has not sent yet.
    awaited: Vec<i64>,
    /// Awaited events the organiser has sent (see [`World::invitations_in_flight`]).
    in_flight: Vec<InFlight>,
    figures: Figures,
}

/// An awaited Odoo event whose invitation the organiser has sent.
struct InFlight {
    local_id: i64,
    /// The organiser's event.
    org_id: String,
    ical_uid: String,
}

macro_rules! ensure {
    ($world:expr, $cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!("{}\n--- steps:\n{}", format!($($arg)+), $world.log));
        }
    };
}

impl World {
    async fn new(policy: ConflictPolicy) -> World {
        let base = emulator_url();
        let http = reqwest::Client::new();
        let ok = http
            .post(format!("{base}/_emulator/reset"))
            .send()
            .await
            .unwrap();
        assert!(ok.status().is_success());
        let tokens: Value = http
            .post(format!("{base}/_emulator/mailboxes/{MAILBOX}/token"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let org_tokens: Value = http
            .post(format!("{base}/_emulator/mailboxes/{ORGANISER}/token"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let org_token = org_tokens["access_token"].as_str().unwrap().to_owned();
        let client_options = ClientOptions {
            max_attempts: 3,
            log_label: MAILBOX.into(),
            ..ClientOptions::default()
        };
        let client = GraphClient::new(
            http_client(&client_options).unwrap(),
            Endpoints {
                login_url: base.clone(),
                tenant: "common".into(),
                graph_url: base.clone(),
            },
            None,
            TokenSet {
                access_token: Secret::from(token.clone()),
                refresh_token: None,
                expires_at: Timestamp::now() + jiff::SignedDuration::from_hours(1),
                scope: None,
            },
            client_options,
        );
        let options = RunOptions {
            mailbox: MAILBOX.into(),
            policy,
            first_sync: FirstSync::All,
            dry_run: false,
            transaction_salt: "db-1/link-1".into(),
            window_start: "2026-11-01T00:00:00Z".parse().unwrap(),
            window_end: "2027-02-01T00:00:00Z".parse().unwrap(),
            now: "2026-11-15T00:00:00Z".parse().unwrap(),
        };
        World {
            base,
            http,
            token,
            client,
            options,
            odoo: Odoo::default(),
            segment: Segment::default(),
            counter: 0,
            log: String::new(),
            org_token,
            org: Vec::new(),
            awaited: Vec::new(),
            in_flight: Vec::new(),
            figures: Figures::default(),
        }
    }

    fn fresh(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{what} {}", self.counter)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// A person's request to Graph.
    async fn graph(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/v1.0/me/{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn outlook(&self) -> Vec<Value> {
        let events = self
            .control(
                reqwest::Method::GET,
                &format!("/_emulator/mailboxes/{MAILBOX}/events"),
                None,
            )
            .await;
        serde_json::from_value(events["value"].clone()).unwrap()
    }

    /// Events a person may edit (not the anchor), by id.
    async fn editable_outlook(&self) -> Vec<Value> {
        let mut events: Vec<Value> = self
            .outlook()
            .await
            .into_iter()
            .filter(|e| e["subject"] != ANCHOR)
            .collect();
        events.sort_by_key(|e| e["id"].as_str().unwrap_or_default().to_owned());
        events
    }

    fn editable_odoo(&self) -> Vec<i64> {
        self.odoo
            .records
            .iter()
            .filter(|(_, r)| r.values.name.as_deref() != Some(ANCHOR))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Awaited meetings whose invitation the organiser sent and no run has linked yet.
    ///
    /// Nobody renames them (in Odoo, in Outlook or as the organiser) until a run links them: the
    /// copy is paired with the awaited event by subject, start, end and organizer, or, once times
    /// differ, by organizer and subject alone (see
    /// `an_awaited_meeting_moved_in_odoo_is_linked_when_its_invitation_arrives` in
    /// tests/emulator.rs); with neither left in common, nothing can tell they are one meeting,
    /// and the copy is imported as a second Odoo event. Their times and locations may change.
    fn invitations_in_flight(&self) -> Vec<&InFlight> {
        self.in_flight
            .iter()
            .filter(|i| {
                self.odoo.records.contains_key(&i.local_id)
                    && !self
                        .odoo
                        .state
                        .links
                        .iter()
                        .any(|l| l.status.local_id == i.local_id.to_string())
            })
            .collect()
    }

    /// A request of the organiser's.
    async fn org_graph(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/v1.0/me/{path}", self.base))
            .bearer_auth(&self.org_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// The organiser sends `meeting` to the owner and a guest.
    async fn org_send(&mut self, meeting: &mut Value) {
        meeting["attendees"] = json!([
            {"emailAddress": {"address": MAILBOX}, "type": "required"},
            {"emailAddress": {"address": ATTENDEES[0]}, "type": "required"},
        ]);
        let created = self
            .org_graph(reqwest::Method::POST, "events", Some(meeting.clone()))
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let ical_uid = created["iCalUId"].as_str().unwrap().to_owned();
        self.org.push((id, false));
        self.track_copy(&ical_uid, None).await;
        self.flush_org_mails().await;
    }

    async fn org_ical_uid(&self, id: &str) -> String {
        let events = self
            .control(
                reqwest::Method::GET,
                &format!("/_emulator/mailboxes/{ORGANISER}/events"),
                None,
            )
            .await;
        events["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .and_then(|e| e["iCalUId"].as_str())
            .unwrap()
            .to_owned()
    }

    /// The owner's copy of a meeting, by its iCalUId.
    async fn owner_copy(&self, ical_uid: &str) -> Option<Value> {
        self.outlook()
            .await
            .into_iter()
            .find(|e| e["iCalUId"] == ical_uid)
    }

    /// The organiser changed the owner's copy: it must reach Odoo like an edit in Outlook.
    async fn track_copy(&mut self, ical_uid: &str, before: Option<Value>) {
        let Some(after) = self.owner_copy(ical_uid).await else {
            return;
        };
        let key = self.segment.outlook_key(after["id"].as_str().unwrap());
        if let Some(before) = before {
            self.segment
                .outlook_before
                .entry(key)
                .or_insert(outlook_content(&before));
        }
        self.segment
            .touched
            .insert(key, Some(outlook_content(&after)));
    }

    /// Mails of the organiser's own steps, kept for the mail checks (runs empty the outbox).
    /// What the outbox held before the step was recorded by the run that sent it.
    async fn flush_org_mails(&mut self) {
        let mails = self.outbox().await;
        self.segment.mails.extend(mails);
        self.clear_outbox().await;
    }

    async fn outbox(&self) -> Vec<Value> {
        let outbox = self
            .control(reqwest::Method::GET, "/_emulator/outbox", None)
            .await;
        serde_json::from_value(outbox["mails"].clone()).unwrap()
    }

    async fn clear_outbox(&self) {
        self.control(reqwest::Method::DELETE, "/_emulator/outbox", None)
            .await;
    }

    async fn setup(&mut self, case: &Case) -> Result<(), String> {
        let mut seeds = vec![json!({
            "subject": ANCHOR,
            "start": {"dateTime": "2026-12-31T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-31T10:00:00", "timeZone": "UTC"},
        })];
        for &(day, hour) in &case.outlook {
            let subject = self.fresh("Outlook");
            seeds.push(graph_event(&subject, day, hour));
        }
        self.control(
            reqwest::Method::POST,
            &format!("/_emulator/mailboxes/{MAILBOX}/seed"),
            Some(json!({ "events": seeds })),
        )
        .await;
        for &(day, hour, attendees) in &case.odoo {
            let name = self.fresh("Odoo");
            let id = self.odoo.insert(odoo_event(&name, day, hour, attendees));
            self.odoo.dirty.insert(id);
            self.segment.odoo_created.insert(id);
        }
        let _ = writeln!(
            self.log,
            "setup: policy {:?}, odoo {:?}, outlook {:?}",
            case.policy, case.odoo, case.outlook
        );
        self.settle_and_check().await
    }

    async fn apply(&mut self, step: &Step) -> Result<(), String> {
        let _ = writeln!(self.log, "{step:?}");
        self.figures.steps += 1;
        match step {
            Step::OdooCreate {
                day,
                hour,
                attendees,
                weekly,
            } => {
                let name = self.fresh("Odoo");
                let mut values = odoo_event(&name, *day, *hour, *attendees);
                if *weekly {
                    let weekday = start_end(*day, *hour).0.weekday();
                    let flag = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                        [usize::from(weekday.to_monday_zero_offset().unsigned_abs())];
                    values.recurrence = Some(
                        serde_json::from_value(json!({
                            "rrule_type": "weekly", "interval": 1, "end_type": "count",
                            "count": 3, flag: true,
                        }))
                        .unwrap(),
                    );
                }
                let id = self.odoo.insert(values);
                self.odoo.touch(id);
                self.segment.odoo_created.insert(id);
                let content = odoo_content(&self.odoo.records[&id].values);
                self.segment
                    .touched
                    .insert(Touched::Odoo(id), Some(content));
            }
            Step::OdooEdit { pick, field } => {
                let in_flight = self.invitations_in_flight();
                let ids: Vec<i64> = self
                    .editable_odoo()
                    .into_iter()
                    .filter(|id| {
                        !matches!(field, Field::Subject)
                            || !in_flight.iter().any(|i| i.local_id == *id)
                    })
                    .collect();
                if ids.is_empty() {
                    return Ok(());
                }
                let id = ids[pick.index(ids.len())];
                let fresh_subject = self.fresh("Edited in Odoo");
                let fresh_room = self.fresh("Odoo room");
                let values = &mut self.odoo.records.get_mut(&id).unwrap().values;
                let unedited = odoo_content(values);
                match field {
                    Field::Subject => values.name = Some(fresh_subject),
                    // A series keeps its weekday (its recurrence names it): only the hour moves.
                    Field::Time { hour, .. } if values.recurrence.is_some() => {
                        let start = values.start.unwrap();
                        let start = start.date().at(*hour, 0, 0, 0);
                        values.start = Some(start);
                        values.stop = Some(start + jiff::Span::new().hours(1));
                    }
                    Field::Time { day, hour } => {
                        let (start, stop) = start_end(*day, *hour);
                        values.start = Some(start);
                        values.stop = Some(stop);
                    }
                    Field::Location { clear } => {
                        values.location = (!clear).then_some(fresh_room);
                    }
                }
                let content = odoo_content(values);
                if content == unedited {
                    // Clearing a location already empty: nothing changed, nothing to deliver.
                    return Ok(());
                }
                self.odoo.touch(id);
                *self.segment.odoo_edits.entry(id).or_default() += 1;
                self.segment
                    .touched
                    .insert(Touched::Odoo(id), Some(content));
            }
            Step::OdooDelete { pick } => {
                let ids = self.editable_odoo();
                if ids.is_empty() {
                    return Ok(());
                }
                let id = ids[pick.index(ids.len())];
                let record = self.odoo.records.remove(&id).unwrap();
                let hash = self
                    .odoo
                    .dirty
                    .remove(&id)
                    .then(|| semantic_hash_hex(&record.values.to_event().unwrap()));
                self.odoo.tombstones.insert(id, hash);
                self.segment.odoo_deleted.insert(id);
                self.segment.touched.insert(Touched::Odoo(id), None);
            }
            Step::OutlookCreate { day, hour } => {
                let subject = self.fresh("Outlook");
                let created = self
                    .graph(
                        reqwest::Method::POST,
                        "events",
                        Some(graph_event(&subject, *day, *hour)),
                    )
                    .await;
                let id = created["id"].as_str().unwrap().to_owned();
                let key = self.segment.outlook_key(&id);
                self.segment
                    .touched
                    .insert(key, Some(outlook_content(&created)));
            }
            Step::OutlookEdit { pick, field } => {
                let renaming = matches!(field, Field::Subject);
                let in_flight: Vec<String> = self
                    .invitations_in_flight()
                    .iter()
                    .filter(|_| renaming)
                    .map(|i| i.ical_uid.clone())
                    .collect();
                let events: Vec<Value> = self
                    .editable_outlook()
                    .await
                    .into_iter()
                    .filter(|e| !in_flight.iter().any(|uid| e["iCalUId"] == uid.as_str()))
                    .collect();
                if events.is_empty() {
                    return Ok(());
                }
                let event = &events[pick.index(events.len())];
                let id = event["id"].as_str().unwrap().to_owned();
                let before = outlook_content(event);
                let patch = match field {
                    Field::Subject => json!({"subject": self.fresh("Edited in Outlook")}),
                    // Moving a series in Outlook means a new pattern; not modelled here.
                    Field::Time { .. } if event["type"] == "seriesMaster" => return Ok(()),
                    Field::Time { day, hour } => {
                        let (start, end) = start_end(*day, *hour);
                        json!({
                            "start": {"dateTime": start.to_string(), "timeZone": "UTC"},
                            "end": {"dateTime": end.to_string(), "timeZone": "UTC"},
                        })
                    }
                    Field::Location { clear: true } => json!({"location": {"displayName": ""}}),
                    Field::Location { clear: false } => {
                        json!({"location": {"displayName": self.fresh("Outlook room")}})
                    }
                };
                self.graph(reqwest::Method::PATCH, &format!("events/{id}"), Some(patch))
                    .await;
                let after = self
                    .outlook()
                    .await
                    .into_iter()
                    .find(|e| e["id"] == id.as_str())
                    .unwrap();
                if outlook_content(&after) == before {
                    // Clearing a location already empty: no person's change to deliver.
                    return Ok(());
                }
                let key = self.segment.outlook_key(&id);
                self.segment.outlook_before.entry(key).or_insert(before);
                self.segment
                    .touched
                    .insert(key, Some(outlook_content(&after)));
            }
            Step::OutlookDelete { pick } => {
                let events = self.editable_outlook().await;
                if events.is_empty() {
                    return Ok(());
                }
                let id = events[pick.index(events.len())]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                self.graph(reqwest::Method::DELETE, &format!("events/{id}"), None)
                    .await;
                let key = self.segment.outlook_key(&id);
                self.segment.touched.insert(key, None);
            }
            Step::OrgInvite { day, hour } => {
                self.clear_outbox().await;
                let subject = self.fresh("Org");
                let mut meeting = graph_event(&subject, *day, *hour);
                self.org_send(&mut meeting).await;
            }
            Step::OrgEdit { pick, field } => {
                self.clear_outbox().await;
                let renaming = matches!(field, Field::Subject);
                let in_flight: Vec<&str> = self
                    .invitations_in_flight()
                    .iter()
                    .filter(|_| renaming)
                    .map(|i| i.org_id.as_str())
                    .collect();
                let open: Vec<String> = self
                    .org
                    .iter()
                    .filter(|(id, cancelled)| !cancelled && !in_flight.contains(&id.as_str()))
                    .map(|(id, _)| id.clone())
                    .collect();
                if open.is_empty() {
                    return Ok(());
                }
                let id = open[pick.index(open.len())].clone();
                let patch = match field {
                    Field::Subject => json!({"subject": self.fresh("Edited by the organiser")}),
                    Field::Time { day, hour } => {
                        let (start, end) = start_end(*day, *hour);
                        json!({
                            "start": {"dateTime": start.to_string(), "timeZone": "UTC"},
                            "end": {"dateTime": end.to_string(), "timeZone": "UTC"},
                        })
                    }
                    Field::Location { clear: true } => json!({"location": {"displayName": ""}}),
                    Field::Location { clear: false } => {
                        json!({"location": {"displayName": self.fresh("Organiser room")}})
                    }
                };
                let ical_uid = self.org_ical_uid(&id).await;
                let before = self.owner_copy(&ical_uid).await;
                self.org_graph(reqwest::Method::PATCH, &format!("events/{id}"), Some(patch))
                    .await;
                *self.segment.org_edits.entry(id).or_default() += 1;
                self.track_copy(&ical_uid, before).await;
                self.flush_org_mails().await;
            }
            Step::OrgCancel { pick } => {
                self.clear_outbox().await;
                let open: Vec<usize> = (0..self.org.len()).filter(|i| !self.org[*i].1).collect();
                if open.is_empty() {
                    return Ok(());
                }
                let index = open[pick.index(open.len())];
                let id = self.org[index].0.clone();
                self.org_graph(
                    reqwest::Method::POST,
                    &format!("events/{id}/cancel"),
                    Some(json!({})),
                )
                .await;
                self.org[index].1 = true;
                self.segment.org_cancelled.insert(id);
                self.flush_org_mails().await;
            }
            Step::OdooRespond { pick, answer } => {
                let attended: Vec<i64> = self
                    .odoo
                    .records
                    .iter()
                    .filter(|(_, r)| !r.values.is_organizer)
                    .map(|(id, _)| *id)
                    .collect();
                if attended.is_empty() {
                    return Ok(());
                }
                let id = attended[pick.index(attended.len())];
                let answers = [
                    OdooAttendeeState::Accepted,
                    OdooAttendeeState::Declined,
                    OdooAttendeeState::Tentative,
                ];
                let answer = answers[answer.index(answers.len())];
                self.odoo.records.get_mut(&id).unwrap().values.own_state = Some(answer);
                self.odoo.touch(id);
                *self.segment.responds.entry(id).or_default() += 1;
            }
            Step::OdooAttend { day, hour } => {
                let name = self.fresh("Awaited");
                let mut values = odoo_event(&name, *day, *hour, 1);
                values.is_organizer = false;
                values.organizer_email = Some(ORGANISER.into());
                values.own_state = Some(OdooAttendeeState::NeedsAction);
                let id = self.odoo.insert(values);
                self.odoo.touch(id);
                self.awaited.push(id);
                let content = odoo_content(&self.odoo.records[&id].values);
                self.segment
                    .touched
                    .insert(Touched::Odoo(id), Some(content));
            }
            Step::OrgSendsAwaited { pick } => {
                self.clear_outbox().await;
                let linked: HashSet<&str> = self
                    .odoo
                    .state
                    .links
                    .iter()
                    .map(|l| l.status.local_id.as_str())
                    .collect();
                let waiting: Vec<i64> = self
                    .awaited
                    .iter()
                    .copied()
                    .filter(|id| {
                        self.odoo.records.contains_key(id)
                            && !linked.contains(id.to_string().as_str())
                    })
                    .collect();
                if waiting.is_empty() {
                    return Ok(());
                }
                let id = waiting[pick.index(waiting.len())];
                self.awaited.retain(|a| *a != id);
                let values = &self.odoo.records[&id].values;
                let (subject, start, end, location) = odoo_content(values);
                let mut meeting = json!({
                    "subject": subject,
                    "start": {"dateTime": format!("{start}:00"), "timeZone": "UTC"},
                    "end": {"dateTime": format!("{end}:00"), "timeZone": "UTC"},
                    "location": {"displayName": location},
                });
                self.org_send(&mut meeting).await;
                let org_id = self.org.last().unwrap().0.clone();
                let ical_uid = self.org_ical_uid(&org_id).await;
                self.in_flight.push(InFlight {
                    local_id: id,
                    org_id,
                    ical_uid,
                });
            }
            Step::Sync {
                faults,
                crash,
                delta,
                fail_local,
            } => {
                for fault in faults {
                    let mut body = match fault.kind {
                        FaultKind::Throttle429 => json!({"kind": "throttle", "retry_after": "0"}),
                        FaultKind::Throttle503 => {
                            json!({"kind": "throttle", "status": 503, "retry_after": "0"})
                        }
                        FaultKind::Error500 => json!({"kind": "error", "status": 500}),
                        FaultKind::LoseResponse => json!({"kind": "lose_response"}),
                        FaultKind::Reset => json!({"kind": "reset"}),
                    };
                    if let Some(method) = fault.method {
                        body["method"] = json!(method);
                    }
                    if let Some(path) = fault.path {
                        body["path_contains"] = json!(path);
                    }
                    self.control(reqwest::Method::POST, "/_emulator/faults", Some(body))
                        .await;
                }
                self.clear_outbox().await;
                let journaled = self.odoo.sent.len();
                let result = self.run_journaled(*delta).await;
                // Confirmed writes, and writes never answered (the journal's policy takes them
                // as delivered: in this model a crashed run ran to its end, so a write without an
                // answer had its response lost after it took effect, or its connection reset
                // before; the latter is the policy's known cost, which the run reports).
                let mut last: BTreeMap<&str, Delivery> = BTreeMap::new();
                for write in &self.odoo.sent[journaled..] {
                    last.insert(&write.link.status.local_id, write.delivery);
                }
                let delivered: Vec<i64> = last
                    .into_iter()
                    .filter(|(_, delivery)| *delivery != Delivery::Refused)
                    .filter_map(|(id, _)| id.parse().ok())
                    .collect();
                self.figures.sync_runs += 1;
                self.segment.mails.extend(self.outbox().await);
                self.count_faults_met(faults).await;
                self.control(reqwest::Method::DELETE, "/_emulator/faults", None)
                    .await;
                match result {
                    // A crash after the writes: the addon never sees the output (but the test
                    // keeps the conflicts it reported, whose losing versions a person would
                    // otherwise not find).
                    Ok(output) if *crash => {
                        let _ = writeln!(self.log, "  crashed: {:?}", counts(&output));
                        self.figures.fault("crash_mid_run", 1);
                        self.note(&output);
                        // The journal holds these: the Odoo edits reached Outlook as surely as a
                        // committed run's, so a later edit of either side supersedes them.
                        for id in delivered {
                            self.segment.touched.remove(&Touched::Odoo(id));
                        }
                    }
                    Ok(output) => {
                        let _ = writeln!(self.log, "  completed: {:?}", counts(&output));
                        if faults.is_empty() {
                            self.check_mail_report(&output).await?;
                        }
                        self.note(&output);
                        if self.odoo.commit(output, *fail_local) {
                            self.figures.fault("odoo_write_refused", 1);
                        }
                        return self.settle_and_check().await;
                    }
                    Err(error) => {
                        let _ = writeln!(self.log, "  failed as a whole: {error}");
                    }
                }
            }
        }
        Ok(())
    }

    /// Counts the queued `faults` a request met: those the emulator no longer holds.
    async fn count_faults_met(&mut self, faults: &[Fault]) {
        let left = self
            .control(reqwest::Method::GET, "/_emulator/faults", None)
            .await;
        let mut met: BTreeMap<&'static str, isize> = BTreeMap::new();
        for fault in faults {
            *met.entry(fault.kind.label()).or_default() += 1;
        }
        for fault in left["faults"].as_array().into_iter().flatten() {
            let count = fault["count"].as_u64().unwrap_or(1);
            *met.entry(FaultKind::label_of_queued(fault)).or_default() -= count as isize;
        }
        for (name, count) in met {
            self.figures.fault(name, count.max(0).unsigned_abs());
        }
    }

    fn note(&mut self, output: &RunOutput) {
        self.segment.remember(&output.state, &output.local_ops);
        self.segment.kept.extend(
            output
                .report
                .attendee_notes
                .iter()
                .filter(|n| {
                    matches!(
                        n.kind,
                        AttendeeNoteKind::OrganizerVersionKept
                            | AttendeeNoteKind::RemovedWithOdooChanges
                    )
                })
                .filter_map(|n| n.local_id.clone()),
        );
        self.segment
            .conflicts
            .extend(output.report.conflicts.iter().map(|c| c.conflict.clone()));
    }

    /// A run without faults mails exactly what its report says (the outbox was emptied before it).
    async fn check_mail_report(&self, output: &RunOutput) -> Result<(), String> {
        let outbox = self.outbox().await;
        let kind = |k: &str| outbox.iter().filter(|m| m["kind"] == k).count();
        let mails = &output.report.mails;
        ensure!(
            self,
            (
                kind("invitation"),
                kind("update"),
                kind("cancellation"),
                outbox.len()
            ) == (
                mails.invitations,
                mails.updates,
                mails.cancellations,
                mails.total()
            ),
            "run reported mails {mails:?}, outbox holds {outbox:#?}"
        );
        Ok(())
    }

    /// One run as the addon makes it: the journal of uncommitted runs handed in, and each write
    /// Outlook confirms added to it at once (it survives a crash of this run).
    async fn run_journaled(&mut self, delta: bool) -> Result<RunOutput, RunError> {
        let input = RunInput {
            state: self.odoo.state.clone(),
            local: self.odoo.listing(delta),
            sent: self.odoo.sent.clone(),
        };
        let journal = std::sync::Mutex::new(Vec::new());
        let result = run_journaled(&self.client, input, &self.options, &|writes| {
            journal.lock().unwrap().extend(writes);
        })
        .await;
        self.odoo.sent.extend(journal.into_inner().unwrap());
        result
    }

    async fn sync_clean(&mut self) -> Result<RunOutput, String> {
        self.clear_outbox().await;
        let result = self.run_journaled(false).await;
        self.figures.sync_runs += 1;
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                ensure!(self, false, "a run without faults failed: {error}");
                unreachable!()
            }
        };
        ensure!(
            self,
            output.report.failures.is_empty(),
            "a run without faults had failures: {:#?}",
            output.report.failures
        );
        self.check_mail_report(&output).await?;
        self.segment.mails.extend(self.outbox().await);
        self.note(&output);
        self.odoo.commit(output.clone(), None);
        Ok(output)
    }

    /// Runs without faults, checks the invariants, and starts a new segment.
    async fn settle_and_check(&mut self) -> Result<(), String> {
        let settle = self.sync_clean().await?;
        let _ = writeln!(self.log, "  settled: {:?}", counts(&settle));
        let (lost, duplicates) = self.census(&self.outlook().await);
        self.check_same_events().await?;
        self.check_no_lost_edit().await?;
        // What the checks above might let through still fails the case.
        ensure!(
            self,
            lost == 0 && duplicates == 0,
            "{lost} item(s) lost and {duplicates} duplicate(s) after a settled run"
        );
        self.check_mails().await?;

        // Nothing changed: the echo of our writes plans nothing, writes nothing, mails no one.
        self.control(reqwest::Method::DELETE, "/_emulator/requests", None)
            .await;
        let echo = self.sync_clean().await?;
        let requests = self
            .control(reqwest::Method::GET, "/_emulator/requests", None)
            .await;
        let writes: Vec<(&String, &Value)> = requests["by_route"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, n)| {
                n.as_u64() != Some(0)
                    && ["POST /v1.0/me/events", "PATCH", "DELETE"]
                        .iter()
                        .any(|w| route.starts_with(w))
            })
            .collect();
        ensure!(
            self,
            writes.is_empty() && echo.report.planned.is_empty() && echo.local_ops.is_empty(),
            "a run after a settled one wrote {writes:?}, planned {:#?}",
            echo.report.planned
        );
        ensure!(
            self,
            self.outbox().await.is_empty(),
            "a run after a settled one mailed"
        );
        // And then an idle run costs the delta only.
        self.control(reqwest::Method::DELETE, "/_emulator/requests", None)
            .await;
        let idle = self.sync_clean().await?;
        let requests = self
            .control(reqwest::Method::GET, "/_emulator/requests", None)
            .await;
        let other: Vec<(&String, &Value)> = requests["by_route"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(route, n)| n.as_u64() != Some(0) && !route.contains("/delta"))
            .collect();
        ensure!(
            self,
            other.is_empty() && idle.report.planned.is_empty(),
            "an idle run issued {other:?} besides the delta ({requests})"
        );

        // An answer given in Odoo to a meeting still waiting for its invitation is sent once the
        // copy arrives and is linked, in a later segment: it is still owed then.
        let linked: HashSet<&str> = self
            .odoo
            .state
            .links
            .iter()
            .map(|l| l.status.local_id.as_str())
            .collect();
        let owed: HashMap<i64, usize> = std::mem::take(&mut self.segment.responds)
            .into_iter()
            .filter(|(id, _)| !linked.contains(id.to_string().as_str()))
            .collect();
        self.segment = Segment {
            odoo_before: self
                .odoo
                .records
                .iter()
                .map(|(id, r)| (*id, odoo_content(&r.values)))
                .collect(),
            responds: owed,
            ..Segment::default()
        };
        self.segment.remember(&self.odoo.state, &[]);
        Ok(())
    }

    /// One-to-one through the links, same content on both sides.
    async fn check_same_events(&self) -> Result<(), String> {
        let outlook: HashMap<String, Value> = self
            .outlook()
            .await
            .into_iter()
            .map(|e| (e["id"].as_str().unwrap().to_owned(), e))
            .collect();
        let links = &self.odoo.state.links;
        let locals: HashSet<&str> = links.iter().map(|l| l.status.local_id.as_str()).collect();
        let remotes: HashSet<&str> = links.iter().map(|l| l.status.remote_id.as_str()).collect();
        ensure!(
            self,
            locals.len() == links.len() && remotes.len() == links.len(),
            "an id is linked twice: {links:#?}"
        );
        // Meetings the owner attends and the organiser has not sent stay in Odoo only, unlinked.
        let waiting: BTreeMap<i64, Content> = self
            .odoo
            .records
            .iter()
            .filter(|(id, r)| !r.values.is_organizer && !locals.contains(id.to_string().as_str()))
            .map(|(id, r)| (*id, odoo_content(&r.values)))
            .collect();
        let odoo: BTreeMap<i64, Content> = self
            .odoo
            .records
            .iter()
            .filter(|(id, _)| !waiting.contains_key(id))
            .map(|(id, r)| (*id, odoo_content(&r.values)))
            .collect();
        let outlook_content_by_id: BTreeMap<&str, Content> = outlook
            .iter()
            .map(|(id, e)| (id.as_str(), outlook_content(e)))
            .collect();
        ensure!(
            self,
            waiting
                .values()
                .all(|w| !outlook_content_by_id.values().any(|c| c == w)),
            "an awaited Odoo meeting has its copy in the mailbox but is not linked: {waiting:#?}"
        );
        self.check_organizer_rules(&outlook).await?;
        ensure!(
            self,
            links.len() == odoo.len() && links.len() == outlook.len(),
            "not one-to-one: {} links, Odoo {odoo:#?}, Outlook {outlook_content_by_id:#?}",
            links.len()
        );
        for link in links {
            let local: i64 = link.status.local_id.parse().unwrap_or(-1);
            let (Some(a), Some(b)) = (
                odoo.get(&local),
                outlook_content_by_id.get(link.status.remote_id.as_str()),
            ) else {
                ensure!(self, false, "a link points at nothing: {link:?}");
                unreachable!()
            };
            ensure!(
                self,
                a == b,
                "linked events differ: Odoo {local} {a:?}, Outlook {} {b:?}",
                link.status.remote_id
            );
        }
        Ok(())
    }

    /// No meeting exists twice in the owner's mailbox, and the owner never organizes a copy of a
    /// meeting they were invited to (nor of one Odoo was waiting for); the organiser's mailbox
    /// holds only its own meetings, once each.
    async fn check_organizer_rules(&self, outlook: &HashMap<String, Value>) -> Result<(), String> {
        let mut uids = HashSet::new();
        for event in outlook.values() {
            let uid = event["iCalUId"].as_str().unwrap_or_default();
            ensure!(
                self,
                uids.insert(uid),
                "a meeting exists twice in the owner's mailbox: {uid}"
            );
        }
        let org_events = self
            .control(
                reqwest::Method::GET,
                &format!("/_emulator/mailboxes/{ORGANISER}/events"),
                None,
            )
            .await;
        let org_events = org_events["value"].as_array().unwrap();
        // A cancellation deletes the organiser's event.
        let open = self.org.iter().filter(|(_, cancelled)| !cancelled).count();
        ensure!(
            self,
            org_events.len() == open,
            "the organiser's mailbox holds {} events, {open} were made and not cancelled",
            org_events.len()
        );
        let invited: HashSet<&str> = org_events
            .iter()
            .filter_map(|e| e["iCalUId"].as_str())
            .collect();
        for link in &self.odoo.state.links {
            let (Ok(local), Some(event)) = (
                link.status.local_id.parse::<i64>(),
                outlook.get(&link.status.remote_id),
            ) else {
                continue;
            };
            let attends = self
                .odoo
                .records
                .get(&local)
                .is_some_and(|r| !r.values.is_organizer);
            let organizes = event["isOrganizer"] == true;
            let uid = event["iCalUId"].as_str().unwrap_or_default();
            ensure!(
                self,
                !(organizes && (attends || invited.contains(uid))),
                "the owner organizes a copy of a meeting they attend: Odoo {local}, {event:#}"
            );
        }
        Ok(())
    }

    /// Every edit since the last check is on both sides, unless a conflict was reported on it.
    async fn check_no_lost_edit(&self) -> Result<(), String> {
        let lost = self.lost_edits(&self.outlook().await);
        ensure!(
            self,
            lost.is_empty(),
            "{}",
            lost.iter()
                .map(|(_, what)| what.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        Ok(())
    }

    /// The edits since the last check that are not on both sides and had no conflict reported,
    /// each with what is wrong.
    fn lost_edits(&self, outlook: &[Value]) -> Vec<(Touched, String)> {
        let outlook: HashMap<&str, Content> = outlook
            .iter()
            .map(|e| (e["id"].as_str().unwrap(), outlook_content(e)))
            .collect();
        let mut lost = Vec::new();
        for (key, expected) in &self.segment.touched {
            let (local, remote, now) = match key {
                Touched::Odoo(id) => (
                    Some(*id),
                    None,
                    self.odoo.records.get(id).map(|r| odoo_content(&r.values)),
                ),
                Touched::Outlook(index) => {
                    let id = self.segment.outlook_ids[*index].as_str();
                    (None, Some(id), outlook.get(id).cloned())
                }
            };
            // Edited back to what was synced (or to the same value): nothing changed.
            let before = match key {
                Touched::Odoo(id) => self.segment.odoo_before.get(id),
                Touched::Outlook(_) => self.segment.outlook_before.get(key),
            };
            let changed = expected.as_ref() != before;
            // Meeting fields the owner edited in Odoo on a meeting they only attend give way to
            // the organiser's, or to the removal of the owner's copy (reported).
            let kept = local.is_some_and(|l| self.segment.kept.contains(&l.to_string()));
            if changed && &now != expected && !kept && !self.segment.in_conflict(local, remote) {
                lost.push((
                    *key,
                    format!(
                        "lost edit of {key:?} (Outlook id {remote:?}): expected {expected:?}, \
                         now {now:?}, with no conflict reported"
                    ),
                ));
            }
        }
        lost
    }

    /// Counts, for the figures, the changes checked after a settled run and the items lost or
    /// duplicated, whichever check fails first; returns (lost, duplicates).
    ///
    /// Subjects are unique by construction (each create and subject edit makes a fresh one), so
    /// the same subject twice on one side is an extra copy, as is a meeting (iCalUId) twice in
    /// the mailbox. An event on one side only (beyond the meetings Odoo awaits) is a create or a
    /// deletion that did not cross; linked events that differ carry an edit that did not.
    fn census(&mut self, outlook: &[Value]) -> (usize, usize) {
        let links = &self.odoo.state.links;
        let mut duplicates = 0;
        let mut linked_locals = HashSet::new();
        let mut linked_remotes = HashSet::new();
        for link in links {
            let local = linked_locals.insert(link.status.local_id.as_str());
            let remote = linked_remotes.insert(link.status.remote_id.as_str());
            duplicates += usize::from(!(local && remote));
        }
        let mut names = HashSet::new();
        let mut odoo_extra = HashSet::new();
        for (id, record) in &self.odoo.records {
            if !names.insert(record.values.name.as_deref().unwrap_or_default()) {
                odoo_extra.insert(*id);
            }
        }
        let (mut subjects, mut uids) = (HashSet::new(), HashSet::new());
        let mut outlook_extra = HashSet::new();
        for event in outlook {
            let subject = event["subject"].as_str().unwrap_or_default();
            let uid = event["iCalUId"].as_str().unwrap_or_default();
            let fresh_subject = subjects.insert(subject);
            let fresh_uid = uid.is_empty() || uids.insert(uid);
            if !(fresh_subject && fresh_uid) {
                outlook_extra.insert(event["id"].as_str().unwrap_or_default());
            }
        }
        duplicates += odoo_extra.len() + outlook_extra.len();

        // Wrong items, by the Odoo id of their pair when linked (so one loss counts once).
        let local_of: HashMap<&str, &str> = links
            .iter()
            .map(|l| (l.status.remote_id.as_str(), l.status.local_id.as_str()))
            .collect();
        let outlook_by_id: HashMap<&str, &Value> = outlook
            .iter()
            .map(|e| (e["id"].as_str().unwrap_or_default(), e))
            .collect();
        let mut wrong: HashSet<String> = HashSet::new();
        for (id, record) in &self.odoo.records {
            let linked = linked_locals.contains(id.to_string().as_str());
            // Meetings the owner attends and the organiser has not sent stay unlinked.
            let awaited = !record.values.is_organizer;
            if !linked && !awaited && !odoo_extra.contains(id) {
                wrong.insert(format!("odoo {id}"));
            }
        }
        for (id, event) in &outlook_by_id {
            if !linked_remotes.contains(id) && !outlook_extra.contains(id) {
                wrong.insert(format!("outlook {id}"));
                continue;
            }
            let Some(local) = local_of.get(id) else {
                continue;
            };
            let odoo = local
                .parse::<i64>()
                .ok()
                .and_then(|l| self.odoo.records.get(&l));
            if odoo.is_none_or(|r| odoo_content(&r.values) != outlook_content(event)) {
                wrong.insert(format!("odoo {local}"));
            }
        }
        for link in links {
            if !outlook_by_id.contains_key(link.status.remote_id.as_str()) {
                wrong.insert(format!("odoo {}", link.status.local_id));
            }
        }
        for (key, _) in self.lost_edits(outlook) {
            wrong.insert(match key {
                Touched::Odoo(id) => format!("odoo {id}"),
                Touched::Outlook(index) => {
                    let remote = self.segment.outlook_ids[index].as_str();
                    local_of
                        .get(remote)
                        .map_or_else(|| format!("outlook {remote}"), |l| format!("odoo {l}"))
                }
            });
        }
        self.figures.items_checked += self.segment.touched.len();
        self.figures.items_lost += wrong.len();
        self.figures.duplicates += duplicates;
        (wrong.len(), duplicates)
    }

    /// Mails only for real changes, and for each of them.
    async fn check_mails(&self) -> Result<(), String> {
        let segment = &self.segment;
        let mut per: HashMap<(String, String, String), usize> = HashMap::new();
        for mail in &segment.mails {
            let key = (
                mail["kind"].as_str().unwrap_or_default().to_owned(),
                mail["event_id"].as_str().unwrap_or_default().to_owned(),
                mail["to"].as_str().unwrap_or_default().to_owned(),
            );
            *per.entry(key).or_default() += 1;
        }
        let locals_of = |remote: &str| -> Vec<i64> {
            segment
                .pairs
                .iter()
                .filter(|(_, r)| r == remote)
                .filter_map(|(l, _)| l.parse().ok())
                .collect()
        };
        for ((kind, event, to), n) in &per {
            let locals = locals_of(event);
            let organised = self.org.iter().any(|(id, _)| id == event);
            let allowed = match kind.as_str() {
                "invitation" => 1,
                "update" if organised => segment.org_edits.get(event).copied().unwrap_or(0),
                "cancellation" if organised => usize::from(segment.org_cancelled.contains(event)),
                // The owner's answers, to the organiser, about the owner's copy.
                "response" => locals
                    .iter()
                    .map(|l| segment.responds.get(l).copied().unwrap_or(0))
                    .sum(),
                // Each Odoo edit, and each conflict Odoo's version won over an Outlook edit.
                "update" => {
                    let edits: usize = locals
                        .iter()
                        .map(|l| segment.odoo_edits.get(l).copied().unwrap_or(0))
                        .sum();
                    let won = segment
                        .conflicts
                        .iter()
                        .filter(|c| c.remote.id == *event && c.winner == Side::Local)
                        .count();
                    edits + won
                }
                "cancellation" => {
                    usize::from(locals.iter().any(|l| segment.odoo_deleted.contains(l)))
                }
                _ => 0,
            };
            ensure!(
                self,
                *n <= allowed,
                "{n} {kind} mails to {to} for Outlook event {event} (Odoo {locals:?}), at most \
                 {allowed} expected"
            );
        }
        // Each surviving Odoo create and each surviving Odoo change of a meeting mailed.
        for link in &self.odoo.state.links {
            let Ok(local) = link.status.local_id.parse::<i64>() else {
                continue;
            };
            let record = &self.odoo.records[&local];
            let remote = link.status.remote_id.as_str();
            if record.values.attendees.is_empty()
                || !record.values.is_organizer
                || segment.in_conflict(Some(local), Some(remote))
            {
                continue;
            }
            let mailed = |kind: &str| {
                record.values.attendees.iter().all(|a| {
                    let to = a.email.clone().unwrap_or_default();
                    per.get(&(kind.to_owned(), remote.to_owned(), to))
                        .is_some_and(|n| *n > 0)
                })
            };
            if segment.odoo_created.contains(&local) {
                ensure!(
                    self,
                    mailed("invitation"),
                    "Odoo event {local} was created with attendees but not everyone was invited"
                );
            } else if let Some(Some(edited)) = segment.touched.get(&Touched::Odoo(local))
                && segment.odoo_before.get(&local) != Some(edited)
                && *edited == odoo_content(&record.values)
            {
                ensure!(
                    self,
                    mailed("update"),
                    "Odoo meeting {local} changed but not every attendee got an update"
                );
            }
        }
        Ok(())
    }
}

fn graph_event(subject: &str, day: i8, hour: i8) -> Value {
    let (start, end) = start_end(day, hour);
    json!({
        "subject": subject,
        "start": {"dateTime": start.to_string(), "timeZone": "UTC"},
        "end": {"dateTime": end.to_string(), "timeZone": "UTC"},
    })
}

fn counts(output: &RunOutput) -> String {
    let r = &output.report;
    format!(
        "outlook {:?}, odoo {:?}, conflicts {}, mails {:?}, failures {:?}",
        r.remote,
        r.local,
        r.conflicts.len(),
        r.mails,
        r.failures.iter().map(|f| &f.reason).collect::<Vec<_>>()
    )
}

async fn check_case(case: Case, figures: &RefCell<Figures>) -> Result<(), String> {
    let mut world = World::new(case.policy).await;
    let mut result = world.setup(&case).await;
    for step in &case.steps {
        if result.is_err() {
            break;
        }
        result = world.apply(step).await;
    }
    if result.is_ok() {
        // The changes made since the case's last completed run are checked too.
        result = world.settle_and_check().await;
    }
    // A failing case's figures count too: they are what shows the loss.
    figures
        .borrow_mut()
        .add_case(&world.figures, result.is_err());
    result
}

#[test]
fn random_edits_faults_and_runs_keep_both_sides_in_sync() {
    let config = ProptestConfig {
        cases: env_number("PROPTEST_CASES", 16),
        max_shrink_iters: 64,
        // Failures persist beside this file, in `state_machine.proptest-regressions`.
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let figures = RefCell::new(Figures::default());
    let result = runner.run(&case(), |case| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(check_case(case, &figures))
            .map_err(TestCaseError::fail)
    });
    // The long form's figures (`make adversarial` collects this line); the test harness keeps it
    // to itself in a short run that passes.
    println!(
        "{}",
        figures.borrow().summary_line(
            env_number("SYNC_SM_STEPS", 8),
            if result.is_ok() { "passed" } else { "FAILED" }
        )
    );
    if let Err(error) = result {
        panic!("{error}\n{runner}");
    }
}
