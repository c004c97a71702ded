//! `tug exec` and `tug scp` on a cluster's real sshd hosts, chosen by role
//! and address: output prefixed by host, a failing host fails the command,
//! files and directories land where asked and nowhere else.

mod support;

use support::hosts::Hosts;
use support::tug::Tug;

/// A cluster `c1` of hosts[0] (master) and hosts[1] (node), saved as a
/// run would save it; no image is needed to reach its hosts.
fn cluster(hosts: &Hosts) -> Tug {
    let tug = Tug::new();
    let key = hosts.key.display().to_string();
    let generated = tug
        .run(&[
            "gen",
            "tugtest/kubernetes:v1.28.9",
            "--masters",
            &hosts[0].addr(),
            "--nodes",
            &hosts[1].addr(),
            "--pk",
            &key,
            "--cluster",
            "c1",
        ])
        .ok();
    let dir = tug.home().join("state/clusters/c1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Clusterfile"), generated.stdout).unwrap();
    tug
}

#[test]
fn exec_runs_on_the_hosts_of_a_role_and_fails_when_one_does() {
    let hosts = Hosts::start(2);
    let tug = cluster(&hosts);
    let (master, node) = (&hosts[0].ip, &hosts[1].ip);

    let out = tug
        .run(&[
            "exec",
            "--cluster",
            "c1",
            "--roles",
            "node",
            "--",
            "echo",
            "on-$(hostname)",
        ])
        .ok();
    let node_name = hosts[1].exec("hostname");
    assert!(
        out.stderr
            .contains(&format!("[{node}] exec: on-{}", node_name.trim())),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains(&format!("[{master}]")),
        "{}",
        out.stderr
    );

    let all = tug
        .run(&[
            "exec",
            "--cluster",
            "c1",
            "--",
            "touch /tmp/tug-exec-$(hostname)",
        ])
        .ok();
    for h in [&hosts[0], &hosts[1]] {
        let name = h.exec("hostname");
        let marker = format!("/tmp/tug-exec-{}", name.trim());
        assert!(std::path::Path::new(&marker).exists(), "{}", all.stderr);
        let _ = std::fs::remove_file(marker);
    }

    let failed = tug
        .run(&["exec", "--cluster", "c1", "--ips", master, "--", "exit 3"])
        .fails();
    assert!(
        failed.stderr.contains(master) && failed.stderr.contains("code 3"),
        "{}",
        failed.stderr
    );
    let stranger = tug
        .run(&["exec", "--cluster", "c1", "--ips", "10.9.9.9", "--", "true"])
        .fails();
    assert!(
        stranger
            .stderr
            .contains("10.9.9.9 is not a host of cluster c1"),
        "{}",
        stranger.stderr
    );
}

#[test]
fn scp_copies_a_directory_and_a_file_to_the_hosts_asked_for() {
    let hosts = Hosts::start(2);
    let tug = cluster(&hosts);
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(local.path().join("conf/sub")).unwrap();
    std::fs::write(local.path().join("conf/a.txt"), "alpha\n").unwrap();
    std::fs::write(local.path().join("conf/sub/b.txt"), "beta\n").unwrap();
    std::fs::write(local.path().join("one.txt"), "one\n").unwrap();

    let dir = local.path().join("conf");
    tug.run(&[
        "scp",
        "--cluster",
        "c1",
        "--roles",
        "master",
        dir.to_str().unwrap(),
        "/opt/copied",
    ])
    .ok();
    assert_eq!(
        hosts[0].exec("cat /opt/copied/a.txt /opt/copied/sub/b.txt"),
        "alpha\nbeta\n"
    );
    assert!(
        !hosts[1].exec_output("test -e /opt/copied").status.success(),
        "the node was not asked for"
    );

    let file = local.path().join("one.txt");
    tug.run(&[
        "scp",
        "--cluster",
        "c1",
        file.to_str().unwrap(),
        "/opt/into/",
    ])
    .ok();
    for h in [&hosts[0], &hosts[1]] {
        assert_eq!(h.exec("cat /opt/into/one.txt"), "one\n");
    }
}
