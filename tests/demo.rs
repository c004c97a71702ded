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

/// Start a demo over a slow link and wait until master0 is distributing,
/// so there is time to act during it.
fn slow_demo_distributing(home: &Tug) -> Tmux {
    let term = Tmux::start(home.home());
    term.type_line(&format!(
        "{} demo --pace 100 --speed 256; echo TUG-EXIT=$?",
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
fn cancel_lets_running_steps_finish_and_r_resumes_skipping_what_finished() {
    let home = Tug::new();
    let term = slow_demo_distributing(&home);
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
    let term = slow_demo_distributing(&home);
    term.keys(&["C-c"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=130"));
    assert!(!term.alternate(), "{screen}");
}

#[test]
fn without_a_terminal_the_demo_prints_plain_lines() {
    let home = Tug::new();
    let run = home
        .cmd()
        .args(["demo", "--pace", "10", "--speed", "65536"])
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
        .args(["demo", "--pace", "10", "--speed", "65536"])
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
