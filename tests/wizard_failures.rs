//! The wizard's done screen when the install it started fails, with the
//! real binary in tmux against real sshd hosts and the fixture images:
//! a host gone between the connection test and the install (the install
//! did not run, the host is named, `r` retries once it is back), and a
//! hook failing on the node (host, command, exit code, last output and
//! the host's log named; `r` resumes without running finished steps again).

mod support;

use support::fixture::{self, FAIL, JOURNAL, calls, calls_of};
use support::hosts::{Host, Hosts};
use support::tmux::{Tmux, row};
use support::tug::Tug;

/// The ways an install from the wizard ends, as the done screen titles them.
fn ended(screen: &str) -> bool {
    screen.contains(" cluster ready ")
        || screen.contains(" install failed ")
        || screen.contains(" did not run ")
}

/// Start the wizard over the fixture images and walk it to the review of
/// hosts[0] (master) and hosts[1] (node), keys trusted, the plan shown:
/// Enter installs.
fn to_review(home: &Tug, hosts: &Hosts) -> Tmux {
    fixture::build_images(home);
    let term = Tmux::start(home.home());
    term.type_line(&format!("{}; echo TUG-EXIT=$?", env!("CARGO_BIN_EXE_tug")));
    term.wait_for("the image screen", |s| s.contains("1 image"));
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    term.keys(&["Enter", "a"]);
    term.type_line(&hosts[0].ip);
    term.keys(&["n"]);
    term.type_line(&hosts[1].ip);
    term.wait_for("both hosts", |s| row(s, &hosts[1].ip).contains("node"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Tab"]);
    term.text(&hosts.key.display().to_string());
    term.keys(&["C-t"]);
    term.wait_for("new keys", |s| {
        s.matches("  new host key ssh-").count() == 2
    });
    term.keys(&["C-y"]);
    term.wait_for("trusted keys", |s| s.matches("(trusted now)").count() == 2);
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"));
    term
}

/// The screen's text with box borders gone and wrapped lines joined.
fn flat(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '│'))
        .collect::<Vec<_>>()
        .join(" ")
}

fn journal(host: &Host) -> Vec<fixture::Call> {
    calls(&host.exec(&format!("cat {JOURNAL} 2>/dev/null || true")))
}

fn quit(term: &Tmux) {
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
}

#[test]
fn a_host_gone_at_install_time_is_named_and_r_installs_once_it_is_back() {
    let home = Tug::new();
    let mut hosts = Hosts::start(2);
    let term = to_review(&home, &hosts);
    // Tested and trusted, then gone before the install starts.
    hosts[0].kill();
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", ended);
    let master = &hosts[0].ip;
    assert!(screen.contains(" install did not run "), "{screen}");
    let text = flat(&screen);
    assert!(
        text.contains("nothing was changed on any host")
            && text.contains(&format!("host {master}: {master}:22: cannot connect")),
        "{screen}"
    );
    assert!(text.contains("r tries again"), "{screen}");
    for h in hosts.iter() {
        assert!(row(&screen, &h.ip).contains(" not run "), "{screen}");
    }
    assert!(
        journal(&hosts[1]).is_empty(),
        "nothing ran on the node while the master was gone"
    );

    hosts[0].restart();
    term.keys(&["r"]);
    let screen = term.wait_for("the retried install to end", |s| {
        s.contains(" cluster ready ") || s.contains(" install failed ")
    });
    assert!(screen.contains(" cluster ready "), "{screen}");
    for h in hosts.iter() {
        assert!(row(&screen, &h.ip).contains(" done "), "{screen}");
    }
    let inits = calls_of(&journal(&hosts[0]), "kubeadm", "init --config=").len();
    assert_eq!(inits, 1);
    quit(&term);
}

#[test]
fn a_failing_hook_is_named_on_the_done_screen_and_r_resumes_to_a_ready_cluster() {
    let home = Tug::new();
    let hosts = Hosts::start(2);
    let term = to_review(&home, &hosts);
    hosts[1].exec(&format!("echo init.sh > {FAIL}"));
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", ended);
    let node = &hosts[1].ip;
    assert!(screen.contains(" install failed "), "{screen}");
    let text = flat(&screen);
    let log = home
        .home()
        .join(format!("state/clusters/default/logs/{node}.log"));
    for want in [
        format!("✗ [{node}] init: `"),
        "bash init.sh`".to_string(),
        "exit code 1".to_string(),
        format!("| init.sh: failing on purpose ({FAIL})"),
        format!("whole output: {}", log.display()),
        "r retries".to_string(),
    ] {
        assert!(
            text.contains(&want),
            "{want:?} not on the screen:\n{screen}"
        );
    }
    assert!(row(&screen, node).contains(" FAILED "), "{screen}");
    assert!(row(&screen, &hosts[0].ip).contains(" stopped "), "{screen}");
    let hook_runs = |h: &Host| calls_of(&journal(h), "init.sh", "").len();
    assert_eq!(hook_runs(&hosts[0]), 1, "master0's init hook ran");
    assert_eq!(
        calls_of(&journal(&hosts[0]), "kubeadm", "init --config=").len(),
        0,
        "no later stage started"
    );

    hosts[1].exec(&format!("rm {FAIL}"));
    term.keys(&["r"]);
    // The failed screen stays until the resumed run starts: wait for it to go.
    term.wait_for("the resumed install to start", |s| {
        !s.contains(" install failed ")
    });
    let screen = term.wait_for("the resumed install to end", |s| {
        s.contains(" cluster ready ") || s.contains(" install failed ")
    });
    assert!(screen.contains(" cluster ready "), "{screen}");
    for h in hosts.iter() {
        assert!(row(&screen, &h.ip).contains(" done "), "{screen}");
    }
    assert_eq!(
        hook_runs(&hosts[0]),
        1,
        "master0's init hook, which succeeded, did not run again"
    );
    assert_eq!(
        hook_runs(&hosts[1]),
        2,
        "the node's hook ran again once fixed"
    );
    assert_eq!(
        calls_of(&journal(&hosts[1]), "kubeadm", "join --config=").len(),
        1
    );
    quit(&term);
}
