//! Everything that can happen to the wizard becomes an [`Action`]; what
//! the wizard wants done outside itself is an [`Effect`] the event loop
//! performs. `App::update` turns one into the other and is the only
//! place state changes.

use crate::engine::event::Event;
use crate::engine::runner::StepFailure;
use chrono::{DateTime, Local};
use crossterm::event::KeyEvent;

/// Something that happened.
#[derive(Clone, Debug)]
pub enum Action {
    /// A key was pressed.
    Key(KeyEvent),
    /// Time passed (redraws the elapsed time).
    Tick(DateTime<Local>),
    /// The terminal changed size.
    Resize,
    /// The engine reported something about a step.
    Engine(Event),
    /// The run returned.
    RunDone(RunOutcome),
    /// A wizard job answered.
    Wizard(super::wizard::Reply),
}

/// How a run ended.
#[derive(Clone, Debug)]
pub enum RunOutcome {
    /// Every step finished or was skipped.
    Done,
    /// Cancelled: no new step started; the journal holds what finished.
    Cancelled,
    /// Steps failed; later stages did not start.
    Failed(Vec<StepFailure>),
    /// The run could not start or stopped for another reason (hosts
    /// unreachable, the journal not saved).
    Error(String),
}

/// Something the event loop must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Leave the wizard.
    Quit,
    /// Start (or resume) the install of the current target.
    StartRun,
    /// Cancel the running install: no new step starts.
    Cancel,
    /// Run a wizard job.
    Wizard(super::wizard::Job),
}
