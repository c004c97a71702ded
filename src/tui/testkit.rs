//! What the wizard's unit tests share: keys pressed into [`App::update`]
//! and the screen drawn on a [`TestBackend`] as text.

use super::action::{Action, Effect};
use super::app::{App, Screen};
use super::wizard::Wizard;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Press one key.
pub fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Press Ctrl and a letter.
pub fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

/// Type `text`; `\n` presses Enter.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        press(app, code);
    }
}

/// The wizard on show (a test on another screen fails here).
pub fn wizard(app: &App) -> &Wizard {
    match &app.screen {
        Screen::Wizard(w) => w,
        other => panic!("not the wizard: {other:?}"),
    }
}

/// The screen as `w` x `h` text, one line per row.
pub fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.view(f)).unwrap();
    let buf = t.backend().buffer();
    buf.content
        .chunks(w as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
