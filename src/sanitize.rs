//! Text from hosts (command output, error messages) reaches the terminal,
//! the logs and failure reports. A host must not drive the terminal with
//! it: an `ESC]0;…BEL` would retitle the window, a CSI sequence could move
//! the cursor or clear the screen, a lone `\r` could overwrite what was
//! printed. [`terminal_safe`] removes escape sequences whole and drops
//! other control characters, keeping tabs.

use std::borrow::Cow;

/// Where the scanner is inside an escape sequence.
#[derive(Clone, Copy)]
enum State {
    Text,
    /// After ESC.
    Escape,
    /// Inside a CSI sequence (`ESC [` or U+009B), up to its final byte.
    Csi,
    /// Inside a string sequence (OSC, DCS, …), up to BEL or ST.
    Str,
    /// ESC inside a string sequence: `\` ends it.
    StrEscape,
}

fn is_control(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}')
}

/// `text` without terminal control sequences or control characters.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut state = State::Text;
    for c in text.chars() {
        state = match (state, c) {
            (State::Text, '\u{1b}') => State::Escape,
            (State::Text, '\u{9b}') => State::Csi,
            (State::Text, '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}') => State::Str,
            (State::Text, c) => {
                if !is_control(c) {
                    out.push(c);
                }
                State::Text
            }
            (State::Escape, '[') => State::Csi,
            (State::Escape, ']' | 'P' | 'X' | '^' | '_') => State::Str,
            (State::Escape, '\u{20}'..='\u{2f}') => State::Escape,
            (State::Escape, _) => State::Text,
            (State::Csi, '\u{20}'..='\u{3f}') => State::Csi,
            (State::Csi, _) => State::Text,
            (State::Str, '\u{7}' | '\u{9c}') => State::Text,
            (State::Str, '\u{1b}') => State::StrEscape,
            (State::Str, _) => State::Str,
            (State::StrEscape, '\\') => State::Text,
            (State::StrEscape, _) => State::Str,
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_and_controls_are_removed_text_is_kept() {
        assert_eq!(terminal_safe("plain\ttext"), "plain\ttext");
        assert_eq!(terminal_safe("a\u{1b}]0;pwned\u{7}b"), "ab");
        assert_eq!(terminal_safe("a\u{1b}]2;t\u{1b}\\b"), "ab");
        assert_eq!(terminal_safe("\u{1b}[2J\u{1b}[1;31mred\u{1b}[0m"), "red");
        assert_eq!(terminal_safe("x\u{9b}2Jy"), "xy");
        assert_eq!(terminal_safe("100%\rdone\u{8}\u{7f}!"), "100%done!");
        assert_eq!(terminal_safe("ünïcode ✓"), "ünïcode ✓");
        assert_eq!(terminal_safe("\u{1b}(Bok"), "ok");
        assert_eq!(terminal_safe("safe\u{202e}txt.exe"), "safetxt.exe");
    }
}
