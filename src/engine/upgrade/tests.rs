use super::*;
use crate::engine::install::fixture::spec;

fn all(s: &ClusterSpec) -> Vec<HostId> {
    s.hosts.iter().map(|h| h.id.clone()).collect()
}

/// Each stage as `phase: [host] key…` without the hash.
fn outline(p: &Plan) -> Vec<String> {
    p.stages
        .iter()
        .map(|s| {
            let steps: Vec<String> = s
                .steps
                .iter()
                .map(|st| {
                    let id = st.id.as_str();
                    let key = id.split('/').nth(2).unwrap_or(id);
                    format!("[{}] {key}", st.host)
                })
                .collect();
            format!("{}: {}", s.phase, steps.join(", "))
        })
        .collect()
}

#[test]
fn master0_then_each_master_then_node_batches_each_drained_and_uncordoned_on_master0() {
    let s = spec(vec![]);
    let up = plan_upgrade(&s, &all(&s), &UpgradeOptions::default()).unwrap();
    let o = outline(&up.plan);
    let upgrade: Vec<&String> = o.iter().filter(|l| l.starts_with("upgrade-")).collect();
    assert_eq!(
        upgrade[0],
        "upgrade-masters: [10.0.0.1] drain 10.0.0.1@v1.25.16, \
         [10.0.0.1] kubeadm-binary 10.0.0.1@v1.25.16, [10.0.0.1] kubeadm-upgrade-config@v1.25.16, \
         [10.0.0.1] kubeadm-upgrade 10.0.0.1@v1.25.16, [10.0.0.1] binaries 10.0.0.1@v1.25.16, \
         [10.0.0.1] kubelet-restart 10.0.0.1@v1.25.16, [10.0.0.1] uncordon 10.0.0.1@v1.25.16"
    );
    assert_eq!(
        upgrade[1],
        "upgrade-masters: [10.0.0.1] drain 10.0.0.2@v1.25.16, \
         [10.0.0.2] kubeadm-binary 10.0.0.2@v1.25.16, [10.0.0.2] kubeadm-upgrade 10.0.0.2@v1.25.16, \
         [10.0.0.2] binaries 10.0.0.2@v1.25.16, [10.0.0.2] kubelet-restart 10.0.0.2@v1.25.16, \
         [10.0.0.1] uncordon 10.0.0.2@v1.25.16"
    );
    assert!(upgrade[2].contains("drain 10.0.0.3@"));
    // Two nodes: batches of one, each drained, worked on, uncordoned.
    assert_eq!(
        upgrade[3],
        "upgrade-nodes: [10.0.0.1] drain 10.0.0.4@v1.25.16"
    );
    assert!(upgrade[4].starts_with("upgrade-nodes: [10.0.0.4] kubeadm-binary"));
    assert_eq!(
        upgrade[5],
        "upgrade-nodes: [10.0.0.1] uncordon 10.0.0.4@v1.25.16"
    );
    assert_eq!(upgrade.len(), 9);
    assert!(o[0].starts_with("preflight: "), "{o:?}");
    assert!(o.iter().any(|l| l.starts_with("distribute: ")));
    // The status learns each host's version when its last stage is done.
    let marked: Vec<(usize, Vec<String>)> = up
        .versions
        .iter()
        .map(|m| (m.stage, m.hosts.iter().map(ToString::to_string).collect()))
        .collect();
    let first = o.len() - upgrade.len() + 1;
    assert_eq!(marked[0], (first, vec!["10.0.0.1".to_string()]));
    assert_eq!(
        marked.last().unwrap(),
        &(o.len(), vec!["10.0.0.5".to_string()])
    );
    assert!(up.versions.iter().all(|m| m.version == "v1.25.16"));
}

#[test]
fn certificates_are_kept_unless_asked_and_the_merged_config_is_given() {
    let s = spec(vec![]);
    let text = |renew| {
        let opts = UpgradeOptions {
            renew_certs: renew,
            ..UpgradeOptions::default()
        };
        plan_upgrade(&s, &all(&s), &opts).unwrap().plan.to_string()
    };
    let kept = text(false);
    assert!(
        kept.contains(
            "kubeadm upgrade apply v1.25.16 -y \
             '--config=/var/lib/sealos/data/default/etc/kubeadm-upgrade.yaml' \
             '--certificate-renewal=false'"
        ),
        "{kept}"
    );
    assert!(
        kept.contains("kubeadm upgrade node --skip-phases preflight '--certificate-renewal=false'")
    );
    let renewed = text(true);
    assert!(!renewed.contains("certificate-renewal"), "{renewed}");
}

#[test]
fn hosts_already_upgraded_are_left_out() {
    let s = spec(vec![]);
    let pending = vec![HostId::new("10.0.0.3"), HostId::new("10.0.0.5")];
    let up = plan_upgrade(&s, &pending, &UpgradeOptions::default()).unwrap();
    let o = outline(&up.plan);
    let upgrade: Vec<&String> = o.iter().filter(|l| l.starts_with("upgrade-")).collect();
    assert_eq!(upgrade.len(), 4, "{upgrade:?}");
    assert!(upgrade[0].contains("drain 10.0.0.3@"));
    assert!(upgrade[1].contains("drain 10.0.0.5@"));
    assert!(!o.iter().any(|l| l.contains("drain 10.0.0.1@")));
}

#[test]
fn nodes_go_in_batches_of_a_tenth() {
    assert_eq!(node_batch(1), 1);
    assert_eq!(node_batch(10), 1);
    assert_eq!(node_batch(11), 2);
    assert_eq!(node_batch(100), 10);
}
