//! The cluster's record survives races and faults, with real OpenSSH hosts
//! and real `tug` processes: one run per cluster at a time, and a reset
//! that cannot reach every host keeps the cluster until it can.

mod support;

use support::fixture::{self, calls, calls_of};
use support::hosts::{Host, Hosts};
use support::tug::{Run, Tug};

fn clusterfile(tug: &Tug) -> std::path::PathBuf {
    tug.home().join("state/clusters/default/Clusterfile")
}

fn apply(tug: &Tug) -> Run {
    let file = clusterfile(tug);
    tug.run(&["apply", "-f", file.to_str().unwrap(), "--plain"])
}

/// How many times `kubeadm reset` ran on this host.
fn resets(host: &Host) -> usize {
    let journal = host.exec(&format!("cat {} 2>/dev/null || true", fixture::JOURNAL));
    calls_of(&calls(&journal), "kubeadm", "reset").len()
}

#[test]
fn a_second_run_of_a_busy_cluster_says_who_holds_it_and_changes_nothing() {
    let hosts = Hosts::start(2);
    fixture::hold_layers(&hosts[1]);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let mut first = tug.spawn(&args);
    fixture::wait_for_held_layer(&hosts[1], &mut first);

    let holder = format!("pid {} (tug run) since ", first.id());
    let second = apply(&tug).fails();
    assert!(
        second.stderr.contains("cluster default is busy: ") && second.stderr.contains(&holder),
        "{}",
        second.stderr
    );
    let reset = tug
        .run(&["reset", "--cluster", "default", "--force"])
        .fails();
    assert!(reset.stderr.contains(&holder), "{}", reset.stderr);
    assert_eq!(resets(&hosts[0]), 0, "the refused reset ran nothing");
    assert!(
        clusterfile(&tug).is_file(),
        "the refused reset kept the cluster"
    );

    fixture::release_layers(&hosts[1]);
    fixture::unhold_layers(&hosts[1]);
    let out: Run = first.wait_with_output().unwrap().into();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The holder is gone: the lock is free again.
    apply(&tug).ok();
}

#[test]
fn a_reset_that_cannot_reach_a_host_keeps_the_cluster_and_a_rerun_finishes_it() {
    let mut hosts = Hosts::start(2);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&argv).ok();

    hosts[1].kill();
    let failed = tug
        .run(&["reset", "--cluster", "default", "--force", "--plain"])
        .fails();
    assert!(
        failed.stderr.contains("marked resetting"),
        "{}",
        failed.stderr
    );
    let saved = std::fs::read_to_string(clusterfile(&tug)).unwrap();
    assert!(saved.contains("ResetClusterInProgress"), "{saved}");
    let status = tug.run(&["status"]).ok();
    assert!(status.stdout.contains("default"), "{}", status.stdout);
    // An apply does not install over a half-reset cluster.
    let refused = apply(&tug).fails();
    assert!(
        refused.stderr.contains("is being reset")
            && refused
                .stderr
                .contains("tug reset --cluster default --force"),
        "{}",
        refused.stderr
    );

    hosts[1].restart();
    tug.run(&["reset", "--cluster", "default", "--force", "--plain"])
        .ok();
    assert!(
        !clusterfile(&tug).exists(),
        "the finished reset archived it"
    );
    assert!(
        resets(&hosts[1]) >= 1,
        "the host that was away is reset too"
    );
    let status = tug.run(&["status"]).ok();
    assert!(!status.stdout.contains("default"), "{}", status.stdout);
}

#[test]
fn a_host_that_lost_its_files_is_redone_and_the_others_are_not() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    let args = fixture::run_args(&tug, &hosts, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&argv).ok();
    let inits = |h: &Host| {
        let journal = h.exec(&format!("cat {} 2>/dev/null || true", fixture::JOURNAL));
        calls_of(&calls(&journal), "init.sh", "").len()
    };
    let master_inits = inits(&hosts[0]);
    assert!(master_inits >= 1);

    // The node is rebuilt: every dir the install wrote is empty again.
    hosts[1].exec(
        "rm -rf /var/lib/* /etc/kubernetes/* /usr/local/bin/* /opt/* /etc/registry/* 2>/dev/null; true",
    );
    let again = apply(&tug).ok();
    assert!(
        hosts[1]
            .exec_output("test -x /var/lib/sealos/data/default/rootfs/scripts/check.sh")
            .status
            .success(),
        "the node's layers were sent again: {}",
        again.stderr
    );
    assert_eq!(inits(&hosts[1]), 1, "the node's init hook ran again");
    assert!(
        hosts[1]
            .exec_output("test -f /etc/kubernetes/kubelet.conf")
            .status
            .success(),
        "the node joined again"
    );
    assert_eq!(inits(&hosts[0]), master_inits, "the master was not redone");
}
