//! The configuration screen, between SSH and review: the image's env as
//! editable rows ([`env`]), the pod and service subnets ([`subnets`]), a
//! kubeadm override editor ([`editor`]) checked as it is typed
//! ([`check`]), and a preview of the merged kubeadm configuration, made by
//! a [`job`] whenever the input changed (one at a time: a change while one
//! runs starts the next when it answers).

pub mod check;
pub mod editor;
pub mod env;
pub mod job;
pub mod subnets;
mod view;

use super::scroll::Scroll;
use super::{Draft, Flow, Job, Keys, Page, Replied, Reply};
use crate::cluster::clusterfile::Document;
use crate::kubeadm::{self, ApiVersion, KubeVersion};
use crate::tui::theme::Theme;
use check::Finding;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use editor::Editor;
use env::EnvTable;
use job::Previewed;
use ratatui::Frame;
use ratatui::layout::Rect;
use subnets::Subnets;

/// The parts Tab moves between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The env table.
    Env,
    /// One of the subnet fields (0 pod, 1 service).
    Subnet(usize),
    /// The kubeadm override editor.
    Editor,
    /// The merged configuration.
    Preview,
}

const PARTS: [Part; 5] = [
    Part::Env,
    Part::Subnet(0),
    Part::Subnet(1),
    Part::Editor,
    Part::Preview,
];

/// The configuration screen.
#[derive(Clone, Debug)]
pub struct ConfigScreen {
    /// The focused part.
    pub focus: Part,
    /// The image's env and the user's overrides.
    pub env: EnvTable,
    /// The subnet fields.
    pub subnets: Subnets,
    /// The kubeadm override.
    pub editor: Editor,
    /// The override's documents, or the first reason tug would refuse it.
    pub checked: Result<Vec<Document>, Finding>,
    /// The image whose env the table holds.
    pub image: Option<String>,
    /// The cluster's kubeadm inputs from the latest preview.
    pub inputs: Option<kubeadm::Inputs>,
    /// The latest merged configuration, as lines.
    pub preview: Vec<String>,
    /// Why the latest preview failed (shown instead of the lines).
    pub preview_error: Option<String>,
    /// The preview's first line shown.
    pub scroll: Scroll,
    /// The input changed since the last preview was asked for.
    pub stale: bool,
    /// A preview job is running.
    pub running: bool,
    /// Why moving on was refused.
    pub note: Option<String>,
}

impl Default for ConfigScreen {
    fn default() -> Self {
        ConfigScreen {
            focus: Part::Env,
            env: EnvTable::default(),
            subnets: Subnets::default(),
            editor: Editor::default(),
            checked: Ok(Vec::new()),
            image: None,
            inputs: None,
            preview: Vec::new(),
            preview_error: None,
            scroll: Scroll::default(),
            stale: true,
            running: false,
            note: None,
        }
    }
}

impl ConfigScreen {
    /// Arrive from SSH with `image` picked: the preview is made again (hosts
    /// or credentials may have changed).
    fn arrive(&mut self, image: &str) {
        if self.image.as_deref() != Some(image) {
            self.inputs = None;
            self.preview.clear();
            self.preview_error = None;
        }
        self.note = None;
        self.stale = true;
        self.recheck();
    }

    /// The override's documents for the Clusterfile (none while it is wrong).
    pub fn documents(&self) -> Vec<Document> {
        self.checked.clone().unwrap_or_default()
    }

    /// Whether a preview job should start now.
    pub fn wants_preview(&self) -> bool {
        self.stale && !self.running && self.checked.is_ok() && self.subnets.blocking().is_none()
    }

    /// React to a key.
    fn key(&mut self, key: KeyEvent) -> Flow {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('n') if ctrl => return self.next(),
            KeyCode::Esc if self.env.typing() => {
                self.env.handle_key(key);
            }
            KeyCode::Esc => {
                self.leave_part();
                return Flow::Back;
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.leave_part();
                let i = PARTS.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if key.code == KeyCode::Tab {
                    1
                } else {
                    PARTS.len() - 1
                };
                self.focus = PARTS[(i + step) % PARTS.len()];
            }
            _ => self.part_key(key),
        }
        Flow::Stay
    }

    fn part_key(&mut self, key: KeyEvent) {
        match self.focus {
            Part::Env => {
                if self.env.handle_key(key) {
                    self.changed();
                }
            }
            Part::Subnet(i) => match key.code {
                KeyCode::Up | KeyCode::Down => {
                    self.leave_part();
                    self.focus = Part::Subnet(usize::from(key.code == KeyCode::Down));
                }
                KeyCode::Enter => self.leave_part(),
                _ => self.subnets.input(i, key),
            },
            Part::Editor => {
                if self.editor.input(key) {
                    self.recheck();
                    self.changed();
                }
            }
            // Scrolling keys never get here (see `Page::scroll`).
            Part::Preview => {}
        }
    }

    /// Take what the part being left holds: an open env input, typed subnets.
    fn leave_part(&mut self) {
        if self.env.typing() && self.env.commit() {
            self.changed();
        }
        let api = self
            .inputs
            .as_ref()
            .and_then(|i| KubeVersion::parse(&i.kube_version).ok())
            .and_then(|k| ApiVersion::for_kube(&k).ok())
            .unwrap_or(ApiVersion::V1beta3);
        if self.checked.is_err() {
            return;
        }
        match self.subnets.write(self.editor.lines(), api.as_str()) {
            Ok(Some(lines)) => {
                self.editor.set_text(&lines.join("\n"));
                self.recheck();
                self.changed();
            }
            Ok(None) => {}
            Err(e) => self.note = Some(e),
        }
    }

    fn next(&mut self) -> Flow {
        self.leave_part();
        let blocked = if self.env.typing() {
            Some(format!(
                "env: {}",
                self.env.error.as_deref().unwrap_or("an open input")
            ))
        } else if let Some(e) = self.subnets.blocking() {
            Some(e)
        } else if let Err(f) = &self.checked {
            Some(format!("kubeadm override: {}", f.message))
        } else if self.subnets.items.iter().any(|s| s.dirty) {
            Some("subnets: not written into the kubeadm override's ClusterConfiguration".into())
        } else {
            None
        };
        self.note = blocked.map(|b| format!("not yet: {b}"));
        if self.note.is_some() {
            Flow::Stay
        } else {
            Flow::Next
        }
    }

    fn changed(&mut self) {
        self.stale = true;
        self.note = None;
    }

    fn recheck(&mut self) {
        self.checked = check::check(self.editor.lines(), self.inputs.as_ref());
    }

    /// Take a preview job's answer.
    pub fn previewed(&mut self, p: Previewed) {
        self.running = false;
        if self.image.as_deref() != Some(p.image.as_str())
            && let Ok(env) = &p.env
        {
            self.env.load(env);
            self.image = Some(p.image.clone());
        }
        if let Err(e) = &p.env {
            self.env.error = Some(e.clone());
        }
        self.inputs = p.inputs.map(|i| *i);
        self.recheck();
        match p.preview {
            Ok(preview) => {
                self.subnets.sync(preview.subnets);
                if self.focus != Part::Preview && !self.preview.is_empty() {
                    // Show what the change changed (since the last merge that worked).
                    let old = &self.preview;
                    let new = &preview.lines;
                    let first = new.iter().zip(old).position(|(a, b)| a != b);
                    let first =
                        first.or((new.len() != old.len()).then(|| new.len().min(old.len())));
                    if let Some(first) = first {
                        self.scroll.top = first.saturating_sub(3);
                    }
                }
                self.preview = preview.lines;
                self.preview_error = None;
            }
            Err(e) => self.preview_error = Some(e),
        }
    }
}

impl Page for ConfigScreen {
    /// The keys of the focused part.
    fn keys(&self) -> Keys {
        const TAB: (&str, &str) = (
            "Tab S-Tab",
            "next / previous part: env, subnets, override, preview",
        );
        const NEXT: (&str, &str) = ("Ctrl-N", "next: review (refused while something is wrong)");
        const BACK: (&str, &str) = ("Esc", "back to SSH");
        match self.focus {
            Part::Env if self.env.typing() => {
                &[("Enter", "keep the value"), ("Esc", "drop it"), TAB, NEXT]
            }
            Part::Env => &[
                TAB,
                NEXT,
                ("↑/↓ Enter", "select a key, edit its value"),
                ("a", "add a KEY=value"),
                ("d", "back to the image's value (an added key is removed)"),
                BACK,
            ],
            Part::Subnet(_) => &[
                TAB,
                NEXT,
                (
                    "↑/↓",
                    "pod / service subnet; a CIDR, empty for the image's default",
                ),
                ("Enter", "write it into the override's ClusterConfiguration"),
                BACK,
            ],
            Part::Editor => &[
                TAB,
                NEXT,
                (
                    "arrows",
                    "move (also Home/End, PgUp/PgDn); Enter breaks the line",
                ),
                ("Bksp/Del", "delete, joining lines at the edges"),
                ("---", "a line of its own between kubeadm documents"),
                BACK,
            ],
            Part::Preview => &[
                TAB,
                NEXT,
                ("↑/↓ PgUp/PgDn", "scroll the merged kubeadm configuration"),
                BACK,
            ],
        }
    }

    fn typing(&self) -> bool {
        match self.focus {
            Part::Env => self.env.typing(),
            Part::Subnet(_) | Part::Editor => true,
            Part::Preview => false,
        }
    }

    fn has_input(&self) -> bool {
        !self.env.overrides().is_empty() || !self.editor.text().trim().is_empty()
    }

    /// The preview scrolls while it is focused.
    fn scroll(&mut self, key: KeyEvent) -> bool {
        self.focus == Part::Preview && self.scroll.key(key, self.preview.len(), 10)
    }

    fn handle_key(&mut self, key: KeyEvent, _draft: &Draft) -> Flow {
        self.key(key)
    }

    /// Arriving with the picked rootfs makes the preview again.
    fn enter(&mut self, draft: &Draft) -> Flow {
        let image = draft.images.first().cloned().unwrap_or_default();
        self.arrive(&image);
        Flow::Stay
    }

    /// The preview job, when the input changed and none is running.
    fn pending(&mut self, draft: &Draft) -> Option<Job> {
        if !self.wants_preview() {
            return None;
        }
        self.stale = false;
        match draft.clusterfile() {
            Ok(cf) => {
                self.running = true;
                Some(Job::Preview(Box::new(cf)))
            }
            Err(e) => {
                self.preview_error = Some(e);
                None
            }
        }
    }

    fn reply(&mut self, reply: &Reply, _draft: &Draft, _out: &mut Replied) {
        if let Reply::Previewed(p) = reply {
            self.previewed(p.clone());
        }
    }

    fn describe(&self, draft: &mut Draft) {
        draft.env = self.env.overrides();
        draft.documents = self.documents();
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, _draft: &Draft) {
        self.draw(f, area, theme);
    }
}

#[cfg(test)]
mod tests;
