//! The wizard installs a cluster image plus an application image, as
//! `sealos run ROOTFS APP` does: the real binary in tmux over the fixture
//! images and real sshd hosts; Space marks the rootfs, then the app; the
//! review, the install's title and the saved Clusterfile name both in
//! order, and the app's CMD runs on master0 only.

mod support;

use support::fixture::{self, JOURNAL, calls, calls_of};
use support::hosts::Hosts;
use support::tmux::row;
use support::tug::Tug;
use support::wizard;
use tug::cluster::clusterfile::Clusterfile;

/// Where `needle` starts on the screen (panics with the screen if nowhere).
fn at(screen: &str, needle: &str) -> usize {
    screen
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle} on the screen:\n{screen}"))
}

#[test]
fn the_wizard_installs_a_rootfs_and_an_application_marked_in_order() {
    let home = Tug::new();
    let names = fixture::build_images(&home);
    let rootfs = format!("docker.io/{}", names[0]);
    let app = format!("docker.io/{}", names[1]);
    let hosts = Hosts::start(2);
    // The store lists the app first (by name): mark the rootfs, then it.
    let term = wizard::open(&home, |s| s.contains("1 image"));
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    term.keys(&["Space"]);
    term.wait_for("the rootfs marked first", |s| {
        s.contains(&format!(" 1 {rootfs}")) && s.contains("1 marked for the install")
    });
    term.keys(&["Up"]);
    term.wait_for("the app image", |s| s.contains("type: application"));
    term.keys(&["Space"]);
    let screen = term.wait_for("the app marked second", |s| {
        s.contains(&format!(" 2 {app}")) && s.contains("2 marked for the install")
    });
    assert!(screen.contains(&format!(" 1 {rootfs}")), "{screen}");

    wizard::master_and_node(&term, &hosts);
    wizard::name_and_key(&term, "apps", &hosts);
    let screen = wizard::trust_to_plan(&term);
    // The Clusterfile's image list: the rootfs, then the app.
    let list = at(&screen, "image:");
    let (first, second) = (
        at(&screen, &format!("- {rootfs}")),
        at(&screen, &format!("- {app}")),
    );
    assert!(list < first && first < second, "{screen}");

    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", |s| {
        s.contains(" cluster ready ")
            || s.contains(" install failed ")
            || s.contains(" did not run ")
    });
    assert!(screen.contains(" cluster ready "), "{screen}");
    assert!(
        screen.contains(&format!("({rootfs} + 1 app)")),
        "the title names both: {screen}"
    );
    for h in hosts.iter() {
        assert!(row(&screen, &h.ip).contains(" done "), "{screen}");
    }

    // The app's CMD ran once, on master0 only, in its workdir.
    let master = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    let ran = calls_of(&master, "install.sh", "default");
    assert_eq!(ran.len(), 1, "{master:?}");
    assert!(
        ran[0].cwd.ends_with("/applications/echo-app-v1/workdir"),
        "{ran:?}"
    );
    assert_eq!(ran[0].env["NAME"], "tug-echo");
    let node = calls(&hosts[1].exec(&format!("cat {JOURNAL}")));
    assert!(calls_of(&node, "install.sh", "").is_empty(), "{node:?}");
    assert_eq!(
        calls_of(&node, "kubeadm", "join --config=").len(),
        1,
        "{node:?}"
    );

    let saved = home.home().join("state/clusters/apps/Clusterfile");
    let cf = Clusterfile::load(&saved).unwrap();
    assert_eq!(cf.cluster.spec.image, [rootfs, app]);
    wizard::quit(&term);
}
