//! Driving the real `tug` binary in a real terminal: a tmux server of the
//! test's own (its own socket, killed on drop) running a plain bash, keys
//! sent with `send-keys`, the screen read with `capture-pane`.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One terminal, 120x40 unless resized.
pub struct Tmux {
    socket: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// A terminal running bash (no rc files, prompt `$ `) with TUG_HOME set.
    pub fn start(tug_home: &Path) -> Tmux {
        let socket = format!(
            "tug-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let t = Tmux { socket };
        let shell = format!(
            "env -i PATH=\"$PATH\" HOME=\"$HOME\" TERM=xterm-256color PS1='$ ' TUG_HOME='{}' bash --norc --noprofile",
            tug_home.display()
        );
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "40",
            &shell,
        ]);
        t.wait_for("the shell prompt", |s| s.contains("$"));
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type `text` as it is (no key names).
    pub fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Type `line` and press Enter.
    pub fn type_line(&self, line: &str) {
        self.text(line);
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
    }

    /// Press keys, in tmux's names (`q`, `Down`, `C-c`, `Escape`).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "t", k]);
        }
    }

    /// Resize the terminal.
    pub fn resize(&self, w: u16, h: u16) {
        self.tmux(&[
            "resize-window",
            "-t",
            "t",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    }

    /// What the screen shows now.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-t", "t", "-p"])
    }

    /// Whether the pane shows the alternate screen (a full-screen program).
    pub fn alternate(&self) -> bool {
        self.tmux(&["display-message", "-t", "t", "-p", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// Whether the pane shows its cursor.
    pub fn cursor_shown(&self) -> bool {
        self.tmux(&["display-message", "-t", "t", "-p", "#{cursor_flag}"])
            .trim()
            == "1"
    }

    /// Poll the screen until `ok` holds (two minutes at most); returns it.
    #[track_caller]
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("waited for {what}; the screen shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The screen's line for `host` (its address followed by a space, as in a
/// table row, which an input line's cursor never is), or "".
pub fn row<'a>(screen: &'a str, host: &str) -> &'a str {
    let cell = format!("{host} ");
    screen.lines().find(|l| l.contains(&cell)).unwrap_or("")
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
