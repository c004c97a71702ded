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
use support::wizard;

/// Start the wizard over the fixture images and walk it to the review of
/// hosts[0] (master) and hosts[1] (node), keys trusted, the plan shown:
/// Enter installs.
fn to_review(home: &Tug, hosts: &Hosts) -> Tmux {
    fixture::build_images(home);
    let term = wizard::open(home, |s| s.contains("1 image"));
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    wizard::master_and_node(&term, hosts);
    term.keys(&["Tab"]);
    term.text(&hosts.key.display().to_string());
    wizard::trust_to_plan(&term);
    term
}

fn journal(host: &Host) -> Vec<fixture::Call> {
    calls(&host.exec(&format!("cat {JOURNAL} 2>/dev/null || true")))
}

#[test]
fn a_host_gone_at_install_time_is_named_and_r_installs_once_it_is_back() {
    let home = Tug::new();
    let mut hosts = Hosts::start(2);
    let term = to_review(&home, &hosts);
    // Tested and trusted, then gone before the install starts.
    hosts[0].kill();
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    let master = &hosts[0].ip;
    assert!(screen.contains(" install did not run "), "{screen}");
    let text = wizard::flat(&screen);
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
    // An install that changed nothing records no failure.
    let status = home.run(&["status"]).ok();
    assert!(
        !status.stdout.contains("ClusterFailed"),
        "{}",
        status.stdout
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
    wizard::quit(&term);
}

#[test]
fn a_failing_hook_is_named_on_the_done_screen_and_r_resumes_to_a_ready_cluster() {
    let home = Tug::new();
    let hosts = Hosts::start(2);
    let term = to_review(&home, &hosts);
    hosts[1].exec(&format!("echo init.sh > {FAIL}"));
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    let node = &hosts[1].ip;
    assert!(screen.contains(" install failed "), "{screen}");
    let text = wizard::flat(&screen);
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
    wizard::quit(&term);
}

#[test]
fn after_an_install_that_did_not_run_e_goes_back_to_fix_the_hosts() {
    let home = Tug::new();
    let mut hosts = Hosts::start(2);
    let term = to_review(&home, &hosts);
    term.resize(80, 24);
    hosts[0].kill();
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" did not run "), "{screen}");
    assert!(
        wizard::flat(&screen).contains("e goes back to the hosts and SSH screens"),
        "{screen}"
    );
    term.keys(&["e"]);
    let screen = term.wait_for("the hosts screen", |s| s.contains("2 hosts"));
    assert!(row(&screen, &hosts[0].ip).contains("master"), "{screen}");
    // The gone master out, the node made master: then SSH, a new plan.
    term.keys(&["d"]);
    term.wait_for("one host", |s| row(s, &hosts[0].ip).is_empty());
    term.keys(&["r"]);
    term.wait_for("the new master", |s| {
        row(s, &hosts[1].ip).contains("master")
    });
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"));
    term.keys(&["Enter"]);
    let screen = term.wait_for("the install to end", |s| {
        s.contains(" cluster ready ") || s.contains(" install failed ")
    });
    assert!(screen.contains(" cluster ready "), "{screen}");
    assert!(row(&screen, &hosts[1].ip).contains(" done "), "{screen}");
    assert_eq!(
        calls_of(&journal(&hosts[1]), "kubeadm", "init --config=").len(),
        1
    );
    wizard::quit(&term);
}

#[test]
fn a_host_holding_a_cluster_of_the_same_name_is_named_in_both_faces() {
    // Another machine (home) installed cluster "default" on the host.
    let hosts = Hosts::start(1);
    let elsewhere = Tug::new();
    let images = fixture::build_images(&elsewhere);
    let key = hosts.key.display().to_string();
    let master = hosts[0].addr();
    elsewhere
        .run(&[
            "run",
            &images[0],
            "--masters",
            &master,
            "--pk",
            &key,
            "--plain",
        ])
        .ok();

    let home = Tug::new();
    fixture::build_images(&home);
    let term = wizard::open(&home, |s| s.contains("1 image"));
    term.resize(80, 24);
    term.keys(&["Down"]);
    term.wait_for("the rootfs image", |s| s.contains("type: rootfs"));
    term.keys(&["Enter", "a"]);
    term.type_line(&hosts[0].ip);
    term.wait_for("the host", |s| row(s, &hosts[0].ip).contains("master"));
    term.keys(&["Enter"]);
    term.wait_for("the SSH screen", |s| s.contains("3 ssh"));
    term.keys(&["Tab"]);
    term.text(&key);
    term.keys(&["C-t"]);
    term.wait_for("the new key", |s| {
        wizard::flat(s).contains("new host key ssh-")
    });
    term.keys(&["C-y"]);
    term.wait_for("the trusted key", |s| s.contains("(trusted now)"));
    term.keys(&["Enter"]);
    term.wait_for("the configuration", |s| s.contains("4 configuration"));
    term.keys(&["C-n"]);
    term.wait_for("the plan", |s| s.contains("Enter installs"));
    term.keys(&["Enter"]);
    let mut screen = term.wait_for("the install to end", wizard::ended);
    assert!(screen.contains(" install failed "), "{screen}");
    let want = format!(
        "host(s) {} already hold a cluster named default",
        hosts[0].ip
    );
    // The failed command comes first: scroll the summary to its output.
    for _ in 0..12 {
        if wizard::flat(&screen).contains(&want) {
            break;
        }
        term.keys(&["NPage"]);
        std::thread::sleep(std::time::Duration::from_millis(200));
        screen = term.screen();
    }
    let text = wizard::flat(&screen);
    assert!(text.contains(&want), "{screen}");
    assert!(!text.contains("No such file"), "{screen}");
    wizard::quit(&term);

    // The command line says the same of the Clusterfile the wizard saved.
    let cf = home.home().join("state/clusters/default/Clusterfile");
    let run = home
        .run(&["apply", "-f", cf.to_str().unwrap(), "--plain"])
        .fails();
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert!(
        run.stderr.contains("or give this cluster another name")
            && !run.stderr.contains("No such file"),
        "{}",
        run.stderr
    );
}
