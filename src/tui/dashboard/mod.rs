//! The install dashboard: a row per host with phase, progress, throughput
//! and ETA, the selected host's live log, overall progress, cancel.

pub mod state;
pub mod view;

use super::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use state::RunState;

/// What a key on the dashboard asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Nothing beyond the screen's own state.
    None,
    /// Cancel the run (no new step; running ones finish).
    Cancel,
    /// Cancel, then leave once the run has stopped.
    CancelAndQuit,
}

/// The install screen.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// The run so far.
    pub run: RunState,
    /// The selected host (its log is shown).
    pub selected: usize,
    /// Whether a cancel was asked for.
    pub cancelling: bool,
}

impl Dashboard {
    /// A dashboard for a run that is starting.
    pub fn new(run: RunState) -> Self {
        Dashboard {
            run,
            selected: 0,
            cancelling: false,
        }
    }

    /// React to a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Msg {
        if let Some(selected) = self.run.select(self.selected, key.code) {
            self.selected = selected;
            return Msg::None;
        }
        match key.code {
            KeyCode::Char('c') => Msg::Cancel,
            KeyCode::Char('q') => Msg::CancelAndQuit,
            _ => Msg::None,
        }
    }

    /// Draw the screen into `area`.
    pub fn render(
        &self,
        f: &mut Frame<'_>,
        area: Rect,
        theme: &Theme,
        now: Option<chrono::DateTime<chrono::Local>>,
    ) {
        view::dashboard(f, area, self, theme, now);
    }
}
