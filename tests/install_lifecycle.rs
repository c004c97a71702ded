//! A cluster's life over real OpenSSH hosts with the fixture images built
//! by `tug build`: `add --nodes` joins a new host (and only it receives
//! and runs anything), `delete --nodes` drains, deletes and cleans one
//! (whose host name is hostile: it is passed as data, never run), and
//! `reset` with one host gone cleans the others back to what they held
//! before the install and names the gone one.

mod support;

use support::fixture::{self, JOURNAL, NODES, calls, calls_of};
use support::hosts::{Hosts, random_hex};
use support::tug::Tug;

const DATA: &str = "/var/lib/sealos/data/c1";

/// The stand-ins' journal on host `i`.
fn journal(hosts: &Hosts, i: usize) -> String {
    hosts[i].exec(&format!("cat {JOURNAL} 2>/dev/null || true"))
}

/// Every path under the dirs the test hosts keep private (and so where
/// tug and the image may write), except the stand-ins' journal and log.
fn listing(hosts: &Hosts, i: usize) -> Vec<String> {
    let out = hosts[i].exec(
        "find /var/lib /etc/kubernetes /etc/registry /opt /usr/local/bin /root /home \
         -mindepth 1 ! -name 'tug-journal.log' ! -name 'tug-fixture-*' | sort",
    );
    out.lines().map(str::to_string).collect()
}

#[test]
fn add_then_delete_a_node_then_reset_with_one_host_gone() {
    let mut hosts = Hosts::start(4);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let key = hosts.key.display().to_string();
    let pristine: Vec<Vec<String>> = (0..4).map(|i| listing(&hosts, i)).collect();
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    let (m0, nodes) = (
        hosts[0].addr(),
        format!("{},{}", hosts[1].addr(), hosts[2].addr()),
    );
    args.extend([
        "--masters",
        &m0,
        "--nodes",
        &nodes,
        "--pk",
        &key,
        "--cluster",
        "c1",
    ]);
    tug.run(&args).ok();

    // add: only the new node receives and runs anything; master0 makes it a token.
    let canary = format!("/tmp/tug-pwned-{}", random_hex(6));
    let hostile = format!("n$(touch${{IFS}}{canary});x\"q");
    // hostname(1) refuses such a name; the kernel takes it.
    hosts[3].exec(&format!(
        "printf '%s' '{hostile}' > /proc/sys/kernel/hostname"
    ));
    assert_eq!(hosts[3].exec("hostname").trim(), hostile);
    let before: Vec<String> = (0..3).map(|i| journal(&hosts, i)).collect();
    let added = tug
        .run(&[
            "add",
            "--cluster",
            "c1",
            "--nodes",
            &hosts[3].addr(),
            "--plain",
        ])
        .ok();
    let sent: Vec<&str> = added
        .stderr
        .lines()
        .filter(|l| l.starts_with("sent "))
        .collect();
    assert_eq!(sent.len(), 1, "{}", added.stderr);
    assert!(
        sent[0].ends_with(&format!(" to {}", hosts[3].ip)),
        "{sent:?}"
    );
    assert_eq!(
        journal(&hosts, 1),
        before[1],
        "an existing node runs nothing"
    );
    assert_eq!(
        journal(&hosts, 2),
        before[2],
        "an existing node runs nothing"
    );
    let (m0_before, m0_after) = (calls(&before[0]), calls(&journal(&hosts, 0)));
    for (prog, args) in [
        ("check.sh", ""),
        ("init.sh", ""),
        ("kubeadm", "init --config"),
        ("install.sh", ""),
    ] {
        assert_eq!(
            calls_of(&m0_after, prog, args).len(),
            calls_of(&m0_before, prog, args).len(),
            "{prog} {args} ran again on master0"
        );
    }
    assert_eq!(
        calls_of(&m0_after, "kubeadm", "token create").len(),
        calls_of(&m0_before, "kubeadm", "token create").len() + 1
    );
    let new = calls(&journal(&hosts, 3));
    assert_eq!(calls_of(&new, "check.sh", "/var/lib/registry").len(), 1);
    assert_eq!(
        calls_of(
            &new,
            "kubeadm",
            &format!("join --config={DATA}/etc/kubeadm-join-node.yaml")
        )
        .len(),
        1
    );
    let clusterfile = tug.home().join("state/clusters/c1/Clusterfile");
    assert!(
        std::fs::read_to_string(&clusterfile)
            .unwrap()
            .contains(&hosts[3].ip)
    );

    // status: every host asked over SSH holds the cluster and has joined.
    let listed = tug.run(&["status"]).ok();
    let row: Vec<&str> = listed
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..4],
        ["c1", "ClusterSuccess", "1", "3"],
        "{}",
        listed.stdout
    );
    let status = tug.run(&["status", "--cluster", "c1", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["phase"], "ClusterSuccess");
    for (i, h) in v["hosts"].as_array().unwrap().iter().enumerate() {
        assert_eq!(h["ip"], hosts[i].ip.as_str());
        assert_eq!(h["answer"]["state"], "reachable", "{h}");
        assert_eq!(h["answer"]["data"], true, "{h}");
        assert_eq!(h["answer"]["joined"], true, "{h}");
    }

    // delete: master0's kubectl (the test plays its API server) knows the
    // node by its hostile name; it is drained and deleted by that name, as data.
    hosts[0].exec(&format!(
        "printf '%s %s\\n' node2 {} node3 {} '{hostile}' {} > {NODES}",
        hosts[1].ip, hosts[2].ip, hosts[3].ip
    ));
    let deleted = tug
        .run(&[
            "delete",
            "--cluster",
            "c1",
            "--nodes",
            &hosts[3].addr(),
            "--plain",
            "--yes",
        ])
        .ok();
    let m0 = calls(&journal(&hosts, 0));
    let drain = calls_of(&m0, "kubectl", "drain ");
    assert_eq!(drain.len(), 1, "{}", deleted.stderr);
    assert!(
        drain[0]
            .args
            .starts_with(&format!("drain {hostile} --ignore-daemonsets")),
        "{drain:?}"
    );
    assert_eq!(
        calls_of(&m0, "kubectl", &format!("delete node {hostile}")).len(),
        1
    );
    let gone = calls(&journal(&hosts, 3));
    assert_eq!(calls_of(&gone, "kubeadm", "reset").len(), 1, "{gone:?}");
    assert_eq!(calls_of(&gone, "clean.sh", "").len(), 1, "{gone:?}");
    assert_eq!(
        listing(&hosts, 3),
        pristine[3],
        "the deleted node holds nothing of tug's"
    );
    assert!(
        !std::path::Path::new(&canary).exists(),
        "a host name ran as a command"
    );
    assert!(
        !std::fs::read_to_string(&clusterfile)
            .unwrap()
            .contains(&hosts[3].ip)
    );
    assert!(
        hosts[1]
            .exec_output(&format!("test -d {DATA}"))
            .status
            .success(),
        "other nodes keep theirs"
    );

    // reset with node3 gone: the others are cleaned back to how they were, node3 is named.
    hosts[2].kill();
    let status = tug.run(&["status", "--cluster", "c1"]).ok();
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with(&hosts[2].ip))
        .unwrap()
        .to_string();
    assert!(
        line.contains(" unreachable: ") && line.contains("Connection refused"),
        "{}",
        status.stdout
    );
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with(&hosts[1].ip))
        .unwrap()
        .to_string();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[1..],
        ["node", "yes", "yes", "v1.28.9", "yes", "-", "answered"],
        "{}",
        status.stdout
    );
    let reset = tug
        .run(&["reset", "--cluster", "c1", "--force", "--plain"])
        .fails();
    assert!(reset.stderr.contains(&hosts[2].ip), "{}", reset.stderr);
    for i in [0, 1] {
        let ip = &hosts[i].ip;
        assert!(
            !reset
                .stderr
                .lines()
                .any(|l| l.contains(&format!("[{ip}] clean: ")) && l.contains(" failed: "))
                && !reset.stderr.contains(&format!("also [{ip}]")),
            "{}",
            reset.stderr
        );
    }
    for i in [0, 1] {
        let all = calls(&journal(&hosts, i));
        assert_eq!(calls_of(&all, "kubeadm", "reset -f").len(), 1, "{i}");
        assert_eq!(calls_of(&all, "clean.sh", "").len(), 1, "{i}");
        assert_eq!(
            calls_of(&all, "clean-cri.sh", "/var/lib/containerd").len(),
            1,
            "{i}"
        );
        assert_eq!(
            calls_of(&all, "clean-registry.sh", "/var/lib/registry /etc/registry").len(),
            usize::from(i == 0),
            "{i}"
        );
        assert_eq!(
            listing(&hosts, i),
            pristine[i],
            "host {i} holds nothing of tug's"
        );
        let etc_hosts = hosts[i].exec("cat /etc/hosts");
        assert!(
            !etc_hosts.contains("sealos.hub") && !etc_hosts.contains("apiserver.cluster.local"),
            "{etc_hosts}"
        );
    }
    // node3 still holds the cluster: its record stays, marked, until a
    // reset reaches it too.
    let listed = tug.run(&["status"]).ok();
    assert!(listed.stdout.contains("c1"), "{}", listed.stdout);
    assert!(
        reset.stderr.contains("marked resetting"),
        "{}",
        reset.stderr
    );
    hosts[2].restart();
    tug.run(&["reset", "--cluster", "c1", "--force", "--plain"])
        .ok();
    let listed = tug.run(&["status"]).ok();
    assert!(listed.stdout.is_empty(), "{}", listed.stdout);
}
