//! Keeps an applying cluster's saved Clusterfile current: `ClusterInProcess`
//! when the apply starts, the progress condition after every finished
//! stage, and the outcome (success, the failed hosts and steps, or the
//! cancellation) at the end. Each save is atomic and 0600 (via
//! [`ClusterState::save`]), so a run stopped anywhere leaves a valid file.

use crate::cli::Cancelled;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::ClusterStatus;
use crate::cluster::state::ClusterState;
use crate::engine::event::StageDone;
use crate::engine::runner::RunError;
use chrono::Local;
use tokio::sync::mpsc::UnboundedReceiver;

/// The reason of the error condition when steps failed.
const STEP_FAILED: &str = "StepFailed";
/// The reason when the apply failed before or around its steps (a host
/// unreachable, the journal not writable).
const APPLY_FAILED: &str = "ApplyFailed";

/// The Clusterfile of one apply and where it is saved.
pub struct StatusRecorder {
    state: ClusterState,
    cf: Clusterfile,
    last: Option<StageDone>,
}

impl StatusRecorder {
    /// Mark the apply started and save.
    pub fn start(state: ClusterState, mut cf: Clusterfile) -> anyhow::Result<Self> {
        status(&mut cf).apply_started();
        state.save(&cf)?;
        Ok(StatusRecorder {
            state,
            cf,
            last: None,
        })
    }

    /// Record a finished stage and save.
    pub fn stage_done(&mut self, done: StageDone) -> anyhow::Result<()> {
        let hosts: Vec<String> = done.hosts.iter().map(ToString::to_string).collect();
        status(&mut self.cf).stage_finished(
            done.number,
            done.of,
            done.phase.name(),
            &hosts,
            &done.at,
        );
        self.last = Some(done);
        self.state.save(&self.cf)?;
        Ok(())
    }

    /// Record every stage reported until the runner drops its sender. A
    /// save that fails is reported once and retried at the next stage; the
    /// final save in [`Self::finish`] decides.
    pub async fn follow(mut self, mut stages: UnboundedReceiver<StageDone>) -> Self {
        let mut warned = false;
        while let Some(done) = stages.recv().await {
            if let Err(e) = self.stage_done(done)
                && !std::mem::replace(&mut warned, true)
            {
                eprintln!("warning: the cluster's progress is not saved: {e:#}");
            }
        }
        self
    }

    /// Record how the apply ended and save.
    pub fn finish(mut self, result: &anyhow::Result<()>) -> anyhow::Result<()> {
        let now = Local::now();
        let after = match &self.last {
            Some(s) => format!("after stage {} of {} ({})", s.number, s.of, s.phase),
            None => "before any stage finished".to_string(),
        };
        let status = status(&mut self.cf);
        match result {
            Ok(()) => status.apply_succeeded(&now),
            Err(e) if e.is::<Cancelled>() => {
                status.apply_cancelled(format!("cancelled by the user {after}"), &now);
            }
            Err(e) => match e.downcast_ref::<RunError>() {
                Some(RunError::Failed(failures)) => {
                    let lines: Vec<String> = failures
                        .iter()
                        .map(|f| format!("[{}] {}: {}", f.host, f.phase, f.error.headline()))
                        .collect();
                    let message = format!("{}; {after}", lines.join("; "));
                    status.apply_failed(STEP_FAILED, message, &now);
                }
                _ => status.apply_failed(APPLY_FAILED, format!("{e:#}; {after}"), &now),
            },
        }
        self.state.save(&self.cf)?;
        Ok(())
    }
}

fn status(cf: &mut Clusterfile) -> &mut ClusterStatus {
    cf.cluster.status.get_or_insert_with(ClusterStatus::default)
}
