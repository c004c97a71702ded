//! The SSH screen: user, password, key and passphrase for every host, the
//! cluster's name, and a concurrent "test connection" (Ctrl-T) that shows
//! each host's key fingerprint and arch (flagged when the picked image
//! has no build for it); keys seen for the first time are only
//! trusted (recorded in tug's known_hosts) when confirmed with Ctrl-Y.

use super::field::Field;
use super::hosts::mismatch;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use std::collections::BTreeMap;

pub use crate::app::probe::Tested;

/// What a key on the SSH screen asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Nothing more.
    None,
    /// Test every host, trusting these new fingerprints.
    Test(Vec<String>),
    /// Go on to the review.
    Next,
}

/// The SSH screen.
#[derive(Clone, Debug)]
pub struct SshScreen {
    /// Cluster name, user, password, key, passphrase.
    pub fields: [Field; 5],
    /// The focused field.
    pub focus: usize,
    /// Each host's test result.
    pub tests: BTreeMap<String, Tested>,
}

impl Default for SshScreen {
    fn default() -> Self {
        SshScreen {
            fields: [
                Field::new("cluster name", "default", false),
                Field::new("user", "root", false),
                Field::new("password", "", true),
                Field::new("private key", "", false),
                Field::new("key passphrase", "", true),
            ],
            focus: 2,
            tests: BTreeMap::new(),
        }
    }
}

impl SshScreen {
    /// A field's text.
    pub fn value(&self, i: usize) -> &str {
        self.fields[i].text.trim()
    }

    /// React to a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Msg {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('t') if ctrl => Msg::Test(Vec::new()),
            KeyCode::Char('y') if ctrl => {
                let trust: Vec<String> = self
                    .tests
                    .values()
                    .filter_map(|t| match t {
                        Tested::NewKey { fingerprint, .. } => Some(fingerprint.clone()),
                        _ => None,
                    })
                    .collect();
                if trust.is_empty() {
                    Msg::None
                } else {
                    Msg::Test(trust)
                }
            }
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len();
                Msg::None
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
                Msg::None
            }
            KeyCode::Enter => Msg::Next,
            _ => {
                if self.fields[self.focus].input(key) {
                    // Other credentials: earlier results no longer hold.
                    self.tests.clear();
                }
                Msg::None
            }
        }
    }

    /// Draw the screen; `image` are the picked image's architectures.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, image: &[String]) {
        let [form, tests] = Layout::vertical([
            Constraint::Length(self.fields.len() as u16 + 2),
            Constraint::Min(3),
        ])
        .areas(area);
        let lines: Vec<Line<'_>> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, fl)| fl.line(i == self.focus, theme))
            .collect();
        f.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(" 3 ssh: credentials for every host ")),
            form,
        );
        let mut lines: Vec<Line<'_>> = Vec::new();
        if self.tests.is_empty() {
            lines.push(Line::styled(
                "Ctrl-T tests the connection to every host at once",
                theme.dim(),
            ));
        }
        for (host, t) in &self.tests {
            let (text, style) = match t {
                Tested::Testing => (format!("{host}  testing…"), theme.warn()),
                Tested::Ok { key, arch } => {
                    let arch = arch.as_deref().unwrap_or("arch unknown");
                    match mismatch(arch, image) {
                        Some(m) => (format!("{host}  ok  {m}  {key}"), theme.error()),
                        None => (format!("{host}  ok  {arch}  {key}"), theme.ok()),
                    }
                }
                Tested::NewKey { key, .. } => (
                    format!("{host}  new host key {key}  (Ctrl-Y trusts the new keys shown)"),
                    theme.warn(),
                ),
                Tested::Failed(e) => (format!("{host}  failed: {e}"), theme.error()),
            };
            lines.push(Line::styled(text, style));
        }
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" test connection ")),
            tests,
        );
    }
}
