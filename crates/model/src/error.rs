//! The one error type of this crate.
//!
//! Every variant names the item it is about (a Graph id, an Odoo id, or a subject when nothing better is
//! known) and the field, so a sync report can tell a person exactly which event and which value to look at.
//! No variant ever carries secrets: this crate never sees any.

/// Why a conversion or validation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A time zone name that is neither a Windows nor an IANA name we know.
    #[error("item {item}: unknown time zone {name:?} in field `{field}`")]
    UnknownTimeZone {
        /// The name as received.
        name: String,
        /// The item (id or subject) the name came from.
        item: String,
        /// The field (JSON path or Odoo field name).
        field: String,
    },
    /// The JSON did not have the expected shape (wrong type, missing required field).
    #[error("item {item}: field `{field}`: {message}")]
    Json {
        /// The item id, or `?` when the JSON had no id.
        item: String,
        /// JSON path of the offending value, as reported by serde_path_to_error.
        field: String,
        /// What serde said.
        message: String,
    },
    /// A value was well-formed but not acceptable (an unknown enum member, a time that is not midnight on
    /// an all-day event, an interval of 0, a count of 10^9...).
    #[error("item {item}: field `{field}`: invalid value {value:?}: {reason}")]
    InvalidValue {
        /// The item (id or subject).
        item: String,
        /// The field (JSON path, RRULE part, or Odoo field name).
        field: String,
        /// The value as received.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A recurrence rule that the target cannot express exactly (for example a `relativeYearly` Graph
    /// pattern for Odoo). Nothing is approximated: the caller decides what to do.
    #[error("item {item}: field `{field}`: recurrence cannot be expressed in {target}: {reason}")]
    RecurrenceNotRepresentable {
        /// The item (id or subject).
        item: String,
        /// The field or rule part that has no equivalent.
        field: String,
        /// The system that cannot express it (`"Odoo"`, `"RRULE"`, `"Graph"`).
        target: &'static str,
        /// What exactly is missing.
        reason: String,
    },
}

/// Longest item label, value or message an error carries, in characters. A hostile event may have a
/// 100,000-character subject or field value; the sync log needs enough to recognise it, not all of it.
pub const MAX_ERROR_TEXT: usize = 200;

/// `text` cut to [`MAX_ERROR_TEXT`] characters (on a character boundary), marked with `…` when cut.
/// For anything quoted from an event into a report or a log line.
pub fn clip(text: impl Into<String>) -> String {
    let mut text = text.into();
    if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_TEXT) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// `text` cut so that it still fits [`MAX_ERROR_TEXT`] characters once quoted with `{:?}`, which
/// writes a character such as U+100000 as ten (`\u{100000}`): a value is shown that way.
fn clip_quoted(text: String) -> String {
    let mut width = 0;
    for (at, c) in text.char_indices() {
        width += c.escape_debug().count();
        if width > MAX_ERROR_TEXT {
            let mut cut = text;
            cut.truncate(at);
            cut.push('…');
            return cut;
        }
    }
    text
}

impl ModelError {
    /// Shorthand for [`ModelError::InvalidValue`]; item and value are clipped ([`MAX_ERROR_TEXT`]).
    pub(crate) fn invalid(
        item: impl Into<String>,
        field: impl Into<String>,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidValue {
            item: clip(item),
            field: clip(field),
            value: clip_quoted(value.to_string()),
            reason: clip(reason),
        }
    }

    /// Shorthand for [`ModelError::Json`]; serde quotes offending values in its messages, so the
    /// message is clipped too.
    pub(crate) fn json(
        item: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Json {
            item: clip(item),
            field: clip(field),
            message: clip(message),
        }
    }

    /// Shorthand for [`ModelError::UnknownTimeZone`].
    pub(crate) fn unknown_zone(
        name: impl Into<String>,
        item: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        Self::UnknownTimeZone {
            name: clip(name),
            item: clip(item),
            field: clip(field),
        }
    }

    /// Shorthand for [`ModelError::RecurrenceNotRepresentable`].
    pub(crate) fn not_representable(
        item: impl Into<String>,
        field: impl Into<String>,
        target: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self::RecurrenceNotRepresentable {
            item: clip(item),
            field: clip(field),
            target,
            reason: clip(reason),
        }
    }
}

/// Something a conversion did not fail on but a person should hear about (a custom Outlook zone read as
/// UTC, an attendee that cannot be written to Graph...). Surface these in the sync report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// The item (id or subject).
    pub item: String,
    /// The field.
    pub field: String,
    /// What happened.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "item {}: field `{}`: {}",
            self.item, self.field, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_characters_debug_escapes_at_length_still_makes_a_short_message() {
        let error = ModelError::invalid("item", "field", "\u{100000}".repeat(1_000), "why");
        let text = error.to_string();
        assert!(text.chars().count() < 2 * MAX_ERROR_TEXT, "{text}");
        assert!(text.contains("\\u{100000}…"), "{text}");
        let plain = ModelError::invalid("item", "field", "chairperson", "why");
        assert!(plain.to_string().contains("invalid value \"chairperson\""));
    }
}
