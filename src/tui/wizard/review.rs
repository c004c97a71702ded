//! The review screen: the Clusterfile (secrets masked) and the plan as
//! `tug plan` prints it; `s` saves the Clusterfile without installing,
//! Enter installs.

use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// What the review shows.
#[derive(Clone, Debug, Default)]
pub struct Review {
    /// The Clusterfile, then the plan, as lines.
    pub lines: Vec<String>,
    /// The first line shown.
    pub scroll: usize,
    /// Where the Clusterfile was saved, or why planning failed.
    pub note: Option<String>,
    /// Whether the plan is ready to install.
    pub ready: bool,
}

impl Review {
    /// Draw the screen.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let block = Block::bordered().title(" 5 review: the Clusterfile and the plan ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let mut lines: Vec<Line<'_>> = Vec::new();
        if let Some(note) = &self.note {
            let style = if self.ready {
                theme.ok()
            } else {
                theme.error()
            };
            lines.push(Line::styled(note.as_str(), style));
        }
        if self.lines.is_empty() && self.note.is_none() {
            lines.push(Line::styled("planning…", theme.warn()));
        }
        lines.extend(
            self.lines
                .iter()
                .skip(self.scroll)
                .take(inner.height as usize)
                .map(|l| Line::styled(l.as_str(), theme.text())),
        );
        f.render_widget(Paragraph::new(lines), inner);
    }
}
