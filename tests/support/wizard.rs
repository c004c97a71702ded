//! Walking the real wizard in tmux: the steps several wizard tests share
//! (open it, list two hosts, trust their keys and reach the plan, quit),
//! and reading its screens (text without borders, how an install ended).

use super::hosts::Hosts;
use super::tmux::{Tmux, row};
use super::tug::Tug;

/// A terminal running the wizard over `home`'s store, on its image screen
/// once `ready` holds for the screen.
pub fn open(home: &Tug, ready: impl Fn(&str) -> bool) -> Tmux {
    let term = Tmux::start(home.home());
    term.type_line(&format!("{}; echo TUG-EXIT=$?", env!("CARGO_BIN_EXE_tug")));
    term.wait_for("the image screen", ready);
    term
}

/// From the image screen: Enter, hosts[0] as master and hosts[1] as node,
/// Enter again; returns on the SSH screen.
pub fn master_and_node(term: &Tmux, hosts: &Hosts) {
    term.keys(&["Enter", "a"]);
    term.type_line(&hosts[0].ip);
    term.keys(&["n"]);
    term.type_line(&hosts[1].ip);
    term.wait_for("both hosts", |s| row(s, &hosts[1].ip).contains("node"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
}

/// On the SSH screen with credentials typed: test both hosts, trust their
/// new keys, go through the configuration; returns on the plan, where
/// Enter installs. The screen is returned.
pub fn trust_to_plan(term: &Tmux) -> String {
    term.keys(&["C-t"]);
    term.wait_for("new keys", |s| {
        s.matches("  new host key ssh-").count() == 2
    });
    term.keys(&["C-y"]);
    let screen = term.wait_for("trusted keys", |s| s.matches("(trusted now)").count() == 2);
    assert!(!screen.contains("failed"), "{screen}");
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"))
}

/// On the SSH screen: test the hosts (trusting new keys when `new` of
/// them are new), then through the configuration to the review, whose
/// screen is returned once its plan is made.
pub fn test_to_review(term: &Tmux, new: usize) -> String {
    term.keys(&["C-t"]);
    if new > 0 {
        term.wait_for("new keys", |s| {
            flat(s).matches("new host key ssh-").count() == new
        });
        term.keys(&["C-y"]);
    }
    term.wait_for("tested hosts", |s| {
        !s.contains("testing…") && !s.contains("new host key") && s.contains("  ok  ")
    });
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the review", |s| {
        s.contains("5 review") && !s.contains("planning…")
    })
}

/// On the SSH screen: replace the cluster's name "default" with `name`
/// and type the key path.
pub fn name_and_key(term: &Tmux, name: &str, hosts: &Hosts) {
    term.keys(&["Up", "Up"]);
    for _ in 0.."default".len() {
        term.keys(&["BSpace"]);
    }
    term.text(name);
    term.keys(&["Down", "Down", "Down"]);
    term.text(&hosts.key.display().to_string());
}

/// Whether the screen shows how an install from the wizard ended.
pub fn ended(screen: &str) -> bool {
    screen.contains(" cluster ready ")
        || screen.contains(" cluster upgraded ")
        || screen.contains(" install failed ")
        || screen.contains(" upgrade failed ")
        || screen.contains(" did not run ")
}

/// Leave with q; the shell then says tug exited 0.
pub fn quit(term: &Tmux) {
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
}

/// The screen's text with box borders gone and wrapped lines joined, so a
/// long message reads as one line again.
pub fn flat(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '│'))
        .collect::<Vec<_>>()
        .join(" ")
}
