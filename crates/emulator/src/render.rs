//! Events as Graph JSON: series masters, singles, occurrences and exceptions.

use jiff::civil::Date;
use serde_json::{Map, Value, json};

use crate::store::{Event, Mailbox, When};
use crate::timezones::{self, Zone};

/// How to render: output zone and body format (from `Prefer`).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Zone of `start`/`end` (`Prefer: outlook.timezone`, UTC by default).
    pub zone: Zone,
    /// `Prefer: outlook.body-content-type="text"`.
    pub body_text: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            zone: Zone::utc(),
            body_text: false,
        }
    }
}

const UNSET_TIME: &str = "0001-01-01T00:00:00Z";

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn body_json(body: &Value, text_wanted: bool) -> (Value, String) {
    let content = body["content"].as_str().unwrap_or("");
    let is_html = body["contentType"] == "html";
    let plain = if is_html {
        strip_tags(content)
    } else {
        content.to_owned()
    };
    let preview: String = plain.chars().take(255).collect();
    let out = if text_wanted {
        json!({"contentType": "text", "content": plain})
    } else if is_html {
        json!({"contentType": "html", "content": content})
    } else {
        let html = format!(
            "<html><head></head><body>{}</body></html>",
            escape_html(content).replace('\n', "<br>")
        );
        json!({"contentType": "html", "content": html})
    };
    (out, preview)
}

fn when_json(when: &When, all_day: bool, opts: &RenderOptions) -> Value {
    // All-day events are dates: never shifted, only labelled with the requested zone.
    if all_day {
        json!({"dateTime": timezones::format_local(when.local), "timeZone": opts.zone.name})
    } else {
        timezones::date_time_time_zone(when.instant(), &opts.zone)
    }
}

fn response_json(response: &(String, Option<jiff::Timestamp>)) -> Value {
    let time = response.1.map_or_else(
        || UNSET_TIME.to_owned(),
        |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    json!({"response": response.0, "time": time})
}

/// The common part of every rendering.
fn base(ev: &Event, fields: &Map<String, Value>, opts: &RenderOptions) -> Map<String, Value> {
    let mut out = Map::new();
    let (body, preview) = body_json(fields.get("body").unwrap_or(&Value::Null), opts.body_text);
    out.insert("@odata.etag".into(), Value::Null);
    out.insert("id".into(), Value::Null);
    out.insert(
        "createdDateTime".into(),
        json!(timezones::format_utc(ev.created)),
    );
    out.insert(
        "lastModifiedDateTime".into(),
        json!(timezones::format_utc(ev.modified)),
    );
    out.insert("changeKey".into(), Value::Null);
    out.insert(
        "categories".into(),
        fields
            .get("categories")
            .cloned()
            .unwrap_or_else(|| json!([])),
    );
    out.insert("transactionId".into(), json!(ev.transaction_id));
    out.insert("originalStartTimeZone".into(), json!(ev.start.zone.name));
    out.insert("originalEndTimeZone".into(), json!(ev.end.zone.name));
    out.insert("iCalUId".into(), json!(ev.ical_uid));
    for key in ["reminderMinutesBeforeStart", "isReminderOn"] {
        out.insert(key.into(), fields.get(key).cloned().unwrap_or(Value::Null));
    }
    out.insert("hasAttachments".into(), json!(false));
    out.insert(
        "subject".into(),
        fields.get("subject").cloned().unwrap_or_else(|| json!("")),
    );
    out.insert("bodyPreview".into(), json!(preview));
    for key in ["importance", "sensitivity"] {
        out.insert(key.into(), fields.get(key).cloned().unwrap_or(Value::Null));
    }
    out.insert("isAllDay".into(), json!(ev.is_all_day));
    out.insert("isCancelled".into(), json!(ev.is_cancelled));
    out.insert("isOrganizer".into(), json!(ev.is_organizer));
    for key in [
        "responseRequested",
        "allowNewTimeProposals",
        "hideAttendees",
    ] {
        out.insert(key.into(), fields.get(key).cloned().unwrap_or(Value::Null));
    }
    out.insert("isDraft".into(), json!(false));
    out.insert("seriesMasterId".into(), Value::Null);
    out.insert(
        "showAs".into(),
        fields.get("showAs").cloned().unwrap_or(Value::Null),
    );
    out.insert("type".into(), json!("singleInstance"));
    out.insert("webLink".into(), Value::Null);
    out.insert("onlineMeetingUrl".into(), Value::Null);
    out.insert(
        "isOnlineMeeting".into(),
        fields
            .get("isOnlineMeeting")
            .cloned()
            .unwrap_or(json!(false)),
    );
    out.insert(
        "onlineMeetingProvider".into(),
        fields
            .get("onlineMeetingProvider")
            .cloned()
            .unwrap_or(Value::Null),
    );
    out.insert(
        "onlineMeeting".into(),
        fields.get("onlineMeeting").cloned().unwrap_or(Value::Null),
    );
    out.insert("responseStatus".into(), response_json(&ev.response));
    out.insert("body".into(), body);
    out.insert("start".into(), Value::Null);
    out.insert("end".into(), Value::Null);
    out.insert(
        "location".into(),
        fields.get("location").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "locations".into(),
        fields
            .get("locations")
            .cloned()
            .unwrap_or_else(|| json!([])),
    );
    out.insert("recurrence".into(), Value::Null);
    out.insert(
        "attendees".into(),
        fields
            .get("attendees")
            .cloned()
            .unwrap_or_else(|| json!([])),
    );
    out.insert("organizer".into(), json!({"emailAddress": ev.organizer}));
    out
}

fn set_identity(out: &mut Map<String, Value>, id: &str, change_key: &str) {
    out.insert("@odata.etag".into(), json!(format!("W/\"{change_key}\"")));
    out.insert("id".into(), json!(id));
    out.insert("changeKey".into(), json!(change_key));
    let link = format!(
        "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    out.insert("webLink".into(), json!(link));
}

/// A single event or series master.
pub fn event(ev: &Event, opts: &RenderOptions) -> Map<String, Value> {
    let mut out = base(ev, &ev.fields, opts);
    set_identity(&mut out, &ev.id, &ev.change_key);
    out.insert("start".into(), when_json(&ev.start, ev.is_all_day, opts));
    out.insert("end".into(), when_json(&ev.end, ev.is_all_day, opts));
    if let Some(rec) = &ev.recurrence {
        out.insert("type".into(), json!("seriesMaster"));
        out.insert("recurrence".into(), rec.to_json(&ev.start.zone.name));
    }
    out
}

/// `cancelledOccurrences` of a master: `OID.{masterId}.{date}`.
pub fn cancelled_occurrences(ev: &Event) -> Value {
    ev.cancelled
        .iter()
        .map(|d| json!(format!("OID.{}.{}", ev.id, d)))
        .collect()
}

/// The occurrence (or exception) of `ev` originally on `date`.
pub fn occurrence(ev: &Event, date: Date, opts: &RenderOptions) -> Map<String, Value> {
    let exception = ev.exceptions.get(&date);
    let mut fields = ev.fields.clone();
    if let Some(exc) = exception {
        for (k, v) in &exc.fields {
            fields.insert(k.clone(), v.clone());
        }
    }
    let mut out = base(ev, &fields, opts);
    let id = crate::ids::occurrence_id(&ev.id, date).unwrap_or_default();
    set_identity(&mut out, &id, &ev.occurrence_change_key(date));
    let (original_start, original_end) = ev.occurrence_times(date);
    let (start, end) = match exception {
        Some(exc) => (exc.start.clone(), exc.end.clone()),
        None => (original_start.clone(), original_end),
    };
    out.insert("start".into(), when_json(&start, ev.is_all_day, opts));
    out.insert("end".into(), when_json(&end, ev.is_all_day, opts));
    out.insert(
        "type".into(),
        json!(if exception.is_some() {
            "exception"
        } else {
            "occurrence"
        }),
    );
    out.insert("seriesMasterId".into(), json!(ev.id));
    out.insert(
        "iCalUId".into(),
        json!(crate::ids::occurrence_ical_uid(&ev.ical_uid, date)),
    );
    out.insert(
        "originalStart".into(),
        json!(timezones::format_utc(original_start.instant())),
    );
    if let Some(exc) = exception {
        out.insert(
            "lastModifiedDateTime".into(),
            json!(timezones::format_utc(exc.modified)),
        );
    }
    out
}

/// The `@odata.context` of a mailbox's event collection or entity.
pub fn context(origin: &str, mailbox: &Mailbox, entity: bool) -> String {
    let suffix = if entity { "/$entity" } else { "" };
    format!(
        "{origin}/v1.0/$metadata#users('{}')/events{suffix}",
        mailbox.user_id
    )
}
