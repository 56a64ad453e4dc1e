//! Graph enum members <-> model enums. Graph emits lowerCamelCase and accepts any case; so do we.

use crate::error::ModelError;
use crate::event::{AttendeeType, EventKind, Privacy, ResponseStatus, ShowAs};

/// A Graph enum mapped to a model enum, with the member names Graph uses.
pub(crate) trait GraphEnum: Copy + PartialEq + 'static {
    /// Graph's members and their model values; the first name for a value is the one we write.
    const MEMBERS: &'static [(&'static str, Self)];
    /// The Graph enum's name, for error messages.
    const NAME: &'static str;

    fn graph_name(self) -> &'static str {
        Self::MEMBERS
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }

    fn parse(value: &str, item: &str, field: &str) -> Result<Self, ModelError> {
        Self::MEMBERS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(value.trim()))
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                ModelError::invalid(
                    item,
                    field,
                    value,
                    format!("not a member of {}", Self::NAME),
                )
            })
    }
}

impl GraphEnum for AttendeeType {
    const NAME: &'static str = "attendeeType";
    const MEMBERS: &'static [(&'static str, Self)] = &[
        ("required", Self::Required),
        ("optional", Self::Optional),
        ("resource", Self::Resource),
    ];
}

impl GraphEnum for ResponseStatus {
    const NAME: &'static str = "responseType";
    const MEMBERS: &'static [(&'static str, Self)] = &[
        ("none", Self::None),
        ("organizer", Self::Organizer),
        ("tentativelyAccepted", Self::TentativelyAccepted),
        ("accepted", Self::Accepted),
        ("declined", Self::Declined),
        ("notResponded", Self::NotResponded),
        // Graph's marker for members added after a client was written.
        ("unknownFutureValue", Self::None),
    ];
}

impl GraphEnum for Privacy {
    const NAME: &'static str = "sensitivity";
    const MEMBERS: &'static [(&'static str, Self)] = &[
        ("normal", Self::Normal),
        ("personal", Self::Personal),
        ("private", Self::Private),
        ("confidential", Self::Confidential),
    ];
}

impl GraphEnum for ShowAs {
    const NAME: &'static str = "freeBusyStatus";
    const MEMBERS: &'static [(&'static str, Self)] = &[
        ("unknown", Self::Unknown),
        ("free", Self::Free),
        ("tentative", Self::Tentative),
        ("busy", Self::Busy),
        ("oof", Self::Oof),
        ("workingElsewhere", Self::WorkingElsewhere),
        ("unknownFutureValue", Self::Unknown),
    ];
}

impl GraphEnum for EventKind {
    const NAME: &'static str = "eventType";
    const MEMBERS: &'static [(&'static str, Self)] = &[
        ("singleInstance", Self::Single),
        ("seriesMaster", Self::SeriesMaster),
        ("occurrence", Self::Occurrence),
        ("exception", Self::Exception),
    ];
}
