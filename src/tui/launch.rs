//! Starting an install from the wizard: connect (unless the hosts are the
//! demo's), run the plan with the runner, forward every engine event to
//! the wizard, and report how the run ended after the last event.

use super::action::{Action, RunOutcome};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::event::StageDone;
use crate::engine::journal::Journal;
use crate::engine::plan::{HostId, Plan};
use crate::engine::record::{Ending, StatusRecorder};
use crate::engine::runner::{RunError, RunOptions, Runner};
use crate::engine::spec::HostSpec;
use crate::engine::transport::Transport;
use crate::engine::transport::select::{Unreachable, connect};
use crate::ssh::{HostKeyPolicy, KnownHosts};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// How the hosts are reached.
#[derive(Clone)]
pub enum Hosts {
    /// Already there (the demo's simulated hosts).
    Ready(HashMap<HostId, Arc<dyn Transport>>),
    /// Over SSH, connected when the run starts.
    Ssh {
        /// The hosts.
        hosts: Vec<HostSpec>,
        /// tug's known_hosts.
        known: KnownHosts,
        /// First-use keys recorded or refused.
        policy: HostKeyPolicy,
    },
}

/// Everything a run needs besides the wizard's state.
#[derive(Clone)]
pub struct Launch {
    /// The plan.
    pub plan: Plan,
    /// How the hosts are reached.
    pub hosts: Hosts,
    /// Where each host's log goes.
    pub logs: PathBuf,
    /// The journal that makes a second run a resume.
    pub journal: PathBuf,
    /// Timeouts, retries, secrets to mask.
    pub options: RunOptions,
    /// The cluster's state dir and Clusterfile, whose status is saved
    /// after every stage (none for the demo, which is no cluster).
    pub record: Option<(ClusterState, Clusterfile)>,
}

impl Launch {
    /// Start the run in the background; `Action::Engine` for each event,
    /// then one `Action::RunDone`. Cancelling the token starts no new step.
    pub fn start(&self, tx: UnboundedSender<Action>) -> CancellationToken {
        let cancel = CancellationToken::new();
        let launch = self.clone();
        let token = cancel.clone();
        tokio::spawn(async move {
            let outcome = launch.run(&tx, token).await;
            let _ = tx.send(Action::RunDone(outcome));
        });
        cancel
    }

    async fn run(self, tx: &UnboundedSender<Action>, cancel: CancellationToken) -> RunOutcome {
        // The screen is the wizard's: a status that cannot be saved goes to the log.
        let recorder = self.record.clone().and_then(|(state, cf)| {
            StatusRecorder::start(state, cf)
                .map_err(|e| tracing::warn!("the cluster's status is not saved: {e}"))
                .ok()
        });
        let (stages, done) = tokio::sync::mpsc::unbounded_channel();
        let following = recorder.map(|r| {
            tokio::spawn(r.follow(done, |e| {
                tracing::warn!("the cluster's progress is not saved: {e}");
            }))
        });
        let outcome = self.execute(tx, cancel, stages).await;
        if let Some(f) = following
            && let Ok(recorder) = f.await
        {
            let ending = match &outcome {
                RunOutcome::Done => Ending::Succeeded,
                RunOutcome::Cancelled => Ending::Cancelled,
                RunOutcome::Failed(failures) => Ending::Failed(failures),
                RunOutcome::Error(e) => Ending::Error(e.clone()),
            };
            if let Err(e) = recorder.finish(ending) {
                tracing::warn!("the cluster's status is not saved: {e}");
            }
        }
        outcome
    }

    async fn execute(
        &self,
        tx: &UnboundedSender<Action>,
        cancel: CancellationToken,
        stages: UnboundedSender<StageDone>,
    ) -> RunOutcome {
        let hosts = match &self.hosts {
            Hosts::Ready(h) => h.clone(),
            Hosts::Ssh {
                hosts,
                known,
                policy,
            } => match connect(
                hosts,
                known.clone(),
                policy.clone(),
                Unreachable::Refuse,
                |_, _| {},
            )
            .await
            {
                Ok(h) => h,
                Err(e) => {
                    return RunOutcome::Error(format!(
                        "Not every host could be reached, so nothing was changed on any host:\n{e}"
                    ));
                }
            },
        };
        let mut journal = match Journal::load(&self.journal) {
            Ok(j) => j,
            Err(e) => return RunOutcome::Error(e.to_string()),
        };
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        let forward = async {
            while let Some(ev) = erx.recv().await {
                let _ = tx.send(Action::Engine(ev));
            }
        };
        let work = async {
            let runner = Runner::new(hosts, &self.logs, etx)
                .with_options(self.options.clone())
                .with_cancel(cancel)
                .with_stage_reports(stages);
            runner.run(&self.plan, &mut journal).await
        };
        // The runner (and its sender) is dropped when `work` ends, so
        // `forward` ends after the last event.
        let (result, ()) = tokio::join!(work, forward);
        match result {
            Ok(_) => RunOutcome::Done,
            Err(RunError::Cancelled) => RunOutcome::Cancelled,
            Err(RunError::Failed(f)) => RunOutcome::Failed(f),
            Err(e) => RunOutcome::Error(e.to_string()),
        }
    }
}
