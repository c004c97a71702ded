//! Growing and shrinking the control plane over real OpenSSH hosts with the
//! fixture images built by `tug build`: `add --masters` joins a host as a
//! control-plane member and the nodes' IPVS rule and lvscare pod follow
//! the new master set; `delete --masters` drains, deletes and resets it,
//! and the nodes follow again.

mod support;

use support::fixture::{self, JOURNAL, NODES, calls, calls_of};
use support::hosts::{Host, Hosts};
use support::tug::Tug;

const DATA: &str = "/var/lib/sealos/data/c2";
const LVSCARE: &str = "/etc/kubernetes/manifests/kube-sealos-lvscare.yaml";

fn journal(host: &Host) -> Vec<fixture::Call> {
    calls(&host.exec(&format!("cat {JOURNAL} 2>/dev/null || true")))
}

/// The real servers (`IP:PORT`) of the node's latest IPVS rule for the VIP.
fn ipvs_rs(node: &Host) -> Vec<String> {
    let all = journal(node);
    let rules = calls_of(&all, "sealctl", "ipvs --vs 10.103.97.2:6443");
    let Some(last) = rules.last() else {
        return Vec::new();
    };
    let words: Vec<&str> = last.args.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "--rs")
        .map(|w| w[1].to_string())
        .collect()
}

#[test]
fn add_then_delete_a_master_and_the_nodes_follow_the_master_set() {
    let hosts = Hosts::start(3);
    let (m0, node, m1) = (&hosts[0], &hosts[1], &hosts[2]);
    let tug = Tug::new();
    let images = fixture::build_images(&tug);
    let key = hosts.key.display().to_string();
    let mut args: Vec<&str> = vec!["run"];
    args.extend(images.iter().map(String::as_str));
    let (masters, nodes) = (m0.addr(), node.addr());
    args.extend(["--masters", &masters, "--nodes", &nodes]);
    args.extend(["--pk", &key, "--cluster", "c2"]);
    tug.run(&args).ok();
    let only_m0 = vec![format!("{}:6443", m0.ip)];
    assert_eq!(ipvs_rs(node), only_m0);
    let pod = node.exec(&format!("cat {LVSCARE}"));
    assert!(pod.contains(&format!("{}:6443", m0.ip)), "{pod}");
    assert!(!pod.contains(&m1.ip), "{pod}");

    // add --masters: a control-plane join on the new host; the node's rule
    // and pod now balance over both masters; master0 inits nothing again.
    let added = tug
        .run(&["add", "--cluster", "c2", "--masters", &m1.addr(), "--plain"])
        .ok();
    let joined = journal(m1);
    assert_eq!(
        calls_of(
            &joined,
            "kubeadm",
            &format!("join --config={DATA}/etc/kubeadm-join-master.yaml")
        )
        .len(),
        1,
        "{}",
        added.stderr
    );
    let cfg = m1.exec(&format!("cat {DATA}/etc/kubeadm-join-master.yaml"));
    assert!(cfg.contains("controlPlane:"), "{cfg}");
    assert!(
        m1.exec("cat /etc/hosts")
            .contains(&format!("{} apiserver.cluster.local", m1.ip)),
        "the new master reaches the apiserver at itself"
    );
    let both = vec![format!("{}:6443", m0.ip), format!("{}:6443", m1.ip)];
    assert_eq!(ipvs_rs(node), both);
    let pod = node.exec(&format!("cat {LVSCARE}"));
    assert!(
        pod.contains(&format!("{}:6443", m0.ip)) && pod.contains(&format!("{}:6443", m1.ip)),
        "{pod}"
    );
    assert_eq!(
        calls_of(&journal(m0), "kubeadm", "init --config").len(),
        1,
        "master0 initialised the cluster once"
    );
    assert_eq!(
        calls_of(&journal(node), "kubeadm", "join").len(),
        1,
        "the node joined once"
    );

    // delete --masters: drained and deleted on master0, reset on its host;
    // the node's rule and pod are back to master0 alone.
    m0.exec(&format!(
        "printf '%s %s\\n' node1 {} master1 {} > {NODES}",
        node.ip, m1.ip
    ));
    let deleted = tug
        .run(&[
            "delete",
            "--cluster",
            "c2",
            "--masters",
            &m1.addr(),
            "--plain",
            "--yes",
        ])
        .ok();
    let on_m0 = journal(m0);
    assert_eq!(
        calls_of(&on_m0, "kubectl", "drain master1 ").len(),
        1,
        "{}",
        deleted.stderr
    );
    assert_eq!(calls_of(&on_m0, "kubectl", "delete node master1").len(), 1);
    assert_eq!(calls_of(&journal(m1), "kubeadm", "reset").len(), 1);
    assert_eq!(ipvs_rs(node), only_m0);
    let pod = node.exec(&format!("cat {LVSCARE}"));
    assert!(
        pod.contains(&format!("{}:6443", m0.ip)) && !pod.contains(&m1.ip),
        "{pod}"
    );
    let cf = std::fs::read_to_string(tug.home().join("state/clusters/c2/Clusterfile")).unwrap();
    assert!(!cf.contains(&m1.ip), "{cf}");
}
