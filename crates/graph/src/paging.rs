//! Collection paging: follow `@odata.nextLink` to the end.

use http::Method;
use serde_json::Value;
use url::Url;

use crate::client::{Call, GraphClient};
use crate::error::GraphError;
use crate::retry::Replay;

/// Safety net against a server that keeps handing out `@odata.nextLink`s.
pub(crate) const MAX_PAGES: u32 = 10_000;

impl GraphClient {
    /// Follows `@odata.nextLink` from `url` and returns every `value` item.
    pub(crate) async fn list_all(&self, url: Url, context: &str) -> Result<Vec<Value>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut page = 0;
        while let Some(url) = next.take() {
            page += 1;
            if page > MAX_PAGES {
                return Err(GraphError::Payload {
                    context: context.to_owned(),
                    detail: format!(
                        "more than {MAX_PAGES} pages; the server keeps sending nextLink"
                    ),
                });
            }
            let mut call = Call::new(Method::GET, url, Replay::Idempotent);
            call.paged = true;
            let page_context = format!("{context}, page {page}");
            let json = self.execute(&call).await?.json(&page_context)?;
            let Some(values) = json.get("value").and_then(Value::as_array) else {
                return Err(GraphError::Payload {
                    context: page_context,
                    detail: "`value` is missing or not an array".to_owned(),
                });
            };
            items.extend(values.iter().cloned());
            if let Some(link) = json.get("@odata.nextLink") {
                let link = link.as_str().ok_or_else(|| GraphError::Payload {
                    context: page_context.clone(),
                    detail: "`@odata.nextLink` is not a string".to_owned(),
                })?;
                next = Some(self.own_link(link, &page_context)?);
            }
        }
        Ok(items)
    }
}
