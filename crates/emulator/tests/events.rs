//! Event CRUD and the wire format: the doc create fixture, enums, ids, change keys, If-Match, transactionId.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, json_of, meeting};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn create_response_matches_the_doc_fixture_shape() {
    let env = Env::new();
    let token = env.token("danas@contoso.onmicrosoft.com").await;
    // Learn user-post-events, example 1 (enums in PascalCase on input).
    let resp = env
        .graph(Method::POST, &token, "/me/events")
        .header("Prefer", "outlook.timezone=\"Pacific Standard Time\"")
        .json(&json!({
            "subject": "Let's go for lunch",
            "body": {"contentType": "HTML", "content": "Does noon work for you?"},
            "start": {"dateTime": "2017-04-15T12:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2017-04-15T14:00:00", "timeZone": "Pacific Standard Time"},
            "location": {"displayName": "Harry's Bar"},
            "attendees": [{"emailAddress": {"address": "samanthab@contoso.com", "name": "Samantha Booth"}, "type": "Required"}],
            "allowNewTimeProposals": true,
            "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.headers()["preference-applied"],
        "outlook.timezone=\"Pacific Standard Time\""
    );
    let ev: Value = resp.json().await.unwrap();
    let id = ev["id"].as_str().unwrap();
    assert!(id.ends_with('='), "{id}");
    let ck = ev["changeKey"].as_str().unwrap();
    assert_eq!(ev["@odata.etag"], format!("W/\"{ck}\""));
    assert_eq!(
        ev["start"],
        json!({"dateTime": "2017-04-15T12:00:00.0000000", "timeZone": "Pacific Standard Time"})
    );
    assert_eq!(ev["end"]["dateTime"], "2017-04-15T14:00:00.0000000");
    assert_eq!(ev["originalStartTimeZone"], "Pacific Standard Time");
    assert_eq!(ev["type"], "singleInstance");
    assert_eq!(ev["isOrganizer"], true);
    assert_eq!(
        ev["responseStatus"],
        json!({"response": "organizer", "time": "0001-01-01T00:00:00Z"})
    );
    assert_eq!(ev["body"]["contentType"], "html");
    assert_eq!(ev["attendees"][0]["type"], "required");
    assert_eq!(
        ev["attendees"][0]["status"],
        json!({"response": "none", "time": "0001-01-01T00:00:00Z"})
    );
    assert_eq!(ev["location"]["uniqueId"], "Harry's Bar");
    assert_eq!(ev["locations"].as_array().unwrap().len(), 1);
    assert_eq!(
        ev["organizer"]["emailAddress"]["address"],
        "danas@contoso.onmicrosoft.com"
    );
    assert_eq!(ev["transactionId"], "7E163156-7762-4BEB-A1C6-729EA81755A7");
    assert!(
        ev["iCalUId"]
            .as_str()
            .unwrap()
            .starts_with("040000008200E00074C5B7101A82E008")
    );
    assert_eq!(ev["recurrence"], Value::Null);
    assert_eq!(ev["seriesMasterId"], Value::Null);
    for key in [
        "createdDateTime",
        "lastModifiedDateTime",
        "webLink",
        "showAs",
        "importance",
        "sensitivity",
        "isAllDay",
        "isCancelled",
        "reminderMinutesBeforeStart",
        "bodyPreview",
    ] {
        assert!(ev.get(key).is_some(), "missing {key}");
    }

    // Default output zone is UTC.
    let resp = env
        .graph(Method::GET, &token, &format!("/me/events/{id}"))
        .send()
        .await
        .unwrap();
    let got: Value = resp.json().await.unwrap();
    assert_eq!(
        got["start"],
        json!({"dateTime": "2017-04-15T19:00:00.0000000", "timeZone": "UTC"})
    );

    // The same transactionId again: 400 ErrorDuplicateTransactionId.
    let mut again = meeting("dup", &[]);
    again["transactionId"] = json!("7E163156-7762-4BEB-A1C6-729EA81755A7");
    let (status, body) = json_of(
        env.graph(Method::POST, &token, "/me/events")
            .json(&again)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorDuplicateTransactionId"))
    );
}

#[tokio::test]
async fn recurrence_output_has_zero_ints_and_lower_camel_enums() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let mut ev = meeting("weekly", &[]);
    ev["start"] = json!({"dateTime": "2017-09-04T12:00:00", "timeZone": "Pacific Standard Time"});
    ev["end"] = json!({"dateTime": "2017-09-04T14:00:00", "timeZone": "Pacific Standard Time"});
    ev["recurrence"] = json!({
        "pattern": {"type": "Weekly", "interval": 1, "daysOfWeek": ["Monday"]},
        "range": {"type": "EndDate", "startDate": "2017-09-04", "endDate": "2017-12-31"}
    });
    let created = env.create(&token, ev).await;
    assert_eq!(created["type"], "seriesMaster");
    assert_eq!(
        created["recurrence"],
        json!({
            "pattern": {"type":"weekly","interval":1,"month":0,"dayOfMonth":0,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday","index":"first"},
            "range": {"type":"endDate","startDate":"2017-09-04","endDate":"2017-12-31","recurrenceTimeZone":"Pacific Standard Time","numberOfOccurrences":0}
        })
    );
}

#[tokio::test]
async fn invalid_input_gets_graph_errors() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let post = |body: Value| {
        env.graph(Method::POST, &token, "/me/events")
            .json(&body)
            .send()
    };

    let mut bad_zone = meeting("x", &[]);
    bad_zone["start"]["timeZone"] = json!("Mars Standard Time");
    let (status, body) = json_of(post(bad_zone).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("TimeZoneNotSupportedException"))
    );
    assert!(body["error"]["innerError"]["date"].is_string());

    let mut iana = meeting("iana", &[]);
    iana["start"]["timeZone"] = json!("Europe/Berlin");
    iana["end"]["timeZone"] = json!("Europe/Berlin");
    assert_eq!(post(iana).await.unwrap().status(), 201);

    let mut all_day = meeting("all day", &[]);
    all_day["isAllDay"] = json!(true);
    let (status, body) = json_of(post(all_day.clone()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorInvalidRequest"))
    );
    all_day["start"]["dateTime"] = json!("2030-03-04T00:00:00");
    all_day["end"]["dateTime"] = json!("2030-03-05T00:00:00");
    let created: Value = post(all_day).await.unwrap().json().await.unwrap();
    assert_eq!(created["isAllDay"], true);
    assert_eq!(
        created["start"]["dateTime"], "2030-03-04T00:00:00.0000000",
        "all-day dates are never shifted"
    );

    let mut bad_enum = meeting("x", &[]);
    bad_enum["showAs"] = json!("sleeping");
    let (status, body) = json_of(post(bad_enum).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("RequestBodyRead"))
    );
    let mut unknown = meeting("x", &[]);
    unknown["colour"] = json!("red");
    let (status, body) = json_of(post(unknown).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );

    let (status, body) = json_of(
        env.graph(Method::GET, &token, "/me/events/not*an*id")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorInvalidIdMalformed"))
    );
}

#[tokio::test]
async fn patch_bumps_change_key_and_stale_if_match_fails() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let created = env.create(&token, meeting("v1", &[])).await;
    let id = created["id"].as_str().unwrap();
    let etag = created["@odata.etag"].as_str().unwrap().to_owned();
    let resp = env
        .graph(Method::PATCH, &token, &format!("/me/events/{id}"))
        .header("If-Match", &etag)
        .header("Prefer", "IdType=\"ImmutableId\"")
        .json(&json!({"subject": "v2", "importance": "HIGH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["preference-applied"],
        "IdType=\"ImmutableId\""
    );
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["subject"], "v2");
    assert_eq!(updated["importance"], "high");
    assert_ne!(updated["changeKey"], created["changeKey"]);
    assert_eq!(updated["id"], created["id"]);
    let (status, body) = json_of(
        env.graph(Method::PATCH, &token, &format!("/me/events/{id}"))
            .header("If-Match", &etag)
            .json(&json!({"subject": "v3"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (412, Some("ErrorIrresolvableConflict"))
    );
    let resp = env
        .graph(Method::DELETE, &token, &format!("/me/events/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (status, body) = json_of(
        env.graph(Method::GET, &token, &format!("/me/events/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ErrorItemNotFound"))
    );
}

#[tokio::test]
async fn list_pages_filters_and_hides_occurrences() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            env.create(&token, meeting(&format!("e{i}"), &[])).await["iCalUId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut series = meeting("series", &[]);
    series["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 5}});
    env.create(&token, series).await;
    let mut next = Some(env.url("/v1.0/me/calendar/events?$top=3"));
    let mut seen = Vec::new();
    while let Some(link) = next {
        let page: Value = env
            .http
            .get(&link)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["subject"].as_str().unwrap().to_owned()),
        );
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["e0", "e1", "e2", "series"]);
    let filter = format!("/me/events?$filter=iCalUId eq '{}'", ids[1]);
    let page: Value = env
        .graph(Method::GET, &token, &filter)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    assert_eq!(page["value"][0]["subject"], "e1");
}

#[tokio::test]
async fn occurrence_patch_makes_an_exception_and_delete_cancels_it() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let mut series = meeting("standup", &[]);
    series["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 5}});
    let master = env.create(&token, series).await;
    let master_id = master["id"].as_str().unwrap();
    let path = format!(
        "/me/events/{master_id}/instances?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z"
    );
    let page: Value = env
        .graph(Method::GET, &token, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let occ = page["value"].as_array().unwrap().clone();
    assert_eq!(occ.len(), 5);
    assert!(
        occ.iter()
            .all(|o| o["type"] == "occurrence" && o["seriesMasterId"] == master["id"])
    );
    assert_ne!(
        occ[0]["iCalUId"], occ[1]["iCalUId"],
        "iCalUId is per occurrence"
    );

    let second = occ[1]["id"].as_str().unwrap();
    let resp = env
        .graph(Method::PATCH, &token, &format!("/me/events/{second}"))
        .json(&json!({"subject": "moved", "start": {"dateTime": "2030-03-05T15:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2030-03-05T16:00:00", "timeZone": "UTC"}}))
        .send()
        .await
        .unwrap();
    let exception: Value = resp.json().await.unwrap();
    assert_eq!(exception["type"], "exception");
    assert_eq!(exception["subject"], "moved");
    assert_eq!(exception["id"], occ[1]["id"]);
    // Moving onto the next occurrence's day crosses the boundary.
    let (status, body) = json_of(
        env.graph(Method::PATCH, &token, &format!("/me/events/{second}"))
            .json(&json!({"start": {"dateTime": "2030-03-06T15:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2030-03-06T16:00:00", "timeZone": "UTC"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorOccurrenceCrossingBoundary"))
    );

    let third = occ[2]["id"].as_str().unwrap();
    assert_eq!(
        env.graph(Method::DELETE, &token, &format!("/me/events/{third}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let page: Value = env
        .graph(Method::GET, &token, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 4);
    let select = format!(
        "/me/events/{master_id}?$select=subject,cancelledOccurrences,exceptionOccurrences&$expand=exceptionOccurrences"
    );
    let got: Value = env
        .graph(Method::GET, &token, &select)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["cancelledOccurrences"],
        json!([format!("OID.{master_id}.2030-03-06")])
    );
    assert_eq!(got["exceptionOccurrences"][0]["subject"], "moved");
    assert!(got.get("body").is_none(), "$select trims properties");
}

#[tokio::test]
async fn me_returns_the_token_owner() {
    let env = Env::new();
    let token = env.token("Samantha.Booth@contoso.com").await;
    let me: Value = env
        .graph(Method::GET, &token, "/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in ["id", "displayName", "mail", "userPrincipalName"] {
        assert!(me[key].is_string(), "{key}");
    }
    assert_eq!(me["userPrincipalName"], "Samantha.Booth@contoso.com");
}

#[tokio::test]
async fn the_post_create_change_key_rotation_quirk_makes_a_fresh_etag_stale() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json("/_emulator/config", json!({"change_key_rotation_ms": 50}))
        .await;
    let created = env.create(&token, meeting("rotating", &[])).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let id = created["id"].as_str().unwrap();
    let (status, body) = json_of(
        env.graph(Method::PATCH, &token, &format!("/me/events/{id}"))
            .header("If-Match", created["@odata.etag"].as_str().unwrap())
            .json(&json!({"subject": "mine"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (412, Some("ErrorIrresolvableConflict"))
    );
    let got: Value = env
        .graph(Method::GET, &token, &format!("/me/events/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(got["changeKey"], created["changeKey"]);
    assert_eq!(
        got["subject"], "rotating",
        "nothing but the change key moved"
    );
}

#[tokio::test]
async fn an_online_meeting_gets_a_join_link_and_stays_online() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let plain = env.create(&token, meeting("plain", &[])).await;
    assert_eq!(plain["onlineMeeting"], Value::Null);
    assert_eq!(plain["onlineMeetingProvider"], "unknown");

    let id = plain["id"].as_str().unwrap();
    let patch = async |body: Value| {
        let sent = env
            .graph(Method::PATCH, &token, &format!("/me/events/{id}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        json_of(sent).await.1
    };
    let online = patch(json!({"isOnlineMeeting": true})).await;
    assert_eq!(online["isOnlineMeeting"], true);
    assert_eq!(online["onlineMeetingProvider"], "teamsForBusiness");
    let link = online["onlineMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(link.starts_with("https://teams.microsoft.com/l/meetup-join/"));

    // Graph ignores turning it off, and the link stays the same through other edits.
    let later = patch(json!({"isOnlineMeeting": false, "subject": "renamed"})).await;
    assert_eq!(later["isOnlineMeeting"], true);
    assert_eq!(later["onlineMeeting"]["joinUrl"], link.as_str());

    let other = env
        .create(&token, {
            let mut m = meeting("other", &[]);
            m["isOnlineMeeting"] = json!(true);
            m
        })
        .await;
    assert_ne!(
        other["onlineMeeting"]["joinUrl"],
        link.as_str(),
        "one link per meeting"
    );
}
