//! A one-line text field: typed characters, Backspace, Ctrl-U (clear) and
//! Ctrl-W (the word before the cursor), and a mask for passwords: a
//! masked field holds its text as a [`Secret`] and never draws it.

use crate::secret::Secret;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::{Line, Span};

/// The text of a field: plain, or a secret that is drawn as dots.
#[derive(Clone, Debug)]
enum Text {
    Plain(String),
    Masked(Secret),
}

impl Default for Text {
    fn default() -> Self {
        Text::Plain(String::new())
    }
}

/// A labelled one-line input.
#[derive(Clone, Debug, Default)]
pub struct Field {
    /// What it asks for.
    pub label: &'static str,
    text: Text,
    /// The text is an old secret value: the first edit replaces it whole.
    replacing: bool,
}

impl Field {
    /// A field holding `text`; `masked` keeps it as a secret, drawn as dots.
    pub fn new(label: &'static str, text: &str, masked: bool) -> Self {
        let text = if masked {
            Text::Masked(Secret::new(text))
        } else {
            Text::Plain(text.to_string())
        };
        Field {
            label,
            text,
            replacing: false,
        }
    }

    /// A masked field over a value set before: shown as dots, kept by
    /// Enter, and replaced (not appended to) by the first key that edits.
    pub fn replacing(label: &'static str, old: &str) -> Self {
        Field {
            replacing: !old.is_empty(),
            ..Field::new(label, old, true)
        }
    }

    /// The text typed (a masked field's secret in plain: only for where
    /// the value goes, never for the screen).
    pub fn text(&self) -> &str {
        match &self.text {
            Text::Plain(s) => s,
            Text::Masked(s) => s.expose(),
        }
    }

    /// A masked field's value as the secret it is.
    pub fn secret(&self) -> Secret {
        Secret::new(self.text())
    }

    /// Whether the text is drawn as dots.
    pub fn masked(&self) -> bool {
        matches!(self.text, Text::Masked(_))
    }

    /// Replace the text.
    pub fn set(&mut self, text: &str) {
        self.replacing = false;
        self.text = match self.text {
            Text::Plain(_) => Text::Plain(text.to_string()),
            Text::Masked(_) => Text::Masked(Secret::new(text)),
        };
    }

    /// Take a key; true when it edited the text.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let old = if self.replacing { "" } else { self.text() };
        let new = match key.code {
            KeyCode::Char('u') if ctrl => String::new(),
            KeyCode::Char('w') if ctrl => {
                let kept = old.trim_end_matches(|c: char| c.is_whitespace() || c == ',');
                let cut = kept
                    .rfind(|c: char| c.is_whitespace() || c == ',')
                    .map_or(0, |i| i + 1);
                kept[..cut].to_string()
            }
            KeyCode::Char(c) if !ctrl => format!("{old}{c}"),
            KeyCode::Backspace => {
                let mut s = old.to_string();
                s.pop();
                s
            }
            _ => return false,
        };
        let edited = new != self.text();
        self.set(&new);
        edited
    }

    /// The field as a line, with a cursor when focused.
    pub fn line(&self, focused: bool, theme: &Theme) -> Line<'_> {
        let shown = if self.masked() {
            "•".repeat(self.text().chars().count())
        } else {
            self.text().to_string()
        };
        let style = if focused {
            theme.accent()
        } else {
            theme.text()
        };
        Line::from(vec![
            Span::styled(format!("{:>14}: ", self.label), theme.dim()),
            Span::styled(shown, style),
            Span::styled(if focused { "▏" } else { "" }, theme.accent()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::Field;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(f: &mut Field, code: KeyCode, ctrl: bool) -> bool {
        let m = if ctrl {
            KeyModifiers::CONTROL
        } else {
            KeyModifiers::NONE
        };
        f.input(KeyEvent::new(code, m))
    }

    #[test]
    fn ctrl_w_cuts_a_word_and_ctrl_u_clears() {
        let mut f = Field::new("masters", "10.0.0.2, 10.0.0.3 10.0.0.4", false);
        assert!(key(&mut f, KeyCode::Char('w'), true));
        assert_eq!(f.text(), "10.0.0.2, 10.0.0.3 ");
        key(&mut f, KeyCode::Char('w'), true);
        assert_eq!(f.text(), "10.0.0.2, ");
        key(&mut f, KeyCode::Char('w'), true);
        assert_eq!(f.text(), "");
        key(&mut f, KeyCode::Char('9'), false);
        assert!(key(&mut f, KeyCode::Char('u'), true));
        assert_eq!(f.text(), "");
        assert!(!key(&mut f, KeyCode::Char('u'), true), "nothing to clear");
    }

    #[test]
    fn a_masked_field_hides_its_secret_and_an_old_value_is_replaced_not_appended_to() {
        let mut f = Field::replacing("value", "old-secret");
        let debug = format!("{f:?}");
        assert!(!debug.contains("old-secret"), "{debug}");
        key(&mut f, KeyCode::Char('n'), false);
        key(&mut f, KeyCode::Char('w'), false);
        assert_eq!(f.text(), "nw", "the first key replaced the old value");
        let mut f = Field::replacing("value", "old");
        key(&mut f, KeyCode::Backspace, false);
        assert_eq!(f.text(), "", "Backspace on an old value clears it");
        let f = Field::replacing("value", "old");
        assert_eq!(f.text(), "old", "kept when nothing is typed");
    }
}
