//! Everything that can happen to the wizard becomes an [`Action`]; what
//! the wizard wants done outside itself is an [`Effect`] the event loop
//! performs. `App::update` turns one into the other and is the only
//! place state changes.

pub use crate::app::session::Outcome as RunOutcome;
use crate::engine::event::Event;
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
    /// The run told the user something on its way (a warning).
    Notice(crate::app::Notice),
    /// The run returned.
    RunDone(RunOutcome),
    /// A wizard job answered.
    Wizard(super::wizard::Reply),
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
