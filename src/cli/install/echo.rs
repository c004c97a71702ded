//! While the host lines are drawn, the terminal does not echo control
//! keys as `^C`: an echo at the end of a row that a line fills exactly
//! wraps it, and the progress lines then leave a stale copy of themselves
//! behind. Typed text still echoes. The setting comes back when the guard
//! drops, and before a third Ctrl-C exits.

use std::sync::Mutex;

/// The terminal's settings before the guard changed them.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// The terminal on stderr (fd 2) does not echo control keys while held.
pub struct NoControlEcho;

impl NoControlEcho {
    /// Turn off ECHOCTL on stderr's terminal; `None` when stderr is no
    /// terminal (nothing changed).
    pub fn new() -> Option<NoControlEcho> {
        // SAFETY: tcgetattr/tcsetattr on fd 2 with a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(2, &mut t) != 0 {
                return None;
            }
            let saved = t;
            t.c_lflag &= !libc::ECHOCTL;
            if libc::tcsetattr(2, libc::TCSANOW, &t) != 0 {
                return None;
            }
            *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(saved);
        }
        Some(NoControlEcho)
    }
}

/// Put the terminal's settings back (once; later calls do nothing).
pub fn restore() {
    if let Some(saved) = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // SAFETY: tcsetattr on fd 2 with the termios tcgetattr filled.
        unsafe {
            libc::tcsetattr(2, libc::TCSANOW, &saved);
        }
    }
}

impl Drop for NoControlEcho {
    fn drop(&mut self) {
        restore();
    }
}
