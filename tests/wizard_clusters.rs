//! Nothing installed is overwritten, with the real binary in tmux at 80×24
//! against real sshd hosts and the fixture images: after an install the
//! wizard offers the installed cluster first, a new cluster gets a free
//! name, the installed one's name is refused (its Clusterfile keeps its
//! hosts), the installed one opens to add a host; `--answers FILE` opens a
//! saved Clusterfile (a bad one is one line naming file, line and field);
//! leaving a ready cluster prints its kubeconfig; an empty store points
//! to the demo.

mod support;

use support::fixture;
use support::hosts::Hosts;
use support::tmux::{Tmux, row};
use support::tug::Tug;
use support::wizard;

fn pause() {
    // An Escape followed at once by a key reads as Alt-key to a terminal.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// The wizard at 80×24 over `home`, with `args`, once `ready` holds.
fn open(home: &Tug, args: &str, ready: impl Fn(&str) -> bool) -> Tmux {
    let term = Tmux::start(home.home());
    term.resize(80, 24);
    term.type_line(&format!(
        "{} {args}; echo TUG-EXIT=$?",
        env!("CARGO_BIN_EXE_tug")
    ));
    term.wait_for("the wizard", ready);
    term
}

/// Whether the shell printed tug's exit code (not only the typed command).
fn exited(screen: &str) -> bool {
    screen
        .split("TUG-EXIT=")
        .skip(1)
        .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The screen's text with its wrapped lines joined.
fn joined(screen: &str) -> String {
    screen.lines().map(str::trim_end).collect()
}

/// The hosts a saved Clusterfile lists.
fn listed(home: &Tug, cluster: &str) -> String {
    std::fs::read_to_string(
        home.home()
            .join(format!("state/clusters/{cluster}/Clusterfile")),
    )
    .unwrap()
}

#[test]
fn an_installed_cluster_is_offered_first_and_never_replaced_by_a_new_one() {
    let home = Tug::new();
    fixture::build_images(&home);
    let hosts = Hosts::start(3);
    let term = open(&home, "", |s| s.contains("1 image"));
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    wizard::master_and_node(&term, &hosts);
    term.keys(&["Tab"]);
    term.text(&hosts.key.display().to_string());
    let screen = wizard::test_to_review(&term, 2);
    assert!(screen.contains("Enter installs"), "{screen}");
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" cluster ready "), "{screen}");
    // Leaving prints the kubeconfig on the restored terminal.
    term.keys(&["q"]);
    let screen = term.wait_for("the shell", exited);
    let conf = home.home().join("state/clusters/default/admin.conf");
    assert!(
        joined(&screen).contains(&format!("kubeconfig: {}", conf.display())),
        "{screen}"
    );
    assert!(screen.contains("TUG-EXIT=0"), "{screen}");
    assert!(!term.alternate());
    let before = listed(&home, "default");

    // Again: the installed cluster comes first; a new one is default-2.
    term.type_line(&format!(
        "clear; {}; echo TUG-EXIT=$?",
        env!("CARGO_BIN_EXE_tug")
    ));
    let screen = term.wait_for("the clusters", |s| s.contains("clusters on this machine"));
    assert!(screen.contains("default  (installed)"), "{screen}");
    assert!(
        screen.contains("+ a new cluster, named default-2"),
        "{screen}"
    );
    term.keys(&["n"]);
    term.wait_for("the image screen", |s| s.contains("1 image"));
    term.keys(&["Down", "Enter", "a"]);
    term.type_line(&hosts[2].ip);
    term.wait_for("the new host", |s| row(s, &hosts[2].ip).contains("master"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    // Taking the installed cluster's name is refused.
    term.keys(&["Up", "Up", "C-u"]);
    term.text("default");
    term.wait_for("the name flagged", |s| {
        s.contains("taken by an installed cluster")
    });
    // The key path is remembered from the first run.
    assert!(term.screen().contains("id_ed25519"), "{}", term.screen());
    let screen = wizard::test_to_review(&term, 1);
    let text = wizard::flat(&screen);
    assert!(
        text.contains("a cluster named default is already installed here: open it from the list"),
        "{screen}"
    );
    assert!(!text.contains("Enter installs"), "{screen}");
    term.keys(&["s"]);
    let screen = term.wait_for("the save refused", |s| s.contains("not saved"));
    assert!(
        wizard::flat(&screen).contains("already installed here"),
        "{screen}"
    );
    assert_eq!(
        listed(&home, "default"),
        before,
        "the installed one is untouched"
    );

    // Under its free name it saves beside the installed one.
    pause();
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["C-u"]);
    term.text("default-2");
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"));
    term.keys(&["s"]);
    term.wait_for("saved", |s| wizard::flat(s).contains("saved "));
    assert!(listed(&home, "default-2").contains(&hosts[2].ip));
    assert_eq!(
        listed(&home, "default"),
        before,
        "the installed one is untouched"
    );
    wizard::quit(&term);

    // Opened from the list, the installed cluster takes a third host.
    term.type_line(&format!(
        "clear; {}; echo TUG-EXIT=$?",
        env!("CARGO_BIN_EXE_tug")
    ));
    let screen = term.wait_for("the clusters", |s| s.contains("default-2  (saved"));
    assert!(
        screen.contains("+ a new cluster, named default-3"),
        "{screen}"
    );
    term.keys(&["Up", "Up", "Enter"]);
    let screen = term.wait_for("its hosts", |s| s.contains("wizard: cluster default"));
    assert!(row(&screen, &hosts[0].ip).contains("master"), "{screen}");
    assert!(row(&screen, &hosts[1].ip).contains("node"), "{screen}");
    term.keys(&["n"]);
    term.type_line(&hosts[2].ip);
    term.wait_for("the third host", |s| row(s, &hosts[2].ip).contains("node"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    let screen = wizard::test_to_review(&term, 0);
    assert!(screen.contains("Enter installs"), "{screen}");
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" cluster ready "), "{screen}");
    let after = listed(&home, "default");
    for h in hosts.iter() {
        assert!(after.contains(&h.ip), "{after}");
    }
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));
}

#[test]
fn answers_opens_a_saved_clusterfile_and_a_bad_one_is_named_by_line_and_field() {
    let home = Tug::new();
    let dir = tempfile::tempdir().unwrap();
    let image = fixture::build_images(&home)
        .into_iter()
        .next()
        .expect("the rootfs image");
    let good = dir.path().join("Clusterfile");
    std::fs::write(
        &good,
        format!(
            "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: lab\nspec:\n  \
             image: [{image}]\n  ssh:\n    user: admin\n    port: 2222\n  hosts:\n  - ips: \
             [10.9.0.2]\n    roles: [master]\n  - ips: [10.9.0.3, 10.9.0.4]\n    roles: [node]\n"
        ),
    )
    .unwrap();
    let term = open(&home, &format!("--answers {}", good.display()), |s| {
        s.contains("2 hosts")
    });
    let screen = term.screen();
    assert!(row(&screen, "10.9.0.2").contains("master"), "{screen}");
    assert!(row(&screen, "10.9.0.4").contains("node"), "{screen}");
    term.keys(&["Enter"]);
    let screen = term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    for want in ["lab", "admin", "2222"] {
        assert!(screen.contains(want), "{want}: {screen}");
    }
    pause();
    term.keys(&["Escape"]);
    pause();
    term.wait_for("the hosts", |s| s.contains("2 hosts"));
    term.keys(&["q"]);
    term.wait_for("the shell", |s| s.contains("TUG-EXIT=0"));

    let bad = dir.path().join("Bad");
    std::fs::write(
        &bad,
        format!(
            "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nspec:\n  image: [{image}]\n  \
             hosts:\n  - ips: [10.9.0.300]\n    roles: [master]\n"
        ),
    )
    .unwrap();
    term.type_line(&format!(
        "clear; {} --answers {}; echo BAD-EXIT=$?",
        env!("CARGO_BIN_EXE_tug"),
        bad.display()
    ));
    // Its own marker: the screen before `clear` still shows TUG-EXIT=0.
    let screen = term.wait_for("the error", |s| s.contains("BAD-EXIT=1"));
    assert!(!term.alternate());
    let text = joined(&screen);
    // `FILE:LINE: FIELD: why`, on one line.
    let error = text.split("error: ").nth(1).unwrap_or_default();
    let at = error
        .strip_prefix(&format!("{}:", bad.display()))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(at.starts_with("6: spec.hosts[0].ips"), "{screen}");
    assert!(at.contains("10.9.0.300"), "{screen}");
    assert_eq!(screen.matches("error: ").count(), 1, "{screen}");
}

#[test]
fn an_empty_store_points_to_the_demo_as_well_as_pull_bundle_and_build() {
    let home = Tug::new();
    let term = open(&home, "", |s| s.contains("has no images"));
    let text = wizard::flat(&term.screen());
    for want in [
        "p pulls",
        "B loads a bundle",
        "tug build",
        "tug demo --wizard",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    wizard::quit(&term);
}
