//! Reporting outcomes back: per-item rollback, retries, crash recovery, and rejected reports.
#![allow(clippy::unwrap_used)]

mod common;

use common::{SALT, config, local, remote, status};
use outlook_engine::{
    ApplyError, Listing, LocalOp, OpRef, OpReport, Outcome, Plan, RemoteOp, Status, StatusUpdate,
    WrittenItem, apply_results, apply_updates, plan, remote_intended, remote_written,
    transaction_id,
};

fn written(id: &str, hash: &str) -> Outcome {
    Outcome::Written(WrittenItem {
        id: id.into(),
        hash: hash.into(),
        modified_at: Some(100),
        ical_uid: Some(format!("UID-{id}")),
    })
}

fn report(op: OpRef, outcome: Outcome) -> OpReport {
    OpReport { op, outcome }
}

/// Two linked pairs changed locally and one new remote item: three independent ops.
fn three_op_plan() -> (Vec<Status>, Plan) {
    let statuses = vec![status("L1", "R1", "a", "a"), status("L2", "R2", "b", "b")];
    let p = plan(
        &statuses,
        &Listing::delta(vec![local("L1", "a2", 5), local("L2", "b2", 5)], vec![]),
        &Listing::delta(vec![remote("R3", "c", 5)], vec![]),
        &config(),
    )
    .unwrap();
    assert_eq!(p.remote_ops().len(), 2);
    assert_eq!(
        p.local_ops(),
        [LocalOp::Create {
            remote_id: "R3".into()
        }]
    );
    (statuses, p)
}

#[test]
fn a_failed_op_keeps_its_old_status_and_does_not_block_the_others() {
    let (mut statuses, p) = three_op_plan();
    let applied = apply_results(
        &p,
        &[
            report(OpRef::Remote(0), written("R1", "a2")),
            report(
                OpRef::Remote(1),
                Outcome::Failed {
                    reason: "HTTP 500".into(),
                },
            ),
            report(OpRef::Local(0), written("L3", "c")),
        ],
    )
    .unwrap();
    assert_eq!(applied.failures.len(), 1);
    assert_eq!(applied.failures[0].op, OpRef::Remote(1));
    assert_eq!(applied.failures[0].reason.as_deref(), Some("HTTP 500"));
    assert_eq!(applied.retry_local, ["L2"]);
    assert_eq!(applied.retry_remote, ["R2"]);

    apply_updates(&mut statuses, &applied.updates);
    statuses.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    let hashes: Vec<_> = statuses
        .iter()
        .map(|s| {
            (
                s.local_id.as_str(),
                s.remote_id.as_str(),
                s.local_hash.as_str(),
            )
        })
        .collect();
    assert_eq!(
        hashes,
        [("L1", "R1", "a2"), ("L2", "R2", "b"), ("L3", "R3", "c")]
    );
    // The iCalUId Graph reported with the written event is recorded.
    assert_eq!(statuses[0].ical_uid.as_deref(), Some("UID-R1"));

    // The next run plans exactly the failed op again, nothing else.
    let next = plan(
        &statuses,
        &Listing::delta(vec![local("L2", "b2", 5)], vec![]),
        &Listing::delta(vec![], vec![]),
        &config(),
    )
    .unwrap();
    assert_eq!(
        next.remote_ops(),
        [RemoteOp::Update {
            local_id: "L2".into(),
            remote_id: "R2".into()
        }]
    );
}

#[test]
fn unreported_ops_count_as_not_attempted() {
    let (statuses, p) = three_op_plan();
    let applied = apply_results(&p, &[]).unwrap();
    assert!(applied.updates.is_empty());
    assert_eq!(applied.failures.len(), 3);
    assert!(applied.failures.iter().all(|f| f.reason.is_none()));
    assert_eq!(applied.retry_local, ["L1", "L2"]);
    assert_eq!(applied.retry_remote, ["R1", "R2", "R3"]);
    let mut after = statuses.clone();
    apply_updates(&mut after, &applied.updates);
    assert_eq!(after, statuses);
}

#[test]
fn crash_after_a_remote_create_links_instead_of_duplicating() {
    // Run 1: L1 is new; the create reached Graph but the process died before storing anything.
    let locals = Listing::full(vec![local("L1", "a", 1)]);
    let p = plan(&[], &locals, &Listing::full(vec![]), &config()).unwrap();
    let [RemoteOp::Create { transaction_id, .. }] = p.remote_ops() else {
        panic!("one create expected: {p:?}")
    };
    let mut created = remote("R1", "a", 2);
    created.transaction_id = Some(transaction_id.clone());

    // Run 2: same local state, the created event is now listed remotely.
    let p = plan(&[], &locals, &Listing::full(vec![created]), &config()).unwrap();
    assert!(
        p.remote_ops().is_empty() && p.local_ops().is_empty(),
        "{p:?}"
    );
    let applied = apply_results(&p, &[]).unwrap();
    let [StatusUpdate::Put { status, .. }] = applied.updates.as_slice() else {
        panic!("one link expected: {applied:?}")
    };
    assert_eq!(
        (status.local_id.as_str(), status.remote_id.as_str()),
        ("L1", "R1")
    );
}

#[test]
fn crash_after_a_remote_re_create_links_instead_of_duplicating() {
    let statuses = [status("L1", "R1", "a", "a")];
    let locals = Listing::delta(vec![local("L1", "a2", 5)], vec![]);
    let p = plan(
        &statuses,
        &locals,
        &Listing::delta(vec![], vec!["R1".into()]),
        &config(),
    )
    .unwrap();
    let [
        RemoteOp::Create {
            transaction_id: txn,
            ..
        },
    ] = p.remote_ops()
    else {
        panic!("one re-create expected: {p:?}")
    };
    assert_eq!(*txn, transaction_id(SALT, "L1", Some("R1")));

    // The re-create happened, nothing was stored; Graph now lists the new copy.
    let mut recreated = remote("R2", "a2", 6);
    recreated.transaction_id = Some(txn.clone());
    let p = plan(
        &statuses,
        &locals,
        &Listing::delta(vec![recreated], vec!["R1".into()]),
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
    assert_eq!(status.remote_id, "R2");
    assert_eq!(replaces.as_ref().unwrap().remote_id, "R1");
}

#[test]
fn a_write_lost_before_the_local_commit_converges_without_a_conflict() {
    // Run 1 copied L1's edit to R1, then crashed: the status is still the old one.
    let statuses = [status("L1", "R1", "a", "a")];
    let p = plan(
        &statuses,
        &Listing::delta(vec![local("L1", "a2", 5)], vec![]),
        &Listing::delta(vec![remote("R1", "a2", 6)], vec![]),
        &config(),
    )
    .unwrap();
    assert!(p.remote_ops().is_empty() && p.local_ops().is_empty() && p.conflicts().is_empty());
    assert_eq!(p.status_updates().len(), 1);
}

#[test]
fn delete_results_remove_the_status() {
    let mut statuses = vec![status("L1", "R1", "a", "a"), status("L2", "R2", "b", "b")];
    let p = plan(
        &statuses,
        &Listing::delta(vec![], vec!["L1".into()]),
        &Listing::delta(vec![], vec![]),
        &config(),
    )
    .unwrap();
    let applied = apply_results(&p, &[report(OpRef::Remote(0), Outcome::Deleted)]).unwrap();
    apply_updates(&mut statuses, &applied.updates);
    assert_eq!(statuses, [status("L2", "R2", "b", "b")]);
}

#[test]
fn reports_that_do_not_fit_the_plan_are_rejected() {
    let (_, p) = three_op_plan();
    assert_eq!(
        apply_results(&p, &[report(OpRef::Remote(7), Outcome::Deleted)]),
        Err(ApplyError::UnknownOp {
            op: OpRef::Remote(7)
        })
    );
    assert_eq!(
        apply_results(
            &p,
            &[
                report(OpRef::Local(0), written("L3", "c")),
                report(OpRef::Local(0), written("L3", "c")),
            ]
        ),
        Err(ApplyError::DuplicateResult {
            op: OpRef::Local(0)
        })
    );
    let err = apply_results(&p, &[report(OpRef::Remote(0), Outcome::Deleted)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "result for remote op #0: outcome deleted does not fit a update operation"
    );
    assert_eq!(
        apply_results(&p, &[report(OpRef::Remote(0), written("R-other", "a2"))]),
        Err(ApplyError::InvalidWrittenItem {
            op: OpRef::Remote(0),
            field: "id"
        })
    );
    assert_eq!(
        apply_results(&p, &[report(OpRef::Local(0), written("L3", ""))]),
        Err(ApplyError::InvalidWrittenItem {
            op: OpRef::Local(0),
            field: "hash"
        })
    );
}

#[test]
fn plans_and_reports_survive_a_json_round_trip() {
    let (_, p) = three_op_plan();
    let json = serde_json::to_string(&p).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let reports = vec![report(OpRef::Local(0), written("L3", "c"))];
    let reports_back: Vec<OpReport> =
        serde_json::from_str(&serde_json::to_string(&reports).unwrap()).unwrap();
    assert_eq!(
        apply_results(&back, &reports_back).unwrap(),
        apply_results(&p, &reports).unwrap()
    );

    let listing = Listing::delta(vec![remote("R1", "a", 1)], vec!["R2".to_string()]);
    let json = serde_json::to_value(&listing).unwrap();
    assert_eq!(json["kind"], "delta");
    assert_eq!(json["deleted"][0], "R2");
    assert_eq!(serde_json::from_value::<Listing<_>>(json).unwrap(), listing);
    let stored = status("L1", "R1", "a", "b");
    let json = serde_json::to_string(&stored).unwrap();
    assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), stored);
}

#[test]
fn the_written_sides_own_hash_is_recorded_so_its_echo_is_no_change() {
    // Outlook normalises what we send (say, the body's HTML): the remote hash after the write
    // differs from the local one. The echo of that write in the next delta must not bounce back.
    let mut statuses = vec![status("L1", "R1", "a", "a")];
    let edited = Listing::delta(vec![local("L1", "a2", 5)], vec![]);
    let p = plan(
        &statuses,
        &edited,
        &Listing::delta(vec![], vec![]),
        &config(),
    )
    .unwrap();
    let applied = apply_results(
        &p,
        &[report(OpRef::Remote(0), written("R1", "a2-normalised"))],
    )
    .unwrap();
    apply_updates(&mut statuses, &applied.updates);
    assert_eq!(statuses[0].remote_hash, "a2-normalised");
    assert_eq!(statuses[0].local_hash, "a2");

    let echo = plan(
        &statuses,
        &Listing::delta(vec![local("L1", "a2", 5)], vec![]),
        &Listing::delta(vec![remote("R1", "a2-normalised", 6)], vec![]),
        &config(),
    )
    .unwrap();
    assert!(echo.is_empty(), "{echo:?}");
}

#[test]
fn one_written_op_alone_gives_the_status_the_whole_report_would_store() {
    let (_, p) = three_op_plan();
    let whole = apply_results(&p, &[report(OpRef::Remote(0), written("R1", "a2"))]).unwrap();
    let alone = remote_written(&p, 0, &written("R1", "a2"))
        .unwrap()
        .unwrap();
    assert!(
        whole.updates.contains(&alone),
        "{alone:?} in {:?}",
        whole.updates
    );
    let StatusUpdate::Put { status, .. } = &alone else {
        panic!("a written update stores its status: {alone:?}");
    };
    assert_eq!(
        (status.local_hash.as_str(), status.remote_hash.as_str()),
        ("a2", "a2")
    );
}

#[test]
fn one_op_alone_stores_nothing_when_it_failed_and_refuses_what_does_not_fit() {
    let (_, p) = three_op_plan();
    let failed = Outcome::Failed {
        reason: "HTTP 500".into(),
    };
    assert_eq!(remote_written(&p, 1, &failed).unwrap(), None);
    assert!(matches!(
        remote_written(&p, 0, &written("R2", "a2")),
        Err(ApplyError::InvalidWrittenItem { .. })
    ));
    assert!(matches!(
        remote_written(&p, 0, &Outcome::Deleted),
        Err(ApplyError::OutcomeMismatch { .. })
    ));
    assert!(matches!(
        remote_written(&p, 7, &written("R1", "a2")),
        Err(ApplyError::UnknownOp { .. })
    ));
}

#[test]
fn an_update_about_to_be_sent_names_its_pair_and_the_local_content_it_carries() {
    let (_, p) = three_op_plan();
    let intended = remote_intended(&p, 0).unwrap();
    let StatusUpdate::Put { status, replaces } = &intended else {
        panic!("an update intends a status: {intended:?}");
    };
    assert_eq!(
        (
            status.local_id.as_str(),
            status.remote_id.as_str(),
            status.local_hash.as_str(),
            status.remote_hash.as_str()
        ),
        ("L1", "R1", "a2", "")
    );
    assert_eq!(
        replaces
            .as_ref()
            .map(|k| (k.local_id.as_str(), k.remote_id.as_str())),
        Some(("L1", "R1"))
    );
    assert_eq!(remote_intended(&p, 7), None);

    // A create has no Outlook id before Outlook answers: nothing to intend.
    let create = plan(
        &[],
        &Listing::delta(vec![local("L9", "z", 5)], vec![]),
        &Listing::delta(vec![], vec![]),
        &config(),
    )
    .unwrap();
    assert_eq!(create.remote_ops().len(), 1);
    assert_eq!(remote_intended(&create, 0), None);
}
