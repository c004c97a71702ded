//! One step of a run: its timeout, bounded retries with backoff for
//! connection errors only, its output logged and masked, and how it ended.

use super::Runner;
use crate::engine::event::{EventKind, FailCause, SkipReason, StepError};
use crate::engine::plan::{Action, Phase, Step};
use crate::engine::step::{ActError, Acted, Output, attempt};
use chrono::Local;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::Mutex;
use std::time::Duration;

/// How long past its own timeout a wait may take (a last slow answer).
const WAIT_GRACE: Duration = Duration::from_secs(60);

/// How one step ended.
pub(super) enum Outcome {
    Done { bytes: u64 },
    Skipped,
    Failed(StepError),
    Cancelled,
}

impl Runner {
    /// One step with its retries and timeout.
    pub(super) async fn step<'a>(
        &'a self,
        phase: Phase,
        step: &'a Step,
        log: &'a Mutex<File>,
    ) -> (&'a Step, Outcome) {
        let transport = self.hosts[&step.host].as_ref();
        let mut secrets = self.options.secrets.clone();
        secrets.extend(step.secrets());
        let mut out = Output {
            em: self.emitter(phase, step),
            log,
            secrets,
            last: VecDeque::new(),
            keep: self.options.last_lines,
        };
        // Masked again with the run's secrets: a password may sit in shell text.
        let what = out.mask(&step.action.to_string());
        out.log(&format!(
            "==> {} {phase}: {what}",
            Local::now().format("%F %T")
        ));
        out.em.emit(EventKind::Started { what });
        let timeout = match &step.action {
            Action::Run {
                timeout: Some(t), ..
            } => *t,
            // The wait ends itself; this only bounds a host that stops answering.
            Action::WaitReady(w) => w.timeout + WAIT_GRACE,
            _ => self.options.step_timeout,
        };
        // A transfer stops at once on cancel (its bytes are resent on the
        // next run: a layer's marker is written only once it is whole), and
        // so does a wait, which changes nothing on the host; a command runs
        // to its end, so no host is left half-configured.
        let stops = matches!(step.action, Action::Send { .. } | Action::WaitReady(_));
        let mut tries = 1;
        let cause = loop {
            let attempted = tokio::select! {
                attempted = tokio::time::timeout(
                    timeout,
                    attempt(transport, &mut out, self.options.fetch_limit),
                ) => attempted,
                () = self.cancel.cancelled(), if stops => {
                    out.log("<== cancelled: stopped at once; the next run does it again");
                    return (step, Outcome::Cancelled);
                }
            };
            match attempted {
                Ok(Ok(Acted::Skipped)) => {
                    out.log("<== skipped: already there");
                    out.em.emit(EventKind::Skipped {
                        reason: SkipReason::Marker,
                    });
                    return (step, Outcome::Skipped);
                }
                Ok(Ok(Acted::Ran { code: 0, bytes })) => {
                    out.log("<== done");
                    out.em.emit(EventKind::Finished);
                    return (step, Outcome::Done { bytes });
                }
                Ok(Ok(Acted::Ran { code, .. })) => break FailCause::Exit(code),
                Ok(Err(ActError::Transport(e)))
                    if e.is_connection() && tries <= self.options.retries =>
                {
                    let error = out.mask(&e.to_string());
                    out.log(&format!("<== {error}; retrying"));
                    tries += 1;
                    out.em.emit(EventKind::Retrying {
                        attempt: tries,
                        error,
                    });
                    let wait = self
                        .options
                        .backoff
                        .saturating_mul(2u32.saturating_pow(tries - 2));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.cancel.cancelled() => return (step, Outcome::Cancelled),
                    }
                }
                Ok(Err(e)) => break e.cause(),
                Err(_) => break FailCause::TimedOut(timeout),
            }
        };
        let cause = match cause {
            FailCause::Connection(e) => FailCause::Connection(out.mask(&e)),
            FailCause::Other(e) => FailCause::Other(out.mask(&e)),
            other => other,
        };
        let error = StepError {
            command: out.mask(&step.shown_command()),
            cause,
            last_lines: out.last.iter().cloned().collect(),
        };
        out.log(&format!("<== failed: {error}"));
        out.em.emit(EventKind::Failed {
            error: error.clone(),
        });
        (step, Outcome::Failed(error))
    }
}
