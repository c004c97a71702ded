//! `tug demo --wizard`: the real binary in tmux walks every wizard screen
//! over the five simulated hosts (connection test answered with simulated
//! keys, nothing written to known_hosts), installs over them, cancels and
//! resumes; without a terminal it is refused.

mod support;

use support::demo::{HOSTS, every_host_done};
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard::flat;

#[test]
fn the_demo_wizard_walks_every_screen_over_simulated_hosts_and_installs() {
    let home = Tug::new();
    let term = Tmux::start(home.home());
    term.type_line(&format!(
        "{} demo --wizard --pace 20 --speed 1024; echo TUG-EXIT=$?",
        env!("CARGO_BIN_EXE_tug")
    ));
    let screen = term.wait_for("the image screen", |s| s.contains("1 image"));
    assert!(screen.contains("demo: simulated hosts"), "{screen}");
    assert!(screen.contains("docker.io/tug/demo:v1.28.9"), "{screen}");

    term.keys(&["Enter"]);
    let screen = term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    for (i, h) in HOSTS.iter().enumerate() {
        let role = if i < 3 { "master" } else { "node" };
        assert!(row(&screen, h).contains(role), "{h}:\n{screen}");
    }

    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["C-t"]);
    let screen = term.wait_for("five new keys", |s| {
        s.matches("  new host key ssh-ed25519 SHA256:demo-").count() == 5
    });
    assert!(screen.contains("(simulated)"), "{screen}");
    term.keys(&["C-y"]);
    let screen = term.wait_for("five trusted keys", |s| {
        s.matches("(simulated; trusted now)").count() == 5
    });
    for h in HOSTS {
        assert!(row(&screen, h).contains("  ok  amd64  "), "{h}:\n{screen}");
    }

    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    let screen = term.wait_for("the plan", |s| s.contains("Enter installs"));
    let text = flat(&screen);
    assert!(text.contains("# Plan"), "{screen}");

    // `s` saves into the demo's own state, not among the user's clusters.
    term.keys(&["s"]);
    let screen = term.wait_for("the saved note", |s| s.contains("saved "));
    let saved = home.home().join("state/demo/clusters/default/Clusterfile");
    assert!(saved.is_file(), "{screen}");
    assert!(!home.home().join("state/clusters").exists(), "{screen}");

    // Enter installs; cancel while the rootfs is sent, then `r` resumes:
    // each run saves its status into the demo cluster's Clusterfile.
    term.keys(&["Enter"]);
    term.wait_for("distribution", |s| {
        s.contains("installing cluster default") && row(s, HOSTS[0]).contains("distribute")
    });
    term.keys(&["c"]);
    term.wait_for("the cancelled screen", |s| s.contains(" cancelled "));
    let mtime = || std::fs::metadata(&saved).and_then(|m| m.modified()).ok();
    let before = mtime();
    term.keys(&["r"]);
    let screen = term.wait_for("every host done", |s| {
        mtime() != before && s.contains(" cluster ready ") && every_host_done(s)
    });
    assert!(screen.contains("demo: simulated hosts"), "{screen}");
    let log = home
        .home()
        .join("state/demo/clusters/default/logs/192.168.64.11.log");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("Your Kubernetes control-plane has initialized successfully!"),
        "{log}"
    );
    term.keys(&["q"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(!term.alternate(), "{screen}");

    // No simulated host's key was recorded.
    let known = home.home().join("config/known_hosts");
    let recorded = std::fs::read_to_string(&known).unwrap_or_default();
    assert!(!recorded.contains("192.168.64."), "{recorded}");
}

#[test]
fn without_a_terminal_the_demo_wizard_is_refused_in_one_line() {
    let home = Tug::new();
    let run = home.cmd().args(["demo", "--wizard"]).output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("tug demo --wizard needs a terminal"), "{err}");
    // Refused before anything was built or cleared.
    assert!(!home.home().join("state/demo").exists(), "{err}");
}
