//! One install session, the same for the command line and the wizard: a
//! Clusterfile's spec becomes a plan; running it connects the hosts (unless
//! they are the demo's), warns about masters' certificates near their end
//! ([`super::cert_warning`]), loads the journal that makes a second run a
//! resume, records the cluster's status after every stage, runs the plan
//! with per-host logs and sends every engine event to the face. How it
//! ended is an [`Outcome`]; errors keep their causes.

use super::cert_warning;
use super::lock::{ClusterLock, LockError};
use super::upgrade::Lifecycle;
use super::{AppError, Context, Notice};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::event::{Event, StageDone};
use crate::engine::health;
use crate::engine::install::{InstallOptions, plan_install};
use crate::engine::journal::Journal;
use crate::engine::plan::{HostId, Phase, Plan};
use crate::engine::record::{Ending, StatusRecorder, VersionMark};
use crate::engine::runner::{Report, RunError, RunOptions, Runner, StepFailure};
use crate::engine::spec::{ClusterSpec, HostSpec};
use crate::engine::transport::Transport;
use crate::engine::transport::select::Unreachable;
use crate::engine::upgrade::{UpgradeOptions, plan_upgrade, target_version};
use crate::ssh::{HostKeyPolicy, KnownHosts};
use anyhow::Context as _;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The install journal in a cluster's state dir.
pub const INSTALL_JOURNAL: &str = "install.journal";
/// The journal of a reset or delete, kept only while it runs.
pub const RESET_JOURNAL: &str = "reset.journal";
/// The upgrade journal: its steps name host and target version, so a
/// re-run resumes an upgrade host by host.
pub const UPGRADE_JOURNAL: &str = "upgrade.journal";

/// What an install's wait for Ready nodes follows (its step's identity).
pub const AFTER_INSTALL: &str = "install";

/// Where a session's notices go; shared with the task that runs it.
pub type Notifier = Arc<dyn Fn(Notice) + Send + Sync>;

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
        /// First-use keys recorded, refused or asked about.
        policy: HostKeyPolicy,
        /// What a host that cannot be reached does to the run.
        unreachable: Unreachable,
    },
}

impl Hosts {
    /// `spec`'s hosts over SSH with `ctx`'s known_hosts and policy.
    pub fn ssh(ctx: &Context, spec: &ClusterSpec, unreachable: Unreachable) -> Self {
        Hosts::Ssh {
            hosts: spec.hosts.clone(),
            known: ctx.known_hosts(),
            policy: ctx.host_key_policy(),
            unreachable,
        }
    }
}

/// How an install runs.
#[derive(Clone, Copy, Debug)]
pub struct How {
    /// Leave out preflight.
    pub skip_checks: bool,
    /// Stop after this phase (a later apply finishes).
    pub until: Option<Phase>,
    /// An upgrade renews the control-plane certificates (else kept).
    pub renew_certs: bool,
    /// How long to wait at the end for every node to be Ready (`None`:
    /// `--no-wait`).
    pub wait: Option<Duration>,
}

impl Default for How {
    fn default() -> Self {
        How {
            skip_checks: false,
            until: None,
            renew_certs: false,
            wait: Some(health::DEFAULT_WAIT),
        }
    }
}

/// The upgrade a session makes, for the faces to say what was done.
#[derive(Clone, Debug)]
pub struct UpgradeNote {
    /// The oldest version a host ran.
    pub from: String,
    /// The version every host runs once it is done.
    pub to: String,
}

/// The line the faces show before an upgrade starts.
impl std::fmt::Display for UpgradeNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the cluster runs Kubernetes {} and the image is {}: this upgrades it, host by host \
             (each drained, upgraded, uncordoned)",
            self.from, self.to
        )
    }
}

/// A plan ready to run, with everything its run needs.
#[derive(Clone)]
pub struct Session {
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
    /// after every stage (none for the demo and teardowns).
    pub record: Option<(ClusterState, Clusterfile)>,
    /// The plan stops before its end on purpose (`--until`): finishing it
    /// is recorded as stopped, not as installed.
    pub stops_early: bool,
    /// The hosts' Kubernetes versions the status records as stages finish.
    pub versions: Vec<VersionMark>,
    /// Set when the session upgrades the cluster.
    pub upgrade: Option<UpgradeNote>,
}

impl Session {
    /// Applying `cf` (whose spec is `spec`) over `hosts`, its files in the
    /// cluster's state dir: an install (or its resume, or added hosts), or
    /// an upgrade when the rootfs is of a newer Kubernetes version than the
    /// saved cluster's; a change tug does not make is refused here, before
    /// any host is touched ([`super::upgrade::decide`]).
    pub fn apply(
        ctx: &Context,
        mut cf: Clusterfile,
        spec: &ClusterSpec,
        how: How,
        hosts: Hosts,
    ) -> anyhow::Result<Session> {
        let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
        let saved = state.load()?;
        let saved_status = saved.as_ref().and_then(|c| c.cluster.status.clone());
        if saved_status.as_ref().is_some_and(|s| s.resetting()) {
            anyhow::bail!(
                "cluster {name} is being reset (a reset did not finish on every host): \
                 `tug reset --cluster {name} --force` finishes it before the cluster can be applied again",
                name = state.name()
            );
        }
        let lifecycle = super::upgrade::decide(&ctx.store()?, saved.as_ref(), spec)?;
        if let Some(mut old) = saved_status.filter(|s| !s.host_versions.is_empty()) {
            // Hosts deleted since are forgotten.
            old.host_versions
                .retain(|h, _| spec.hosts.iter().any(|s| s.id.as_str() == h));
            let status = cf.cluster.status.get_or_insert_with(Default::default);
            status.host_versions = old.host_versions;
        }
        let (mut plan, mut versions, journal, upgrade) = match lifecycle {
            Lifecycle::Install => {
                let opts = InstallOptions {
                    skip_checks: how.skip_checks,
                    layer_cache: Some(ctx.paths.layer_derived()),
                    ..InstallOptions::default()
                };
                let plan = plan_install(spec, &opts)?.plan;
                let versions = target_version(spec)
                    .map(|v| VersionMark {
                        stage: plan.stages.len(),
                        hosts: spec.hosts.iter().map(|h| h.id.clone()).collect(),
                        version: v.to_string(),
                    })
                    .into_iter()
                    .collect();
                (plan, versions, INSTALL_JOURNAL, None)
            }
            Lifecycle::Upgrade { from, to, pending } => {
                let opts = UpgradeOptions {
                    skip_checks: how.skip_checks,
                    renew_certs: how.renew_certs,
                    layer_cache: Some(ctx.paths.layer_derived()),
                    ..UpgradeOptions::default()
                };
                let up = plan_upgrade(spec, &pending, &opts)?;
                let note = UpgradeNote {
                    from: from.to_string(),
                    to: to.to_string(),
                };
                (up.plan, up.versions, UPGRADE_JOURNAL, Some(note))
            }
        };
        if let Some(phase) = how.until {
            let last = plan
                .stages
                .iter()
                .rposition(|s| s.phase == phase)
                .with_context(|| {
                    format!("--until {phase}: this cluster's plan has no {phase} stage")
                })?;
            plan.stages.truncate(last + 1);
            versions.retain(|m| m.stage <= plan.stages.len());
        } else if let Some(wait) = how.wait {
            let after = match &upgrade {
                Some(note) => format!("upgrade to {}", note.to),
                None => AFTER_INSTALL.to_string(),
            };
            plan.stages.push(health::wait_stage(spec, wait, &after)?);
        }
        Ok(Session {
            plan,
            hosts,
            logs: state.logs_dir(),
            journal: state.dir().join(journal),
            options: options(spec),
            record: Some((state, cf)),
            stops_early: how.until.is_some(),
            versions,
            upgrade,
        })
    }

    /// A reset or delete `plan` of `spec`'s cluster: hosts that cannot be
    /// reached are left to fail their steps, and its journal lives in
    /// [`RESET_JOURNAL`].
    pub fn teardown(ctx: &Context, spec: &ClusterSpec, plan: Plan, state: &ClusterState) -> Self {
        Session {
            plan,
            hosts: Hosts::ssh(ctx, spec, Unreachable::Tolerate),
            logs: state.logs_dir(),
            journal: state.dir().join(RESET_JOURNAL),
            options: options(spec),
            record: None,
            stops_early: false,
            versions: Vec::new(),
            upgrade: None,
        }
    }

    /// Hold the lock of the cluster this session records (none for the
    /// demo), as `command`: one run per cluster at a time.
    pub fn lock(&self, command: &str) -> Result<Option<ClusterLock>, LockError> {
        self.record
            .as_ref()
            .map(|(state, _)| ClusterLock::take(state.dir(), state.name(), command))
            .transpose()
    }

    /// Run the plan: every engine event goes to `events`, notices (new
    /// host keys, status not saved) to `notify`; cancelling `cancel` starts
    /// no new step.
    pub async fn run(
        &self,
        events: UnboundedSender<Event>,
        cancel: CancellationToken,
        notify: Notifier,
    ) -> Outcome {
        let recorder = match &self.record {
            Some((state, cf)) => match StatusRecorder::start(state.clone(), cf.clone()) {
                Ok(r) => Some(r.with_versions(self.versions.clone())),
                Err(e) => return Outcome::error(anyhow::Error::new(e)),
            },
            None => None,
        };
        let (stages, done) = tokio::sync::mpsc::unbounded_channel();
        let following = recorder.map(|r| {
            let notify = notify.clone();
            tokio::spawn(r.follow(done, move |e| {
                notify(Notice::Warning(format!(
                    "the cluster's progress is not saved: {e:#}"
                )));
            }))
        });
        let (outcome, touched) = self.execute(events, cancel, stages, &notify).await;
        let Some(following) = following else {
            return outcome;
        };
        let ending = if touched {
            self.ending(&outcome)
        } else {
            Ending::Untouched
        };
        let finished = match following.await {
            Ok(recorder) => recorder
                .finish(ending)
                .context("saving the cluster's status"),
            Err(e) => Err(anyhow::Error::new(e).context("recording the cluster's status")),
        };
        match (finished, outcome) {
            (Err(e), Outcome::Done(_)) => Outcome::error(e),
            (Err(e), other) => {
                notify(Notice::Warning(format!("{e:#}")));
                other
            }
            (Ok(()), outcome) => outcome,
        }
    }

    /// How the cluster's status records `outcome`.
    fn ending<'a>(&self, outcome: &'a Outcome) -> Ending<'a> {
        match outcome {
            Outcome::Done(_) if self.stops_early => Ending::Stopped,
            Outcome::Done(_) => Ending::Succeeded,
            Outcome::Cancelled => Ending::Cancelled,
            Outcome::Failed(failures) => Ending::Failed(failures),
            Outcome::Error(e) => Ending::Error(format!("{:#}", e.error())),
        }
    }

    /// Connect and run; also whether anything could have changed on a
    /// host (false when not every host could be reached).
    async fn execute(
        &self,
        events: UnboundedSender<Event>,
        cancel: CancellationToken,
        stages: UnboundedSender<StageDone>,
        notify: &Notifier,
    ) -> (Outcome, bool) {
        let hosts = match &self.hosts {
            Hosts::Ready(h) => h.clone(),
            Hosts::Ssh {
                hosts,
                known,
                policy,
                unreachable,
            } => {
                let connected = super::connect::connect_with(
                    hosts,
                    known.clone(),
                    policy.clone(),
                    *unreachable,
                    notify.as_ref(),
                )
                .await;
                match connected {
                    Ok(h) => h,
                    Err(e) => {
                        let e = anyhow::Error::new(e).context(
                            "Not every host could be reached, so nothing was changed on any host",
                        );
                        return (Outcome::error(e), false);
                    }
                }
            }
        };
        self.warn_certificates(&hosts, notify).await;
        let mut journal = match Journal::load(&self.journal) {
            Ok(j) => j,
            Err(e) => return (Outcome::error(anyhow::Error::new(e)), true),
        };
        let runner = Runner::new(hosts, &self.logs, events)
            .with_options(self.options.clone())
            .with_cancel(cancel)
            .with_stage_reports(stages);
        let outcome = match runner.run(&self.plan, &mut journal).await {
            Ok(report) => Outcome::Done(report),
            Err(RunError::Cancelled) => Outcome::Cancelled,
            Err(RunError::Failed(f)) => Outcome::Failed(f),
            Err(e) => Outcome::error(anyhow::Error::new(e)),
        };
        (outcome, true)
    }

    /// Warn about masters' certificates near their end before the plan
    /// runs: asked of the masters now over SSH (refreshing the record
    /// `tug status` keeps), as last recorded for hosts that cannot be asked
    /// (the demo's); nothing for sessions that record no cluster
    /// (teardowns, exec and copy).
    async fn warn_certificates(
        &self,
        transports: &HashMap<HostId, Arc<dyn Transport>>,
        notify: &Notifier,
    ) {
        let Some((state, _)) = &self.record else {
            return;
        };
        let asked = match &self.hosts {
            Hosts::Ssh { hosts, .. } => Some(hosts.as_slice()),
            Hosts::Ready(_) => None,
        };
        for w in cert_warning::at_start(state, asked, transports, &self.options.secrets).await {
            notify(Notice::Warning(w));
        }
    }
}

/// The runner's options for `spec`: its hosts' sudo (login) passwords are
/// masked in every line they print.
fn options(spec: &ClusterSpec) -> RunOptions {
    RunOptions {
        secrets: spec.login_passwords(),
        ..RunOptions::default()
    }
}

/// How a run ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Every step finished or was skipped.
    Done(Report),
    /// Cancelled: no new step started; the journal holds what finished.
    Cancelled,
    /// Steps failed; later stages did not start.
    Failed(Vec<StepFailure>),
    /// The run could not start or stopped for another reason (hosts
    /// unreachable, the journal not saved).
    Error(AppError),
}

impl Outcome {
    fn error(e: anyhow::Error) -> Self {
        Outcome::Error(AppError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::UpgradeNote;

    #[test]
    fn the_upgrade_note_names_both_versions() {
        let note = UpgradeNote {
            from: "v1.25.0".into(),
            to: "v1.26.0".into(),
        };
        let text = note.to_string();
        assert!(
            text.contains("Kubernetes v1.25.0 and the image is v1.26.0"),
            "{text}"
        );
        assert!(text.contains("upgrades it, host by host"), "{text}");
    }
}
