//! What applying a Clusterfile over a cluster tug already knows means,
//! decided on the jump host before any host is touched: an install (or its
//! resume, or added hosts) when the Kubernetes version stays, an upgrade
//! when the rootfs image is one minor (or a patch) newer, and a refusal,
//! naming what tug will not do, for everything else — a downgrade, a jump,
//! a changed rootfs of the same version, an unfinished install under a new
//! version, hosts changed along with the version.

use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::Phase as ApplyPhase;
use crate::engine::plan::HostId;
use crate::engine::spec::ClusterSpec;
use crate::engine::upgrade::rule::{self, Change};
use crate::engine::upgrade::target_version;
use crate::image::Store;
use crate::image::reference::Reference;
use crate::kubeadm::KubeVersion;
use anyhow::{Context as _, bail};

/// What an apply over the saved cluster does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// Install, resume or add hosts: the version stays.
    Install,
    /// Upgrade `pending` hosts from `from` (the oldest a host runs) to `to`.
    Upgrade {
        /// The oldest version a host of the cluster runs.
        from: KubeVersion,
        /// The new rootfs' version.
        to: KubeVersion,
        /// The hosts that do not run `to` yet.
        pending: Vec<HostId>,
    },
}

/// Decide what applying `spec` over `saved` (the cluster's saved
/// Clusterfile, if any) does; `store` reads the saved rootfs' version when
/// the status does not record the hosts' versions.
pub fn decide(
    store: &Store,
    saved: Option<&Clusterfile>,
    spec: &ClusterSpec,
) -> anyhow::Result<Lifecycle> {
    let Some(saved) = saved else {
        return Ok(Lifecycle::Install);
    };
    let rootfs = spec.rootfs()?;
    let new_ref = rootfs.reference.clone();
    let old_ref = saved
        .cluster
        .spec
        .image
        .first()
        .map(|r| normal(r))
        .unwrap_or_default();
    let status = saved.cluster.status.clone().unwrap_or_default();
    let recorded = &status.host_versions;
    let installed = !recorded.is_empty() || status.phase == Some(ApplyPhase::ClusterSuccess);
    let same_image = old_ref == normal(&new_ref);
    if same_image && recorded.is_empty() {
        return Ok(Lifecycle::Install);
    }
    let to = target_version(spec).with_context(|| {
        format!("the rootfs image {new_ref} has no Kubernetes version tug can read (its `version` label)")
    })?;
    let in_spec = |h: &String| spec.hosts.iter().any(|s| s.id.as_str() == h);
    let from = match recorded
        .iter()
        .filter(|(h, _)| in_spec(h))
        .filter_map(|(_, v)| KubeVersion::parse(v).ok())
        .min()
    {
        Some(v) => v,
        None => stored_version(store, &old_ref).with_context(|| {
            format!(
                "cluster {}: cannot tell which Kubernetes version it runs (its image {old_ref}); \
                 nothing was changed on any host",
                spec.name
            )
        })?,
    };
    if !installed {
        if from == to {
            return Ok(Lifecycle::Install);
        }
        bail!(
            "cluster {}: its install of {old_ref} (Kubernetes {from}) did not finish, and the image is now \
             {new_ref} ({to}); tug will not switch versions half-way. Finish the install with {old_ref} \
             (`tug apply`) and then upgrade, or `tug reset` it; nothing was changed on any host",
            spec.name
        );
    }
    match rule::check(&from, &to)? {
        Change::Same if same_image => Ok(Lifecycle::Install),
        Change::Same => bail!(
            "cluster {}: the rootfs image changed from {old_ref} to {new_ref}, both Kubernetes {to}; \
             tug upgrades a running cluster only to a newer Kubernetes version and will not re-install \
             its rootfs. Keep {old_ref} in the Clusterfile, or `tug reset` the cluster first; nothing \
             was changed on any host",
            spec.name
        ),
        Change::Upgrade => {
            let new_hosts: Vec<String> = spec
                .hosts
                .iter()
                .filter(|h| !recorded.is_empty() && !recorded.contains_key(h.id.as_str()))
                .map(|h| h.id.to_string())
                .collect();
            if !new_hosts.is_empty() {
                bail!(
                    "cluster {}: hosts {} are new and the Kubernetes version changes from {from} to {to}; \
                     tug will not add hosts during an upgrade. Upgrade first, then add them; nothing \
                     was changed on any host",
                    spec.name,
                    new_hosts.join(", ")
                );
            }
            let to_s = to.to_string();
            let pending = spec
                .hosts
                .iter()
                .filter(|h| {
                    recorded
                        .get(h.id.as_str())
                        .and_then(|v| KubeVersion::parse(v).ok())
                        .is_none_or(|v| v.to_string() != to_s)
                })
                .map(|h| h.id.clone())
                .collect();
            Ok(Lifecycle::Upgrade { from, to, pending })
        }
    }
}

/// The reference as tug stores it (`docker.io/…`), or as written when it
/// does not parse.
fn normal(r: &str) -> String {
    r.parse::<Reference>()
        .map_or_else(|_| r.to_string(), |p| p.to_string())
}

/// The `version` label of the stored image `reference`.
fn stored_version(store: &Store, reference: &str) -> anyhow::Result<KubeVersion> {
    let r: Reference = reference.parse()?;
    let image = store.image(&r, None)?;
    let label = image
        .config
        .config
        .and_then(|c| c.labels)
        .and_then(|l| l.get("version").cloned())
        .unwrap_or_default();
    Ok(KubeVersion::parse(&label)?)
}

#[cfg(test)]
#[path = "upgrade_tests.rs"]
mod tests;
