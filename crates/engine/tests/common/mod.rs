//! Builders shared by the integration tests.
#![allow(dead_code)]

use outlook_engine::{LocalItem, PlanConfig, RemoteItem, Status};

pub const SALT: &str = "test-db/mailbox-1";

pub fn config() -> PlanConfig {
    PlanConfig::new(SALT)
}

pub fn local(id: &str, hash: &str, modified_at: i64) -> LocalItem {
    LocalItem {
        id: id.into(),
        hash: hash.into(),
        ical_uid: None,
        match_key: None,
        awaited_key: None,
        modified_at: Some(modified_at),
    }
}

pub fn remote(id: &str, hash: &str, modified_at: i64) -> RemoteItem {
    RemoteItem {
        id: id.into(),
        hash: hash.into(),
        ical_uid: None,
        match_key: None,
        awaited_key: None,
        transaction_id: None,
        modified_at: Some(modified_at),
    }
}

pub fn status(local_id: &str, remote_id: &str, local_hash: &str, remote_hash: &str) -> Status {
    Status {
        local_id: local_id.into(),
        remote_id: remote_id.into(),
        ical_uid: None,
        local_hash: local_hash.into(),
        remote_hash: remote_hash.into(),
        local_mtime: Some(0),
        remote_mtime: Some(0),
    }
}
