//! The hosts screen: a table of addresses and roles; `a` adds masters,
//! `n` adds nodes (IPs, `IP:PORT`, ranges `FIRST-LAST`, comma lists, as
//! `gen` reads them), `d` removes, `r` flips a host's role. The ARCH
//! column is what the SSH screen's connection test found (`-` before),
//! flagged when the picked image has no build for it.

use super::field::Field;
use super::image::Fetched;
use super::ssh::Tested;
use super::{Draft, Flow, Keys, Page, Replied, Reply};
use crate::cluster::hosts::{Address, parse_ip_list};
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

/// One host and whether it is a master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// Its address.
    pub addr: Address,
    /// Master (else node).
    pub master: bool,
    /// Its CPU architecture (`amd64`, `arm64`), once a connection test ran.
    pub arch: Option<String>,
}

/// `arm64 host, amd64 image` when an image of these architectures cannot
/// run on a host of `host` (nothing when the image's are unknown).
pub fn mismatch(host: &str, image: &[String]) -> Option<String> {
    (!image.is_empty() && !image.iter().any(|a| a == host))
        .then(|| format!("{host} host, {} image", image.join("/")))
}

/// The hosts screen.
#[derive(Clone, Debug, Default)]
pub struct HostsScreen {
    /// The hosts, masters and nodes in the order added.
    pub hosts: Vec<HostEntry>,
    /// The selected row.
    pub selected: usize,
    /// The address input while adding (masters when true).
    pub adding: Option<(Field, bool)>,
    /// The last input's problem.
    pub error: Option<String>,
}

impl HostsScreen {
    /// React to a key while the address input is open.
    fn input_key(&mut self, key: KeyEvent) {
        let Some((field, master)) = &mut self.adding else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.adding = None,
            KeyCode::Enter => {
                let master = *master;
                let text = field.text().to_string();
                self.add(&text, master);
            }
            _ => {
                field.input(key);
            }
        }
    }

    /// Add the addresses of `list`, refusing a bad or duplicate one.
    pub fn add(&mut self, list: &str, master: bool) {
        match parse_ip_list(list) {
            Err(e) => self.error = Some(format!("{list}: {e}")),
            Ok(addrs) => {
                if let Some(dup) = addrs
                    .iter()
                    .find(|a| self.hosts.iter().any(|h| h.addr.ip == a.ip))
                {
                    self.error = Some(format!("{} is already in the list", dup.ip));
                    return;
                }
                self.hosts.extend(addrs.into_iter().map(|addr| HostEntry {
                    addr,
                    master,
                    arch: None,
                }));
                self.error = None;
                self.adding = None;
            }
        }
    }

    /// Record the architecture the connection test found on host `ip`.
    pub fn set_arch(&mut self, ip: &str, arch: &str) {
        for h in self
            .hosts
            .iter_mut()
            .filter(|h| h.addr.ip.to_string() == ip)
        {
            h.arch = Some(arch.to_string());
        }
    }

    /// Masters and nodes, as `gen` takes them.
    pub fn split(&self) -> (Vec<Address>, Vec<Address>) {
        let pick = |m: bool| {
            self.hosts
                .iter()
                .filter(|h| h.master == m)
                .map(|h| h.addr)
                .collect()
        };
        (pick(true), pick(false))
    }
}

impl Page for HostsScreen {
    fn keys(&self) -> Keys {
        &[
            (
                "a / n",
                "add masters / nodes (IPs, IP:PORT, FIRST-LAST, commas)",
            ),
            ("d", "remove the selected host"),
            ("r", "switch its role"),
            ("Enter", "next: SSH"),
            ("Esc", "back"),
            ("↑/↓", "select a host"),
        ]
    }

    fn typing(&self) -> bool {
        self.adding.is_some()
    }

    fn has_input(&self) -> bool {
        !self.hosts.is_empty()
            || self
                .adding
                .as_ref()
                .is_some_and(|(f, _)| !f.text().trim().is_empty())
    }

    fn handle_key(&mut self, key: KeyEvent, _draft: &Draft) -> Flow {
        if self.adding.is_some() {
            self.input_key(key);
            return Flow::Stay;
        }
        match key.code {
            KeyCode::Esc => return Flow::Back,
            KeyCode::Char('a') => self.adding = Some((Field::new("masters", "", false), true)),
            KeyCode::Char('n') => self.adding = Some((Field::new("nodes", "", false), false)),
            KeyCode::Char('d') | KeyCode::Delete if !self.hosts.is_empty() => {
                self.hosts.remove(self.selected);
                self.selected = self.selected.min(self.hosts.len().saturating_sub(1));
            }
            KeyCode::Char('r') => {
                if let Some(h) = self.hosts.get_mut(self.selected) {
                    h.master = !h.master;
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.hosts.len().saturating_sub(1));
            }
            KeyCode::Enter => {
                if self.hosts.iter().any(|h| h.master) {
                    return Flow::Next;
                }
                self.error = Some("add at least one master (a)".into());
            }
            _ => {}
        }
        Flow::Stay
    }

    fn reply(&mut self, reply: &Reply, _draft: &Draft, out: &mut Replied) {
        match reply {
            Reply::Tested(host, Tested::Ok { arch: Some(a), .. }) => self.set_arch(host, a),
            Reply::Fetched(Ok(Fetched {
                hosts: Some(from), ..
            })) => out.said.push(self.take_bundle(from)),
            _ => {}
        }
    }

    fn describe(&self, draft: &mut Draft) {
        draft.hosts = self.hosts.clone();
    }

    /// The picked image's architectures flag hosts it cannot run on.
    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, draft: &Draft) {
        let image = &draft.archs;
        let [table, input] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
        let rows = self.hosts.iter().enumerate().map(|(i, h)| {
            let arch = match h.arch.as_deref() {
                None => Cell::from("-"),
                Some(a) => match mismatch(a, image) {
                    Some(m) => Cell::from(m).style(theme.error()),
                    None => Cell::from(a.to_string()),
                },
            };
            let row = Row::new(vec![
                Cell::from(h.addr.to_string()),
                Cell::from(if h.master { "master" } else { "node" }),
                arch,
            ]);
            if i == self.selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
        // Stateful: the table scrolls to keep the selected host in view.
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(30),
                    Constraint::Length(10),
                    Constraint::Min(4),
                ],
            )
            .header(Row::new(["ADDRESS", "ROLE", "ARCH"]).style(theme.dim()))
            .block(Block::bordered().title(" 2 hosts: the first master is master0 ")),
            table,
            &mut state,
        );
        let line = match (&self.adding, &self.error) {
            (Some((field, _)), _) => field.line(true, theme),
            (None, Some(e)) => Line::styled(e.as_str(), theme.error()),
            (None, None) => Line::styled(
                "e.g. 10.0.0.2-10.0.0.4 or 10.0.0.5:2222, comma lists",
                theme.dim(),
            ),
        };
        let mut lines = vec![line];
        if let (Some(_), Some(e)) = (&self.adding, &self.error) {
            lines.push(Line::styled(e.as_str(), theme.error()));
        }
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::bordered()),
            input,
        );
    }
}
