//! Starting a run from the wizard: the application layer's install or
//! teardown runs in the background, every engine event becomes an
//! [`Action::Engine`], and one [`Action::RunDone`] follows the last.
//! Notices (a certificate near its end, a status that cannot be saved)
//! go to tug's log and, as [`Action::Notice`], to the dashboard.

use super::action::Action;
use crate::app::session::Outcome;
use crate::app::work::Work;
use crate::app::{AppError, Notice};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Start `work` in the background, its events and then its outcome
/// arriving on `tx`. Cancelling the token returned starts no new step.
pub fn start(work: Work, tx: UnboundedSender<Action>) -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
        let forward = async {
            while let Some(ev) = erx.recv().await {
                let _ = tx.send(Action::Engine(ev));
            }
        };
        let notices = tx.clone();
        let notify = Arc::new(move |n: Notice| {
            tracing::warn!("{n}");
            let _ = notices.send(Action::Notice(n));
        });
        let outcome = match work.lock("tug (wizard)") {
            // The session drops its sender when it ends, so `forward` ends
            // after the last event.
            Ok(_lock) => tokio::join!(work.run(etx, token, notify), forward).0,
            Err(e) => Outcome::Error(AppError::from(anyhow::Error::new(e))),
        };
        let _ = tx.send(Action::RunDone(outcome));
    });
    cancel
}
