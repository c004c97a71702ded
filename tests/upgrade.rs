//! Upgrading a cluster by running a newer image, over real OpenSSH hosts
//! with the fixture rootfs built as v1.25.0, v1.26.0 and v1.28.0: each
//! host drained, upgraded (`kubeadm upgrade apply` on master0, `upgrade
//! node` on the node), its binaries replaced, its kubelet restarted and
//! uncordoned, in that order; a jump and a downgrade refused before any
//! host runs anything; an upgrade that fails on the node resumed by a
//! re-run that does not touch master0 again; the status records each
//! host's version; `tug plan` and `--dry-run` show the upgrade's stages.

mod support;

use support::fixture::{self, FAIL, JOURNAL, NODES, calls};
use support::hosts::Hosts;
use support::tug::Tug;

/// The stand-ins' journal on host `i`.
fn journal(hosts: &Hosts, i: usize) -> String {
    hosts[i].exec(&format!("cat {JOURNAL} 2>/dev/null || true"))
}

/// The calls host `i` journaled after its first `from` lines, as
/// `prog args` (kubectl's node lookups left out).
fn since(hosts: &Hosts, i: usize, from: &str) -> Vec<String> {
    let all = journal(hosts, i);
    calls(&all[from.len()..])
        .into_iter()
        .filter(|c| !(c.prog == "kubectl" && c.args.starts_with("get nodes")))
        .map(|c| format!("{} {}", c.prog, c.args))
        .collect()
}

/// `tug run IMAGE` over the two hosts as cluster c1, with `extra` flags.
fn run(tug: &Tug, hosts: &Hosts, image: &str, extra: &[&str]) -> support::tug::Run {
    let key = hosts.key.display().to_string();
    let (m0, n1) = (hosts[0].addr(), hosts[1].addr());
    let mut args = vec![
        "run",
        image,
        "--masters",
        &m0,
        "--nodes",
        &n1,
        "--pk",
        &key,
        "--cluster",
        "c1",
        "--plain",
    ];
    args.extend(extra);
    tug.run(&args)
}

/// The saved Clusterfile of c1.
fn saved(tug: &Tug) -> String {
    let path = tug.home().join("state/clusters/c1/Clusterfile");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Install v1.25.0 and tell master0's kubectl about both hosts.
fn installed(tug: &Tug, hosts: &Hosts) {
    run(tug, hosts, &fixture::build_rootfs(tug, "v1.25.0"), &[]).ok();
    let nodes = format!(
        "{} {}\n{} {}\n",
        hosts[0].hostname, hosts[0].ip, hosts[1].hostname, hosts[1].ip
    );
    hosts[0].exec(&format!("printf '{nodes}' > {NODES}"));
    assert!(
        saved(tug).contains(&format!("{}: v1.25.0", hosts[1].ip)),
        "{}",
        saved(tug)
    );
}

/// The lines of `calls` that start with `prefix`, by position.
fn position(calls: &[String], prefix: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in {calls:#?}"))
}

#[test]
fn upgrade_one_minor_host_by_host_and_refuse_a_jump_and_a_downgrade() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    installed(&tug, &hosts);
    let v126 = fixture::build_rootfs(&tug, "v1.26.0");
    let v128 = fixture::build_rootfs(&tug, "v1.28.0");
    let (m0_ip, n1_ip) = (hosts[0].ip.clone(), hosts[1].ip.clone());
    let (m0_name, n1_name) = (hosts[0].hostname.clone(), hosts[1].hostname.clone());

    // A jump of two minors: refused, naming both versions, nothing run.
    let before = [journal(&hosts, 0), journal(&hosts, 1)];
    let refused = run(&tug, &hosts, &v128, &[]).fails();
    assert!(
        refused.stderr.contains("v1.25.0") && refused.stderr.contains("v1.28.0"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("one minor version at a time"));
    assert!(!refused.stderr.contains("ready"), "{}", refused.stderr);
    assert_eq!([journal(&hosts, 0), journal(&hosts, 1)], before);

    // The plan shows the upgrade's stages.
    let dry = run(&tug, &hosts, &v126, &["--dry-run"]).ok();
    for stage in [
        "preflight",
        "distribute",
        "upgrade-masters",
        "upgrade-nodes",
    ] {
        assert!(
            dry.stdout.contains(&format!(": {stage} (")),
            "{}",
            dry.stdout
        );
    }
    assert!(dry.stdout.contains("kubeadm upgrade apply v1.26.0 -y"));
    assert!(!dry.stdout.contains("kubeadm-init"), "{}", dry.stdout);
    let file = tug.home().join("upgrade.yaml");
    std::fs::write(&file, saved(&tug).replace(":v1.25.0", ":v1.26.0")).unwrap();
    let plan = tug.run(&["plan", "-f", file.to_str().unwrap()]).ok();
    assert!(plan.stdout.contains(": upgrade-nodes ("), "{}", plan.stdout);
    assert_eq!([journal(&hosts, 0), journal(&hosts, 1)], before);

    // The upgrade: each host in order; certificates kept.
    let up = run(&tug, &hosts, &v126, &[]).ok();
    assert!(
        up.stderr
            .contains("cluster c1 upgraded from v1.25.0 to v1.26.0 on every host"),
        "{}",
        up.stderr
    );
    assert!(!up.stderr.contains("is ready"), "{}", up.stderr);
    let m0 = since(&hosts, 0, &before[0]);
    let n1 = since(&hosts, 1, &before[1]);
    let order = [
        format!("kubectl drain {m0_name} --ignore-daemonsets --delete-emptydir-data"),
        "kubeadm version -o short".to_string(),
        "kubeadm upgrade apply v1.26.0 -y --config=".to_string(),
        "kubelet --version".to_string(),
        "systemctl daemon-reload".to_string(),
        "systemctl restart kubelet".to_string(),
        format!("kubectl uncordon {m0_name}"),
        format!("kubectl drain {n1_name} --ignore-daemonsets --delete-emptydir-data"),
        format!("kubectl uncordon {n1_name}"),
    ];
    let at: Vec<usize> = order.iter().map(|p| position(&m0, p)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{m0:#?}");
    // Between the node's drain and uncordon master0 ran nothing else.
    assert_eq!(at[8], at[7] + 1, "{m0:#?}");
    let apply = &m0[at[2]];
    assert!(apply.contains("--certificate-renewal=false"), "{apply}");
    let node_order = [
        "kubeadm version -o short",
        "kubeadm upgrade node --skip-phases preflight --certificate-renewal=false",
        "kubelet --version",
        "systemctl daemon-reload",
        "systemctl restart kubelet",
    ];
    let at: Vec<usize> = node_order.iter().map(|p| position(&n1, p)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{n1:#?}");
    assert!(!n1.iter().any(|c| c.starts_with("kubeadm upgrade apply")));
    // The new binaries are in place and report the new version.
    for h in [&hosts[0], &hosts[1]] {
        assert_eq!(
            h.exec("/usr/local/bin/kubeadm version -o short").trim(),
            "v1.26.0"
        );
        assert!(
            h.exec("/usr/local/bin/kubelet --version")
                .contains("v1.26.0")
        );
    }
    assert!(hosts[0].exec("kubectl get nodes").contains("v1.26.0"));
    let status = saved(&tug);
    for ip in [&m0_ip, &n1_ip] {
        assert!(status.contains(&format!("{ip}: v1.26.0")), "{status}");
    }

    // A downgrade: refused, nothing run.
    let v125 = "tugtest/kubernetes:v1.25.0";
    let before = [journal(&hosts, 0), journal(&hosts, 1)];
    let refused = run(&tug, &hosts, v125, &[]).fails();
    assert!(
        refused.stderr.contains("v1.26.0")
            && refused.stderr.contains("v1.25.0")
            && refused.stderr.contains("does not downgrade"),
        "{}",
        refused.stderr
    );
    assert_eq!([journal(&hosts, 0), journal(&hosts, 1)], before);

    // The same version again is a re-apply, not another upgrade.
    let again = run(&tug, &hosts, &v126, &[]).ok();
    assert!(again.stderr.contains("is ready"), "{}", again.stderr);
    assert!(
        !since(&hosts, 0, &before[0])
            .iter()
            .any(|c| c.starts_with("kubeadm upgrade"))
    );
}

#[test]
fn an_upgrade_that_fails_on_the_node_resumes_without_redoing_master0() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    installed(&tug, &hosts);
    let v126 = fixture::build_rootfs(&tug, "v1.26.0");
    let (m0_ip, n1_ip) = (hosts[0].ip.clone(), hosts[1].ip.clone());
    let before = [journal(&hosts, 0), journal(&hosts, 1)];

    hosts[1].exec(&format!("echo 'kubeadm upgrade' > {FAIL}"));
    let failed = run(&tug, &hosts, &v126, &[]).fails();
    assert!(
        failed.stderr.contains("kubeadm upgrade node"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains("ready"), "{}", failed.stderr);
    assert!(
        !failed.stderr.contains("upgraded from"),
        "{}",
        failed.stderr
    );
    // master0 is done and recorded; the node is not.
    let status = saved(&tug);
    assert!(status.contains(&format!("{m0_ip}: v1.26.0")), "{status}");
    assert!(status.contains(&format!("{n1_ip}: v1.25.0")), "{status}");
    let m0_first = journal(&hosts, 0);
    let m0_calls = since(&hosts, 0, &before[0]);
    assert_eq!(
        m0_calls
            .iter()
            .filter(|c| c.starts_with("kubeadm upgrade apply"))
            .count(),
        1
    );
    assert!(
        !m0_calls
            .iter()
            .any(|c| c.starts_with("kubectl uncordon node2")),
        "{m0_calls:#?}"
    );

    hosts[1].exec(&format!("rm -f {FAIL}"));
    let resumed = run(&tug, &hosts, &v126, &[]).ok();
    assert!(
        resumed.stderr.contains("upgraded from v1.25.0 to v1.26.0"),
        "{}",
        resumed.stderr
    );
    // master0 was asked for its certificates' expiry (as every run
    // starts) and ran only the node's uncordon: no drain of its own, no
    // upgrade apply, no kubelet restart; the node's drain is not repeated.
    let m0_again = since(&hosts, 0, &m0_first);
    assert_eq!(
        m0_again,
        vec![
            "kubeadm certs check-expiration".to_string(),
            format!("kubectl uncordon {}", hosts[1].hostname)
        ],
        "{m0_again:#?}"
    );
    let n1 = since(&hosts, 1, &before[1]);
    let upgrades: Vec<&String> = n1
        .iter()
        .filter(|c| c.starts_with("kubeadm upgrade node"))
        .collect();
    assert_eq!(upgrades.len(), 2, "{n1:#?}");
    assert!(
        n1.last().unwrap().starts_with("systemctl restart kubelet"),
        "{n1:#?}"
    );
    let status = saved(&tug);
    assert!(status.contains(&format!("{n1_ip}: v1.26.0")), "{status}");
}
