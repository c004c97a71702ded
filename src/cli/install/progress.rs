//! The terminal view of a run: one line per host with its phase and step,
//! a spinner while a step runs, a byte bar while files stream to it, and
//! ✔ or ✘ when the host is done or failed; after the lines, every failure
//! in full (as the plain lines show it) and a summary. Everything shown
//! comes from the runner's events, which are already masked.

use crate::cli::printer::PlainPrinter;
use crate::engine::event::{Event, EventKind};
use crate::engine::plan::{HostId, Phase, Plan, StepId};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

/// A line's style: the host column `width` wide, then `rest`.
fn style(width: usize, rest: &str) -> ProgressStyle {
    let template = format!("{{prefix:<{width}}} {rest}");
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

/// What Ctrl-C does, said when it is pressed.
pub const CANCELLING: &str = "cancelling: no new step starts; transfers stop (the next run resumes them); running commands finish";

/// What a second Ctrl-C says.
pub const HURRY: &str = "one more Ctrl-C leaves at once";

/// How often a running host's spinner turns.
const TICK: Duration = Duration::from_millis(120);

/// One host's line and what it still has to do.
struct HostLine {
    bar: ProgressBar,
    /// Steps of the plan on this host not finished or skipped yet.
    left: usize,
    failed: bool,
    /// Bytes sent per step (the last count of its last attempt).
    sent: HashMap<StepId, u64>,
    /// `phase: action` of the current step.
    doing: String,
    /// The phase of the last step that started.
    phase: Option<Phase>,
    /// Whether the line shows a byte count (else a spinner).
    counting: bool,
}

impl HostLine {
    fn sent(&self) -> u64 {
        self.sent.values().sum()
    }
}

/// Draws a run's events as one line per host (see the module docs).
pub struct Dashboard<W: Write> {
    multi: MultiProgress,
    hosts: Vec<(HostId, HostLine)>,
    width: usize,
    plain: PlainPrinter<Vec<u8>>,
    failures: Vec<String>,
    started: Instant,
    out: W,
}

impl Dashboard<io::Stderr> {
    /// Lines for the hosts of `plan` on stderr.
    pub fn stderr(plan: &Plan) -> Self {
        Dashboard::new(plan, ProgressDrawTarget::stderr(), io::stderr())
    }
}

impl<W: Write> Dashboard<W> {
    /// Lines for the hosts of `plan` (in plan order) drawn to `target`; the
    /// failures and the summary are written to `out` after them.
    pub fn new(plan: &Plan, target: ProgressDrawTarget, out: W) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let mut hosts: Vec<(HostId, HostLine)> = Vec::new();
        // The machine running tug has steps but is not a host of the
        // cluster: it gets no line and is not counted (its failures are
        // still reported in full).
        let local = HostId::new(crate::engine::install::JUMP_HOST);
        for step in plan.steps().filter(|s| s.host != local) {
            if let Some((_, line)) = hosts.iter_mut().find(|(h, _)| *h == step.host) {
                line.left += 1;
                continue;
            }
            let bar = multi.add(ProgressBar::no_length());
            bar.set_prefix(step.host.to_string());
            bar.set_message("waiting");
            let line = HostLine {
                bar,
                left: 1,
                failed: false,
                sent: HashMap::new(),
                doing: String::new(),
                phase: None,
                counting: false,
            };
            hosts.push((step.host.clone(), line));
        }
        let width = hosts.iter().map(|(h, _)| h.as_str().len()).max();
        let dashboard = Dashboard {
            multi,
            width: width.unwrap_or(0),
            hosts,
            plain: PlainPrinter::new(Vec::new(), false),
            failures: Vec::new(),
            started: Instant::now(),
            out,
        };
        for (_, line) in &dashboard.hosts {
            line.bar.set_style(style(dashboard.width, "  {wide_msg}"));
        }
        dashboard
    }

    /// Notices (a new host key, a warning) said above the lines: printed
    /// straight to the terminal, they would push the lines down and leave
    /// a stale copy of them behind.
    pub fn notices(&self) -> crate::app::session::Notifier {
        let multi = self.multi.clone();
        std::sync::Arc::new(move |n| {
            let _ = multi.println(n.to_string());
        })
    }

    /// Show one event.
    pub fn show(&mut self, ev: &Event) {
        let failed = matches!(ev.kind, EventKind::Failed { .. });
        if failed && let Some(line) = self.plain.line(ev) {
            self.failures.push(line);
        }
        let width = self.width;
        let Some((_, line)) = self.hosts.iter_mut().find(|(h, _)| *h == ev.host) else {
            return;
        };
        if line.failed {
            return;
        }
        match &ev.kind {
            EventKind::Started { what } => {
                line.doing = format!("{}: {}", ev.phase, one_line(what));
                line.phase = Some(ev.phase);
                line.bar
                    .set_style(style(width, "{spinner:.cyan} {wide_msg}"));
                line.bar.set_message(line.doing.clone());
                line.bar.enable_steady_tick(TICK);
            }
            EventKind::Progress { done, total } => {
                line.sent.insert(ev.step.clone(), *done);
                if !std::mem::replace(&mut line.counting, true) {
                    line.bar.set_style(style(
                        width,
                        match total {
                            Some(_) => concat!(
                                "{spinner:.cyan} [{bar:24.cyan/blue}] {binary_bytes}/",
                                "{binary_total_bytes} {binary_bytes_per_sec} {wide_msg}"
                            ),
                            None => {
                                "{spinner:.cyan} {binary_bytes} {binary_bytes_per_sec} {wide_msg}"
                            }
                        },
                    ));
                }
                if let Some(total) = total {
                    line.bar.set_length(*total);
                }
                line.bar.set_position(*done);
            }
            // Another host's step telling this one's state (the health wait
            // on master0): shown under this host, after its own ✔.
            EventKind::Log { line: text, .. } if line.phase != Some(ev.phase) => {
                let said = format!("{}: {}", ev.phase, one_line(text));
                if line.left == 0 {
                    line.bar.finish_with_message(format!("✔ done · {said}"));
                } else {
                    line.bar.set_message(said);
                }
            }
            EventKind::Log { line: text, .. } => {
                line.bar.set_message(format!("{} · {text}", line.doing));
            }
            EventKind::Retrying { attempt, error } => {
                line.sent.remove(&ev.step);
                line.bar.set_message(format!(
                    "{}: retrying (attempt {attempt}): {}",
                    ev.phase,
                    one_line(error)
                ));
            }
            EventKind::Finished | EventKind::Skipped { .. } => {
                line.left = line.left.saturating_sub(1);
                line.bar.set_position(0);
                line.bar.set_message(format!("{}: done", ev.phase));
                if line.left == 0 {
                    line.bar.set_style(style(width, "{wide_msg:.green}"));
                    line.bar.finish_with_message("✔ done");
                }
            }
            EventKind::Failed { error } => {
                line.failed = true;
                line.bar.set_style(style(width, "{wide_msg:.red}"));
                line.bar.finish_with_message(one_line(&format!(
                    "✘ {}: {} · `{}`",
                    ev.phase, error.cause, error.command
                )));
            }
        }
    }

    /// The summary line: how many hosts finished, the time, the bytes sent.
    pub fn summary(&self) -> String {
        let done = self.hosts.iter().filter(|(_, l)| l.left == 0).count();
        let failed = self.hosts.iter().filter(|(_, l)| l.failed).count();
        let mut s = format!("{done} of {} hosts done", self.hosts.len());
        if failed > 0 {
            s.push_str(&format!(", {failed} failed"));
        }
        s.push_str(&format!(" in {:.1}s", self.started.elapsed().as_secs_f64()));
        let sent: Vec<String> = self
            .hosts
            .iter()
            .filter(|(_, l)| l.sent() > 0)
            .map(|(h, l)| format!("{} to {h}", bytesize::ByteSize(l.sent())))
            .collect();
        if !sent.is_empty() {
            s.push_str(&format!("; sent {}", sent.join(", ")));
        }
        s
    }

    /// Stop the lines (a host that did not finish says where it stopped),
    /// then write every failure in full and the summary.
    pub fn finish(&mut self) -> io::Result<()> {
        let stopped = style(self.width, "{wide_msg:.yellow}");
        for (_, line) in &self.hosts {
            if !line.bar.is_finished() {
                line.bar.set_style(stopped.clone());
                line.bar.finish_with_message(match line.phase {
                    Some(phase) => format!("– stopped after {phase}"),
                    None => "– not started".to_string(),
                });
            }
        }
        for failure in &self.failures {
            writeln!(self.out, "{failure}")?;
        }
        writeln!(self.out, "{}", self.summary())?;
        self.out.flush()
    }

    /// Show every event until the runner drops its sender, then
    /// [`Self::finish`]; say [`CANCELLING`] above the lines when `cancel` is,
    /// and [`HURRY`] when `hurry` is.
    pub async fn show_all(
        mut self,
        mut rx: UnboundedReceiver<Event>,
        cancel: CancellationToken,
        hurry: CancellationToken,
    ) -> io::Result<()> {
        let (mut told, mut urged) = (false, false);
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => self.show(&ev),
                    None => break,
                },
                () = cancel.cancelled(), if !told => {
                    told = true;
                    self.multi.println(CANCELLING)?;
                }
                () = hurry.cancelled(), if !urged => {
                    urged = true;
                    self.multi.println(HURRY)?;
                }
            }
        }
        self.finish()
    }
}

/// The first line of `text`, with `…` when there is more: a line of the
/// view must stay one terminal row (a script's text has many).
fn one_line(text: &str) -> String {
    match text.split_once('\n') {
        Some((first, _)) => format!("{first} …"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{FailCause, StepError};
    use crate::engine::plan::{Action, OnFailure, Order, Stage, Step};
    use chrono::Local;

    fn step(host: &str, key: &str) -> Step {
        Step::new(
            Phase::Init,
            HostId::new(host),
            key,
            Action::Fetch {
                path: format!("/{key}"),
                to_local: "/y".into(),
            },
        )
        .unwrap()
    }

    fn event(step: &Step, kind: EventKind) -> Event {
        Event {
            at: Local::now(),
            host: step.host.clone(),
            phase: Phase::Init,
            step: step.id.clone(),
            kind,
        }
    }

    #[test]
    fn hosts_end_done_failed_or_stopped_and_the_summary_counts_bytes() {
        let steps = [step("h1", "a"), step("h1", "b"), step("h2", "a")];
        let plan = Plan {
            stages: vec![Stage {
                phase: Phase::Init,
                steps: steps.to_vec(),
                order: Order::Parallel(2),
                on_failure: OnFailure::Stop,
            }],
        };
        let mut d = Dashboard::new(&plan, ProgressDrawTarget::hidden(), Vec::new());
        let started = |s: &Step| {
            event(
                s,
                EventKind::Started {
                    what: "fetch".into(),
                },
            )
        };
        d.show(&event(
            &steps[0],
            EventKind::Started {
                what: "run: bash -c 'set -e\nmore'".into(),
            },
        ));
        assert_eq!(d.hosts[0].1.bar.message(), "init: run: bash -c 'set -e …");
        d.show(&event(
            &steps[0],
            EventKind::Progress {
                done: 2048,
                total: Some(4096),
            },
        ));
        assert_eq!(d.hosts[0].1.bar.position(), 2048);
        d.show(&event(&steps[0], EventKind::Finished));
        assert!(!d.hosts[0].1.bar.is_finished(), "h1 has a second step");
        d.show(&started(&steps[1]));
        d.show(&event(&steps[1], EventKind::Finished));
        assert_eq!(d.hosts[0].1.bar.message(), "✔ done");

        d.show(&started(&steps[2]));
        let error = StepError {
            command: "cat /a".into(),
            cause: FailCause::Exit(2),
            last_lines: vec!["no such file".into()],
        };
        d.show(&event(&steps[2], EventKind::Failed { error }));
        assert_eq!(
            d.hosts[1].1.bar.message(),
            "✘ init: exited with code 2 · `cat /a`"
        );
        assert!(d.summary().starts_with("1 of 2 hosts done, 1 failed in "));
        assert!(
            d.summary().ends_with("; sent 2.0 KiB to h1"),
            "{}",
            d.summary()
        );
        d.finish().unwrap();
        let out = String::from_utf8(d.out.clone()).unwrap();
        assert!(
            out.contains(
                "[h2] init: a failed: exited with code 2\n    last output:\n      no such file\n    \
                 command:\n      cat /a\n"
            ),
            "{out}"
        );
    }
}
