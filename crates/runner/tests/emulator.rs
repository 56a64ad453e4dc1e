//! One-mailbox sync runs against the Graph emulator, with a small in-memory stand-in for the Odoo
//! addon that applies the returned writes exactly as the caller contract says.
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

struct Env {
    emulator: EmulatorHandle,
    http: reqwest::Client,
    client: GraphClient,
    token: String,
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
        let token = tokens["access_token"].as_str().unwrap().to_owned();
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
                access_token: Secret::from(token.clone()),
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
            token,
        }
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

/// The addon, reduced to what the runner needs: records, the stored state, and the contract for
/// applying a run's output.
#[derive(Default)]
struct Odoo {
    records: BTreeMap<i64, OdooEvent>,
    state: SyncState,
    next_id: i64,
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
                })
                .collect(),
        }
    }

    fn apply(&mut self, output: RunOutput) {
        let mut state = output.state;
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
        let input = RunInput {
            state: self.state.clone(),
            local: self.listing(),
        };
        let output = run(&env.client, input, options).await.unwrap();
        if !options.dry_run {
            self.apply(output.clone());
        }
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
        },
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
    };
    let error = run(&env.client, input, &options()).await.unwrap_err();
    assert!(error.is_safety_stop(), "{error}");
    assert!(error.to_string().contains("safety stop"), "{error}");
    assert_eq!(env.outlook().await.len(), 3);

    // Outlook suddenly holds nothing: the same stop, and Odoo is told to delete nothing.
    for event in env.outlook().await {
        env.delete_in_outlook(event["id"].as_str().unwrap()).await;
    }
    let input = RunInput {
        state: odoo.state.clone(),
        local: odoo.listing(),
    };
    let error = run(&env.client, input, &options()).await.unwrap_err();
    assert!(error.is_safety_stop(), "{error}");
    assert!(
        error.to_string().contains("remote side had 3 linked items"),
        "{error}"
    );
}

#[tokio::test]
async fn edited_and_deleted_occurrences_are_reported_and_a_deleted_series_is_deleted() {
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

    // One occurrence moved, another deleted in Outlook: said out loud, not synced, nothing written.
    env.patch_in_outlook(&occurrences[1], json!({"subject": "Standup (special)"}))
        .await;
    env.delete_in_outlook(&occurrences[2]).await;
    let output = odoo.sync(&env, &options()).await;
    assert!(
        output.report.planned.is_empty(),
        "{:?}",
        output.report.planned
    );
    let unsupported: Vec<_> = output
        .report
        .unsupported
        .iter()
        .filter(|u| u.remote_id == master)
        .collect();
    assert!(!unsupported.is_empty(), "{:?}", output.report.unsupported);
    assert!(
        unsupported.iter().any(|u| u.reason.contains("1 deleted")),
        "{unsupported:?}"
    );
    assert!(
        unsupported.iter().any(|u| u.reason.contains("1 edited")),
        "{unsupported:?}"
    );

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
