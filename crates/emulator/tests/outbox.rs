//! The outbox per write kind, and meeting copies in hosted attendee mailboxes.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, json_of, meeting};
use reqwest::Method;
use serde_json::{Value, json};

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

fn pair(kind: &str, to: &str) -> (String, String) {
    (kind.to_owned(), to.to_owned())
}

#[tokio::test]
async fn each_organiser_write_mails_exactly_what_outlook_would() {
    let env = Env::new();
    let token = env.token("org@contoso.com").await;
    // Create with attendees (the organiser listed too, and an attendee without an address): 2 invitations.
    let mut ev = meeting("Plan", &["b@x.com", "c@x.com", "ORG@contoso.com"]);
    ev["attendees"]
        .as_array_mut()
        .unwrap()
        .push(json!({"emailAddress": {"name": "Room"}, "type": "resource"}));
    let created = env.create(&token, ev).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let mails = env.outbox().await;
    assert_eq!(
        kinds(&mails),
        [pair("invitation", "b@x.com"), pair("invitation", "c@x.com")]
    );
    assert_eq!(mails[0]["from"], "org@contoso.com");
    assert_eq!(mails[0]["mailbox"], "org@contoso.com");
    assert_eq!(mails[0]["event_id"], json!(id));
    assert_eq!(mails[0]["ical_uid"], created["iCalUId"]);
    assert_eq!(mails[0]["subject"], "Plan");
    let patch = |body: Value| {
        env.graph(Method::PATCH, &token, &format!("/me/events/{id}"))
            .json(&body)
            .send()
    };

    // Personal fields mail no one.
    env.clear_outbox().await;
    patch(json!({"categories": ["Red"], "showAs": "free", "isReminderOn": false}))
        .await
        .unwrap();
    assert!(env.outbox().await.is_empty());

    // A meeting field: an update to every attendee.
    patch(json!({"subject": "Plan v2"})).await.unwrap();
    assert_eq!(
        kinds(&env.outbox().await),
        [pair("update", "b@x.com"), pair("update", "c@x.com")]
    );

    // Only attendees changed: invitation to the added, cancellation to the removed, nothing to the rest.
    env.clear_outbox().await;
    patch(json!({"attendees": [{"emailAddress": {"address": "b@x.com"}}, {"emailAddress": {"address": "d@x.com"}}]})).await.unwrap();
    assert_eq!(
        kinds(&env.outbox().await),
        [
            pair("cancellation", "c@x.com"),
            pair("invitation", "d@x.com")
        ]
    );

    // Delete: a cancellation to each attendee.
    env.clear_outbox().await;
    env.graph(Method::DELETE, &token, &format!("/me/events/{id}"))
        .send()
        .await
        .unwrap();
    let mails = env.outbox().await;
    assert_eq!(
        kinds(&mails),
        [
            pair("cancellation", "b@x.com"),
            pair("cancellation", "d@x.com")
        ]
    );
    assert!(mails[1]["seq"].as_u64().unwrap() > mails[0]["seq"].as_u64().unwrap());
}

#[tokio::test]
async fn occurrence_edits_and_cancel_action_mail_per_occurrence() {
    let env = Env::new();
    let token = env.token("org@contoso.com").await;
    let mut ev = meeting("Series", &["b@x.com"]);
    ev["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 3}});
    let master = env.create(&token, ev).await;
    env.clear_outbox().await;
    let path = format!(
        "/me/events/{}/instances?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z",
        master["id"].as_str().unwrap()
    );
    let page: Value = env
        .graph(Method::GET, &token, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let occ: Vec<String> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    env.graph(Method::PATCH, &token, &format!("/me/events/{}", occ[0]))
        .json(&json!({"location": {"displayName": "Room 9"}}))
        .send()
        .await
        .unwrap();
    env.graph(Method::DELETE, &token, &format!("/me/events/{}", occ[1]))
        .send()
        .await
        .unwrap();
    let resp = env
        .graph(
            Method::POST,
            &token,
            &format!("/me/events/{}/cancel", occ[2]),
        )
        .json(&json!({"Comment": "sorry"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let mails = env.outbox().await;
    assert_eq!(
        kinds(&mails),
        [
            pair("cancellation", "b@x.com"),
            pair("cancellation", "b@x.com"),
            pair("update", "b@x.com")
        ]
    );
    let update = mails.iter().find(|m| m["kind"] == "update").unwrap();
    assert_eq!(update["event_id"], json!(occ[0]));
}

/// Graph: "an update that contains only attendees sends the meeting update only to attendees who
/// were added or removed" (graph_api.md §5.2); for an occurrence, that occurrence alone.
#[tokio::test]
async fn occurrence_attendee_edits_mail_only_the_added_and_removed_for_that_occurrence() {
    let env = Env::new();
    let token = env.token("org@contoso.com").await;
    let mut ev = meeting("Series", &["b@x.com", "c@x.com"]);
    ev["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 3}});
    let master = env.create(&token, ev).await;
    let master_id = master["id"].as_str().unwrap().to_owned();
    let instances = || async {
        let path = format!(
            "/me/events/{master_id}/instances?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z"
        );
        let (_, page) = json_of(env.graph(Method::GET, &token, &path).send().await.unwrap()).await;
        let mut list = page["value"].as_array().unwrap().clone();
        list.sort_by_key(|o| o["originalStart"].as_str().unwrap().to_owned());
        list
    };
    let addresses = |event: &Value| -> Vec<String> {
        let mut out: Vec<String> = event["attendees"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["emailAddress"]["address"].as_str().unwrap().to_owned())
            .collect();
        out.sort();
        out
    };
    let second = instances().await[1]["id"].as_str().unwrap().to_owned();
    env.clear_outbox().await;

    // C off, D on, that occurrence only: a cancellation to C and an invitation to D, each of
    // that occurrence; nothing to B.
    let resp = env
        .graph(Method::PATCH, &token, &format!("/me/events/{second}"))
        .json(
            &json!({"attendees": [{"emailAddress": {"address": "b@x.com"}},
                                    {"emailAddress": {"address": "d@x.com"}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mails = env.outbox().await;
    assert_eq!(
        kinds(&mails),
        [
            pair("cancellation", "c@x.com"),
            pair("invitation", "d@x.com")
        ]
    );
    assert!(
        mails.iter().all(|m| m["event_id"] == json!(second)),
        "{mails:?}"
    );
    assert!(mails.iter().all(|m| m["subject"] == "Series"), "{mails:?}");
    let list = instances().await;
    assert_eq!(list[1]["type"], "exception");
    assert_eq!(addresses(&list[1]), ["b@x.com", "d@x.com"]);
    for other in [&list[0], &list[2]] {
        assert_eq!(addresses(other), ["b@x.com", "c@x.com"], "{other}");
    }
    let master: Value = env
        .graph(Method::GET, &token, &format!("/me/events/{master_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(addresses(&master), ["b@x.com", "c@x.com"]);

    // Its own reminder: personal, no mail; the other occurrences keep the series'.
    env.clear_outbox().await;
    env.graph(Method::PATCH, &token, &format!("/me/events/{second}"))
        .json(&json!({"isReminderOn": true, "reminderMinutesBeforeStart": 45}))
        .send()
        .await
        .unwrap();
    assert!(env.outbox().await.is_empty());
    let list = instances().await;
    assert_eq!(list[1]["reminderMinutesBeforeStart"], 45);
    assert_eq!(
        list[0]["reminderMinutesBeforeStart"],
        master["reminderMinutesBeforeStart"]
    );
}

#[tokio::test]
async fn hosted_attendees_get_copies_and_their_responses_reach_the_organiser() {
    let env = Env::new();
    let org = env.token("org@contoso.com").await;
    let att = env.token("Bob@contoso.com").await;
    let created = env
        .create(&org, meeting("Review", &["bob@contoso.com", "ext@x.com"]))
        .await;
    let org_id = created["id"].as_str().unwrap().to_owned();

    let copies: Value = env
        .graph(Method::GET, &att, "/me/events")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let copy = copies["value"][0].clone();
    assert_eq!(copy["iCalUId"], created["iCalUId"]);
    assert_ne!(copy["id"], created["id"]);
    assert_eq!(copy["isOrganizer"], false);
    assert_eq!(copy["responseStatus"]["response"], "none");
    assert_eq!(
        copy["organizer"]["emailAddress"]["address"],
        "org@contoso.com"
    );
    let copy_id = copy["id"].as_str().unwrap().to_owned();

    // The attendee cannot cancel; an accept with sendResponse mails the organiser and updates its status.
    let resp = env
        .graph(Method::POST, &att, &format!("/me/events/{copy_id}/cancel"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    env.clear_outbox().await;
    let resp = env
        .graph(Method::POST, &att, &format!("/me/events/{copy_id}/accept"))
        .json(&json!({"Comment": "ok", "SendResponse": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let mails = env.outbox().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        (
            mails[0]["kind"].as_str(),
            mails[0]["to"].as_str(),
            mails[0]["response"].as_str()
        ),
        (Some("response"), Some("org@contoso.com"), Some("accepted"))
    );
    assert_eq!(mails[0]["from"], "Bob@contoso.com");
    let org_view: Value = env
        .graph(Method::GET, &org, &format!("/me/events/{org_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org_view["attendees"][0]["status"]["response"], "accepted");
    let mine: Value = env
        .graph(Method::GET, &att, &format!("/me/events/{copy_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["responseStatus"]["response"], "accepted");

    // A decline without a response mails nobody; an attendee's own edits mail nobody.
    env.clear_outbox().await;
    env.graph(Method::POST, &att, &format!("/me/events/{copy_id}/decline"))
        .json(&json!({"sendResponse": false}))
        .send()
        .await
        .unwrap();
    env.graph(Method::PATCH, &att, &format!("/me/events/{copy_id}"))
        .json(&json!({"categories": ["Blue"]}))
        .send()
        .await
        .unwrap();
    assert!(env.outbox().await.is_empty());

    // Organiser updates propagate; organiser delete marks the copy cancelled.
    env.graph(Method::PATCH, &org, &format!("/me/events/{org_id}"))
        .json(&json!({"subject": "Review v2"}))
        .send()
        .await
        .unwrap();
    let mine: Value = env
        .graph(Method::GET, &att, &format!("/me/events/{copy_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["subject"], "Review v2");
    assert_eq!(mine["categories"], json!(["Blue"]));
    env.graph(Method::DELETE, &org, &format!("/me/events/{org_id}"))
        .send()
        .await
        .unwrap();
    let mine: Value = env
        .graph(Method::GET, &att, &format!("/me/events/{copy_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["isCancelled"], true);
}

#[tokio::test]
async fn seeding_sends_no_mail_and_lists_stored_events() {
    let env = Env::new();
    let seeded = env
        .post_json(
            "/_emulator/mailboxes/org@contoso.com/seed",
            json!({"events": [meeting("seeded", &["b@x.com"])]}),
        )
        .await;
    assert_eq!(seeded["ids"].as_array().unwrap().len(), 1);
    assert!(env.outbox().await.is_empty());
    let stored = env
        .get_json("/_emulator/mailboxes/org@contoso.com/events")
        .await;
    assert_eq!(stored["value"][0]["subject"], "seeded");
    assert_eq!(stored["value"][0]["start"]["timeZone"], "UTC");
}

#[tokio::test]
async fn proposals_need_a_response_and_an_event_that_allows_them() {
    let env = Env::new();
    let org = env.token("org@contoso.com").await;
    let att = env.token("bob@contoso.com").await;
    let mut ev = meeting("No proposals", &["bob@contoso.com"]);
    ev["allowNewTimeProposals"] = json!(false);
    env.create(&org, ev).await;
    let copies: Value = env
        .graph(Method::GET, &att, "/me/events")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let copy_id = copies["value"][0]["id"].as_str().unwrap().to_owned();
    let proposal = json!({"comment": "later?", "proposedNewTime": {
        "start": {"dateTime": "2030-03-04T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-03-04T13:00:00", "timeZone": "UTC"}}});
    let resp = env
        .graph(
            Method::POST,
            &att,
            &format!("/me/events/{copy_id}/tentativelyAccept"),
        )
        .json(&proposal)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    env.clear_outbox().await;
    let resp = env
        .graph(
            Method::POST,
            &att,
            &format!("/me/events/{copy_id}/tentativelyAccept"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let mails = env.outbox().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["response"], "tentativelyAccepted");
    // The organiser cannot respond to its own meeting.
    let own: Value = env
        .graph(Method::GET, &org, "/me/events")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own_id = own["value"][0]["id"].as_str().unwrap();
    let resp = env
        .graph(Method::POST, &org, &format!("/me/events/{own_id}/accept"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
