//! The terminal while the wizard owns it: raw mode and the alternate
//! screen on entry; restored by a drop guard on every normal exit (an
//! error, a return, a cancelled future), by a panic hook before the panic
//! message prints, and on SIGTERM or SIGHUP (a `kill`, a closed terminal
//! window) before the process exits as the signal would end it, so the
//! shell is never left in raw mode.

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// The terminal in raw mode on the alternate screen; restored when dropped.
pub struct Tui {
    /// The ratatui terminal drawing to stdout.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Tui {
    /// Take over the terminal (installing the panic hook once).
    pub fn enter() -> io::Result<Tui> {
        install_panic_hook();
        enable_raw_mode()?;
        // From here on the guard restores whatever was set up.
        let guard = Restore;
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        restore_on_signals()?;
        OWNED.store(true, Ordering::SeqCst);
        std::mem::forget(guard);
        Ok(Tui { terminal })
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        OWNED.store(false, Ordering::SeqCst);
        restore();
    }
}

/// Whether a [`Tui`] holds the terminal now.
static OWNED: AtomicBool = AtomicBool::new(false);

/// Once per process, a task that on SIGTERM or SIGHUP restores the
/// terminal and exits with 128 + the signal's number, as the signal's
/// default action would have ended tug (the journals already hold every
/// finished step, so the next run resumes). It outlives the wizard: once
/// a handler is installed the default action never comes back.
fn restore_on_signals() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return Ok(());
    };
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let _entered = rt.enter();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    rt.spawn(async move {
        let code = tokio::select! {
            _ = term.recv() => 128 + 15,
            _ = hup.recv() => 128 + 1,
        };
        tracing::warn!("ended by a signal; exit {code}");
        // Held until the process ends: a frame being drawn on another
        // thread cannot write after the alternate screen is left.
        let mut out = io::stdout().lock();
        if OWNED.load(Ordering::SeqCst) {
            let _ = disable_raw_mode();
            let _ = execute!(out, LeaveAlternateScreen, Show);
        }
        std::process::exit(code);
    });
    Ok(())
}

/// Restores the terminal when dropped (used while entering).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// Leave raw mode and the alternate screen and show the cursor; safe to
/// call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            tracing::error!("panic: {info}");
            previous(info);
        }));
    });
}
