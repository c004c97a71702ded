//! Plain progress lines for output that is not a terminal (or `--plain`):
//! one `HH:MM:SS [host] phase: message` line per event worth a line.

use crate::engine::event::{Event, EventKind, SkipReason, Stream};
use crate::engine::plan::StepId;
use std::collections::HashMap;
use std::io::{self, Write};
use tokio::sync::mpsc::UnboundedReceiver;

/// Prints events as `HH:MM:SS [host] phase: message` lines, for output that
/// is not a terminal (or `--plain`). Progress is printed at every tenth of
/// the total (or every 64 MiB when the total is unknown), not per chunk.
pub struct PlainPrinter<W: Write> {
    out: W,
    printed: HashMap<StepId, u64>,
}

impl<W: Write> PlainPrinter<W> {
    /// Print to `out`.
    pub fn new(out: W) -> Self {
        PlainPrinter {
            out,
            printed: HashMap::new(),
        }
    }

    /// The line for an event, or `None` when it is a progress update too
    /// small to print.
    pub fn line(&mut self, ev: &Event) -> Option<String> {
        let message = match &ev.kind {
            EventKind::Started { what } => what.clone(),
            EventKind::Progress { done, total } => {
                let step = (*total).map_or(64 << 20, |t| (t / 10).max(1));
                let last = self.printed.get(&ev.step).copied();
                let finished = Some(*done) == *total;
                if last.is_some_and(|l| *done < l + step && !finished)
                    || (last.is_none() && *done == 0)
                {
                    return None;
                }
                self.printed.insert(ev.step.clone(), *done);
                match total {
                    Some(t) => format!(
                        "sent {} of {} ({}%)",
                        bytesize::ByteSize(*done),
                        bytesize::ByteSize(*t),
                        (done * 100).checked_div(*t).unwrap_or(100)
                    ),
                    None => format!("sent {}", bytesize::ByteSize(*done)),
                }
            }
            EventKind::Log {
                stream: Stream::Stdout,
                line,
            } => line.clone(),
            EventKind::Log {
                stream: Stream::Stderr,
                line,
            } => format!("! {line}"),
            EventKind::Retrying { attempt, error } => {
                format!("retrying (attempt {attempt}): {error}")
            }
            EventKind::Finished => {
                self.printed.remove(&ev.step);
                "done".to_string()
            }
            EventKind::Failed { error } => format!("FAILED: {error}"),
            EventKind::Skipped {
                reason: SkipReason::Journal,
            } => "skipped (done before)".to_string(),
            EventKind::Skipped {
                reason: SkipReason::Marker,
            } => "skipped (already there)".to_string(),
            EventKind::Skipped {
                reason: SkipReason::NotNeeded,
            } => "skipped (nothing needs it)".to_string(),
        };
        Some(format!(
            "{} [{}] {}: {message}",
            ev.at.format("%H:%M:%S"),
            ev.host,
            ev.phase
        ))
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

    #[test]
    fn plain_lines_have_time_host_phase_and_message() {
        let mut p = PlainPrinter::new(Vec::new());
        let lines: Vec<String> = [
            EventKind::Started {
                what: "run: bash init.sh".into(),
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
                    command: "bash init.sh".into(),
                    cause: FailCause::Exit(3),
                    last_lines: vec!["boom".into()],
                },
            },
        ]
        .into_iter()
        .filter_map(|k| p.line(&event(k)))
        .collect();
        assert_eq!(
            lines,
            [
                "09:05:07 [10.0.0.2] init: run: bash init.sh",
                "09:05:07 [10.0.0.2] init: ! warning",
                "09:05:07 [10.0.0.2] init: sent 5 B of 100 B (5%)",
                "09:05:07 [10.0.0.2] init: sent 50 B of 100 B (50%)",
                "09:05:07 [10.0.0.2] init: sent 100 B of 100 B (100%)",
                "09:05:07 [10.0.0.2] init: FAILED: `bash init.sh` exited with code 3; last output:\n    boom",
            ]
        );
    }
}
