//! Fields tug computes after merging: versions, endpoints, SANs, CRI and image settings,
//! the node registration (pull policy, node IP, a single host's taints).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_yaml::{Mapping, Value};

use super::Error;
use super::document::Kind;
use super::fields::{self, key};
use super::merge::Config;
use super::net;
use super::version::{ApiVersion, KubeVersion};

/// The name computed-field errors carry: the value may come from any layer.
const SOURCE: &str = "merged kubeadm configuration";
/// The name every host resolves to an API server (master0 on masters, the VIP on nodes).
pub const APISERVER_DOMAIN: &str = "apiserver.cluster.local";
/// The API server port when nobody sets `bindPort`.
pub const DEFAULT_BIND_PORT: u16 = 6443;
/// The VIP when neither the image label nor env gives one.
pub const DEFAULT_VIP: &str = "10.103.97.2";
/// The CRI socket assumed when the host's runtime is not known (yet).
pub const DEFAULT_CRI_SOCKET: &str = "/run/containerd/containerd.sock";
/// image-cri-shim's socket when the image's `SEALOS_SYS_IMAGE_ENDPOINT` is not set.
pub const DEFAULT_IMAGE_ENDPOINT: &str = "/var/run/image-cri-shim.sock";

/// Feature gates tug's defaults set, with the minor versions that know them
/// (from, until exclusive): a gate the version does not know stops the component.
const GATES: &[(&str, u64, u64)] = &[
    ("TTLAfterFinished", 12, 25),
    ("EphemeralContainers", 16, 27),
];
const GATE_ARGS: &[&[&str]] = &[
    &["apiServer", "extraArgs"],
    &["controllerManager", "extraArgs"],
    &["scheduler", "extraArgs"],
];

/// Host and image facts the computed fields are made from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The Kubernetes version (image label `version`).
    pub kube: &'a KubeVersion,
    /// Master IPs, master0 first; never empty.
    pub masters: &'a [IpAddr],
    /// Whether master0 is the cluster's only host (it then runs workloads too).
    pub single_host: bool,
    /// The VIP nodes reach the API servers through.
    pub vip: IpAddr,
    /// The cluster registry's domain and port (sealer-style image repository).
    pub registry: (&'a str, u16),
    /// Whether the rootfs ships image-cri-shim (sealos-style image pulls).
    pub has_image_cri_shim: bool,
    /// The CRI socket found on the host (or announced by the image), if known.
    pub cri_socket: Option<&'a str>,
    /// The cgroup driver of the host's runtime, if known.
    pub cgroup_driver: Option<&'a str>,
    /// The merged env (for `SEALOS_SYS_IMAGE_ENDPOINT`).
    pub env: &'a BTreeMap<String, String>,
}

/// Sets every computed field on the merged configuration; returns the API server port.
pub fn compute(config: &mut Config, facts: &Facts<'_>) -> Result<u16, Error> {
    let api = config.api;
    let master0 = facts.masters[0];
    let bind_port = bind_port(config.doc(Kind::Init))?;
    let ip_text = |ip: IpAddr| Value::from(ip.to_string());

    let init = config.doc_mut(Kind::Init);
    set(
        init,
        Kind::Init,
        &["localAPIEndpoint", "advertiseAddress"],
        ip_text(master0),
    )?;
    set_cri_socket(init, Kind::Init, api, facts.cri_socket)?;
    node_registration(init, Kind::Init, api)?;
    set_node_ip(init, Kind::Init, api, master0)?;
    let taints = ["nodeRegistration", "taints"];
    if facts.single_host && fields::get(init, &taints).is_none_or(Value::is_null) {
        // As sealos's setInitTaints: the only host must take workloads.
        set(init, Kind::Init, &taints, Value::Sequence(Vec::new()))?;
    }
    let join = config.doc_mut(Kind::Join);
    set_cri_socket(join, Kind::Join, api, facts.cri_socket)?;
    node_registration(join, Kind::Join, api)?;
    // Each join config sets its host's own address; checked here so rendering cannot fail.
    set_node_ip(&mut join.clone(), Kind::Join, api, master0)?;
    // Every master serves on the same port; the join configs fill in the rest.
    let join_port = ["controlPlane", "localAPIEndpoint", "bindPort"];
    set(
        join,
        Kind::Join,
        &join_port,
        Value::from(u64::from(bind_port)),
    )?;
    let discovery = ["discovery", "bootstrapToken"];
    fields::map_at(join, &discovery).map_err(|m| field_error(Kind::Join, &discovery, m))?;

    let cluster = config.doc_mut(Kind::Cluster);
    set(
        cluster,
        Kind::Cluster,
        &["kubernetesVersion"],
        Value::from(facts.kube.to_string()),
    )?;
    let endpoint = format!("{APISERVER_DOMAIN}:{bind_port}");
    set(
        cluster,
        Kind::Cluster,
        &["controlPlaneEndpoint"],
        Value::from(endpoint),
    )?;
    let mut sans = vec!["127.0.0.1".to_string(), APISERVER_DOMAIN.to_string()];
    sans.extend(facts.masters.iter().map(IpAddr::to_string));
    sans.push(facts.vip.to_string());
    union(cluster, Kind::Cluster, &["apiServer", "certSANs"], sans)?;
    for field in ["podSubnet", "serviceSubnet"] {
        let path = ["networking", field];
        if let Some(cidrs) = fields::get_str(cluster, &path) {
            net::refuse_vip_in(facts.vip, cidrs)
                .map_err(|message| field_error(Kind::Cluster, &path, message))?;
        }
    }
    for path in GATE_ARGS {
        if let Some(Value::Mapping(_) | Value::Sequence(_)) = fields::get(cluster, path) {
            let args = fields::map_at(cluster, &path[..1]).expect("checked above");
            filter_gate_args(
                args.get_mut("extraArgs").expect("checked above"),
                facts.kube,
            );
        }
    }

    let host_bits = if facts.vip.is_ipv4() { 32 } else { 128 };
    let exclude = vec![format!("{}/{host_bits}", facts.vip)];
    union(
        config.doc_mut(Kind::KubeProxy),
        Kind::KubeProxy,
        &["ipvs", "excludeCIDRs"],
        exclude,
    )?;

    let kubelet = config.doc_mut(Kind::Kubelet);
    if let Some(driver) = facts.cgroup_driver {
        set_if_unset(kubelet, Kind::Kubelet, &["cgroupDriver"], driver)?;
    }
    if let Some(Value::Mapping(gates)) = kubelet.get_mut("featureGates") {
        gates.retain(|name, _| name.as_str().is_none_or(|n| gate_known(n, facts.kube)));
    }
    if facts.has_image_cri_shim {
        let socket = facts
            .env
            .get("SEALOS_SYS_IMAGE_ENDPOINT")
            .filter(|s| !s.is_empty())
            .map_or(DEFAULT_IMAGE_ENDPOINT, String::as_str);
        let endpoint = with_scheme(socket);
        set_if_unset(kubelet, Kind::Kubelet, &["imageServiceEndpoint"], &endpoint)?;
    } else {
        let cluster = config.doc_mut(Kind::Cluster);
        let (domain, port) = facts.registry;
        set_if_unset(
            cluster,
            Kind::Cluster,
            &["imageRepository"],
            &format!("{domain}:{port}"),
        )?;
        // CoreDNS moved to <repository>/coredns/coredns in kubeadm 1.21.
        if facts.kube.at_least(21) {
            let repo = fields::get_str(cluster, &["imageRepository"]).unwrap_or_default();
            let dns = format!("{repo}/coredns");
            set_if_unset(cluster, Kind::Cluster, &["dns", "imageRepository"], &dns)?;
        }
    }
    Ok(bind_port)
}

/// The merged `InitConfiguration.localAPIEndpoint.bindPort`, 6443 when unset.
fn bind_port(init: &Mapping) -> Result<u16, Error> {
    let path = ["localAPIEndpoint", "bindPort"];
    match fields::get(init, &path) {
        None | Some(Value::Null) => Ok(DEFAULT_BIND_PORT),
        Some(v) => v
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                field_error(Kind::Init, &path, "expected a port number (1-65535)".into())
            }),
    }
}

/// Sets `criSocket` unless the image or the Clusterfile did: the host's socket, or the
/// containerd default. v1beta2 (kubeadm < 1.23) takes a path, later versions a URL.
fn set_cri_socket(
    doc: &mut Mapping,
    kind: Kind,
    api: ApiVersion,
    found: Option<&str>,
) -> Result<(), Error> {
    let socket = found.unwrap_or(DEFAULT_CRI_SOCKET);
    let socket = match api {
        ApiVersion::V1beta2 => socket.strip_prefix("unix://").unwrap_or(socket).to_string(),
        ApiVersion::V1beta3 | ApiVersion::V1beta4 => with_scheme(socket),
    };
    set_if_unset(doc, kind, &["nodeRegistration", "criSocket"], &socket)
}

/// `imagePullPolicy: Never` unless the image or the Clusterfile chose a policy, as sealos
/// sets it: kubeadm's preflight then pulls nothing through the CRI socket (which would
/// bypass the cluster registry and fail air-gapped). kubeadm.k8s.io/v1beta2 has no field
/// for it.
fn node_registration(doc: &mut Mapping, kind: Kind, api: ApiVersion) -> Result<(), Error> {
    match api {
        ApiVersion::V1beta2 => Ok(()),
        ApiVersion::V1beta3 | ApiVersion::V1beta4 => {
            set_if_unset(doc, kind, &["nodeRegistration", "imagePullPolicy"], "Never")
        }
    }
}

/// Sets the kubelet's `node-ip` in `nodeRegistration.kubeletExtraArgs` (a map before
/// v1beta4, a name/value list from it), keeping every other argument: a host with
/// several interfaces then registers the address the cluster knows it by.
pub(super) fn set_node_ip(
    doc: &mut Mapping,
    kind: Kind,
    api: ApiVersion,
    ip: IpAddr,
) -> Result<(), Error> {
    let path = ["nodeRegistration", "kubeletExtraArgs"];
    let ip = Value::from(ip.to_string());
    match fields::get(doc, &path) {
        Some(Value::Mapping(_)) => set(doc, kind, &[path[0], path[1], "node-ip"], ip),
        Some(Value::Sequence(items)) => {
            let mut items: Vec<Value> = items
                .iter()
                .filter(|i| i.get("name").and_then(Value::as_str) != Some("node-ip"))
                .cloned()
                .collect();
            items.push(name_value("node-ip", ip));
            set(doc, kind, &path, Value::Sequence(items))
        }
        None | Some(Value::Null) => match api {
            ApiVersion::V1beta4 => {
                let list = vec![name_value("node-ip", ip)];
                set(doc, kind, &path, Value::Sequence(list))
            }
            ApiVersion::V1beta2 | ApiVersion::V1beta3 => {
                set(doc, kind, &[path[0], path[1], "node-ip"], ip)
            }
        },
        Some(_) => Err(field_error(kind, &path, "expected a map or a list".into())),
    }
}

fn name_value(name: &str, value: Value) -> Value {
    let mut entry = Mapping::new();
    entry.insert(key("name"), Value::from(name));
    entry.insert(key("value"), value);
    Value::Mapping(entry)
}

fn with_scheme(socket: &str) -> String {
    if socket.contains("://") {
        socket.to_string()
    } else {
        format!("unix://{socket}")
    }
}

fn set(doc: &mut Mapping, kind: Kind, path: &[&str], value: Value) -> Result<(), Error> {
    fields::put(doc, path, value).map_err(|m| field_error(kind, path, m))
}

fn set_if_unset(doc: &mut Mapping, kind: Kind, path: &[&str], value: &str) -> Result<(), Error> {
    match fields::get(doc, path) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => set(doc, kind, path, Value::from(value)),
    }
}

/// Puts `required` first in the list at `path`, followed by the entries not among them.
fn union(doc: &mut Mapping, kind: Kind, path: &[&str], required: Vec<String>) -> Result<(), Error> {
    let existing = match fields::get(doc, path) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items.clone(),
        Some(_) => return Err(field_error(kind, path, "expected a list".into())),
    };
    let mut merged: Vec<Value> = required.into_iter().map(Value::from).collect();
    for item in existing {
        if !merged.contains(&item) {
            merged.push(item);
        }
    }
    set(doc, kind, path, Value::Sequence(merged))
}

/// Drops feature gates this Kubernetes version does not know from a `feature-gates` flag,
/// in either extraArgs form (map or name/value list); a flag left empty is removed.
fn filter_gate_args(args: &mut Value, kube: &KubeVersion) {
    let filter = |text: &str| -> String {
        text.split(',')
            .filter(|gate| gate_known(gate.split('=').next().unwrap_or("").trim(), kube))
            .collect::<Vec<_>>()
            .join(",")
    };
    match args {
        Value::Mapping(map) => {
            if let Some(Value::String(gates)) = map.get("feature-gates") {
                let kept = filter(gates);
                if kept.is_empty() {
                    map.shift_remove("feature-gates");
                } else {
                    map.insert(key("feature-gates"), Value::from(kept));
                }
            }
        }
        Value::Sequence(items) => {
            for item in items.iter_mut() {
                if item.get("name").and_then(Value::as_str) == Some("feature-gates")
                    && let Some(Value::String(gates)) = item.get_mut("value")
                {
                    *gates = filter(gates);
                }
            }
            items.retain(|item| {
                item.get("name").and_then(Value::as_str) != Some("feature-gates")
                    || item
                        .get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| !v.is_empty())
            });
        }
        _ => {}
    }
}

fn gate_known(name: &str, kube: &KubeVersion) -> bool {
    GATES
        .iter()
        .find(|(gate, _, _)| *gate == name)
        .is_none_or(|(_, from, until)| kube.at_least(*from) && !kube.at_least(*until))
}

fn field_error(kind: Kind, path: &[&str], message: String) -> Error {
    Error::Field {
        file: SOURCE.to_string(),
        path: format!("{}.{}", kind.name(), path.join(".")),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kube(v: &str) -> KubeVersion {
        KubeVersion::parse(v).unwrap()
    }

    #[test]
    fn gates_follow_the_version() {
        let mut args: Value = serde_yaml::from_str(
            "feature-gates: TTLAfterFinished=true,EphemeralContainers=true,Foo=false\n",
        )
        .unwrap();
        filter_gate_args(&mut args, &kube("v1.15.12"));
        assert_eq!(args["feature-gates"], "TTLAfterFinished=true,Foo=false");
        filter_gate_args(&mut args, &kube("v1.26.0"));
        assert_eq!(args["feature-gates"], "Foo=false");

        let mut args: Value =
            serde_yaml::from_str("- {name: feature-gates, value: EphemeralContainers=true}\n")
                .unwrap();
        filter_gate_args(&mut args, &kube("v1.31.0"));
        assert_eq!(args, Value::Sequence(vec![]));
    }
}
