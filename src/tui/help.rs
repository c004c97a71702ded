//! The `?` overlay: the keys of the current screen and the global ones.

use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

/// Draw the help for keys `keys` (key, what it does) over `area`.
pub fn render(f: &mut Frame<'_>, area: Rect, keys: &[(&str, &str)], theme: &Theme) {
    let global = [
        ("? F1", "show or hide this help (F1 while typing)"),
        (
            "Ctrl-C",
            "cancel a running install and quit when it stopped; twice: quit now",
        ),
    ];
    let lines: Vec<Line<'_>> = keys
        .iter()
        .chain(global.iter())
        .map(|(k, what)| Line::from(format!("{k:>10}  {what}")))
        .chain([Line::styled("any key closes this help", theme.dim())])
        .collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 84.min(area.width);
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).style(theme.text()).block(
            Block::bordered()
                .title(" help ")
                .border_style(theme.accent()),
        ),
        popup,
    );
}
