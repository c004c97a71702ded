//! [`ClusterSpec`]: the resolved input of one install, everything the
//! planner needs and nothing it must look up. Front-ends (the Clusterfile,
//! `tug run` flags, the wizard) and the image store fill it in; the planner
//! ([`super::install`]) turns it into a plan without any I/O.
//!
//! Host paths follow sealos's layout under [`DEFAULT_DATA_ROOT`] so official
//! images and tools find things where they expect them.

use super::command::Secret;
use super::plan::HostId;
use crate::cluster::env::{Env, EnvMap};
use crate::cluster::hosts::BastionAddr;
use crate::image::digest::Digest;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// sealos's data root on the hosts.
pub const DEFAULT_DATA_ROOT: &str = "/var/lib/sealos";

pub use crate::cluster::hosts::Role;

/// How tug logs in to a host. Secrets are masked wherever shown.
#[derive(Clone, Debug, Default)]
pub struct SshSpec {
    /// The login user (`root` unless given); others run commands through sudo.
    pub user: String,
    /// The password (also fed to `sudo -S` for non-root users).
    pub password: Option<Secret>,
    /// A private key file on the jump host.
    pub key: Option<PathBuf>,
    /// A private key's text (the Clusterfile's `pkData`); used before `key`.
    pub key_data: Option<Secret>,
    /// The key's passphrase.
    pub key_passphrase: Option<Secret>,
    /// The bastion the host is reached through, if any.
    pub bastion: Option<BastionSpec>,
}

/// A bastion in front of a host: where it is and its own login (a key,
/// else a password, else the ssh-agent).
#[derive(Clone, Debug)]
pub struct BastionSpec {
    /// `USER@HOST:PORT`.
    pub addr: BastionAddr,
    /// Its private key file on the jump host.
    pub key: Option<PathBuf>,
    /// Its login password.
    pub password: Option<Secret>,
}

/// One host of the cluster.
#[derive(Clone, Debug)]
pub struct HostSpec {
    /// How plans, logs and events name it.
    pub id: HostId,
    /// Its address.
    pub ip: IpAddr,
    /// Its SSH port.
    pub port: u16,
    /// Its roles (master or node, maybe registry).
    pub roles: Vec<Role>,
    /// Its CPU architecture as the Clusterfile gives it (`amd64`, `arm64`).
    pub arch: String,
    /// How to log in.
    pub ssh: SshSpec,
    /// `spec.hosts[].env` entries (`KEY=VALUE`), over the cluster env.
    pub env: Vec<String>,
}

impl HostSpec {
    /// Whether the host has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The roles joined by `,` as sealos exports them in `SEALOS_SYS_RUN_MODE`.
    pub fn run_mode(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.as_str().to_string()).collect()
    }
}

/// What kind of cluster image (the `sealos.io.type` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// The Kubernetes base: goes to every host's rootfs.
    Rootfs,
    /// Files merged into the rootfs of every host.
    Patch,
    /// Files to master0's application workdir; its CMD runs there.
    Application,
}

/// What a layer holds, read once from the blob on the jump host
/// (see [`super::layer_scan`]), so the planner can decide what each host
/// needs without reading it again.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerContent {
    /// Entries under `registry/` (the image's registry data).
    pub registry: bool,
    /// Entries outside `registry/`.
    pub other: bool,
    /// Paths (relative, normalised) this layer deletes from the layers below (`.wh.` files).
    pub whiteouts: Vec<String>,
    /// Dirs whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// Bytes of file content once unpacked, for the free-disk check.
    pub unpacked_size: u64,
    /// How many entries, for the free-inode check and plans.
    pub entries: u64,
    /// Files whose setuid/setgid bits the host clears after unpacking.
    #[serde(default)]
    pub setuid: Vec<String>,
}

/// One layer of an image, as the store holds it.
#[derive(Clone, Debug)]
pub struct LayerSpec {
    /// The blob's digest (its identity on the hosts, via markers).
    pub digest: Digest,
    /// The blob's (compressed) size.
    pub size: u64,
    /// Its media type: tells how the host decompresses it.
    pub media_type: String,
    /// The blob file in the local store.
    pub path: PathBuf,
    /// What it holds.
    pub content: LayerContent,
}

/// A template file from the image's unpacked tree, rendered per host.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TemplateFile {
    /// Its path relative to the image root (e.g. `etc/config.toml.tmpl`).
    pub path: String,
    /// Its permission bits.
    pub mode: u32,
    /// Its text.
    pub source: String,
}

/// One cluster image with its sealos contract, in install order.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// The reference as the user gave it (normalised).
    pub reference: String,
    /// A file-name-safe name, unique in the cluster: the application workdir name.
    pub name: String,
    /// Rootfs, patch or application.
    pub kind: ImageKind,
    /// The manifest digest.
    pub manifest: Digest,
    /// The image's architecture (`amd64`, `arm64`).
    pub arch: String,
    /// The config's labels (hooks: `check`, `init`, `init-registry`, …; `version`, `vip`, `image`).
    pub labels: BTreeMap<String, String>,
    /// The config's `ENV` as it is.
    pub image_env: EnvMap,
    /// The env resolved for this image (image < Clusterfile < flags, built-ins for rootfs).
    pub env: Env,
    /// The config's Entrypoint (`/bin/sh -c` dropped).
    pub entrypoint: Vec<String>,
    /// The config's Cmd (`/bin/sh -c` dropped).
    pub cmd: Vec<String>,
    /// Its layers, bottom first.
    pub layers: Vec<LayerSpec>,
    /// Its `*.tmpl`/`*.tpl` files under etc/, scripts/, manifests/, statics/.
    pub templates: Vec<TemplateFile>,
    /// Its tree holds `opt/sealctl`: nodes set the API servers' IPVS rule
    /// with it; without it they need `ipvsadm`.
    pub has_sealctl: bool,
}

/// The registry's login, written as a bcrypt htpasswd before `init-registry`.
#[derive(Clone, Debug)]
pub struct RegistryAuth {
    /// `registryUsername`.
    pub username: String,
    /// `registryPassword`.
    pub password: Secret,
}

/// Everything one install is made from.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// The cluster's name (its dir on the hosts and on the jump host).
    pub name: String,
    /// Every host; the first master is master0.
    pub hosts: Vec<HostSpec>,
    /// The images, in the order given (rootfs first).
    pub images: Vec<ImageSpec>,
    /// Clusterfile `spec.env` entries (`KEY=VALUE`).
    pub cluster_env: Vec<String>,
    /// `-e/--env` entries.
    pub flag_env: Vec<String>,
    /// `--cmd`/`spec.command`: replaces the first image's CMD, as sealos does.
    pub command: Option<Vec<String>>,
    /// The kubeadm inputs (versions, documents, masters, VIP, registry).
    pub kubeadm: crate::kubeadm::Inputs,
    /// The data root on the hosts (normally [`DEFAULT_DATA_ROOT`]).
    pub data_root: String,
    /// The cluster's own dir on the jump host (fetched files, facts).
    pub local_dir: PathBuf,
    /// The registry's login, when the image sets one.
    pub registry_auth: Option<RegistryAuth>,
    /// Files the Clusterfile's `Config` documents write into images' trees.
    pub configs: Vec<super::configs::ConfigFile>,
    /// Copy the cluster-admin kubeconfig to the workers' `~/.kube/config` too (sealos
    /// always does; tug keeps it on the masters unless asked).
    pub admin_kubeconfig_on_nodes: bool,
}

/// Why a spec cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// No host is a master.
    #[error("cluster {0}: no host has the master role")]
    NoMaster(String),
    /// No rootfs image.
    #[error("cluster {0}: no image is a rootfs (sealos.io.type=rootfs) image")]
    NoRootfs(String),
    /// Two hosts with one id or address.
    #[error("cluster {cluster}: host {host} is listed twice")]
    DuplicateHost {
        /// The cluster.
        cluster: String,
        /// The host.
        host: String,
    },
    /// A host's architecture differs from an image's.
    #[error("host {host} is {host_arch} but image {image} is {image_arch}")]
    Arch {
        /// The host.
        host: String,
        /// Its arch.
        host_arch: String,
        /// The image.
        image: String,
        /// The image's arch.
        image_arch: String,
    },
}

impl ClusterSpec {
    /// The cluster's dir on the hosts: `<data root>/data/<name>`.
    pub fn cluster_dir(&self) -> String {
        format!(
            "{}/data/{}",
            self.data_root.trim_end_matches('/'),
            self.name
        )
    }

    /// The merged rootfs on every host.
    pub fn rootfs_dir(&self) -> String {
        format!("{}/rootfs", self.cluster_dir())
    }

    /// Where kubeadm configs go: `<cluster dir>/etc`.
    pub fn etc_dir(&self) -> String {
        format!("{}/etc", self.cluster_dir())
    }

    /// An application image's workdir on master0.
    pub fn app_dir(&self, image: &ImageSpec) -> String {
        format!("{}/applications/{}/workdir", self.cluster_dir(), image.name)
    }

    /// Where tug keeps its per-layer markers on a host.
    pub fn marker_dir(&self) -> String {
        format!("{}/.tug/layers", self.cluster_dir())
    }

    /// Each host's role as dashboards show it: `master` or `node`.
    pub fn role_names(&self) -> BTreeMap<HostId, String> {
        self.hosts
            .iter()
            .map(|h| {
                let r = if h.has(Role::Master) {
                    "master"
                } else {
                    "node"
                };
                (h.id.clone(), r.to_string())
            })
            .collect()
    }

    /// The hosts' SSH (sudo) passwords: masked in every line hosts print.
    pub fn login_passwords(&self) -> Vec<Secret> {
        self.hosts
            .iter()
            .filter_map(|h| h.ssh.password.clone())
            .collect()
    }

    /// The masters, master0 first.
    pub fn masters(&self) -> impl Iterator<Item = &HostSpec> {
        self.hosts.iter().filter(|h| h.has(Role::Master))
    }

    /// The workers.
    pub fn nodes(&self) -> impl Iterator<Item = &HostSpec> {
        self.hosts
            .iter()
            .filter(|h| h.has(Role::Node) && !h.has(Role::Master))
    }

    /// master0: the first master.
    pub fn master0(&self) -> Result<&HostSpec, SpecError> {
        self.masters()
            .next()
            .ok_or_else(|| SpecError::NoMaster(self.name.clone()))
    }

    /// The hosts that run the registry: those with the role, else master0.
    pub fn registry_hosts(&self) -> Result<Vec<&HostSpec>, SpecError> {
        let with_role: Vec<&HostSpec> = self
            .hosts
            .iter()
            .filter(|h| h.has(Role::Registry))
            .collect();
        if with_role.is_empty() {
            Ok(vec![self.master0()?])
        } else {
            Ok(with_role)
        }
    }

    /// The rootfs image (the first of its kind).
    pub fn rootfs(&self) -> Result<&ImageSpec, SpecError> {
        self.images
            .iter()
            .find(|i| i.kind == ImageKind::Rootfs)
            .ok_or_else(|| SpecError::NoRootfs(self.name.clone()))
    }

    /// Check what the planner relies on: a master, a rootfs, unique hosts,
    /// every host's arch matching every image's.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.master0()?;
        self.rootfs()?;
        let mut seen = std::collections::HashSet::new();
        for h in &self.hosts {
            if !seen.insert(h.id.to_string()) || !seen.insert(format!("ip:{}", h.ip)) {
                return Err(SpecError::DuplicateHost {
                    cluster: self.name.clone(),
                    host: h.id.to_string(),
                });
            }
            for image in &self.images {
                if !h.arch.is_empty() && !image.arch.is_empty() && h.arch != image.arch {
                    return Err(SpecError::Arch {
                        host: h.id.to_string(),
                        host_arch: h.arch.clone(),
                        image: image.reference.clone(),
                        image_arch: image.arch.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A workdir name for an image reference: its last path part and tag,
/// every unusual character replaced, e.g. `docker.io/labring/helm:v3.9.4`
/// → `helm-v3.9.4`. Callers make names unique.
pub fn image_dir_name(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let last = last.split('@').next().unwrap_or(last);
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['.', '-']).to_string();
    if name.is_empty() {
        "image".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_are_safe() {
        assert_eq!(
            image_dir_name("docker.io/labring/helm:v3.9.4"),
            "helm-v3.9.4"
        );
        assert_eq!(image_dir_name("x/../..:t"), "t");
        assert_eq!(image_dir_name("a/b@sha256:00"), "b");
        assert_eq!(image_dir_name("/"), "image");
    }
}
