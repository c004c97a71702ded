//! `tug` with no subcommand opens the wizard on a terminal: the real
//! binary in tmux walks image → hosts → SSH (a concurrent connection test
//! against real sshd hosts, first-use keys confirmed) → configuration → review (the
//! Clusterfile and the plan; `s` saves). Without a terminal it prints help.

mod support;

use support::fixture::{self, JOURNAL, calls, calls_of};
use support::hosts::Hosts;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

fn pause() {
    // An Escape followed at once by a key reads as Alt-key to a terminal.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[test]
fn the_wizard_walks_from_image_to_a_saved_clusterfile_with_tested_connections() {
    let home = Tug::new();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");
    home.cmd()
        .args(["build", "-t", "tug/demo:v1.28.9", demo])
        .output()
        .unwrap();
    let hosts = Hosts::start(2);
    let (m, n) = (&hosts[0], &hosts[1]);
    let term = Tmux::start(home.home());
    term.type_line(&format!("{}; echo TUG-EXIT=$?", env!("CARGO_BIN_EXE_tug")));

    let screen = term.wait_for("the image screen", |s| s.contains("1 image"));
    assert!(screen.contains("docker.io/tug/demo:v1.28.9"), "{screen}");
    assert!(
        screen.contains("kubernetes: v1.28.9") && screen.contains("type: rootfs"),
        "{screen}"
    );
    assert!(
        screen.contains("registryPassword=<masked>") && !screen.contains("passw0rd"),
        "{screen}"
    );
    term.keys(&["?"]);
    term.wait_for("the help", |s| {
        s.contains(" help ") && s.contains("select an image")
    });
    term.keys(&["x"]);
    term.wait_for("the help to close", |s| !s.contains("any key closes"));

    term.keys(&["Enter"]);
    term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    term.keys(&["a"]);
    term.type_line("10.0.0.300");
    term.wait_for("the bad address named", |s| s.contains("10.0.0.300:"));
    term.keys(&["C-u"]);
    for _ in 0..10 {
        term.keys(&["BSpace"]);
    }
    term.type_line(&m.ip);
    term.keys(&["n"]);
    term.type_line(&n.ip);
    // The typed address shows in the input line before Enter lands: wait
    // for the node's table row itself.
    let screen = term.wait_for("both hosts", |s| row(s, &n.ip).contains("node"));
    assert!(row(&screen, &m.ip).contains("master"), "{screen}");

    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Tab"]);
    term.type_line(&hosts.key.display().to_string());
    // Enter moved on to the configuration; come back to test the connections first.
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    pause();
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the SSH screen again", |s| s.contains("3 ssh"));
    term.keys(&["C-t"]);
    let screen = term.wait_for("both new keys", |s| {
        s.matches("  new host key ssh-").count() == 2
    });
    assert!(
        screen.contains(&m.fingerprint()) && screen.contains(&n.fingerprint()),
        "{screen}"
    );
    let known = home.home().join("config/known_hosts");
    assert!(
        !known.exists() || !std::fs::read_to_string(&known).unwrap().contains(&m.ip),
        "recorded before confirming"
    );
    term.keys(&["C-y"]);
    let screen = term.wait_for("both trusted", |s| s.matches("(trusted now)").count() == 2);
    assert!(!screen.contains("failed"), "{screen}");
    term.keys(&["C-t"]);
    term.wait_for("keys on record", |s| {
        s.matches("key on record").count() == 2
    });

    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    let screen = term.wait_for("the plan", |s| s.contains("# Plan"));
    assert!(
        screen.contains("# Clusterfile") && screen.contains("docker.io/tug/demo:v1.28.9"),
        "{screen}"
    );
    assert!(screen.contains(&format!("{}:22", m.ip)), "{screen}");
    term.keys(&["s"]);
    term.wait_for("saved", |s| s.contains("saved "));
    let cf =
        std::fs::read_to_string(home.home().join("state/clusters/default/Clusterfile")).unwrap();
    assert!(
        cf.contains(&format!("{}:22", n.ip)) && cf.contains("- node"),
        "{cf}"
    );
    assert!(cf.contains(&hosts.key.display().to_string()), "{cf}");
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(!term.alternate());
}

#[test]
fn the_wizard_installs_the_fixture_image_over_ssh_and_shows_every_host_done() {
    let home = Tug::new();
    fixture::build_images(&home);
    let hosts = Hosts::start(2);
    let term = wizard::open(&home, |s| s.contains("1 image"));
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    wizard::master_and_node(&term, &hosts);
    wizard::name_and_key(&term, "w1", &hosts);
    wizard::trust_to_plan(&term);
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" cluster ready "), "{screen}");
    for h in hosts.iter() {
        assert!(row(&screen, &h.ip).contains(" done "), "{screen}");
    }
    let state = home.home().join("state/clusters/w1");
    assert!(
        screen.contains(&format!(
            "kubeconfig: {}",
            state.join("admin.conf").display()
        )),
        "{screen}"
    );
    let all = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    assert_eq!(
        calls_of(&all, "kubeadm", "init --config=").len(),
        1,
        "{all:?}"
    );
    let all = calls(&hosts[1].exec(&format!("cat {JOURNAL}")));
    assert_eq!(
        calls_of(&all, "kubeadm", "join --config=").len(),
        1,
        "{all:?}"
    );
    let cf = std::fs::read_to_string(state.join("Clusterfile")).unwrap();
    assert!(cf.contains("ClusterSuccess"), "{cf}");
    // The same status as `tug apply` saves: the last stage, then success.
    assert!(
        cf.contains("type: ApplyClusterProgress") && cf.contains("type: ApplyClusterSuccess"),
        "{cf}"
    );
    wizard::quit(&term);
}

#[test]
fn without_a_terminal_tug_prints_help() {
    let home = Tug::new();
    let out = home.cmd().output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: tug"));
}
