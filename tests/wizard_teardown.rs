//! Taking hosts out and a cluster down from the wizard, with the real
//! binary in tmux at 80×24 against real sshd hosts and the fixture images:
//! on the clusters screen `d` marks a node and shows the plan of its
//! removal, Enter drains and deletes it on master0 and resets it, and the
//! Clusterfile forgets it; `r` shows the reset's plan, Enter cleans every
//! host and archives the Clusterfile. A host taken off an opened cluster's
//! list is drained and reset before the edited cluster applies. Nothing
//! runs before Enter on a plan.

mod support;

use support::fixture::{self, JOURNAL, NODES, calls, calls_of};
use support::hosts::Hosts;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

/// The stand-ins' journal on host `i`.
fn journal(hosts: &Hosts, i: usize) -> String {
    hosts[i].exec(&format!("cat {JOURNAL} 2>/dev/null || true"))
}

/// The wizard at 80×24 over `home`, on its clusters screen.
fn clusters_screen(term: &Tmux) -> String {
    term.type_line(&format!(
        "clear; {}; echo TUG-EXIT=$?",
        env!("CARGO_BIN_EXE_tug")
    ));
    term.wait_for("the clusters", |s| s.contains("default  (installed)"))
}

#[test]
fn the_wizard_removes_a_node_then_resets_the_cluster() {
    let home = Tug::new();
    let images = fixture::build_images(&home);
    let hosts = Hosts::start(3);
    let key = hosts.key.display().to_string();
    let nodes = format!("{},{}", hosts[1].addr(), hosts[2].addr());
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    let m0 = hosts[0].addr();
    args.extend(["--masters", &m0, "--nodes", &nodes, "--pk", &key, "--plain"]);
    home.run(&args).ok();
    // master0's kubectl (the test plays its API server) knows the nodes.
    hosts[0].exec(&format!(
        "printf '%s %s\\n' node2 {} node3 {} > {NODES}",
        hosts[1].ip, hosts[2].ip
    ));
    let clusterfile = home.home().join("state/clusters/default/Clusterfile");

    let term = Tmux::start(home.home());
    term.resize(80, 24);
    clusters_screen(&term);
    // The new cluster's row comes selected; the installed one is above it.
    term.keys(&["Up", "d"]);
    let screen = term.wait_for("the hosts to mark", |s| s.contains("mark the hosts"));
    assert!(
        row(&screen, &hosts[0].addr()).contains("master"),
        "{screen}"
    );
    term.keys(&["Down", "Down", "Space"]);
    term.wait_for("the node marked", |s| {
        row(s, &hosts[2].addr()).contains("[x]")
    });
    term.keys(&["Enter"]);
    let screen = term.wait_for("the removal's plan", |s| {
        s.contains("take hosts out of cluster default?") && s.contains("Enter starts it")
    });
    let text = wizard::flat(&screen);
    assert!(
        text.contains(&format!("# {}: each drained and deleted", hosts[2].ip)),
        "{screen}"
    );
    assert_eq!(
        calls_of(&calls(&journal(&hosts, 2)), "kubeadm", "reset").len(),
        0,
        "nothing runs before Enter"
    );
    term.keys(&["Enter"]);
    let screen = term.wait_for("the removal to end", |s| {
        s.contains(" hosts removed ") || s.contains(" failed ") || s.contains(" did not run ")
    });
    assert!(screen.contains(" hosts removed "), "{screen}");
    assert!(
        screen.contains(&format!("removal of {} from cluster default", hosts[2].ip)),
        "{screen}"
    );
    let m0 = calls(&journal(&hosts, 0));
    assert_eq!(calls_of(&m0, "kubectl", "drain node3 ").len(), 1, "{m0:?}");
    assert_eq!(calls_of(&m0, "kubectl", "delete node node3").len(), 1);
    let gone = calls(&journal(&hosts, 2));
    assert_eq!(calls_of(&gone, "kubeadm", "reset").len(), 1, "{gone:?}");
    let kept = calls(&journal(&hosts, 1));
    assert_eq!(calls_of(&kept, "kubeadm", "reset").len(), 0, "{kept:?}");
    let saved = std::fs::read_to_string(&clusterfile).unwrap();
    assert!(!saved.contains(&hosts[2].ip), "{saved}");
    assert!(saved.contains(&hosts[1].ip), "{saved}");
    term.keys(&["q"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(
        wizard::flat(&screen).contains("cluster ready; kubeconfig: "),
        "{screen}"
    );

    // The reset: its plan first, then every host cleaned and the record archived.
    clusters_screen(&term);
    term.keys(&["Up", "r"]);
    let screen = term.wait_for("the reset's plan", |s| {
        s.contains("reset cluster default?") && s.contains("Enter starts it")
    });
    assert!(
        wizard::flat(&screen).contains("Every host of cluster default: kubeadm reset"),
        "{screen}"
    );
    term.keys(&["Enter"]);
    let screen = term.wait_for("the reset to end", |s| {
        s.contains(" cluster reset ") || s.contains(" failed ") || s.contains(" did not run ")
    });
    assert!(screen.contains(" cluster reset "), "{screen}");
    for i in [0, 1] {
        let all = calls(&journal(&hosts, i));
        assert_eq!(
            calls_of(&all, "kubeadm", "reset -f").len(),
            1,
            "{i}: {all:?}"
        );
        assert_eq!(calls_of(&all, "clean.sh", "").len(), 1, "{i}");
    }
    assert!(!clusterfile.exists(), "the Clusterfile is archived");
    let archived = std::fs::read_dir(clusterfile.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("Clusterfile."));
    assert!(archived);
    term.keys(&["q"]);
    let screen = term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
    assert!(
        wizard::flat(&screen).contains("cluster default is reset"),
        "{screen}"
    );
    assert!(!term.alternate());
}

#[test]
fn a_host_removed_from_an_opened_cluster_is_drained_and_reset_before_the_rest_applies() {
    let home = Tug::new();
    let hosts = Hosts::start(3);
    let args = fixture::run_args(&home, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    home.run(&argv).ok();
    hosts[0].exec(&format!(
        "printf '%s %s\\n' node2 {} > {NODES}",
        hosts[1].ip
    ));
    let term = Tmux::start(home.home());
    term.resize(80, 24);
    clusters_screen(&term);
    // Opened, the cluster loses its node and gains hosts[2] in one go.
    term.keys(&["Up", "Enter"]);
    let screen = term.wait_for("its hosts", |s| s.contains("wizard: cluster default"));
    assert!(row(&screen, &hosts[1].ip).contains("node"), "{screen}");
    term.keys(&["Down", "d", "n"]);
    term.type_line(&hosts[2].ip);
    term.wait_for("the new node", |s| {
        row(s, &hosts[2].ip).contains("node") && row(s, &hosts[1].ip).is_empty()
    });
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    let screen = wizard::test_to_review(&term, 1);
    let text = wizard::flat(&screen);
    assert!(
        text.contains(&format!("# {}: each drained and deleted", hosts[1].ip))
            && text.contains("left the host list."),
        "{screen}"
    );
    assert!(
        text.contains("Enter takes the hosts out, then applies the rest"),
        "{screen}"
    );
    term.keys(&["Enter"]);
    let screen = term.wait_for("the run to end", |s| {
        s.contains(" hosts removed ") || s.contains(" failed ") || s.contains(" did not run ")
    });
    assert!(screen.contains(" hosts removed "), "{screen}");
    let m0 = calls(&journal(&hosts, 0));
    assert_eq!(calls_of(&m0, "kubectl", "drain node2 ").len(), 1, "{m0:?}");
    let gone = calls(&journal(&hosts, 1));
    assert_eq!(calls_of(&gone, "kubeadm", "reset").len(), 1, "{gone:?}");
    let added = calls(&journal(&hosts, 2));
    assert_eq!(calls_of(&added, "kubeadm", "join").len(), 1, "{added:?}");
    let saved =
        std::fs::read_to_string(home.home().join("state/clusters/default/Clusterfile")).unwrap();
    assert!(!saved.contains(&hosts[1].ip), "{saved}");
    assert!(saved.contains(&hosts[2].ip), "{saved}");
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
}
