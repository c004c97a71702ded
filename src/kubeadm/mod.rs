//! kubeadm configuration: built-in defaults per kubeadm API version, field-by-field
//! merging with the image's `etc/kubeadm.yml` and the Clusterfile's kubeadm documents,
//! the fields tug computes, and the YAML given to `kubeadm init` and `kubeadm join`.
//!
//! Precedence: Clusterfile > image `etc/kubeadm.yml` > built-in defaults; see [`merge`]
//! for the rules and [`convert`] for documents written for another kubeadm API version.

mod compute;
mod convert;
mod defaults;
mod document;
pub mod expiry;
mod fields;
pub mod known;
mod merge;
mod net;
mod render;
#[cfg(test)]
mod tests;
mod version;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_yaml::Value;

pub use compute::{
    APISERVER_DOMAIN, DEFAULT_BIND_PORT, DEFAULT_CRI_SOCKET, DEFAULT_IMAGE_ENDPOINT, DEFAULT_VIP,
};
pub use document::Kind;
pub use net::resolve_vip;
pub use render::{Effective, JoinSecrets};
pub use version::{ApiVersion, KubeVersion};

/// The source name errors in the image's kubeadm file carry.
pub const IMAGE_SOURCE: &str = "image etc/kubeadm.yml";
/// The source name errors in Clusterfile kubeadm documents carry.
pub const CLUSTERFILE_SOURCE: &str = "Clusterfile";

/// Everything the effective kubeadm configuration is made from.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The image's `version` label, e.g. `v1.25.16`.
    pub kube_version: String,
    /// The text of the rootfs's `etc/kubeadm.yml`, if the image has one.
    pub image_kubeadm_yaml: Option<String>,
    /// The Clusterfile's kubeadm documents (InitConfiguration, ClusterConfiguration,
    /// JoinConfiguration, KubeProxyConfiguration, KubeletConfiguration), in file order.
    pub clusterfile_docs: Vec<Value>,
    /// Master IPs, master0 first.
    pub masters: Vec<IpAddr>,
    /// The other hosts' IPs (workers), in the order given.
    pub nodes: Vec<IpAddr>,
    /// The VIP (see [`resolve_vip`]).
    pub vip: IpAddr,
    /// The cluster registry's domain, e.g. `sealos.hub`.
    pub registry_domain: String,
    /// The cluster registry's port, e.g. 5000.
    pub registry_port: u16,
    /// Whether the rootfs ships image-cri-shim (`cri/image-cri-shim`): kubelet then pulls
    /// through the shim and `imageRepository` is left alone, as sealos does.
    pub has_image_cri_shim: bool,
    /// The host runtime's CRI socket, when a caller knows it (installs make the config
    /// before the runtime exists, so none does yet). `None`: the image's
    /// `SEALOS_SYS_CRI_ENDPOINT` (the runtime its scripts install) stands in, else containerd's.
    pub cri_socket: Option<String>,
    /// The host runtime's cgroup driver, if known; kubelet keeps its default otherwise.
    pub cgroup_driver: Option<String>,
    /// The merged env (image ENV, Clusterfile, flags), for `SEALOS_SYS_IMAGE_ENDPOINT`
    /// and `SEALOS_SYS_CRI_ENDPOINT`.
    pub env: BTreeMap<String, String>,
}

/// Why no kubeadm configuration could be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image's version label is not a Kubernetes version.
    #[error("Kubernetes version {0:?} is not a version like v1.25.16")]
    BadVersion(String),
    /// The Kubernetes version needs kubeadm.k8s.io/v1beta1 or older.
    #[error(
        "Kubernetes {0} needs kubeadm.k8s.io/v1beta1, which tug does not support (v1.15 or newer is)"
    )]
    TooOld(String),
    /// The YAML text does not parse.
    #[error("{file}: {message}")]
    Yaml {
        /// Which file.
        file: String,
        /// The line, when the parser knows it.
        line: Option<usize>,
        /// The parser's message, which names the line and column when it knows them.
        message: String,
    },
    /// A document's kind is not one tug reads.
    #[error(
        "{file}: document {number}: unknown kind {kind:?} (kubeadm documents are InitConfiguration, \
         ClusterConfiguration, JoinConfiguration, KubeProxyConfiguration and KubeletConfiguration)"
    )]
    UnknownKind {
        /// Which file.
        file: String,
        /// 1-based document number.
        number: usize,
        /// The kind found.
        kind: String,
    },
    /// A document is malformed as a whole (not a map, no kind, wrong apiVersion).
    #[error("{file}: document {number} {message}")]
    Document {
        /// Which file.
        file: String,
        /// 1-based document number.
        number: usize,
        /// What is wrong.
        message: String,
    },
    /// A field holds something it cannot.
    #[error("{file}: {path}: {message}")]
    Field {
        /// Which file, or the merged configuration.
        file: String,
        /// Dotted path starting with the kind, e.g. `ClusterConfiguration.networking`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No master was given.
    #[error("a cluster needs at least one master")]
    NoMaster,
    /// The VIP is not an IP address.
    #[error("VIP {0:?} is not an IP address (image label `vip`, env `defaultVIP`)")]
    BadVip(String),
}

/// Builds the effective configuration: defaults for the Kubernetes version, merged with
/// the image's kubeadm.yml and the Clusterfile documents, then the computed fields.
pub fn effective(inputs: &Inputs) -> Result<Effective, Error> {
    let kube = KubeVersion::parse(&inputs.kube_version)?;
    let api = ApiVersion::for_kube(&kube)?;
    let master0 = *inputs.masters.first().ok_or(Error::NoMaster)?;
    let mut layers = vec![defaults::defaults(api)];
    if let Some(text) = &inputs.image_kubeadm_yaml {
        layers.push(document::Layer::from_yaml(IMAGE_SOURCE, text)?);
    }
    let docs = inputs.clusterfile_docs.clone();
    layers.push(document::Layer::from_values(CLUSTERFILE_SOURCE, docs)?);
    for layer in &mut layers {
        convert::convert_layer(layer, api)?;
    }
    let mut config = merge::Config::merge(api, layers)?;
    let facts = compute::Facts {
        kube: &kube,
        masters: &inputs.masters,
        single_host: inputs.masters.len() + inputs.nodes.len() == 1,
        vip: inputs.vip,
        registry: (&inputs.registry_domain, inputs.registry_port),
        has_image_cri_shim: inputs.has_image_cri_shim,
        cri_socket: inputs
            .cri_socket
            .as_deref()
            .or_else(|| {
                inputs
                    .env
                    .get("SEALOS_SYS_CRI_ENDPOINT")
                    .map(String::as_str)
            })
            .filter(|s| !s.is_empty()),
        cgroup_driver: inputs.cgroup_driver.as_deref(),
        env: &inputs.env,
    };
    let bind_port = compute::compute(&mut config, &facts)?;
    Ok(Effective::new(config, bind_port, master0, inputs.vip))
}
