//! One-mailbox sync runs against the Graph emulator, with a small in-memory stand-in for the Odoo
//! addon that applies the returned writes exactly as the caller contract says.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use jiff::Timestamp;
use outlook_emulator::EmulatorHandle;
use outlook_graph::{ClientOptions, Endpoints, GraphClient, Secret, TokenSet, http_client};
use outlook_model::odoo::{OdooAttendeeState, OdooEvent};
use outlook_runner::{
    AttendeeNoteKind, ConflictPolicy, Delivery, FirstSync, LocalAction, LocalEvent, LocalListing,
    NoticeKind, RunInput, RunOptions, RunOutput, SentWrite, SyncState, run, run_journaled,
};
use serde_json::{Value, json};

const MAILBOX: &str = "owner@contoso.com";

struct Env {
    emulator: EmulatorHandle,
    http: reqwest::Client,
    client: GraphClient,
    token: String,
}

fn graph_client(base: &str, mailbox: &str, token: &str) -> GraphClient {
    let options = ClientOptions {
        max_attempts: 3,
        log_label: mailbox.into(),
        ..ClientOptions::default()
    };
    GraphClient::new(
        http_client(&options).unwrap(),
        Endpoints {
            login_url: base.to_owned(),
            tenant: "common".into(),
            graph_url: base.to_owned(),
        },
        None,
        TokenSet {
            access_token: Secret::from(token.to_owned()),
            refresh_token: None,
            expires_at: Timestamp::now() + jiff::SignedDuration::from_hours(1),
            scope: None,
        },
        options,
    )
}

impl Env {
    async fn new() -> Env {
        let emulator = outlook_emulator::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let http = reqwest::Client::new();
        let base = emulator.base_url().to_owned();
        let token = mailbox_token(&http, &base, MAILBOX).await;
        let client = graph_client(&base, MAILBOX, &token);
        Env {
            emulator,
            http,
            client,
            token,
        }
    }

    /// Another mailbox hosted by the emulator: its token and a client for its runs.
    async fn mailbox(&self, address: &str) -> (String, GraphClient) {
        let token = mailbox_token(&self.http, self.emulator.base_url(), address).await;
        let client = graph_client(self.emulator.base_url(), address, &token);
        (token, client)
    }

    /// A person's Graph request in the mailbox of `token`.
    async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Value {
        let response = self
            .http
            .request(method, self.url(&format!("/v1.0/me/{path}")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// The masters and single events of any hosted mailbox.
    async fn events_of(&self, address: &str) -> Vec<Value> {
        let events = self
            .control(
                reqwest::Method::GET,
                &format!("/_emulator/mailboxes/{address}/events"),
                Value::Null,
            )
            .await;
        serde_json::from_value(events["value"].clone()).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn seed(&self, events: Vec<Value>) -> Vec<String> {
        let ids = self
            .control(
                reqwest::Method::POST,
                &format!("/_emulator/mailboxes/{MAILBOX}/seed"),
                json!({ "events": events }),
            )
            .await;
        serde_json::from_value(ids["ids"].clone()).unwrap()
    }

    /// The mailbox's masters and single events.
    async fn outlook(&self) -> Vec<Value> {
        let events = self
            .control(
                reqwest::Method::GET,
                &format!("/_emulator/mailboxes/{MAILBOX}/events"),
                Value::Null,
            )
            .await;
        serde_json::from_value(events["value"].clone()).unwrap()
    }

    async fn mails(&self) -> Vec<Value> {
        let outbox = self
            .control(reqwest::Method::GET, "/_emulator/outbox", Value::Null)
            .await;
        serde_json::from_value(outbox["mails"].clone()).unwrap()
    }

    async fn requests(&self) -> Value {
        self.control(reqwest::Method::GET, "/_emulator/requests", Value::Null)
            .await
    }

    async fn reset_counters(&self) {
        self.control(reqwest::Method::DELETE, "/_emulator/requests", Value::Null)
            .await;
        self.control(reqwest::Method::DELETE, "/_emulator/outbox", Value::Null)
            .await;
    }

    /// An edit made by a person in Outlook.
    async fn patch_in_outlook(&self, id: &str, patch: Value) {
        let response = self
            .http
            .patch(self.url(&format!("/v1.0/me/events/{id}")))
            .bearer_auth(&self.token)
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    async fn delete_in_outlook(&self, id: &str) {
        let response = self
            .http
            .delete(self.url(&format!("/v1.0/me/events/{id}")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
}

async fn mailbox_token(http: &reqwest::Client, base: &str, address: &str) -> String {
    let tokens: Value = http
        .post(format!("{base}/_emulator/mailboxes/{address}/token"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The addon, reduced to what the runner needs: records, the stored state, and the contract for
/// applying a run's output.
#[derive(Default)]
struct Odoo {
    records: BTreeMap<i64, OdooEvent>,
    state: SyncState,
    next_id: i64,
    /// The sent journal: what runs since the last committed one had Outlook confirm.
    sent: Vec<SentWrite>,
}

impl Odoo {
    fn add(&mut self, mut values: OdooEvent) -> i64 {
        self.next_id += 1;
        values.id = Some(self.next_id);
        self.records.insert(self.next_id, values);
        self.next_id
    }

    fn listing(&self) -> LocalListing {
        LocalListing::Full {
            events: self
                .records
                .values()
                .map(|values| LocalEvent {
                    values: values.clone(),
                    modified_at: None,
                    organizer_syncs: false,
                })
                .collect(),
        }
    }

    fn apply(&mut self, output: RunOutput) {
        let mut state = output.state;
        self.sent.clear();
        for write in output.local_ops {
            match write.action {
                LocalAction::Create => {
                    let id = self.add(write.values.unwrap());
                    let mut link = write.link.unwrap();
                    link.status.local_id = id.to_string();
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
    }

    async fn sync(&mut self, env: &Env, options: &RunOptions) -> RunOutput {
        let output = self.run_journaled(env, options).await;
        if !options.dry_run {
            self.apply(output.clone());
        }
        output
    }

    /// A run as the addon makes it: the journal handed in, and what Outlook confirms added to it
    /// at once. Its output is not applied: on its own, this is a run whose process died before
    /// committing.
    async fn run_journaled(&mut self, env: &Env, options: &RunOptions) -> RunOutput {
        let input = RunInput {
            state: self.state.clone(),
            local: self.listing(),
            sent: self.sent.clone(),
        };
        let journal = std::sync::Mutex::new(Vec::new());
        let output = run_journaled(&env.client, input, options, &|writes| {
            journal.lock().unwrap().extend(writes);
        })
        .await
        .unwrap();
        self.sent.extend(journal.into_inner().unwrap());
        output
    }
}

fn options() -> RunOptions {
    RunOptions {
        mailbox: MAILBOX.into(),
        policy: Default::default(),
        first_sync: FirstSync::All,
        dry_run: false,
        transaction_salt: "db-1/link-1".into(),
        window_start: "2026-01-01T00:00:00Z".parse().unwrap(),
        window_end: "2027-01-01T00:00:00Z".parse().unwrap(),
        now: "2026-03-01T00:00:00Z".parse().unwrap(),
    }
}

fn odoo_event(name: &str, start: &str, stop: &str, attendees: &[&str]) -> OdooEvent {
    let attendees: Vec<Value> = attendees
        .iter()
        .map(|email| json!({"email": email, "name": email, "state": "needsAction"}))
        .collect();
    serde_json::from_value(json!({
        "name": name,
        "start": start,
        "stop": stop,
        "event_tz": "Europe/Brussels",
        "attendees": attendees,
        "organizer_email": MAILBOX,
        "is_organizer": true,
    }))
    .unwrap()
}

fn graph_event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    })
}

impl Env {
    async fn occurrences(&self, master: &str) -> Vec<String> {
        let page: Value = self
            .http
            .get(self.url(&format!(
                "/v1.0/me/events/{master}/instances?startDateTime=2026-01-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"
            )))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn subjects(events: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// First sync of a calendar with one event on each side, then the echo round.
async fn synced_pair(env: &Env, odoo: &mut Odoo) -> (i64, String) {
    // A third event stays untouched, so that no test empties a side (the safety stop).
    let remote = env
        .seed(vec![
            graph_event(
                "Outlook lunch",
                "2026-06-02T11:00:00",
                "2026-06-02T12:00:00",
            ),
            graph_event("Keep me", "2026-06-09T11:00:00", "2026-06-09T12:00:00"),
        ])
        .await;
    let local = odoo.add(odoo_event(
        "Odoo review",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
        &["ann@fabrikam.com", "bob@fabrikam.com"],
    ));
    let output = odoo.sync(env, &options()).await;
    assert!(
        output.report.failures.is_empty(),
        "{:?}",
        output.report.failures
    );
    // The echo of our own writes changes nothing.
    let echo = odoo.sync(env, &options()).await;
    assert!(
        echo.local_ops.is_empty() && echo.report.planned.is_empty(),
        "{:?}",
        echo.report
    );
    (local, remote[0].clone())
}

#[tokio::test]
async fn first_sync_copies_both_ways_and_invites_each_attendee_once() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Outlook lunch",
        "2026-06-02T11:00:00",
        "2026-06-02T12:00:00",
    )])
    .await;
    odoo.add(odoo_event(
        "Odoo review",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
        &["ann@fabrikam.com", "bob@fabrikam.com"],
    ));

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.full_round);
    assert_eq!(
        (output.report.remote.created, output.report.local.created),
        (1, 1)
    );
    assert_eq!(output.report.mails.invitations, 2);
    assert_eq!(
        subjects(&env.outlook().await),
        ["Odoo review", "Outlook lunch"]
    );
    let names: Vec<_> = odoo
        .records
        .values()
        .filter_map(|r| r.name.clone())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Outlook lunch".to_owned()));
    let mails = env.mails().await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m["kind"] == "invitation"));
    assert_eq!(odoo.state.links.len(), 2);
    assert!(
        odoo.state
            .links
            .iter()
            .all(|l| !l.status.local_id.is_empty())
    );

    // Echo round, then an idle run costs exactly one request (the delta) and mails no one.
    odoo.sync(&env, &options()).await;
    env.reset_counters().await;
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.local_ops.is_empty());
    assert_eq!(idle.report.requests, 1);
    let requests = env.requests().await;
    assert_eq!(requests["total"], 1, "{requests}");
    assert!(env.mails().await.is_empty());

    // The same with an empty Odoo delta, as the cron sends it most of the time.
    let input = RunInput {
        state: odoo.state.clone(),
        local: LocalListing::Delta {
            changed: vec![],
            deleted: vec![],
            deleted_hashes: Default::default(),
        },
        sent: Vec::new(),
    };
    let idle = run(&env.client, input, &options()).await.unwrap();
    assert_eq!(idle.report.requests, 1);
    assert_eq!(idle.state.links, odoo.state.links);
}

#[tokio::test]
async fn a_failed_write_holds_back_only_its_item_and_is_retried() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, _) = synced_pair(&env, &mut odoo).await;
    let other = odoo.add(odoo_event(
        "Planning",
        "2026-06-10 08:00:00",
        "2026-06-10 09:00:00",
        &[],
    ));
    odoo.sync(&env, &options()).await;
    odoo.sync(&env, &options()).await;
    let failing = odoo
        .state
        .links
        .iter()
        .find(|l| l.status.local_id == local.to_string())
        .unwrap()
        .status
        .remote_id
        .clone();

    odoo.records.get_mut(&local).unwrap().name = Some("Review v2".into());
    odoo.records.get_mut(&other).unwrap().name = Some("Planning v2".into());
    env.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"kind": "error", "status": 400, "method": "PATCH", "path_contains": failing}),
    )
    .await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 1);
    assert_eq!(output.report.remote.failed, 1);
    let failure = &output.report.failures[0];
    assert_eq!(failure.label.as_deref(), Some("Review v2"));
    assert_eq!(failure.remote_id.as_deref(), Some(failing.as_str()));
    assert!(output.retry_local.contains(&local));
    assert!(output.state.pending_remote.contains(&failing));

    // The next run carries the held-back edit over, and only that one.
    let retry = odoo.sync(&env, &options()).await;
    assert_eq!(retry.report.remote.updated, 1, "{:?}", retry.report);
    assert!(retry.report.failures.is_empty());
    assert!(subjects(&env.outlook().await).contains(&"Review v2".to_owned()));
}

#[tokio::test]
async fn an_edit_on_each_side_is_carried_over_with_a_minimal_patch() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, remote) = synced_pair(&env, &mut odoo).await;

    // Odoo renames its meeting: one PATCH carrying only the subject, one update mail per attendee.
    odoo.records.get_mut(&local).unwrap().name = Some("Odoo review (moved room)".into());
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 1);
    assert_eq!(output.report.mails.updates, 2);
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "{requests}"
    );
    let mails = env.mails().await;
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().all(|m| m["kind"] == "update"));

    // Outlook moves the lunch: Odoo gets an update of the linked record.
    env.patch_in_outlook(&remote, json!({"subject": "Long lunch"}))
        .await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.local_ops.len(), 1);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    assert!(
        odoo.records
            .values()
            .any(|r| r.name.as_deref() == Some("Long lunch"))
    );
    assert_eq!(output.report.remote.updated, 0);
}

#[tokio::test]
async fn a_deletion_on_each_side_is_carried_over() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, remote) = synced_pair(&env, &mut odoo).await;

    odoo.records.remove(&local);
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.deleted, 1);
    assert_eq!(output.report.mails.cancellations, 2);
    assert_eq!(subjects(&env.outlook().await), ["Keep me", "Outlook lunch"]);
    assert_eq!(env.mails().await.len(), 2);

    env.delete_in_outlook(&remote).await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.local_ops.len(), 1);
    assert_eq!(output.local_ops[0].action, LocalAction::Delete);
    let names: Vec<_> = odoo
        .records
        .values()
        .filter_map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["Keep me"]);
    assert_eq!(odoo.state.links.len(), 1);
}

#[tokio::test]
async fn a_conflict_is_resolved_by_policy_and_reports_the_losing_version() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let linked_local: i64 = odoo
        .state
        .links
        .iter()
        .find(|l| l.status.remote_id == remote)
        .unwrap()
        .status
        .local_id
        .parse()
        .unwrap();

    odoo.records.get_mut(&linked_local).unwrap().name = Some("Lunch (Odoo)".into());
    env.patch_in_outlook(&remote, json!({"subject": "Lunch (Outlook)"}))
        .await;
    let output = odoo.sync(&env, &options()).await;
    // Latest edit wins; Odoo gave no write date, so Outlook's known time wins.
    assert_eq!(output.report.conflicts.len(), 1);
    let conflict = &output.report.conflicts[0];
    assert_eq!(conflict.conflict.winner, outlook_engine::Side::Remote);
    assert_eq!(conflict.lost.as_ref().unwrap()["name"], "Lunch (Odoo)");
    assert_eq!(
        odoo.records[&linked_local].name.as_deref(),
        Some("Lunch (Outlook)")
    );
    assert_eq!(output.report.remote.updated, 0);
}

#[tokio::test]
async fn a_weekly_series_is_one_outlook_event_and_a_series_edit_one_patch() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let mut series = odoo_event(
        "Weekly sync",
        "2026-06-01 08:00:00",
        "2026-06-01 08:30:00",
        &["ann@fabrikam.com"],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "weekly", "interval": 1, "end_type": "count", "count": 5, "mon": true
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    let output = odoo.sync(&env, &options()).await;
    assert!(
        output.report.failures.is_empty(),
        "{:?}",
        output.report.failures
    );
    let outlook = env.outlook().await;
    assert_eq!(outlook.len(), 1, "{outlook:?}");
    assert_eq!(outlook[0]["type"], "seriesMaster");
    assert_eq!(env.mails().await.len(), 1);

    // The echo (occurrences in the delta) collapses to the linked master: nothing to write.
    let echo = odoo.sync(&env, &options()).await;
    assert!(echo.report.planned.is_empty(), "{:?}", echo.report.planned);
    assert_eq!(odoo.records.len(), 1);

    odoo.records.get_mut(&id).unwrap().name = Some("Weekly sync (new room)".into());
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 1);
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "{requests}"
    );
    assert_eq!(env.outlook().await[0]["subject"], "Weekly sync (new room)");

    // A series edit in Outlook arrives as changed occurrences: one local update of the series.
    odoo.sync(&env, &options()).await;
    let master = env.outlook().await[0]["id"].as_str().unwrap().to_owned();
    env.patch_in_outlook(&master, json!({"location": {"displayName": "Room 4"}}))
        .await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].local_id, Some(id));
    assert_eq!(odoo.records[&id].location.as_deref(), Some("Room 4"));
    assert!(odoo.records[&id].recurrence.is_some());
}

#[tokio::test]
async fn a_lost_create_response_does_not_duplicate_on_the_next_run() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    odoo.add(odoo_event(
        "Board meeting",
        "2026-06-05 13:00:00",
        "2026-06-05 14:00:00",
        &["ann@fabrikam.com"],
    ));
    env.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"kind": "lose_response", "method": "POST", "path_contains": "/me/events"}),
    )
    .await;
    // Whatever the first run makes of the lost answer, a crash before commit is simulated too:
    // its output is thrown away.
    let input = RunInput {
        state: odoo.state.clone(),
        local: odoo.listing(),
        sent: Vec::new(),
    };
    let first = run(&env.client, input, &options()).await;
    let faults = env
        .control(reqwest::Method::GET, "/_emulator/faults", Value::Null)
        .await;
    assert_eq!(
        faults,
        json!({"faults": []}),
        "the fault was not hit; first run: {first:?}"
    );
    assert_eq!(env.outlook().await.len(), 1);

    let output = odoo.sync(&env, &options()).await;
    assert!(
        output.report.failures.is_empty(),
        "{:?}",
        output.report.failures
    );
    assert_eq!(env.outlook().await.len(), 1);
    assert_eq!(odoo.records.len(), 1);
    assert_eq!(odoo.state.links.len(), 1);
    assert_eq!(env.mails().await.len(), 1, "one invitation in all");
}

/// Found by the state-machine test: a run creates the Odoo event in Outlook and crashes before
/// commit, then someone deletes that copy in Outlook. Graph keeps refusing the create's
/// `transactionId`, and no event carries it any more; the create must move on instead of failing
/// on every run for good (here twice over, so the create walks two steps of its id chain).
#[tokio::test]
async fn a_create_whose_unstored_copy_was_deleted_in_outlook_is_made_again() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Keep me",
        "2026-06-09T11:00:00",
        "2026-06-09T12:00:00",
    )])
    .await;
    odoo.add(odoo_event(
        "Board meeting",
        "2026-06-05 13:00:00",
        "2026-06-05 14:00:00",
        &[],
    ));
    for round in 0..2 {
        // A run whose output is thrown away (the process died before committing it).
        let input = RunInput {
            state: odoo.state.clone(),
            local: odoo.listing(),
            sent: Vec::new(),
        };
        let crashed = run(&env.client, input, &options()).await.unwrap();
        assert!(
            crashed.report.failures.is_empty(),
            "round {round}: {:?}",
            crashed.report.failures
        );
        let copy = env
            .outlook()
            .await
            .into_iter()
            .find(|e| e["subject"] == "Board meeting")
            .unwrap();
        env.delete_in_outlook(copy["id"].as_str().unwrap()).await;
    }

    let output = odoo.sync(&env, &options()).await;
    assert!(
        output.report.failures.is_empty(),
        "{:?}",
        output.report.failures
    );
    assert_eq!(output.report.remote.created, 1);
    assert_eq!(subjects(&env.outlook().await), ["Board meeting", "Keep me"]);
    assert_eq!(odoo.records.len(), 2);
    assert_eq!(odoo.state.links.len(), 2);
    // Settled: the echo and an idle run change nothing.
    odoo.sync(&env, &options()).await;
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert_eq!(env.outlook().await.len(), 2);
}

/// The sent journal (defect D3 of the fault suite): a run sends an Odoo edit and dies before
/// committing; a person then deletes the event in Outlook, having seen the edit. The journal tells
/// the next run the edit was sent, so the deletion reaches Odoo instead of the edit re-creating
/// the event ("a modification beats a deletion" on an edit already delivered).
#[tokio::test]
async fn an_outlook_deletion_after_a_killed_run_that_sent_an_edit_reaches_odoo() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, _) = synced_pair(&env, &mut odoo).await;
    let remote = linked_remote(&odoo, local).unwrap();
    odoo.records.get_mut(&local).unwrap().name = Some("Odoo review, moved".into());
    let killed = odoo.run_journaled(&env, &options()).await;
    assert_eq!(killed.report.remote.updated, 1, "{:?}", killed.report);
    let deliveries: Vec<Delivery> = odoo.sent.iter().map(|w| w.delivery).collect();
    assert_eq!(
        deliveries,
        [Delivery::Pending, Delivery::Confirmed],
        "the PATCH is in the journal before it is sent, and again once confirmed"
    );
    env.delete_in_outlook(&remote).await;
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.created, 0, "{:?}", output.report);
    assert!(!odoo.records.contains_key(&local), "{:?}", output.local_ops);
    assert!(
        odoo.sent.is_empty(),
        "a committed run supersedes the journal"
    );
    assert!(
        !subjects(&env.outlook().await).contains(&"Odoo review, moved".to_owned()),
        "not re-created in Outlook"
    );
    assert!(env.mails().await.is_empty());
    assert_next_run_idle(&env, &mut odoo).await;
}

/// A run sends an Odoo edit and never hears back (the connection drops after Outlook took the
/// PATCH, on every retry), then dies; a person deletes the event in Outlook. Whether the edit
/// landed is unknown; the journal's policy takes the deletion as the later change: the Odoo
/// event is deleted, not re-created in Outlook, and the run says so with the Odoo content.
#[tokio::test]
async fn an_outlook_deletion_after_an_unanswered_edit_reaches_odoo_and_is_reported() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, _) = synced_pair(&env, &mut odoo).await;
    let remote = linked_remote(&odoo, local).unwrap();
    odoo.records.get_mut(&local).unwrap().name = Some("Odoo review, moved".into());
    env.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"kind": "lose_response", "method": "POST", "path_contains": "$batch", "count": 50}),
    )
    .await;
    let killed = odoo.run_journaled(&env, &options()).await;
    env.control(reqwest::Method::DELETE, "/_emulator/faults", json!({}))
        .await;
    assert_eq!(killed.report.remote.failed, 1, "{:?}", killed.report);
    let deliveries: Vec<Delivery> = odoo.sent.iter().map(|w| w.delivery).collect();
    assert_eq!(deliveries, [Delivery::Pending], "sent, never answered");
    env.delete_in_outlook(&remote).await;
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.created, 0, "{:?}", output.report);
    assert!(!odoo.records.contains_key(&local), "{:?}", output.local_ops);
    let [notice] = output.report.notices.as_slice() else {
        panic!("one notice: {:?}", output.report.notices);
    };
    assert_eq!(notice.kind, NoticeKind::DeletedAfterUnansweredEdit);
    assert_eq!(notice.local_id.as_deref(), Some(local.to_string().as_str()));
    assert_eq!(notice.lost.as_ref().unwrap()["name"], "Odoo review, moved");
    assert!(env.mails().await.is_empty());
    assert_next_run_idle(&env, &mut odoo).await;
}

/// The same deletion after an edit Outlook refused (it answered 500: nothing was written), or
/// after an unanswered edit Odoo edited again since: a modification beats a deletion, so the
/// event is sent to Outlook again with the Odoo edit, and no notice is given.
#[tokio::test]
async fn an_outlook_deletion_after_a_refused_or_superseded_edit_loses_to_the_odoo_edit() {
    for (fault, edit_again) in [("error", false), ("lose_response", true)] {
        let env = Env::new().await;
        let mut odoo = Odoo::default();
        let (local, _) = synced_pair(&env, &mut odoo).await;
        let remote = linked_remote(&odoo, local).unwrap();
        odoo.records.get_mut(&local).unwrap().name = Some("Odoo review, moved".into());
        env.control(
            reqwest::Method::POST,
            "/_emulator/faults",
            json!({"kind": fault, "status": 500, "method": "POST", "path_contains": "$batch",
                   "count": 50}),
        )
        .await;
        odoo.run_journaled(&env, &options()).await;
        env.control(reqwest::Method::DELETE, "/_emulator/faults", json!({}))
            .await;
        if edit_again {
            odoo.records.get_mut(&local).unwrap().name = Some("Odoo review, final".into());
        }
        env.delete_in_outlook(&remote).await;

        let output = odoo.sync(&env, &options()).await;
        assert_eq!(
            output.report.remote.created, 1,
            "{fault}: {:?}",
            output.report
        );
        assert!(
            output.report.notices.is_empty(),
            "{fault}: {:?}",
            output.report
        );
        let expected = if edit_again {
            "Odoo review, final"
        } else {
            "Odoo review, moved"
        };
        assert_eq!(odoo.records[&local].name.as_deref(), Some(expected));
        assert!(
            subjects(&env.outlook().await).contains(&expected.to_owned()),
            "{fault}: re-created in Outlook"
        );
    }
}

/// Odoo holds no attendee types: an Odoo edit written over an Outlook meeting leaves its optional
/// attendee optional, and an attendee Odoo adds is required.
#[tokio::test]
async fn an_odoo_edit_keeps_outlook_attendee_types() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let mut meeting = graph_event("Review", "2026-06-16T09:00:00", "2026-06-16T10:00:00");
    meeting["attendees"] = json!([
        {"emailAddress": {"address": "Bob@Fabrikam.com"}, "type": "optional"},
        {"emailAddress": {"address": GUEST}, "type": "required"},
    ]);
    let [remote] = env.seed(vec![meeting]).await.try_into().unwrap();
    odoo.sync(&env, &options()).await;
    let local = linked_local(&odoo, &remote).unwrap();

    let record = odoo.records.get_mut(&local).unwrap();
    record.name = Some("Review, renamed".into());
    record.attendees.push(
        serde_json::from_value(json!({"email": "dana@fabrikam.com", "state": "needsAction"}))
            .unwrap(),
    );
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    let copy = env
        .outlook()
        .await
        .into_iter()
        .find(|e| e["id"] == remote.as_str())
        .unwrap();
    assert_eq!(copy["subject"], "Review, renamed");
    let kind = |address: &str| {
        copy["attendees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                a["emailAddress"]["address"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(address)
            })
            .map(|a| a["type"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        kind("bob@fabrikam.com").as_deref(),
        Some("optional"),
        "{copy}"
    );
    assert_eq!(kind(GUEST).as_deref(), Some("required"));
    assert_eq!(kind("dana@fabrikam.com").as_deref(), Some("required"));
    odoo.sync(&env, &options()).await;
    assert_next_run_idle(&env, &mut odoo).await;
}

/// The echo of a killed run's edit is not a person's edit: a newer Odoo edit is sent over it
/// (with Odoo's records undated, "latest edit" would otherwise let Outlook's echo win and lose
/// the newer edit), and no conflict is reported.
#[tokio::test]
async fn the_echo_of_a_killed_runs_edit_does_not_beat_a_newer_odoo_edit() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, _) = synced_pair(&env, &mut odoo).await;
    let remote = linked_remote(&odoo, local).unwrap();
    odoo.records.get_mut(&local).unwrap().location = Some("Room 1".into());
    odoo.run_journaled(&env, &options()).await;
    odoo.records.get_mut(&local).unwrap().location = Some("Room 2".into());

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.conflicts.is_empty(), "{:?}", output.report);
    assert!(output.local_ops.is_empty(), "{:?}", output.local_ops);
    assert_eq!(odoo.records[&local].location.as_deref(), Some("Room 2"));
    let copy = env
        .outlook()
        .await
        .into_iter()
        .find(|e| e["id"] == remote.as_str())
        .unwrap();
    assert_eq!(copy["location"]["displayName"], "Room 2");
    odoo.sync(&env, &options()).await;
    assert_next_run_idle(&env, &mut odoo).await;
}

/// A killed run created the Odoo event in Outlook; a person deletes that copy before the next
/// run. With the journal, the next run knows the pair and reads the copy by id (the stored delta
/// link predates it): deleted in Outlook, so deleted in Odoo, as for any synced event.
#[tokio::test]
async fn a_killed_runs_create_deleted_in_outlook_is_deleted_in_odoo() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let id = odoo.add(odoo_event(
        "Board meeting",
        "2026-06-05 13:00:00",
        "2026-06-05 14:00:00",
        &[],
    ));
    let killed = odoo.run_journaled(&env, &options()).await;
    assert_eq!(killed.report.remote.created, 1, "{:?}", killed.report);
    let copy = env
        .outlook()
        .await
        .into_iter()
        .find(|e| e["subject"] == "Board meeting")
        .unwrap();
    env.delete_in_outlook(copy["id"].as_str().unwrap()).await;

    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.created, 0, "{:?}", output.report);
    assert!(!odoo.records.contains_key(&id), "{:?}", output.local_ops);
    assert!(!subjects(&env.outlook().await).contains(&"Board meeting".to_owned()));
    assert_next_run_idle(&env, &mut odoo).await;
}

/// Deleted in Outlook and edited in Odoo: a run re-creates the event (modification beats
/// deletion) and dies before committing. The next run cannot read the deleted event to confirm
/// its deletion; the re-create proves it gone, so the pair is linked to the re-create instead of
/// the re-create being copied into Odoo as a second event.
#[tokio::test]
async fn a_recreate_whose_deletion_cannot_be_read_again_is_not_copied_back() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let linked = linked_local(&odoo, &remote).unwrap();
    env.delete_in_outlook(&remote).await;
    odoo.records.get_mut(&linked).unwrap().location = Some("Room 2".into());
    let input = RunInput {
        state: odoo.state.clone(),
        local: odoo.listing(),
        sent: Vec::new(),
    };
    let crashed = run(&env.client, input, &options()).await.unwrap();
    assert_eq!(crashed.report.remote.created, 1, "{:?}", crashed.report);

    env.control(
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"kind": "error", "status": 500, "method": "GET", "path_contains": "/events/"}),
    )
    .await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.local.created, 0, "{:?}", output.local_ops);
    odoo.sync(&env, &options()).await;
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    let lunches: Vec<_> = odoo
        .records
        .values()
        .filter(|r| r.name.as_deref() == Some("Outlook lunch"))
        .collect();
    assert_eq!(lunches.len(), 1, "{:?}", odoo.records);
    assert_eq!(lunches[0].location.as_deref(), Some("Room 2"));
    let copies: Vec<Value> = env
        .outlook()
        .await
        .into_iter()
        .filter(|e| e["subject"] == "Outlook lunch")
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(
        linked_local(&odoo, copies[0]["id"].as_str().unwrap()),
        Some(linked)
    );
    let remotes: std::collections::HashSet<&str> = odoo
        .state
        .links
        .iter()
        .map(|l| l.status.remote_id.as_str())
        .collect();
    assert_eq!(
        remotes.len(),
        odoo.state.links.len(),
        "an id is linked twice"
    );
}

/// As above, but the last copy survives and the Odoo event is edited before the next run: the
/// copy (created under a later id of the chain, so neither `transactionId` nor content match)
/// is still recognised as the event's own, not copied back to Odoo as a new event.
#[tokio::test]
async fn a_copy_made_under_a_later_transaction_id_is_linked_not_duplicated() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Keep me",
        "2026-06-09T11:00:00",
        "2026-06-09T12:00:00",
    )])
    .await;
    let id = odoo.add(odoo_event(
        "Board meeting",
        "2026-06-05 13:00:00",
        "2026-06-05 14:00:00",
        &[],
    ));
    for round in 0..2 {
        let input = RunInput {
            state: odoo.state.clone(),
            local: odoo.listing(),
            sent: Vec::new(),
        };
        let crashed = run(&env.client, input, &options()).await.unwrap();
        assert!(crashed.report.failures.is_empty(), "round {round}");
        if round == 0 {
            let copy = env
                .outlook()
                .await
                .into_iter()
                .find(|e| e["subject"] == "Board meeting")
                .unwrap();
            env.delete_in_outlook(copy["id"].as_str().unwrap()).await;
        }
    }
    odoo.records.get_mut(&id).unwrap().name = Some("Board meeting (agenda)".into());

    let output = odoo.sync(&env, &options()).await;
    assert!(
        output.report.failures.is_empty(),
        "{:?}",
        output.report.failures
    );
    // Only "Keep me" comes to Odoo; the copy is linked to its event (the two versions differ,
    // a conflict settled by policy and reported).
    assert_eq!(output.report.local.created, 1, "{:?}", output.report);
    assert_eq!(output.report.conflicts.len(), 1, "{:?}", output.report);
    assert_eq!(env.outlook().await.len(), 2);
    assert_eq!(odoo.records.len(), 2);
    assert_eq!(odoo.state.links.len(), 2);
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
}

/// Found by the state-machine test: when Odoo cannot apply a write, keeping only the previous
/// link lost the Outlook change for good (the stored delta link is already past it).
/// [`SyncState::keep_unapplied`] also has the next run read the event again.
#[tokio::test]
async fn an_odoo_write_the_addon_could_not_apply_is_offered_again() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let created = env
        .seed(vec![graph_event(
            "New in Outlook",
            "2026-06-12T11:00:00",
            "2026-06-12T12:00:00",
        )])
        .await;
    env.patch_in_outlook(&remote, json!({"subject": "Lunch, moved"}))
        .await;

    // Odoo refuses both writes (a constraint, an access rule): the contract's failure path.
    let input = RunInput {
        state: odoo.state.clone(),
        local: odoo.listing(),
        sent: Vec::new(),
    };
    let output = run(&env.client, input, &options()).await.unwrap();
    assert_eq!(output.local_ops.len(), 2, "{:?}", output.local_ops);
    let mut state = output.state.clone();
    for write in &output.local_ops {
        state.keep_unapplied(write);
    }
    assert!(state.pending_remote.contains(&created[0]));
    assert!(state.pending_remote.contains(&remote));
    odoo.state = state;

    // The next run offers both again, though the delta has nothing new.
    let retry = odoo.sync(&env, &options()).await;
    assert_eq!(
        (retry.report.local.created, retry.report.local.updated),
        (1, 1),
        "{:?}",
        retry.report
    );
    let mut names: Vec<_> = odoo
        .records
        .values()
        .filter_map(|r| r.name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Keep me", "Lunch, moved", "New in Outlook", "Odoo review"]
    );
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_predicts_the_mails() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Outlook lunch",
        "2026-06-02T11:00:00",
        "2026-06-02T12:00:00",
    )])
    .await;
    odoo.add(odoo_event(
        "Odoo review",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
        &["ann@fabrikam.com", "bob@fabrikam.com", "cy@fabrikam.com"],
    ));
    let dry = RunOptions {
        dry_run: true,
        ..options()
    };
    let output = odoo.sync(&env, &dry).await;
    assert!(output.report.dry_run);
    assert_eq!(output.report.mails.invitations, 3);
    assert_eq!(
        (output.report.remote.created, output.report.local.created),
        (1, 1)
    );
    assert_eq!(output.report.planned.len(), 2);
    assert!(output.local_ops.is_empty());
    assert_eq!(output.state, SyncState::default());
    assert_eq!(subjects(&env.outlook().await), ["Outlook lunch"]);
    assert!(env.mails().await.is_empty());

    // The real run then does what the dry run said.
    let real = odoo.sync(&env, &options()).await;
    assert_eq!(real.report.mails, output.report.mails);
    assert_eq!(env.mails().await.len(), 3);
}

#[tokio::test]
async fn first_sync_links_an_event_present_on_both_sides() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Kick-off",
        "2026-06-04T07:00:00",
        "2026-06-04T08:00:00",
    )])
    .await;
    odoo.add(odoo_event(
        "Kick-off",
        "2026-06-04 07:00:00",
        "2026-06-04 08:00:00",
        &[],
    ));
    odoo.add(odoo_event(
        "Old retro",
        "2026-02-01 07:00:00",
        "2026-02-01 08:00:00",
        &[],
    ));
    let future_only = RunOptions {
        first_sync: FirstSync::Future,
        ..options()
    };
    let output = odoo.sync(&env, &future_only).await;
    // Linked, not copied: the two versions differ only in what Odoo cannot hold the same way
    // (Outlook's default reminder), which the policy settles by updating one side.
    assert!(
        output
            .local_ops
            .iter()
            .all(|op| op.action != LocalAction::Create),
        "{:?}",
        output.local_ops
    );
    assert_eq!(output.report.remote.created, 0);
    assert_eq!(output.report.excluded_by_first_sync, 1);
    assert_eq!(odoo.state.links.len(), 1);
    assert_eq!(subjects(&env.outlook().await), ["Kick-off"]);
    assert_eq!(odoo.records.len(), 2);

    // The excluded event stays out on later runs.
    let later = odoo.sync(&env, &options()).await;
    assert!(
        later.report.planned.is_empty(),
        "{:?}",
        later.report.planned
    );
}

#[tokio::test]
async fn an_emptied_mailbox_stops_the_run_and_an_expired_delta_link_rereads_the_window() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;

    // The delta link expires: a full round relinks everything, nothing is duplicated.
    env.control(reqwest::Method::POST, "/_emulator/delta/expire", json!({}))
        .await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.full_round);
    assert!(output.report.resync_reason.is_some());
    assert!(
        output.report.planned.is_empty(),
        "{:?}",
        output.report.planned
    );
    assert_eq!(env.outlook().await.len(), 3);

    // Odoo suddenly lists nothing: the engine's safety stop, and Outlook keeps its events.
    let input = RunInput {
        state: odoo.state.clone(),
        local: LocalListing::Full { events: vec![] },
        sent: Vec::new(),
    };
    let error = run(&env.client, input, &options()).await.unwrap_err();
    assert!(error.is_safety_stop(), "{error}");
    assert!(error.to_string().contains("safety stop"), "{error}");
    assert_eq!(env.outlook().await.len(), 3);

    // Outlook suddenly holds nothing when read in full (the delta link expired): the same stop,
    // and Odoo is told to delete nothing. (Deletions a delta reports are explicit: a person may
    // delete their last event, and those are carried over.)
    for event in env.outlook().await {
        env.delete_in_outlook(event["id"].as_str().unwrap()).await;
    }
    env.control(reqwest::Method::POST, "/_emulator/delta/expire", json!({}))
        .await;
    let input = RunInput {
        state: odoo.state.clone(),
        local: odoo.listing(),
        sent: Vec::new(),
    };
    let error = run(&env.client, input, &options()).await.unwrap_err();
    assert!(error.is_safety_stop(), "{error}");
    assert!(
        error.to_string().contains("remote side had 3 linked items"),
        "{error}"
    );
}

#[tokio::test]
async fn an_edited_and_a_deleted_occurrence_reach_odoo_and_a_deleted_series_is_deleted() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    odoo.add(odoo_event(
        "Anchor",
        "2026-06-20 08:00:00",
        "2026-06-20 09:00:00",
        &[],
    ));
    let dropped = odoo.add(odoo_event(
        "Dropped",
        "2026-06-21 08:00:00",
        "2026-06-21 09:00:00",
        &[],
    ));
    let mut series = odoo_event(
        "Daily standup",
        "2026-06-01 07:00:00",
        "2026-06-01 07:15:00",
        &[],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "daily", "interval": 1, "end_type": "count", "count": 4
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    odoo.sync(&env, &options()).await;
    odoo.sync(&env, &options()).await;
    let master = odoo
        .state
        .links
        .iter()
        .find(|l| l.status.local_id == id.to_string())
        .unwrap()
        .status
        .remote_id
        .clone();
    let occurrences = env.occurrences(&master).await;
    assert_eq!(occurrences.len(), 4);

    // The echo of our own delete is recognised: the series is not read again for it.
    odoo.records.remove(&dropped);
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.deleted, 1);
    let echo = odoo.sync(&env, &options()).await;
    assert_eq!(echo.report.requests, 1, "{:?}", echo.report);

    // One occurrence renamed, another deleted in Outlook: both reach Odoo in the series' values
    // (an exception, a deleted date); nothing is written to Outlook.
    env.patch_in_outlook(&occurrences[1], json!({"subject": "Standup (special)"}))
        .await;
    env.delete_in_outlook(&occurrences[2]).await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 0, "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    let recurrence = odoo.records[&id].recurrence.clone().unwrap();
    assert_eq!(recurrence.deleted_dates.len(), 1, "{recurrence:?}");
    assert_eq!(recurrence.exceptions.len(), 1, "{recurrence:?}");
    assert_eq!(
        recurrence.exceptions[0].name.as_deref(),
        Some("Standup (special)")
    );
    assert!(output.report.unsupported.is_empty(), "{:?}", output.report);

    // The whole series deleted in Outlook: its occurrences come back as removed, and the series
    // goes in Odoo too.
    env.delete_in_outlook(&master).await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Delete);
    assert_eq!(output.local_ops[0].local_id, Some(id));
    assert!(!odoo.records.contains_key(&id));
}

impl Env {
    async fn config(&self, config: Value) {
        self.control(reqwest::Method::PUT, "/_emulator/config", config)
            .await;
    }

    /// Every `GET` whose path names `id` fails with a 500 until the faults are cleared.
    async fn fail_reads_of(&self, id: &str) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/faults",
            json!({"kind": "error", "status": 500, "count": 50, "method": "GET", "path_contains": id}),
        )
        .await;
    }

    async fn clear_faults(&self) {
        self.control(reqwest::Method::DELETE, "/_emulator/faults", Value::Null)
            .await;
    }
}

/// The Odoo id linked to an Outlook id.
fn linked_local(odoo: &Odoo, remote: &str) -> Option<i64> {
    odoo.state
        .links
        .iter()
        .find(|l| l.status.remote_id == remote)
        .map(|l| l.status.local_id.parse().unwrap())
}

fn no_deletes(output: &RunOutput) -> bool {
    output
        .local_ops
        .iter()
        .all(|w| w.action != LocalAction::Delete)
        && output.report.local.deleted == 0
}

#[tokio::test]
async fn an_event_moved_out_of_the_window_is_updated_in_odoo_not_deleted() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let local = linked_local(&odoo, &remote).unwrap();

    // Outlook moves the lunch to 2028, past the window's end: the delta says `@removed`.
    env.patch_in_outlook(
        &remote,
        json!({
            "start": {"dateTime": "2028-03-02T11:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2028-03-02T12:00:00", "timeZone": "UTC"},
        }),
    )
    .await;
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert!(no_deletes(&output), "{:?}", output.local_ops);
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    assert_eq!(output.local_ops[0].local_id, Some(local));
    assert_eq!(odoo.records[&local].start.unwrap().year(), 2028);
    assert_eq!(linked_local(&odoo, &remote), Some(local));
    // The delta page and one `$batch` confirming the removal.
    assert_eq!(output.report.requests, 2, "{:?}", output.report);
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["GET /v1.0/me/events/{id}"], 1,
        "{requests}"
    );

    // A replayed `@removed` of an unchanged event: confirmed present, nothing to do.
    env.config(json!({"delta_replays": true})).await;
    let replay = odoo.sync(&env, &options()).await;
    assert!(
        replay.local_ops.is_empty() && replay.report.planned.is_empty(),
        "{:?}",
        replay.report
    );
    assert_eq!(replay.report.requests, 2, "{:?}", replay.report);
    assert_eq!(linked_local(&odoo, &remote), Some(local));

    // Nothing removed: the idle run is one request, no confirmation read.
    let idle = odoo.sync(&env, &options()).await;
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
    assert!(idle.local_ops.is_empty());
}

#[tokio::test]
async fn changes_outside_the_window_reported_as_removed_are_updates_until_really_deleted() {
    let env = Env::new().await;
    env.config(json!({"delta_removed_outside_window": true}))
        .await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let local = linked_local(&odoo, &remote).unwrap();
    env.patch_in_outlook(
        &remote,
        json!({
            "start": {"dateTime": "2028-03-02T11:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2028-03-02T12:00:00", "timeZone": "UTC"},
        }),
    )
    .await;
    let moved = odoo.sync(&env, &options()).await;
    assert!(no_deletes(&moved), "{:?}", moved.local_ops);

    // Renamed while outside the window: Graph says `@removed`, the event is still there.
    env.patch_in_outlook(&remote, json!({"subject": "Lunch in 2028"}))
        .await;
    let renamed = odoo.sync(&env, &options()).await;
    assert!(no_deletes(&renamed), "{:?}", renamed.local_ops);
    assert_eq!(renamed.report.local.updated, 1, "{:?}", renamed.report);
    assert_eq!(odoo.records[&local].name.as_deref(), Some("Lunch in 2028"));

    // Really deleted: the confirmation read answers `ErrorItemNotFound`, Odoo deletes it.
    env.delete_in_outlook(&remote).await;
    let deleted = odoo.sync(&env, &options()).await;
    assert_eq!(deleted.local_ops.len(), 1, "{:?}", deleted.local_ops);
    assert_eq!(deleted.local_ops[0].action, LocalAction::Delete);
    assert_eq!(deleted.local_ops[0].local_id, Some(local));
    assert!(!odoo.records.contains_key(&local));
    assert_eq!(linked_local(&odoo, &remote), None);
}

#[tokio::test]
async fn a_deletion_whose_confirmation_fails_deletes_nothing_until_confirmed() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (_, remote) = synced_pair(&env, &mut odoo).await;
    let local = linked_local(&odoo, &remote).unwrap();

    env.delete_in_outlook(&remote).await;
    env.fail_reads_of(&remote).await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.local_ops.is_empty(), "{:?}", output.local_ops);
    assert!(odoo.records.contains_key(&local));
    assert_eq!(linked_local(&odoo, &remote), Some(local));
    assert_eq!(output.report.failures.len(), 1, "{:?}", output.report);
    let failure = &output.report.failures[0];
    assert_eq!(failure.remote_id.as_deref(), Some(remote.as_str()));
    assert_eq!(failure.action, "read");
    assert_eq!(failure.label.as_deref(), Some("Outlook lunch"));
    assert!(
        failure.reason.contains("nothing was deleted"),
        "{failure:?}"
    );
    assert!(output.state.pending_remote.contains(&remote));

    // Outlook answers again: the pending read confirms the deletion.
    env.clear_faults().await;
    let retry = odoo.sync(&env, &options()).await;
    assert!(retry.report.failures.is_empty(), "{:?}", retry.report);
    assert_eq!(retry.local_ops.len(), 1, "{:?}", retry.local_ops);
    assert_eq!(retry.local_ops[0].action, LocalAction::Delete);
    assert!(!odoo.records.contains_key(&local));
    assert!(retry.state.pending_remote.is_empty());
    let idle = odoo.sync(&env, &options()).await;
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
}

#[tokio::test]
async fn a_series_moved_out_of_the_window_is_never_deleted_for_its_removed_occurrences() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    odoo.add(odoo_event(
        "Anchor",
        "2026-06-20 08:00:00",
        "2026-06-20 09:00:00",
        &[],
    ));
    let mut series = odoo_event(
        "Daily standup",
        "2026-06-01 07:00:00",
        "2026-06-01 07:15:00",
        &[],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "daily", "interval": 1, "end_type": "count", "count": 4
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    odoo.sync(&env, &options()).await;
    odoo.sync(&env, &options()).await;
    let master = odoo
        .state
        .links
        .iter()
        .find(|l| l.status.local_id == id.to_string())
        .unwrap()
        .status
        .remote_id
        .clone();

    // The whole series moves to 2028: every occurrence in the window comes back as removed. The
    // master cannot be read: nothing is deleted, the failure is reported.
    env.patch_in_outlook(
        &master,
        json!({
            "start": {"dateTime": "2028-06-01T07:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2028-06-01T07:15:00", "timeZone": "UTC"},
        }),
    )
    .await;
    env.fail_reads_of(&master).await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.local_ops.is_empty(), "{:?}", output.local_ops);
    assert!(odoo.records.contains_key(&id));
    assert!(
        output
            .report
            .failures
            .iter()
            .any(|f| f.remote_id.as_deref() == Some(master.as_str())),
        "{:?}",
        output.report.failures
    );

    // Read again next run: the master is there, so the series is updated, not deleted.
    env.clear_faults().await;
    let retry = odoo.sync(&env, &options()).await;
    assert!(retry.report.failures.is_empty(), "{:?}", retry.report);
    assert!(no_deletes(&retry), "{:?}", retry.local_ops);
    assert_eq!(retry.local_ops.len(), 1, "{:?}", retry.local_ops);
    assert_eq!(retry.local_ops[0].action, LocalAction::Update);
    assert_eq!(odoo.records[&id].start.unwrap().year(), 2028);
    assert_eq!(linked_local(&odoo, &master), Some(id));
}

#[tokio::test]
async fn a_cancelled_meeting_that_left_the_window_is_archived_in_odoo() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;

    // Another hosted mailbox invites the owner: the owner's copy is synced into Odoo.
    let organiser = "org@contoso.com";
    let tokens = env
        .control(
            reqwest::Method::POST,
            &format!("/_emulator/mailboxes/{organiser}/token"),
            json!({}),
        )
        .await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let call = |method: reqwest::Method, path: String, body: Value| {
        let request = env
            .http
            .request(method, env.url(&path))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    let mut meeting = graph_event(
        "Board meeting",
        "2026-07-01T09:00:00",
        "2026-07-01T10:00:00",
    );
    meeting["attendees"] = json!([{"emailAddress": {"address": MAILBOX}, "type": "required"}]);
    let created = call(reqwest::Method::POST, "/v1.0/me/events".into(), meeting).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.local.created, 1, "{:?}", output.report);
    let copy = odoo
        .records
        .iter()
        .find(|(_, r)| r.name.as_deref() == Some("Board meeting"))
        .map(|(id, _)| *id)
        .unwrap();

    // The organiser moves it out of the window, then cancels it: the owner's delta says
    // `@removed`, but the copy is still there, cancelled. Archived, as any cancellation.
    call(
        reqwest::Method::PATCH,
        format!("/v1.0/me/events/{id}"),
        json!({
            "start": {"dateTime": "2028-07-01T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2028-07-01T10:00:00", "timeZone": "UTC"},
        }),
    )
    .await;
    call(
        reqwest::Method::POST,
        format!("/v1.0/me/events/{id}/cancel"),
        json!({}),
    )
    .await;
    let output = odoo.sync(&env, &options()).await;
    assert!(no_deletes(&output), "{:?}", output.local_ops);
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].local_id, Some(copy));
    assert!(!odoo.records[&copy].active);
    assert_eq!(odoo.records[&copy].start.unwrap().year(), 2028);
}

// ---------------------------------------------------------------------------------------------
// Organizer rules: meetings the owner attends.

const ORGANISER: &str = "org@contoso.com";
const GUEST: &str = "carl@fabrikam.com";

/// A meeting in Odoo that the owner attends and `ORGANISER` organizes.
fn attended_event(name: &str, start: &str, stop: &str) -> OdooEvent {
    let mut values = odoo_event(name, start, stop, &[MAILBOX, GUEST]);
    values.is_organizer = false;
    values.organizer_email = Some(ORGANISER.into());
    values.own_state = Some(OdooAttendeeState::NeedsAction);
    values
}

/// The organiser's meeting with the owner and a guest, created in the organiser's Outlook.
fn meeting(subject: &str, start: &str, end: &str) -> Value {
    let mut meeting = graph_event(subject, start, end);
    meeting["attendees"] = json!([
        {"emailAddress": {"address": MAILBOX}, "type": "required"},
        {"emailAddress": {"address": GUEST}, "type": "required"},
    ]);
    meeting
}

fn kinds(mails: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = mails
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_event_the_owner_only_attends_waits_for_the_invitation_then_is_linked() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let (organiser, _) = env.mailbox(ORGANISER).await;
    env.reset_counters().await;

    // The owner attends a meeting the organiser has not sent yet: nothing is created in the
    // owner's Outlook (that would be a second meeting, inviting everyone again), run after run.
    let id = odoo.add(attended_event(
        "Design review",
        "2026-07-01 09:00:00",
        "2026-07-01 10:00:00",
    ));
    let dry = odoo
        .sync(
            &env,
            &RunOptions {
                dry_run: true,
                ..options()
            },
        )
        .await;
    assert_eq!(dry.report.remote.created, 0, "{:?}", dry.report);
    assert_eq!(dry.report.attendee_notes.len(), 1, "{:?}", dry.report);
    for _ in 0..2 {
        let output = odoo.sync(&env, &options()).await;
        assert_eq!(output.report.remote.created, 0, "{:?}", output.report);
        assert!(output.report.failures.is_empty(), "{:?}", output.report);
        assert!(output.report.planned.is_empty(), "{:?}", output.report);
        assert_eq!(output.retry_local, [id]);
        let notes = &output.report.attendee_notes;
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].kind, AttendeeNoteKind::WaitingForInvitation);
        assert_eq!(notes[0].local_id.as_deref(), Some(id.to_string().as_str()));
        assert!(
            notes[0]
                .reason
                .contains("waiting for the organizer's invitation")
        );
        assert!(linked_remote(&odoo, id).is_none());
        assert!(
            !subjects(&env.outlook().await).contains(&"Design review".to_owned()),
            "created in the attendee's mailbox"
        );
        assert!(env.mails().await.is_empty());
    }

    // The invitation arrives: the copy is linked to the waiting event (no iCalUId in Odoo: by
    // subject, start, end and organizer), never copied on either side.
    env.call_as(
        &organiser,
        reqwest::Method::POST,
        "events",
        meeting(
            "Design review",
            "2026-07-01T09:00:00",
            "2026-07-01T10:00:00",
        ),
    )
    .await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(
        (output.report.remote.created, output.report.local.created),
        (0, 0),
        "{:?}",
        output.report
    );
    assert!(output.retry_local.is_empty());
    assert!(
        output
            .report
            .attendee_notes
            .iter()
            .all(|n| n.kind != AttendeeNoteKind::WaitingForInvitation)
    );
    let copies: Vec<Value> = env
        .outlook()
        .await
        .into_iter()
        .filter(|e| e["subject"] == "Design review")
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0]["isOrganizer"], false);
    assert_eq!(
        linked_remote(&odoo, id).as_deref(),
        copies[0]["id"].as_str()
    );
    let named = odoo
        .records
        .values()
        .filter(|r| r.name.as_deref() == Some("Design review"))
        .count();
    assert_eq!(named, 1);
    // Only the organiser's invitations were mailed.
    assert_eq!(
        kinds(&env.mails().await),
        [
            ("invitation".to_owned(), GUEST.to_owned()),
            ("invitation".to_owned(), MAILBOX.to_owned())
        ]
    );
    let echo = odoo.sync(&env, &options()).await;
    assert!(
        echo.report.planned.is_empty() && echo.local_ops.is_empty(),
        "{:?}",
        echo.report
    );
}

/// "Synchronize only new events" keeps pre-existing Odoo events out of Outlook for good; a
/// meeting the owner attends is never sent anyway, so it is not kept out: it waits, and is linked
/// when the invitation arrives instead of being copied into Odoo a second time.
#[tokio::test]
async fn the_first_sync_policy_does_not_keep_an_attended_meeting_from_its_invitation() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (organiser, _) = env.mailbox(ORGANISER).await;
    env.seed(vec![graph_event(
        "Keep me",
        "2026-06-09T11:00:00",
        "2026-06-09T12:00:00",
    )])
    .await;
    odoo.add(odoo_event(
        "Old Odoo meeting",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
        &[],
    ));
    let id = odoo.add(attended_event(
        "Planning",
        "2026-07-08 09:00:00",
        "2026-07-08 10:00:00",
    ));
    let only_new = RunOptions {
        first_sync: FirstSync::None,
        ..options()
    };
    let first = odoo.sync(&env, &only_new).await;
    assert_eq!(first.report.excluded_by_first_sync, 1, "{:?}", first.report);
    assert!(!odoo.state.excluded_local.contains(&id.to_string()));
    assert_eq!(first.retry_local, [id]);
    env.call_as(
        &organiser,
        reqwest::Method::POST,
        "events",
        meeting("Planning", "2026-07-08T09:00:00", "2026-07-08T10:00:00"),
    )
    .await;
    let output = odoo.sync(&env, &only_new).await;
    assert_eq!(output.report.local.created, 0, "{:?}", output.local_ops);
    assert!(linked_remote(&odoo, id).is_some());
    let planning = odoo
        .records
        .values()
        .filter(|r| r.name.as_deref() == Some("Planning"))
        .count();
    assert_eq!(planning, 1);
}

/// The Outlook id linked to an Odoo id.
fn linked_remote(odoo: &Odoo, local: i64) -> Option<String> {
    odoo.state
        .links
        .iter()
        .find(|l| l.status.local_id == local.to_string())
        .map(|l| l.status.remote_id.clone())
}

#[tokio::test]
async fn an_attendee_answers_with_the_response_action_and_keeps_the_organizers_meeting() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let (organiser, _) = env.mailbox(ORGANISER).await;
    let created = env
        .call_as(
            &organiser,
            reqwest::Method::POST,
            "events",
            meeting("Budget", "2026-07-02T09:00:00", "2026-07-02T10:00:00"),
        )
        .await;
    let original = created["id"].as_str().unwrap().to_owned();
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.local.created, 1, "{:?}", output.report);
    let (id, values) = odoo
        .records
        .iter()
        .find(|(_, r)| r.name.as_deref() == Some("Budget"))
        .map(|(id, r)| (*id, r.clone()))
        .unwrap();
    assert!(!values.is_organizer);
    let copy = linked_remote(&odoo, id).unwrap();

    // In Odoo the owner accepts, sets a reminder (their own) and renames the meeting (not theirs).
    env.reset_counters().await;
    let record = odoo.records.get_mut(&id).unwrap();
    record.own_state = Some(OdooAttendeeState::Accepted);
    record.alarm_minutes = vec![30];
    record.name = Some("My budget".into());
    // A dry run predicts the answer and the kept subject, and writes nothing.
    let dry = odoo
        .sync(
            &env,
            &RunOptions {
                dry_run: true,
                ..options()
            },
        )
        .await;
    assert_eq!(dry.report.mails.responses, 1, "{:?}", dry.report);
    assert_eq!(dry.report.attendee_notes.len(), 1);
    assert_eq!(
        (dry.report.remote.updated, dry.report.local.updated),
        (1, 1)
    );
    assert!(env.mails().await.is_empty());
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1);
    assert_eq!(output.report.mails.responses, 1);
    assert_eq!(output.report.mails.total(), 1);
    let notes = &output.report.attendee_notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].kind, AttendeeNoteKind::OrganizerVersionKept);
    assert_eq!(notes[0].fields, ["subject"]);
    assert_eq!(notes[0].remote_id.as_deref(), Some(copy.as_str()));
    // One `$batch`: the PATCH of the reminder and the answer; no other write.
    let requests = env.requests().await;
    let routes = requests["by_route"].as_object().unwrap();
    let writes: BTreeMap<&str, u64> = routes
        .iter()
        .filter(|(route, _)| !route.starts_with("GET"))
        .map(|(route, n)| (route.as_str(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(writes.len(), 3, "{requests}");
    assert_eq!(writes.get("POST /v1.0/$batch"), Some(&1), "{requests}");
    assert!(
        writes
            .iter()
            .any(|(r, n)| r.starts_with("PATCH") && *n == 1),
        "{requests}"
    );
    assert!(
        writes
            .iter()
            .any(|(r, n)| r.ends_with("/accept") && *n == 1),
        "{requests}"
    );
    // The organiser hears the answer; nobody else gets anything.
    let mails = env.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(
        (&mails[0]["kind"], &mails[0]["to"], &mails[0]["response"]),
        (&json!("response"), &json!(ORGANISER), &json!("accepted"))
    );
    let mine = env.outlook().await;
    let mine = mine.iter().find(|e| e["id"] == copy.as_str()).unwrap();
    assert_eq!(mine["subject"], "Budget");
    assert_eq!(mine["reminderMinutesBeforeStart"], 30);
    assert_eq!(mine["responseStatus"]["response"], "accepted");
    let theirs = env.events_of(ORGANISER).await;
    let theirs = theirs
        .iter()
        .find(|e| e["id"] == original.as_str())
        .unwrap();
    assert_eq!(theirs["subject"], "Budget");
    let answer = theirs["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["emailAddress"]["address"] == MAILBOX)
        .unwrap();
    assert_eq!(answer["status"]["response"], "accepted");
    // Odoo holds the organiser's subject, the owner's answer and reminder.
    let record = &odoo.records[&id];
    assert_eq!(record.name.as_deref(), Some("Budget"));
    assert_eq!(record.own_state, Some(OdooAttendeeState::Accepted));
    assert_eq!(record.alarm_minutes, [30]);
    let echo = odoo.sync(&env, &options()).await;
    assert!(
        echo.report.planned.is_empty() && echo.local_ops.is_empty(),
        "{:?}",
        echo.report
    );

    // Changed on both sides: the organiser moves the meeting to another room while the owner
    // declines and retitles it in Odoo. Both the room and the answer survive.
    env.call_as(
        &organiser,
        reqwest::Method::PATCH,
        &format!("events/{original}"),
        json!({"location": {"displayName": "Room 4"}}),
    )
    .await;
    let record = odoo.records.get_mut(&id).unwrap();
    record.own_state = Some(OdooAttendeeState::Declined);
    record.name = Some("Not going".into());
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert!(output.report.conflicts.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.mails.responses, 1);
    assert_eq!(output.report.attendee_notes.len(), 1);
    assert_eq!(output.report.attendee_notes[0].fields, ["subject"]);
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [("response".to_owned(), ORGANISER.to_owned())]
    );
    assert_eq!(mails[0]["response"], "declined");
    let record = &odoo.records[&id];
    assert_eq!(record.name.as_deref(), Some("Budget"));
    assert_eq!(record.location.as_deref(), Some("Room 4"));
    assert_eq!(record.own_state, Some(OdooAttendeeState::Declined));
    let echo = odoo.sync(&env, &options()).await;
    assert!(
        echo.report.planned.is_empty() && echo.local_ops.is_empty(),
        "{:?}",
        echo.report
    );

    // A tentative answer is the third action.
    odoo.records.get_mut(&id).unwrap().own_state = Some(OdooAttendeeState::Tentative);
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.attendee_notes.is_empty());
    let mails = env.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["response"], "tentativelyAccepted");
    let requests = env.requests().await;
    assert!(
        requests["by_route"]
            .as_object()
            .unwrap()
            .keys()
            .any(|r| r.ends_with("/tentativelyAccept")),
        "{requests}"
    );
}

/// The owner removes an attended meeting from their Outlook while answering it in Odoo: only the
/// organiser could send it again, so the removal stands (modification does not beat deletion for
/// a copy the owner cannot create), and the report says the Odoo change went with it.
#[tokio::test]
async fn an_attended_meeting_removed_from_the_mailbox_is_not_made_again() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let (organiser, _) = env.mailbox(ORGANISER).await;
    env.call_as(
        &organiser,
        reqwest::Method::POST,
        "events",
        meeting("Team sync", "2026-07-03T09:00:00", "2026-07-03T10:00:00"),
    )
    .await;
    odoo.sync(&env, &options()).await;
    let (id, copy) = odoo
        .state
        .links
        .iter()
        .find_map(|l| {
            let id: i64 = l.status.local_id.parse().ok()?;
            (odoo.records[&id].name.as_deref() == Some("Team sync"))
                .then(|| (id, l.status.remote_id.clone()))
        })
        .unwrap();
    env.delete_in_outlook(&copy).await;
    odoo.records.get_mut(&id).unwrap().own_state = Some(OdooAttendeeState::Accepted);
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.created, 0, "{:?}", output.report);
    assert_eq!(output.report.local.deleted, 1, "{:?}", output.report);
    let notes = &output.report.attendee_notes;
    assert_eq!(notes.len(), 1, "{:?}", output.report);
    assert_eq!(notes[0].kind, AttendeeNoteKind::RemovedWithOdooChanges);
    assert_eq!(notes[0].local_id, Some(id.to_string()));
    assert_eq!(notes[0].remote_id, Some(copy.clone()));
    assert_eq!(notes[0].label.as_deref(), Some("Team sync"));
    assert!(!odoo.records.contains_key(&id));
    assert!(!subjects(&env.outlook().await).contains(&"Team sync".to_owned()));
    assert_eq!(env.events_of(ORGANISER).await.len(), 1);
    assert!(env.mails().await.is_empty());
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report);
}

/// Found by the state machine's duplicate count: an awaited meeting the owner moves in Odoo before
/// the organiser's invitation is linked no longer matches the copy by subject, start, end and
/// organizer (no iCalUId in Odoo yet). It is the only meeting of that organiser with that subject
/// waiting in Odoo, and the copy the only one arriving, so they are linked all the same (never a
/// second Odoo event). The copy is the meeting (organizer rules): its times go back to Odoo, the
/// report says the move was not kept, and nothing is written to Outlook or mailed.
#[tokio::test]
async fn an_awaited_meeting_moved_in_odoo_is_linked_when_its_invitation_arrives() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let (organiser, _) = env.mailbox(ORGANISER).await;
    let id = odoo.add(attended_event(
        "Design review",
        "2026-07-01 09:00:00",
        "2026-07-01 10:00:00",
    ));
    env.call_as(
        &organiser,
        reqwest::Method::POST,
        "events",
        meeting(
            "Design review",
            "2026-07-01T09:00:00",
            "2026-07-01T10:00:00",
        ),
    )
    .await;
    // Only what this sync causes is counted (the organiser's invitations are not).
    env.reset_counters().await;
    let record = odoo.records.get_mut(&id).unwrap();
    record.start = Some("2026-07-01T13:00:00".parse().unwrap());
    record.stop = Some("2026-07-01T14:00:00".parse().unwrap());

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert!(output.report.conflicts.is_empty(), "{:?}", output.report);
    assert!(output.retry_local.is_empty(), "{:?}", output.retry_local);
    let named = odoo
        .records
        .values()
        .filter(|values| values.name.as_deref() == Some("Design review"))
        .count();
    assert_eq!(
        named, 1,
        "one Odoo event for the meeting: {:?}",
        output.report
    );
    let copy = env
        .outlook()
        .await
        .into_iter()
        .find(|e| e["subject"] == "Design review")
        .unwrap();
    assert_eq!(copy["isOrganizer"], false);
    assert_eq!(
        linked_remote(&odoo, id).as_deref(),
        copy["id"].as_str(),
        "the awaited event is linked to the copy: {:?}",
        odoo.state.links
    );
    // The organiser's times, not the move.
    assert_eq!(
        (output.report.local.created, output.report.local.updated),
        (0, 1),
        "{:?}",
        output.local_ops
    );
    let record = &odoo.records[&id];
    assert_eq!(
        (record.start, record.stop),
        (
            Some("2026-07-01T09:00:00".parse().unwrap()),
            Some("2026-07-01T10:00:00".parse().unwrap())
        )
    );
    assert_eq!(record.organizer_email.as_deref(), Some(ORGANISER));
    let notes = &output.report.attendee_notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].kind, AttendeeNoteKind::OrganizerVersionKept);
    assert_eq!(notes[0].local_id, Some(id.to_string()));
    assert_eq!(notes[0].remote_id.as_deref(), copy["id"].as_str());
    assert_eq!(notes[0].fields, ["start/end"]);
    assert!(
        notes[0]
            .reason
            .contains("start/end differed from the organizer's invitation"),
        "{}",
        notes[0].reason
    );
    // The copy kept its times: nothing was written to it.
    let start = copy["start"]["dateTime"].as_str().unwrap();
    assert!(start.starts_with("2026-07-01T09:00:00"), "{copy}");
    assert_nothing_sent(&env, &output).await;
    assert_next_run_idle(&env, &mut odoo).await;
}

/// An attended meeting found with its copy by the ordinary keys (same subject, times and
/// organizer) but differing from it: the owner accepted in Odoo, and Odoo holds another room. No
/// conflict for the policy to settle (which could let the copy overwrite the answer): the
/// organizer's room goes to Odoo, the owner's answer to Outlook, whatever the policy.
#[tokio::test]
async fn an_attended_meeting_first_linked_with_differences_keeps_the_answer_and_the_organizers_room()
 {
    for policy in [ConflictPolicy::RemoteWins, ConflictPolicy::LatestWins] {
        let env = Env::new().await;
        let mut odoo = Odoo::default();
        synced_pair(&env, &mut odoo).await;
        let (organiser, _) = env.mailbox(ORGANISER).await;
        let mut values = attended_event("Planning", "2026-07-03 09:00:00", "2026-07-03 10:00:00");
        values.own_state = Some(OdooAttendeeState::Accepted);
        values.location = Some("Odoo room".into());
        let id = odoo.add(values);
        let mut invitation = meeting("Planning", "2026-07-03T09:00:00", "2026-07-03T10:00:00");
        invitation["location"] = json!({"displayName": "Organiser's room"});
        env.call_as(&organiser, reqwest::Method::POST, "events", invitation)
            .await;
        env.reset_counters().await;

        let options = RunOptions {
            policy,
            ..options()
        };
        let output = odoo.sync(&env, &options).await;
        assert!(
            output.report.conflicts.is_empty(),
            "{policy:?}: {:?}",
            output.report
        );
        assert!(
            output.report.failures.is_empty(),
            "{policy:?}: {:?}",
            output.report
        );
        let record = &odoo.records[&id];
        assert_eq!(
            record.location.as_deref(),
            Some("Organiser's room"),
            "{policy:?}"
        );
        assert_eq!(
            record.own_state,
            Some(OdooAttendeeState::Accepted),
            "{policy:?}"
        );
        let copy = env
            .outlook()
            .await
            .into_iter()
            .find(|e| e["subject"] == "Planning")
            .unwrap();
        assert_eq!(linked_remote(&odoo, id).as_deref(), copy["id"].as_str());
        assert_eq!(copy["responseStatus"]["response"], "accepted", "{policy:?}");
        assert_eq!(copy["location"]["displayName"], "Organiser's room");
        let mails = env.mails().await;
        assert_eq!(
            kinds(&mails),
            [("response".to_owned(), ORGANISER.to_owned())]
        );
        odoo.sync(&env, &options).await;
        assert_next_run_idle(&env, &mut odoo).await;
    }
}

/// Two awaited meetings of one organiser share a subject (a weekly 1:1 sent one at a time), and
/// the owner moved both in Odoo. One invitation arrives: its copy could be either (or neither),
/// so it is linked to neither, never one meeting overwritten with the other. It is imported as
/// an Odoo event of its own (a duplicate a person can delete), and both awaited events keep
/// waiting, untouched.
#[tokio::test]
async fn an_invitation_two_moved_awaited_meetings_could_match_is_linked_to_neither() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    synced_pair(&env, &mut odoo).await;
    let (organiser, _) = env.mailbox(ORGANISER).await;
    let awaited = [
        odoo.add(attended_event(
            "Weekly 1:1",
            "2026-07-06 09:00:00",
            "2026-07-06 09:30:00",
        )),
        odoo.add(attended_event(
            "Weekly 1:1",
            "2026-07-13 09:00:00",
            "2026-07-13 09:30:00",
        )),
    ];
    env.call_as(
        &organiser,
        reqwest::Method::POST,
        "events",
        meeting("Weekly 1:1", "2026-07-06T09:00:00", "2026-07-06T09:30:00"),
    )
    .await;
    env.reset_counters().await;
    for (id, day) in awaited.iter().zip(["2026-07-06", "2026-07-13"]) {
        let record = odoo.records.get_mut(id).unwrap();
        record.start = Some(format!("{day}T11:00:00").parse().unwrap());
        record.stop = Some(format!("{day}T11:30:00").parse().unwrap());
    }
    let before: Vec<OdooEvent> = awaited.iter().map(|id| odoo.records[id].clone()).collect();

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.local.created, 1, "{:?}", output.local_ops);
    assert_eq!(output.report.local.updated, 0, "{:?}", output.local_ops);
    let mut waiting = output.retry_local.clone();
    waiting.sort_unstable();
    assert_eq!(waiting, awaited);
    for (id, values) in awaited.iter().zip(&before) {
        assert!(
            linked_remote(&odoo, *id).is_none(),
            "{:?}",
            odoo.state.links
        );
        assert_eq!(&odoo.records[id], values);
    }
    let copy = env
        .outlook()
        .await
        .into_iter()
        .find(|e| e["subject"] == "Weekly 1:1")
        .unwrap();
    let imported = odoo
        .state
        .links
        .iter()
        .find(|l| copy["id"] == l.status.remote_id.as_str())
        .map(|l| l.status.local_id.parse::<i64>().unwrap())
        .unwrap();
    assert!(!awaited.contains(&imported));
    assert_eq!(
        odoo.records[&imported].start,
        Some("2026-07-06T09:00:00".parse().unwrap())
    );
    let notes = &output.report.attendee_notes;
    assert!(
        notes.len() == 2
            && notes
                .iter()
                .all(|n| n.kind == AttendeeNoteKind::WaitingForInvitation),
        "{notes:?}"
    );
    assert_nothing_sent(&env, &output).await;
    assert_next_run_idle(&env, &mut odoo).await;
}

// ---------------------------------------------------------------------------------------------
// Several synced users, one meeting.

const ADA: &str = "ada@contoso.com";
const BEN: &str = "ben@contoso.com";

/// One Odoo database that several users sync, as the addon keeps it: one record per meeting
/// (organizer, attendees with their answers), a sync state per mailbox, and each mailbox's view
/// of a record (`is_organizer`, `own_state`, the iCalUId any link knows, this mailbox's first).
#[derive(Default)]
struct SharedOdoo {
    records: BTreeMap<i64, OdooEvent>,
    states: BTreeMap<&'static str, SyncState>,
    next_id: i64,
}

fn same_address(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

impl SharedOdoo {
    fn add(&mut self, values: OdooEvent) -> i64 {
        self.next_id += 1;
        self.records.insert(self.next_id, values);
        self.next_id
    }

    fn involves(values: &OdooEvent, mailbox: &str) -> bool {
        same_address(values.organizer_email.as_deref(), mailbox)
            || values
                .attendees
                .iter()
                .any(|a| same_address(a.email.as_deref(), mailbox))
    }

    fn view(&self, id: i64, mailbox: &str) -> OdooEvent {
        let mut values = self.records[&id].clone();
        values.id = Some(id);
        values.is_organizer = same_address(values.organizer_email.as_deref(), mailbox);
        values.own_state = if values.is_organizer {
            None
        } else {
            values
                .attendees
                .iter()
                .find(|a| same_address(a.email.as_deref(), mailbox))
                .map(|a| a.state)
        };
        let organizer = values.organizer_email.clone().unwrap_or_default();
        values
            .attendees
            .retain(|a| !same_address(a.email.as_deref(), &organizer));
        let key = id.to_string();
        let mut states: Vec<(&&str, &SyncState)> = self.states.iter().collect();
        states.sort_by_key(|(m, _)| **m != mailbox);
        values.ical_uid = states.iter().find_map(|(_, state)| {
            state
                .links
                .iter()
                .find(|l| l.status.local_id == key)
                .and_then(|l| l.status.ical_uid.clone())
        });
        values
    }

    fn listing(&self, mailbox: &str) -> LocalListing {
        LocalListing::Full {
            events: self
                .records
                .iter()
                .filter(|(_, values)| Self::involves(values, mailbox))
                .map(|(id, values)| LocalEvent {
                    values: self.view(*id, mailbox),
                    modified_at: None,
                    organizer_syncs: [ADA, BEN]
                        .iter()
                        .any(|m| same_address(values.organizer_email.as_deref(), m)),
                })
                .collect(),
        }
    }

    /// A mailbox's view written back to the shared record.
    fn store(&mut self, id: i64, mailbox: &str, mut values: OdooEvent) {
        if values.is_organizer {
            values.organizer_email = Some(mailbox.to_owned());
        }
        if let Some(state) = values.own_state {
            match values
                .attendees
                .iter_mut()
                .find(|a| same_address(a.email.as_deref(), mailbox))
            {
                Some(me) => me.state = state,
                None => values.attendees.push(
                    serde_json::from_value(json!({"email": mailbox, "state": state})).unwrap(),
                ),
            }
        }
        values.id = None;
        values.is_organizer = false;
        values.own_state = None;
        values.ical_uid = None;
        self.records.insert(id, values);
    }

    async fn sync(&mut self, client: &GraphClient, mailbox: &'static str) -> RunOutput {
        let input = RunInput {
            state: self.states.get(mailbox).cloned().unwrap_or_default(),
            local: self.listing(mailbox),
            sent: Vec::new(),
        };
        let options = RunOptions {
            mailbox: mailbox.into(),
            transaction_salt: format!("db-1/{mailbox}"),
            ..options()
        };
        let output = run(client, input, &options).await.unwrap();
        assert!(
            output.report.failures.is_empty(),
            "{mailbox}: {:?}",
            output.report.failures
        );
        let mut state = output.state.clone();
        for write in output.local_ops.clone() {
            match write.action {
                LocalAction::Create => {
                    self.next_id += 1;
                    let id = self.next_id;
                    self.store(id, mailbox, write.values.unwrap());
                    let mut link = write.link.unwrap();
                    link.status.local_id = id.to_string();
                    state.links.push(link);
                }
                LocalAction::Update => {
                    self.store(write.local_id.unwrap(), mailbox, write.values.unwrap());
                    state.links.push(write.link.unwrap());
                }
                LocalAction::Delete => {
                    self.records.remove(&write.local_id.unwrap());
                }
            }
        }
        self.states.insert(mailbox, state);
        output
    }
}

/// Ada organizes a meeting in Odoo with Ben (also synced) and an outside guest; the two mailboxes
/// sync in `order`, then twice more each. Whatever the order, Odoo holds one event linked to both
/// copies, each mailbox one copy, and each attendee got exactly one invitation.
async fn one_meeting_two_synced_users(order: [&'static str; 2]) {
    let env = Env::new().await;
    let (_, ada) = env.mailbox(ADA).await;
    let (_, ben) = env.mailbox(BEN).await;
    let client = |mailbox: &str| if mailbox == ADA { &ada } else { &ben };
    let mut odoo = SharedOdoo::default();
    let mut values = odoo_event(
        "Kick-off",
        "2026-07-06 09:00:00",
        "2026-07-06 10:00:00",
        &[BEN, GUEST],
    );
    values.organizer_email = Some(ADA.into());
    values.is_organizer = false;
    let id = odoo.add(values);

    let first = odoo.sync(client(order[0]), order[0]).await;
    if order[0] == BEN {
        // Ben only attends and Ada has not sent the meeting: Ben's run waits for it.
        assert_eq!(first.report.remote.created, 0, "{:?}", first.report);
        assert_eq!(first.retry_local, [id]);
        assert_eq!(first.report.attendee_notes.len(), 1);
        assert_eq!(
            first.report.attendee_notes[0].kind,
            AttendeeNoteKind::WaitingForInvitation
        );
        assert!(env.events_of(BEN).await.is_empty());
    }
    odoo.sync(client(order[1]), order[1]).await;
    if order[0] == BEN {
        // Now Ada's copy exists and Ben's is in his mailbox: Ben's next run links it.
        let output = odoo.sync(&ben, BEN).await;
        assert!(output.retry_local.is_empty());
        assert_eq!(output.report.remote.created, 0);
        assert_eq!(output.report.local.created, 0);
    }
    for _ in 0..2 {
        for mailbox in order {
            odoo.sync(client(mailbox), mailbox).await;
        }
    }
    // Settled: a further run on each side plans nothing.
    for mailbox in order {
        let output = odoo.sync(client(mailbox), mailbox).await;
        assert!(
            output.report.planned.is_empty() && output.local_ops.is_empty(),
            "{mailbox}: {:?}",
            output.report
        );
    }

    assert_eq!(odoo.records.len(), 1, "{:?}", odoo.records);
    let ada_copies = env.events_of(ADA).await;
    let ben_copies = env.events_of(BEN).await;
    assert_eq!((ada_copies.len(), ben_copies.len()), (1, 1));
    assert_eq!(ada_copies[0]["isOrganizer"], true);
    assert_eq!(ben_copies[0]["isOrganizer"], false);
    assert_eq!(ada_copies[0]["iCalUId"], ben_copies[0]["iCalUId"]);
    for (mailbox, copy) in [(ADA, &ada_copies[0]), (BEN, &ben_copies[0])] {
        let links = &odoo.states[mailbox].links;
        assert_eq!(links.len(), 1, "{mailbox}: {links:?}");
        assert_eq!(links[0].status.local_id, id.to_string());
        assert_eq!(
            copy["id"].as_str(),
            Some(links[0].status.remote_id.as_str())
        );
    }
    let record = &odoo.records[&id];
    assert_eq!(record.name.as_deref(), Some("Kick-off"));
    assert_eq!(record.organizer_email.as_deref(), Some(ADA));
    assert_eq!(
        kinds(&env.mails().await),
        [
            ("invitation".to_owned(), BEN.to_owned()),
            ("invitation".to_owned(), GUEST.to_owned())
        ]
    );

    // Ada renames the meeting in Odoo and Ben's run comes first: it neither sends the edit from
    // his copy nor undoes it in Odoo; Ada's run sends it, and each attendee gets one update.
    env.reset_counters().await;
    let record = odoo.records.get_mut(&id).unwrap();
    record.name = Some("Kick-off, new room".into());
    record.location = Some("Room 7".into());
    let output = odoo.sync(&ben, BEN).await;
    assert!(
        output.report.attendee_notes.is_empty(),
        "{:?}",
        output.report
    );
    assert_eq!(output.report.remote.updated, 0, "{:?}", output.report);
    assert!(output.local_ops.is_empty(), "{:?}", output.local_ops);
    let output = odoo.sync(&ada, ADA).await;
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    for _ in 0..2 {
        for mailbox in [BEN, ADA] {
            odoo.sync(client(mailbox), mailbox).await;
        }
    }
    for mailbox in [BEN, ADA] {
        let output = odoo.sync(client(mailbox), mailbox).await;
        assert!(
            output.report.planned.is_empty() && output.local_ops.is_empty(),
            "{mailbox}: {:?}",
            output.report
        );
    }
    assert_eq!(odoo.records.len(), 1);
    assert_eq!(
        odoo.records[&id].name.as_deref(),
        Some("Kick-off, new room")
    );
    for mailbox in [ADA, BEN] {
        let copies = env.events_of(mailbox).await;
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0]["subject"], "Kick-off, new room");
        assert_eq!(copies[0]["location"]["displayName"], "Room 7");
    }
    assert_eq!(
        kinds(&env.mails().await),
        [
            ("update".to_owned(), BEN.to_owned()),
            ("update".to_owned(), GUEST.to_owned())
        ]
    );

    // Ben accepts in Odoo, with Ada's run first this time or not: one answer reaches Ada, whose
    // copy and Odoo both say so, and nothing else moves.
    env.reset_counters().await;
    let record = odoo.records.get_mut(&id).unwrap();
    record
        .attendees
        .iter_mut()
        .find(|a| same_address(a.email.as_deref(), BEN))
        .unwrap()
        .state = OdooAttendeeState::Accepted;
    for _ in 0..2 {
        for mailbox in order {
            odoo.sync(client(mailbox), mailbox).await;
        }
    }
    for mailbox in order {
        let output = odoo.sync(client(mailbox), mailbox).await;
        assert!(
            output.report.planned.is_empty() && output.local_ops.is_empty(),
            "{mailbox}: {:?}",
            output.report
        );
    }
    let mails = env.mails().await;
    assert_eq!(kinds(&mails), [("response".to_owned(), ADA.to_owned())]);
    assert_eq!(mails[0]["response"], "accepted");
    let ada_copy = &env.events_of(ADA).await[0];
    let ben_answer = ada_copy["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["emailAddress"]["address"] == BEN)
        .unwrap();
    assert_eq!(ben_answer["status"]["response"], "accepted");
    assert_eq!(
        env.events_of(BEN).await[0]["responseStatus"]["response"],
        "accepted"
    );
    let ben_state = odoo.records[&id]
        .attendees
        .iter()
        .find(|a| same_address(a.email.as_deref(), BEN))
        .map(|a| a.state);
    assert_eq!(ben_state, Some(OdooAttendeeState::Accepted));
    assert_eq!(odoo.records.len(), 1);
}

#[tokio::test]
async fn one_meeting_two_synced_users_organizer_syncs_first() {
    one_meeting_two_synced_users([ADA, BEN]).await;
}

#[tokio::test]
async fn one_meeting_two_synced_users_attendee_syncs_first() {
    one_meeting_two_synced_users([BEN, ADA]).await;
}

impl Env {
    /// (id, start as Graph gives it) of each instance of a series in 2026, by start.
    async fn instance_starts(&self, master: &str) -> Vec<(String, String)> {
        let page: Value = self
            .http
            .get(self.url(&format!(
                "/v1.0/me/events/{master}/instances?startDateTime=2026-01-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"
            )))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut out: Vec<(String, String)> = page["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["id"].as_str().unwrap().to_owned(),
                    o["start"]["dateTime"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// The dates of a master's `cancelledOccurrences`, as the emulator stores them.
    async fn cancelled_dates(&self, master: &str) -> Vec<String> {
        let events = self.outlook().await;
        let event = events.iter().find(|e| e["id"] == master).unwrap();
        let mut dates: Vec<String> = event["cancelledOccurrences"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|oid| oid.as_str().unwrap().rsplit('.').next().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        dates.sort();
        dates
    }
}

fn deleted_dates(odoo: &Odoo, id: i64) -> Vec<String> {
    odoo.records[&id]
        .recurrence
        .as_ref()
        .unwrap()
        .deleted_dates
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test]
async fn a_deleted_occurrence_syncs_each_way_with_one_cancellation_per_attendee() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    // 09:00 in Brussels, 1 to 4 June.
    let mut series = odoo_event(
        "Daily standup",
        "2026-06-01 07:00:00",
        "2026-06-01 07:15:00",
        &["ann@fabrikam.com", "bob@fabrikam.com"],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "daily", "interval": 1, "end_type": "count", "count": 4,
            "event_tz": "Europe/Brussels"
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    odoo.sync(&env, &options()).await;
    let master = linked_remote(&odoo, id).unwrap();
    assert_eq!(env.instance_starts(&master).await.len(), 4);
    assert!(odoo.sync(&env, &options()).await.report.planned.is_empty());
    env.reset_counters().await;

    // Odoo -> Outlook: the occurrence of 2 June deleted in Odoo is deleted in Outlook, that one
    // only, with one cancellation per attendee and no other mail.
    odoo.records
        .get_mut(&id)
        .unwrap()
        .recurrence
        .as_mut()
        .unwrap()
        .deleted_dates = vec!["2026-06-02".parse().unwrap()];
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.mails.cancellations, 2, "{:?}", output.report);
    assert_eq!(output.report.mails.total(), 2, "{:?}", output.report);
    let starts: Vec<String> = env
        .instance_starts(&master)
        .await
        .into_iter()
        .map(|(_, start)| start[..10].to_owned())
        .collect();
    assert_eq!(starts, ["2026-06-01", "2026-06-03", "2026-06-04"]);
    assert_eq!(env.cancelled_dates(&master).await, ["2026-06-02"]);
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("cancellation".to_owned(), "ann@fabrikam.com".to_owned()),
            ("cancellation".to_owned(), "bob@fabrikam.com".to_owned()),
        ]
    );
    // The master itself was not written: only the occurrence went.
    let requests = env.requests().await;
    assert!(!requests.to_string().contains("\"PATCH\""), "{requests}");

    // Nothing changed since: the next run is idle.
    assert_idle_in_one_request(&env, &mut odoo).await;

    // Outlook -> Odoo: the occurrence of 4 June deleted in Outlook becomes a deleted date of the
    // series in Odoo; nothing is written back to Outlook.
    let instances = env.instance_starts(&master).await;
    let (fourth, _) = instances
        .iter()
        .find(|(_, start)| start.starts_with("2026-06-04"))
        .unwrap();
    env.delete_in_outlook(fourth).await;
    env.reset_counters().await;
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    assert_eq!(
        output.report.remote.created + output.report.remote.updated + output.report.remote.deleted,
        0,
        "{:?}",
        output.report
    );
    assert_eq!(deleted_dates(&odoo, id), ["2026-06-02", "2026-06-04"]);
    assert!(output.report.unsupported.is_empty(), "{:?}", output.report);
    assert!(env.mails().await.is_empty());
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
}

/// A daily series of four occurrences at 09:00 in Brussels (07:00 UTC), 1 to 4 June, with
/// `attendees`, synced and idle.
async fn synced_daily_series(env: &Env, odoo: &mut Odoo, attendees: &[&str]) -> (i64, String) {
    let mut series = odoo_event(
        "Daily standup",
        "2026-06-01 07:00:00",
        "2026-06-01 07:15:00",
        attendees,
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "daily", "interval": 1, "end_type": "count", "count": 4,
            "event_tz": "Europe/Brussels"
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    odoo.sync(env, &options()).await;
    let master = linked_remote(odoo, id).unwrap();
    assert!(odoo.sync(env, &options()).await.report.planned.is_empty());
    env.reset_counters().await;
    (id, master)
}

fn exceptions(odoo: &Odoo, id: i64) -> Vec<outlook_model::odoo::OdooException> {
    odoo.records[&id]
        .recurrence
        .as_ref()
        .unwrap()
        .exceptions
        .clone()
}

#[tokio::test]
async fn an_occurrence_moved_in_outlook_reaches_odoo_as_an_exception_of_its_day() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) = synced_daily_series(&env, &mut odoo, &[]).await;
    let instances = env.instance_starts(&master).await;
    let (second, _) = instances
        .iter()
        .find(|(_, start)| start.starts_with("2026-06-02"))
        .unwrap();
    env.patch_in_outlook(
        second,
        json!({
            "subject": "Standup (late)",
            "start": {"dateTime": "2026-06-02T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-06-02T15:30:00", "timeZone": "UTC"},
        }),
    )
    .await;
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert!(output.report.unsupported.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    assert_eq!(output.local_ops[0].local_id, Some(id));
    let moved = exceptions(&odoo, id);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].date.to_string(), "2026-06-02");
    assert_eq!(moved[0].start.unwrap().to_string(), "2026-06-02T15:00:00");
    assert_eq!(moved[0].stop.unwrap().to_string(), "2026-06-02T15:30:00");
    assert_eq!(moved[0].name.as_deref(), Some("Standup (late)"));
    // The series itself is as it was, and nothing is written back to Outlook.
    assert_eq!(
        odoo.records[&id].start.unwrap().to_string(),
        "2026-06-01T07:00:00"
    );
    assert_nothing_sent(&env, &output).await;

    assert_next_run_idle(&env, &mut odoo).await;
}

#[tokio::test]
async fn an_occurrence_edited_in_odoo_is_one_patch_of_that_instance_and_one_update_each() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;

    // The occurrence of 3 June moved to 14:00 UTC and renamed, "this event only".
    odoo.records
        .get_mut(&id)
        .unwrap()
        .recurrence
        .as_mut()
        .unwrap()
        .exceptions = vec![
        serde_json::from_value(json!({
            "date": "2026-06-03", "start": "2026-06-03 14:00:00", "stop": "2026-06-03 14:15:00",
            "name": "Standup (afternoon)"
        }))
        .unwrap(),
    ];
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.mails.updates, 2, "{:?}", output.report);
    assert_eq!(output.report.mails.total(), 2, "{:?}", output.report);
    let starts: Vec<String> = env
        .instance_starts(&master)
        .await
        .into_iter()
        .map(|(_, start)| start[..16].to_owned())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-06-01T07:00",
            "2026-06-02T07:00",
            "2026-06-03T14:00",
            "2026-06-04T07:00"
        ]
    );
    // One update of that occurrence per attendee, and no other mail.
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("update".to_owned(), "ann@fabrikam.com".to_owned()),
            ("update".to_owned(), "bob@fabrikam.com".to_owned()),
        ]
    );
    // One write, to that occurrence (the mails name it, not the master).
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "{requests}"
    );
    assert_mails_name_the_instance_of(&env, &master, "2026-06-03", &mails).await;

    // Nothing changed since: the next run is idle, reads one delta page and writes nothing.
    assert_idle_in_one_request(&env, &mut odoo).await;

    // Back to what the rule says in Odoo: Outlook's occurrence goes back too, with one update.
    odoo.records
        .get_mut(&id)
        .unwrap()
        .recurrence
        .as_mut()
        .unwrap()
        .exceptions
        .clear();
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.mails.updates, 2, "{:?}", output.report);
    let starts: Vec<String> = env
        .instance_starts(&master)
        .await
        .into_iter()
        .map(|(_, start)| start[11..16].to_owned())
        .collect();
    assert_eq!(starts, ["07:00", "07:00", "07:00", "07:00"]);
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
}

impl Env {
    /// Each instance of a series in 2026 as Graph gives it, by the day it starts on.
    async fn instances_by_day(&self, master: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for (id, start) in self.instance_starts(master).await {
            let instance = self
                .call_as(
                    &self.token,
                    reqwest::Method::GET,
                    &format!("events/{id}"),
                    Value::Null,
                )
                .await;
            out.insert(start[..10].to_owned(), instance);
        }
        out
    }

    /// The body (HTML) of each instance of a series in 2026, by the day it starts on.
    async fn instance_bodies(&self, master: &str) -> BTreeMap<String, String> {
        self.instances_by_day(master)
            .await
            .into_iter()
            .map(|(day, instance)| {
                let body = instance["body"]["content"].as_str().unwrap_or_default();
                (day, body.to_owned())
            })
            .collect()
    }

    /// The attendee addresses (sorted, lower case) and the reminder (minutes, `None` when off) of
    /// each instance of a series in 2026, by the day it starts on.
    async fn instance_people(&self, master: &str) -> BTreeMap<String, (Vec<String>, Option<u64>)> {
        self.instances_by_day(master)
            .await
            .into_iter()
            .map(|(day, instance)| (day, people(&instance)))
            .collect()
    }
}

/// The attendee addresses (sorted, lower case) and the reminder (minutes, `None` when off) of a
/// Graph event.
fn people(event: &Value) -> (Vec<String>, Option<u64>) {
    let mut addresses: Vec<String> = event["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["emailAddress"]["address"]
                .as_str()
                .unwrap()
                .to_lowercase()
        })
        .collect();
    addresses.sort();
    let reminder = (event["isReminderOn"] == true)
        .then(|| event["reminderMinutesBeforeStart"].as_u64().unwrap());
    (addresses, reminder)
}

#[tokio::test]
async fn an_occurrence_body_edited_in_odoo_is_one_patch_of_that_instance_with_its_body() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;

    // Only the description of 3 June's occurrence changed, "this event only".
    let edited = |description: &str| -> Vec<outlook_model::odoo::OdooException> {
        vec![
            serde_json::from_value(json!({
                "date": "2026-06-03", "start": "2026-06-03 07:00:00",
                "stop": "2026-06-03 07:15:00", "name": "Daily standup",
                "description": description
            }))
            .unwrap(),
        ]
    };
    let set_exceptions = |odoo: &mut Odoo, exceptions| {
        odoo.records
            .get_mut(&id)
            .unwrap()
            .recurrence
            .as_mut()
            .unwrap()
            .exceptions = exceptions;
    };
    set_exceptions(&mut odoo, edited("<p>Bring the <b>demo</b></p>"));
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.mails.updates, 2, "{:?}", output.report);
    assert_eq!(output.report.mails.total(), 2, "{:?}", output.report);
    // One write, to that occurrence, with its body.
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "{requests}"
    );
    let bodies = env.instance_bodies(&master).await;
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    for (day, body) in &bodies {
        assert_eq!(
            body.contains("Bring the <b>demo</b>"),
            day == "2026-06-03",
            "{bodies:?}"
        );
    }
    let series = env.outlook().await;
    let series = series.iter().find(|e| e["id"] == master.as_str()).unwrap();
    assert!(
        !series["body"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("demo"),
        "the series itself is untouched: {series}"
    );
    // One update of that occurrence per attendee, and no other mail.
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("update".to_owned(), "ann@fabrikam.com".to_owned()),
            ("update".to_owned(), "bob@fabrikam.com".to_owned()),
        ]
    );
    assert_mails_name_the_instance_of(&env, &master, "2026-06-03", &mails).await;

    // Nothing changed since: the next run is idle, reads one delta page and writes nothing.
    assert_idle_in_one_request(&env, &mut odoo).await;

    // Odoo rendering the same body again (other whitespace) is no edit: still idle.
    set_exceptions(&mut odoo, edited("<p>Bring the\n  <b>demo</b></p>\n"));
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert!(env.mails().await.is_empty());
}

#[tokio::test]
async fn an_occurrence_body_edited_in_outlook_reaches_odoo_made_safe() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) = synced_daily_series(&env, &mut odoo, &[]).await;
    let third = env
        .instance_starts(&master)
        .await
        .into_iter()
        .find(|(_, start)| start.starts_with("2026-06-03"))
        .unwrap()
        .0;
    env.patch_in_outlook(
        &third,
        json!({"body": {"contentType": "html",
            "content": "<p>Moved to room 2</p><script>alert(document.cookie)</script>"}}),
    )
    .await;
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert!(output.report.unsupported.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    let edited = exceptions(&odoo, id);
    assert_eq!(edited.len(), 1, "{edited:?}");
    assert_eq!(edited[0].date.to_string(), "2026-06-03");
    assert_eq!(edited[0].start.unwrap().to_string(), "2026-06-03T07:00:00");
    let description = edited[0].description.clone().flatten().unwrap();
    assert!(description.contains("Moved to room 2"), "{description}");
    assert!(!description.contains("script"), "{description}");
    assert_eq!(
        odoo.records[&id].description, None,
        "the series' own is as it was"
    );
    assert_nothing_sent(&env, &output).await;

    assert_next_run_idle(&env, &mut odoo).await;
}

/// The Odoo values of 3 June's occurrence of [`synced_daily_series`] at its rule's times, with
/// `own` values (attendees, alarm_minutes...) on top.
fn third_occurrence(own: Value) -> outlook_model::odoo::OdooException {
    let mut values = json!({
        "date": "2026-06-03", "start": "2026-06-03 07:00:00",
        "stop": "2026-06-03 07:15:00", "name": "Daily standup",
    });
    values
        .as_object_mut()
        .unwrap()
        .extend(own.as_object().unwrap().clone());
    serde_json::from_value(values).unwrap()
}

/// Odoo attendee values, as the addon lists them.
fn odoo_attendees(addresses: &[&str]) -> Value {
    addresses
        .iter()
        .map(|email| json!({"email": email, "name": email, "state": "needsAction"}))
        .collect()
}

fn set_exceptions(odoo: &mut Odoo, id: i64, exceptions: Vec<outlook_model::odoo::OdooException>) {
    odoo.records
        .get_mut(&id)
        .unwrap()
        .recurrence
        .as_mut()
        .unwrap()
        .exceptions = exceptions;
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn an_occurrences_attendees_edited_in_odoo_invite_and_cancel_that_occurrence_only() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;

    // Bob off and Cat on 3 June's occurrence, "this event only".
    set_exceptions(
        &mut odoo,
        id,
        vec![third_occurrence(json!({
            "attendees": odoo_attendees(&["ann@fabrikam.com", "cat@fabrikam.com"])
        }))],
    );
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    let predicted = &output.report.mails;
    assert_eq!(
        (
            predicted.invitations,
            predicted.cancellations,
            predicted.updates
        ),
        (1, 1, 0),
        "{:?}",
        output.report
    );
    // One write, to that occurrence: an invitation to the one added, a cancellation to the one
    // removed, both of that occurrence, and nothing to Ann.
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "{requests}"
    );
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("cancellation".to_owned(), "bob@fabrikam.com".to_owned()),
            ("invitation".to_owned(), "cat@fabrikam.com".to_owned()),
        ]
    );
    assert_mails_name_the_instance_of(&env, &master, "2026-06-03", &mails).await;
    let people = env.instance_people(&master).await;
    for (day, (attendees, _)) in &people {
        let expected: &[&str] = if day == "2026-06-03" {
            &["ann@fabrikam.com", "cat@fabrikam.com"]
        } else {
            &["ann@fabrikam.com", "bob@fabrikam.com"]
        };
        assert_eq!(*attendees, strings(expected), "{people:?}");
    }
    assert_idle_in_one_request(&env, &mut odoo).await;

    // A reminder of its own on that occurrence: one more PATCH of it, which mails no one.
    set_exceptions(
        &mut odoo,
        id,
        vec![third_occurrence(json!({
            "attendees": odoo_attendees(&["ann@fabrikam.com", "cat@fabrikam.com"]),
            "alarm_minutes": [30, 10],
        }))],
    );
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.mails.total(), 0, "{:?}", output.report);
    assert!(env.mails().await.is_empty());
    let people = env.instance_people(&master).await;
    for (day, (_, reminder)) in &people {
        let expected = (day == "2026-06-03").then_some(30);
        assert_eq!(*reminder, expected, "{people:?}");
    }
    assert_idle_in_one_request(&env, &mut odoo).await;

    // Back to the series' people and reminder in Odoo: that occurrence follows again.
    set_exceptions(&mut odoo, id, Vec::new());
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("cancellation".to_owned(), "cat@fabrikam.com".to_owned()),
            ("invitation".to_owned(), "bob@fabrikam.com".to_owned()),
        ]
    );
    let people = env.instance_people(&master).await;
    assert!(
        people.values().all(|p| *p == people["2026-06-01"]),
        "{people:?}"
    );
    assert_next_run_idle(&env, &mut odoo).await;
}

#[tokio::test]
async fn an_occurrences_attendees_and_reminder_edited_in_outlook_reach_that_odoo_occurrence() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;
    let instances = env.instances_by_day(&master).await;
    let third = instances["2026-06-03"]["id"].as_str().unwrap();
    env.patch_in_outlook(
        third,
        json!({
            "attendees": [{"emailAddress": {"address": "Ann@Fabrikam.com"}, "type": "required"},
                          {"emailAddress": {"address": "cat@fabrikam.com", "name": "Cat"},
                           "type": "optional"}],
            "isReminderOn": true, "reminderMinutesBeforeStart": 45,
        }),
    )
    .await;
    env.reset_counters().await;

    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert!(output.report.unsupported.is_empty(), "{:?}", output.report);
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.local_ops);
    assert_eq!(output.local_ops[0].action, LocalAction::Update);
    let edited = exceptions(&odoo, id);
    assert_eq!(edited.len(), 1, "{edited:?}");
    assert_eq!(edited[0].date.to_string(), "2026-06-03");
    let attendees: Vec<String> = edited[0]
        .attendees
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.email.clone().unwrap().to_lowercase())
        .collect();
    assert_eq!(
        attendees,
        strings(&["ann@fabrikam.com", "cat@fabrikam.com"])
    );
    assert_eq!(edited[0].alarm_minutes, Some(vec![45]));
    // The series keeps its own.
    let series = &odoo.records[&id];
    assert_eq!(series.attendees.len(), 2);
    assert!(series.alarm_minutes.is_empty());
    assert_nothing_sent(&env, &output).await;

    assert_next_run_idle(&env, &mut odoo).await;
}

#[tokio::test]
async fn an_occurrences_own_attendees_keep_outlooks_types_through_odoo_edits() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;
    let instances = env.instances_by_day(&master).await;
    let third = instances["2026-06-03"]["id"].as_str().unwrap().to_owned();
    // Cat joins 3 June's occurrence in Outlook, where Bob is optional: Odoo holds no types.
    env.patch_in_outlook(
        &third,
        json!({"attendees": [
            {"emailAddress": {"address": "ann@fabrikam.com"}, "type": "required"},
            {"emailAddress": {"address": "bob@fabrikam.com"}, "type": "optional"},
            {"emailAddress": {"address": "cat@fabrikam.com"}, "type": "required"}]}),
    )
    .await;
    odoo.sync(&env, &options()).await;
    assert_eq!(
        exceptions(&odoo, id)[0].attendees.as_ref().unwrap().len(),
        3
    );
    env.reset_counters().await;
    let bob_type = |instance: &Value| {
        instance["attendees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["emailAddress"]["address"] == "bob@fabrikam.com")
            .unwrap()["type"]
            .clone()
    };

    // A change to the whole series that no occurrence holds on its own: one write, to the master.
    odoo.records.get_mut(&id).unwrap().privacy = Some(outlook_model::odoo::OdooPrivacy::Private);
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "one write, to the master: {requests}"
    );
    assert_eq!(
        bob_type(&env.instances_by_day(&master).await["2026-06-03"]),
        "optional"
    );
    assert_next_run_idle(&env, &mut odoo).await;
    env.reset_counters().await;

    // That occurrence renamed in Odoo: one update of it to its three attendees, Bob still optional.
    let mut renamed = exceptions(&odoo, id);
    renamed[0].name = Some("Standup (demo)".into());
    set_exceptions(&mut odoo, id, renamed);
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [
            ("update".to_owned(), "ann@fabrikam.com".to_owned()),
            ("update".to_owned(), "bob@fabrikam.com".to_owned()),
            ("update".to_owned(), "cat@fabrikam.com".to_owned()),
        ]
    );
    let instance = &env.instances_by_day(&master).await["2026-06-03"];
    assert_eq!(instance["subject"], "Standup (demo)");
    assert_eq!(bob_type(instance), "optional");
    assert_next_run_idle(&env, &mut odoo).await;
}

#[tokio::test]
async fn a_series_attendee_change_in_odoo_is_one_write_to_the_master_whatever_its_exceptions() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (id, master) =
        synced_daily_series(&env, &mut odoo, &["ann@fabrikam.com", "bob@fabrikam.com"]).await;
    // 3 June's occurrence renamed on its own, and synced.
    let renamed = |attendees: &[&str]| {
        third_occurrence(json!({"name": "Standup (demo)", "attendees": odoo_attendees(attendees)}))
    };
    set_exceptions(
        &mut odoo,
        id,
        vec![renamed(&["ann@fabrikam.com", "bob@fabrikam.com"])],
    );
    odoo.sync(&env, &options()).await;
    env.reset_counters().await;

    // Cat joins the series, "all events": every occurrence has her, the renamed one too.
    let all = ["ann@fabrikam.com", "bob@fabrikam.com", "cat@fabrikam.com"];
    odoo.records.get_mut(&id).unwrap().attendees =
        serde_json::from_value(odoo_attendees(&all)).unwrap();
    set_exceptions(&mut odoo, id, vec![renamed(&all)]);
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    let requests = env.requests().await;
    assert_eq!(
        requests["by_route"]["PATCH /v1.0/me/events/{id}"], 1,
        "one write, to the master: {requests}"
    );
    assert!(
        requests["by_route"]
            .as_object()
            .unwrap()
            .keys()
            .all(|route| !route.contains("instances")),
        "no occurrence looked up: {requests}"
    );
    let mails = env.mails().await;
    assert_eq!(
        kinds(&mails),
        [("invitation".to_owned(), "cat@fabrikam.com".to_owned())]
    );
    let people = env.instance_people(&master).await;
    assert!(
        people
            .values()
            .all(|(attendees, _)| *attendees == strings(&all)),
        "{people:?}"
    );
    assert_next_run_idle(&env, &mut odoo).await;
}

#[tokio::test]
async fn a_series_made_in_odoo_with_a_deleted_occurrence_is_created_without_it() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let mut series = odoo_event(
        "Weekly review",
        "2026-06-01 07:00:00",
        "2026-06-01 08:00:00",
        &["ann@fabrikam.com"],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "weekly", "interval": 1, "end_type": "count", "count": 3, "mon": true,
            "event_tz": "Europe/Brussels", "deleted_dates": ["2026-06-08"]
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.created, 1);
    let master = linked_remote(&odoo, id).unwrap();
    let starts: Vec<String> = env
        .instance_starts(&master)
        .await
        .into_iter()
        .map(|(_, start)| start[..10].to_owned())
        .collect();
    assert_eq!(starts, ["2026-06-01", "2026-06-15"]);
    assert_eq!(env.cancelled_dates(&master).await, ["2026-06-08"]);
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert_eq!(deleted_dates(&odoo, id), ["2026-06-08"]);
}

#[tokio::test]
async fn moving_a_series_with_a_deleted_occurrence_deletes_it_again() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let mut series = odoo_event(
        "Daily standup",
        "2026-06-01 07:00:00",
        "2026-06-01 07:15:00",
        &["ann@fabrikam.com"],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "daily", "interval": 1, "end_type": "count", "count": 3,
            "event_tz": "Europe/Brussels", "deleted_dates": ["2026-06-02"]
        }))
        .unwrap(),
    );
    let id = odoo.add(series);
    odoo.sync(&env, &options()).await;
    let master = linked_remote(&odoo, id).unwrap();
    env.reset_counters().await;

    // An hour later: Outlook drops a series' deleted occurrences when its times change, so the
    // run deletes the occurrence of 2 June again after the PATCH of the master.
    let record = odoo.records.get_mut(&id).unwrap();
    record.start = Some("2026-06-01T08:00:00".parse().unwrap());
    record.stop = Some("2026-06-01T08:15:00".parse().unwrap());
    let output = odoo.sync(&env, &options()).await;
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    let starts: Vec<String> = env
        .instance_starts(&master)
        .await
        .into_iter()
        .map(|(_, start)| start[..13].to_owned())
        .collect();
    assert_eq!(starts, ["2026-06-01T08", "2026-06-03T08"]);
    assert_eq!(env.cancelled_dates(&master).await, ["2026-06-02"]);
    // The update of the series, then the cancellation of the occurrence Outlook had brought back.
    assert_eq!(output.report.mails.updates, 1, "{:?}", output.report);
    assert_eq!(output.report.mails.cancellations, 1, "{:?}", output.report);
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
}

/// A weekly Odoo series of `count` Mondays from 2026-06-01.
fn weekly_series(name: &str, count: u32) -> OdooEvent {
    let mut series = odoo_event(
        name,
        "2026-06-01 08:00:00",
        "2026-06-01 08:30:00",
        &["ann@fabrikam.com"],
    );
    series.recurrence = Some(
        serde_json::from_value(json!({
            "rrule_type": "weekly", "interval": 1, "end_type": "count", "count": count, "mon": true
        }))
        .unwrap(),
    );
    series
}

/// The run that creates an event reads its own write back, so a person deleting that event in
/// Outlook before the next run is seen: the next run's delta reports it removed.
#[tokio::test]
async fn an_event_this_run_created_and_a_person_deleted_is_deleted_in_odoo() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Keep me",
        "2026-06-09T11:00:00",
        "2026-06-09T12:00:00",
    )])
    .await;
    let local = odoo.add(odoo_event(
        "Odoo review",
        "2026-06-03 08:00:00",
        "2026-06-03 09:00:00",
        &["ann@fabrikam.com"],
    ));
    let first = odoo.sync(&env, &options()).await;
    assert_eq!(first.report.remote.created, 1, "{:?}", first.report);
    let remote = linked_remote(&odoo, local).unwrap();

    env.delete_in_outlook(&remote).await;
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.local_ops.len(), 1, "{:?}", output.report);
    assert_eq!(output.local_ops[0].action, LocalAction::Delete);
    assert_eq!(output.local_ops[0].local_id, Some(local));
    assert!(!odoo.records.contains_key(&local));
    assert!(
        odoo.state
            .links
            .iter()
            .all(|l| l.status.remote_id != remote)
    );
}

/// After a run that pushed singles and a series, a run with nothing changed on either side reads
/// one empty delta page: our own writes (the series' occurrences included) were read back by the
/// run that made them.
#[tokio::test]
async fn the_run_after_a_push_reads_one_empty_delta_page() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    for day in 2..=6 {
        odoo.add(odoo_event(
            &format!("Single {day}"),
            &format!("2026-06-0{day} 13:00:00"),
            &format!("2026-06-0{day} 14:00:00"),
            &["ann@fabrikam.com"],
        ));
    }
    odoo.add(weekly_series("Weekly sync", 10));
    let first = odoo.sync(&env, &options()).await;
    assert_eq!(first.report.remote.created, 6, "{:?}", first.report);
    assert!(first.report.failures.is_empty(), "{:?}", first.report);

    env.reset_counters().await;
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert!(idle.local_ops.is_empty());
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
    let requests = env.requests().await;
    assert_eq!(requests["total"], 1, "{requests}");

    // Updates and deletions are read back too.
    let ids: Vec<i64> = odoo.records.keys().copied().collect();
    odoo.records.get_mut(&ids[0]).unwrap().name = Some("Single 2 (moved)".into());
    odoo.records.remove(&ids[1]);
    let output = odoo.sync(&env, &options()).await;
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.remote.deleted, 1, "{:?}", output.report);
    env.reset_counters().await;
    let idle = odoo.sync(&env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
}

/// A person's Outlook edit that lands between a run's pull and its read-back of its own writes is
/// not ours: the read-back is discarded, and the next run still carries the edit to Odoo. An
/// event that run created, deleted in Outlook before the next run, is still seen as deleted.
#[tokio::test]
async fn an_outlook_edit_made_during_the_push_reaches_the_next_run() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    let (local, remote) = synced_pair(&env, &mut odoo).await;
    let lunch = linked_local(&odoo, &remote).unwrap();

    odoo.records.get_mut(&local).unwrap().name = Some("Odoo review v2".into());
    let fresh = odoo.add(odoo_event(
        "Fresh",
        "2026-06-04 08:00:00",
        "2026-06-04 09:00:00",
        &[],
    ));
    // Every request takes 200 ms: the person's edit, sent as soon as the run's PATCH reaches the
    // emulator, is applied after the run's pull and before its read-back.
    env.control(
        reqwest::Method::PUT,
        "/_emulator/config",
        json!({"service_time_ms": 200}),
    )
    .await;
    env.reset_counters().await;
    let person = async {
        loop {
            let requests = env.requests().await;
            if requests["by_route"]["PATCH /v1.0/me/events/{id}"].as_u64() == Some(1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        env.patch_in_outlook(&remote, json!({"subject": "Outlook lunch (moved)"}))
            .await;
        std::time::Instant::now()
    };
    let (output, edited) = tokio::join!(
        async {
            let output = odoo.sync(&env, &options()).await;
            (output, std::time::Instant::now())
        },
        person
    );
    let ((output, finished), edited) = (output, edited);
    assert!(edited < finished, "the edit was not made during the run");
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert_eq!(output.report.remote.created, 1, "{:?}", output.report);
    assert!(output.local_ops.is_empty(), "{:?}", output.local_ops);
    env.delete_in_outlook(&linked_remote(&odoo, fresh).unwrap())
        .await;

    env.control(
        reqwest::Method::PUT,
        "/_emulator/config",
        json!({"service_time_ms": 0}),
    )
    .await;
    let next = odoo.sync(&env, &options()).await;
    let mut writes: Vec<_> = next
        .local_ops
        .iter()
        .map(|w| (w.action, w.local_id))
        .collect();
    writes.sort_by_key(|(_, id)| *id);
    assert_eq!(
        writes,
        [
            (LocalAction::Update, Some(lunch)),
            (LocalAction::Delete, Some(fresh))
        ],
        "{:?}",
        next.report
    );
    assert_eq!(
        odoo.records[&lunch].name.as_deref(),
        Some("Outlook lunch (moved)")
    );
    // Our own PATCH, read again with the edit, is no change.
    assert!(
        next.report
            .planned
            .iter()
            .all(|op| op.local_id != Some(local.to_string()))
    );
}

/// The read-back of a run's writes failing (here every delta request answering 500) does not fail
/// the run: the link read before the writes is kept, and the next run reads the writes instead
/// (for a series: its occurrences, then its master, once).
#[tokio::test]
async fn a_failed_read_back_keeps_the_link_read_before_the_writes() {
    let env = Env::new().await;
    let mut odoo = Odoo::default();
    env.seed(vec![graph_event(
        "Keep me",
        "2026-06-09T11:00:00",
        "2026-06-09T12:00:00",
    )])
    .await;
    let series = odoo.add(weekly_series("Weekly sync", 5));
    odoo.sync(&env, &options()).await;

    odoo.records.get_mut(&series).unwrap().name = Some("Weekly sync (new room)".into());
    // The delta requests fail from the moment the run's PATCH reaches the emulator, each request
    // taking 200 ms, so the run's pull is untouched and its read-back fails.
    env.control(
        reqwest::Method::PUT,
        "/_emulator/config",
        json!({"service_time_ms": 200}),
    )
    .await;
    env.reset_counters().await;
    let break_delta = async {
        loop {
            let requests = env.requests().await;
            if requests["by_route"]["PATCH /v1.0/me/events/{id}"].as_u64() == Some(1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        env.control(
            reqwest::Method::POST,
            "/_emulator/faults",
            json!({"kind": "error", "status": 500, "method": "GET", "path_contains": "delta", "count": 10}),
        )
        .await;
    };
    let run_options = options();
    let (output, ()) = tokio::join!(odoo.sync(&env, &run_options), break_delta);
    assert_eq!(output.report.remote.updated, 1, "{:?}", output.report);
    assert!(output.report.failures.is_empty(), "{:?}", output.report);
    let faults = env
        .control(reqwest::Method::GET, "/_emulator/faults", Value::Null)
        .await;
    assert!(
        faults["faults"][0]["count"].as_u64().unwrap() < 10,
        "the read-back did not hit the fault: {faults}"
    );

    env.clear_faults().await;
    env.control(
        reqwest::Method::PUT,
        "/_emulator/config",
        json!({"service_time_ms": 0}),
    )
    .await;
    env.reset_counters().await;
    let next = odoo.sync(&env, &options()).await;
    assert!(next.report.planned.is_empty(), "{:?}", next.report.planned);
    assert_eq!(next.report.requests, 2, "{:?}", next.report);
    let idle = odoo.sync(&env, &options()).await;
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
}

/// The next run plans nothing and has nothing to write in Odoo.
async fn assert_next_run_idle(env: &Env, odoo: &mut Odoo) {
    let idle = odoo.sync(env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert!(idle.local_ops.is_empty(), "{:?}", idle.local_ops);
}

/// `output`'s run wrote nothing to Outlook, and Outlook mailed no one.
async fn assert_nothing_sent(env: &Env, output: &RunOutput) {
    let remote = &output.report.remote;
    assert_eq!(
        remote.created + remote.updated + remote.deleted,
        0,
        "{:?}",
        output.report
    );
    assert!(env.mails().await.is_empty());
}

/// Every mail of `mails` names the occurrence of `master` on `day` (`YYYY-MM-DD`), not the series.
async fn assert_mails_name_the_instance_of(env: &Env, master: &str, day: &str, mails: &[Value]) {
    let (instance, _) = env
        .instance_starts(master)
        .await
        .into_iter()
        .find(|(_, start)| start.starts_with(day))
        .unwrap();
    assert!(
        mails.iter().all(|m| m["event_id"] == instance.as_str()),
        "{mails:?}"
    );
}

/// Counted from now, the next run plans nothing, reads one delta page and mails no one.
async fn assert_idle_in_one_request(env: &Env, odoo: &mut Odoo) {
    env.reset_counters().await;
    let idle = odoo.sync(env, &options()).await;
    assert!(idle.report.planned.is_empty(), "{:?}", idle.report.planned);
    assert_eq!(idle.report.requests, 1, "{:?}", idle.report);
    assert!(env.mails().await.is_empty());
}
