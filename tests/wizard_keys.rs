//! The wizard's keys with the real binary in tmux at 80×24: how many an
//! install takes (a fresh home whose `~/.ssh/id_ed25519` logs in to three
//! real sshd hosts, from the image screen to a started install of a master
//! and two nodes; the addresses are typed, every other key is counted), and
//! Ctrl-C asking before it throws input away, then exiting 130.

mod support;

use std::cell::Cell;
use support::fixture;
use support::hosts::Hosts;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

/// The most keys (beyond the addresses' characters) an install may take.
const MOST: usize = 12;

/// `ip1-LAST` when the two are neighbours, else `ip1,ip2`; with the port
/// when it is not 22.
fn nodes(a: &str, b: &str, port: u16) -> String {
    let (head, last) = a.rsplit_once('.').unwrap();
    let next = last
        .parse::<u8>()
        .unwrap()
        .checked_add(1)
        .map(|n| format!("{head}.{n}"));
    let list = if next.as_deref() == Some(b) {
        format!("{a}-{}", b.rsplit_once('.').unwrap().1)
    } else {
        format!("{a},{b}")
    };
    if port == 22 {
        list
    } else {
        format!("{list}:{port}")
    }
}

#[test]
fn an_install_of_a_master_and_two_nodes_takes_at_most_twelve_keys() {
    let home = Tug::new();
    fixture::build_images(&home);
    let hosts = Hosts::start(3);
    let user_home = tempfile::tempdir().unwrap();
    let ssh = user_home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::copy(&hosts.key, ssh.join("id_ed25519")).unwrap();
    let term = Tmux::start(home.home());
    term.resize(80, 24);
    term.type_line(&format!(
        "HOME={} {}; echo TUG-EXIT=$?",
        user_home.path().display(),
        env!("CARGO_BIN_EXE_tug")
    ));
    term.wait_for("the image screen", |s| s.contains("1 image"));
    let count = Cell::new(0);
    let press = |keys: &[&str]| {
        count.set(count.get() + keys.len());
        term.keys(keys);
    };
    let port = hosts[0].port;
    let master = if port == 22 {
        hosts[0].ip.clone()
    } else {
        format!("{}:{port}", hosts[0].ip)
    };

    press(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    press(&["Enter"]);
    term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    press(&["a"]);
    term.text(&master);
    press(&["Enter", "n"]);
    term.text(&nodes(&hosts[1].ip, &hosts[2].ip, port));
    press(&["Enter"]);
    term.wait_for("three hosts", |s| row(s, &hosts[2].ip).contains("node"));
    press(&["Enter"]);
    let screen = term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    assert!(screen.contains("id_ed25519 (found"), "{screen}");
    press(&["C-t"]);
    term.wait_for("new keys", |s| s.matches("new host key ssh-").count() == 3);
    press(&["C-y"]);
    let screen = term.wait_for("trusted keys", |s| s.matches("(trusted now)").count() == 3);
    assert!(!screen.contains("failed"), "{screen}");
    press(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    press(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"));
    press(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" cluster ready "), "{screen}");
    assert!(
        count.get() <= MOST,
        "{} keys beyond the addresses (at most {MOST})",
        count.get()
    );
    let prefs = std::fs::read_to_string(home.home().join("config/wizard.yaml")).unwrap();
    assert!(
        prefs.contains("user: root") && prefs.contains("port: 22"),
        "{prefs}"
    );
    wizard::quit(&term);
}

#[test]
fn ctrl_c_asks_before_throwing_typed_input_away_and_exits_130() {
    let home = Tug::new();
    let term = wizard::open(&home, |s| s.contains("1 image"));
    term.resize(80, 24);
    term.keys(&["p"]);
    term.text("registry.example.com/some/image:v1");
    term.keys(&["C-c"]);
    term.wait_for("the question", |s| s.contains("What you entered is lost"));
    term.keys(&["x"]);
    term.wait_for("the question gone", |s| {
        !s.contains("What you entered is lost")
    });
    assert!(term.alternate(), "any other key stays");
    term.keys(&["C-c"]);
    term.wait_for("the question", |s| s.contains("What you entered is lost"));
    term.keys(&["C-c"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=130"));
    assert!(!term.alternate());

    let term = wizard::open(&home, |s| s.contains("1 image"));
    term.keys(&["C-c"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=130"));
}
