//! Scale benchmark over real OpenSSH test hosts (`tests/support/hosts.rs`):
//! the release `tug run` of the fixture images plus a patch whose one layer
//! holds 64 MiB of registry data beside its other files, on 5 hosts and on
//! 50 (one master, the rest nodes), in the same run. Prints both wall
//! times, `scale ratio t50/t5 = X.XX` (target <= 6: a node's work is small
//! and hosts go in parallel) and `scale tug peak RSS = N MiB` (target <=
//! 150). Needs root (the hosts) and GNU time.
//!
//! `cargo bench --bench scale`; `TUG_BENCH_SCALE_HOSTS` (default 50) sets
//! the larger count.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Duration;
use support::fixture;
use support::hosts::Hosts;
use support::tug::Tug;

fn main() {
    // `cargo bench` passes --bench; test runners do not, and a benchmark is not a test.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let many = std::env::var("TUG_BENCH_SCALE_HOSTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let (t5, rss5) = run_on(5);
    let (tn, rssn) = run_on(many);
    println!(
        "scale: 5 hosts {:.2} s, {many} hosts {:.2} s",
        t5.as_secs_f64(),
        tn.as_secs_f64()
    );
    println!(
        "scale ratio t{many}/t5 = {:.2}",
        tn.as_secs_f64() / t5.as_secs_f64()
    );
    println!("scale tug peak RSS = {} MiB", rss5.max(rssn) >> 10);
}

/// A fresh home with the images, `n` fresh hosts, one timed `tug run`:
/// its wall time and peak RSS (KiB).
fn run_on(n: usize) -> (Duration, u64) {
    let hosts = Hosts::start(n);
    let tug = Tug::new();
    let mut images = fixture::build_images(&tug);
    fixture::put_mixed_patch(&tug, 64 << 20, "scale.conf");
    images.insert(1, fixture::MIXED.into());
    let addrs: Vec<String> = hosts.iter().map(|h| h.addr()).collect();
    let nodes = addrs[1..].join(",");
    let key = hosts.key.display().to_string();
    let times = tug.home().join("time.txt");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "-o"])
        .arg(&times)
        .arg(env!("CARGO_BIN_EXE_tug"))
        .env("TUG_HOME", tug.home())
        .arg("run")
        .args(&images)
        .args([
            "--masters",
            &addrs[0],
            "--nodes",
            &nodes,
            "--pk",
            &key,
            "--plain",
        ])
        .output()
        .expect("GNU time runs tug");
    assert!(
        out.status.success(),
        "tug run on {n} hosts failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&times).unwrap();
    let mut fields = text.split_whitespace();
    let secs: f64 = fields.next().unwrap().parse().unwrap();
    let rss: u64 = fields.next().unwrap().parse().unwrap();
    println!("  {n} hosts: {secs:.2} s, peak RSS {} MiB", rss >> 10);
    (Duration::from_secs_f64(secs), rss)
}
