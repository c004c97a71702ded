//! Health over real OpenSSH hosts with the fixture images: a run ends
//! waiting until every node is Ready (kubectl on master0, the fixture's
//! API server), telling each host's state; a node that stays NotReady
//! fails the run naming the host and its conditions, and a re-run only
//! waits again; `--no-wait` leaves the wait out, and `add` waits for the
//! new node.

mod support;

use std::time::{Duration, Instant};
use support::fixture::{self, JOURNAL, calls};
use support::hosts::Hosts;
use support::tug::{Run, Tug};

/// Lines `<name or ip>\t<reason>\t<message>` here keep nodes NotReady.
const NOT_READY: &str = "/var/lib/tug-fixture-notready";

/// Run tug with owned arguments.
fn run(tug: &Tug, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tug.run(&args)
}

/// How many times master0 asked for the nodes' conditions.
fn health_asks(hosts: &Hosts) -> usize {
    let journal = hosts[0].exec(&format!("cat {JOURNAL} 2>/dev/null || true"));
    calls(&journal)
        .iter()
        .filter(|c| {
            c.prog == "kubectl"
                && c.args.starts_with("get nodes -o jsonpath=")
                && c.args.contains("conditions")
        })
        .count()
}

fn keep_not_ready(hosts: &Hosts, node: &str, reason: &str, message: &str) {
    hosts[0].exec(&format!(
        "printf '%s\\t%s\\t%s\\n' '{node}' '{reason}' \"$(printf '{message}')\" > {NOT_READY}"
    ));
}

/// The index of the first line of `text` holding every part of `parts`.
fn line_with(text: &str, parts: &[&str]) -> Option<usize> {
    text.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
}

#[test]
fn the_run_waits_until_every_node_is_ready_telling_each_hosts_state() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    keep_not_ready(
        &hosts,
        "node2",
        "KubeletNotReady",
        "container runtime network not ready",
    );
    let mut child = tug.spawn(&fixture::run_args(&tug, &hosts, &["--wait", "5m"]));
    // Once master0 was asked a second time (so the first answer, NotReady,
    // is complete), the node becomes Ready.
    let deadline = Instant::now() + Duration::from_secs(300);
    while health_asks(&hosts) < 2 {
        assert!(Instant::now() < deadline, "the wait never started");
        assert!(child.try_wait().unwrap().is_none(), "tug ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    hosts[0].exec(&format!("rm -f {NOT_READY}"));
    let run = Run::from(child.wait_with_output().unwrap()).ok();
    let (m0, n1) = (hosts[0].ip.as_str(), hosts[1].ip.as_str());
    let err = &run.stderr;
    let waiting = line_with(
        err,
        &[
            &format!("[{n1}] health: node node2 is not Ready"),
            "Ready=False (KubeletNotReady: container runtime network not ready)",
        ],
    )
    .unwrap_or_else(|| panic!("{err}"));
    let ready = line_with(err, &[&format!("[{n1}] health: node node2 is Ready")])
        .unwrap_or_else(|| panic!("{err}"));
    assert!(waiting < ready, "{err}");
    assert!(
        line_with(err, &[&format!("[{m0}] health: node node1 is Ready")]).is_some(),
        "{err}"
    );
    assert!(err.contains("cluster default is ready"), "{err}");
}

#[test]
fn a_node_that_stays_not_ready_fails_the_run_naming_it_and_a_rerun_only_waits() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    // The message carries a terminal escape: it must not reach the screen.
    keep_not_ready(
        &hosts,
        &hosts[1].ip,
        "KubeletNotReady",
        "cni plugin not initialized \\033[2J",
    );
    let failed = run(&tug, &fixture::run_args(&tug, &hosts, &["--wait", "6s"])).fails();
    let n1 = hosts[1].ip.as_str();
    let err = &failed.stderr;
    let named = format!(
        "{n1}: node node2 is not Ready: Ready=False (KubeletNotReady: cni plugin not initialized"
    );
    assert!(
        err.contains("not every node was Ready within 6s") && err.contains(&named),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "host output reached the terminal: {err}"
    );
    assert!(!err.contains("is ready;"), "{err}");
    let saved = tug.home().join("state/clusters/default/Clusterfile");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("ClusterFailed"), "{text}");

    // The node comes up; a re-run runs nothing on the node, only waits.
    hosts[0].exec(&format!("rm -f {NOT_READY}"));
    let before = hosts[1].exec(&format!("cat {JOURNAL}"));
    let asks = health_asks(&hosts);
    let again = tug
        .run(&["apply", "-f", saved.to_str().unwrap(), "--plain"])
        .ok();
    assert_eq!(hosts[1].exec(&format!("cat {JOURNAL}")), before);
    assert!(health_asks(&hosts) > asks);
    assert!(
        again
            .stderr
            .contains(&format!("[{n1}] health: node node2 is Ready")),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("cluster default is ready"),
        "{}",
        again.stderr
    );
}

#[test]
fn no_wait_leaves_the_wait_out_and_add_waits_for_the_new_node() {
    let hosts = Hosts::start(3);
    let tug = Tug::new();
    keep_not_ready(&hosts, "node2", "KubeletNotReady", "not yet");
    let planned = run(&tug, &fixture::run_args(&tug, &hosts, &["--dry-run"])).ok();
    assert!(
        planned.stdout.contains(": health (one by one)"),
        "{}",
        planned.stdout
    );
    let unwaited = run(
        &tug,
        &fixture::run_args(&tug, &hosts, &["--no-wait", "--dry-run"]),
    )
    .ok();
    assert!(
        !unwaited.stdout.contains(": health ("),
        "{}",
        unwaited.stdout
    );

    let run = run(&tug, &fixture::run_args(&tug, &hosts, &["--no-wait"])).ok();
    assert_eq!(health_asks(&hosts), 0, "{}", run.stderr);
    assert!(!run.stderr.contains("health:"), "{}", run.stderr);

    // add: the new node is waited for, and one that stays NotReady fails it.
    hosts[0].exec(&format!("rm -f {NOT_READY}"));
    keep_not_ready(
        &hosts,
        "node3",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    );
    let added = tug
        .run(&[
            "add",
            "--nodes",
            &hosts[2].addr(),
            "--wait",
            "4s",
            "--plain",
        ])
        .fails();
    let named = format!(
        "{}: node node3 is not Ready: Ready=False (NodeStatusUnknown: Kubelet stopped posting node status.)",
        hosts[2].ip
    );
    assert!(added.stderr.contains(&named), "{}", added.stderr);
}
