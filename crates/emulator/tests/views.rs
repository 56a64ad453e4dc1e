//! calendarView, instances expansion (patterns, DST, exceptions, cancellations) and calendarView delta.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, json_of, meeting};
use reqwest::Method;
use serde_json::{Value, json};

async fn all_pages(
    env: &Env,
    token: &str,
    first: String,
    prefer: Option<&str>,
) -> (Vec<Value>, Value) {
    let mut items = Vec::new();
    let mut link = first;
    loop {
        let mut req = env.http.get(&link).bearer_auth(token);
        if let Some(p) = prefer {
            req = req.header("Prefer", p);
        }
        let page: Value = req.send().await.unwrap().json().await.unwrap();
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => link = next.to_owned(),
            None => return (items, page),
        }
    }
}

fn series(pattern: Value, range: Value, start: &str, end: &str, zone: &str) -> Value {
    json!({
        "subject": "series",
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
        "recurrence": {"pattern": pattern, "range": range},
    })
}

async fn view(env: &Env, token: &str, from: &str, to: &str) -> Vec<Value> {
    let url = env.url(&format!(
        "/v1.0/me/calendarView?startDateTime={from}&endDateTime={to}&$top=50"
    ));
    all_pages(env, token, url, None).await.0
}

fn starts(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["start"]["dateTime"].as_str().unwrap()[..16].to_owned())
        .collect()
}

#[tokio::test]
async fn weekly_series_keeps_local_time_across_the_berlin_dst_change() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.create(
        &token,
        series(
            json!({"type": "weekly", "interval": 1, "daysOfWeek": ["friday"]}),
            json!({"type": "numbered", "startDate": "2030-03-22", "numberOfOccurrences": 3}),
            "2030-03-22T09:00:00",
            "2030-03-22T10:00:00",
            "Europe/Berlin",
        ),
    )
    .await;
    // Berlin switches to CEST on 2030-03-31: 09:00 local is 08:00Z before and 07:00Z after.
    let items = view(&env, &token, "2030-03-01T00:00:00Z", "2030-05-01T00:00:00Z").await;
    assert_eq!(
        starts(&items),
        ["2030-03-22T08:00", "2030-03-29T08:00", "2030-04-05T07:00"]
    );
    assert!(
        items.iter().all(|i| i["type"] == "occurrence"),
        "no masters in calendarView"
    );
}

#[tokio::test]
async fn relative_monthly_last_weekday_with_offsets_in_the_window() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.create(
        &token,
        series(
            json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "last"}),
            json!({"type": "endDate", "startDate": "2030-01-28", "endDate": "2030-04-30"}),
            "2030-01-28T12:00:00",
            "2030-01-28T13:00:00",
            "UTC",
        ),
    )
    .await;
    // The window's offset is honoured: 2030-02-25T13:30+02:00 is 11:30Z, before the 12:00Z occurrence.
    let items = view(
        &env,
        &token,
        "2030-02-25T13:30:00%2B02:00",
        "2030-12-31T00:00:00Z",
    )
    .await;
    assert_eq!(
        starts(&items),
        ["2030-02-25T12:00", "2030-03-25T12:00", "2030-04-29T12:00"]
    );
}

#[tokio::test]
async fn yearly_daily_and_no_end_patterns_expand_within_the_window() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.create(
        &token,
        series(
            json!({"type": "absoluteYearly", "interval": 1, "dayOfMonth": 15, "month": 6}),
            json!({"type": "noEnd", "startDate": "2030-06-15"}),
            "2030-06-15T08:00:00",
            "2030-06-15T09:00:00",
            "UTC",
        ),
    )
    .await;
    env.create(
        &token,
        series(
            json!({"type": "daily", "interval": 3}),
            json!({"type": "numbered", "startDate": "2030-06-01", "numberOfOccurrences": 3}),
            "2030-06-01T07:00:00",
            "2030-06-01T07:30:00",
            "UTC",
        ),
    )
    .await;
    let items = view(&env, &token, "2030-01-01T00:00:00Z", "2033-01-01T00:00:00Z").await;
    assert_eq!(
        starts(&items),
        [
            "2030-06-01T07:00",
            "2030-06-04T07:00",
            "2030-06-07T07:00",
            "2030-06-15T08:00",
            "2031-06-15T08:00",
            "2032-06-15T08:00"
        ]
    );
}

#[tokio::test]
async fn calendar_view_rejects_long_windows_and_needs_both_bounds() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let (status, body) = json_of(
        env.graph(
            Method::GET,
            &token,
            "/me/calendarView?startdatetime=2020-01-01T00:00:00Z&enddatetime=2026-01-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ErrorInvalidRequest"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("1825"));
    let (status, _) = json_of(
        env.graph(
            Method::GET,
            &token,
            "/me/calendarView?startDateTime=2020-01-01",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = json_of(
        env.graph(Method::GET, &token, "/me/calendar/calendarView?StartDateTime=2020-01-01T00:00:00Z&EndDateTime=2020-02-01T00:00:00Z")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "parameter names are case-insensitive");
}

#[tokio::test]
async fn delta_pages_are_capped_at_200_items() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let mut s = meeting("daily", &[]);
    s["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 250}});
    env.create(&token, s).await;
    let first = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2031-03-01T00:00:00Z");
    let response = env
        .http
        .get(&first)
        .bearer_auth(&token)
        .header("Prefer", "odata.maxpagesize=500")
        .send()
        .await
        .unwrap();
    let applied = response.headers()["preference-applied"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(applied.contains("odata.maxpagesize=200"), "{applied}");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 200);
    let next = page["@odata.nextLink"].as_str().unwrap().to_owned();
    let (rest, _) = all_pages(&env, &token, next, Some("odata.maxpagesize=500")).await;
    assert_eq!(rest.len(), 50);
}

#[tokio::test]
async fn delta_pages_then_reports_only_changes_and_removals() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let single = env.create(&token, meeting("single", &[])).await;
    let mut s = meeting("daily", &[]);
    s["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "numbered", "startDate": "2030-03-04", "numberOfOccurrences": 4}});
    let master = env.create(&token, s).await;
    let master_id = master["id"].as_str().unwrap();

    let first = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z");
    let (items, last) = all_pages(&env, &token, first, Some("odata.maxpagesize=2")).await;
    assert_eq!(items.len(), 5, "one single and four occurrences, no master");
    assert!(
        items
            .iter()
            .all(|i| i["@odata.type"] == "#microsoft.graph.event" && i["type"] != "seriesMaster")
    );
    let delta_link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    assert!(delta_link.starts_with(env.emulator.base_url()) && delta_link.contains("$deltatoken="));

    // Nothing changed: an empty round.
    let (items, last) = all_pages(&env, &token, delta_link.clone(), None).await;
    assert!(items.is_empty());
    let delta_link = last["@odata.deltaLink"].as_str().unwrap().to_owned();

    // A master edit re-emits every occurrence; a deleted single comes back as @removed.
    env.graph(Method::PATCH, &token, &format!("/me/events/{master_id}"))
        .json(&json!({"subject": "renamed"}))
        .send()
        .await
        .unwrap();
    env.graph(
        Method::DELETE,
        &token,
        &format!("/me/events/{}", single["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap();
    let (items, last) = all_pages(&env, &token, delta_link, None).await;
    let updated: Vec<&Value> = items
        .iter()
        .filter(|i| i.get("@removed").is_none())
        .collect();
    assert_eq!(updated.len(), 4);
    assert!(updated.iter().all(|i| i["subject"] == "renamed"));
    let removed: Vec<&Value> = items
        .iter()
        .filter(|i| i.get("@removed").is_some())
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        *removed[0],
        json!({"@odata.type": "#microsoft.graph.event", "id": single["id"], "@removed": {"reason": "deleted"}})
    );

    // A series delete: one @removed per occurrence.
    env.graph(Method::DELETE, &token, &format!("/me/events/{master_id}"))
        .send()
        .await
        .unwrap();
    let (items, _) = all_pages(
        &env,
        &token,
        last["@odata.deltaLink"].as_str().unwrap().to_owned(),
        None,
    )
    .await;
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i["@removed"]["reason"] == "deleted"));
}

#[tokio::test]
async fn expired_and_unknown_delta_tokens_answer_410() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let (status, _) = json_of(
        env.graph(Method::GET, &token, "/me/calendarView/delta")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "the first call needs a window");
    let first = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z");
    let (_, last) = all_pages(&env, &token, first, None).await;
    let link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    let (status, _) = json_of(
        env.http
            .get(&link)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    env.post_json("/_emulator/delta/expire", json!({})).await;
    let (status, body) = json_of(
        env.http
            .get(&link)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("SyncStateNotFound"))
    );
    let (status, _) = json_of(
        env.graph(
            Method::GET,
            &token,
            "/me/calendarView/delta?$deltatoken=bogus",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 410);
}

#[tokio::test]
async fn prefer_timezone_applies_to_views() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.create(&token, meeting("m", &[])).await;
    let resp = env
        .graph(
            Method::GET,
            &token,
            "/me/calendarView?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z",
        )
        .header("Prefer", "outlook.timezone=\"America/New_York\"")
        .header("Prefer", "outlook.body-content-type=\"text\"")
        .send()
        .await
        .unwrap();
    let applied = resp.headers()["preference-applied"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        applied.contains("outlook.timezone=\"America/New_York\"") && applied.contains("text"),
        "{applied}"
    );
    let page: Value = resp.json().await.unwrap();
    // 10:00 in Berlin (CET) is 04:00 in New York (EST) on 2030-03-04.
    assert_eq!(
        page["value"][0]["start"],
        json!({"dateTime": "2030-03-04T04:00:00.0000000", "timeZone": "America/New_York"})
    );
    assert_eq!(
        page["value"][0]["body"],
        json!({"contentType": "text", "content": "Agenda"})
    );
}

#[tokio::test]
async fn delta_quirks_empty_pages_and_removed_outside_the_window() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json(
        "/_emulator/config",
        json!({"delta_empty_pages": true, "delta_removed_outside_window": true}),
    )
    .await;
    let inside = env.create(&token, meeting("inside", &[])).await;
    let mut far = meeting("far", &[]);
    far["start"]["dateTime"] = json!("2031-01-01T10:00:00");
    far["end"]["dateTime"] = json!("2031-01-01T11:00:00");
    let far = env.create(&token, far).await;
    let first_url = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z");
    let first: Value = env
        .http
        .get(&first_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["value"], json!([]));
    assert!(
        first["@odata.nextLink"].is_string(),
        "an empty page still has a nextLink"
    );
    let (items, last) = all_pages(&env, &token, first_url, None).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], inside["id"]);

    env.graph(
        Method::PATCH,
        &token,
        &format!("/me/events/{}", far["id"].as_str().unwrap()),
    )
    .json(&json!({"subject": "far v2"}))
    .send()
    .await
    .unwrap();
    let (items, _) = all_pages(
        &env,
        &token,
        last["@odata.deltaLink"].as_str().unwrap().to_owned(),
        None,
    )
    .await;
    assert_eq!(
        items,
        [
            json!({"@odata.type": "#microsoft.graph.event", "id": far["id"], "@removed": {"reason": "deleted"}})
        ]
    );
}

#[tokio::test]
async fn calendar_view_shows_exceptions_and_skips_cancelled_occurrences() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let master = env
        .create(
            &token,
            series(
                json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"], "index": "first"}),
                json!({"type": "numbered", "startDate": "2030-04-01", "numberOfOccurrences": 3}),
                "2030-04-01T09:00:00",
                "2030-04-01T09:30:00",
                "America/New_York",
            ),
        )
        .await;
    // First weekday of April, May, June 2030: Mon 1, Wed 1, Mon 3 (EDT, UTC-4).
    let items = view(&env, &token, "2030-03-01T00:00:00Z", "2030-07-01T00:00:00Z").await;
    assert_eq!(
        starts(&items),
        ["2030-04-01T13:00", "2030-05-01T13:00", "2030-06-03T13:00"]
    );
    let may = items[1]["id"].as_str().unwrap();
    let june = items[2]["id"].as_str().unwrap();
    env.graph(Method::PATCH, &token, &format!("/me/events/{may}"))
        .json(&json!({"subject": "special"}))
        .send()
        .await
        .unwrap();
    env.graph(Method::DELETE, &token, &format!("/me/events/{june}"))
        .send()
        .await
        .unwrap();
    let items = view(&env, &token, "2030-03-01T00:00:00Z", "2030-07-01T00:00:00Z").await;
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["type"].as_str().unwrap(), i["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("occurrence", "series"), ("exception", "special")]);
    assert!(items.iter().all(|i| i["seriesMasterId"] == master["id"]));
    assert_eq!(items[1]["originalStart"], "2030-05-01T13:00:00.0000000Z");
}

#[tokio::test]
async fn delta_replays_resend_the_previous_round() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.put_json("/_emulator/config", json!({"delta_replays": true}))
        .await;
    let kept = env.create(&token, meeting("kept", &[])).await;
    let gone = env.create(&token, meeting("gone", &[])).await;
    let first = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z");
    let (items, last) = all_pages(&env, &token, first, None).await;
    assert_eq!(items.len(), 2);

    // Round 2 changes nothing, yet replays round 1: both items again, one of them now deleted.
    env.graph(
        Method::DELETE,
        &token,
        &format!("/me/events/{}", gone["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap();
    let link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    let (items, last) = all_pages(&env, &token, link, None).await;
    let summary: Vec<(&Value, bool)> = items
        .iter()
        .map(|i| (&i["id"], i.get("@removed").is_some()))
        .collect();
    assert_eq!(summary.len(), 2, "{items:?}");
    assert!(
        summary.contains(&(&kept["id"], false)),
        "a replay of an unchanged item"
    );
    assert!(
        summary.contains(&(&gone["id"], true)),
        "the real change, once"
    );
    let replayed = items.iter().find(|i| i["id"] == kept["id"]).unwrap();
    assert_eq!(
        replayed["subject"], "kept",
        "replays carry the current state"
    );

    // Round 3 replays only round 2's real change (the deletion), not the replays.
    let link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    let (items, _) = all_pages(&env, &token, link, None).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], gone["id"]);
    assert_eq!(items[0]["@removed"]["reason"], "deleted");
}

#[tokio::test]
async fn a_sync_reset_answers_410_with_a_fresh_initial_query() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    env.create(&token, meeting("m", &[])).await;
    let first = env.url("/v1.0/me/calendarView/delta?startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z");
    let (_, last) = all_pages(&env, &token, first, Some("odata.maxpagesize=1")).await;
    let link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    env.post_json(
        "/_emulator/delta/expire",
        json!({"mailbox": "a@contoso.com", "reset": true}),
    )
    .await;
    let resp = env
        .http
        .get(&link)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("resyncRequired"))
    );
    let location = location.expect("a sync reset carries a Location");
    assert!(location.starts_with(&env.url("/v1.0/me/calendarView/delta?")));
    // Following it starts a full round over the same window.
    let (items, last) = all_pages(&env, &token, location, None).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["subject"], "m");
    assert!(last["@odata.deltaLink"].is_string());
    // A plain expiry still answers SyncStateNotFound without a Location.
    let link = last["@odata.deltaLink"].as_str().unwrap().to_owned();
    env.post_json("/_emulator/delta/expire", json!({})).await;
    let resp = env
        .http
        .get(&link)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("location").is_none());
    let (status, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("SyncStateNotFound"))
    );
}

#[tokio::test]
async fn supported_time_zones_list_windows_names_or_iana() {
    let env = Env::new();
    let token = env.token("a@contoso.com").await;
    let (status, body) = json_of(
        env.graph(Method::GET, &token, "/me/outlook/supportedTimeZones")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let zones = body["value"].as_array().unwrap();
    assert!(zones.len() > 100);
    assert!(zones.contains(&json!({"alias": "Pacific Standard Time", "displayName": "(UTC-08:00) Pacific Time (US & Canada)"})));
    // Every listed name is accepted as an event zone.
    for zone in zones {
        let alias = zone["alias"].as_str().unwrap();
        let mut ev = meeting(alias, &[]);
        ev["start"]["timeZone"] = json!(alias);
        ev["end"]["timeZone"] = json!(alias);
        let resp = env
            .graph(Method::POST, &token, "/me/events")
            .json(&ev)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{alias}");
    }

    let path =
        "/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana')";
    let (status, body) = json_of(env.graph(Method::GET, &token, path).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let aliases: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["alias"].as_str().unwrap())
        .collect();
    assert!(aliases.contains(&"America/Los_Angeles"));
    assert!(aliases.contains(&"Europe/Berlin"));
    assert!(!aliases.contains(&"Pacific Standard Time"));

    let (status, _) = json_of(
        env.graph(
            Method::GET,
            &token,
            "/me/outlook/supportedTimeZones(TimeZoneStandard=microsoft.graph.timeZoneStandard'Mars')",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
}
