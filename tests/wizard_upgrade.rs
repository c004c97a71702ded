//! The wizard offers the upgrade, with the real binary in tmux at 80×24
//! over real sshd hosts and the fixture rootfs built as v1.25.0 and
//! v1.26.0: a v1.25.0 cluster opened from the clusters screen with the
//! v1.26.0 image chosen reviews as an upgrade naming both versions, whole
//! at 80 columns; Enter runs it in the dashboard to the upgraded cluster.
//! A master's certificate near its end is a warning the dashboard shows
//! as the run starts and the done screen keeps.

mod support;

use support::fixture::{self, JOURNAL, NODES, calls, calls_of};
use support::hosts::Hosts;
use support::tmux::Tmux;
use support::tug::Tug;
use support::wizard;

/// Where the fixture keeps its leaf certificates' expiry date on a master.
const EXPIRY: &str = "/etc/kubernetes/pki/.fixture-expiry";

fn pause() {
    // An Escape followed at once by a key reads as Alt-key to a terminal.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// The saved Clusterfile of the cluster `default`.
fn saved(home: &Tug) -> String {
    std::fs::read_to_string(home.home().join("state/clusters/default/Clusterfile")).unwrap()
}

/// Install `image` with the CLI: hosts[0] the master, hosts[1] the node;
/// master0's kubectl then knows both hosts.
fn install(home: &Tug, hosts: &Hosts, image: &str) {
    let args = fixture::run_args_of(vec![image.to_string()], hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    home.run(&argv).ok();
    let nodes = format!(
        "{} {}\n{} {}\n",
        hosts[0].hostname, hosts[0].ip, hosts[1].hostname, hosts[1].ip
    );
    hosts[0].exec(&format!("printf '{nodes}' > {NODES}"));
}

#[test]
fn an_opened_cluster_with_a_newer_image_reviews_as_an_upgrade_and_enter_upgrades_it() {
    let home = Tug::new();
    let hosts = Hosts::start(2);
    let v125 = fixture::build_rootfs(&home, "v1.25.0");
    install(&home, &hosts, &v125);
    assert!(
        saved(&home).contains(&format!("{}: v1.25.0", hosts[1].ip)),
        "{}",
        saved(&home)
    );
    let v126 = fixture::build_rootfs(&home, "v1.26.0");
    hosts[0].exec(&format!(
        "date -u -d '+10 days' '+%Y-%m-%d %H:%M UTC' > {EXPIRY}"
    ));

    let term = Tmux::start(home.home());
    term.resize(80, 24);
    term.type_line(&format!("{}; echo TUG-EXIT=$?", env!("CARGO_BIN_EXE_tug")));
    let screen = term.wait_for("the clusters", |s| s.contains("clusters on this machine"));
    assert!(screen.contains("default  (installed)"), "{screen}");
    term.keys(&["Up", "Enter"]);
    term.wait_for("its hosts", |s| s.contains("wizard: cluster default"));
    pause();
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the image screen", |s| {
        s.contains("1 marked for the install")
    });
    // The opened cluster's image is marked: unmark it, highlight the newer.
    term.keys(&["Space"]);
    term.wait_for("nothing marked", |s| !s.contains("1 marked"));
    term.keys(&["Down"]);
    term.wait_for("the newer image", |s| s.contains("kubernetes: v1.26.0"));
    term.keys(&["Enter"]);
    term.wait_for("the hosts", |s| s.contains("2 hosts"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    let screen = wizard::test_to_review(&term, 0);
    // The upgrade line comes first, whole: wrapped inside the 80 columns.
    let text = wizard::flat(&screen);
    assert!(text.contains("Enter upgrades; s saves"), "{screen}");
    assert!(
        text.contains(
            "# Upgrade: the cluster runs Kubernetes v1.25.0 and the image is v1.26.0: this \
             upgrades it, host by host (each drained, upgraded, uncordoned); Enter confirms"
        ),
        "{screen}"
    );
    assert!(
        text.find("# Upgrade:") < text.find("# Clusterfile"),
        "{screen}"
    );

    // The node's tar holds the new rootfs back, so the dashboard stays up:
    // it shows the warning the run started with.
    fixture::hold_layers(&hosts[1]);
    term.keys(&["Enter"]);
    let m0 = hosts[0].ip.as_str();
    let warned = |s: &str| {
        let text = wizard::flat(s);
        text.contains(&format!(
            "warning: certificate admin.conf of master {m0} expires in"
        )) && text.contains("`tug cert --cluster default --renew` renews them")
    };
    let screen = term.wait_for("the dashboard's warning", |s| warned(s) || wizard::ended(s));
    assert!(!wizard::ended(&screen), "{screen}");
    assert!(screen.contains("hosts done"), "the dashboard: {screen}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !fixture::layer_held(&hosts[1]) {
        assert!(
            std::time::Instant::now() < deadline,
            "no layer reached the node"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    fixture::release_layers(&hosts[1]);
    fixture::unhold_layers(&hosts[1]);
    let screen = term.wait_for("the upgrade to end", wizard::ended);
    assert!(screen.contains(" cluster upgraded "), "{screen}");
    assert!(screen.contains("Every host runs v1.26.0."), "{screen}");
    assert!(
        warned(&screen),
        "the done screen keeps the warning:\n{screen}"
    );

    let m0_calls = calls(&hosts[0].exec(&format!("cat {JOURNAL}")));
    assert_eq!(
        calls_of(&m0_calls, "kubeadm", "upgrade apply v1.26.0").len(),
        1,
        "{m0_calls:#?}"
    );
    let n1_calls = calls(&hosts[1].exec(&format!("cat {JOURNAL}")));
    assert_eq!(calls_of(&n1_calls, "kubeadm", "upgrade node").len(), 1);
    let status = saved(&home);
    for h in hosts.iter() {
        assert!(status.contains(&format!("{}: v1.26.0", h.ip)), "{status}");
    }
    assert!(saved(&home).contains(&v126), "{status}");
    wizard::quit(&term);
}
