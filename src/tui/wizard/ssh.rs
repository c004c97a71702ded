//! The SSH screen: user, password, key and passphrase for every host, the
//! cluster's name, an optional bastion every host is reached through, and a concurrent "test connection" (Ctrl-T) that shows
//! each host's key fingerprint and arch (flagged when the picked image
//! has no build for it); keys seen for the first time are only
//! trusted (recorded in tug's known_hosts) when confirmed with Ctrl-Y.

use super::field::Field;
use super::hosts::mismatch;
use super::image::Fetched;
use super::prefs::{self, Found, Prefs};
use super::{Draft, Flow, Job, Keys, Page, Replied, Reply};
use crate::cluster::hosts::{BastionAddr, BastionError};
use crate::cluster::model::Ssh;
use crate::secret::Secret;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::app::probe::Tested;

/// The password field.
const PASSWORD: usize = 2;
/// The private key field.
const KEY: usize = 3;
/// The SSH port field.
const PORT: usize = 5;
/// The bastion field (`USER@HOST[:PORT]`, optional).
const BASTION: usize = 6;

/// The SSH screen.
#[derive(Clone, Debug)]
pub struct SshScreen {
    /// Cluster name, user, password, key, passphrase, port, bastion.
    pub fields: [Field; 7],
    /// The focused field.
    pub focus: usize,
    /// Each host's test result.
    pub tests: BTreeMap<String, Tested>,
    /// The login found on its own, used when no password or key is typed.
    pub found: Option<Found>,
    /// Where the user, port and key are remembered, once known.
    pub prefs: Option<PathBuf>,
    /// The test results' first line shown (PgUp/PgDn).
    pub scroll: u16,
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
                Field::new("ssh port", "22", false),
                Field::new("bastion", "", false),
            ],
            focus: PASSWORD,
            tests: BTreeMap::new(),
            found: None,
            prefs: None,
            scroll: 0,
        }
    }
}

impl SshScreen {
    /// A field's text.
    pub fn value(&self, i: usize) -> &str {
        self.fields[i].text().trim()
    }

    /// Take the user, port and key remembered in `config` and look for a
    /// login of this machine's user (`SSH_AUTH_SOCK`, `~/.ssh`).
    pub fn remember(&mut self, config: &Path) {
        let path = prefs::file(config);
        let p = Prefs::load(&path);
        let port = p.port.map(|p| p.to_string());
        for (i, value) in [
            (1, p.user),
            (KEY, p.key),
            (PORT, port),
            (BASTION, p.bastion),
        ] {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                self.fields[i].set(&v);
            }
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty());
        self.found = prefs::find_login(home.as_deref(), agent);
        self.prefs = Some(path);
    }

    /// The port typed, when it is one (1–65535).
    fn port(&self) -> Option<u16> {
        self.value(PORT).parse().ok().filter(|p| *p > 0)
    }

    /// The bastion typed, unless it is not `USER@HOST[:PORT]` (empty: none).
    fn bastion(&self) -> Result<Option<BastionAddr>, BastionError> {
        let typed = self.value(BASTION);
        (!typed.is_empty()).then(|| typed.parse()).transpose()
    }

    /// Remember the user, port, typed key and bastion for the next run.
    fn save(&self) {
        let Some(path) = &self.prefs else { return };
        let typed = |i: usize| Some(self.value(i).to_string()).filter(|v| !v.is_empty());
        let prefs = Prefs {
            user: typed(1),
            port: self.port(),
            key: typed(KEY),
            bastion: typed(BASTION),
        };
        if let Err(e) = prefs.save(path) {
            tracing::warn!(
                "{}: {e}; the SSH settings are not remembered",
                path.display()
            );
        }
    }

    /// Start the connection test of every host, trusting `trust`.
    fn test(&mut self, trust: Vec<String>, draft: &Draft) -> Flow {
        match draft.clusterfile() {
            Ok(cf) => {
                for h in &draft.hosts {
                    self.tests.insert(h.addr.ip.to_string(), Tested::Testing);
                }
                Flow::Job(Job::Test(Box::new(cf), trust))
            }
            Err(e) => {
                self.tests.insert("clusterfile".into(), Tested::Failed(e));
                Flow::Stay
            }
        }
    }
}

impl SshScreen {
    /// A field as a line; an empty key field says which login serves.
    fn field_line<'a>(
        &'a self,
        i: usize,
        field: &'a Field,
        taken: bool,
        theme: &Theme,
    ) -> Line<'a> {
        let mut line = field.line(i == self.focus, theme);
        let hint = match (i, &self.found) {
            (KEY, Some(Found::Key(path))) if field.text().is_empty() => {
                format!("{path} (found; unless a password is typed)")
            }
            (KEY, Some(Found::Agent)) if field.text().is_empty() => {
                "the ssh-agent's keys (unless a password is typed)".to_string()
            }
            (PORT, _) if self.port().is_none() => "1-65535, for hosts given without one".into(),
            (0, _) if taken => "taken by an installed cluster: give another name".into(),
            (BASTION, _) => match self.bastion() {
                Err(e) => e.to_string(),
                Ok(None) => "USER@HOST[:PORT] to reach every host through (optional)".into(),
                Ok(Some(_)) => "logs in with the key above, else the ssh-agent".into(),
            },
            _ => return line,
        };
        line.push_span(Span::styled(hint, theme.dim()));
        line
    }
}

impl Page for SshScreen {
    fn keys(&self) -> Keys {
        &[
            ("Ctrl-T", "test the connection to every host"),
            ("Ctrl-Y", "trust the new host keys shown"),
            ("Enter", "next: configuration"),
            ("Tab ↑/↓", "next / previous field"),
            ("PgUp/PgDn", "scroll the test results"),
            ("Ctrl-U/W", "clear the field / cut a word"),
            ("Esc", "back"),
        ]
    }

    fn typing(&self) -> bool {
        true
    }

    fn has_input(&self) -> bool {
        [PASSWORD, KEY, 4]
            .iter()
            .any(|i| !self.value(*i).is_empty())
    }

    fn handle_key(&mut self, key: KeyEvent, draft: &Draft) -> Flow {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => Flow::Back,
            KeyCode::Char('t') if ctrl => self.test(Vec::new(), draft),
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
                    Flow::Stay
                } else {
                    self.test(trust, draft)
                }
            }
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len();
                Flow::Stay
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
                Flow::Stay
            }
            KeyCode::PageDown => {
                let last = u16::try_from(self.tests.len()).unwrap_or(u16::MAX);
                self.scroll = (self.scroll + 5).min(last.saturating_mul(3));
                Flow::Stay
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(5);
                Flow::Stay
            }
            KeyCode::Enter if self.port().is_none() => {
                self.focus = PORT;
                Flow::Stay
            }
            KeyCode::Enter if self.bastion().is_err() => {
                self.focus = BASTION;
                Flow::Stay
            }
            KeyCode::Enter => {
                self.save();
                Flow::Next
            }
            // The port field takes digits only.
            KeyCode::Char(c) if self.focus == PORT && !ctrl && !c.is_ascii_digit() => Flow::Stay,
            _ => {
                if self.fields[self.focus].input(key) {
                    // Other credentials: earlier results no longer hold.
                    self.tests.clear();
                }
                Flow::Stay
            }
        }
    }

    fn reply(&mut self, reply: &Reply, draft: &Draft, out: &mut Replied) {
        match reply {
            Reply::Tested(host, t) => {
                self.tests.insert(host.clone(), t.clone());
            }
            Reply::Fetched(Ok(Fetched {
                hosts: Some(from), ..
            })) => out
                .said
                .extend(self.take_bundle(from, draft.hosts.is_empty())),
            _ => {}
        }
    }

    fn describe(&self, draft: &mut Draft) {
        let opt = |i: usize| Some(self.value(i).to_string()).filter(|v| !v.is_empty());
        let secret = |i: usize| (!self.value(i).is_empty()).then(|| Secret::new(self.value(i)));
        draft.name = self.value(0).to_string();
        // A login found on its own serves when neither a password nor a
        // key is typed (an agent needs no key path).
        let found = match &self.found {
            Some(Found::Key(path)) if self.value(PASSWORD).is_empty() => Some(path.clone()),
            _ => None,
        };
        let pk = opt(KEY).or(found);
        let bastion = opt(BASTION);
        draft.ssh = Ssh {
            user: opt(1),
            passwd: secret(PASSWORD),
            // The bastion logs in with the hosts' key (else the agent), never their password.
            bastion_pk: bastion.as_ref().and(pk.clone()),
            bastion,
            pk,
            pk_passwd: secret(4),
            port: self.port(),
            ..Ssh::default()
        };
    }

    /// The picked image's architectures flag hosts it cannot run on.
    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, draft: &Draft) {
        let image = &draft.archs;
        let [form, tests] = Layout::vertical([
            Constraint::Length(self.fields.len() as u16 + 2),
            Constraint::Min(3),
        ])
        .areas(area);
        let lines: Vec<Line<'_>> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, fl)| self.field_line(i, fl, draft.name_taken().is_some(), theme))
            .collect();
        f.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(" 3 ssh: credentials for every host ")),
            form,
        );
        let mut lines: Vec<Line<'_>> = Vec::new();
        if self
            .tests
            .values()
            .any(|t| matches!(t, Tested::NewKey { .. }))
        {
            lines.push(Line::styled(
                "Ctrl-Y trusts the new host keys shown (compare their fingerprints first)",
                theme.warn(),
            ));
        }
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
        // Wrapped: a fingerprint or an error is never cut at the edge.
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(Block::bordered().title(" test connection (PgUp/PgDn) ")),
            tests,
        );
    }
}
