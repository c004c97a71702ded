//! Drawing the image screen: the bundle found next to tug (when there is
//! one), the list (each marked image with its place in the install) with
//! the selected image's details, and a status box holding the open input,
//! the fetch's progress, or the last outcome.

use super::{ImageScreen, Note, Prompt};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Gauge, List, ListItem, ListState, Paragraph, Wrap};

/// Draw `s` over `area`.
pub fn render(s: &ImageScreen, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let [banner, main, status] = Layout::vertical([
        Constraint::Length(u16::from(s.bundle.is_some())),
        Constraint::Min(3),
        Constraint::Length(4),
    ])
    .areas(area);
    if let Some(path) = &s.bundle {
        f.render_widget(
            Paragraph::new(Line::styled(
                format!("bundle found: {} — b verifies and loads it", path.display()),
                theme.accent(),
            )),
            banner,
        );
    }
    list(s, f, main, theme);
    status_box(s, f, status, theme);
}

fn list(s: &ImageScreen, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
    if s.choices.is_empty() {
        f.render_widget(
            Paragraph::new(
                "The local store has no images: p pulls one by reference, B loads a bundle \
                 (or `tug build` one first). Only looking? `tug demo --wizard` walks every \
                 screen over simulated hosts.",
            )
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" 1 image ")),
            area,
        );
        return;
    }
    // Names with their tags are never cut: when the longest does not fit
    // beside the details, the details go below the list.
    let longest = s.choices.iter().map(|c| c.name.chars().count()).max();
    let need = longest.unwrap_or(0) as u16 + 5;
    let [names, info] = if need <= area.width * 45 / 100 {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Min(20)]).areas(area)
    } else {
        let rows = (s.choices.len() as u16 + 2).min(area.height / 2).max(3);
        Layout::vertical([Constraint::Length(rows), Constraint::Min(3)]).areas(area)
    };
    let items = s.choices.iter().enumerate().map(|(i, c)| {
        let mark = s
            .mark_of(&c.name)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let item = ListItem::new(format!("{mark:>2} {}", c.name));
        if i == s.selected {
            item.style(theme.selected())
        } else {
            item
        }
    });
    let title = match s.marked.len() {
        0 => " 1 image: pick the cluster image ".to_string(),
        n => format!(" 1 image: {n} marked for the install "),
    };
    let mut state = ListState::default().with_selected(Some(s.selected));
    f.render_stateful_widget(
        List::new(items).block(Block::bordered().title(title)),
        names,
        &mut state,
    );
    let lines: Vec<Line<'_>> = s
        .choices
        .get(s.selected)
        .map(|c| c.details.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|l| Line::styled(l.as_str(), theme.text()))
        .collect();
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" details ")),
        info,
    );
}

fn status_box(s: &ImageScreen, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let block = Block::bordered().title(" sources ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [first, second] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    let note = s.note.as_ref().map(|n| match n {
        Note::Done(t) => Line::styled(t.as_str(), theme.ok()),
        Note::Failed(t) => Line::styled(t.as_str(), theme.error()),
    });
    if let Some((prompt, field)) = &s.input {
        f.render_widget(Paragraph::new(field.line(true, theme)), first);
        let hint = match prompt {
            Prompt::Reference => {
                "Enter pulls REGISTRY/REPO:TAG (add OS/ARCH for another platform); Esc cancels"
            }
            Prompt::BundlePath => {
                "Enter verifies and loads the bundle (a directory or tar); Esc cancels"
            }
        };
        let line = note.unwrap_or_else(|| Line::styled(hint, theme.dim()));
        f.render_widget(Paragraph::new(line), second);
    } else if let Some(p) = &s.fetching {
        f.render_widget(Paragraph::new(Line::styled(p.label(), theme.warn())), first);
        f.render_widget(
            Gauge::default()
                .ratio(p.ratio())
                .label("")
                .gauge_style(theme.bar()),
            second,
        );
    } else {
        let line = note.unwrap_or_else(|| {
            Line::styled(
                "Space marks images for one install (a rootfs, then apps) · p pulls an image \
                 by reference · B loads a bundle from a path",
                theme.dim(),
            )
        });
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), inner);
    }
}
