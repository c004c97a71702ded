//! How a run fails: the failed steps with host, phase and error, or why
//! nothing could run.

use crate::engine::event::StepError;
use crate::engine::journal::JournalError;
use crate::engine::plan::{HostId, Phase, PlanError, StepId};
use std::fmt;
use std::path::PathBuf;

/// One failed step.
#[derive(Clone, Debug)]
pub struct StepFailure {
    /// Where.
    pub host: HostId,
    /// In which phase.
    pub phase: Phase,
    /// Which step.
    pub step: StepId,
    /// What, why and the last output.
    pub error: StepError,
    /// The host's log on the jump host, with its whole output.
    pub log: PathBuf,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {} failed: {}",
            self.host,
            self.phase,
            self.step.name(),
            self.error
        )
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plan itself is wrong; nothing ran.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A step names a host without a transport; nothing ran.
    #[error("the plan names host {0}, which has no connection")]
    UnknownHost(HostId),
    /// The journal could not be saved.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A host's log file could not be opened; nothing ran.
    #[error("opening the log {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Steps failed (the first one first); later stages did not start.
    #[error("{}", failures_message(.0))]
    Failed(Vec<StepFailure>),
    /// Cancelled: no new step started; the journal holds what finished.
    #[error("cancelled")]
    Cancelled,
}

fn failures_message(failures: &[StepFailure]) -> String {
    let mut msg = failures
        .first()
        .map(|f| format!("{f}\n  whole output: {}", f.log.display()))
        .unwrap_or_default();
    for other in failures.iter().skip(1) {
        msg.push_str(&format!(
            "\nalso [{}] {}: {}",
            other.host,
            other.phase,
            other.error.headline()
        ));
    }
    msg
}
