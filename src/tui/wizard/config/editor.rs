//! A small multi-line text editor over lines of text: the kubeadm override
//! is a few dozen lines of YAML, so cursor movement, insert, delete across
//! line joins, newline and scrolling are all it needs. The cursor is a
//! (row, char column) pair; the view follows it.

use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use std::cell::Cell;

/// The editor's text, cursor and view.
#[derive(Clone, Debug)]
pub struct Editor {
    lines: Vec<String>,
    row: usize,
    col: usize,
    /// The first line shown and the first column shown. Kept in cells
    /// because only drawing knows the view's size: like ratatui's list
    /// state offsets, the view moves just enough to show the cursor.
    top: Cell<usize>,
    left: Cell<usize>,
    /// The height of the last view, for PgUp/PgDn.
    page: Cell<usize>,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            lines: vec![String::new()],
            row: 0,
            col: 0,
            top: Cell::new(0),
            left: Cell::new(0),
            page: Cell::new(10),
        }
    }
}

/// The byte offset of char column `col` in `s` (its end when past it).
fn byte_at(s: &str, col: usize) -> usize {
    s.char_indices().nth(col).map_or(s.len(), |(i, _)| i)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

impl Editor {
    /// The text, lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Replace the text, keeping the cursor where it still fits.
    pub fn set_text(&mut self, text: &str) {
        self.lines = text.split('\n').map(str::to_string).collect();
        self.row = self.row.min(self.lines.len() - 1);
        self.col = self.col.min(width(&self.lines[self.row]));
    }

    /// The cursor as (line, char column), both from 0.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    /// Take a key; true when it changed the text.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char(c) if !ctrl => {
                self.insert(c);
                return true;
            }
            KeyCode::Enter => {
                self.newline();
                return true;
            }
            KeyCode::Backspace => return self.backspace(),
            KeyCode::Delete => return self.delete(),
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Up => self.up(1),
            KeyCode::Down => self.down(1),
            KeyCode::PageUp => self.up(self.page.get().max(1)),
            KeyCode::PageDown => self.down(self.page.get().max(1)),
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = width(&self.lines[self.row]),
            _ => {}
        }
        false
    }

    /// Insert `c` at the cursor.
    pub fn insert(&mut self, c: char) {
        let line = &mut self.lines[self.row];
        line.insert(byte_at(line, self.col), c);
        self.col += 1;
    }

    /// Split the line at the cursor. No automatic indentation: YAML pasted
    /// into a terminal arrives as keys and must land as it was.
    pub fn newline(&mut self) {
        let line = &mut self.lines[self.row];
        let rest = line.split_off(byte_at(line, self.col));
        self.col = 0;
        self.row += 1;
        self.lines.insert(self.row, rest);
    }

    /// Delete the char before the cursor, joining with the line above at
    /// the start of a line; true when something was deleted.
    pub fn backspace(&mut self) -> bool {
        if self.col > 0 {
            self.col -= 1;
            let line = &mut self.lines[self.row];
            line.remove(byte_at(line, self.col));
            true
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = width(&self.lines[self.row]);
            self.lines[self.row].push_str(&line);
            true
        } else {
            false
        }
    }

    /// Delete the char under the cursor, joining the next line at the end
    /// of a line; true when something was deleted.
    pub fn delete(&mut self) -> bool {
        let line = &self.lines[self.row];
        if self.col < width(line) {
            let at = byte_at(line, self.col);
            self.lines[self.row].remove(at);
            true
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].push_str(&next);
            true
        } else {
            false
        }
    }

    fn left(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.col = width(&self.lines[self.row]);
        }
    }

    fn right(&mut self) {
        if self.col < width(&self.lines[self.row]) {
            self.col += 1;
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = 0;
        }
    }

    fn up(&mut self, n: usize) {
        self.row = self.row.saturating_sub(n);
        self.col = self.col.min(width(&self.lines[self.row]));
    }

    fn down(&mut self, n: usize) {
        self.row = (self.row + n).min(self.lines.len() - 1);
        self.col = self.col.min(width(&self.lines[self.row]));
    }

    /// The first line and column a `height` x `cols` view shows: moved
    /// just enough since the last view to hold the cursor.
    pub fn window(&self, height: usize, cols: usize) -> (usize, usize) {
        let follow = |start: usize, at: usize, size: usize| {
            if size == 0 || at < start {
                at
            } else if at >= start + size {
                at + 1 - size
            } else {
                start
            }
        };
        let top = follow(self.top.get(), self.row, height);
        let left = follow(self.left.get(), self.col, cols);
        self.top.set(top);
        self.left.set(left);
        self.page.set(height);
        (top, left)
    }

    /// The lines of a `height` x `width` view with line numbers; the line
    /// `marked` (from 0) gets an error-styled number.
    pub fn view(
        &self,
        height: usize,
        width: usize,
        focused: bool,
        marked: Option<usize>,
        theme: &Theme,
    ) -> Vec<Line<'static>> {
        let digits = self.lines.len().to_string().len().max(2);
        let cols = width.saturating_sub(digits + 1);
        let (top, left) = self.window(height, cols);
        let cursor = theme.accent().add_modifier(Modifier::REVERSED);
        self.lines
            .iter()
            .enumerate()
            .skip(top)
            .take(height)
            .map(|(i, line)| {
                let number = if marked == Some(i) {
                    theme.error()
                } else {
                    theme.dim()
                };
                let shown: String = line.chars().skip(left).take(cols).collect();
                let mut spans = vec![Span::styled(format!("{:>digits$} ", i + 1), number)];
                if focused && i == self.row {
                    let at = self.col - left;
                    let (before, after) = shown.split_at(byte_at(&shown, at));
                    let mut rest = after.chars();
                    let under = rest.next().map_or(" ".to_string(), String::from);
                    spans.push(Span::styled(before.to_string(), theme.text()));
                    spans.push(Span::styled(under, cursor));
                    spans.push(Span::styled(rest.collect::<String>(), theme.text()));
                } else {
                    spans.push(Span::styled(shown, theme.text()));
                }
                Line::from(spans)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(e: &mut Editor, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                e.input(key(KeyCode::Enter));
            } else {
                e.input(key(KeyCode::Char(c)));
            }
        }
    }

    #[test]
    fn typing_moves_the_cursor() {
        let mut e = Editor::default();
        typed(&mut e, "networking:\n  podSubnet: x\nkind: é");
        assert_eq!(e.text(), "networking:\n  podSubnet: x\nkind: é");
        assert_eq!(e.cursor(), (2, 7));
        e.input(key(KeyCode::Left));
        e.input(key(KeyCode::Left));
        typed(&mut e, "Z");
        assert_eq!(e.lines()[2], "kind:Z é");
        e.input(key(KeyCode::Up));
        assert_eq!(e.cursor(), (1, 6));
        e.input(key(KeyCode::End));
        assert_eq!(e.cursor(), (1, 14));
        e.input(key(KeyCode::Down));
        assert_eq!(e.cursor(), (2, 8), "the column is kept within the line");
        e.input(key(KeyCode::Home));
        e.input(key(KeyCode::Left));
        assert_eq!(e.cursor(), (1, 14), "left at a line start goes up");
        e.input(key(KeyCode::Right));
        assert_eq!(e.cursor(), (2, 0), "right at a line end goes down");
    }

    #[test]
    fn backspace_and_delete_join_lines_at_the_edges() {
        let mut e = Editor::default();
        e.set_text("ab\ncd\nef");
        assert!(!e.backspace(), "nothing before the start");
        e.input(key(KeyCode::Down));
        assert!(e.backspace());
        assert_eq!((e.text().as_str(), e.cursor()), ("abcd\nef", (0, 2)));
        e.input(key(KeyCode::End));
        assert!(e.delete());
        assert_eq!((e.text().as_str(), e.cursor()), ("abcdef", (0, 4)));
        assert!(e.delete());
        assert!(e.delete());
        assert!(!e.delete(), "nothing after the end");
        assert_eq!(e.text(), "abcd");
        e.input(key(KeyCode::Home));
        assert!(e.delete());
        assert!(!e.backspace());
        assert_eq!(e.text(), "bcd");
    }

    #[test]
    fn newline_splits_the_line_at_the_cursor() {
        let mut e = Editor::default();
        e.set_text("  key: value");
        for _ in 0..7 {
            e.input(key(KeyCode::Right));
        }
        e.input(key(KeyCode::Enter));
        assert_eq!(e.text(), "  key: \nvalue");
        assert_eq!(e.cursor(), (1, 0));
    }

    #[test]
    fn the_view_scrolls_just_enough_to_show_the_cursor() {
        let mut e = Editor::default();
        e.set_text(
            &(1..=30)
                .map(|i| format!("line{i}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        assert_eq!(e.window(5, 20), (0, 0));
        for _ in 0..6 {
            e.input(key(KeyCode::Down));
        }
        assert_eq!(e.window(5, 20), (2, 0), "cursor on line 7: lines 3-7 shown");
        e.input(key(KeyCode::Up));
        assert_eq!(
            e.window(5, 20),
            (2, 0),
            "moving up inside the view keeps it"
        );
        e.input(key(KeyCode::PageDown));
        assert_eq!(e.cursor().0, 10);
        assert_eq!(e.window(5, 20).0, 6);
        e.input(key(KeyCode::PageUp));
        e.input(key(KeyCode::PageUp));
        assert_eq!(e.cursor().0, 0);
        assert_eq!(e.window(5, 20).0, 0);
        e.input(key(KeyCode::End));
        assert_eq!(e.window(5, 3), (0, 3), "the view follows the column too");
        let shown = e.view(2, 6, true, Some(0), &Theme::default());
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].to_string(), " 1 e1 ", "number, text, cursor cell");
        assert_eq!(e.window(0, 0), (0, 5), "an empty view does not panic");
    }
}
