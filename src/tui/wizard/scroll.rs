//! A scrolled view over lines: the offset of the first line shown, moved
//! by the keys every scrolling screen shares.

use crossterm::event::{KeyCode, KeyEvent};

/// The first line shown of a list of lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scroll {
    /// The first line shown.
    pub top: usize,
}

impl Scroll {
    /// Move by `key` over `len` lines, `page` at a time for PgUp/PgDn and
    /// Space; true when the key is a scrolling key (whether or not it moved).
    pub fn key(&mut self, key: KeyEvent, len: usize, page: usize) -> bool {
        let last = len.saturating_sub(1);
        self.top = match key.code {
            KeyCode::Down | KeyCode::Char('j') => self.top + 1,
            KeyCode::Up | KeyCode::Char('k') => self.top.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.top + page,
            KeyCode::PageUp => self.top.saturating_sub(page),
            KeyCode::Home => 0,
            KeyCode::End => last,
            _ => return false,
        }
        .min(last);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Scroll;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn scrolling_stays_within_the_lines_and_ignores_other_keys() {
        let mut s = Scroll::default();
        assert!(s.key(key(KeyCode::PageDown), 25, 20));
        assert_eq!(s.top, 20);
        assert!(s.key(key(KeyCode::PageDown), 25, 20));
        assert_eq!(s.top, 24, "never past the last line");
        assert!(s.key(key(KeyCode::Up), 25, 20));
        assert_eq!(s.top, 23);
        assert!(s.key(key(KeyCode::Home), 25, 20));
        assert_eq!(s.top, 0);
        assert!(!s.key(key(KeyCode::Char('x')), 25, 20));
        assert!(s.key(key(KeyCode::Up), 25, 20));
        assert_eq!(s.top, 0);
    }
}
