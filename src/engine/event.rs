//! Events: the only thing front-ends see of a run. The runner sends them
//! over a tokio mpsc channel; the wizard's dashboard and the command
//! line's printers are its consumers. Every command and line in an event is already masked.
//! A [`StageDone`] goes over a channel of its own, for a front-end that
//! records progress.

use super::plan::{HostId, Phase, Plan, StepId};
use chrono::{DateTime, Local};
use std::fmt;
use std::time::Duration;

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Why a step did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailCause {
    /// The command ran and exited non-zero.
    Exit(i32),
    /// The step ran longer than its timeout and was stopped.
    TimedOut(Duration),
    /// The host could not be reached or the connection broke (after retries).
    Connection(String),
    /// Anything else: a local file that could not be read, a remote file too large.
    Other(String),
}

/// A failed step, as shown to the user: which command, why, and the last
/// lines it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    /// The command or action, secrets masked.
    pub command: String,
    /// Why it failed.
    pub cause: FailCause,
    /// The last lines of its output (stdout and stderr interleaved), masked.
    pub last_lines: Vec<String>,
}

impl StepError {
    /// The exit code, when the command ran to its end.
    pub fn exit_code(&self) -> Option<i32> {
        match self.cause {
            FailCause::Exit(code) => Some(code),
            _ => None,
        }
    }

    /// The command and why it failed, on one line, without the output
    /// (a command of many lines shows its first, then `…`).
    pub fn headline(&self) -> String {
        let mut lines = self.command.lines();
        let first = cut(lines.next().unwrap_or_default(), HEADLINE_WIDTH);
        let more = if lines.next().is_some() { " …" } else { "" };
        format!("`{first}{more}` {}", self.cause)
    }

    /// The report, a line each: the cause first, then the last output
    /// lines, then the command with its own lines kept (a long one
    /// shortened: the host's log holds it whole). Lines after the first
    /// are indented under their heading.
    pub fn report(&self) -> Vec<String> {
        let mut lines = vec![self.cause.to_string()];
        if !self.last_lines.is_empty() {
            lines.push("last output:".to_string());
            lines.extend(self.last_lines.iter().map(|l| format!("  {l}")));
        }
        lines.push("command:".to_string());
        let all: Vec<&str> = self.command.lines().collect();
        for line in all.iter().take(COMMAND_LINES) {
            lines.push(format!("  {}", cut(line, COMMAND_WIDTH)));
        }
        if all.len() > COMMAND_LINES {
            lines.push(format!(
                "  … {} more lines (the host's log holds them)",
                all.len() - COMMAND_LINES
            ));
        }
        lines
    }
}

/// How many lines of a command a failure report shows.
const COMMAND_LINES: usize = 12;
/// How many characters of one command line a failure report shows.
const COMMAND_WIDTH: usize = 240;
/// How many characters of a command's first line a headline shows.
const HEADLINE_WIDTH: usize = 120;

/// `line` cut to `width` characters, with `…` when it was longer.
fn cut(line: &str, width: usize) -> String {
    match line.char_indices().nth(width) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

impl fmt::Display for FailCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailCause::Exit(code) => write!(f, "exited with code {code}"),
            FailCause::TimedOut(t) => write!(f, "timed out after {}s", t.as_secs()),
            FailCause::Connection(e) => write!(f, "lost its connection: {e}"),
            FailCause::Other(e) => write!(f, "failed: {e}"),
        }
    }
}

impl fmt::Display for StepError {
    /// The report: the cause on the first line, the rest indented below.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = self.report().into_iter();
        write!(f, "{}", lines.next().unwrap_or_default())?;
        for line in lines {
            write!(f, "\n    {line}")?;
        }
        Ok(())
    }
}

/// Why a step was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The journal says it finished with these inputs.
    Journal,
    /// Its marker holds on the host.
    Marker,
    /// The steps it prepares for are all done.
    NotNeeded,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The step began; `what` is its masked action.
    Started {
        /// The action, as a plan shows it.
        what: String,
    },
    /// Bytes sent so far; `total` when known in advance.
    Progress {
        /// Bytes done.
        done: u64,
        /// Bytes in all, if known.
        total: Option<u64>,
    },
    /// One line of output, masked.
    Log {
        /// Which stream.
        stream: Stream,
        /// The line, without its newline.
        line: String,
    },
    /// A connection-level error; the step will be tried again.
    Retrying {
        /// Which attempt comes next (2 = the first retry).
        attempt: u32,
        /// What went wrong.
        error: String,
    },
    /// The step succeeded.
    Finished,
    /// The step failed.
    Failed {
        /// What, why, and the last output.
        error: StepError,
    },
    /// The step was not run.
    Skipped {
        /// Why.
        reason: SkipReason,
    },
}

/// One thing that happened to one step on one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: DateTime<Local>,
    /// On which host.
    pub host: HostId,
    /// In which phase.
    pub phase: Phase,
    /// For which step.
    pub step: StepId,
    /// What happened.
    pub kind: EventKind,
}

/// A stage all of whose steps finished (ran, or were skipped) without a
/// failure: what a front-end records as the run's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageDone {
    /// When it finished.
    pub at: DateTime<Local>,
    /// Its number in the plan, from 1.
    pub number: usize,
    /// How many stages the plan has.
    pub of: usize,
    /// Its phase.
    pub phase: Phase,
    /// The hosts it had steps on, sorted.
    pub hosts: Vec<HostId>,
}

impl StageDone {
    /// The report of stage `index` (from 0) of `plan`, finished now.
    pub fn of(plan: &Plan, index: usize) -> StageDone {
        let stage = &plan.stages[index];
        let mut hosts: Vec<HostId> = stage.steps.iter().map(|s| s.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        StageDone {
            at: Local::now(),
            number: index + 1,
            of: plan.stages.len(),
            phase: stage.phase,
            hosts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_leads_with_the_cause_and_keeps_the_commands_lines() {
        let wait = "for i in $(seq 600); do\n  sleep 0.2\ndone\necho late >&2";
        let e = StepError {
            command: wait.into(),
            cause: FailCause::Exit(1),
            last_lines: vec!["late".into()],
        };
        assert_eq!(
            e.report(),
            [
                "exited with code 1",
                "last output:",
                "  late",
                "command:",
                "  for i in $(seq 600); do",
                "    sleep 0.2",
                "  done",
                "  echo late >&2",
            ]
        );
        assert_eq!(
            e.headline(),
            "`for i in $(seq 600); do …` exited with code 1"
        );
        assert!(!e.to_string().contains("0.2done"), "{e}");
    }

    #[test]
    fn a_long_command_is_shortened_in_lines_and_width() {
        let long: Vec<String> = (0..40).map(|i| format!("echo {i}")).collect();
        let mut command = long.join("\n");
        command.push_str(&format!("\n{}", "x".repeat(1000)));
        let e = StepError {
            command: format!("{}\n{command}", "y".repeat(1000)),
            cause: FailCause::TimedOut(Duration::from_secs(5)),
            last_lines: Vec::new(),
        };
        let report = e.report();
        assert_eq!(report[0], "timed out after 5s");
        assert_eq!(report[1], "command:");
        assert_eq!(report.len(), 2 + COMMAND_LINES + 1, "{report:#?}");
        assert!(report[2].ends_with('…') && report[2].chars().count() <= COMMAND_WIDTH + 3);
        assert_eq!(
            report.last().unwrap(),
            "  … 30 more lines (the host's log holds them)"
        );
    }
}
