//! On a terminal, `tug run` shows a line per host and a summary instead of
//! plain lines: the real binary runs in a real terminal (a tmux pane)
//! against real OpenSSH hosts, and the final screen is read back.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::fixture::{self, FAIL};
use support::hosts::Hosts;
use support::sh;
use support::tug::Tug;

/// The final screen of a pane.
struct Screen {
    rows: String,
    joined: String,
}

/// Printed by the pane's shell when tug has ended.
const END: &str = "TUG-EXITED";

/// A tmux server of its own (its own socket), killed on drop.
struct Terminal {
    socket: String,
}

impl Terminal {
    /// Run `argv` with `env` in a detached 160×50 pane; the pane stays open
    /// after the command ends and prints `TUG-EXITED <code>`.
    fn run(env: &[(&str, &Path)], argv: &[String]) -> Terminal {
        let socket = format!(
            "tug-test-{}-{}",
            std::process::id(),
            support::hosts::random_hex(4)
        );
        let mut line: Vec<String> = vec!["env".into()];
        line.extend(
            env.iter()
                .map(|(k, v)| quote(&format!("{k}={}", v.display()))),
        );
        line.extend(argv.iter().map(|a| quote(a)));
        // The shell outlives a Ctrl-C (a trap with a command is not passed
        // on to tug, whose own handler then runs) to print the exit code.
        let script = format!(
            "trap true INT; {} </dev/null; echo {END} $?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?echoctl'; sleep 600",
            line.join(" ")
        );
        sh(Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "50",
            ])
            .arg(script));
        Terminal { socket }
    }

    /// Send `signal` to the command the pane's shell runs.
    fn kill(&self, signal: &str) {
        let shell = sh(Command::new("tmux").args([
            "-L",
            &self.socket,
            "display-message",
            "-p",
            "#{pane_pid}",
        ]));
        let child = sh(Command::new("pgrep").args(["-P", shell.trim()]));
        sh(Command::new("kill").args([&format!("-{signal}"), child.trim()]));
    }

    /// Press Ctrl-C in the pane.
    fn ctrl_c(&self) {
        sh(Command::new("tmux").args(["-L", &self.socket, "send-keys", "C-c"]));
    }

    /// What the pane shows now, row by row; with `join`, a line the
    /// terminal wrapped is one line again.
    fn screen(&self, join: bool) -> String {
        let mut capture = vec!["-L", &self.socket, "capture-pane", "-p"];
        if join {
            capture.push("-J");
        }
        sh(Command::new("tmux").args(capture))
    }

    /// Wait (up to five minutes) for the command to end; the final screen
    /// as rows (a host's line fills its row exactly, so the terminal marks
    /// it wrapped) and with wrapped lines joined (for the long error lines).
    fn wait(&self) -> Screen {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let rows = self.screen(false);
            if rows.contains(END) {
                return Screen {
                    rows,
                    joined: self.screen(true),
                };
            }
            let screen = rows;
            assert!(Instant::now() < deadline, "tug did not end:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// `arg` as one shell word.
fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// `tug run` of the fixture images in a terminal, `hosts[0]` the master.
fn start_in_terminal(tug: &Tug, hosts: &Hosts, extra: &[String]) -> Terminal {
    let mut argv = vec![env!("CARGO_BIN_EXE_tug").to_string(), "run".to_string()];
    argv.extend(fixture::build_images(tug));
    argv.extend(
        [
            "--masters".to_string(),
            hosts[0].addr(),
            "--pk".to_string(),
            hosts.key.display().to_string(),
        ]
        .into_iter()
        .chain(extra.iter().cloned()),
    );
    Terminal::run(&[("TUG_HOME", tug.home()), ("HOME", tug.home())], &argv)
}

fn run_in_terminal(tug: &Tug, hosts: &Hosts, extra: &[String]) -> Screen {
    start_in_terminal(tug, hosts, extra).wait()
}

/// The screen's line for `host`.
fn host_line<'a>(screen: &'a str, host: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")))
        .unwrap_or_else(|| panic!("no line for {host} in\n{screen}"))
}

#[test]
fn each_host_ends_with_a_tick_and_the_summary_counts_what_was_sent() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let nodes = vec!["--nodes".to_string(), hosts[1].addr()];
    let Screen { rows: screen, .. } = run_in_terminal(&tug, &hosts, &nodes);
    assert!(screen.contains(&format!("{END} 0")), "{screen}");
    for host in [&hosts[0].ip, &hosts[1].ip] {
        let line = host_line(&screen, host);
        assert!(line.contains("✔ done"), "{screen}");
    }
    let summary = screen
        .lines()
        .find(|l| l.starts_with("2 of 2 hosts done in "))
        .unwrap_or_else(|| panic!("no summary in\n{screen}"));
    for host in [&hosts[0].ip, &hosts[1].ip] {
        assert!(summary.contains(&format!(" to {host}")), "{summary}");
    }
    assert!(screen.contains("cluster default is ready"), "{screen}");
    // No plain `HH:MM:SS [host] phase: …` lines on a terminal.
    assert!(
        !screen.contains(&format!("] [{}] ", hosts[0].ip)),
        "{screen}"
    );
    assert!(!screen.contains(" distribute: sent "), "{screen}");
}

#[test]
fn a_failed_host_gets_a_cross_and_its_error_in_full_below_the_lines() {
    let hosts = Hosts::start(2);
    hosts[1].exec(&format!("echo init.sh > {FAIL}"));
    let tug = Tug::new();
    let nodes = vec!["--nodes".to_string(), hosts[1].addr()];
    let Screen {
        rows: screen,
        joined,
    } = run_in_terminal(&tug, &hosts, &nodes);
    assert!(screen.contains(&format!("{END} 1")), "{screen}");
    let node = host_line(&screen, &hosts[1].ip);
    assert!(node.contains("✘ init: exited with code 1 · `"), "{screen}");
    assert!(!host_line(&screen, &hosts[0].ip).contains('✘'), "{screen}");
    // The failure in full, as the plain output prints it: host, command,
    // exit code and the last output lines.
    assert!(
        joined.contains(&format!(
            "[{}] init: init failed: exited with code 1\n    last output:\n",
            hosts[1].ip
        )) && joined.contains(&format!("\n      init.sh: failing on purpose ({FAIL})\n"))
            && joined.contains("&& bash init.sh\n"),
        "{joined}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("hosts done, 1 failed in ")),
        "{screen}"
    );
}

#[test]
fn ctrl_c_is_said_above_the_lines_and_the_hosts_show_where_they_stopped() {
    let hosts = Hosts::start(2);
    // The node's tar (which unpacks each layer) waits for a go-ahead,
    // so the run is inside the distribution when Ctrl-C is pressed.
    fixture::hold_layers(&hosts[1]);
    let tug = Tug::new();
    let nodes = vec!["--nodes".to_string(), hosts[1].addr()];
    let term = start_in_terminal(&tug, &hosts, &nodes);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !fixture::layer_held(&hosts[1]) {
        let screen = term.screen(false);
        assert!(Instant::now() < deadline, "never distributing:\n{screen}");
        assert!(!screen.contains(END), "tug ended early:\n{screen}");
        std::thread::sleep(Duration::from_millis(50));
    }
    term.ctrl_c();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !term
        .screen(false)
        .contains("cancelling: no new step starts")
    {
        assert!(Instant::now() < deadline, "{}", term.screen(false));
        std::thread::sleep(Duration::from_millis(50));
    }
    fixture::release_layers(&hosts[1]);
    let Screen { rows: screen, .. } = term.wait();
    assert!(screen.contains(&format!("{END} 130")), "{screen}");
    // The terminal did not echo ^C into the lines (it would leave a stale one).
    assert!(!screen.contains("^C"), "{screen}");
    let node = host_line(&screen, &hosts[1].ip);
    assert!(node.contains("– stopped after distribute"), "{screen}");
    assert!(!screen.contains('✘'), "{screen}");
    assert!(
        screen.lines().any(|l| l.contains(" of 2 hosts done in ")),
        "{screen}"
    );
}

#[test]
fn sigterm_and_sighup_while_the_lines_are_drawn_leave_the_terminal_as_it_was() {
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let hosts = Hosts::start(1);
        // The preflight `df` waits for a go-ahead: tug is mid-run.
        let (held, go) = ("/var/lib/tug-test-df-held", "/var/lib/tug-test-df-go");
        hosts[0].exec(&format!(
            "printf '#!/bin/sh\\ntouch {held}\\nwhile [ ! -e {go} ]; do sleep 0.05; done\\nexec /usr/bin/df \"$@\"\\n' > /usr/local/bin/df && chmod 755 /usr/local/bin/df"
        ));
        let tug = Tug::new();
        let term = start_in_terminal(&tug, &hosts, &[]);
        let deadline = Instant::now() + Duration::from_secs(300);
        while !hosts[0]
            .exec_output(&format!("test -e {held}"))
            .status
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "no held df:\n{}",
                term.screen(true)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        term.kill(signal);
        let Screen { rows, .. } = term.wait();
        hosts[0].exec(&format!("touch {go}; rm -f /usr/local/bin/df"));
        assert!(rows.contains(&format!("{END} {code}")), "{signal}:\n{rows}");
        // Control keys echo again, as they did before tug drew its lines
        // (the shell prints the setting right after the exit code).
        let after = |rows: &str| {
            let line = rows.lines().skip_while(|l| !l.contains(END)).nth(1);
            line.map(|l| l.trim().to_string()).unwrap_or_default()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut rows = rows;
        while after(&rows).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            rows = term.screen(false);
        }
        assert_eq!(after(&rows), "echoctl", "{signal}:\n{rows}");
    }
}

#[test]
fn three_ctrl_c_leave_at_once_while_a_command_runs_each_said_once() {
    let hosts = Hosts::start(2);
    // The node's preflight `df` waits for a go-ahead that comes only after
    // tug has ended: the first Ctrl-C lets that command run on, so only
    // the third ends the run.
    let (held, go) = ("/var/lib/tug-test-df-held", "/var/lib/tug-test-df-go");
    hosts[1].exec(&format!(
        "printf '#!/bin/sh\\ntouch {held}\\nwhile [ ! -e {go} ]; do sleep 0.05; done\\nexec /usr/bin/df \"$@\"\\n' > /usr/local/bin/df && chmod 755 /usr/local/bin/df"
    ));
    let tug = Tug::new();
    let nodes = vec!["--nodes".to_string(), hosts[1].addr()];
    let term = start_in_terminal(&tug, &hosts, &nodes);
    let wait_for = |what: &str, ok: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let screen = term.screen(true);
            if ok(&screen) {
                return;
            }
            assert!(Instant::now() < deadline, "no {what}:\n{screen}");
            assert!(!screen.contains(END), "tug ended early:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let node = &hosts[1];
    wait_for("held df", &|_| {
        node.exec_output(&format!("test -e {held}"))
            .status
            .success()
    });
    term.ctrl_c();
    wait_for("cancelling", &|s| {
        s.contains("cancelling: no new step starts")
    });
    term.ctrl_c();
    wait_for("the warning", &|s| {
        s.contains("one more Ctrl-C leaves at once")
    });
    term.ctrl_c();
    let Screen { rows, joined } = term.wait();
    hosts[1].exec(&format!("touch {go}; rm -f /usr/local/bin/df"));
    assert!(rows.contains(&format!("{END} 130")), "{rows}");
    for once in [
        "cancelling: no new step starts",
        "one more Ctrl-C leaves at once",
        "left at once",
    ] {
        assert_eq!(joined.matches(once).count(), 1, "{once}:\n{joined}");
    }
    assert!(!rows.contains("^C"), "{rows}");
    // No stale copy of a host's line above the notices.
    for h in [&hosts[0].ip, &hosts[1].ip] {
        let lines = rows.lines().filter(|l| l.starts_with(&format!("{h} ")));
        assert_eq!(lines.count(), 1, "{h}:\n{rows}");
    }
}
