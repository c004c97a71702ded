//! Colours of the wizard, by meaning (accent, ok, warning, error…), so
//! screens never name a colour. `themes/*.toml` are the shipped themes
//! (dark, the default; light; high-contrast), built into the binary;
//! `TUG_THEME` names one of them or a file of the same form. A theme file
//! is the flat part of TOML tug needs: `key = "colour"` lines and `#`
//! comments, colours as names or `#rrggbb`.

use ratatui::style::{Color, Modifier, Style};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The shipped themes: (name, file content).
pub const SHIPPED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Why a theme could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// The file could not be read.
    #[error("theme {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is wrong.
    #[error("theme {path}, line {line}: {message}")]
    Line {
        /// The file (or shipped theme name).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Neither a shipped theme nor a file.
    #[error("TUG_THEME={0}: not a shipped theme (dark, light, high-contrast) nor a .toml file")]
    Unknown(String),
}

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
    /// The theme `TUG_THEME` names (dark when unset).
    pub fn from_env() -> Result<Theme, ThemeError> {
        match std::env::var("TUG_THEME") {
            Ok(name) if !name.is_empty() => Theme::named(&name),
            _ => Ok(Theme::default()),
        }
    }

    /// A shipped theme by name, or a theme file by path.
    pub fn named(name: &str) -> Result<Theme, ThemeError> {
        if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
            return Theme::parse(n, Path::new(n), text);
        }
        let path = Path::new(name);
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let stem = path
                .file_stem()
                .map_or(name.into(), |s| s.to_string_lossy());
            return Theme::parse(&stem, path, &text);
        }
        Err(ThemeError::Unknown(name.to_string()))
    }

    /// Read a theme file; every colour key must be given exactly once.
    pub fn parse(name: &str, path: &Path, text: &str) -> Result<Theme, ThemeError> {
        let mut theme = Theme {
            name: name.to_string(),
            ..Theme::default()
        };
        let mut seen: Vec<String> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let err = |message: String| ThemeError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| err(format!("expected key = \"colour\", found {line:?}")))?;
            let key = key.trim();
            let value = value.trim();
            let colour = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| err(format!("{key}: the colour must be quoted, found {value}")))?;
            let parsed = Color::from_str(colour)
                .map_err(|_| err(format!("{key}: {colour:?} is not a colour name or #rrggbb")))?;
            let slot = match key {
                "text" => &mut theme.text,
                "dim" => &mut theme.dim,
                "accent" => &mut theme.accent,
                "ok" => &mut theme.ok,
                "warn" => &mut theme.warn,
                "error" => &mut theme.error,
                "bar" => &mut theme.bar,
                "selected" => &mut theme.selected,
                _ => return Err(err(format!("unknown key {key:?}"))),
            };
            if seen.iter().any(|k| k == key) {
                return Err(err(format!("{key} is given twice")));
            }
            seen.push(key.to_string());
            *slot = parsed;
        }
        Ok(theme)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_and_dark_is_the_default() {
        for (name, _) in SHIPPED {
            let t = Theme::named(name).unwrap();
            assert_eq!(t.name, *name);
        }
        assert_eq!(Theme::named("dark").unwrap(), Theme::default());
        assert_ne!(Theme::named("light").unwrap().text, Theme::default().text);
    }

    #[test]
    fn bad_lines_are_named_with_file_line_and_key() {
        let p = Path::new("mine.toml");
        let e = Theme::parse("mine", p, "# c\ntext = \"nocolour\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "theme mine.toml, line 2: text: \"nocolour\" is not a colour name or #rrggbb"
        );
        let e = Theme::parse("mine", p, "frame = \"red\"").unwrap_err();
        assert!(
            e.to_string().contains("line 1: unknown key \"frame\""),
            "{e}"
        );
        let e = Theme::parse("mine", p, "ok = red").unwrap_err();
        assert!(
            e.to_string().contains("ok: the colour must be quoted"),
            "{e}"
        );
        assert!(matches!(Theme::named("nope"), Err(ThemeError::Unknown(_))));
    }
}
