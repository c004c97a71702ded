//! The wizard's whole state and its two functions: [`App::update`], the
//! only place state changes (an [`Action`] in, [`Effect`]s out), and
//! [`App::view`], which draws from the state alone.

use super::action::{Action, Effect, RunOutcome};
use super::dashboard::state::RunState;
use super::dashboard::{self, Dashboard};
use super::done::{self, Done};
use super::help;
use super::theme::Theme;
use crate::engine::plan::{HostId, Plan};
use chrono::{DateTime, Local};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What is being installed: the plan and how to show it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The cluster's name.
    pub cluster: String,
    /// The cluster image (the first image), as shown.
    pub image: String,
    /// The install plan.
    pub plan: Plan,
    /// Each host's roles, as shown.
    pub roles: BTreeMap<HostId, String>,
    /// Where the kubeconfig lands.
    pub kubeconfig: PathBuf,
}

/// How the user left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing was running and the last run (if any) was not cancelled.
    Quit,
    /// After the run was cancelled.
    Cancelled,
    /// While a run was still stopping (asked twice).
    Abandoned,
}

/// The screen on show.
#[derive(Clone, Debug)]
pub enum Screen {
    /// An install is running.
    Install(Dashboard),
    /// An install ended.
    Done(Done),
}

/// All of the wizard's state.
#[derive(Clone, Debug)]
pub struct App {
    /// The screen on show.
    pub screen: Screen,
    /// What is installed.
    pub target: Target,
    /// Whether the hosts are simulated (`tug demo`).
    pub demo: bool,
    /// Whether the help overlay is shown.
    pub help: bool,
    /// Leave as soon as the running install has stopped.
    pub quit_when_stopped: bool,
    /// The time of the latest tick.
    pub now: Option<DateTime<Local>>,
    /// The colours.
    pub theme: Theme,
}

impl App {
    /// The wizard at the start of installing `target`; the loop performs
    /// the returned effects first.
    pub fn installing(target: Target, demo: bool, theme: Theme) -> (App, Vec<Effect>) {
        let run = RunState::new(&target.plan, &target.roles);
        let app = App {
            screen: Screen::Install(Dashboard::new(run)),
            target,
            demo,
            help: false,
            quit_when_stopped: false,
            now: None,
            theme,
        };
        (app, vec![Effect::StartRun])
    }

    /// How leaving now ends the wizard.
    pub fn exit(&self) -> Exit {
        match &self.screen {
            Screen::Install(_) => Exit::Abandoned,
            Screen::Done(d) if matches!(d.outcome, RunOutcome::Cancelled) => Exit::Cancelled,
            Screen::Done(_) => Exit::Quit,
        }
    }

    /// Take `action` into account; returns what the loop must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Tick(now) => {
                self.now = Some(now);
                Vec::new()
            }
            Action::Resize => Vec::new(),
            Action::Engine(ev) => {
                if let Screen::Install(d) = &mut self.screen {
                    d.run.apply(&ev);
                }
                Vec::new()
            }
            Action::RunDone(outcome) => self.run_done(outcome),
            Action::Key(key) => self.key(key),
        }
    }

    fn run_done(&mut self, outcome: RunOutcome) -> Vec<Effect> {
        if let Screen::Install(d) = &self.screen {
            let mut run = d.run.clone();
            run.stopped();
            let kubeconfig = self.target.kubeconfig.clone();
            self.screen = Screen::Done(Done::new(run, outcome, kubeconfig, d.selected, self.demo));
        }
        if self.quit_when_stopped {
            vec![Effect::Quit]
        } else {
            Vec::new()
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        if ctrl_c {
            return self.cancel(true);
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if key.code == KeyCode::Char('?') {
            self.help = true;
            return Vec::new();
        }
        match &mut self.screen {
            Screen::Install(d) => match d.handle_key(key) {
                dashboard::Msg::None => Vec::new(),
                dashboard::Msg::Cancel => self.cancel(false),
                dashboard::Msg::CancelAndQuit => self.cancel(true),
            },
            Screen::Done(d) => match d.handle_key(key) {
                done::Msg::None => Vec::new(),
                done::Msg::Quit => vec![Effect::Quit],
                done::Msg::Retry => {
                    let run = RunState::new(&self.target.plan, &self.target.roles);
                    self.screen = Screen::Install(Dashboard::new(run));
                    vec![Effect::StartRun]
                }
            },
        }
    }

    /// Cancel a running install (and leave once it stopped when `quit`);
    /// asked again while cancelling, or with nothing running, leave now.
    fn cancel(&mut self, quit: bool) -> Vec<Effect> {
        let Screen::Install(d) = &mut self.screen else {
            return if quit { vec![Effect::Quit] } else { Vec::new() };
        };
        self.quit_when_stopped |= quit;
        if d.cancelling {
            return if quit { vec![Effect::Quit] } else { Vec::new() };
        }
        d.cancelling = true;
        vec![Effect::Cancel]
    }

    /// The keys of the current screen, for the help overlay and footer.
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        match &self.screen {
            Screen::Install(_) => &[
                ("↑/↓ j/k", "select a host: its log is shown below"),
                ("c", "cancel: no new step starts; running ones finish"),
                ("q", "cancel, then quit once running steps finished"),
            ],
            Screen::Done(_) => &[
                ("↑/↓ j/k", "select a host"),
                ("r", "retry: re-apply, skipping every step that finished"),
                ("q Esc", "quit"),
            ],
        }
    }

    /// Draw everything from the state.
    pub fn view(&self, f: &mut Frame<'_>) {
        let theme = &self.theme;
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(1),
        ])
        .areas(f.area());
        let what = match &self.screen {
            Screen::Install(_) => "installing",
            Screen::Done(_) => "install of",
        };
        let mut title = vec![
            Span::styled(" tug ", theme.accent()),
            Span::styled(
                format!(
                    "{what} cluster {} ({})",
                    self.target.cluster, self.target.image
                ),
                theme.text(),
            ),
        ];
        if self.demo {
            title.push(Span::styled("  demo: simulated hosts", theme.warn()));
        }
        f.render_widget(Paragraph::new(Line::from(title)), header);
        match &self.screen {
            Screen::Install(d) => d.render(f, body, theme, self.now),
            Screen::Done(d) => d.render(f, body, theme),
        }
        let hints: Vec<String> = self
            .keys()
            .iter()
            .map(|(k, what)| format!("{k} {}", what.split(':').next().unwrap_or(what)))
            .chain(["? help".to_string()])
            .collect();
        f.render_widget(
            Paragraph::new(format!(" {}", hints.join("  ·  "))).style(theme.dim()),
            footer,
        );
        if self.help {
            help::render(f, body, self.keys(), theme);
        }
    }
}
