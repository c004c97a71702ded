//! The few lines a plan starts with, so its size shows before its detail:
//! how many stages on how many hosts, the bytes each host will be sent,
//! and what will be skipped (steps an earlier run finished, steps skipped
//! where the host already holds what they make).

use crate::engine::install::JUMP_HOST;
use crate::engine::journal::Journal;
use crate::engine::plan::{Action, HostId, Plan, Source};
use std::fmt::Write;

/// What one host will be sent.
#[derive(Default)]
struct Sends {
    /// Bytes known before the run (a file compressed or cut on the fly
    /// counts whole: an upper bound).
    bytes: u64,
    /// Trees packed on the fly, whose size shows only as they go.
    trees: usize,
}

/// The summary of `plan`, given what `journal` says is already done; ends
/// with an empty line, before the detail.
pub fn summary(plan: &Plan, journal: &Journal) -> String {
    let local = HostId::new(JUMP_HOST);
    let mut hosts: Vec<(&HostId, Sends)> = Vec::new();
    let (mut done, mut guarded, mut uses_local) = (0, 0, false);
    for step in plan.steps() {
        if step.host == local {
            uses_local = true;
            continue;
        }
        let at = match hosts.iter().position(|(h, _)| **h == step.host) {
            Some(i) => i,
            None => {
                hosts.push((&step.host, Sends::default()));
                hosts.len() - 1
            }
        };
        if journal.is_done(&step.id) {
            done += 1;
            continue;
        }
        if step.skip_when.is_some() {
            guarded += 1;
        }
        if let Action::Send { source, .. } = &step.action {
            let sends = &mut hosts[at].1;
            match source {
                Source::Files(files) => sends.bytes += files.iter().map(|f| f.size).sum::<u64>(),
                Source::Compressed { file, .. } | Source::WithoutRegistry { file, .. } => {
                    sends.bytes += file.size
                }
                Source::Tar { .. } => sends.trees += 1,
                Source::Fetched { .. } | Source::Clock => {}
            }
        }
    }
    let mut out = String::new();
    let mine = if uses_local { " and this machine" } else { "" };
    let _ = writeln!(
        out,
        "summary: {} stages on {} hosts{mine}",
        plan.stages.len(),
        hosts.len()
    );
    let _ = writeln!(out, "  to send:");
    for (host, sends) in &hosts {
        let mut line = format!("    {host}  {}", bytesize::ByteSize(sends.bytes));
        if sends.trees > 0 {
            let _ = write!(line, " + {} trees packed on the fly", sends.trees);
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "  skipped: {} an earlier run finished; {} more if the host already has what {} make",
        steps(done),
        steps(guarded),
        if guarded == 1 {
            "it would"
        } else {
            "they would"
        }
    );
    out.push('\n');
    out
}

/// `1 step`, `2 steps`.
fn steps(n: usize) -> String {
    if n == 1 {
        "1 step".to_string()
    } else {
        format!("{n} steps")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::command::Command;
    use crate::engine::plan::{LocalFile, Marker, OnFailure, Order, Phase, Stage, Step};

    fn send(host: &str, key: &str, size: u64) -> Step {
        Step::new(
            Phase::Distribute,
            HostId::new(host),
            key,
            Action::Send {
                source: Source::Files(vec![LocalFile {
                    path: "/blob".into(),
                    size,
                    identity: key.into(),
                }]),
                to: Command::shell("tar -x"),
            },
        )
        .unwrap()
    }

    #[test]
    fn stages_hosts_bytes_per_host_and_what_is_skipped_come_first() {
        let a = send("10.0.0.2", "a", 3 << 20);
        let b = send("10.0.0.2", "b", 1 << 20).skip_when(Marker::FileExists("/m".into()));
        let c = send("10.0.0.3", "c", 2048);
        let local = send(JUMP_HOST, "d", 10);
        let plan = Plan {
            stages: vec![
                Stage {
                    phase: Phase::Distribute,
                    steps: vec![a.clone(), b, c],
                    order: Order::Parallel(4),
                    on_failure: OnFailure::Stop,
                },
                Stage {
                    phase: Phase::Preflight,
                    steps: vec![local],
                    order: Order::OneByOne,
                    on_failure: OnFailure::Stop,
                },
            ],
        };
        let mut journal = Journal::in_memory();
        journal.mark_done(a.id.clone());
        assert_eq!(
            summary(&plan, &journal),
            "summary: 2 stages on 2 hosts and this machine\n  to send:\n    \
             10.0.0.2  1.0 MiB\n    10.0.0.3  2.0 KiB\n  skipped: 1 step an earlier run \
             finished; 1 step more if the host already has what it would make\n\n"
        );
    }
}
