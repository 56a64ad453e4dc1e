//! Why a run wrote nothing at all.

use outlook_engine::{ApplyError, PlanError};
use outlook_graph::GraphError;
use thiserror::Error;

/// A run that failed as a whole. Nothing was written to Outlook unless the variant says so, and the
/// stored state must be kept as it was; failures of single items are not errors (see
/// [`crate::Report::failures`]).
#[derive(Debug, Error)]
pub enum RunError {
    /// Reading the mailbox failed (authorization, network, throttling beyond the retry budget).
    #[error("mailbox {mailbox}: reading the calendar failed: {source}")]
    Pull {
        /// The mailbox.
        mailbox: String,
        /// The client's error (it never contains secrets).
        #[source]
        source: GraphError,
    },
    /// The engine refused to plan (the safety stop on an emptied side, or inconsistent input).
    #[error("mailbox {mailbox}: {source}")]
    Plan {
        /// The mailbox.
        mailbox: String,
        /// The engine's reason.
        #[source]
        source: PlanError,
    },
    /// The input cannot be used as given.
    #[error("mailbox {mailbox}: invalid input: {detail}")]
    Input {
        /// The mailbox.
        mailbox: String,
        /// What is wrong, naming the item and field.
        detail: String,
    },
    /// Results could not be recorded after Outlook was written (a bug: the plan and its results
    /// disagree). Keep the old state: the next run recognises what was written.
    #[error("mailbox {mailbox}: recording the results failed after writing to Outlook: {source}")]
    Apply {
        /// The mailbox.
        mailbox: String,
        /// The engine's reason.
        #[source]
        source: ApplyError,
    },
}

impl RunError {
    /// True for the engine's safety stop: a side that had items is empty, and nothing was written.
    pub fn is_safety_stop(&self) -> bool {
        matches!(
            self,
            RunError::Plan {
                source: PlanError::SafetyStop { .. },
                ..
            }
        )
    }
}
