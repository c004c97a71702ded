//! The effective configuration and the YAML each kubeadm step is given.

use std::net::{IpAddr, SocketAddr};

use serde_yaml::{Mapping, Value};

use super::compute::set_node_ip;
use super::document::Kind;
use super::fields::{self, key};
use super::merge::Config;
use super::version::ApiVersion;
use crate::secret::Secret;

/// What `kubeadm join` needs from the running cluster, filled in by the
/// installer (the planner gives placeholders that a host fills in itself).
/// Token and key are [`Secret`]s: masked in `Debug`.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinSecrets {
    /// Bootstrap token (`abcdef.0123456789abcdef`).
    pub token: Secret,
    /// `sha256:<hex>` of the cluster CA's public key (not secret).
    pub ca_cert_hash: String,
    /// Key for the control-plane certificates uploaded by `kubeadm init phase upload-certs`.
    pub certificate_key: Secret,
}

impl JoinSecrets {
    /// Visible placeholders, for showing a join config before the cluster exists.
    pub fn placeholders() -> Self {
        Self {
            token: "<bootstrap-token>".into(),
            ca_cert_hash: "<discovery-token-ca-cert-hash>".into(),
            certificate_key: "<certificate-key>".into(),
        }
    }
}

/// The merged and computed kubeadm configuration of a cluster.
#[derive(Debug, Clone)]
pub struct Effective {
    config: Config,
    bind_port: u16,
    master0: IpAddr,
    vip: IpAddr,
}

impl Effective {
    pub(super) fn new(config: Config, bind_port: u16, master0: IpAddr, vip: IpAddr) -> Self {
        Self {
            config,
            bind_port,
            master0,
            vip,
        }
    }

    /// The kubeadm API version of the documents.
    pub fn api_version(&self) -> ApiVersion {
        self.config.api
    }

    /// The API server port on every master.
    pub fn bind_port(&self) -> u16 {
        self.bind_port
    }

    /// The VIP nodes reach the API servers through.
    pub fn vip(&self) -> IpAddr {
        self.vip
    }

    /// One merged document, e.g. to read the networking settings.
    pub fn doc(&self, kind: Kind) -> &Mapping {
        self.config.doc(kind)
    }

    /// The config for `kubeadm init` on master0: InitConfiguration, ClusterConfiguration,
    /// KubeProxyConfiguration and KubeletConfiguration.
    pub fn init(&self) -> String {
        let kinds = [Kind::Init, Kind::Cluster, Kind::KubeProxy, Kind::Kubelet];
        render(kinds.iter().map(|k| self.config.doc(*k).clone()))
    }

    /// The config for `kubeadm init phase certs` on the master `ip`: the
    /// InitConfiguration with its own advertise address and node IP (the
    /// API server certificate names them), and the ClusterConfiguration.
    pub fn certs_config(&self, ip: IpAddr) -> String {
        let mut init = self.config.doc(Kind::Init).clone();
        set_node_ip(&mut init, Kind::Init, self.config.api, ip)
            .expect("checked when computing: kubeletExtraArgs is a map or a list");
        let endpoint = fields::map_at(&mut init, &["localAPIEndpoint"])
            .expect("checked when computing: localAPIEndpoint is a map");
        endpoint.insert(key("advertiseAddress"), Value::from(ip.to_string()));
        render([init, self.config.doc(Kind::Cluster).clone()])
    }

    /// The config for `kubeadm join --control-plane` on the master `ip`: its own API
    /// endpoint and node IP, discovery through master0.
    pub fn join_master(&self, ip: IpAddr, secrets: &JoinSecrets) -> String {
        let mut join = self.join_base(ip, self.master0, secrets);
        let port = u64::from(self.bind_port);
        let control_plane = [
            (
                &["localAPIEndpoint", "advertiseAddress"][..],
                Value::from(ip.to_string()),
            ),
            (&["localAPIEndpoint", "bindPort"][..], Value::from(port)),
            (
                &["certificateKey"][..],
                Value::from(secrets.certificate_key.expose()),
            ),
        ];
        let cp = fields::map_at(&mut join, &["controlPlane"]).expect("controlPlane is a map");
        for (path, value) in control_plane {
            fields::put(cp, path, value).expect("localAPIEndpoint is a map");
        }
        render([join])
    }

    /// The config for `kubeadm join` on the node `ip`: its own node IP, no control
    /// plane, discovery through the VIP.
    pub fn join_node(&self, ip: IpAddr, secrets: &JoinSecrets) -> String {
        let mut join = self.join_base(ip, self.vip, secrets);
        join.shift_remove("controlPlane");
        render([join])
    }

    fn join_base(&self, host: IpAddr, server: IpAddr, secrets: &JoinSecrets) -> Mapping {
        let mut join = self.config.doc(Kind::Join).clone();
        set_node_ip(&mut join, Kind::Join, self.config.api, host)
            .expect("checked when computing: kubeletExtraArgs is a map or a list");
        let endpoint = SocketAddr::new(server, self.bind_port).to_string();
        let token = fields::map_at(&mut join, &["discovery", "bootstrapToken"])
            .expect("checked when merging: discovery is a map");
        token.insert(key("apiServerEndpoint"), Value::from(endpoint));
        token.insert(key("token"), Value::from(secrets.token.expose()));
        let hashes = vec![Value::from(secrets.ca_cert_hash.as_str())];
        token.insert(key("caCertHashes"), Value::Sequence(hashes));
        join
    }
}

/// Fields a document starts with when it has them, in this order; the rest follow in
/// merge order (defaults first, then what the image and the Clusterfile added).
const LEADING: [&str; 5] = [
    "apiVersion",
    "kind",
    "kubernetesVersion",
    "controlPlaneEndpoint",
    "imageRepository",
];

/// Multi-document YAML, each document starting with the [`LEADING`] fields.
fn render(docs: impl IntoIterator<Item = Mapping>) -> String {
    docs.into_iter()
        .map(|doc| {
            let mut ordered = Mapping::new();
            for name in LEADING {
                if let Some(v) = doc.get(name) {
                    ordered.insert(key(name), v.clone());
                }
            }
            for (k, v) in doc {
                if !ordered.contains_key(&k) {
                    ordered.insert(k, v);
                }
            }
            serde_yaml::to_string(&ordered).expect("YAML values serialise")
        })
        .collect::<Vec<_>>()
        .join("---\n")
}
