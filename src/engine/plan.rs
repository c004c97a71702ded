//! A plan is data: stages in order, each a set of steps on hosts. Planners
//! build one from a cluster spec; `tug plan` and `--dry-run` print it; the
//! runner executes it; the journal recognises its finished steps by their
//! [`StepId`], which is derived from everything a step would do, so a
//! changed input makes a new id and the step runs again.

use super::action::Feed;
pub use super::action::{Action, Compression, LocalFile, Source};
use super::command::{Command, CommandError, Secret};
pub use super::host_id::HostId;
use crate::image::digest::Hasher;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

/// The phases of tug's lifecycles (SPEC §5), in install order, then the
/// teardown ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Reach each host and authenticate.
    Connect,
    /// Arch, OS, disk, ports, swap, hostnames, clock.
    Preflight,
    /// Send each host the rootfs parts it needs.
    Distribute,
    /// Render `*.tmpl` files and statics with the env.
    Render,
    /// `/etc/hosts` entries, `init-registry`, registry auth.
    Registry,
    /// The image's `check` script.
    Check,
    /// The image's `init` script.
    Init,
    /// `kubeadm init` on master0.
    KubeadmInit,
    /// Control-plane joins, one at a time.
    JoinMasters,
    /// Worker joins, in parallel.
    JoinNodes,
    /// Application images' files and CMDs on master0.
    Applications,
    /// master0 then the other masters, one at a time: drained, `kubeadm
    /// upgrade`, binaries and kubelet replaced, uncordoned.
    UpgradeMasters,
    /// The nodes in bounded batches, the same way.
    UpgradeNodes,
    /// Kubeconfig fetched, status written.
    Finish,
    /// Waiting until every node is Ready (after an install, add or upgrade).
    Health,
    /// Certificates renewed or given new names on the masters (`tug cert`).
    Certs,
    /// `kubeadm reset` and the image's clean scripts.
    Reset,
    /// Removing what tug put on a host.
    Clean,
    /// Draining and deleting nodes from the cluster.
    Delete,
    /// A command run on chosen hosts (`tug exec`).
    Exec,
    /// Files copied to chosen hosts (`tug scp`).
    Copy,
}

impl Phase {
    /// The phases of an install, in the order its stages run: the one list
    /// `--until` and the faces take them from.
    pub const INSTALL: [Phase; 10] = [
        Phase::Preflight,
        Phase::Distribute,
        Phase::Render,
        Phase::Registry,
        Phase::Check,
        Phase::Init,
        Phase::KubeadmInit,
        Phase::JoinMasters,
        Phase::JoinNodes,
        Phase::Applications,
    ];

    /// The install phase named `s` (as plans print it), or an error
    /// listing the names.
    pub fn install_named(s: &str) -> Result<Phase, String> {
        Phase::INSTALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Phase::INSTALL.iter().map(|p| p.name()).collect();
                format!("not an install phase; one of {}", names.join(", "))
            })
    }

    /// The short name shown in plans and progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Connect => "connect",
            Phase::Preflight => "preflight",
            Phase::Distribute => "distribute",
            Phase::Render => "render",
            Phase::Registry => "registry",
            Phase::Check => "check",
            Phase::Init => "init",
            Phase::KubeadmInit => "kubeadm-init",
            Phase::JoinMasters => "join-masters",
            Phase::JoinNodes => "join-nodes",
            Phase::Applications => "applications",
            Phase::UpgradeMasters => "upgrade-masters",
            Phase::UpgradeNodes => "upgrade-nodes",
            Phase::Finish => "finish",
            Phase::Health => "health",
            Phase::Certs => "certs",
            Phase::Reset => "reset",
            Phase::Clean => "clean",
            Phase::Delete => "delete",
            Phase::Exec => "exec",
            Phase::Copy => "copy",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the steps of a stage run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// At most this many at once (at least 1), and each host's steps one
    /// at a time in plan order.
    Parallel(usize),
    /// One after another, in the order given (e.g. control-plane joins).
    OneByOne,
}

/// A check on the host that, when it holds, means the step's work is
/// already there (a layer's marker file, a joined node's kubelet.conf).
#[derive(Clone, Debug)]
pub enum Marker {
    /// The path exists on the host.
    FileExists(String),
    /// The command exits 0 on the host.
    Command(Command),
}

impl Marker {
    /// The command that tests the marker.
    pub fn check(&self) -> Command {
        match self {
            Marker::FileExists(path) => Command::new("test").arg("-e").arg(path.as_str()),
            Marker::Command(cmd) => cmd.clone(),
        }
    }
}

/// A step's stable identity: phase, host, kind and a hash of every input,
/// secrets included (the hash only; the journal is written 0600).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(String);

impl StepId {
    /// The id as stored in the journal.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The step's kind as its planner named it (`init`, `fetch-admin-conf`,
    /// a layer's key): the id without its phase, host and hash, for a
    /// report that names the step in a few words.
    pub fn name(&self) -> &str {
        let rest = self.0.split_once('/').map_or(self.0.as_str(), |(_, r)| r);
        let rest = rest.split_once('/').map_or(rest, |(_, r)| r);
        rest.rsplit_once('/').map_or(rest, |(name, _)| name)
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One thing to do on one host.
#[derive(Clone, Debug)]
pub struct Step {
    /// Derived from host, phase and the action's inputs.
    pub id: StepId,
    /// Where it runs.
    pub host: HostId,
    /// What it does.
    pub action: Action,
    /// When this holds on the host, the step is skipped.
    pub skip_when: Option<Marker>,
    /// A journal entry of this step counts only this long (its work goes
    /// stale: a join token, a certificate key); `None` is for ever.
    pub fresh_for: Option<Duration>,
    /// Run only while one of these steps is still to do (the join token is
    /// made only for joins that have not happened); empty is always.
    pub needed_by: Vec<StepId>,
}

impl Step {
    /// A step whose id is derived from its inputs. `key` tells apart steps
    /// that would otherwise be identical in one phase on one host.
    pub fn new(
        phase: Phase,
        host: HostId,
        key: &str,
        action: Action,
    ) -> Result<Self, CommandError> {
        let mut h = Feed(Hasher::new());
        h.field(phase.name());
        h.field(host.as_str());
        h.field(key);
        action.feed(&mut h)?;
        let hash = h.0.finish();
        let id = StepId(format!("{phase}/{host}/{key}/{}", &hash.hex()[..16]));
        Ok(Step {
            id,
            host,
            action,
            skip_when: None,
            fresh_for: None,
            needed_by: Vec::new(),
        })
    }

    /// This step, with its journal entry counting only for `age`.
    pub fn fresh_for(self, age: Duration) -> Self {
        Step {
            fresh_for: Some(age),
            ..self
        }
    }

    /// This step, run only while one of `steps` is still to do.
    pub fn needed_by(self, steps: Vec<StepId>) -> Self {
        Step {
            needed_by: steps,
            ..self
        }
    }

    /// Every secret the step sends, so output echoing one can be masked.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self
            .action
            .commands()
            .iter()
            .flat_map(|c| c.secrets())
            .collect();
        if let Some(Marker::Command(c)) = &self.skip_when {
            out.extend(c.secrets());
        }
        if let Action::WriteFile { content, .. } = &self.action {
            out.extend(content.secret().cloned());
        }
        out
    }

    /// The command as a failure report names it: the masked command line
    /// for a run (a long export list counted, see [`Command::brief`]), the
    /// action otherwise.
    pub fn shown_command(&self) -> String {
        match &self.action {
            Action::Run { cmd, .. } => cmd.brief(),
            other => other.to_string(),
        }
    }

    /// Skip the step when `marker` holds on the host.
    pub fn skip_when(mut self, marker: Marker) -> Self {
        self.skip_when = Some(marker);
        self
    }
}

/// Steps of one phase that may run together.
#[derive(Clone, Debug)]
pub struct Stage {
    /// The phase they belong to.
    pub phase: Phase,
    /// The steps.
    pub steps: Vec<Step>,
    /// How they run.
    pub order: Order,
    /// What a failed step stops.
    pub on_failure: OnFailure,
}

/// What a failed step stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Nothing more starts on the failed host; the other hosts finish this
    /// stage (one-by-one stages start nothing more at all); then the run ends.
    Stop,
    /// Checks: every host's steps and the rest of this phase still run, so
    /// every problem is reported at once; the run ends before the next phase.
    FinishPhase,
    /// Reset: every later stage runs too (keep going past hosts that are
    /// gone); the run fails at the end, naming every failure.
    KeepGoing,
}

impl OnFailure {
    /// Whether the failed host's other steps still run (a host found
    /// unreachable is then not tried again in this run).
    pub fn continues(self) -> bool {
        self != OnFailure::Stop
    }
}

/// A plan that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Two steps with one id: the journal could not tell them apart.
    #[error("the plan has two steps with id {0}; give them different keys")]
    DuplicateStep(StepId),
    /// A stage with a parallel limit of 0 would never run.
    #[error("stage {index} ({phase}) allows 0 steps at once")]
    ZeroParallel {
        /// 1-based stage number.
        index: usize,
        /// Its phase.
        phase: Phase,
    },
    /// A command that cannot be rendered.
    #[error("[{host}] {phase}: {source}")]
    Command {
        /// The step's host.
        host: HostId,
        /// The step's phase.
        phase: Phase,
        /// What is wrong.
        source: CommandError,
    },
}

/// Stages in order: everything an install, reset, add or delete does.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The stages, run one after another.
    pub stages: Vec<Stage>,
}

impl Plan {
    /// Check the whole plan before anything runs.
    pub fn validate(&self) -> Result<(), PlanError> {
        let mut seen = HashSet::new();
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.order == Order::Parallel(0) {
                return Err(PlanError::ZeroParallel {
                    index: i + 1,
                    phase: stage.phase,
                });
            }
            for step in &stage.steps {
                if !seen.insert(&step.id) {
                    return Err(PlanError::DuplicateStep(step.id.clone()));
                }
                let marker = step.skip_when.as_ref().map(Marker::check);
                for cmd in step.action.commands().into_iter().chain(marker.as_ref()) {
                    cmd.validate().map_err(|source| PlanError::Command {
                        host: step.host.clone(),
                        phase: stage.phase,
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Every step, in plan order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.stages.iter().flat_map(|s| &s.steps)
    }
}

/// The plan as `tug plan` and `--dry-run` print it: every stage, host and
/// command, secrets masked.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.stages.iter().enumerate() {
            let order = match stage.order {
                Order::Parallel(1) | Order::OneByOne => "one by one".to_string(),
                Order::Parallel(n) => format!("parallel, up to {n}"),
            };
            let keep = match stage.on_failure {
                OnFailure::Stop => "",
                OnFailure::FinishPhase => ", every check runs",
                OnFailure::KeepGoing => ", keep going",
            };
            writeln!(f, "stage {}: {} ({order}{keep})", i + 1, stage.phase)?;
            for step in &stage.steps {
                write!(f, "  [{}] {}", step.host, step.action)?;
                match &step.skip_when {
                    Some(Marker::FileExists(p)) => writeln!(f, "  (skip if {p} exists)")?,
                    Some(Marker::Command(c)) => writeln!(f, "  (skip if `{c}` succeeds)")?,
                    None => writeln!(f)?,
                }
            }
        }
        Ok(())
    }
}
