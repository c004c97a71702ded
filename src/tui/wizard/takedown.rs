//! Taking hosts out of an installed cluster, or the whole cluster down,
//! from the clusters screen: `d` lists the cluster's hosts to mark (Space)
//! and plans their removal, `r` plans the reset; the plan is shown with
//! what it does to the hosts, and only Enter on it starts the run (as
//! `tug delete` and `tug reset --force` ask first). Esc leaves without
//! changing anything.

use super::scroll::Scroll;
use super::{Flow, Job, Keys};
use crate::app::clusters::{Installed, Member};
use crate::cluster::hosts::Address;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use std::net::IpAddr;

/// What the clusters screen asks the application to take down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Takedown {
    /// These hosts, out of the cluster.
    Delete {
        /// The cluster.
        cluster: String,
        /// The hosts to take out.
        hosts: Vec<IpAddr>,
    },
    /// The whole cluster, on every host.
    Reset {
        /// The cluster.
        cluster: String,
    },
}

/// Where a takedown is.
#[derive(Clone, Debug)]
enum Stage {
    /// Marking the hosts to take out.
    Pick,
    /// Waiting for the plan.
    Planning,
    /// The plan, waiting for Enter.
    Confirm {
        /// What the run does, then the plan, a line each.
        lines: Vec<String>,
        /// How far they are scrolled.
        scroll: Scroll,
    },
}

/// A takedown of one cluster, from marking hosts to the confirmed plan.
#[derive(Clone, Debug)]
pub struct TakedownPanel {
    /// The cluster's name.
    pub cluster: String,
    /// Its hosts.
    members: Vec<Member>,
    /// Which of them are marked to take out.
    marked: Vec<bool>,
    /// The host under the cursor.
    at: usize,
    /// A reset (else a delete).
    reset: bool,
    stage: Stage,
    /// Why the last plan failed, or what to do.
    pub note: Option<String>,
}

/// Keys while marking hosts.
const PICK_KEYS: Keys = &[
    ("Space", "mark a host to take out"),
    ("Enter", "plan their removal (shown before anything runs)"),
    ("↑/↓", "select a host"),
    ("Esc", "back to the clusters"),
];
/// Keys while the plan is shown.
const CONFIRM_KEYS: Keys = &[
    ("Enter", "start it"),
    ("Esc", "back: nothing is done"),
    ("↑/↓ PgUp/PgDn", "scroll the plan"),
];

impl TakedownPanel {
    /// Start marking the hosts of `cluster` to take out.
    pub fn delete(cluster: &Installed) -> Self {
        TakedownPanel {
            cluster: cluster.name.clone(),
            members: cluster.members.clone(),
            marked: vec![false; cluster.members.len()],
            at: 0,
            reset: false,
            stage: Stage::Pick,
            note: None,
        }
    }

    /// Plan the reset of `cluster`; the job to ask for it.
    pub fn reset(cluster: &Installed) -> (Self, Job) {
        let panel = TakedownPanel {
            cluster: cluster.name.clone(),
            members: cluster.members.clone(),
            marked: Vec::new(),
            at: 0,
            reset: true,
            stage: Stage::Planning,
            note: None,
        };
        let job = Job::Teardown(Takedown::Reset {
            cluster: cluster.name.clone(),
        });
        (panel, job)
    }

    /// The keys of its stage.
    pub fn keys(&self) -> Keys {
        match self.stage {
            Stage::Pick => PICK_KEYS,
            Stage::Planning | Stage::Confirm { .. } => CONFIRM_KEYS,
        }
    }

    /// Whether a plan is awaited.
    pub fn planning(&self) -> bool {
        matches!(self.stage, Stage::Planning)
    }

    /// React to a key; `None` when the panel closes.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Flow> {
        if key.code == KeyCode::Esc {
            return match (&self.stage, self.reset) {
                // Back from the plan of a delete to the marks.
                (Stage::Confirm { .. } | Stage::Planning, false) => {
                    self.stage = Stage::Pick;
                    Some(Flow::Stay)
                }
                _ => None,
            };
        }
        match &mut self.stage {
            Stage::Pick => {
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => self.at = self.at.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => {
                        self.at = (self.at + 1).min(self.marked.len().saturating_sub(1));
                    }
                    KeyCode::Char(' ') => {
                        if let Some(m) = self.marked.get_mut(self.at) {
                            *m = !*m;
                            self.note = None;
                        }
                    }
                    KeyCode::Enter => return Some(self.ask()),
                    _ => {}
                }
                Some(Flow::Stay)
            }
            Stage::Planning => Some(Flow::Stay),
            Stage::Confirm { lines, scroll } => {
                if key.code == KeyCode::Enter {
                    return Some(Flow::Install);
                }
                scroll.key(key, lines.len(), 10);
                Some(Flow::Stay)
            }
        }
    }

    /// Ask for the plan of removing the marked hosts.
    fn ask(&mut self) -> Flow {
        let mut hosts = Vec::new();
        for (m, on) in self.members.iter().zip(&self.marked) {
            if !on {
                continue;
            }
            match m.address.parse::<Address>() {
                Ok(a) => hosts.push(a.ip),
                Err(e) => {
                    self.note = Some(format!("{}: {e}", m.address));
                    return Flow::Stay;
                }
            }
        }
        if hosts.is_empty() {
            self.note = Some("mark the hosts to take out with Space first".into());
            return Flow::Stay;
        }
        self.note = None;
        self.stage = Stage::Planning;
        Flow::Job(Job::Teardown(Takedown::Delete {
            cluster: self.cluster.clone(),
            hosts,
        }))
    }

    /// The plan arrived: show it for Enter.
    pub fn planned(&mut self, lines: Vec<String>) {
        self.note = None;
        self.stage = Stage::Confirm {
            lines,
            scroll: Scroll::default(),
        };
    }

    /// The plan could not be made (a reset closes: the note goes to the
    /// clusters screen); `false` when the panel closes.
    pub fn refused(&mut self, why: String) -> bool {
        self.note = Some(why);
        if self.reset {
            return false;
        }
        self.stage = Stage::Pick;
        true
    }

    /// Draw the panel into `area`, the hint under it into `hint`.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, hint: Rect, theme: &Theme) {
        match &self.stage {
            Stage::Pick => {
                let items: Vec<ListItem<'_>> = self
                    .members
                    .iter()
                    .zip(&self.marked)
                    .map(|(m, on)| {
                        let mark = if *on { "[x]" } else { "[ ]" };
                        ListItem::new(Line::styled(
                            format!("{mark} {}  {}", m.address, m.roles),
                            theme.text(),
                        ))
                    })
                    .collect();
                let mut state = ListState::default().with_selected(Some(self.at));
                f.render_stateful_widget(
                    List::new(items)
                        .highlight_symbol("> ")
                        .highlight_style(theme.selected())
                        .block(Block::bordered().title(format!(
                            " cluster {}: mark the hosts to take out ",
                            self.cluster
                        ))),
                    area,
                    &mut state,
                );
            }
            Stage::Planning => f.render_widget(
                Paragraph::new(Line::styled("planning…", theme.dim()))
                    .block(Block::bordered().title(format!(" cluster {} ", self.cluster))),
                area,
            ),
            Stage::Confirm { lines, scroll } => {
                let shown: Vec<Line<'_>> = lines
                    .iter()
                    .skip(scroll.top)
                    .map(|l| Line::styled(l.as_str(), theme.text()))
                    .collect();
                let title = if self.reset {
                    format!(" reset cluster {}? ", self.cluster)
                } else {
                    format!(" take hosts out of cluster {}? ", self.cluster)
                };
                f.render_widget(
                    Paragraph::new(shown)
                        .wrap(Wrap { trim: false })
                        .block(Block::bordered().title(title).border_style(theme.warn())),
                    area,
                );
            }
        }
        let text = match (&self.note, &self.stage) {
            (Some(note), _) => Line::styled(note.as_str(), theme.error()),
            (None, Stage::Pick) => Line::styled(
                "each host marked is drained, deleted from Kubernetes and reset",
                theme.dim(),
            ),
            (None, Stage::Planning) => Line::styled("Esc: back, nothing is done", theme.dim()),
            (None, Stage::Confirm { .. }) => Line::styled(
                "Enter starts it; Esc goes back and nothing is done",
                theme.warn(),
            ),
        };
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::bordered()),
            hint,
        );
    }
}
