//! Event properties in request bodies: validation and normalisation (enums case-insensitive in, lowerCamelCase
//! out; defaults filled in), and the edit model shared by create, update and occurrence edits.

use serde_json::{Map, Value, json};

use crate::errors::GraphError;
use crate::recurrence::Recurrence;
use crate::store::When;
use crate::timezones::{self, Zone};

/// What kind of write the body belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// POST: `start`/`end` required, `transactionId` settable.
    Create,
    /// PATCH of a single event or series master.
    Update,
    /// PATCH of one occurrence (makes an exception): no recurrence.
    Occurrence,
}

/// The editable state of an event or occurrence.
#[derive(Debug, Clone)]
pub struct Editable {
    /// Normalised writable properties other than the ones below.
    pub fields: Map<String, Value>,
    /// Start.
    pub start: Option<When>,
    /// End.
    pub end: Option<When>,
    /// All-day flag.
    pub is_all_day: bool,
    /// Recurrence.
    pub recurrence: Option<Recurrence>,
    /// Whether the body carried `recurrence`.
    pub recurrence_given: bool,
    /// `transactionId`.
    pub transaction_id: Option<String>,
}

/// Properties a client may send that the server owns; Graph ignores them on write.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "iCalUId",
    "uid",
    "bodyPreview",
    "isOrganizer",
    "responseStatus",
    "seriesMasterId",
    "type",
    "webLink",
    "onlineMeetingUrl",
    "onlineMeeting",
    "hasAttachments",
    "originalStart",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "isCancelled",
    "isDraft",
    "occurrenceId",
    "organizer",
    "cancelledOccurrences",
    "exceptionOccurrences",
    "instances",
    "calendar",
    "attachments",
    "extensions",
];

/// The fields whose change makes Outlook mail an `update` to the attendees.
pub const MEETING_FIELDS: &[&str] = &["subject", "body", "location", "isOnlineMeeting"];

/// A new editable state with Graph's defaults.
pub fn defaults() -> Editable {
    let mut fields = Map::new();
    fields.insert("subject".into(), json!(""));
    fields.insert("body".into(), json!({"contentType": "html", "content": ""}));
    fields.insert("location".into(), empty_location());
    fields.insert("locations".into(), json!([]));
    fields.insert("attendees".into(), json!([]));
    fields.insert("categories".into(), json!([]));
    fields.insert("importance".into(), json!("normal"));
    fields.insert("sensitivity".into(), json!("normal"));
    fields.insert("showAs".into(), json!("busy"));
    fields.insert("isReminderOn".into(), json!(true));
    fields.insert("reminderMinutesBeforeStart".into(), json!(15));
    fields.insert("responseRequested".into(), json!(true));
    fields.insert("allowNewTimeProposals".into(), json!(true));
    fields.insert("hideAttendees".into(), json!(false));
    fields.insert("isOnlineMeeting".into(), json!(false));
    fields.insert("onlineMeetingProvider".into(), json!("unknown"));
    Editable {
        fields,
        start: None,
        end: None,
        is_all_day: false,
        recurrence: None,
        recurrence_given: false,
        transaction_id: None,
    }
}

fn empty_location() -> Value {
    json!({"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": {}, "coordinates": {}})
}

/// Looks a key up case-insensitively (action parameters and nested objects arrive in either case).
pub fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn enum_value(
    value: &Value,
    field: &str,
    type_name: &str,
    allowed: &[&str],
) -> Result<Value, GraphError> {
    let text = value.as_str().ok_or_else(|| {
        GraphError::body_read(format!("Property '{field}' must be a string, got {value}."))
    })?;
    allowed.iter().find(|a| a.eq_ignore_ascii_case(text)).map(|a| json!(a)).ok_or_else(|| {
        GraphError::body_read(format!(
            "Cannot convert the literal '{text}' to the expected type 'microsoft.graph.{type_name}' (property '{field}')."
        ))
    })
}

fn bool_value(value: &Value, field: &str) -> Result<Value, GraphError> {
    value.as_bool().map(Value::Bool).ok_or_else(|| {
        GraphError::body_read(format!(
            "Property '{field}' must be a boolean, got {value}."
        ))
    })
}

fn string_value(value: &Value, field: &str) -> Result<String, GraphError> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => Err(GraphError::body_read(format!(
            "Property '{field}' must be a string, got {other}."
        ))),
    }
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, GraphError> {
    value.as_object().ok_or_else(|| {
        GraphError::body_read(format!(
            "Property '{field}' must be an object, got {value}."
        ))
    })
}

/// `emailAddress` normalised to `{name, address}`.
pub fn email_address(value: &Value, field: &str) -> Result<Value, GraphError> {
    let obj = object(value, field)?;
    let address = get_ci(obj, "address")
        .map(|v| string_value(v, &format!("{field}.address")))
        .transpose()?;
    let name = get_ci(obj, "name")
        .map(|v| string_value(v, &format!("{field}.name")))
        .transpose()?;
    let address = address.unwrap_or_default();
    let name = name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| address.clone());
    Ok(json!({"name": name, "address": address}))
}

fn location(value: &Value, field: &str) -> Result<Value, GraphError> {
    if value.is_null() {
        return Ok(empty_location());
    }
    let obj = object(value, field)?;
    let display = get_ci(obj, "displayName")
        .map(|v| string_value(v, &format!("{field}.displayName")))
        .transpose()?;
    let display = display.unwrap_or_default();
    let location_type = match get_ci(obj, "locationType") {
        Some(v) if !v.is_null() => enum_value(
            v,
            &format!("{field}.locationType"),
            "locationType",
            &[
                "default",
                "conferenceRoom",
                "homeAddress",
                "businessAddress",
                "geoCoordinates",
                "streetAddress",
                "hotel",
                "restaurant",
                "localBusiness",
                "postalAddress",
            ],
        )?,
        _ => json!("default"),
    };
    let mut out = json!({
        "displayName": display,
        "locationType": location_type,
        "address": get_ci(obj, "address").cloned().filter(Value::is_object).unwrap_or_else(|| json!({})),
        "coordinates": get_ci(obj, "coordinates").cloned().filter(Value::is_object).unwrap_or_else(|| json!({})),
    });
    match get_ci(obj, "uniqueId").and_then(Value::as_str) {
        Some(unique) => {
            out["uniqueId"] = json!(unique);
            let kind = match get_ci(obj, "uniqueIdType") {
                Some(v) if !v.is_null() => enum_value(
                    v,
                    &format!("{field}.uniqueIdType"),
                    "locationUniqueIdType",
                    &["unknown", "locationStore", "directory", "private", "bing"],
                )?,
                _ => json!("private"),
            };
            out["uniqueIdType"] = kind;
        }
        // Like Exchange: a free-text location gets a private unique id equal to its name.
        None if !display.is_empty() => {
            out["uniqueId"] = json!(display);
            out["uniqueIdType"] = json!("private");
        }
        None => out["uniqueIdType"] = json!("unknown"),
    }
    if let Some(email) = get_ci(obj, "locationEmailAddress").and_then(Value::as_str) {
        out["locationEmailAddress"] = json!(email);
    }
    if let Some(uri) = get_ci(obj, "locationUri").and_then(Value::as_str) {
        out["locationUri"] = json!(uri);
    }
    Ok(out)
}

fn attendees(value: &Value, previous: &[Value]) -> Result<Value, GraphError> {
    if value.is_null() {
        return Ok(json!([]));
    }
    let items = value.as_array().ok_or_else(|| {
        GraphError::body_read(format!(
            "Property 'attendees' must be an array, got {value}."
        ))
    })?;
    if items.len() > 500 {
        return Err(GraphError::invalid_request(
            "An event can have at most 500 attendees.",
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("attendees[{i}]");
        let obj = object(item, &field)?;
        let email = get_ci(obj, "emailAddress").ok_or_else(|| {
            GraphError::invalid_request(format!("{field}.emailAddress is required."))
        })?;
        let email = email_address(email, &format!("{field}.emailAddress"))?;
        let kind = match get_ci(obj, "type") {
            Some(v) if !v.is_null() => enum_value(
                v,
                &format!("{field}.type"),
                "attendeeType",
                &["required", "optional", "resource"],
            )?,
            _ => json!("required"),
        };
        let address = email["address"].as_str().unwrap_or("");
        // The organiser owns attendee statuses: keep what the attendee answered.
        let status = previous
            .iter()
            .find(|p| {
                p.pointer("/emailAddress/address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| !address.is_empty() && a.eq_ignore_ascii_case(address))
            })
            .and_then(|p| p.get("status").cloned())
            .unwrap_or_else(|| json!({"response": "none", "time": "0001-01-01T00:00:00Z"}));
        out.push(json!({"type": kind, "status": status, "emailAddress": email}));
    }
    Ok(Value::Array(out))
}

fn date_time_time_zone(value: &Value, field: &str) -> Result<When, GraphError> {
    let obj = object(value, field)?;
    let zone = match get_ci(obj, "timeZone").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => timezones::resolve(name)?,
        _ => Zone::utc(),
    };
    let text = get_ci(obj, "dateTime")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::invalid_request(format!("{field}.dateTime is required.")))?;
    let local = timezones::parse_local(text, &zone).ok_or_else(|| {
        GraphError::body_read(format!(
            "Property '{field}.dateTime' is not a date-time: '{text}'."
        ))
    })?;
    // Exchange stores dates between 1601 and 4500; outside that range nothing converts reliably.
    if !(1601..=4500).contains(&local.year()) {
        return Err(GraphError::invalid_request(format!(
            "{field}.dateTime must be between the years 1601 and 4500, got '{text}'."
        )));
    }
    Ok(When { local, zone })
}

/// Applies a request body to `ed`, validating every property.
pub fn apply(ed: &mut Editable, body: &Map<String, Value>, mode: Mode) -> Result<(), GraphError> {
    for (key, value) in body {
        if key.starts_with('@') || key.contains("@odata.") {
            continue;
        }
        match key.as_str() {
            "subject" => {
                ed.fields
                    .insert(key.clone(), json!(string_value(value, key)?));
            }
            "body" => {
                let obj = object(value, key)?;
                let content_type = match get_ci(obj, "contentType") {
                    Some(v) if !v.is_null() => {
                        enum_value(v, "body.contentType", "bodyType", &["text", "html"])?
                    }
                    _ => json!("text"),
                };
                let content = get_ci(obj, "content")
                    .map(|v| string_value(v, "body.content"))
                    .transpose()?;
                ed.fields.insert(
                    key.clone(),
                    json!({"contentType": content_type, "content": content.unwrap_or_default()}),
                );
            }
            "start" => ed.start = Some(date_time_time_zone(value, key)?),
            "end" => ed.end = Some(date_time_time_zone(value, key)?),
            "isAllDay" => {
                let flag = bool_value(value, key)?.as_bool().unwrap_or(false);
                if mode == Mode::Occurrence && flag != ed.is_all_day {
                    return Err(GraphError::invalid_request(
                        "isAllDay of a single occurrence cannot be changed.",
                    ));
                }
                ed.is_all_day = flag;
            }
            "recurrence" => {
                if mode == Mode::Occurrence {
                    return Err(GraphError::invalid_request(
                        "recurrence cannot be set on an occurrence; update the series master instead.",
                    ));
                }
                ed.recurrence = if value.is_null() {
                    None
                } else {
                    Some(Recurrence::parse(value)?)
                };
                ed.recurrence_given = true;
            }
            "location" => {
                let loc = location(value, key)?;
                let has_name = loc["displayName"].as_str().is_some_and(|s| !s.is_empty());
                ed.fields.insert(
                    "locations".into(),
                    if has_name {
                        json!([loc.clone()])
                    } else {
                        json!([])
                    },
                );
                ed.fields.insert(key.clone(), loc);
            }
            "locations" => {
                let items = value.as_array().cloned().unwrap_or_default();
                let locs = items
                    .iter()
                    .enumerate()
                    .map(|(i, l)| location(l, &format!("locations[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                ed.fields.insert(
                    "location".into(),
                    locs.first().cloned().unwrap_or_else(empty_location),
                );
                ed.fields.insert(key.clone(), Value::Array(locs));
            }
            "attendees" => {
                let previous = ed
                    .fields
                    .get("attendees")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                ed.fields.insert(key.clone(), attendees(value, &previous)?);
            }
            "categories" => {
                let ok = value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string));
                if !ok && !value.is_null() {
                    return Err(GraphError::body_read(format!(
                        "Property 'categories' must be an array of strings, got {value}."
                    )));
                }
                ed.fields.insert(
                    key.clone(),
                    if value.is_null() {
                        json!([])
                    } else {
                        value.clone()
                    },
                );
            }
            "importance" => {
                ed.fields.insert(
                    key.clone(),
                    enum_value(value, key, "importance", &["low", "normal", "high"])?,
                );
            }
            "sensitivity" => {
                let allowed = ["normal", "personal", "private", "confidential"];
                ed.fields.insert(
                    key.clone(),
                    enum_value(value, key, "sensitivity", &allowed)?,
                );
            }
            "showAs" => {
                let allowed = [
                    "unknown",
                    "free",
                    "tentative",
                    "busy",
                    "oof",
                    "workingElsewhere",
                ];
                ed.fields.insert(
                    key.clone(),
                    enum_value(value, key, "freeBusyStatus", &allowed)?,
                );
            }
            "onlineMeetingProvider" => {
                let allowed = [
                    "unknown",
                    "teamsForBusiness",
                    "skypeForBusiness",
                    "skypeForConsumer",
                ];
                ed.fields.insert(
                    key.clone(),
                    enum_value(value, key, "onlineMeetingProviderType", &allowed)?,
                );
            }
            "isReminderOn" | "responseRequested" | "allowNewTimeProposals" | "hideAttendees" => {
                ed.fields.insert(key.clone(), bool_value(value, key)?);
            }
            "isOnlineMeeting" => {
                let wanted = bool_value(value, key)?;
                // Once an online meeting, always one: Graph ignores a later `false` (graph_api.md).
                if !is_online_meeting(ed) {
                    ed.fields.insert(key.clone(), wanted);
                }
            }
            "reminderMinutesBeforeStart" => {
                let minutes = value
                    .as_i64()
                    .filter(|m| i32::try_from(*m).is_ok())
                    .ok_or_else(|| {
                        GraphError::body_read(format!(
                            "Property 'reminderMinutesBeforeStart' must be an Int32, got {value}."
                        ))
                    })?;
                ed.fields.insert(key.clone(), json!(minutes));
            }
            "transactionId" => {
                let given = if value.is_null() {
                    None
                } else {
                    Some(string_value(value, key)?)
                };
                match mode {
                    Mode::Create => ed.transaction_id = given,
                    _ if given.is_none() || given == ed.transaction_id => {}
                    _ => {
                        return Err(GraphError::invalid_request(
                            "transactionId cannot be changed after the event is created.",
                        ));
                    }
                }
            }
            other if READ_ONLY.contains(&other) => {}
            other => {
                return Err(GraphError::body_read(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type."
                )));
            }
        }
    }
    if is_online_meeting(ed) && !ed.fields.contains_key("onlineMeeting") {
        join_online_meeting(ed);
    }
    Ok(())
}

fn is_online_meeting(ed: &Editable) -> bool {
    ed.fields.get("isOnlineMeeting") == Some(&json!(true))
}

/// What Graph fills in when an event becomes an online meeting: the provider (Teams when the client
/// named none) and the read-only `onlineMeeting` with its join link.
fn join_online_meeting(ed: &mut Editable) {
    if ed.fields.get("onlineMeetingProvider") == Some(&json!("unknown")) {
        ed.fields
            .insert("onlineMeetingProvider".into(), json!("teamsForBusiness"));
    }
    let thread = crate::ids::guid().replace('-', "");
    ed.fields.insert(
        "onlineMeeting".into(),
        json!({
            "joinUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"),
            "conferenceId": null,
            "tollNumber": null,
            "tollFreeNumbers": [],
            "phones": [],
            "quickDial": null,
        }),
    );
}

/// Checks the times: both present, end not before start, all-day at midnight with a later end date.
pub fn validate_times(ed: &Editable) -> Result<(When, When), GraphError> {
    let start = ed.start.clone().ok_or_else(|| {
        GraphError::invalid_request("The event start is required (property 'start').")
    })?;
    let end = ed.end.clone().ok_or_else(|| {
        GraphError::invalid_request("The event end is required (property 'end').")
    })?;
    if ed.is_all_day {
        let midnight = jiff::civil::Time::midnight();
        if start.local.time() != midnight
            || end.local.time() != midnight
            || end.local.date() <= start.local.date()
        {
            return Err(GraphError::invalid_request(
                "Your request can't be completed. For an all-day event, start and end must be at midnight and the end date (exclusive) after the start date (properties 'start', 'end').",
            ));
        }
    } else if end.instant() < start.instant() {
        return Err(GraphError::invalid_request(
            "The end of the event is before its start (properties 'start', 'end').",
        ));
    }
    Ok((start, end))
}
