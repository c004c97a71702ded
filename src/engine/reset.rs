//! The reset planner: [`ClusterSpec`] → [`Plan`] that takes a cluster
//! apart the way sealos does (labring-contract §3.3), every stage keeping
//! going past failed or gone hosts: `kubeadm reset` on nodes in parallel,
//! then masters one by one; the image's `clean-registry` (registry hosts)
//! and `clean` hooks; the `/etc/hosts` names tug added; then everything
//! tug put on the host (the cluster's data dir with its layer markers, the
//! registry link, the lvscare manifest, `~/.kube`).
//!
//! The install journal must be removed with the cluster (the CLI does it):
//! it describes hosts that no longer hold anything.

use super::command::Command;
use super::install::shell::{hook, script};
use super::install::{DEFAULT_REGISTRY_DATA, InstallError};
use super::plan::{HostId, Marker, OnFailure, Order, Phase, Plan, Stage, Step};
use super::spec::{ClusterSpec, HostSpec, Role};
use crate::cluster::env::Env;
use crate::kubeadm::APISERVER_DOMAIN;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Undo kubeadm on a host (sealos's reset command) and clear the node's IPVS rule.
const RESET_KUBE: &str = r#"sealctl=$1 vs=$2
if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f -v 0 || echo "kubeadm reset failed; removing its files anyway" >&2; fi
rm -rf /etc/kubernetes /etc/cni /opt/cni /var/lib/etcd "$HOME/.kube"
ip link delete kube-ipvs0 >/dev/null 2>&1 || true
if [ -n "$vs" ]; then
  if [ -x "$sealctl" ]; then "$sealctl" ipvs --vs "$vs" -C || true
  elif command -v ipvsadm >/dev/null 2>&1; then ipvsadm -D -t "$vs" 2>/dev/null || true; fi
fi"#;

/// Remove names from `/etc/hosts`, in place, keeping every other name and line.
const HOSTS_DELETE: &str = r#"set -e
file=/etc/hosts
tmp=$(mktemp)
TUG_NAMES="$*" awk '
  BEGIN { n = split(ENVIRON["TUG_NAMES"], list, " "); for (i = 1; i <= n; i++) drop[list[i]] = 1 }
  /^[[:space:]]*#/ || NF < 2 { print; next }
  { hit = 0; for (i = 2; i <= NF; i++) if ($i in drop) hit = 1
    if (!hit) { print; next }
    out = $1; kept = 0
    for (i = 2; i <= NF; i++) { if ($i ~ /^#/) break; if (!($i in drop)) { out = out " " $i; kept++ } }
    if (kept > 0) print out }' "$file" > "$tmp"
cat "$tmp" > "$file"
rm -f "$tmp""#;

/// Remove what tug put on the host: the cluster dir (and the data root's
/// dirs above it once no other cluster is left in them) and the registry link.
const REMOVE: &str = r#"set -e
cluster=$1 registry=$2 root=$3
rm -rf -- "$cluster"
rmdir -- "$root/data" 2>/dev/null && rmdir -- "$root" 2>/dev/null || true
if [ -L "$registry" ]; then rm -f -- "$registry"; fi
rm -f /etc/kubernetes/manifests/kube-sealos-lvscare.yaml"#;

fn stage(phase: Phase, order: Order, steps: Vec<Step>) -> Option<Stage> {
    (!steps.is_empty()).then_some(Stage {
        phase,
        steps,
        order,
        on_failure: OnFailure::KeepGoing,
    })
}

/// On master0: drain and delete the node whose InternalIP is `$1`.
const DRAIN: &str = r#"set -e
name=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | awk -v ip="$1" '$2 == ip { print $1 }')
if [ -z "$name" ]; then echo "no node with address $1 in the cluster; nothing to drain" >&2; exit 0; fi
kubectl drain "$name" --ignore-daemonsets --delete-emptydir-data --force --timeout=120s || echo "drain of $name did not finish; deleting it anyway" >&2
kubectl delete node "$name" --ignore-not-found"#;

/// Plan the reset of `spec`'s hosts, at most `parallel` at once.
pub fn plan_reset(spec: &ClusterSpec, parallel: usize) -> Result<Plan, InstallError> {
    reset_hosts(spec, parallel, &|_| true, Vec::new())
}

/// Why hosts cannot be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// master0 holds the cluster's first control plane and its registry.
    #[error("{0} is master0; it cannot be deleted (reset the cluster instead)")]
    Master0(String),
    /// A host that is not in the cluster.
    #[error("{0} is not a host of the cluster")]
    Unknown(String),
    /// The plan cannot be made.
    #[error(transparent)]
    Plan(#[from] InstallError),
}

/// Plan the removal of `hosts` from the cluster: each drained and deleted
/// from Kubernetes on master0, then reset and cleaned like [`plan_reset`].
/// The caller then drops them from the Clusterfile and re-applies, so the
/// remaining nodes' IPVS rules and lvscare pods follow a changed master set.
pub fn plan_delete(
    spec: &ClusterSpec,
    hosts: &[HostId],
    parallel: usize,
) -> Result<Plan, DeleteError> {
    let master0 = spec.master0().map_err(InstallError::from)?;
    for h in hosts {
        if *h == master0.id {
            return Err(DeleteError::Master0(h.to_string()));
        }
        if !spec.hosts.iter().any(|s| s.id == *h) {
            return Err(DeleteError::Unknown(h.to_string()));
        }
    }
    let drains = spec
        .hosts
        .iter()
        .filter(|h| hosts.contains(&h.id))
        .map(|h| {
            Step::new(
                Phase::Delete,
                master0.id.clone(),
                &format!("drain {}", h.id),
                super::plan::Action::Run {
                    cmd: script(DRAIN, [h.ip.to_string()]),
                    timeout: None,
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(InstallError::from)?;
    let first = stage(Phase::Delete, Order::OneByOne, drains)
        .into_iter()
        .collect();
    Ok(reset_hosts(
        spec,
        parallel,
        &|h| hosts.contains(&h.id),
        first,
    )?)
}

fn reset_hosts(
    spec: &ClusterSpec,
    parallel: usize,
    chosen: &dyn Fn(&HostSpec) -> bool,
    first: Vec<Stage>,
) -> Result<Plan, InstallError> {
    let master0 = spec.master0()?;
    let rootfs_image = spec.rootfs()?;
    let rootfs = spec.rootfs_dir();
    let labels: BTreeMap<String, String> =
        spec.images.iter().flat_map(|i| i.labels.clone()).collect();
    let label = |name: &str| {
        labels
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("{name}.sh"))
    };
    let registry_hosts = spec.registry_hosts()?;
    let is_registry = |h: &HostSpec| registry_hosts.iter().any(|r| r.id == h.id);
    let mut env: BTreeMap<String, Env> = BTreeMap::new();
    for h in &spec.hosts {
        let r = rootfs_image
            .env
            .for_host(h.id.as_str(), &h.env, &h.run_mode())?;
        env.insert(h.id.to_string(), r.env);
    }
    let port = crate::kubeadm::DEFAULT_BIND_PORT;
    let vs = SocketAddr::new(spec.kubeadm.vip, port).to_string();
    let sealctl = format!("{rootfs}/opt/sealctl");
    // The hooks need the image's scripts; a host that never got them has nothing to clean.
    let no_scripts = Marker::Command(
        Command::new("test")
            .arg("!")
            .arg("-d")
            .arg(format!("{rootfs}/scripts")),
    );
    let step = |phase, h: &HostSpec, key: &str, cmd: Command| {
        Step::new(
            phase,
            h.id.clone(),
            key,
            super::plan::Action::Run { cmd, timeout: None },
        )
    };
    let parallel = Order::Parallel(parallel.max(1));
    let mut nodes = Vec::new();
    let mut masters = Vec::new();
    let mut clean_registry = Vec::new();
    let mut clean_cri = Vec::new();
    let mut clean = Vec::new();
    let mut names = Vec::new();
    let mut remove = Vec::new();
    for h in spec.hosts.iter().filter(|h| chosen(h)) {
        let e = &env[h.id.as_str()];
        if h.has(Role::Master) {
            masters.push(step(
                Phase::Reset,
                h,
                "kubeadm-reset",
                script(RESET_KUBE, [sealctl.as_str(), ""]),
            )?);
        } else {
            nodes.push(step(
                Phase::Reset,
                h,
                "kubeadm-reset",
                script(RESET_KUBE, [sealctl.as_str(), vs.as_str()]),
            )?);
        }
        if is_registry(h) {
            let s = step(
                Phase::Clean,
                h,
                "clean-registry",
                hook(&rootfs, e, &label("clean-registry")),
            )?;
            clean_registry.push(s.skip_when(no_scripts.clone()));
        }
        // Only where the image names it, as sealos runs it (k3s images do).
        if let Some(l) = labels.get("clean-cri") {
            let s = step(Phase::Clean, h, "clean-cri", hook(&rootfs, e, l))?;
            clean_cri.push(s.skip_when(no_scripts.clone()));
        }
        let s = step(Phase::Clean, h, "clean", hook(&rootfs, e, &label("clean")))?;
        clean.push(s.skip_when(no_scripts.clone()));
        let domain = e
            .get("registryDomain")
            .filter(|d| !d.is_empty())
            .unwrap_or("sealos.hub");
        let mut dropped = vec![domain, APISERVER_DOMAIN];
        if !h.has(Role::Master) {
            dropped.push(super::install::LVSCARE_NODE_IP);
        }
        names.push(step(
            Phase::Clean,
            h,
            "hosts",
            script(HOSTS_DELETE, dropped),
        )?);
        let data = e
            .get("registryData")
            .filter(|d| !d.is_empty())
            .unwrap_or(DEFAULT_REGISTRY_DATA);
        remove.push(step(
            Phase::Clean,
            h,
            "remove",
            script(
                REMOVE,
                [
                    spec.cluster_dir().as_str(),
                    data,
                    spec.data_root.trim_end_matches('/'),
                ],
            ),
        )?);
    }
    // master0 last, as sealos resets it after the others.
    masters.sort_by_key(|s| s.host == master0.id);
    let plan = Plan {
        stages: first
            .into_iter()
            .chain(
                [
                    stage(Phase::Reset, parallel, nodes),
                    stage(Phase::Reset, Order::OneByOne, masters),
                    stage(Phase::Clean, parallel, clean_registry),
                    stage(Phase::Clean, parallel, clean_cri),
                    stage(Phase::Clean, parallel, clean),
                    stage(Phase::Clean, parallel, names),
                    stage(Phase::Clean, parallel, remove),
                ]
                .into_iter()
                .flatten(),
            )
            .collect(),
    };
    plan.validate()?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::install::fixture::spec;

    fn shown(plan: &Plan, needle: &str) -> Vec<(usize, String)> {
        plan.stages
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.steps.iter().map(move |st| (i, st)))
            .filter(|(_, st)| st.action.to_string().contains(needle))
            .map(|(i, st)| (i, st.host.to_string()))
            .collect()
    }

    #[test]
    fn a_clean_cri_label_runs_after_clean_registry_and_before_clean() {
        assert!(shown(&plan_reset(&spec(vec![]), 8).unwrap(), "k3s-clean").is_empty());
        let mut s = spec(vec![]);
        s.images[0]
            .labels
            .insert("clean-cri".into(), "k3s-clean.sh $criData".into());
        let plan = plan_reset(&s, 8).unwrap();
        let cri = shown(&plan, "bash k3s-clean.sh $criData");
        assert_eq!(cri.len(), 5);
        assert!(shown(&plan, "bash clean-registry.sh")[0].0 < cri[0].0);
        assert!(cri[0].0 < shown(&plan, "bash clean.sh")[0].0);
    }

    #[test]
    fn nodes_then_masters_then_the_image_clean_hooks_and_tugs_files() {
        let plan = plan_reset(&spec(vec![]), 8).unwrap();
        assert!(
            plan.stages
                .iter()
                .all(|s| s.on_failure == OnFailure::KeepGoing)
        );
        let resets = shown(&plan, "kubeadm reset");
        let hosts: Vec<&str> = resets.iter().map(|(_, h)| h.as_str()).collect();
        assert_eq!(
            hosts,
            ["10.0.0.4", "10.0.0.5", "10.0.0.2", "10.0.0.3", "10.0.0.1"]
        );
        assert!(resets[0].0 < resets[2].0);
        assert_eq!(plan.stages[resets[2].0].order, Order::OneByOne);
        let registry = shown(&plan, "bash clean-registry.sh");
        assert_eq!(registry.len(), 1);
        assert_eq!(registry[0].1, "10.0.0.1");
        assert_eq!(shown(&plan, "bash clean.sh").len(), 5);
        let removed = shown(&plan, "tug /var/lib/sealos/data/default /var/lib/registry");
        assert_eq!(removed.len(), 5);
        assert!(removed[0].0 > registry[0].0);
        assert_eq!(
            shown(
                &plan,
                "tug sealos.hub apiserver.cluster.local lvscare.node.ip"
            )
            .len(),
            2
        );
        let text = plan.to_string();
        assert!(
            text.contains("keep going") && !text.contains("passw0rd"),
            "{text}"
        );
    }

    #[test]
    fn delete_drains_on_master0_then_resets_only_the_deleted_hosts() {
        let s = spec(vec![]);
        let gone = [HostId::new("10.0.0.5")];
        let plan = plan_delete(&s, &gone, 8).unwrap();
        assert_eq!(plan.stages[0].phase, Phase::Delete);
        assert_eq!(plan.stages[0].steps[0].host.as_str(), "10.0.0.1");
        assert!(
            plan.stages[0].steps[0]
                .action
                .to_string()
                .ends_with("tug 10.0.0.5")
        );
        let others: Vec<_> = plan.stages[1..]
            .iter()
            .flat_map(|st| &st.steps)
            .filter(|st| st.host.as_str() != "10.0.0.5")
            .collect();
        assert!(others.is_empty(), "{others:?}");
        assert_eq!(shown(&plan, "bash clean.sh").len(), 1);
        let e = plan_delete(&s, &[HostId::new("10.0.0.1")], 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "10.0.0.1 is master0; it cannot be deleted (reset the cluster instead)"
        );
        let e = plan_delete(&s, &[HostId::new("10.9.9.9")], 8).unwrap_err();
        assert_eq!(e.to_string(), "10.9.9.9 is not a host of the cluster");
    }
}
