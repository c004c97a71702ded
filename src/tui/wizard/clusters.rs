//! The screen before all others when this machine has installed (or
//! saved) clusters: each with its image, hosts and how its last apply
//! ended. Enter on one opens its Clusterfile in the wizard (to add or
//! remove hosts, or retry); `d` takes hosts out of it and `r` resets it
//! (each shown as a plan first, see [`super::takedown`]); `n` starts a new
//! cluster under a name none holds; `o` opens a Clusterfile from a path.
//! Nothing here replaces an installed cluster: the other screens refuse a
//! name another cluster holds.

use super::field::Field;
use super::takedown::TakedownPanel;
use super::{Draft, Flow, Job, Keys, Page, Replied, Reply};
use crate::app::clusters::Installed;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph, Wrap};
use std::path::PathBuf;

/// The clusters screen.
#[derive(Clone, Debug, Default)]
pub struct ClustersScreen {
    /// The clusters with a saved Clusterfile.
    pub installed: Vec<Installed>,
    /// The row under the cursor (the last row is "a new cluster").
    pub selected: usize,
    /// The installed cluster the wizard opened, if any: only it may be
    /// saved or installed under its own name.
    pub opened: Option<String>,
    /// The path input of `o`.
    pub input: Option<Field>,
    /// Why opening failed.
    pub note: Option<String>,
    /// Hosts being taken out of a cluster, or a cluster being reset.
    pub takedown: Option<TakedownPanel>,
}

impl ClustersScreen {
    /// The screen over `installed`, "a new cluster" selected.
    pub fn new(installed: Vec<Installed>) -> Self {
        ClustersScreen {
            selected: installed.len(),
            installed,
            ..ClustersScreen::default()
        }
    }

    /// The names the installed clusters hold.
    pub fn taken(&self) -> Vec<String> {
        self.installed.iter().map(|c| c.name.clone()).collect()
    }

    fn open_path(&mut self, path: PathBuf, opened: Option<String>) -> Flow {
        self.note = None;
        Flow::Job(Job::Open(path, opened))
    }

    fn input_key(&mut self, key: KeyEvent) -> Flow {
        let Some(field) = &mut self.input else {
            return Flow::Stay;
        };
        match key.code {
            KeyCode::Esc => self.input = None,
            KeyCode::Enter => {
                let path = field.text().trim().to_string();
                if path.is_empty() {
                    self.note = Some("type the path of a Clusterfile".into());
                } else {
                    self.input = None;
                    return self.open_path(PathBuf::from(path), None);
                }
            }
            _ => {
                field.input(key);
            }
        }
        Flow::Stay
    }
}

impl Page for ClustersScreen {
    fn keys(&self) -> Keys {
        if let Some(panel) = &self.takedown {
            return panel.keys();
        }
        &[
            ("↑/↓", "select a cluster"),
            (
                "Enter",
                "open it (add or remove hosts, retry) or start the new one",
            ),
            ("n", "new: a cluster under a name no cluster holds"),
            ("d", "delete: take hosts out of it (drained, reset)"),
            ("r", "reset: take it down on every host"),
            ("o", "open a Clusterfile from a path"),
            ("q Esc", "quit"),
        ]
    }

    fn skipped(&self) -> bool {
        self.installed.is_empty()
    }

    fn typing(&self) -> bool {
        self.input.is_some()
    }

    fn has_input(&self) -> bool {
        self.input
            .as_ref()
            .is_some_and(|f| !f.text().trim().is_empty())
    }

    fn handle_key(&mut self, key: KeyEvent, _draft: &Draft) -> Flow {
        if self.input.is_some() {
            return self.input_key(key);
        }
        if let Some(panel) = &mut self.takedown {
            return panel.handle_key(key).unwrap_or_else(|| {
                self.takedown = None;
                Flow::Stay
            });
        }
        match key.code {
            KeyCode::Esc => return Flow::Back,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.installed.len());
            }
            KeyCode::Char('n') => {
                self.opened = None;
                return Flow::Next;
            }
            KeyCode::Char('d') => {
                if let Some(c) = self.installed.get(self.selected) {
                    self.note = None;
                    self.takedown = Some(TakedownPanel::delete(c));
                }
            }
            KeyCode::Char('r') => {
                if let Some(c) = self.installed.get(self.selected) {
                    self.note = None;
                    let (panel, job) = TakedownPanel::reset(c);
                    self.takedown = Some(panel);
                    return Flow::Job(job);
                }
            }
            KeyCode::Char('o') => {
                self.input = Some(Field::new("Clusterfile", "", false));
                self.note = None;
            }
            KeyCode::Enter => match self.installed.get(self.selected) {
                None => {
                    self.opened = None;
                    return Flow::Next;
                }
                Some(c) => {
                    let (path, name) = (c.clusterfile.clone(), c.name.clone());
                    return self.open_path(path, Some(name));
                }
            },
            _ => {}
        }
        Flow::Stay
    }

    fn reply(&mut self, reply: &Reply, draft: &Draft, out: &mut Replied) {
        match reply {
            Reply::TeardownPlanned(planned) => {
                let Some(panel) = self.takedown.as_mut().filter(|p| p.planning()) else {
                    return;
                };
                match planned {
                    Ok(p) => {
                        panel.planned(p.lines.clone());
                        out.target = Some(p.target.clone());
                    }
                    Err(e) => {
                        if !panel.refused(e.lines().join(": ")) {
                            self.note = panel.note.take();
                            self.takedown = None;
                        }
                    }
                }
            }
            Reply::Opened(Ok(o)) => {
                self.opened = o.opened.clone();
                self.note = None;
            }
            Reply::Opened(Err(e)) => self.note = Some(e.clone()),
            // Saved by this wizard: it is its own to save again.
            Reply::Saved(Ok(_)) => self.opened = Some(draft.name.clone()),
            _ => {}
        }
    }

    fn describe(&self, draft: &mut Draft) {
        draft.opened = self.opened.clone();
        draft.taken = self.taken();
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, draft: &Draft) {
        let [list, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
        if let Some(panel) = &self.takedown {
            return panel.render(f, list, status, theme);
        }
        let mut items: Vec<ListItem<'_>> = self
            .installed
            .iter()
            .map(|c| {
                let image = match &c.image {
                    Ok(i) => i.clone(),
                    Err(e) => e.clone(),
                };
                let hosts = if c.hosts == 1 { "host" } else { "hosts" };
                ListItem::new(vec![
                    Line::styled(format!("{}  ({})", c.name, c.phase), theme.text()),
                    Line::styled(format!("    {} {hosts}, {image}", c.hosts), theme.dim()),
                ])
            })
            .collect();
        items.push(ListItem::new(Line::styled(
            format!("+ a new cluster, named {}", draft.name),
            theme.accent(),
        )));
        let mut state = ListState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(
            List::new(items)
                .highlight_symbol("> ")
                .highlight_style(theme.selected())
                .block(
                    Block::bordered()
                        .title(" clusters on this machine: open one, or n for a new one "),
                ),
            list,
            &mut state,
        );
        let mut lines = Vec::new();
        if let Some(field) = &self.input {
            lines.push(field.line(true, theme));
            lines.push(Line::styled(
                "Enter opens it in the wizard; Esc cancels",
                theme.dim(),
            ));
        } else if let Some(note) = &self.note {
            lines.push(Line::styled(note.as_str(), theme.error()));
        } else {
            let hint = match self.installed.get(self.selected) {
                Some(c) => format!(
                    "Enter opens {} to add or remove hosts, or retry; d takes hosts out of it, \
                     r resets it",
                    c.name
                ),
                None => "an installed cluster is never replaced: \
                         a new one gets a name no cluster holds"
                    .to_string(),
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::bordered()),
            status,
        );
    }
}
