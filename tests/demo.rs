//! `tug demo` end to end: the real binary in a real terminal (tmux), the
//! demo image built on first use, five simulated hosts installed through
//! the real planner and runner, and the terminal restored on every exit.

mod support;

use support::demo::{HOSTS, every_host_done};
use support::tmux::{Tmux, row};
use support::tug::Tug;

fn tug() -> &'static str {
    env!("CARGO_BIN_EXE_tug")
}

/// A simulated host's log, as the runner wrote it.
fn demo_log(home: &Tug, ip: &str) -> String {
    std::fs::read_to_string(home.home().join(format!("state/demo/logs/{ip}.log"))).unwrap()
}

/// Start a demo over a link of `speed` KiB/s and wait until master0 is
/// distributing (its 8 MiB layer), so there is time to act during it.
fn slow_demo_distributing(home: &Tug, speed: u32) -> Tmux {
    let term = Tmux::start(home.home());
    term.type_line(&format!(
        "{} demo --pace 100 --speed {speed}; echo TUG-EXIT=$?",
        tug()
    ));
    term.wait_for("distribution", |s| {
        row(s, "192.168.64.11").contains("distribute")
    });
    term
}

#[test]
fn the_demo_installs_every_host_shows_logs_and_help_and_q_restores_the_terminal() {
    let home = Tug::new();
    let term = Tmux::start(home.home());
    term.type_line(&format!(
        "{} demo --pace 40 --speed 32768; echo TUG-EXIT=$?",
        tug()
    ));
    let screen = term.wait_for("the dashboard", |s| s.contains("demo: simulated hosts"));
    assert!(
        screen.contains("installing cluster demo (tug/demo:v1.28.9)"),
        "{screen}"
    );
    // The done box comes first, master0's log a frame later.
    let screen = term.wait_for("every host done and master0's log", |s| {
        s.contains(" cluster ready ") && every_host_done(s) && s.contains("log: 192.168.64.11")
    });
    assert!(
        screen.contains("kubeconfig: ") && screen.contains("state/demo/admin.conf"),
        "{screen}"
    );
    // master0's log: it ran kubeadm init.
    assert!(screen.contains("log: 192.168.64.11"), "{screen}");
    assert!(
        screen.contains("Your Kubernetes control-plane has initialized successfully!"),
        "{screen}"
    );
    // The next host's log: a control-plane join.
    term.keys(&["Down"]);
    let screen = term.wait_for("the second master's log", |s| {
        s.contains("log: 192.168.64.12")
    });
    assert!(!screen.contains("initialized successfully"), "{screen}");
    let screen = term.wait_for("join lines", |s| {
        s.contains("This node has joined the cluster.")
    });
    assert!(
        row(&screen, "192.168.64.12").contains("join-masters"),
        "{screen}"
    );
    term.keys(&["?"]);
    let screen = term.wait_for("the help", |s| {
        s.contains(" help ") && s.contains("any key closes")
    });
    assert!(screen.contains("quit"), "{screen}");
    term.keys(&["x"]);
    term.wait_for("the help to close", |s| !s.contains("any key closes"));
    assert!(term.alternate());
    term.keys(&["q"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(
        !term.alternate(),
        "still on the alternate screen:\n{screen}"
    );
    assert!(
        screen.contains("demo: simulated hosts; logs in"),
        "{screen}"
    );
    assert!(
        !screen.contains("┌ hosts"),
        "the dashboard is left on screen:\n{screen}"
    );
    // The per-host logs are real files written by the runner.
    let log = demo_log(&home, "192.168.64.21");
    assert!(log.contains("This node has joined the cluster."), "{log}");
}

#[test]
fn cancel_stops_the_transfer_and_r_resumes_skipping_what_finished() {
    let home = Tug::new();
    // Cancel stops the layer at once, so `r` sends it again: a link of
    // 1 MiB/s leaves eight seconds to cancel in and costs as much again.
    let term = slow_demo_distributing(&home, 1024);
    term.keys(&["c"]);
    let screen = term.wait_for("the cancelled screen", |s| s.contains(" cancelled "));
    assert!(screen.contains("r resumes"), "{screen}");
    assert!(
        !HOSTS.iter().any(|h| row(&screen, h).contains("running")),
        "{screen}"
    );
    let before = demo_log(&home, "192.168.64.11");
    assert!(
        !before.contains("kubeadm init"),
        "cancel let later stages start:\n{before}"
    );
    term.keys(&["r"]);
    term.wait_for("the resumed run", |s| s.contains("installing cluster demo"));
    term.resize(90, 30);
    term.wait_for("every host done", |s| s.contains(" cluster ready "));
    let log = demo_log(&home, "192.168.64.11");
    let checks = log
        .lines()
        .filter(|l| l.starts_with("==> ") && l.contains(" preflight: run: "))
        .count();
    assert_eq!(
        checks, 1,
        "the preflight checks ran again on resume:\n{log}"
    );
    term.keys(&["q"]);
    // The last run finished, so leaving is an ordinary exit.
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(!term.alternate());
}

#[test]
fn ctrl_c_cancels_and_exits_130_with_the_terminal_restored() {
    let home = Tug::new();
    let term = slow_demo_distributing(&home, 256);
    term.keys(&["C-c"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=130"));
    assert!(!term.alternate(), "{screen}");
}

#[test]
fn without_a_terminal_the_demo_prints_plain_lines() {
    let home = Tug::new();
    let run = home
        .cmd()
        .args(["demo", "-v", "--pace", "10", "--speed", "65536"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("demo: simulated hosts (nothing is contacted)"),
        "{err}"
    );
    assert!(
        err.contains("building the demo image tug/demo:v1.28.9"),
        "{err}"
    );
    for h in &HOSTS[3..] {
        assert!(
            err.contains(&format!(
                "[{h}] join-nodes: This node has joined the cluster."
            )),
            "{err}"
        );
    }
    assert!(err.contains("demo cluster is ready (simulated)"), "{err}");
    // A second demo finds the image and installs from scratch again.
    let again = home
        .cmd()
        .args(["demo", "-v", "--pace", "10", "--speed", "65536"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && !err.contains("building the demo image"),
        "{err}"
    );
    assert!(
        err.contains("[192.168.64.11] kubeadm-init: [init] Using Kubernetes version"),
        "{err}"
    );
}

/// The demo in tmux at 80x24 with its pid written to a file, running.
fn demo_with_pid(home: &Tug) -> (Tmux, i32) {
    let term = Tmux::start(home.home());
    term.resize(80, 24);
    let pid = home.home().join("tug.pid");
    term.type_line(&format!(
        "sh -c 'echo $$ > {}; exec {} demo --pace 100 --speed 256'; echo TUG-EXIT=$?",
        pid.display(),
        tug()
    ));
    // The dashboard is up; its 8 MiB at 256 KiB/s keep it up for a while.
    term.wait_for("the dashboard", |s| s.contains("┌ hosts"));
    let pid = std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (term, pid)
}

/// The shell is back to normal: main screen, cursor shown, and the line
/// discipline cooked with echo (raw mode off), as `stty -a` reports it.
fn assert_restored(term: &Tmux, screen: &str) {
    assert!(
        !term.alternate(),
        "still on the alternate screen:\n{screen}"
    );
    assert!(term.cursor_shown(), "the cursor is hidden:\n{screen}");
    assert!(!screen.contains("┌ hosts"), "{screen}");
    term.type_line("clear; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo STTY-END");
    let stty = term.wait_for("stty", |s| s.contains("STTY-END") && s.contains("icanon "));
    assert!(stty.contains("icanon echo STTY-END"), "{stty}");
}

#[test]
fn sigterm_and_sighup_leave_the_terminal_restored() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129)] {
        let home = Tug::new();
        let (term, pid) = demo_with_pid(&home);
        // SAFETY: kill(2) on the pid of the tug this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let screen = term.wait_for("the shell", |s| {
            s.lines().any(|l| l.starts_with("TUG-EXIT="))
        });
        assert!(screen.contains(&format!("TUG-EXIT={code}")), "{screen}");
        assert_restored(&term, &screen);
    }
}

#[test]
fn piped_output_is_one_line_per_step_and_whole_scripts_only_with_v() {
    let home = Tug::new();
    let run = |verbose: bool| {
        let mut args = vec!["demo", "--pace", "10", "--speed", "65536"];
        if verbose {
            args.push("-v");
        }
        let out = home.cmd().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let brief = run(false);
    let steps: Vec<&str> = brief.lines().filter(|l| l.contains("] ")).collect();
    assert!(!steps.is_empty(), "{brief}");
    for line in &steps {
        assert!(
            line.contains(", done in ") || line.contains(", skipped ("),
            "not one line per step: {line}\n{brief}"
        );
    }
    assert!(
        brief.contains("[192.168.64.11] distribute: demo-v1.28.9#0, done in ")
            && brief.contains("s, sent 8.0 MiB"),
        "{brief}"
    );
    assert!(
        !brief.contains("set -e"),
        "a script in the brief output:\n{brief}"
    );
    assert!(!brief.contains("This node has joined"), "{brief}");
    let full = run(true);
    assert!(full.contains("set -e"), "{full}");
    assert!(full.contains("This node has joined the cluster."), "{full}");
    assert!(full.lines().count() > 5 * brief.lines().count(), "{full}");
}

#[test]
fn a_closed_pipe_ends_the_demo_quietly() {
    let home = Tug::new();
    // Built first, so the demo's own lines are what meets the closed pipe.
    let out = home
        .cmd()
        .args(["demo", "--pace", "10", "--speed", "65536"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} demo --pace 10 --speed 65536 2>&1 | head -2; echo \"rc=$?\"",
            tug()
        ))
        .env("TUG_HOME", home.home())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.ends_with("rc=141\n"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn three_ctrl_c_leave_a_plain_run_at_once_saying_each_thing_once() {
    use std::io::{BufRead, BufReader};
    let home = Tug::new();
    // Each simulated command takes about ten minutes: only leaving at
    // once ends this run.
    let mut child = home
        .cmd()
        .args(["demo", "--pace", "600000", "--speed", "65536"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |want: &str| {
        while !seen.iter().any(|l: &String| l.contains(want)) {
            let line = rx
                .recv_timeout(std::time::Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no {want:?} in {seen:#?}"));
            seen.push(line);
        }
    };
    wait_for("demo: simulated hosts");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = child.id() as i32;
    // SAFETY: kill(2) on the pid of a child we own and have not waited for.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    wait_for("cancelling: no new step starts");
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    wait_for("one more Ctrl-C leaves at once");
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
        seen.push(line);
    }
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    for once in ["cancelling:", "one more Ctrl-C", "left at once"] {
        assert_eq!(
            seen.iter().filter(|l| l.contains(once)).count(),
            1,
            "{once}: {seen:#?}"
        );
    }
}
