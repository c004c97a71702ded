//! The env table: the picked image's env as `KEY=value` rows with the
//! image's value as the default. The user overrides a value, adds a key or
//! reverts an override; only values that differ from the image's go into
//! the Clusterfile's `spec.env`. Passwords are masked, shown and typed.

use crate::cluster::env::RESERVED_PREFIX;
use crate::cluster::validate::check_env;
use crate::engine::install::shell::is_secret_key;
use crate::secret::Secret;
use crate::tui::theme::Theme;
use crate::tui::wizard::field::Field;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};

/// The settings users change most, shown first when the image has them.
const FIRST: [&str; 6] = [
    "registryDomain",
    "registryPort",
    "registryUsername",
    "registryPassword",
    "defaultVIP",
    "criData",
];

/// What a masked value shows.
pub const MASK: &str = "••••••";

/// One env key. Values are held as secrets (a password among them must
/// not show in a `Debug`), and drawn masked when the key names one.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The key.
    pub key: String,
    /// The image's value; `None` for a key the user added.
    pub image: Option<Secret>,
    /// The user's value, when overridden.
    pub value: Option<Secret>,
}

impl Row {
    /// The value the cluster gets.
    pub fn effective(&self) -> &str {
        self.value
            .as_ref()
            .or(self.image.as_ref())
            .map(Secret::expose)
            .unwrap_or_default()
    }

    /// Whether it goes into `spec.env`.
    pub fn overridden(&self) -> bool {
        self.value.is_some() && self.value != self.image
    }
}

/// An input open on the table.
#[derive(Clone, Debug)]
pub enum Edit {
    /// A new value for the selected row.
    Value(Field),
    /// A new `KEY=value` row.
    Add(Field),
}

/// The env table.
#[derive(Clone, Debug, Default)]
pub struct EnvTable {
    /// The rows, most-changed settings first, then the image's order, then
    /// added keys.
    pub rows: Vec<Row>,
    /// The selected row.
    pub selected: usize,
    /// The open input, if any.
    pub edit: Option<Edit>,
    /// Why the last input was refused.
    pub error: Option<String>,
}

impl EnvTable {
    /// Take the image's env; overrides and added keys the user made so
    /// far are kept.
    pub fn load(&mut self, image: &[(String, Secret)]) {
        let old = std::mem::take(&mut self.rows);
        let rank = |k: &str| FIRST.iter().position(|f| *f == k).unwrap_or(FIRST.len());
        let mut rows: Vec<Row> = image
            .iter()
            .map(|(k, v)| Row {
                key: k.clone(),
                image: Some(v.clone()),
                value: None,
            })
            .collect();
        rows.sort_by_key(|r| rank(&r.key));
        for o in old.into_iter().filter(|o| o.value.is_some()) {
            match rows.iter_mut().find(|r| r.key == o.key) {
                Some(r) => r.value = o.value.filter(|v| Some(v) != r.image.as_ref()),
                None => rows.push(Row { image: None, ..o }),
            }
        }
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// The `KEY=value` entries for `spec.env`: values that differ from the image's.
    pub fn overrides(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.overridden())
            .map(|r| format!("{}={}", r.key, r.effective()))
            .collect()
    }

    /// Whether an input is open (keys are typed).
    pub fn typing(&self) -> bool {
        self.edit.is_some()
    }

    /// Take a key; true when the overrides changed.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if self.edit.is_some() {
            return self.edit_key(key);
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows.len().saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Char('e') => self.start_edit(),
            KeyCode::Char('a') => {
                self.error = None;
                // Masked storage: the value may be a password (drawn by `add_line`).
                self.edit = Some(Edit::Add(Field::new("KEY=value", "", true)));
            }
            KeyCode::Char('d') | KeyCode::Delete => return self.revert(),
            _ => {}
        }
        false
    }

    fn start_edit(&mut self) {
        let Some(row) = self.rows.get(self.selected) else {
            return;
        };
        if row.key.starts_with(RESERVED_PREFIX) {
            self.error = Some(format!(
                "{} is set by tug; it cannot be overridden",
                row.key
            ));
            return;
        }
        self.error = None;
        let field = if is_secret_key(&row.key) {
            // Typing replaces the masked value: the user cannot see it to edit it.
            Field::replacing("value", row.effective())
        } else {
            Field::new("value", row.effective(), false)
        };
        self.edit = Some(Edit::Value(field));
    }

    /// Back to the image's value; an added key is removed.
    fn revert(&mut self) -> bool {
        let Some(row) = self.rows.get_mut(self.selected) else {
            return false;
        };
        let changed = row.overridden();
        if row.image.is_none() {
            self.rows.remove(self.selected);
            self.selected = self.selected.min(self.rows.len().saturating_sub(1));
            return true;
        }
        row.value = None;
        changed
    }

    fn edit_key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Esc => {
                self.edit = None;
                self.error = None;
                false
            }
            KeyCode::Enter => self.commit(),
            _ => {
                if let Some(Edit::Value(f) | Edit::Add(f)) = &mut self.edit {
                    f.input(key);
                }
                false
            }
        }
    }

    /// Close the open input, taking its value; true when the overrides
    /// changed. A refused input stays open with the reason in `error`.
    pub fn commit(&mut self) -> bool {
        match self.edit.take() {
            None => false,
            Some(Edit::Value(f)) => {
                let row = &mut self.rows[self.selected];
                let before = row.overridden().then(|| row.effective().to_string());
                row.value = Some(f.secret()).filter(|v| Some(v) != row.image.as_ref());
                before != row.overridden().then(|| row.effective().to_string())
            }
            Some(Edit::Add(f)) => match self.add(f.text()) {
                Ok(changed) => changed,
                Err(e) => {
                    self.error = Some(e);
                    self.edit = Some(Edit::Add(f));
                    false
                }
            },
        }
    }

    fn add(&mut self, kv: &str) -> Result<bool, String> {
        check_env(kv.trim_start())?;
        let (key, value) = kv.trim_start().split_once('=').unwrap_or_default();
        if key.starts_with(RESERVED_PREFIX) {
            return Err(format!("{key} is set by tug; it cannot be overridden"));
        }
        self.error = None;
        let i = match self.rows.iter().position(|r| r.key == key) {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    key: key.to_string(),
                    image: None,
                    value: None,
                });
                self.rows.len() - 1
            }
        };
        self.selected = i;
        let row = &mut self.rows[i];
        let before = row.overridden().then(|| row.effective().to_string());
        row.value = Some(Secret::new(value)).filter(|v| Some(v) != row.image.as_ref());
        Ok(row.image.is_none() || before != row.overridden().then(|| row.effective().to_string()))
    }

    /// The table as lines: `height` rows around the selection, then the
    /// open input and the error.
    pub fn lines(&self, height: usize, focused: bool, theme: &Theme) -> Vec<Line<'_>> {
        let mut tail: Vec<Line<'_>> = Vec::new();
        match &self.edit {
            Some(Edit::Value(f)) => tail.push(f.line(true, theme)),
            Some(Edit::Add(f)) => tail.push(add_line(f.text(), theme)),
            None => {}
        }
        if let Some(e) = &self.error {
            tail.push(Line::styled(e.as_str(), theme.error()));
        }
        if self.rows.is_empty() {
            tail.insert(0, Line::styled("reading the image's env…", theme.dim()));
            return tail;
        }
        let room = height.saturating_sub(tail.len()).max(1);
        let top = self.selected.saturating_sub(room - 1);
        let keys = self.rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
        let mut lines: Vec<Line<'_>> = self
            .rows
            .iter()
            .enumerate()
            .skip(top)
            .take(room)
            .map(|(i, r)| {
                let shown = match (&r.value, is_secret_key(&r.key)) {
                    (Some(_), true) => MASK,
                    (None, true) => "<masked>",
                    _ => r.effective(),
                };
                let (mark, style) = if r.overridden() {
                    ("*", theme.accent())
                } else {
                    (" ", theme.text())
                };
                let line = Line::from(vec![
                    Span::styled(mark, theme.accent()),
                    Span::styled(format!("{:<keys$}", r.key), theme.dim()),
                    Span::styled(" = ", theme.dim()),
                    Span::styled(shown, style),
                ]);
                if focused && i == self.selected {
                    line.style(theme.selected())
                } else {
                    line
                }
            })
            .collect();
        lines.extend(tail);
        lines
    }
}

/// The add input: the value is masked once the key names a password.
fn add_line<'a>(text: &'a str, theme: &Theme) -> Line<'a> {
    let shown = match text.split_once('=') {
        Some((k, v)) if is_secret_key(k) => format!("{k}={}", "•".repeat(v.chars().count())),
        _ => text.to_string(),
    };
    Line::from(vec![
        Span::styled("new KEY=value: ", theme.dim()),
        Span::styled(shown, theme.accent()),
        Span::styled("▏", theme.accent()),
    ])
}
