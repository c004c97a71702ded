//! [`SpecInputs`] from a loaded Clusterfile: each machine (one address of
//! a `spec.hosts[]` entry) becomes a host with its roles, arch, SSH
//! settings and env; images, env, command and kubeadm documents are taken
//! as written. `tug apply`, `tug plan` and `tug run` (after `gen`) use it.

use super::command::Secret;
use super::configs::{ConfigDoc, Strategy};
use super::plan::HostId;
use super::resolve::SpecInputs;
use super::spec::{BastionSpec, DEFAULT_DATA_ROOT, HostSpec, SshSpec};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::{BastionError, DEFAULT_SSH_USER, HostError};
use crate::cluster::model::Ssh;
use crate::image::Reference;
use crate::image::reference::ReferenceError;
use std::path::PathBuf;

/// The Cluster annotation that copies the cluster-admin kubeconfig to the workers
/// (`"true"`), as sealos always does.
pub const ADMIN_KUBECONFIG_ON_NODES: &str = "tug.io/admin-kubeconfig-on-nodes";

/// Why a Clusterfile cannot be turned into inputs.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// A host entry is wrong.
    #[error("spec.hosts: {0}")]
    Host(#[from] HostError),
    /// A host's `ssh.bastion` is not `USER@HOST[:PORT]`.
    #[error("host {host}: ssh.bastion: {source}")]
    Bastion {
        /// The host's address.
        host: String,
        /// What is wrong.
        source: BastionError,
    },
    /// An image reference is wrong.
    #[error("spec.image[{index}]: {source}")]
    Image {
        /// Its index in `spec.image`.
        index: usize,
        /// What is wrong.
        source: ReferenceError,
    },
}

fn secret(s: Option<&Secret>) -> Option<Secret> {
    s.filter(|s| !s.is_empty()).cloned()
}

/// The bastion `ssh` names, with its own login.
fn bastion(ssh: &Ssh) -> Result<Option<BastionSpec>, BastionError> {
    let Some(addr) = &ssh.bastion else {
        return Ok(None);
    };
    Ok(Some(BastionSpec {
        addr: addr.parse()?,
        key: ssh.bastion_pk.as_ref().map(PathBuf::from),
        password: secret(ssh.bastion_passwd.as_ref()),
    }))
}

impl SpecInputs {
    /// The inputs of `cf` with `-e/--env` entries `flag_env`; the cluster's
    /// files on the jump host go to `local_dir`.
    pub fn from_clusterfile(
        cf: &Clusterfile,
        flag_env: &[String],
        local_dir: PathBuf,
    ) -> Result<SpecInputs, InputsError> {
        let cluster = &cf.cluster;
        let hosts = cluster
            .machines()?
            .into_iter()
            .map(|m| {
                let bastion = bastion(&m.ssh).map_err(|source| InputsError::Bastion {
                    host: m.ip().to_string(),
                    source,
                })?;
                Ok(HostSpec {
                    id: HostId::new(m.ip().to_string()),
                    ip: m.ip(),
                    port: m.port(),
                    arch: m.arch.map(|a| a.as_str().to_string()).unwrap_or_default(),
                    ssh: SshSpec {
                        user: m
                            .ssh
                            .user
                            .clone()
                            .unwrap_or_else(|| DEFAULT_SSH_USER.into()),
                        password: secret(m.ssh.passwd.as_ref()),
                        key: m.ssh.pk.as_ref().map(PathBuf::from),
                        key_data: secret(m.ssh.pk_data.as_ref()),
                        key_passphrase: secret(m.ssh.pk_passwd.as_ref()),
                        bastion,
                    },
                    roles: m.roles,
                    env: m.env,
                })
            })
            .collect::<Result<_, InputsError>>()?;
        let images = cluster
            .spec
            .image
            .iter()
            .enumerate()
            .map(|(index, r)| {
                r.parse::<Reference>()
                    .map_err(|source| InputsError::Image { index, source })
            })
            .collect::<Result<_, _>>()?;
        let command = (!cluster.spec.command.is_empty()).then(|| cluster.spec.command.clone());
        Ok(SpecInputs {
            name: cluster.name().to_string(),
            hosts,
            images,
            cluster_env: cluster.spec.env.clone(),
            flag_env: flag_env.to_vec(),
            command,
            kubeadm_docs: cf.kubeadm_documents().map(|d| d.value.clone()).collect(),
            configs: cf
                .configs()
                .map(|c| ConfigDoc {
                    name: c.name.unwrap_or_default().to_string(),
                    path: c.path.to_string(),
                    data: c.data.to_string(),
                    strategy: Strategy::parse(c.strategy).unwrap_or(Strategy::Override),
                    matches: c.matches.filter(|m| !m.is_empty()).map(str::to_string),
                })
                .collect(),
            admin_kubeconfig_on_nodes: cluster.metadata.annotation(ADMIN_KUBECONFIG_ON_NODES)
                == Some("true"),
            data_root: DEFAULT_DATA_ROOT.into(),
            local_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::hosts::Role;

    #[test]
    fn machines_become_hosts_with_their_settings() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/clusterfile/sealos-ha.yaml");
        let cf = Clusterfile::load(&path).unwrap();
        let inputs = SpecInputs::from_clusterfile(&cf, &["A=b".into()], "/tmp/c".into()).unwrap();
        assert_eq!(inputs.name, cf.cluster.name());
        assert_eq!(inputs.hosts.len(), cf.cluster.machines().unwrap().len());
        let masters = inputs.hosts.iter().filter(|h| h.has(Role::Master)).count();
        assert!(masters >= 1);
        assert_eq!(inputs.images.len(), cf.cluster.spec.image.len());
        assert_eq!(inputs.flag_env, ["A=b"]);
        assert!(inputs.hosts.iter().all(|h| !h.ssh.user.is_empty()));
        let node = inputs
            .hosts
            .iter()
            .find(|h| h.ip.to_string() == "192.168.1.20")
            .unwrap();
        assert_eq!((node.port, node.arch.as_str()), (2222, "arm64"));
        assert_eq!(node.env, ["criData=/mnt/containerd"]);
        assert_eq!(node.ssh.password.as_ref().unwrap().expose(), "n0de-secret");
        assert!(
            !format!("{inputs:?}").contains("n0de-secret"),
            "no password in Debug"
        );
        assert_eq!(
            inputs.command.as_deref(),
            Some(&["bash init.sh --fast".to_string()][..])
        );
    }
}
