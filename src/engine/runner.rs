//! Executes a [`Plan`] over one [`Transport`] per host: stage after stage;
//! within a stage up to its parallel limit, or one by one; a timeout per
//! step; bounded retries with backoff for connection errors only. The
//! first failure lets the stage's running steps finish, starts nothing
//! new, and returns every failure with its host, command, exit code and
//! last output lines. Cancelling starts no new step, stops running
//! transfers at once (a layer's marker is only written once it is whole,
//! so the next run sends it again) and lets running commands finish or
//! time out. Every finished step is saved to the journal at
//! once, so the next run skips it; every host's output is appended to
//! `<log dir>/<host>.log`; events report everything.

use super::command::Secret;
use super::event::{Event, EventKind, FailCause, SkipReason, StageDone, StepError};
use super::journal::Journal;
use super::plan::{HostId, OnFailure, Order, Phase, Plan, Step, StepId};
use super::step::Emitter;
use super::transport::Transport;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

mod error;
mod run_step;
mod verify;
pub use error::{RunError, StepFailure};
use run_step::Outcome;

/// How the runner treats steps.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// A step's timeout unless its action sets one.
    pub step_timeout: Duration,
    /// Extra attempts after a connection error.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    /// The largest file a fetch accepts.
    pub fetch_limit: u64,
    /// How many last output lines a failure keeps.
    pub last_lines: usize,
    /// Values masked in every line (e.g. the sudo password).
    pub secrets: Vec<Secret>,
    /// Ask each host first whether it still holds what the journal says
    /// (off only for the demo's simulated hosts, which keep no files).
    pub verify_hosts: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            step_timeout: Duration::from_secs(3600),
            retries: 2,
            backoff: Duration::from_secs(1),
            fetch_limit: 4 << 20,
            last_lines: 20,
            secrets: Vec::new(),
            verify_hosts: true,
        }
    }
}

/// What a successful run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Steps that ran.
    pub executed: usize,
    /// Steps skipped (journal or marker).
    pub skipped: usize,
    /// Bytes streamed to each host of the plan (0 when nothing was sent).
    pub bytes_sent: BTreeMap<HostId, u64>,
}

/// Runs plans over a fixed set of hosts.
pub struct Runner {
    hosts: HashMap<HostId, Arc<dyn Transport>>,
    log_dir: PathBuf,
    events: UnboundedSender<Event>,
    stages: Option<UnboundedSender<StageDone>>,
    cancel: CancellationToken,
    options: RunOptions,
}

impl Runner {
    /// A runner over `hosts`, logging to `<log_dir>/<host>.log`, sending events to `events`.
    pub fn new(
        hosts: HashMap<HostId, Arc<dyn Transport>>,
        log_dir: impl Into<PathBuf>,
        events: UnboundedSender<Event>,
    ) -> Self {
        Runner {
            hosts,
            log_dir: log_dir.into(),
            events,
            stages: None,
            cancel: CancellationToken::new(),
            options: RunOptions::default(),
        }
    }

    /// Use these options.
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// Stop starting steps when `cancel` is cancelled (Ctrl-C).
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Report every stage that finished without a failure to `stages`
    /// (after the events of its steps), so a front-end can record progress.
    pub fn with_stage_reports(mut self, stages: UnboundedSender<StageDone>) -> Self {
        self.stages = Some(stages);
        self
    }

    /// Run `plan`. Steps the journal holds are skipped; the journal forgets
    /// steps not in this plan (so give each lifecycle of a cluster its own
    /// journal file) and is saved after every finished step.
    pub async fn run(&self, plan: &Plan, journal: &mut Journal) -> Result<Report, RunError> {
        plan.validate()?;
        if let Some(step) = plan.steps().find(|s| !self.hosts.contains_key(&s.host)) {
            return Err(RunError::UnknownHost(step.host.clone()));
        }
        let logs = self.open_logs(plan)?;
        let ids: HashSet<&StepId> = plan.steps().map(|s| &s.id).collect();
        journal.retain(|id| ids.contains(id));
        let mut report = Report {
            bytes_sent: logs.keys().map(|h| (h.clone(), 0)).collect(),
            ..Report::default()
        };
        // Hosts that lost what the journal says they have redo their steps.
        let lost = if self.options.verify_hosts {
            verify::lost_hosts(&self.hosts, plan, journal).await
        } else {
            HashSet::new()
        };
        let host_of: HashMap<&StepId, &HostId> = plan.steps().map(|s| (&s.id, &s.host)).collect();
        let finished = |journal: &Journal, id: &StepId| {
            journal.is_done(id) && !host_of.get(id).is_some_and(|h| lost.contains(*h))
        };
        // Failures of keep-going stages, and the hosts they found unreachable.
        let mut kept: Vec<StepFailure> = Vec::new();
        let mut unreachable: HashSet<HostId> = HashSet::new();
        // Whether a check stage of the current phase failed.
        let mut gathered = false;
        for (index, stage) in plan.stages.iter().enumerate() {
            if self.cancel.is_cancelled() {
                journal.save()?;
                return Err(RunError::Cancelled);
            }
            let limit = match stage.order {
                Order::Parallel(n) => n,
                Order::OneByOne => 1,
            };
            // A host's steps in a stage run one at a time, in plan order
            // (its layers unpack in order); different hosts run in parallel.
            let mut pending: Vec<&Step> = stage.steps.iter().collect();
            let mut busy: HashSet<HostId> = HashSet::new();
            let mut running = FuturesUnordered::new();
            let mut failures = Vec::new();
            let mut fatal = None;
            let mut cancelled = false;
            loop {
                // After a failure, a one-by-one stage starts nothing more; a
                // parallel one still finishes the other hosts' steps (their
                // work is kept for the re-run), but none of the failed host's.
                let halted = !failures.is_empty()
                    && !stage.on_failure.continues()
                    && matches!(stage.order, Order::OneByOne);
                while running.len() < limit
                    && !halted
                    && fatal.is_none()
                    && !self.cancel.is_cancelled()
                {
                    let Some(next) = pending.iter().position(|s| !busy.contains(&s.host)) else {
                        break;
                    };
                    let step = pending.remove(next);
                    if stage.on_failure.continues() && unreachable.contains(&step.host) {
                        failures.push(self.not_tried(stage.phase, step));
                        continue;
                    }
                    if !stage.on_failure.continues() && failures.iter().any(|f| f.host == step.host)
                    {
                        continue;
                    }
                    let done = !lost.contains(&step.host)
                        && match step.fresh_for {
                            None => journal.is_done(&step.id),
                            Some(age) => journal.is_fresh(&step.id, age),
                        };
                    let needed = step.needed_by.is_empty()
                        || step.needed_by.iter().any(|id| !finished(journal, id));
                    if done || !needed {
                        let reason = if needed {
                            SkipReason::Journal
                        } else {
                            SkipReason::NotNeeded
                        };
                        self.emitter(stage.phase, step)
                            .emit(EventKind::Skipped { reason });
                        report.skipped += 1;
                        continue;
                    }
                    busy.insert(step.host.clone());
                    running.push(self.step(stage.phase, step, &logs[&step.host]));
                }
                let Some((step, outcome)) = running.next().await else {
                    break;
                };
                busy.remove(&step.host);
                match outcome {
                    Outcome::Failed(error) => {
                        if stage.on_failure.continues()
                            && matches!(error.cause, FailCause::Connection(_))
                        {
                            unreachable.insert(step.host.clone());
                        }
                        failures.push(StepFailure {
                            host: step.host.clone(),
                            phase: stage.phase,
                            step: step.id.clone(),
                            error,
                            log: self.log_path(&step.host),
                        });
                    }
                    Outcome::Cancelled => cancelled = true,
                    Outcome::Done { bytes } => {
                        report.executed += 1;
                        *report.bytes_sent.entry(step.host.clone()).or_default() += bytes;
                        journal.mark_done(step.id.clone());
                    }
                    Outcome::Skipped => {
                        report.skipped += 1;
                        journal.mark_done(step.id.clone());
                    }
                }
                if fatal.is_none() {
                    fatal = journal.save().err();
                }
            }
            if let Some(e) = fatal {
                return Err(e.into());
            }
            let failed = !failures.is_empty();
            kept.extend(failures);
            gathered |= failed && stage.on_failure == OnFailure::FinishPhase;
            let phase_ends = plan.stages.get(index + 1).map(|s| s.phase) != Some(stage.phase);
            if (failed && stage.on_failure == OnFailure::Stop) || (gathered && phase_ends) {
                return Err(RunError::Failed(kept));
            }
            if cancelled || !pending.is_empty() {
                journal.save()?;
                return Err(RunError::Cancelled);
            }
            if !failed && let Some(stages) = &self.stages {
                // A front-end that stopped listening does not stop the run.
                let _ = stages.send(StageDone::of(plan, index));
            }
        }
        journal.save()?;
        if kept.is_empty() {
            Ok(report)
        } else {
            Err(RunError::Failed(kept))
        }
    }

    /// A step of a host found unreachable earlier in a keep-going run:
    /// reported as failed without trying it again.
    fn not_tried(&self, phase: Phase, step: &Step) -> StepFailure {
        let error = StepError {
            command: step.shown_command(),
            cause: FailCause::Connection(
                "not tried: the host was unreachable earlier in this run".into(),
            ),
            last_lines: Vec::new(),
        };
        self.emitter(phase, step).emit(EventKind::Failed {
            error: error.clone(),
        });
        StepFailure {
            host: step.host.clone(),
            phase,
            step: step.id.clone(),
            error,
            log: self.log_path(&step.host),
        }
    }

    fn log_path(&self, host: &HostId) -> PathBuf {
        self.log_dir.join(format!("{}.log", host.file_stem()))
    }

    fn emitter<'a>(&'a self, phase: Phase, step: &'a Step) -> Emitter<'a> {
        Emitter {
            events: &self.events,
            phase,
            step,
        }
    }

    fn open_logs(&self, plan: &Plan) -> Result<HashMap<HostId, Mutex<File>>, RunError> {
        let hosts: BTreeSet<&HostId> = plan.steps().map(|s| &s.host).collect();
        let mut logs = HashMap::new();
        for host in hosts {
            let path = self.log_path(host);
            let file = std::fs::create_dir_all(&self.log_dir).and_then(|()| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&path)
            });
            let file = file.map_err(|source| RunError::Log { path, source })?;
            logs.insert(host.clone(), Mutex::new(file));
        }
        Ok(logs)
    }
}
