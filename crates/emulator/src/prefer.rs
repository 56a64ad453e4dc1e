//! `Prefer` request headers (RFC 7240): several values per header, several headers, names case-insensitive.

/// The preferences Graph's calendar API honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefs {
    /// `outlook.timezone="..."`: the zone of `start`/`end` in responses.
    pub timezone: Option<String>,
    /// `outlook.body-content-type="text"|"html"`.
    pub body_content_type: Option<String>,
    /// `IdType="ImmutableId"`.
    pub immutable_id: bool,
    /// `odata.maxpagesize=n`.
    pub max_page_size: Option<usize>,
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

impl Prefs {
    /// Parses every `Prefer` header value given.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Prefs {
        let mut prefs = Prefs::default();
        for header in values {
            for item in header.split(',') {
                let (name, value) = match item.split_once('=') {
                    Some((n, v)) => (n.trim(), unquote(v)),
                    None => (item.trim(), ""),
                };
                if name.eq_ignore_ascii_case("outlook.timezone") {
                    prefs.timezone = Some(value.to_owned());
                } else if name.eq_ignore_ascii_case("outlook.body-content-type") {
                    prefs.body_content_type = Some(value.to_ascii_lowercase());
                } else if name.eq_ignore_ascii_case("IdType") {
                    prefs.immutable_id = value.eq_ignore_ascii_case("ImmutableId");
                } else if name.eq_ignore_ascii_case("odata.maxpagesize") {
                    prefs.max_page_size = value.parse().ok().filter(|n| *n > 0);
                }
            }
        }
        prefs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_values_in_one_header_and_several_headers() {
        let prefs = Prefs::parse([
            "outlook.timezone=\"Pacific Standard Time\", odata.maxpagesize=5",
            "idtype=\"ImmutableId\"",
        ]);
        assert_eq!(prefs.timezone.as_deref(), Some("Pacific Standard Time"));
        assert_eq!(prefs.max_page_size, Some(5));
        assert!(prefs.immutable_id);
        assert_eq!(prefs.body_content_type, None);
    }
}
