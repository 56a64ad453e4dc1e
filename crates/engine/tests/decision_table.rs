//! One example per row of the decision table, on full listings and on deltas.
#![allow(clippy::unwrap_used)]

mod common;

use common::{SALT, config, local, remote, status};
use outlook_engine::{
    ConflictKind, ConflictPolicy, Listing, LocalOp, OpRef, OpReport, Outcome, PlanConfig,
    PlanError, RemoteOp, Resolution, Side, StatusKey, StatusUpdate, WrittenItem, apply_results,
    plan, plan_touched, transaction_id,
};

fn full<T>(items: Vec<T>) -> Listing<T> {
    Listing::full(items)
}

fn delta<T>(changed: Vec<T>, deleted: &[&str]) -> Listing<T> {
    Listing::delta(changed, deleted.iter().map(|id| id.to_string()).collect())
}

fn key(local_id: &str, remote_id: &str) -> Option<StatusKey> {
    Some(StatusKey {
        local_id: local_id.into(),
        remote_id: remote_id.into(),
    })
}

#[test]
fn unchanged_on_both_sides_plans_nothing() {
    let statuses = [status("L1", "R1", "h1", "h1")];
    // The modification times moved (changeKey churn): still no change, because the hashes did not.
    let p = plan(
        &statuses,
        &full(vec![local("L1", "h1", 50)]),
        &full(vec![remote("R1", "h1", 60)]),
        &config(),
    )
    .unwrap();
    assert!(p.is_empty(), "{p:?}");

    // A delta that re-reports the item with the same hash is no change either.
    let p = plan(
        &statuses,
        &delta(vec![local("L1", "h1", 50)], &[]),
        &delta(vec![remote("R1", "h1", 70)], &[]),
        &config(),
    )
    .unwrap();
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn empty_deltas_plan_nothing_without_reading_statuses() {
    // Even statuses that would be inconsistent with any listing are not looked at.
    let statuses = [status("L1", "R1", "h1", "h1"), status("L1", "R2", "h", "h")];
    let p = plan(
        &statuses,
        &delta(vec![], &[]),
        &delta(vec![], &[]),
        &config(),
    )
    .unwrap();
    assert!(p.is_empty());
}

#[test]
fn new_local_item_is_created_remotely_with_a_deterministic_transaction_id() {
    let p = plan(
        &[],
        &full(vec![local("L1", "h1", 1)]),
        &full(vec![]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Create {
            local_id: "L1".into(),
            transaction_id: transaction_id(SALT, "L1", None),
        }]
    );
    assert!(p.local_ops().is_empty());
    assert!(p.conflicts().is_empty());
}

#[test]
fn new_remote_item_is_created_locally() {
    let p = plan(
        &[],
        &delta(vec![], &[]),
        &delta(vec![remote("R1", "h1", 1)], &[]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R1".into()
        }]
    );
    assert!(p.remote_ops().is_empty());
}

#[test]
fn local_change_updates_remote() {
    let statuses = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    for (locals, remotes) in [
        (
            full(vec![local("L1", "h1b", 5), local("L2", "h2", 1)]),
            full(vec![remote("R1", "h1", 1), remote("R2", "h2", 1)]),
        ),
        (delta(vec![local("L1", "h1b", 5)], &[]), delta(vec![], &[])),
    ] {
        let p = plan(&statuses, &locals, &remotes, &config()).unwrap();
        assert_eq!(
            p.remote_ops(),
            [RemoteOp::Update {
                local_id: "L1".into(),
                remote_id: "R1".into()
            }]
        );
        assert!(p.local_ops().is_empty() && p.conflicts().is_empty());
    }
}

#[test]
fn remote_change_updates_local() {
    let statuses = [status("L1", "R1", "h1", "h1")];
    let p = plan(
        &statuses,
        &delta(vec![], &[]),
        &delta(vec![remote("R1", "h1b", 5)], &[]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Update {
            remote_id: "R1".into(),
            local_id: "L1".into()
        }]
    );
    assert!(p.remote_ops().is_empty() && p.conflicts().is_empty());
}

fn both_changed(policy: ConflictPolicy, local_time: i64, remote_time: i64) -> outlook_engine::Plan {
    let statuses = [status("L1", "R1", "h1", "h1")];
    let config = PlanConfig { policy, ..config() };
    plan(
        &statuses,
        &delta(vec![local("L1", "local-edit", local_time)], &[]),
        &delta(vec![remote("R1", "remote-edit", remote_time)], &[]),
        &config,
    )
    .unwrap()
}

#[test]
fn both_changed_latest_edit_wins_and_the_loser_is_reported() {
    let p = both_changed(ConflictPolicy::LatestWins, 20, 10);
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Update {
            local_id: "L1".into(),
            remote_id: "R1".into()
        }]
    );
    assert!(p.local_ops().is_empty());
    let [conflict] = p.conflicts() else {
        panic!("one conflict expected: {p:?}")
    };
    assert_eq!(conflict.kind, ConflictKind::BothModified);
    assert_eq!(conflict.winner, Side::Local);
    assert_eq!(conflict.resolution, Resolution::NewerEdit);
    assert_eq!(conflict.loser().hash.as_deref(), Some("remote-edit"));
    assert_eq!(conflict.loser().modified_at, Some(10));

    let p = both_changed(ConflictPolicy::LatestWins, 10, 20);
    assert_eq!(
        p.local_ops(),
        [LocalOp::Update {
            remote_id: "R1".into(),
            local_id: "L1".into()
        }]
    );
    assert_eq!(p.conflicts()[0].loser().hash.as_deref(), Some("local-edit"));
}

#[test]
fn both_changed_tie_goes_to_remote() {
    let p = both_changed(ConflictPolicy::LatestWins, 10, 10);
    assert!(p.remote_ops().is_empty());
    assert_eq!(p.local_ops().len(), 1);
    assert_eq!(p.conflicts()[0].winner, Side::Remote);
    assert_eq!(p.conflicts()[0].resolution, Resolution::TieGoesToRemote);
}

#[test]
fn both_changed_fixed_policies_ignore_times() {
    let p = both_changed(ConflictPolicy::LocalWins, 1, 99);
    assert_eq!(p.remote_ops().len(), 1);
    assert!(p.local_ops().is_empty());
    assert_eq!(p.conflicts()[0].resolution, Resolution::LocalWinsPolicy);
    assert_eq!(
        p.conflicts()[0].loser().hash.as_deref(),
        Some("remote-edit")
    );

    let p = both_changed(ConflictPolicy::RemoteWins, 99, 1);
    assert_eq!(p.local_ops().len(), 1);
    assert!(p.remote_ops().is_empty());
    assert_eq!(p.conflicts()[0].resolution, Resolution::RemoteWinsPolicy);
    assert_eq!(p.conflicts()[0].loser().hash.as_deref(), Some("local-edit"));
}

#[test]
fn both_changed_to_the_same_content_only_records_it() {
    let statuses = [status("L1", "R1", "h1", "h1")];
    let p = plan(
        &statuses,
        &delta(vec![local("L1", "same", 3)], &[]),
        &delta(vec![remote("R1", "same", 4)], &[]),
        &config(),
    )
    .unwrap();
    assert!(p.remote_ops().is_empty() && p.local_ops().is_empty() && p.conflicts().is_empty());
    let [StatusUpdate::Put { status, replaces }] = p.status_updates() else {
        panic!("one put expected: {p:?}")
    };
    assert_eq!(
        (status.local_hash.as_str(), status.remote_hash.as_str()),
        ("same", "same")
    );
    assert_eq!(*replaces, key("L1", "R1"));
}

#[test]
fn deleted_locally_and_unchanged_remotely_deletes_remotely() {
    let statuses = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    for (locals, remotes) in [
        (
            full(vec![local("L2", "h2", 1)]),
            full(vec![remote("R1", "h1", 1), remote("R2", "h2", 1)]),
        ),
        (delta(vec![], &["L1"]), delta(vec![], &[])),
    ] {
        let p = plan(&statuses, &locals, &remotes, &config()).unwrap();
        assert_eq!(
            p.remote_ops(),
            [RemoteOp::Delete {
                remote_id: "R1".into()
            }]
        );
        assert!(p.local_ops().is_empty() && p.conflicts().is_empty());
    }
}

#[test]
fn deleted_remotely_and_unchanged_locally_deletes_locally() {
    let statuses = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    let p = plan(
        &statuses,
        &delta(vec![], &[]),
        &delta(vec![], &["R1"]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Delete {
            local_id: "L1".into()
        }]
    );
    assert!(p.remote_ops().is_empty());
}

#[test]
fn modification_beats_local_deletion() {
    let statuses = [status("L1", "R1", "h1", "h1")];
    let p = plan(
        &statuses,
        &delta(vec![], &["L1"]),
        &delta(vec![remote("R1", "edited", 9)], &[]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R1".into()
        }]
    );
    let conflict = &p.conflicts()[0];
    assert_eq!(conflict.kind, ConflictKind::ModifiedVsDeleted);
    assert_eq!(conflict.winner, Side::Remote);
    assert_eq!(conflict.loser().hash, None);
    assert_eq!(conflict.loser().id, "L1");
}

#[test]
fn echo_of_a_deleted_items_last_edit_does_not_beat_its_deletion() {
    // A run copied L1's edit ("edited") to Outlook and died before storing the status; then L1
    // was deleted with the hash it last had. Outlook shows "edited".
    let statuses = [status("L1", "R1", "h1", "h1")];
    let plan_deleted_as = |last_hash: &str| {
        let hashes = [("L1".to_owned(), last_hash.to_owned())].into();
        let locals = Listing::delta_with_hashes(vec![], vec!["L1".into()], hashes);
        let remotes = delta(vec![remote("R1", "edited", 9)], &[]);
        plan(&statuses, &locals, &remotes, &config()).unwrap()
    };

    // Our echo: the deletion stands.
    let p = plan_deleted_as("edited");
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Delete {
            remote_id: "R1".into()
        }]
    );
    assert!(p.local_ops().is_empty() && p.conflicts().is_empty());

    // Any other remote content is a person's edit, which still beats the deletion.
    let p = plan_deleted_as("mine");
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R1".into()
        }]
    );
    assert_eq!(p.conflicts()[0].kind, ConflictKind::ModifiedVsDeleted);
}

#[test]
fn modification_beats_remote_deletion_with_a_fresh_transaction_id() {
    let statuses = [status("L1", "R1", "h1", "h1")];
    let p = plan(
        &statuses,
        &full(vec![local("L1", "edited", 9)]),
        &full(vec![]),
        &config(),
    )
    .unwrap();
    let recreate = transaction_id(SALT, "L1", Some("R1"));
    assert_ne!(recreate, transaction_id(SALT, "L1", None));
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Create {
            local_id: "L1".into(),
            transaction_id: recreate,
        }]
    );
    assert_eq!(p.conflicts()[0].winner, Side::Local);
}

#[test]
fn deleted_on_both_sides_forgets_the_status() {
    let statuses = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    let p = plan(
        &statuses,
        &delta(vec![], &["L1"]),
        &delta(vec![], &["R1"]),
        &config(),
    )
    .unwrap();
    assert!(p.remote_ops().is_empty() && p.local_ops().is_empty());
    assert_eq!(
        p.status_updates(),
        [StatusUpdate::Remove {
            key: key("L1", "R1").unwrap()
        }]
    );
}

#[test]
fn emptied_side_stops_the_plan() {
    let statuses = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    let remotes = full(vec![remote("R1", "h1", 1), remote("R2", "h2", 1)]);
    let err = plan(&statuses, &full(vec![]), &remotes, &config()).unwrap_err();
    assert_eq!(
        err,
        PlanError::SafetyStop {
            emptied: Side::Local,
            linked: 2,
            would_delete: 2
        }
    );
    assert!(err.to_string().contains("remote side"), "{err}");

    // A delta that deletes everything is explicit (tombstones, confirmed removals): a person may
    // delete their last events, and the plan follows.
    let p = plan(
        &statuses,
        &delta(vec![], &[]),
        &delta(vec![], &["R1", "R2"]),
        &config(),
    )
    .unwrap();
    assert_eq!(p.local_ops().len(), 2);

    // Deliberately allowed.
    let allow = PlanConfig {
        allow_emptied_side: true,
        ..config()
    };
    let p = plan(&statuses, &full(vec![]), &remotes, &allow).unwrap();
    assert_eq!(p.remote_ops().len(), 2);
}

#[test]
fn emptied_side_with_nothing_to_delete_is_not_a_stop() {
    // Both sides empty: nothing would be deleted, the statuses are just forgotten.
    let statuses = [status("L1", "R1", "h1", "h1")];
    let p = plan(&statuses, &full(vec![]), &full(vec![]), &config()).unwrap();
    assert_eq!(p.status_updates().len(), 1);
    // The emptied side's linked item was modified on the other side: re-created, not deleted.
    let p = plan(
        &statuses,
        &full(vec![]),
        &full(vec![remote("R1", "edited", 1)]),
        &config(),
    )
    .unwrap();
    assert_eq!(p.local_ops().len(), 1);
}

#[test]
fn new_items_on_both_sides_are_linked_by_ical_uid_then_match_key() {
    let mut by_uid_local = local("L1", "a", 1);
    by_uid_local.ical_uid = Some("UID-1".into());
    let mut by_uid_remote = remote("R9", "a", 1);
    by_uid_remote.ical_uid = Some("UID-1".into());
    let mut by_key_local = local("L2", "b-local", 5);
    by_key_local.match_key = Some("digest-2".into());
    let mut by_key_remote = remote("R8", "b-remote", 3);
    by_key_remote.match_key = Some("digest-2".into());

    let p = plan(
        &[],
        &full(vec![by_uid_local, by_key_local]),
        &full(vec![by_key_remote, by_uid_remote]),
        &config(),
    )
    .unwrap();
    // Nothing is created on either side.
    assert!(
        !p.remote_ops()
            .iter()
            .any(|op| matches!(op, RemoteOp::Create { .. }))
    );
    assert!(p.local_ops().is_empty());
    // Equal content: linked as is, with Graph's iCalUId recorded.
    let [
        StatusUpdate::Put {
            status,
            replaces: None,
        },
    ] = p.status_updates()
    else {
        panic!("one link expected: {p:?}")
    };
    assert_eq!(
        (status.local_id.as_str(), status.remote_id.as_str()),
        ("L1", "R9")
    );
    assert_eq!(status.ical_uid.as_deref(), Some("UID-1"));
    // Different content: linked, the newer (local) version overwrites the other, reported.
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Update {
            local_id: "L2".into(),
            remote_id: "R8".into()
        }]
    );
    assert_eq!(p.conflicts()[0].kind, ConflictKind::LinkedWithDifferences);
    assert_eq!(p.conflicts()[0].loser().hash.as_deref(), Some("b-remote"));
}

#[test]
fn duplicate_match_keys_pair_up_in_listing_order() {
    let items: Vec<_> = ["L1", "L2", "L3"]
        .iter()
        .map(|id| {
            let mut item = local(id, "same", 1);
            item.match_key = Some("k".into());
            item
        })
        .collect();
    let remotes: Vec<_> = ["R1", "R2"]
        .iter()
        .map(|id| {
            let mut item = remote(id, "same", 1);
            item.match_key = Some("k".into());
            item
        })
        .collect();
    let p = plan(&[], &full(items), &full(remotes), &config()).unwrap();
    let linked: Vec<_> = p
        .status_updates()
        .iter()
        .map(|update| match update {
            StatusUpdate::Put { status, .. } => (status.local_id.clone(), status.remote_id.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        linked,
        [("L1".into(), "R1".into()), ("L2".into(), "R2".into())]
    );
    // The third copy has no counterpart and is mirrored.
    assert_eq!(p.remote_ops().len(), 1);
}

/// A local item waiting for its copy, with the awaited key `k`.
/// The plan writes the awaited item L1 over its copy R1 (the caller merges them), and nothing else.
fn assert_merged(p: &outlook_engine::Plan, policy: ConflictPolicy) {
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Update {
            local_id: "L1".into(),
            remote_id: "R1".into()
        }],
        "{policy:?}"
    );
    assert!(
        p.local_ops().is_empty() && p.conflicts().is_empty(),
        "{p:?}"
    );
}

fn awaiting(id: &str, hash: &str, k: &str) -> outlook_engine::LocalItem {
    let mut item = local(id, hash, 1);
    item.awaited_key = Some(k.into());
    item
}

/// A remote copy with the awaited key `k` (and its own iCalUId, as Graph gives every event).
fn awaited_copy(id: &str, hash: &str, k: &str) -> outlook_engine::RemoteItem {
    let mut item = remote(id, hash, 2);
    item.awaited_key = Some(k.into());
    item.ical_uid = Some(format!("UID-{id}"));
    item
}

#[test]
fn the_one_awaited_item_and_the_one_copy_with_its_key_are_linked_for_the_caller_to_merge() {
    // The local item changed since the copy was made (a moved meeting): no match key agrees.
    for policy in [
        ConflictPolicy::LatestWins,
        ConflictPolicy::RemoteWins,
        ConflictPolicy::LocalWins,
    ] {
        let config = PlanConfig { policy, ..config() };
        let p = plan(
            &[],
            &full(vec![awaiting("L1", "moved", "k")]),
            &full(vec![awaited_copy("R1", "organizer's", "k")]),
            &config,
        )
        .unwrap();
        // Neither side is created; whatever the policy, the caller merges (no conflict).
        assert_merged(&p, policy);
        // Written (merged), the pair is linked like any other, with Graph's iCalUId.
        let written = Outcome::Written(WrittenItem {
            id: "R1".into(),
            hash: "merged".into(),
            modified_at: Some(3),
            ical_uid: Some("UID-R1".into()),
        });
        let applied = apply_results(
            &p,
            &[OpReport {
                op: OpRef::Remote(0),
                outcome: written,
            }],
        )
        .unwrap();
        let [StatusUpdate::Put { status, replaces }] = applied.updates.as_slice() else {
            panic!("one link expected: {applied:?}")
        };
        assert_eq!(replaces, &None);
        assert_eq!(
            (status.local_id.as_str(), status.remote_id.as_str()),
            ("L1", "R1")
        );
        assert_eq!(status.ical_uid.as_deref(), Some("UID-R1"));
    }
    // Equal content needs no write: linked as is.
    let p = plan(
        &[],
        &full(vec![awaiting("L1", "same", "k")]),
        &full(vec![awaited_copy("R1", "same", "k")]),
        &config(),
    )
    .unwrap();
    assert!(p.remote_ops().is_empty() && p.local_ops().is_empty());
    let [StatusUpdate::Put { status, .. }] = p.status_updates() else {
        panic!("one link expected: {p:?}")
    };
    assert_eq!(
        (status.remote_id.as_str(), status.ical_uid.as_deref()),
        ("R1", Some("UID-R1"))
    );
}

#[test]
fn an_awaited_item_paired_by_its_match_key_with_a_differing_copy_is_merged_not_a_conflict() {
    for policy in [ConflictPolicy::LatestWins, ConflictPolicy::RemoteWins] {
        let config = PlanConfig { policy, ..config() };
        let mut local = awaiting("L1", "answered in Odoo", "k");
        local.match_key = Some("m".into());
        let mut copy = awaited_copy("R1", "organizer's", "k");
        copy.match_key = Some("m".into());
        let p = plan(&[], &full(vec![local]), &full(vec![copy]), &config).unwrap();
        assert_merged(&p, policy);
    }
}

#[test]
fn an_awaited_key_held_by_two_items_on_either_side_links_nothing() {
    // Two meetings of one organizer with one subject: the copy may be either, or neither.
    let p = plan(
        &[],
        &full(vec![awaiting("L1", "a", "k"), awaiting("L2", "b", "k")]),
        &full(vec![awaited_copy("R1", "c", "k")]),
        &config(),
    )
    .unwrap();
    assert!(
        p.remote_ops()
            .iter()
            .all(|op| matches!(op, RemoteOp::Create { .. })),
        "{p:?}"
    );
    assert_eq!(p.remote_ops().len(), 2);
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R1".into()
        }]
    );
    assert!(p.status_updates().is_empty());

    let p = plan(
        &[],
        &full(vec![awaiting("L1", "a", "k")]),
        &full(vec![
            awaited_copy("R1", "b", "k"),
            awaited_copy("R2", "c", "k"),
        ]),
        &config(),
    )
    .unwrap();
    assert_eq!(p.local_ops().len(), 2, "{p:?}");
    assert!(matches!(p.remote_ops(), [RemoteOp::Create { .. }]), "{p:?}");
}

#[test]
fn the_awaited_key_only_pairs_what_the_stronger_keys_left() {
    // L1 and R1 agree on the match key: linked by it. The awaited key is then unique on both
    // sides among what is left, so L2 and R2 pair too, though three items carried it at first.
    let mut exact_local = awaiting("L1", "same", "k");
    exact_local.match_key = Some("digest".into());
    let mut exact_remote = awaited_copy("R1", "same", "k");
    exact_remote.match_key = Some("digest".into());
    let p = plan(
        &[],
        &full(vec![exact_local, awaiting("L2", "moved", "k")]),
        &full(vec![awaited_copy("R2", "organizer's", "k"), exact_remote]),
        &config(),
    )
    .unwrap();
    let linked: Vec<_> = p
        .status_updates()
        .iter()
        .map(|update| match update {
            StatusUpdate::Put { status, .. } => (status.local_id.clone(), status.remote_id.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(linked, [("L1".into(), "R1".into())]);
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Update {
            local_id: "L2".into(),
            remote_id: "R2".into()
        }]
    );
    assert!(p.local_ops().is_empty());
}

#[test]
fn copies_of_two_known_meetings_are_never_paired_by_the_awaited_key() {
    // The local item already carries the iCalUId of another meeting (from another mailbox).
    let mut other_meeting = awaiting("L1", "a", "k");
    other_meeting.ical_uid = Some("UID-elsewhere".into());
    let p = plan(
        &[],
        &full(vec![other_meeting]),
        &full(vec![awaited_copy("R1", "b", "k")]),
        &config(),
    )
    .unwrap();
    assert!(matches!(p.remote_ops(), [RemoteOp::Create { .. }]), "{p:?}");
    assert!(matches!(p.local_ops(), [LocalOp::Create { .. }]), "{p:?}");
    // A linked item is no candidate either: only new items pair.
    let p = plan(
        &[status("L1", "R0", "a", "a")],
        &full(vec![awaiting("L1", "a", "k")]),
        &full(vec![remote("R0", "a", 1), awaited_copy("R1", "b", "k")]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R1".into()
        }]
    );
    assert!(p.remote_ops().is_empty());
}

#[test]
fn remote_item_moved_to_a_new_id_is_re_identified_by_ical_uid() {
    let mut linked = status("L1", "R-old", "h1", "h1");
    linked.ical_uid = Some("UID-1".into());
    let mut moved = remote("R-new", "h1", 7);
    moved.ical_uid = Some("UID-1".into());
    let p = plan(
        &[linked],
        &delta(vec![], &[]),
        &delta(vec![moved], &["R-old"]),
        &config(),
    )
    .unwrap();
    assert!(
        p.remote_ops().is_empty() && p.local_ops().is_empty(),
        "{p:?}"
    );
    let [StatusUpdate::Put { status, replaces }] = p.status_updates() else {
        panic!("one put expected: {p:?}")
    };
    assert_eq!(status.remote_id, "R-new");
    assert_eq!(*replaces, key("L1", "R-old"));
}

#[test]
fn inconsistent_input_is_rejected_with_the_offending_id() {
    let err = plan(
        &[],
        &full(vec![local("L1", "a", 1), local("L1", "b", 1)]),
        &full(vec![]),
        &config(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::DuplicateItem {
            side: Side::Local,
            id: "L1".into()
        }
    );

    let err = plan(
        &[],
        &delta(vec![], &[]),
        &delta(vec![remote("R1", "a", 1)], &["R1"]),
        &config(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::ContradictoryDelta {
            side: Side::Remote,
            id: "R1".into()
        }
    );

    let statuses = [status("L1", "R1", "a", "a"), status("L1", "R2", "a", "a")];
    let err = plan(
        &statuses,
        &full(vec![local("L1", "a", 1)]),
        &full(vec![remote("R1", "a", 1), remote("R2", "a", 1)]),
        &config(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PlanError::DuplicateStatus {
            side: Side::Local,
            id: "L1".into()
        }
    );

    let err = plan(
        &[],
        &full(vec![local("L1", "", 1)]),
        &full(vec![]),
        &config(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("\"L1\" has an empty hash"),
        "{err}"
    );
}

#[test]
fn touched_statuses_suffice_for_deltas() {
    // 1,000 linked pairs; one remote deletion. Only its status is read.
    let touched = [status("L7", "R7", "h7", "h7")];
    let p = plan_touched(
        &touched,
        1_000,
        &delta(vec![], &[]),
        &delta(vec![], &["R7"]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.local_ops(),
        [LocalOp::Delete {
            local_id: "L7".into()
        }]
    );
    // Deltas never trip the empty-side guard, whatever the total (deletions in a delta are
    // explicit); only a full listing can be suddenly empty.
    let p = plan_touched(
        &touched,
        1,
        &delta(vec![], &[]),
        &delta(vec![], &["R7"]),
        &config(),
    )
    .unwrap();
    assert_eq!(p.local_ops().len(), 1);
}

#[test]
fn touched_statuses_are_refused_with_full_listings_or_a_wrong_total() {
    let touched = [
        status("L1", "R1", "h1", "h1"),
        status("L2", "R2", "h2", "h2"),
    ];
    let err = plan_touched(
        &touched,
        5,
        &full(vec![local("L1", "h1", 1)]),
        &delta(vec![], &[]),
        &config(),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::TouchedNeedsDeltas { .. }), "{err}");
    let err = plan_touched(
        &touched,
        1,
        &delta(vec![], &["L1"]),
        &delta(vec![], &[]),
        &config(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("linked_total"), "{err}");
}

#[test]
fn our_unlinked_create_of_a_since_deleted_local_item_is_deleted_not_copied_back() {
    // A run created L9 in Outlook and died before linking it; L9 was deleted since.
    let mut orphan = remote("R9", "x", 5);
    orphan.transaction_id = Some(transaction_id(SALT, "L9", None));
    let mut person = remote("R8", "y", 5);
    person.transaction_id = Some(transaction_id(SALT, "L7", None));
    let p = plan(
        &[],
        &Listing::delta(vec![], vec!["L9".into()]),
        &Listing::delta(vec![orphan, person], vec![]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        p.remote_ops(),
        [RemoteOp::Delete {
            remote_id: "R9".into()
        }]
    );
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R8".into()
        }],
        "a transactionId of a local item not deleted proves nothing"
    );
}
