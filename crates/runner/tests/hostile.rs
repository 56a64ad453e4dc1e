//! A whole sync run against the Graph emulator with hostile items mixed into good ones, on both
//! sides: 100,000-character subjects and bodies, bodies with `<script>`, `onerror=` and a tracking
//! pixel, 500 attendees, invalid and duplicate addresses, an unknown time zone, recurrences with
//! absurd counts or end dates, events in 1900 and 2200 (and in year 1, which Outlook cannot store).
//!
//! The run completes; the good events are synced both ways; every bad item that cannot be synced is
//! in the report's failures (or unsupported) with a reason naming the item; no script reaches the
//! Odoo writes; nothing panics. Prints `hostile-input: suite=whole_sync ...` with `--nocapture`:
//!
//! ```text
//! cargo test -p outlook-runner --test hostile -- --nocapture
//! ```
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use jiff::Timestamp;
use outlook_emulator::EmulatorHandle;
use outlook_graph::{ClientOptions, Endpoints, GraphClient, Secret, TokenSet, http_client};
use outlook_model::odoo::OdooEvent;
use outlook_runner::{
    FirstSync, LocalAction, LocalEvent, LocalListing, RunInput, RunOptions, RunOutput, SyncState,
    run,
};
use serde_json::{Value, json};

const MAILBOX: &str = "owner@contoso.com";
const HUGE: usize = 100_000;
const HOSTILE_BODY: &str = "<p>Visible agenda</p><script>alert('pwned')</script>\
    <img src=\"https://example.com/x.png\" onerror=\"alert(1)\" alt=\"x\">\
    <img src=\"https://tracker.example/pixel.gif\" width=\"1\" height=\"1\">\
    <a href=\"javascript:alert(2)\">click</a><iframe src=\"https://evil.example\"></iframe>";

struct Env {
    emulator: EmulatorHandle,
    http: reqwest::Client,
    client: GraphClient,
}

impl Env {
    async fn new() -> Env {
        let emulator = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let http = reqwest::Client::new();
        let base = emulator.base_url().to_owned();
        let tokens: Value = http
            .post(format!("{base}/_emulator/mailboxes/{MAILBOX}/token"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let options = ClientOptions {
            max_attempts: 3,
            log_label: MAILBOX.into(),
            ..ClientOptions::default()
        };
        let client = GraphClient::new(
            http_client(&options).unwrap(),
            Endpoints {
                login_url: base.clone(),
                tenant: "common".into(),
                graph_url: base,
            },
            None,
            TokenSet {
                access_token: Secret::from(tokens["access_token"].as_str().unwrap().to_owned()),
                refresh_token: None,
                expires_at: Timestamp::now() + jiff::SignedDuration::from_hours(1),
                scope: None,
            },
            options,
        );
        Env {
            emulator,
            http,
            client,
        }
    }

    /// Seeds one event as the mailbox owner; the emulator validates it as Graph does.
    async fn seed_one(&self, event: Value) -> Result<String, Value> {
        let response = self
            .http
            .post(format!(
                "{}/_emulator/mailboxes/{MAILBOX}/seed",
                self.emulator.base_url()
            ))
            .json(&json!({ "events": [event] }))
            .send()
            .await
            .unwrap();
        let ok = response.status().is_success();
        let body: Value = response.json().await.unwrap();
        if ok {
            Ok(body["ids"][0].as_str().unwrap().to_owned())
        } else {
            Err(body)
        }
    }

    async fn outlook(&self) -> Vec<Value> {
        let body: Value = self
            .http
            .get(format!(
                "{}/_emulator/mailboxes/{MAILBOX}/events",
                self.emulator.base_url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(body["value"].clone()).unwrap()
    }
}

/// The addon reduced to what the runner needs, applying a run's output as the contract says.
#[derive(Default)]
struct Odoo {
    records: BTreeMap<i64, OdooEvent>,
    state: SyncState,
    next_id: i64,
}

impl Odoo {
    fn add(&mut self, values: Value) -> i64 {
        let mut values = OdooEvent::from_json(&values).unwrap();
        self.next_id += 1;
        values.id = Some(self.next_id);
        self.records.insert(self.next_id, values);
        self.next_id
    }

    async fn sync(&mut self, env: &Env) -> RunOutput {
        let input = RunInput {
            state: self.state.clone(),
            local: LocalListing::Full {
                events: self
                    .records
                    .values()
                    .map(|values| LocalEvent {
                        values: values.clone(),
                        modified_at: None,
                        organizer_syncs: false,
                    })
                    .collect(),
            },
            sent: Vec::new(),
        };
        let output = run(&env.client, input, &options()).await.unwrap();
        let mut state = output.state.clone();
        for write in output.local_ops.clone() {
            match write.action {
                LocalAction::Create => {
                    self.next_id += 1;
                    let mut values = write.values.unwrap();
                    values.id = Some(self.next_id);
                    self.records.insert(self.next_id, values);
                    let mut link = write.link.unwrap();
                    link.status.local_id = self.next_id.to_string();
                    state.links.push(link);
                }
                LocalAction::Update => {
                    let id = write.local_id.unwrap();
                    let mut values = write.values.unwrap();
                    values.id = Some(id);
                    self.records.insert(id, values);
                    state.links.push(write.link.unwrap());
                }
                LocalAction::Delete => {
                    self.records.remove(&write.local_id.unwrap());
                }
            }
        }
        self.state = state;
        output
    }

    fn named(&self, name: &str) -> Option<&OdooEvent> {
        self.records
            .values()
            .find(|r| r.name.as_deref() == Some(name))
    }
}

fn options() -> RunOptions {
    RunOptions {
        mailbox: MAILBOX.into(),
        policy: Default::default(),
        first_sync: FirstSync::All,
        dry_run: false,
        transaction_salt: "db-1/link-hostile".into(),
        window_start: "2026-01-01T00:00:00Z".parse().unwrap(),
        window_end: "2027-01-01T00:00:00Z".parse().unwrap(),
        now: "2026-03-01T00:00:00Z".parse().unwrap(),
    }
}

fn graph_event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    })
}

fn odoo_event(name: &str, start: &str, stop: &str) -> Value {
    json!({
        "name": name, "start": start, "stop": stop, "event_tz": "Europe/Brussels",
        "organizer_email": MAILBOX, "is_organizer": true,
        "attendees": [{"email": "ann@fabrikam.com", "name": "Ann", "state": "needsAction"}],
    })
}

fn attendees_json(addresses: &[String]) -> Value {
    addresses
        .iter()
        .map(|a| json!({"emailAddress": {"address": a, "name": a}, "type": "required"}))
        .collect()
}

#[tokio::test]
async fn a_whole_sync_with_hostile_items_completes_and_reports_each_bad_one() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();

    // ---- Outlook side: good events, and what Graph accepts however hostile.
    let huge_subject = "S".repeat(HUGE);
    let mut outlook_good = vec![
        env.seed_one(graph_event(
            "Good Outlook meeting",
            "2026-06-02T11:00:00",
            "2026-06-02T12:00:00",
        ))
        .await
        .unwrap(),
    ];
    let mut series = graph_event(
        "Good Outlook series",
        "2026-06-01T09:00:00",
        "2026-06-01T09:30:00",
    );
    series["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 5},
    });
    outlook_good.push(env.seed_one(series).await.unwrap());

    let mut huge = graph_event(&huge_subject, "2026-06-04T11:00:00", "2026-06-04T12:00:00");
    huge["body"] =
        json!({"contentType": "html", "content": format!("<p>{}</p>", "B".repeat(HUGE))});
    let huge_id = env.seed_one(huge).await.unwrap();

    let mut scripted = graph_event(
        "Scripted body",
        "2026-06-05T11:00:00",
        "2026-06-05T12:00:00",
    );
    scripted["body"] = json!({"contentType": "html", "content": HOSTILE_BODY});
    env.seed_one(scripted).await.unwrap();

    // 500 attendees, the most Graph takes, some of them with odd or repeated addresses.
    let mut crowd: Vec<String> = (0..494).map(|i| format!("guest{i}@fabrikam.com")).collect();
    crowd.extend(
        [
            "GUEST1@FABRIKAM.COM",
            "not-an-address",
            "",
            "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=x",
            "guest2@fabrikam.com",
            "a b@c.d",
        ]
        .map(str::to_owned),
    );
    let mut crowded = graph_event("Crowded", "2026-06-08T11:00:00", "2026-06-08T12:00:00");
    crowded["attendees"] = attendees_json(&crowd);
    env.seed_one(crowded).await.unwrap();

    // Graph accepts up to 999,999 occurrences and any end date; the model refuses both by name.
    let mut absurd_count =
        graph_event("Absurd count", "2026-06-01T07:00:00", "2026-06-01T07:15:00");
    absurd_count["recurrence"] = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-06-01", "numberOfOccurrences": 999_999},
    });
    let absurd_count_id = env.seed_one(absurd_count).await.unwrap();
    let mut far_end = graph_event("Far end", "2026-06-01T08:00:00", "2026-06-01T08:15:00");
    far_end["recurrence"] = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "endDate", "startDate": "2026-06-01", "endDate": "9999-12-31"},
    });
    let far_end_id = env.seed_one(far_end).await.unwrap();

    // Outside the sync window: never listed, never in the way.
    env.seed_one(graph_event(
        "Outlook 1900",
        "1900-03-01T10:00:00",
        "1900-03-01T11:00:00",
    ))
    .await
    .unwrap();
    env.seed_one(graph_event(
        "Outlook 2200",
        "2200-03-01T10:00:00",
        "2200-03-01T11:00:00",
    ))
    .await
    .unwrap();

    // What Graph itself refuses never reaches us: an unknown zone, a count of 10^9, 501 attendees.
    let mut unknown_zone = graph_event("Mars", "2026-06-09T11:00:00", "2026-06-09T12:00:00");
    unknown_zone["start"]["timeZone"] = json!("Mars/Olympus_Mons");
    let mut billion = graph_event("Billion", "2026-06-09T11:00:00", "2026-06-09T12:00:00");
    billion["recurrence"] = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-06-09", "numberOfOccurrences": 1_000_000_000},
    });
    let mut mob = graph_event("Mob", "2026-06-09T11:00:00", "2026-06-09T12:00:00");
    mob["attendees"] = attendees_json(
        &(0..501)
            .map(|i| format!("m{i}@fabrikam.com"))
            .collect::<Vec<_>>(),
    );
    for refused in [unknown_zone, billion, mob] {
        let subject = refused["subject"].clone();
        let error = env.seed_one(refused).await.unwrap_err();
        assert!(error["error"].is_string(), "{subject}: {error}");
    }

    // ---- Odoo side: good records, and hostile ones.
    let good_local = odoo.add(odoo_event(
        "Good Odoo meeting",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
    ));
    let mut huge_local = odoo_event(
        &"O".repeat(HUGE),
        "2026-06-10 08:00:00",
        "2026-06-10 09:00:00",
    );
    huge_local["description"] = json!(format!("{HOSTILE_BODY}{}", "D".repeat(HUGE)));
    odoo.add(huge_local);
    let mut crowd_local = odoo_event("Odoo crowd", "2026-06-11 08:00:00", "2026-06-11 09:00:00");
    crowd_local["attendees"] = crowd
        .iter()
        .chain(
            [
                "guest3@fabrikam.com".to_owned(),
                "Guest4@Fabrikam.com".to_owned(),
            ]
            .iter(),
        )
        .map(|a| json!({"email": a, "name": a, "state": "needsAction"}))
        .collect();
    odoo.add(crowd_local);
    let mut mars = odoo_event("Odoo on Mars", "2026-06-12 08:00:00", "2026-06-12 09:00:00");
    mars["event_tz"] = json!("Mars/Olympus_Mons");
    let mars_id = odoo.add(mars);
    let mut count_local = odoo_event(
        "Odoo absurd count",
        "2026-06-15 08:00:00",
        "2026-06-15 09:00:00",
    );
    count_local["recurrence"] = json!({
        "rrule_type": "weekly", "interval": 1, "end_type": "count", "count": 1_000_000_000, "mon": true,
    });
    let count_local_id = odoo.add(count_local);
    let mut until_local = odoo_event("Odoo far end", "2026-06-15 10:00:00", "2026-06-15 11:00:00");
    until_local["recurrence"] = json!({
        "rrule_type": "daily", "interval": 1, "end_type": "end_date", "until": "9999-12-31",
    });
    let until_local_id = odoo.add(until_local);
    odoo.add(odoo_event(
        "Odoo 1900",
        "1900-03-01 10:00:00",
        "1900-03-01 11:00:00",
    ));
    odoo.add(odoo_event(
        "Odoo 2200",
        "2200-03-01 10:00:00",
        "2200-03-01 11:00:00",
    ));
    let year_one = odoo.add(odoo_event(
        "Odoo year one",
        "0001-01-01 10:00:00",
        "0001-01-01 11:00:00",
    ));

    // ---- The run.
    let output = odoo.sync(&env).await;
    let report = &output.report;
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| {
            format!(
                "{:?} {} local={:?} remote={:?}: {}",
                f.side,
                f.action,
                f.local_id,
                f.remote_id,
                f.reason.chars().take(300).collect::<String>()
            )
        })
        .collect();
    let failed = |local: Option<i64>, remote: Option<&str>, needle: &str| {
        report.failures.iter().any(|f| {
            let same_item = local
                .is_some_and(|l| f.local_id.as_deref() == Some(l.to_string().as_str()))
                || remote.is_some_and(|r| f.remote_id.as_deref() == Some(r));
            same_item && f.reason.contains(needle)
        })
    };

    // Good events, both ways.
    let outlook_subjects: Vec<String> = env
        .outlook()
        .await
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    for name in ["Good Odoo meeting", "Odoo crowd", "Odoo 1900", "Odoo 2200"] {
        assert!(
            outlook_subjects.iter().any(|s| s == name),
            "{name} not in Outlook; failures: {failures:#?}"
        );
    }
    assert!(
        outlook_subjects
            .iter()
            .any(|s| s.len() == HUGE && s.starts_with('O'))
    );
    for name in [
        "Good Outlook meeting",
        "Good Outlook series",
        "Scripted body",
        "Crowded",
    ] {
        assert!(
            odoo.named(name).is_some(),
            "{name} not in Odoo; failures: {failures:#?}"
        );
    }
    assert!(
        odoo.named(&huge_subject).is_some(),
        "100,000-character subject"
    );
    assert!(
        odoo.state
            .links
            .iter()
            .any(|l| l.status.remote_id == outlook_good[0])
    );
    assert!(
        odoo.state
            .links
            .iter()
            .any(|l| l.status.local_id == good_local.to_string())
    );

    // Each bad item that cannot be synced is reported, by item, with the field at fault.
    assert!(failed(Some(mars_id), None, "event_tz"), "{failures:#?}");
    assert!(
        failed(Some(count_local_id), None, "recurrence.count"),
        "{failures:#?}"
    );
    assert!(
        failed(Some(until_local_id), None, "recurrence.until"),
        "{failures:#?}"
    );
    assert!(failed(Some(year_one), None, "1601"), "{failures:#?}");
    assert!(
        failed(None, Some(&absurd_count_id), "numberOfOccurrences"),
        "{failures:#?}"
    );
    assert!(failed(None, Some(&far_end_id), "endDate"), "{failures:#?}");
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.local_id.is_some() || f.remote_id.is_some()),
        "a failure without its item: {failures:#?}"
    );
    // What the sync log shows stays readable: labels and reasons quote a hostile item, clipped.
    let labels = report
        .failures
        .iter()
        .filter_map(|f| f.label.as_ref())
        .chain(report.planned.iter().filter_map(|p| p.label.as_ref()));
    for label in labels {
        assert!(
            label.chars().count() <= 201,
            "label of {} characters",
            label.len()
        );
    }
    for failure in &report.failures {
        assert!(failure.reason.len() < 2_000, "{}", failure.reason.len());
    }
    // The huge event is synced, not failed.
    assert!(!failed(None, Some(&huge_id), ""), "{failures:#?}");

    // No script, handler, script URL, frame or tracking pixel reaches Odoo's writes.
    let written: Vec<&OdooEvent> = output
        .local_ops
        .iter()
        .filter_map(|w| w.values.as_ref())
        .collect();
    assert!(!written.is_empty());
    for values in &written {
        let description = values
            .description
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        for banned in [
            "<script",
            "onerror",
            "javascript:",
            "<iframe",
            "pixel.gif",
            "alert(",
        ] {
            assert!(
                !description.contains(banned),
                "{banned} in the description of {:?}",
                values
                    .name
                    .as_deref()
                    .map(|n| n.chars().take(40).collect::<String>())
            );
        }
    }
    let scripted = odoo.named("Scripted body").unwrap();
    let description = scripted.description.as_deref().unwrap();
    assert!(
        description.contains("<p>Visible agenda</p>"),
        "{description}"
    );
    // An ordinary image stays (without its handler).
    assert!(
        description.contains("src=\"https://example.com/x.png\""),
        "{description}"
    );
    // The crowded meeting keeps its attendees in Odoo, odd ones included.
    let crowded = odoo.named("Crowded").unwrap();
    assert!(
        crowded.attendees.len() >= 490,
        "{}",
        crowded.attendees.len()
    );

    // A second run completes, keeps the good links, and adds no failure of a new kind.
    let links_before = odoo.state.links.len();
    let again = odoo.sync(&env).await;
    assert!(odoo.state.links.len() >= links_before);
    for failure in &again.report.failures {
        let known = report
            .failures
            .iter()
            .any(|f| f.local_id == failure.local_id && f.remote_id == failure.remote_id);
        assert!(known, "new failure on the second run: {failure:?}");
    }

    for failure in &failures {
        println!("hostile-input: reported failure: {failure}");
    }
    println!(
        "hostile-input: suite=whole_sync cases=1 panics=0 items={} synced_links={} items_failed_cleanly={} unsupported={}",
        outlook_subjects.len() + odoo.records.len(),
        odoo.state.links.len(),
        report.failures.len(),
        report.unsupported.len(),
    );
}
