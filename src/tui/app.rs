//! The wizard's whole state and its two functions: [`App::update`], the
//! only place state changes (an [`Action`] in, [`Effect`]s out), and
//! [`App::view`], which draws from the state alone.

use super::action::{Action, Effect, RunOutcome};
use super::dashboard::state::RunState;
use super::dashboard::{self, Dashboard};
use super::done::{self, Done};
use super::help;
use super::target::{Doing, Target};
use super::theme::Theme;
use super::wizard::{self, Wizard};
use chrono::{DateTime, Local};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// How the user left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing was running and the last run (if any) was not cancelled.
    Quit,
    /// After the run was cancelled, or left with Ctrl-C.
    Cancelled,
    /// While a run was still stopping (asked twice).
    Abandoned,
}

/// The screen on show.
#[derive(Clone, Debug)]
pub enum Screen {
    /// Choosing what to install.
    Wizard(Box<Wizard>),
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
    /// What is installed, once planned.
    pub target: Option<Target>,
    /// Whether the hosts are simulated (`tug demo`).
    pub demo: bool,
    /// Whether the help overlay is shown.
    pub help: bool,
    /// Leave as soon as the running install has stopped.
    pub quit_when_stopped: bool,
    /// Asking whether to leave the wizard and lose what was entered; true
    /// when Ctrl-C asked (leaving then exits as interrupted).
    pub asking: Option<bool>,
    /// The user left with Ctrl-C.
    pub interrupted: bool,
    /// The time of the latest tick.
    pub now: Option<DateTime<Local>>,
    /// The colours.
    pub theme: Theme,
    /// The wizard as it was when its install started: an install that
    /// did not run goes back to it to fix the hosts or SSH.
    pub edit: Option<Box<Wizard>>,
}

impl App {
    /// The wizard at the start of installing `target`; the loop performs
    /// the returned effects first.
    pub fn installing(target: Target, demo: bool, theme: Theme) -> (App, Vec<Effect>) {
        let run = RunState::new(&target.plan, &target.roles);
        let app = App {
            screen: Screen::Install(Dashboard::new(run)),
            target: Some(target),
            demo,
            help: false,
            quit_when_stopped: false,
            asking: None,
            interrupted: false,
            now: None,
            theme,
            edit: None,
        };
        (app, vec![Effect::StartRun])
    }

    /// The wizard at its first screen.
    pub fn wizard(wizard: Wizard, theme: Theme) -> App {
        App {
            screen: Screen::Wizard(Box::new(wizard)),
            target: None,
            demo: false,
            help: false,
            quit_when_stopped: false,
            asking: None,
            interrupted: false,
            now: None,
            theme,
            edit: None,
        }
    }

    /// How leaving now ends the wizard.
    pub fn exit(&self) -> Exit {
        match &self.screen {
            Screen::Install(_) => Exit::Abandoned,
            _ if self.interrupted => Exit::Cancelled,
            Screen::Done(d) if matches!(d.outcome, RunOutcome::Cancelled) => Exit::Cancelled,
            Screen::Done(_) | Screen::Wizard(_) => Exit::Quit,
        }
    }

    /// What the planned run does (an install until a teardown is planned).
    fn doing(&self) -> Doing {
        self.target
            .as_ref()
            .map(|t| t.doing.clone())
            .unwrap_or_default()
    }

    /// What to print once the terminal is restored: where a ready
    /// cluster's kubeconfig is (nothing for the demo's simulated one), or
    /// that a reset cluster is gone.
    pub fn farewell(&self) -> Option<String> {
        match &self.screen {
            Screen::Done(d) if matches!(d.outcome, RunOutcome::Done(_)) && !self.demo => {
                let path = d.kubeconfig.display();
                Some(match self.target.as_ref().map(|t| (&t.doing, &t.cluster)) {
                    Some((Doing::Reset, name)) => format!(
                        "cluster {name} is reset: every host is clean and its Clusterfile is archived"
                    ),
                    Some((Doing::Upgrade(to), _)) => format!(
                        "cluster upgraded to {to}; kubeconfig: {path}\ntry: kubectl --kubeconfig {path} get nodes"
                    ),
                    _ => format!(
                        "cluster ready; kubeconfig: {path}\ntry: kubectl --kubeconfig {path} get nodes"
                    ),
                })
            }
            _ => None,
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
            Action::Notice(n) => {
                if let Screen::Install(d) = &mut self.screen {
                    d.run.notice(&n.to_string());
                }
                Vec::new()
            }
            Action::RunDone(outcome) => self.run_done(outcome),
            Action::Key(key) => self.key(key),
            Action::Wizard(reply) => {
                let Screen::Wizard(w) = &mut self.screen else {
                    return Vec::new();
                };
                if let Some(target) = w.reply(reply) {
                    self.target = Some(target);
                }
                // A change made while a preview ran asks for the next one.
                match w.pending_job() {
                    wizard::Msg::Job(job) => vec![Effect::Wizard(job)],
                    _ => Vec::new(),
                }
            }
        }
    }

    fn run_done(&mut self, outcome: RunOutcome) -> Vec<Effect> {
        if let Screen::Install(d) = &self.screen {
            let mut run = d.run.clone();
            run.stopped();
            let kubeconfig = self
                .target
                .as_ref()
                .map(|t| t.kubeconfig.clone())
                .unwrap_or_default();
            let mut done = Done::new(run, outcome, kubeconfig, d.selected, self.demo);
            done.editable = self.edit.is_some();
            done.doing = self.doing();
            self.screen = Screen::Done(done);
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
        if let Some(by_ctrl_c) = self.asking.take() {
            let leave = ctrl_c || matches!(key.code, KeyCode::Char('y') | KeyCode::Enter);
            if !leave {
                return Vec::new();
            }
            self.interrupted = by_ctrl_c || ctrl_c;
            return vec![Effect::Quit];
        }
        let has_input = matches!(&self.screen, Screen::Wizard(w) if w.has_input());
        if ctrl_c && has_input {
            self.asking = Some(true);
            return Vec::new();
        }
        if ctrl_c {
            if !matches!(self.screen, Screen::Install(_)) {
                self.interrupted = true;
            }
            return self.cancel(true);
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        let typing = matches!(&self.screen, Screen::Wizard(w) if w.typing());
        if key.code == KeyCode::Char('?') && !typing || key.code == KeyCode::F(1) {
            self.help = true;
            return Vec::new();
        }
        match &mut self.screen {
            Screen::Wizard(w) => match w.handle_key(key) {
                wizard::Msg::None => Vec::new(),
                wizard::Msg::Quit if key.code == KeyCode::Esc && has_input => {
                    self.asking = Some(false);
                    Vec::new()
                }
                wizard::Msg::Quit => vec![Effect::Quit],
                wizard::Msg::Job(job) => vec![Effect::Wizard(job)],
                wizard::Msg::Install => self.install(),
            },
            Screen::Install(d) => match d.handle_key(key) {
                dashboard::Msg::None => Vec::new(),
                dashboard::Msg::Cancel => self.cancel(false),
                dashboard::Msg::CancelAndQuit => self.cancel(true),
            },
            Screen::Done(d) => match d.handle_key(key) {
                done::Msg::None => Vec::new(),
                done::Msg::Quit => vec![Effect::Quit],
                done::Msg::Retry => self.install(),
                done::Msg::Edit => self.back_to_hosts(),
            },
        }
    }

    /// Start (or restart) the install of the planned target; the wizard
    /// it leaves is kept to come back to.
    fn install(&mut self) -> Vec<Effect> {
        let Some(target) = &self.target else {
            return Vec::new();
        };
        let run = RunState::new(&target.plan, &target.roles);
        let name = target.cluster.clone();
        let was = std::mem::replace(&mut self.screen, Screen::Install(Dashboard::new(run)));
        if let Screen::Wizard(mut w) = was {
            // The cluster is this wizard's own now: going back to fix it
            // keeps its name.
            w.clusters.opened = Some(name);
            self.edit = Some(w);
        }
        vec![Effect::StartRun]
    }

    /// Back from an install that did not run to the wizard's hosts screen
    /// (then SSH, configuration and a new plan); from a teardown that did
    /// not run, to the clusters screen.
    fn back_to_hosts(&mut self) -> Vec<Effect> {
        if let Some(mut w) = self.edit.take() {
            // A teardown started from the clusters screen goes back there.
            w.step = if !self.doing().tears_down() {
                wizard::Step::Hosts
            } else {
                w.clusters.takedown = None;
                wizard::Step::Clusters
            };
            self.target = None;
            self.screen = Screen::Wizard(w);
        }
        Vec::new()
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
            Screen::Wizard(w) => w.keys(),
            Screen::Install(_) => &[
                ("↑/↓ j/k", "select a host: its log is shown below"),
                ("c", "cancel: no new step starts; running ones finish"),
                ("q", "cancel, then quit once running steps finished"),
            ],
            Screen::Done(d) if d.can_edit() => &[
                ("↑/↓ j/k", "select a host"),
                ("r", "retry: re-apply, skipping every step that finished"),
                ("e", "edit: back to the hosts and SSH screens to fix them"),
                ("q Esc", "quit"),
                ("PgUp/PgDn", "scroll the summary"),
            ],
            Screen::Done(_) => &[
                ("↑/↓ j/k", "select a host"),
                ("r", "retry: re-apply, skipping every step that finished"),
                ("q Esc", "quit"),
                ("PgUp/PgDn", "scroll the summary"),
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
        let what = match (&self.screen, &self.target) {
            (Screen::Wizard(w), _) => match &w.clusters.opened {
                Some(name) => format!("wizard: cluster {name}"),
                None => "wizard: a new cluster".to_string(),
            },
            (_, None) => "wizard: a new cluster".to_string(),
            (Screen::Install(_), Some(t)) => t.doing.running(t),
            (Screen::Done(_), Some(t)) => t.doing.ended(t),
        };
        let mut title = vec![
            Span::styled(" tug ", theme.accent()),
            Span::styled(what, theme.text()),
        ];
        if self.demo {
            title.push(Span::styled("  demo: simulated hosts", theme.warn()));
        }
        f.render_widget(Paragraph::new(Line::from(title)), header);
        match &self.screen {
            Screen::Wizard(w) => w.render(f, body, theme),
            Screen::Install(d) => d.render(f, body, theme, self.now),
            Screen::Done(d) => d.render(f, body, theme),
        }
        f.render_widget(
            Paragraph::new(footer_line(self.keys(), footer.width)).style(theme.dim()),
            footer,
        );
        if self.help {
            help::render(f, body, self.keys(), theme);
        }
        if self.asking.is_some() {
            help::ask(
                f,
                body,
                "Leave the wizard? What you entered is lost (s on the review saves it).",
                "y or Enter leaves; any other key stays",
                theme,
            );
        }
    }
}

/// The footer: each key with the first words of what it does, or (when
/// those do not all fit in `width`) its first word only; then as many as
/// fit, in the screen's order (the keys that matter first), and always
/// `? help`.
fn footer_line(keys: &[(&str, &str)], width: u16) -> String {
    const HELP: &str = "? help";
    const SEP: &str = "  ·  ";
    let len = |s: &str| s.chars().count();
    let words = |what: &str| {
        what.split([':', '(', ',', ';'])
            .next()
            .unwrap_or(what)
            .trim()
            .to_string()
    };
    let first = |what: &str| {
        let word = what.split_whitespace().next().unwrap_or(what);
        word.trim_end_matches([':', ',', ';']).to_string()
    };
    let join = |hints: &[String]| {
        let mut line = String::from(" ");
        for hint in hints {
            if len(&line) + len(hint) + len(SEP) + len(HELP) > usize::from(width) {
                break;
            }
            line.push_str(hint);
            line.push_str(SEP);
        }
        line.push_str(HELP);
        line
    };
    let long: Vec<String> = keys
        .iter()
        .map(|(k, w)| format!("{k} {}", words(w)))
        .collect();
    let all = long.iter().map(|h| len(h) + len(SEP)).sum::<usize>() + len(HELP) + 1;
    if all <= usize::from(width) {
        return join(&long);
    }
    let short: Vec<String> = keys
        .iter()
        .map(|(k, w)| format!("{k} {}", first(w)))
        .collect();
    join(&short)
}
