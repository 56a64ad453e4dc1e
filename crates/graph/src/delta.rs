//! calendarView delta: the primary calendar's expanded events (singles, occurrences, exceptions)
//! that changed since the last round.

use std::collections::HashSet;

use http::Method;
use serde_json::Value;

use crate::client::{Call, GraphClient};
use crate::error::GraphError;
use crate::paging::MAX_PAGES;
use crate::retry::Replay;

const LOG: &str = "outlook_sync::graph::delta";

/// Where a delta round starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaStart {
    /// A full round over a window (first sync, or after [`DeltaOutcome::ResyncRequired`]).
    Window {
        /// Window start (inclusive).
        start: jiff::Timestamp,
        /// Window end (exclusive).
        end: jiff::Timestamp,
    },
    /// The `@odata.deltaLink` stored after the previous round.
    Link(String),
}

/// The result of a delta round.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaOutcome {
    /// Every change since the start, in the order Graph sent them (replays possible).
    Changes {
        /// The changes.
        items: Vec<DeltaItem>,
        /// Store it; it starts the next round.
        delta_link: String,
        /// Pages fetched (an unchanged mailbox costs one).
        pages: u32,
    },
    /// The sync state expired or was reset (410, `syncStateNotFound`, `resyncRequired`): forget
    /// the link and start a full round.
    ResyncRequired {
        /// Graph's error code (or `"410"` when it gave none).
        code: String,
    },
}

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaItem {
    /// Created or updated: the full event as Graph sent it.
    Upsert(Value),
    /// `@removed`: gone from the window (deleted, or moved out of it).
    Removed {
        /// The event id.
        id: String,
    },
}

impl GraphClient {
    /// Runs one delta round: follows `@odata.nextLink` (even from empty pages) to the
    /// `@odata.deltaLink`.
    pub async fn delta(&self, start: DeltaStart) -> Result<DeltaOutcome, GraphError> {
        let mut next = Some(match start {
            DeltaStart::Window { start, end } => {
                if end <= start {
                    return Err(GraphError::InvalidInput {
                        context: "delta window".to_owned(),
                        detail: format!("end {end} is not after start {start}"),
                    });
                }
                let mut url = self.url(&["me", "calendarView", "delta"])?;
                url.query_pairs_mut()
                    .append_pair("startDateTime", &start.to_string())
                    .append_pair("endDateTime", &end.to_string());
                url
            }
            DeltaStart::Link(link) => self.own_link(&link, "stored delta link")?,
        });
        let mut items = Vec::new();
        let mut pages = 0;
        let mut progress = Progress::default();
        while let Some(url) = next.take() {
            pages += 1;
            let context = format!("delta page {pages}");
            if pages > MAX_PAGES {
                return Err(GraphError::Payload {
                    context,
                    detail: format!("more than {MAX_PAGES} pages without a deltaLink"),
                });
            }
            let mut call = Call::new(Method::GET, url, Replay::Idempotent);
            call.paged = true;
            let page = match self.execute(&call).await {
                Ok(reply) => reply.json(&context)?,
                Err(error) => {
                    if let Some(code) = resync_code(&error) {
                        log::info!(target: LOG, "{}delta state is gone ({code}); a full resync is needed", self.who());
                        return Ok(DeltaOutcome::ResyncRequired { code });
                    }
                    return Err(error);
                }
            };
            let (page_items, link) = parse_page(&page, &context)?;
            if matches!(link, PageLink::Next(_)) && !progress.advances(&page_items) {
                return Err(GraphError::Payload {
                    context,
                    detail: format!(
                        "Outlook sent {STALE_PAGES} pages in a row with nothing new and still no \
                         deltaLink (a known Microsoft Graph fault with large recurring series); \
                         the round was stopped and nothing was changed, the next run starts it again"
                    ),
                });
            }
            items.extend(page_items);
            match link {
                PageLink::Next(link) => next = Some(self.own_link(&link, &context)?),
                PageLink::Delta(delta_link) => {
                    self.own_link(&delta_link, &context)?;
                    log::debug!(target: LOG, "{}delta round: {} change(s) in {pages} page(s)", self.who(), items.len());
                    return Ok(DeltaOutcome::Changes {
                        items,
                        delta_link,
                        pages,
                    });
                }
            }
        }
        // Unreachable: the loop returns on a deltaLink and fails on a page without links.
        Err(GraphError::Payload {
            context: "delta".to_owned(),
            detail: "paging ended without a deltaLink".to_owned(),
        })
    }
}

/// Pages in a row that bring nothing new before a round is taken for a loop. Graph can loop
/// on calendarView delta, handing out a new nextLink with the same page again and again
/// (msgraph-sdk-dotnet#3070, #3082, open in 2026). Following it to [`MAX_PAGES`] would spend a
/// whole throttling budget of the mailbox and hold every replayed page in memory.
const STALE_PAGES: u32 = 10;

/// Whether a round still moves: a page moves it when it holds a change not seen earlier in the
/// round. Legitimate replays and empty pages happen, but not [`STALE_PAGES`] in a row.
#[derive(Default)]
struct Progress {
    seen: HashSet<(String, Option<String>)>,
    stale: u32,
}

impl Progress {
    /// Records a page; false once [`STALE_PAGES`] pages in a row brought nothing new.
    fn advances(&mut self, page: &[DeltaItem]) -> bool {
        let mut fresh = false;
        for item in page {
            let key = match item {
                DeltaItem::Removed { id } => (id.clone(), None),
                DeltaItem::Upsert(json) => {
                    let version = ["changeKey", "@odata.etag", "lastModifiedDateTime"]
                        .iter()
                        .find_map(|key| json.get(*key).and_then(Value::as_str));
                    let id = json.get("id").and_then(Value::as_str).unwrap_or_default();
                    (id.to_owned(), Some(version.unwrap_or_default().to_owned()))
                }
            };
            fresh |= self.seen.insert(key);
        }
        self.stale = if fresh { 0 } else { self.stale + 1 };
        self.stale < STALE_PAGES
    }
}

#[derive(Debug)]
enum PageLink {
    Next(String),
    Delta(String),
}

/// Splits one delta page into its items and its continuation.
fn parse_page(page: &Value, context: &str) -> Result<(Vec<DeltaItem>, PageLink), GraphError> {
    let payload = |detail: String| GraphError::Payload {
        context: context.to_owned(),
        detail,
    };
    let values = page
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| payload("`value` is missing or not an array".to_owned()))?;
    let mut items = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| payload(format!("item {index} has no string `id`")))?;
        if value.get("@removed").is_some() {
            items.push(DeltaItem::Removed { id: id.to_owned() });
        } else {
            items.push(DeltaItem::Upsert(value.clone()));
        }
    }
    let link = |key: &str| -> Result<Option<String>, GraphError> {
        match page.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(link)) => Ok(Some(link.clone())),
            Some(_) => Err(payload(format!("`{key}` is not a string"))),
        }
    };
    let link = match (link("@odata.nextLink")?, link("@odata.deltaLink")?) {
        (Some(next), _) => PageLink::Next(next),
        (None, Some(delta)) => PageLink::Delta(delta),
        (None, None) => {
            return Err(payload(
                "neither `@odata.nextLink` nor `@odata.deltaLink` is present".to_owned(),
            ));
        }
    };
    Ok((items, link))
}

/// The code to report when `error` means the delta state is gone.
fn resync_code(error: &GraphError) -> Option<String> {
    let GraphError::Api { status, code, .. } = error else {
        return None;
    };
    let known = ["syncStateNotFound", "resyncRequired", "fullSyncRequired"]
        .iter()
        .any(|k| code.eq_ignore_ascii_case(k));
    match (*status, known) {
        (_, true) => Some(code.clone()),
        (410, false) if code.is_empty() => Some("410".to_owned()),
        (410, false) => Some(code.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn fixture_pages_parse_in_order() {
        // graph_api.md §4.1.
        let first = json!({ "@odata.nextLink": "https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken=R0usmcCM996atia_s",
            "value": [ { "@odata.type": "#microsoft.graph.event", "subject": "Plan shopping list", "id": "AAMkADNVxRAAA=" } ] });
        let (items, link) = parse_page(&first, "p1").unwrap();
        assert!(
            matches!(&items[..], [DeltaItem::Upsert(v)] if v["subject"] == "Plan shopping list")
        );
        assert!(matches!(link, PageLink::Next(l) if l.ends_with("$skiptoken=R0usmcCM996atia_s")));
        let last = json!({ "@odata.deltaLink": "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcFuQtZdtpk4",
            "value": [ { "id": "AAMkADk0MGFkODE3...AAA=", "@removed": {"reason": "deleted"} },
                       { "subject": "Attend service", "id": "AAMkADj1HvAAA=" } ] });
        let (items, link) = parse_page(&last, "p2").unwrap();
        assert_eq!(
            items[0],
            DeltaItem::Removed {
                id: "AAMkADk0MGFkODE3...AAA=".into()
            }
        );
        assert!(matches!(&items[1], DeltaItem::Upsert(v) if v["id"] == "AAMkADj1HvAAA="));
        assert!(matches!(link, PageLink::Delta(_)));
    }

    #[test]
    fn empty_page_with_next_link_continues() {
        let page = json!({"value": [], "@odata.nextLink": "https://g/v1.0/x"});
        let (items, link) = parse_page(&page, "p").unwrap();
        assert!(items.is_empty() && matches!(link, PageLink::Next(_)));
    }

    #[test]
    fn malformed_pages_name_the_page_and_item() {
        let err = parse_page(
            &json!({"value": [{"id": "a"}, {"subject": "no id"}], "@odata.deltaLink": "x"}),
            "delta page 3",
        )
        .unwrap_err();
        assert_eq!(
            err,
            GraphError::Payload {
                context: "delta page 3".into(),
                detail: "item 1 has no string `id`".into()
            }
        );
        let err = parse_page(&json!({"value": []}), "delta page 1").unwrap_err();
        assert!(
            err.to_string()
                .contains("neither `@odata.nextLink` nor `@odata.deltaLink`"),
            "{err}"
        );
        let err = parse_page(&json!({"values": []}), "delta page 1").unwrap_err();
        assert!(err.to_string().contains("`value`"), "{err}");
    }

    #[test]
    fn a_round_stops_after_ten_pages_in_a_row_with_nothing_new() {
        let upsert =
            |id: &str, change: &str| DeltaItem::Upsert(json!({"id": id, "changeKey": change}));
        let removed = || DeltaItem::Removed { id: "a".into() };
        let mut progress = Progress::default();
        assert!(progress.advances(&[upsert("a", "1")]));
        // Empty pages and replays count alike; nine in a row are tolerated.
        for page in 1..STALE_PAGES {
            let items = if page % 2 == 0 {
                vec![]
            } else {
                vec![upsert("a", "1")]
            };
            assert!(progress.advances(&items), "page {page}");
        }
        // A new version of a seen event is a change, and so is its removal.
        assert!(progress.advances(&[upsert("a", "2")]));
        assert!(progress.advances(&[removed()]));
        for _ in 1..STALE_PAGES {
            assert!(progress.advances(&[removed()]));
        }
        assert!(
            !progress.advances(&[]),
            "the tenth page in a row with nothing new"
        );
    }

    #[test]
    fn resync_codes_match_case_insensitively_and_on_410() {
        let api = |status, code: &str| GraphError::Api {
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        assert_eq!(
            resync_code(&api(410, "SyncStateNotFound")).as_deref(),
            Some("SyncStateNotFound")
        );
        assert_eq!(
            resync_code(&api(400, "syncstatenotfound")).as_deref(),
            Some("syncstatenotfound")
        );
        assert_eq!(
            resync_code(&api(400, "resyncRequired")).as_deref(),
            Some("resyncRequired")
        );
        assert_eq!(resync_code(&api(410, "")).as_deref(), Some("410"));
        assert_eq!(resync_code(&api(404, "ErrorItemNotFound")), None);
        assert_eq!(
            resync_code(&GraphError::Transport {
                message: String::new(),
                timeout: false
            }),
            None
        );
    }
}
