//! Dashboard benchmark: a large site's install on the wizard's dashboard.
//! 1,000 hosts distribute at once; every frame takes one progress event
//! from each host (1,000 events, as the event loop drains them between
//! redraws), then draws the dashboard at 160×48 into ratatui's
//! `TestBackend`, with the selection walking the table. Prints the mean
//! and worst ms per frame (target ≤ 2 ms), as wall time and as the
//! thread's CPU time (on a shared machine the wall time includes waiting
//! for a core), and the process's peak RSS (target ≤ 50 MiB).
//!
//! `cargo bench --bench dashboard`; `TUG_BENCH_HOSTS` and
//! `TUG_BENCH_FRAMES` change the size (default 1000 and 300).

use chrono::{Duration as Span, Local, TimeZone};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tug::engine::command::Command;
use tug::engine::event::{Event, EventKind};
use tug::engine::plan::{Action, HostId, OnFailure, Order, Phase, Plan, Stage, Step};
use tug::tui::dashboard::Dashboard;
use tug::tui::dashboard::state::RunState;
use tug::tui::theme::Theme;

/// Bytes each host receives.
const TOTAL: u64 = 800 << 20;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The plan of `n` hosts: a sending step, then two init steps, each.
fn plan(hosts: &[HostId]) -> Plan {
    let stage = |phase, key: &str| Stage {
        phase,
        steps: hosts
            .iter()
            .map(|h| {
                let cmd = Command::new("true").arg(key);
                let action = Action::Run { cmd, timeout: None };
                Step::new(phase, h.clone(), key, action).expect("a step")
            })
            .collect(),
        order: Order::Parallel(hosts.len()),
        on_failure: OnFailure::Stop,
    };
    Plan {
        stages: vec![
            stage(Phase::Distribute, "send"),
            stage(Phase::Init, "init"),
            stage(Phase::Check, "check"),
        ],
    }
}

/// This thread's CPU time so far.
fn cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The process's peak resident set, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    // Only under `cargo bench` (which passes --bench): test runners list
    // targets with --list and expect no output from a file with no tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env("TUG_BENCH_HOSTS", 1000);
    let frames = env("TUG_BENCH_FRAMES", 300);
    let hosts: Vec<HostId> = (0..n)
        .map(|i| HostId::new(format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256)))
        .collect();
    let roles: BTreeMap<HostId, String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), if i < 3 { "master" } else { "node" }.to_string()))
        .collect();
    let plan = plan(&hosts);
    let send: Vec<_> = plan.stages[0].steps.iter().map(|s| s.id.clone()).collect();
    let mut dash = Dashboard::new(RunState::new(&plan, &roles));
    let theme = Theme::default();
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("a test terminal");
    let start = Local.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let event = |i: usize, ms: i64, kind| Event {
        at: start + Span::milliseconds(ms),
        host: hosts[i].clone(),
        phase: Phase::Distribute,
        step: send[i].clone(),
        kind,
    };
    for (i, host) in hosts.iter().enumerate() {
        let what = format!("send rootfs layers to {host}");
        dash.run.apply(&event(i, 0, EventKind::Started { what }));
    }
    let mut times = Vec::with_capacity(frames);
    let mut cpus = Vec::with_capacity(frames);
    for frame in 1..=frames {
        let ms = frame as i64 * 100;
        let began = Instant::now();
        let began_cpu = cpu();
        for i in 0..n {
            let done = (TOTAL / frames as u64) * frame as u64 * (i as u64 % 7 + 1) / 7;
            let kind = EventKind::Progress {
                done: done.min(TOTAL),
                total: Some(TOTAL),
            };
            dash.run.apply(&event(i, ms, kind));
        }
        dash.selected = frame * 37 % n;
        term.draw(|f| dash.render(f, f.area(), &theme, Some(start + Span::milliseconds(ms))))
            .expect("draw");
        times.push(began.elapsed());
        cpus.push(cpu() - began_cpu);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = |v: &[Duration]| ms(v.iter().sum::<Duration>()) / v.len() as f64;
    let worst = |v: &[Duration]| ms(v.iter().max().copied().unwrap_or_default());
    println!("dashboard: {n} hosts distributing, {frames} frames at 160x48, {n} events a frame");
    println!(
        "dashboard ms per frame = {:.3} mean, {:.3} worst (target <= 2); CPU {:.3} mean, {:.3} worst",
        mean(&times),
        worst(&times),
        mean(&cpus),
        worst(&cpus)
    );
    println!(
        "dashboard peak RSS = {:.1} MiB (target <= 50)",
        peak_rss_mib()
    );
}
