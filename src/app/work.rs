//! What a face runs, as one thing: an apply (install, resume, added
//! hosts, upgrade) or a teardown (delete, reset). Both faces show its plan,
//! hold the cluster's lock and run it the same way.

use super::lock::{ClusterLock, LockError};
use super::session::{Notifier, Outcome, Session};
use super::teardown::Teardown;
use crate::engine::event::Event;
use crate::engine::plan::Plan;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A run ready to start.
#[derive(Clone)]
pub enum Work {
    /// An install, resume, added hosts or an upgrade.
    Apply(Box<Session>),
    /// A delete or reset.
    Teardown(Box<Teardown>),
}

impl Work {
    /// Everything the run does, for the faces to show.
    pub fn plan(&self) -> Plan {
        match self {
            Work::Apply(s) => s.plan.clone(),
            Work::Teardown(t) => t.whole_plan(),
        }
    }

    /// Hold the cluster's lock as `command` (the demo has none).
    pub fn lock(&self, command: &str) -> Result<Option<ClusterLock>, LockError> {
        match self {
            Work::Apply(s) => s.lock(command),
            Work::Teardown(t) => t.lock(command).map(Some),
        }
    }

    /// Run it: events to `events`, notices to `notify`; cancelling
    /// `cancel` starts no new step.
    pub async fn run(
        &self,
        events: UnboundedSender<Event>,
        cancel: CancellationToken,
        notify: Notifier,
    ) -> Outcome {
        match self {
            Work::Apply(s) => s.run(events, cancel, notify).await,
            Work::Teardown(t) => t.run(events, cancel, notify).await,
        }
    }
}

impl From<Session> for Work {
    fn from(s: Session) -> Self {
        Work::Apply(Box::new(s))
    }
}

impl From<Teardown> for Work {
    fn from(t: Teardown) -> Self {
        Work::Teardown(Box::new(t))
    }
}
