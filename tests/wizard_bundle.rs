//! A bundle made with real hosts fills the wizard on the air-gapped side:
//! `tug bundle create --masters … --nodes … --pk …`, then the bundle's own
//! `tug` with an empty TUG_HOME, `b`, and the hosts screen lists the
//! template's hosts with their roles, the SSH screen holds its key path
//! and cluster name, and the connection test and review go through.

mod support;

use support::hosts::Hosts;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

const DEMO: &str = "tug/demo:v1.28.9";

#[test]
fn the_bundles_clusterfile_fills_the_hosts_and_ssh_screens() {
    let hosts = Hosts::start(2);
    let (m, n) = (&hosts[0], &hosts[1]);
    let key = hosts.key.display().to_string();
    let builder = Tug::new();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");
    builder.run(&["build", "-t", DEMO, demo]).ok();
    let tmp = tempfile::Builder::new()
        .prefix("tug-wizard-bundle-")
        .tempdir()
        .unwrap();
    let stick = tmp.path().join("stick");
    let out = stick.to_str().unwrap();
    builder
        .run(&[
            "bundle",
            "create",
            "-o",
            out,
            DEMO,
            "--masters",
            &m.ip,
            "--nodes",
            &n.ip,
            "--pk",
            &key,
            "--cluster",
            "far",
        ])
        .ok();

    let far = Tug::new();
    let term = Tmux::start(far.home());
    term.type_line(&format!(
        "{}; echo TUG-EXIT=$?",
        stick.join("tug").display()
    ));
    term.wait_for("the bundle found", |s| {
        s.contains("has no images") && s.contains("bundle found: ")
    });
    term.keys(&["b"]);
    let screen = term.wait_for("the bundle loaded", |s| s.contains("type: rootfs"));
    let text = wizard::flat(&screen);
    assert!(
        text.contains(
            "hosts from the bundle's Clusterfile: 1 master, 1 node; from it too: cluster name, \
             private key"
        ),
        "{screen}"
    );

    term.keys(&["Enter"]);
    let screen = term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    assert!(row(&screen, &m.ip).contains("master"), "{screen}");
    assert!(row(&screen, &n.ip).contains("node"), "{screen}");

    term.keys(&["Enter"]);
    let screen = term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    assert!(
        screen.contains(&format!("private key: {key}")) && screen.contains("cluster name: far"),
        "{screen}"
    );
    let screen = wizard::trust_to_plan(&term);
    assert!(
        screen.contains(&format!("{}:22", m.ip)) && screen.contains("name: far"),
        "{screen}"
    );
    wizard::quit(&term);
}
