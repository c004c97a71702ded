//! The `?` overlay: the keys of the current screen and the global ones;
//! and the question asked before leaving throws input away.

use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

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
    let popup = centered(f, area, width, height);
    f.render_widget(
        Paragraph::new(lines).style(theme.text()).block(
            Block::bordered()
                .title(" help ")
                .border_style(theme.accent()),
        ),
        popup,
    );
}

/// Draw a question over the middle of `area`: `question`, then what the
/// keys answer.
pub fn ask(f: &mut Frame<'_>, area: Rect, question: &str, keys: &str, theme: &Theme) {
    let width = 64.min(area.width);
    let lines = vec![
        Line::styled(question, theme.warn()),
        Line::styled(keys, theme.dim()),
    ];
    let popup = centered(f, area, width, 5.min(area.height));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .style(theme.text())
            .block(
                Block::bordered()
                    .title(" leave? ")
                    .border_style(theme.warn()),
            ),
        popup,
    );
}

/// A `width` × `height` box in the middle of `area`, cleared for a popup.
fn centered(f: &mut Frame<'_>, area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    f.render_widget(Clear, popup);
    popup
}
