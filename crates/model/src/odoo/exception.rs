//! An edited occurrence of an Odoo series as plain data, <-> [`OccurrenceException`].

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use super::record::{odoo_times, to_odoo_times};
use super::{falsy, naive_utc};
use crate::error::ModelError;
use crate::recurrence::exceptions::OccurrenceException;

/// One occurrence of an Odoo series edited on its own ("this event only"): the day the rule gives
/// it and what it holds now. Times follow the series' kind, as on [`super::OdooEvent`]: naive UTC
/// `start`/`stop` for a timed series, `start_date`/`stop_date` (stop inclusive) for an all-day one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(expecting = "an edited occurrence (object with date and times)")]
pub struct OdooException {
    /// The day the rule gives this occurrence, in the series' zone.
    pub date: Date,
    /// Start, naive UTC (timed series).
    #[serde(default, with = "naive_utc")]
    pub start: Option<DateTime>,
    /// Stop, naive UTC (timed series).
    #[serde(default, with = "naive_utc")]
    pub stop: Option<DateTime>,
    /// First day (all-day series).
    #[serde(default, deserialize_with = "falsy::option")]
    pub start_date: Option<Date>,
    /// Last day, inclusive (all-day series).
    #[serde(default, deserialize_with = "falsy::option")]
    pub stop_date: Option<Date>,
    /// Title.
    #[serde(default, deserialize_with = "falsy::string")]
    pub name: Option<String>,
    /// Location.
    #[serde(default, deserialize_with = "falsy::string")]
    pub location: Option<String>,
}

impl OdooException {
    /// The neutral exception; `allday` is the series'. Errors name the record `item` and the
    /// field as `recurrence.exceptions[<date>].<field>`.
    pub(super) fn to_exception(
        &self,
        item: &str,
        allday: bool,
    ) -> Result<OccurrenceException, ModelError> {
        let prefix = format!("recurrence.exceptions[{}].", self.date);
        let (start, end) = odoo_times(
            item,
            &prefix,
            allday,
            [self.start, self.stop],
            [self.start_date, self.stop_date],
        )?;
        Ok(OccurrenceException {
            date: self.date,
            start,
            end,
            subject: self.name.clone().unwrap_or_default(),
            location: self.location.clone(),
        })
    }

    /// Odoo's values for a neutral exception (`item` labels errors).
    pub(super) fn from_exception(
        item: &str,
        exception: &OccurrenceException,
    ) -> Result<OdooException, ModelError> {
        let ([start, stop], [start_date, stop_date]) =
            to_odoo_times(item, exception.start, exception.end)?;
        Ok(OdooException {
            date: exception.date,
            start,
            stop,
            start_date,
            stop_date,
            name: Some(exception.subject.clone()),
            location: exception.location.clone(),
        })
    }
}
