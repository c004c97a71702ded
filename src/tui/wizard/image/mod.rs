//! The first wizard screen: pick a cluster image from the local store,
//! with the details `tug inspect` shows (type, Kubernetes version,
//! platform, size, hooks, env).

use crate::image::Store;
use crate::image::cluster_image::ClusterImage;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, Paragraph, Wrap};

/// One image of the store.
#[derive(Clone, Debug)]
pub struct Choice {
    /// Its full name.
    pub name: String,
    /// The lines of its details.
    pub details: Vec<String>,
}

/// Read every named image of `store` (an unreadable one is listed with why).
pub fn choices(store: &Store) -> Vec<Choice> {
    let mut names = store.names().unwrap_or_default();
    names.sort_by_key(|(r, _)| r.to_string());
    names
        .into_iter()
        .map(|(r, _)| {
            let details = match store
                .image(&r, None)
                .map_err(|e| e.to_string())
                .and_then(|i| ClusterImage::from_stored(&i).map_err(|e| e.to_string()))
            {
                Ok(ci) => details(&ci),
                Err(e) => vec![format!("cannot read it: {e}")],
            };
            Choice {
                name: r.to_string(),
                details,
            }
        })
        .collect()
}

fn details(ci: &ClusterImage) -> Vec<String> {
    let mut out = vec![
        format!("type: {}", ci.image_type),
        format!("kubernetes: {}", ci.version.as_deref().unwrap_or("-")),
        format!("platform: {}", ci.platform),
        format!("size: {}", bytesize::ByteSize(ci.size)),
        format!("layers: {}", ci.layers.len()),
        format!("digest: {}", ci.digest),
    ];
    let hooks: Vec<&str> = ci.scripts.iter().map(|s| s.name.as_str()).collect();
    out.push(format!("hooks: {}", hooks.join(", ")));
    out.push("env:".to_string());
    out.extend(ci.env.0.iter().map(|(k, v)| {
        // Passwords are never shown, not even an image's defaults.
        let secret = k.to_lowercase().contains("passw");
        format!("  {k}={}", if secret { "<masked>" } else { v })
    }));
    out
}

/// The image screen.
#[derive(Clone, Debug, Default)]
pub struct ImageScreen {
    /// The store's images.
    pub choices: Vec<Choice>,
    /// The one under the cursor.
    pub selected: usize,
}

impl ImageScreen {
    /// React to a key; true when the user picked the selected image.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.choices.len().saturating_sub(1));
            }
            KeyCode::Enter => return !self.choices.is_empty(),
            _ => {}
        }
        false
    }

    /// The picked image's name.
    pub fn picked(&self) -> Option<&str> {
        self.choices.get(self.selected).map(|c| c.name.as_str())
    }

    /// Draw the screen.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let [list, info] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Min(20)]).areas(area);
        if self.choices.is_empty() {
            f.render_widget(
                Paragraph::new("The local store has no images: `tug pull`, `tug load` or `tug build` one first.")
                    .wrap(Wrap { trim: false })
                    .block(Block::bordered().title(" 1 image ")),
                area,
            );
            return;
        }
        let items = self.choices.iter().enumerate().map(|(i, c)| {
            let item = ListItem::new(c.name.as_str());
            if i == self.selected {
                item.style(theme.selected())
            } else {
                item
            }
        });
        f.render_widget(
            List::new(items).block(Block::bordered().title(" 1 image: pick the cluster image ")),
            list,
        );
        let lines: Vec<Line<'_>> = self.choices[self.selected]
            .details
            .iter()
            .map(|l| Line::styled(l.as_str(), theme.text()))
            .collect();
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" details ")),
            info,
        );
    }
}
