//! The done screen: the hosts as the run left them, then the kubeconfig
//! of a ready cluster, or what failed (host, command, exit code, last
//! lines), with `r` to retry: a re-apply that skips what finished.

use super::dashboard::state::RunState;
use super::dashboard::view::{hosts_table, log_pane};
use super::target::Doing;
use super::theme::Theme;
use super::wrap::wrap;
use crate::app::session::Outcome as RunOutcome;
use crate::engine::event::FailCause;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use std::path::PathBuf;

/// What a key on the done screen asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Nothing beyond the screen's own state.
    None,
    /// Run the install again (resume).
    Retry,
    /// Leave.
    Quit,
    /// Back to the wizard's hosts and SSH screens (the install did not run).
    Edit,
}

/// The screen after a run.
#[derive(Clone, Debug)]
pub struct Done {
    /// The hosts as the run left them.
    pub run: RunState,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Where the kubeconfig is.
    pub kubeconfig: PathBuf,
    /// The selected host.
    pub selected: usize,
    /// Whether the hosts were simulated (no cluster exists).
    pub demo: bool,
    /// The summary's first line shown (PgUp/PgDn scroll a long failure).
    pub scroll: u16,
    /// The install came from the wizard, which it can go back to.
    pub editable: bool,
    /// What the run did to the cluster.
    pub doing: Doing,
    /// The summary's width when last drawn: how far its wrapped rows scroll.
    width: std::cell::Cell<u16>,
}

impl Done {
    /// The screen for a run that ended with `outcome`.
    pub fn new(
        run: RunState,
        outcome: RunOutcome,
        kubeconfig: PathBuf,
        selected: usize,
        demo: bool,
    ) -> Self {
        Done {
            run,
            outcome,
            kubeconfig,
            selected,
            demo,
            scroll: 0,
            editable: false,
            doing: Doing::Install,
            width: std::cell::Cell::new(80),
        }
    }

    /// React to a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Msg {
        if let Some(selected) = self.run.select(self.selected, key.code) {
            self.selected = selected;
            return Msg::None;
        }
        match key.code {
            KeyCode::PageDown => {
                let width = usize::from(self.width.get()).max(1);
                let rows: usize = self
                    .summary(&Theme::default())
                    .2
                    .iter()
                    .map(|l| {
                        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                        wrap(&text, width).len()
                    })
                    .sum();
                let last = rows.saturating_sub(1);
                self.scroll = (self.scroll + 5).min(u16::try_from(last).unwrap_or(u16::MAX));
                Msg::None
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(5);
                Msg::None
            }
            KeyCode::Char('r') if !matches!(self.outcome, RunOutcome::Done(_)) => Msg::Retry,
            KeyCode::Char('e') if self.can_edit() => Msg::Edit,
            KeyCode::Char('q') | KeyCode::Esc => Msg::Quit,
            _ => Msg::None,
        }
    }

    /// Whether `e` goes back to the wizard: the install came from it and
    /// did not run (nothing changed on any host).
    pub fn can_edit(&self) -> bool {
        self.editable && matches!(self.outcome, RunOutcome::Error(_))
    }

    /// Draw the screen into `area`.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let table_height = (self.run.hosts.len() as u16 + 3)
            .min(area.height / 3)
            .max(4);
        let [table, summary, log] = Layout::vertical([
            Constraint::Length(table_height),
            Constraint::Min(6),
            Constraint::Length(area.height / 4),
        ])
        .areas(area);
        hosts_table(f, table, &self.run, self.selected, true, theme);
        self.width.set(summary.width.saturating_sub(2));
        let (title, style, lines) = self.summary(theme);
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(Block::bordered().title(title).border_style(style)),
            summary,
        );
        log_pane(f, log, self.run.hosts.get(self.selected), theme);
    }

    /// The summary's title, colour and lines: how the run ended, then what
    /// it told the user on its way.
    fn summary(&self, theme: &Theme) -> (String, ratatui::style::Style, Vec<Line<'_>>) {
        let (title, style, mut lines) = self.ending(theme);
        lines.extend(
            self.run
                .notices
                .iter()
                .map(|n| Line::styled(n.as_str(), theme.warn())),
        );
        (title, style, lines)
    }

    fn ending(&self, theme: &Theme) -> (String, ratatui::style::Style, Vec<Line<'_>>) {
        match &self.outcome {
            RunOutcome::Done(_) if self.doing.tears_down() => self.torn_down(theme),
            RunOutcome::Done(_) => {
                let hint = if self.demo {
                    "demo: the hosts and this kubeconfig are simulated; no cluster exists"
                        .to_string()
                } else {
                    format!(
                        "try: kubectl --kubeconfig {} get nodes",
                        self.kubeconfig.display()
                    )
                };
                let (title, done) = match &self.doing {
                    Doing::Upgrade(to) => (" cluster upgraded ", format!("Every host runs {to}.")),
                    _ => (" cluster ready ", "Every host is installed.".to_string()),
                };
                (
                    title.to_string(),
                    theme.ok(),
                    vec![
                        Line::styled(done, theme.ok()),
                        Line::from(format!("kubeconfig: {}", self.kubeconfig.display())),
                        Line::styled(hint, theme.dim()),
                    ],
                )
            }
            RunOutcome::Cancelled => (
                " cancelled ".to_string(),
                theme.warn(),
                vec![
                    Line::styled(
                        "Cancelled: no new step started; running ones finished.",
                        theme.warn(),
                    ),
                    Line::from("r resumes: steps that finished are skipped."),
                ],
            ),
            RunOutcome::Error(e) => (
                format!(" {} did not run ", self.doing.noun()),
                theme.error(),
                e.lines()
                    .into_iter()
                    .map(|l| Line::styled(l, theme.error()))
                    .chain([Line::from(match (self.editable, &self.doing) {
                        (false, _) => "r tries again.",
                        (true, d) if d.tears_down() => {
                            "r tries again; e goes back to the list of clusters."
                        }
                        (true, _) => {
                            "r tries again; e goes back to the hosts and SSH screens to fix them."
                        }
                    })])
                    .collect(),
            ),
            RunOutcome::Failed(failures) => {
                let mut lines = Vec::new();
                for fl in failures {
                    lines.push(Line::styled(
                        format!("✗ [{}] {}: `{}`", fl.host, fl.phase, fl.error.command),
                        theme.error(),
                    ));
                    let why = match &fl.error.cause {
                        FailCause::Exit(code) => format!("  exit code {code}"),
                        FailCause::TimedOut(t) => format!("  timed out after {}s", t.as_secs()),
                        FailCause::Connection(e) => format!("  connection: {e}"),
                        FailCause::Other(e) => format!("  {e}"),
                    };
                    lines.push(Line::from(why));
                    for l in &fl.error.last_lines {
                        lines.push(Line::styled(format!("  | {l}"), theme.dim()));
                    }
                    lines.push(Line::styled(
                        format!("  whole output: {}", fl.log.display()),
                        theme.dim(),
                    ));
                }
                lines.push(Line::from(if !self.doing.tears_down() {
                    "r retries: a re-apply that skips every step that finished."
                } else {
                    "r retries: every host's teardown runs again; a host already clean stays clean."
                }));
                (
                    format!(" {} failed ", self.doing.noun()),
                    theme.error(),
                    lines,
                )
            }
        }
    }

    /// The summary of a teardown that finished.
    fn torn_down(&self, theme: &Theme) -> (String, ratatui::style::Style, Vec<Line<'_>>) {
        match &self.doing {
            Doing::Remove(hosts) => (
                " hosts removed ".to_string(),
                theme.ok(),
                vec![
                    Line::styled(
                        format!(
                            "{hosts}: drained, deleted from Kubernetes and reset; \
                             the other hosts follow the new set."
                        ),
                        theme.ok(),
                    ),
                    Line::from(format!("kubeconfig: {}", self.kubeconfig.display())),
                ],
            ),
            _ => (
                " cluster reset ".to_string(),
                theme.ok(),
                vec![
                    Line::styled(
                        "Every host is clean: kubeadm reset, the image's clean scripts, \
                         tug's files removed.",
                        theme.ok(),
                    ),
                    Line::from("The cluster's Clusterfile is archived in its state dir."),
                ],
            ),
        }
    }
}
