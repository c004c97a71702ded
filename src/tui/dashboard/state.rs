//! What the dashboard knows about a run, built only from the plan and the
//! engine's events: per host its steps, phase, bytes, throughput and log.
//! Time comes from the events themselves, so the state is a pure function
//! of what it was fed.

use crate::engine::event::{Event, EventKind, Stream};
use crate::engine::plan::{HostId, Phase, Plan, StepId};
use chrono::{DateTime, Local};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// How many log lines each host keeps.
pub const LOG_LINES: usize = 1000;
/// How many notices a run keeps.
pub const MAX_NOTICES: usize = 20;
/// How far back throughput is measured, in milliseconds.
const WINDOW_MS: i64 = 3000;

/// One line of a host's log pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// What kind of line.
    pub kind: LineKind,
    /// The text.
    pub text: String,
}

/// What a log line is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// A step started.
    Step,
    /// Standard output.
    Out,
    /// Standard error.
    Err,
    /// A failure or a retry.
    Problem,
}

/// Where a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostStatus {
    /// Nothing started yet.
    Waiting,
    /// A step is running in this phase.
    Running(Phase),
    /// Between steps: the last one finished in this phase.
    Idle(Phase),
    /// Every step finished or was skipped.
    Done,
    /// A step failed.
    Failed,
}

/// One host's row.
#[derive(Clone, Debug)]
pub struct HostRow {
    /// The host.
    pub id: HostId,
    /// Its roles, as shown ("master", "node", "this machine").
    pub roles: String,
    /// Steps the plan has for it.
    pub steps: usize,
    /// Steps finished, skipped or failed.
    pub ended: usize,
    /// Steps running now.
    pub running: HashSet<StepId>,
    /// The phase of the latest step.
    pub phase: Option<Phase>,
    /// Whether a step failed.
    pub failed: bool,
    /// Bytes sent and expected per sending step.
    bytes: HashMap<StepId, (u64, Option<u64>)>,
    /// Recent (time, bytes sent in all) samples for the throughput.
    samples: VecDeque<(DateTime<Local>, u64)>,
    /// The log pane's lines.
    pub log: VecDeque<LogLine>,
    /// The furthest the host was shown: its bar never moves back when
    /// counting turns from bytes to steps.
    reached: f64,
}

impl HostRow {
    fn new(id: HostId, roles: String) -> Self {
        HostRow {
            id,
            roles,
            steps: 0,
            ended: 0,
            running: HashSet::new(),
            phase: None,
            failed: false,
            bytes: HashMap::new(),
            samples: VecDeque::new(),
            log: VecDeque::new(),
            reached: 0.0,
        }
    }

    /// Where the host is.
    pub fn status(&self) -> HostStatus {
        match (self.failed, self.phase) {
            (true, _) => HostStatus::Failed,
            _ if self.steps > 0 && self.ended >= self.steps => HostStatus::Done,
            (_, Some(p)) if !self.running.is_empty() => HostStatus::Running(p),
            (_, Some(p)) => HostStatus::Idle(p),
            (_, None) => HostStatus::Waiting,
        }
    }

    /// Bytes sent and, when every sending step said, bytes in all.
    pub fn bytes(&self) -> (u64, Option<u64>) {
        let done = self.bytes.values().map(|(d, _)| d).sum();
        let total = self.bytes.values().map(|(_, t)| *t).sum::<Option<u64>>();
        (done, total)
    }

    /// Whether bytes are being sent (distribution under way).
    pub fn sending(&self) -> bool {
        !self.running.is_empty() && self.phase == Some(Phase::Distribute) && !self.bytes.is_empty()
    }

    /// Bytes per second over the last few seconds, once there are two samples.
    pub fn throughput(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let ms = (last.0 - first.0).num_milliseconds();
        (ms > 0).then(|| (last.1 - first.1) as f64 * 1000.0 / ms as f64)
    }

    /// Seconds until the bytes are sent, at the current throughput.
    pub fn eta(&self) -> Option<u64> {
        let (done, total) = self.bytes();
        let rate = self.throughput().filter(|r| *r > 0.0)?;
        Some(((total?.saturating_sub(done)) as f64 / rate).ceil() as u64)
    }

    /// How far the host is, 0.0 to 1.0: bytes while sending, else steps,
    /// and never less than it was shown before.
    pub fn ratio(&self) -> f64 {
        self.measure().max(self.reached)
    }

    /// How far the host is by what it is counting now.
    fn measure(&self) -> f64 {
        if self.sending()
            && let (done, Some(total)) = self.bytes()
            && total > 0
        {
            return (done as f64 / total as f64).min(1.0);
        }
        if self.steps == 0 {
            return 0.0;
        }
        (self.ended as f64 / self.steps as f64).min(1.0)
    }

    fn push(&mut self, kind: LineKind, text: impl Into<String>) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            kind,
            text: text.into(),
        });
    }

    fn progress(&mut self, at: DateTime<Local>, step: &StepId, done: u64, total: Option<u64>) {
        self.bytes.insert(step.clone(), (done, total));
        let sum = self.bytes().0;
        self.samples.push_back((at, sum));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| (at - *t).num_milliseconds() > WINDOW_MS)
            && self.samples.len() > 2
        {
            self.samples.pop_front();
        }
    }
}

/// The whole run as the dashboard shows it.
#[derive(Clone, Debug)]
pub struct RunState {
    /// A row per host, in plan order (the machine running tug last).
    pub hosts: Vec<HostRow>,
    /// When the first event came.
    pub started: Option<DateTime<Local>>,
    /// Each host's row in `hosts`: an event finds its host at once, however
    /// many hosts there are.
    index: HashMap<HostId, usize>,
    /// What the run told the user on its way (a certificate near its end),
    /// as `warning: …` lines; the first [`MAX_NOTICES`] are kept.
    pub notices: Vec<String>,
}

impl RunState {
    /// The host row selected after an ↑/↓ (or k/j) key from `selected`;
    /// `None` for any other key.
    pub fn select(&self, selected: usize, key: crossterm::event::KeyCode) -> Option<usize> {
        use crossterm::event::KeyCode;
        match key {
            KeyCode::Up | KeyCode::Char('k') => Some(selected.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => {
                Some((selected + 1).min(self.hosts.len().saturating_sub(1)))
            }
            _ => None,
        }
    }

    /// Rows for every host of `plan`, with `roles` naming each host's roles.
    pub fn new(plan: &Plan, roles: &BTreeMap<HostId, String>) -> Self {
        let mut run = RunState {
            hosts: Vec::new(),
            started: None,
            index: HashMap::new(),
            notices: Vec::new(),
        };
        for (id, r) in roles {
            run.row(id, r);
        }
        for step in plan.steps() {
            let role = if step.host.as_str() == crate::engine::install::JUMP_HOST {
                "this machine"
            } else {
                ""
            };
            let i = run.row(&step.host, role);
            run.hosts[i].steps += 1;
        }
        run
    }

    /// The row of `id`, added with `roles` when it has none yet.
    fn row(&mut self, id: &HostId, roles: &str) -> usize {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        self.hosts.push(HostRow::new(id.clone(), roles.to_string()));
        self.index.insert(id.clone(), self.hosts.len() - 1);
        self.hosts.len() - 1
    }

    /// Take a notice of the run (one line, made safe for the terminal).
    pub fn notice(&mut self, text: &str) {
        if self.notices.len() < MAX_NOTICES {
            let line = crate::sanitize::terminal_safe(text).replace('\n', " ");
            self.notices.push(line);
        }
    }

    /// Steps ended and steps in all.
    pub fn overall(&self) -> (usize, usize) {
        self.hosts
            .iter()
            .fold((0, 0), |(e, s), h| (e + h.ended.min(h.steps), s + h.steps))
    }

    /// The run returned: steps it did not finish (cancelled) no longer run.
    pub fn stopped(&mut self) {
        for h in &mut self.hosts {
            h.running.clear();
        }
    }

    /// Take one engine event into account.
    pub fn apply(&mut self, ev: &Event) {
        self.started.get_or_insert(ev.at);
        let i = self.row(&ev.host, "");
        let h = &mut self.hosts[i];
        // What was shown before this event changes what is counted.
        h.reached = h.ratio();
        h.phase = Some(ev.phase);
        match &ev.kind {
            EventKind::Started { what } => {
                h.running.insert(ev.step.clone());
                let first = what.lines().next().unwrap_or_default();
                let short: String = first.chars().take(160).collect();
                h.push(LineKind::Step, format!("▶ {}: {short}", ev.phase));
            }
            // Only distribution counts: a clock or join secrets sent on stdin are not the rootfs.
            EventKind::Progress { done, total } if ev.phase == Phase::Distribute => {
                h.progress(ev.at, &ev.step, *done, *total);
            }
            EventKind::Progress { .. } => {}
            EventKind::Log { stream, line } => {
                let kind = match stream {
                    Stream::Stdout => LineKind::Out,
                    Stream::Stderr => LineKind::Err,
                };
                h.push(kind, line.clone());
            }
            EventKind::Retrying { attempt, error } => {
                h.push(
                    LineKind::Problem,
                    format!("retrying (attempt {attempt}): {error}"),
                );
            }
            EventKind::Finished | EventKind::Skipped { .. } => {
                h.running.remove(&ev.step);
                h.ended += 1;
            }
            EventKind::Failed { error } => {
                h.running.remove(&ev.step);
                h.ended += 1;
                h.failed = true;
                h.push(LineKind::Problem, format!("✗ {error}"));
            }
        }
        h.reached = h.ratio();
    }
}
