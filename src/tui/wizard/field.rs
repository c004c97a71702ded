//! A one-line text field: typed characters, Backspace, and a mask for
//! passwords (the text is never drawn).

use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::{Line, Span};

/// A labelled one-line input.
#[derive(Clone, Debug, Default)]
pub struct Field {
    /// What it asks for.
    pub label: &'static str,
    /// The text typed.
    pub text: String,
    /// Draw `•` instead of the text.
    pub masked: bool,
}

impl Field {
    /// An empty field.
    pub fn new(label: &'static str, text: &str, masked: bool) -> Self {
        Field {
            label,
            text: text.to_string(),
            masked,
        }
    }

    /// Take a key; true when it edited the text.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.text.push(c);
                true
            }
            KeyCode::Backspace => self.text.pop().is_some(),
            _ => false,
        }
    }

    /// The field as a line, with a cursor when focused.
    pub fn line(&self, focused: bool, theme: &Theme) -> Line<'_> {
        let shown = if self.masked {
            "•".repeat(self.text.chars().count())
        } else {
            self.text.clone()
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
