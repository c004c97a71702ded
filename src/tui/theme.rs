//! Colours of the wizard, by meaning (accent, ok, warning, error…), so
//! screens never name a colour. The built-in dark theme is the default;
//! `themes/*.toml` hold the shipped ones (dark, light, high-contrast).

use ratatui::style::{Color, Modifier, Style};

/// The colours the screens use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// The theme's name.
    pub name: String,
    /// Ordinary text.
    pub text: Color,
    /// Secondary text: hints, waiting hosts, stdout of the log pane.
    pub dim: Color,
    /// Titles, the selection, the demo label.
    pub accent: Color,
    /// Done.
    pub ok: Color,
    /// Running, retrying, stderr.
    pub warn: Color,
    /// Failed.
    pub error: Color,
    /// The filled part of progress bars.
    pub bar: Color,
    /// The background of the selected row.
    pub selected: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            name: "dark".into(),
            text: Color::Gray,
            dim: Color::DarkGray,
            accent: Color::Cyan,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::LightRed,
            bar: Color::Blue,
            selected: Color::Rgb(40, 44, 52),
        }
    }
}

impl Theme {
    /// Ordinary text.
    pub fn text(&self) -> Style {
        Style::new().fg(self.text)
    }
    /// Secondary text.
    pub fn dim(&self) -> Style {
        Style::new().fg(self.dim)
    }
    /// Titles and highlights.
    pub fn accent(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }
    /// Success.
    pub fn ok(&self) -> Style {
        Style::new().fg(self.ok)
    }
    /// In progress or a warning.
    pub fn warn(&self) -> Style {
        Style::new().fg(self.warn)
    }
    /// Failure.
    pub fn error(&self) -> Style {
        Style::new().fg(self.error).add_modifier(Modifier::BOLD)
    }
    /// The selected row.
    pub fn selected(&self) -> Style {
        Style::new().bg(self.selected).add_modifier(Modifier::BOLD)
    }
    /// The filled part of a bar.
    pub fn bar(&self) -> Style {
        Style::new().fg(self.bar)
    }
}
