//! Plain progress lines for output that is not a terminal (or `--plain`):
//! one `HH:MM:SS [host] phase: step, done in 1.2s` line per step, a
//! failure in full; with `-v`, every action's whole text, every output
//! line and the bytes sent as they go.

use crate::engine::event::{Event, EventKind, SkipReason, Stream};
use crate::engine::plan::{Phase, StepId};
use chrono::{DateTime, Local};
use std::collections::HashMap;
use std::io::{self, Write};
use tokio::sync::mpsc::UnboundedReceiver;

/// Prints events as `HH:MM:SS [host] phase: message` lines, for output that
/// is not a terminal (or `--plain`): one line per step when it ends, unless
/// verbose. Verbose progress is printed at every tenth of the total (or
/// every 64 MiB when the total is unknown), not per chunk.
pub struct PlainPrinter<W: Write> {
    out: W,
    verbose: bool,
    printed: HashMap<StepId, u64>,
    /// When each running step started and the bytes it sent so far.
    running: HashMap<StepId, (DateTime<Local>, u64)>,
}

impl<W: Write> PlainPrinter<W> {
    /// Print to `out`, one line per step (or everything when `verbose`).
    pub fn new(out: W, verbose: bool) -> Self {
        PlainPrinter {
            out,
            verbose,
            printed: HashMap::new(),
            running: HashMap::new(),
        }
    }

    /// The line for an event, or `None` when it makes no line.
    pub fn line(&mut self, ev: &Event) -> Option<String> {
        let message = match &ev.kind {
            EventKind::Started { what } => {
                self.running.insert(ev.step.clone(), (ev.at, 0));
                if !self.verbose {
                    return None;
                }
                what.clone()
            }
            EventKind::Progress { done, total } => {
                if let Some((_, sent)) = self.running.get_mut(&ev.step) {
                    *sent = *done;
                }
                if !self.verbose {
                    return None;
                }
                self.progress(&ev.step, *done, *total)?
            }
            // The health wait's lines are its progress (each host's state
            // as it changes): shown; other output only with -v.
            EventKind::Log { .. } if !self.verbose && ev.phase != Phase::Health => return None,
            EventKind::Log {
                stream: Stream::Stdout,
                line,
            } => line.clone(),
            EventKind::Log {
                stream: Stream::Stderr,
                line,
            } => format!("! {line}"),
            EventKind::Retrying { attempt, error } => {
                format!("{}: retrying (attempt {attempt}): {error}", ev.step.name())
            }
            EventKind::Finished => {
                self.printed.remove(&ev.step);
                let (since, sent) = self.running.remove(&ev.step).unwrap_or((ev.at, 0));
                if self.verbose {
                    "done".to_string()
                } else {
                    let secs = (ev.at - since).num_milliseconds().max(0) as f64 / 1000.0;
                    // A few bytes (a clock, a small file) are not worth saying.
                    let sent = match sent {
                        0..1024 => String::new(),
                        n => format!(", sent {}", bytesize::ByteSize(n)),
                    };
                    format!("{}, done in {secs:.1}s{sent}", ev.step.name())
                }
            }
            EventKind::Failed { error } => {
                self.running.remove(&ev.step);
                let mut lines = error.report().into_iter();
                let first = lines.next().unwrap_or_default();
                let mut text = format!("{} failed: {first}", ev.step.name());
                for line in lines {
                    text.push_str(&format!("\n    {line}"));
                }
                text
            }
            EventKind::Skipped { reason } => {
                let why = match reason {
                    SkipReason::Journal => "skipped (done before)",
                    SkipReason::Marker => "skipped (already there)",
                    SkipReason::NotNeeded => "skipped (nothing needs it)",
                };
                if self.verbose {
                    why.to_string()
                } else {
                    format!("{}, {why}", ev.step.name())
                }
            }
        };
        Some(format!(
            "{} [{}] {}: {message}",
            ev.at.format("%H:%M:%S"),
            ev.host,
            ev.phase
        ))
    }

    /// A verbose progress line, or `None` when too little changed.
    fn progress(&mut self, step: &StepId, done: u64, total: Option<u64>) -> Option<String> {
        let every = total.map_or(64 << 20, |t| (t / 10).max(1));
        let last = self.printed.get(step).copied();
        let finished = Some(done) == total;
        if last.is_some_and(|l| done < l + every && !finished) || (last.is_none() && done == 0) {
            return None;
        }
        self.printed.insert(step.clone(), done);
        Some(match total {
            Some(t) => format!(
                "sent {} of {} ({}%)",
                bytesize::ByteSize(done),
                bytesize::ByteSize(t),
                (done * 100).checked_div(t).unwrap_or(100)
            ),
            None => format!("sent {}", bytesize::ByteSize(done)),
        })
    }

    /// Print one event (if it makes a line).
    pub fn print(&mut self, ev: &Event) -> io::Result<()> {
        match self.line(ev) {
            Some(line) => writeln!(self.out, "{line}"),
            None => Ok(()),
        }
    }

    /// Print every event until the runner drops its sender.
    pub async fn print_all(&mut self, mut rx: UnboundedReceiver<Event>) -> io::Result<()> {
        while let Some(ev) = rx.recv().await {
            self.print(&ev)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{FailCause, StepError};
    use crate::engine::plan::{HostId, Phase};
    use chrono::{Local, TimeZone};

    fn event(kind: EventKind) -> Event {
        Event {
            at: Local.with_ymd_and_hms(2026, 11, 23, 9, 5, 7).unwrap(),
            host: HostId::new("10.0.0.2"),
            phase: Phase::Init,
            step: crate::engine::plan::Step::new(
                Phase::Init,
                HostId::new("10.0.0.2"),
                "init",
                crate::engine::plan::Action::Fetch {
                    path: "/x".into(),
                    to_local: "/y".into(),
                },
            )
            .unwrap()
            .id,
            kind,
        }
    }

    fn kinds() -> Vec<EventKind> {
        vec![
            EventKind::Started {
                what: "run: bash -c 'set -e\nbash init.sh'".into(),
            },
            EventKind::Log {
                stream: Stream::Stderr,
                line: "warning".into(),
            },
            EventKind::Progress {
                done: 0,
                total: Some(100),
            },
            EventKind::Progress {
                done: 5,
                total: Some(100),
            },
            EventKind::Progress {
                done: 50,
                total: Some(100),
            },
            EventKind::Progress {
                done: 100,
                total: Some(100),
            },
            EventKind::Failed {
                error: StepError {
                    command: "bash -c 'set -e\nbash init.sh'".into(),
                    cause: FailCause::Exit(3),
                    last_lines: vec!["boom".into()],
                },
            },
        ]
    }

    #[test]
    fn verbose_lines_have_time_host_phase_and_every_message() {
        let mut p = PlainPrinter::new(Vec::new(), true);
        let lines: Vec<String> = kinds()
            .into_iter()
            .filter_map(|k| p.line(&event(k)))
            .collect();
        assert_eq!(
            lines,
            [
                "09:05:07 [10.0.0.2] init: run: bash -c 'set -e\nbash init.sh'",
                "09:05:07 [10.0.0.2] init: ! warning",
                "09:05:07 [10.0.0.2] init: sent 5 B of 100 B (5%)",
                "09:05:07 [10.0.0.2] init: sent 50 B of 100 B (50%)",
                "09:05:07 [10.0.0.2] init: sent 100 B of 100 B (100%)",
                "09:05:07 [10.0.0.2] init: init failed: exited with code 3\n    \
                 last output:\n      boom\n    command:\n      bash -c 'set -e\n      bash init.sh'",
            ]
        );
    }

    #[test]
    fn without_verbose_a_step_makes_one_line_and_a_failure_leads_with_its_cause() {
        let mut p = PlainPrinter::new(Vec::new(), false);
        let mut lines: Vec<String> = kinds()
            .into_iter()
            .filter_map(|k| p.line(&event(k)))
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("09:05:07 [10.0.0.2] init: init failed: exited with code 3\n"),
            "{lines:?}"
        );
        let started = event(EventKind::Started {
            what: "send layer".into(),
        });
        let progress = event(EventKind::Progress {
            done: 3 << 20,
            total: Some(3 << 20),
        });
        let mut finished = event(EventKind::Finished);
        finished.at += chrono::Duration::milliseconds(1234);
        lines = [started, progress, finished]
            .iter()
            .filter_map(|e| p.line(e))
            .collect();
        assert_eq!(
            lines,
            ["09:05:08 [10.0.0.2] init: init, done in 1.2s, sent 3.0 MiB"]
        );
    }
}
