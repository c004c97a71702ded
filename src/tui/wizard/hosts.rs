//! The hosts screen: a table of addresses and roles; `a` adds masters,
//! `n` adds nodes (IPs, `IP:PORT`, ranges `FIRST-LAST`, comma lists, as
//! `gen` reads them), `d` removes, `r` flips a host's role. The ARCH
//! column is what the SSH screen's connection test found (`-` before),
//! flagged when the picked image has no build for it.

use super::field::Field;
use crate::cluster::hosts::{Address, parse_ip_list};
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

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
    /// Whether keys go to the text input.
    pub fn typing(&self) -> bool {
        self.adding.is_some()
    }

    /// React to a key; true when the user is done (Enter with a master).
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if let Some((field, master)) = &mut self.adding {
            match key.code {
                KeyCode::Esc => self.adding = None,
                KeyCode::Enter => {
                    let master = *master;
                    let text = field.text.clone();
                    self.add(&text, master);
                }
                _ => {
                    field.input(key);
                }
            }
            return false;
        }
        match key.code {
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
                    return true;
                }
                self.error = Some("add at least one master (a)".into());
            }
            _ => {}
        }
        false
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

    /// The architecture every host answered in the connection test, when
    /// all did and all agree: the arch role the Clusterfile gets, so a
    /// multi-arch image installs the hosts' platform.
    pub fn common_arch(&self) -> Option<&str> {
        let first = self.hosts.first()?.arch.as_deref()?;
        self.hosts
            .iter()
            .all(|h| h.arch.as_deref() == Some(first))
            .then_some(first)
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

    /// Draw the screen; `image` are the picked image's architectures.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, image: &[String]) {
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
        f.render_widget(
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
        f.render_widget(Paragraph::new(lines).block(Block::bordered()), input);
    }
}
