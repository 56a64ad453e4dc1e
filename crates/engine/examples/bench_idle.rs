//! Cost of an idle run: 100,000 linked pairs, nothing changed.
//!
//! `cargo run --release -p outlook-engine --example bench_idle [pairs]`
//!
//! Prints the planning time for full listings on both sides (the daily healing pass), for empty
//! deltas (the every-minute poll) and for deltas with 100 changes (with all statuses, and with
//! only the touched ones), plus peak RSS (`VmHWM`) before and after planning. Ids and hashes have realistic sizes (Graph ids are ~150 characters).

use std::hint::black_box;
use std::time::{Duration, Instant};

use outlook_engine::{Listing, LocalItem, PlanConfig, RemoteItem, Status, plan, plan_touched};

fn main() {
    let pairs: usize = match std::env::args().nth(1) {
        None => 100_000,
        Some(arg) => match arg.parse() {
            Ok(pairs) => pairs,
            Err(err) => {
                eprintln!("bench_idle: pairs {arg:?}: {err}");
                std::process::exit(2);
            }
        },
    };
    let (statuses, locals, remotes) = build(pairs);
    let changed: Vec<LocalItem> = locals
        .iter()
        .step_by((pairs / 100).max(1))
        .map(|item| LocalItem {
            hash: format!("{:064x}", 1u128 << 100),
            ..item.clone()
        })
        .collect();
    let rss_inputs = peak_rss_kib();
    let config = PlanConfig::new("bench-db/mailbox-1");

    let full_locals = Listing::full(locals);
    let full_remotes = Listing::full(remotes);
    let full = best_of(20, || {
        let p = plan(&statuses, &full_locals, &full_remotes, &config);
        assert!(
            p.as_ref().is_ok_and(|p| p.is_empty()),
            "idle plan not empty"
        );
        black_box(&p);
    });

    let empty_locals: Listing<LocalItem> = Listing::delta(Vec::new(), Vec::new());
    let empty_remotes: Listing<RemoteItem> = Listing::delta(Vec::new(), Vec::new());
    let empty = best_of(20, || {
        black_box(plan(&statuses, &empty_locals, &empty_remotes, &config)).ok();
    });

    let changes = changed.len();
    let delta_locals = Listing::delta(changed, Vec::new());
    let delta = best_of(20, || {
        let p = plan(&statuses, &delta_locals, &empty_remotes, &config);
        assert!(p.as_ref().is_ok_and(|p| p.remote_ops().len() == changes));
        black_box(&p);
    });
    // The same changes with only their statuses, as an indexed query would return them.
    let touched: Vec<Status> = statuses
        .iter()
        .step_by((pairs / 100).max(1))
        .cloned()
        .collect();
    let touched_run = best_of(20, || {
        let p = plan_touched(&touched, pairs, &delta_locals, &empty_remotes, &config);
        assert!(p.as_ref().is_ok_and(|p| p.remote_ops().len() == changes));
        black_box(&p);
    });
    let rss_after = peak_rss_kib();

    println!("pairs: {pairs}");
    println!(
        "full listings, nothing changed: {:.2} ms wall (best), {:.1} ms CPU (mean)",
        ms(full.0),
        ms(full.1)
    );
    println!("empty deltas: {:.4} ms wall (best)", ms(empty.0));
    println!(
        "deltas with {changes} local changes: {:.2} ms wall (best), {:.1} ms CPU (mean)",
        ms(delta.0),
        ms(delta.1)
    );
    println!(
        "same, with only the {} touched statuses: {:.3} ms wall (best)",
        touched.len(),
        ms(touched_run.0)
    );
    println!(
        "peak RSS (VmHWM): {} MiB with inputs built, {} MiB after planning",
        rss_inputs / 1024,
        rss_after / 1024
    );
}

type Inputs = (Vec<Status>, Vec<LocalItem>, Vec<RemoteItem>);

fn build(pairs: usize) -> Inputs {
    let mut statuses = Vec::with_capacity(pairs);
    let mut locals = Vec::with_capacity(pairs);
    let mut remotes = Vec::with_capacity(pairs);
    for n in 0..pairs {
        let local_id = n.to_string();
        let remote_id = format!("AAMkAGI2TGuLAAA{n:0>136}");
        let hash = format!("{:064x}", (n as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let uid = format!("040000008200E00074C5B7101A82E008{n:0>80}");
        statuses.push(Status {
            local_id: local_id.clone(),
            remote_id: remote_id.clone(),
            ical_uid: Some(uid.clone()),
            local_hash: hash.clone(),
            remote_hash: hash.clone(),
            local_mtime: Some(1_700_000_000_000),
            remote_mtime: Some(1_700_000_000_000),
        });
        locals.push(LocalItem {
            id: local_id,
            hash: hash.clone(),
            ical_uid: Some(uid.clone()),
            match_key: Some(format!("{n:064x}")),
            awaited_key: None,
            modified_at: Some(1_700_000_000_000),
        });
        remotes.push(RemoteItem {
            id: remote_id,
            hash,
            ical_uid: Some(uid),
            match_key: Some(format!("{n:064x}")),
            awaited_key: None,
            transaction_id: None,
            modified_at: Some(1_700_000_000_000),
        });
    }
    (statuses, locals, remotes)
}

/// Best wall time over `runs`, and the mean CPU time of this thread per run (the machine may be
/// shared, so wall time can include waiting for a core).
fn best_of(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let cpu_start = thread_cpu();
    let best = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default();
    let cpu = thread_cpu().saturating_sub(cpu_start) / u32::try_from(runs).unwrap_or(1).max(1);
    (best, cpu)
}

/// User + system CPU time of this thread from /proc/thread-self/stat (clock ticks of 10 ms, so
/// only meaningful summed over several runs).
fn thread_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `VmHWM` from /proc/self/status in KiB (0 where /proc is unavailable).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
