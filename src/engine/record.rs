//! Keeps an applying cluster's saved Clusterfile current: `ClusterInProcess`
//! when the apply starts, the progress condition after every finished
//! stage, and the outcome (success, the failed hosts and steps, or the
//! cancellation) at the end. Each save is atomic and 0600 (via
//! [`ClusterState::save`]), so a run stopped anywhere leaves a valid file.
//! The CLI and the wizard both record their installs through it.

use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::ClusterStatus;
use crate::cluster::state::{ClusterState, StateError};
use crate::engine::event::StageDone;
use crate::engine::plan::HostId;
use crate::engine::runner::StepFailure;
use chrono::Local;
use tokio::sync::mpsc::UnboundedReceiver;

/// The reason of the error condition when steps failed.
const STEP_FAILED: &str = "StepFailed";
/// The reason when the apply failed before or around its steps (a host
/// unreachable, the journal not writable).
const APPLY_FAILED: &str = "ApplyFailed";

/// What a finished stage means for the hosts' Kubernetes versions: once
/// stage `stage` (numbered from 1, as [`StageDone`]) finished, `hosts` run
/// `version`. Install and upgrade planners make these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionMark {
    /// The stage's number in its plan, from 1.
    pub stage: usize,
    /// The hosts it finished.
    pub hosts: Vec<HostId>,
    /// The version they run from then on.
    pub version: String,
}

/// The Clusterfile of one apply and where it is saved.
pub struct StatusRecorder {
    state: ClusterState,
    cf: Clusterfile,
    last: Option<StageDone>,
    marks: Vec<VersionMark>,
    /// The saved file as it was before this apply (`None`: there was none).
    before: Option<Vec<u8>>,
    /// The Clusterfile as the apply was given it, before any status.
    given: Clusterfile,
}

impl StatusRecorder {
    /// Mark the apply started and save.
    pub fn start(state: ClusterState, mut cf: Clusterfile) -> Result<Self, StateError> {
        let before = std::fs::read(state.clusterfile_path()).ok();
        let given = cf.clone();
        status(&mut cf).apply_started();
        state.save(&cf)?;
        Ok(StatusRecorder {
            state,
            cf,
            last: None,
            marks: Vec::new(),
            before,
            given,
        })
    }

    /// Record the hosts' versions as `marks` say when their stages finish.
    pub fn with_versions(mut self, marks: Vec<VersionMark>) -> Self {
        self.marks = marks;
        self
    }

    /// Record a finished stage and save.
    pub fn stage_done(&mut self, done: StageDone) -> Result<(), StateError> {
        let hosts: Vec<String> = done.hosts.iter().map(ToString::to_string).collect();
        let versions = &mut status(&mut self.cf).host_versions;
        for mark in self.marks.iter().filter(|m| m.stage == done.number) {
            for h in &mark.hosts {
                versions.insert(h.to_string(), mark.version.clone());
            }
        }
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

    /// Record every stage reported until the runner drops its sender. The
    /// first save that fails goes to `warn` (later ones are retried at each
    /// stage); the final save in [`Self::finish`] decides.
    pub async fn follow(
        mut self,
        mut stages: UnboundedReceiver<StageDone>,
        mut warn: impl FnMut(&StateError),
    ) -> Self {
        let mut warned = false;
        while let Some(done) = stages.recv().await {
            if let Err(e) = self.stage_done(done)
                && !std::mem::replace(&mut warned, true)
            {
                warn(&e);
            }
        }
        self
    }

    /// Record how the apply ended and save.
    pub fn finish(mut self, ending: Ending<'_>) -> Result<(), StateError> {
        if let Ending::Untouched = ending {
            return self.put_back();
        }
        let now = Local::now();
        let after = match &self.last {
            Some(s) => format!("after stage {} of {} ({})", s.number, s.of, s.phase),
            None => "before any stage finished".to_string(),
        };
        let status = status(&mut self.cf);
        match ending {
            // A run stopped early on purpose stays in process; its
            // progress condition names the last stage.
            Ending::Stopped => {}
            Ending::Succeeded => status.apply_succeeded(&now),
            Ending::Cancelled => {
                status.apply_cancelled(format!("cancelled by the user {after}"), &now);
            }
            Ending::Failed(failures) => {
                let lines: Vec<String> = failures
                    .iter()
                    .map(|f| format!("[{}] {}: {}", f.host, f.phase, f.error.headline()))
                    .collect();
                let message = format!("{}; {after}", lines.join("; "));
                status.apply_failed(STEP_FAILED, message, &now);
            }
            Ending::Error(e) => status.apply_failed(APPLY_FAILED, format!("{e}; {after}"), &now),
            Ending::Untouched => {}
        }
        self.state.save(&self.cf)
    }

    /// The saved file as it was before the apply; the Clusterfile as given
    /// when there was none (the cluster stays known, with nothing recorded).
    fn put_back(self) -> Result<(), StateError> {
        let path = self.state.clusterfile_path();
        match &self.before {
            Some(bytes) => crate::fsutil::write_private(&path, bytes)
                .map_err(|source| StateError::Io { path, source }),
            None => self.state.save(&self.given),
        }
    }
}

/// How an apply ended, as its status records it.
#[derive(Debug)]
pub enum Ending<'a> {
    /// Every stage ran.
    Succeeded,
    /// It stopped after the phase it was asked to stop at.
    Stopped,
    /// The user cancelled it.
    Cancelled,
    /// Steps failed.
    Failed(&'a [StepFailure]),
    /// It failed around its steps (a host unreachable, the journal not
    /// writable), and why.
    Error(String),
    /// Nothing ran on any host (not every host could be reached): the
    /// saved file goes back to what it was (the Clusterfile as given when
    /// there was none), so no failure is recorded for an apply that
    /// changed nothing.
    Untouched,
}

fn status(cf: &mut Clusterfile) -> &mut ClusterStatus {
    cf.cluster.status.get_or_insert_with(ClusterStatus::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Phase;
    use crate::engine::event::{FailCause, StepError};
    use crate::engine::plan::{Action, HostId, Phase as StepPhase, Step};
    use crate::paths::Paths;

    fn recorder(home: &std::path::Path) -> StatusRecorder {
        let state = ClusterState::new(&Paths::under(home), "c").unwrap();
        let text = "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata: {name: c}\n\
                    spec:\n  image: [labring/kubernetes:v1.28.9]\n  \
                    hosts: [{ips: ['10.0.0.1:22'], roles: [master]}]\n";
        let cf = Clusterfile::parse(std::path::Path::new("Clusterfile"), text.into()).unwrap();
        StatusRecorder::start(state, cf).unwrap()
    }

    fn saved(home: &std::path::Path) -> ClusterStatus {
        let state = ClusterState::new(&Paths::under(home), "c").unwrap();
        state.load().unwrap().unwrap().cluster.status.unwrap()
    }

    fn done(number: usize, phase: StepPhase) -> StageDone {
        StageDone {
            at: Local::now(),
            number,
            of: 9,
            phase,
            hosts: vec![HostId::new("10.0.0.1")],
        }
    }

    fn failure(host: &str, code: i32) -> StepFailure {
        StepFailure {
            host: HostId::new(host),
            phase: StepPhase::JoinNodes,
            step: Step::new(
                StepPhase::JoinNodes,
                HostId::new(host),
                "join",
                Action::Fetch {
                    path: "/x".into(),
                    to_local: "/y".into(),
                },
            )
            .unwrap()
            .id,
            error: StepError {
                command: "kubeadm join".into(),
                cause: FailCause::Exit(code),
                last_lines: vec!["not in the status".into()],
            },
            log: format!("/logs/{host}.log").into(),
        }
    }

    #[test]
    fn an_apply_that_reached_no_host_leaves_the_saved_file_as_it_was() {
        let home = tempfile::tempdir().unwrap();
        let state = ClusterState::new(&Paths::under(home.path()), "c").unwrap();
        // No file before: the Clusterfile as given, no status recorded.
        recorder(home.path()).finish(Ending::Untouched).unwrap();
        let given = state.load().unwrap().unwrap();
        assert!(given.cluster.status.is_none());
        // A succeeded apply, then one that reached no host: still succeeded.
        recorder(home.path()).finish(Ending::Succeeded).unwrap();
        let before = std::fs::read(state.clusterfile_path()).unwrap();
        let r = recorder(home.path());
        assert_eq!(saved(home.path()).phase, Some(Phase::ClusterInProcess));
        r.finish(Ending::Untouched).unwrap();
        assert_eq!(std::fs::read(state.clusterfile_path()).unwrap(), before);
        assert_eq!(saved(home.path()).phase, Some(Phase::ClusterSuccess));
    }

    #[test]
    fn every_failed_step_is_named_after_the_last_finished_stage() {
        let home = tempfile::tempdir().unwrap();
        let mut r = recorder(home.path());
        assert_eq!(saved(home.path()).phase, Some(Phase::ClusterInProcess));
        r.stage_done(done(1, StepPhase::Preflight)).unwrap();
        r.stage_done(done(2, StepPhase::Distribute)).unwrap();
        let progress = saved(home.path()).conditions[0].message.clone();
        assert_eq!(
            progress.as_deref(),
            Some("stage 2 of 9 (distribute) finished on 10.0.0.1")
        );
        let failures = vec![failure("10.0.0.2", 1), failure("10.0.0.3", 2)];
        r.finish(Ending::Failed(&failures)).unwrap();
        let status = saved(home.path());
        assert_eq!(status.phase, Some(Phase::ClusterFailed));
        let error = status.conditions.last().unwrap();
        assert_eq!(error.reason.as_deref(), Some(STEP_FAILED));
        assert_eq!(
            error.message.as_deref(),
            Some(
                "[10.0.0.2] join-nodes: `kubeadm join` exited with code 1; \
                 [10.0.0.3] join-nodes: `kubeadm join` exited with code 2; \
                 after stage 2 of 9 (distribute)"
            )
        );
    }

    #[test]
    fn a_cancel_or_an_error_before_any_stage_says_so() {
        let home = tempfile::tempdir().unwrap();
        recorder(home.path()).finish(Ending::Cancelled).unwrap();
        let status = saved(home.path());
        assert_eq!(status.phase, Some(Phase::ClusterInProcess));
        assert_eq!(
            status.conditions[0].message.as_deref(),
            Some("cancelled by the user before any stage finished")
        );

        recorder(home.path())
            .finish(Ending::Error("host 10.0.0.9: cannot connect".into()))
            .unwrap();
        let status = saved(home.path());
        assert_eq!(status.phase, Some(Phase::ClusterFailed));
        let error = &status.conditions[0];
        assert_eq!(error.reason.as_deref(), Some(APPLY_FAILED));
        assert_eq!(
            error.message.as_deref(),
            Some("host 10.0.0.9: cannot connect; before any stage finished")
        );
    }
}
