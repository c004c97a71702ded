//! Behaviour of the whole pipeline (defaults, merge, computed fields) on small inputs.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::{Effective, Error, Inputs, Kind, effective};

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// Three masters, the default VIP, a sealer-style image (no image-cri-shim), no overrides.
fn inputs(version: &str) -> Inputs {
    Inputs {
        kube_version: version.to_string(),
        image_kubeadm_yaml: None,
        clusterfile_docs: Vec::new(),
        masters: ["192.168.0.10", "192.168.0.11", "192.168.0.12"]
            .map(|m| m.parse().unwrap())
            .to_vec(),
        nodes: vec!["192.168.0.20".parse().unwrap()],
        vip: "10.103.97.2".parse().unwrap(),
        registry_domain: "sealos.hub".into(),
        registry_port: 5000,
        has_image_cri_shim: false,
        cri_socket: None,
        cgroup_driver: None,
        env: BTreeMap::new(),
    }
}

fn effective_with(version: &str, clusterfile: &str) -> Result<Effective, Error> {
    let mut inputs = inputs(version);
    inputs.clusterfile_docs = docs(clusterfile);
    effective(&inputs)
}

fn field<'a>(effective: &'a Effective, kind: Kind, path: &[&str]) -> &'a Value {
    let mut value = effective.doc(kind).get(path[0]).unwrap();
    for name in &path[1..] {
        value = value.get(*name).unwrap();
    }
    value
}

#[test]
fn cri_socket_set_by_the_user_is_kept_and_detected_one_used_otherwise() {
    let mut inputs = inputs("v1.25.16");
    let env_socket = (
        "SEALOS_SYS_CRI_ENDPOINT".into(),
        "/var/run/crio/crio.sock".into(),
    );
    inputs.env.extend([env_socket]);
    let e = effective(&inputs).unwrap();
    let socket = field(&e, Kind::Init, &["nodeRegistration", "criSocket"]);
    assert_eq!(
        socket, "unix:///var/run/crio/crio.sock",
        "the image's runtime before install"
    );

    inputs.cri_socket = Some("/var/run/cri-dockerd.sock".into());
    let e = effective(&inputs).unwrap();
    let init = Kind::Init;
    let socket = field(&e, init, &["nodeRegistration", "criSocket"]);
    assert_eq!(socket, "unix:///var/run/cri-dockerd.sock");

    inputs.clusterfile_docs = docs(
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  \
         criSocket: unix:///var/run/crio/crio.sock\n",
    );
    let e = effective(&inputs).unwrap();
    let join = field(&e, Kind::Join, &["nodeRegistration", "criSocket"]);
    assert_eq!(join, "unix:///var/run/crio/crio.sock");
    let socket = field(&e, init, &["nodeRegistration", "criSocket"]);
    assert_eq!(socket, "unix:///var/run/cri-dockerd.sock");
}

#[test]
fn image_cri_shim_endpoint_follows_env() {
    let mut inputs = inputs("v1.25.16");
    inputs.has_image_cri_shim = true;
    inputs
        .env
        .insert("SEALOS_SYS_IMAGE_ENDPOINT".into(), "/run/shim.sock".into());
    let e = effective(&inputs).unwrap();
    let endpoint = field(&e, Kind::Kubelet, &["imageServiceEndpoint"]);
    assert_eq!(endpoint, "unix:///run/shim.sock");
    assert!(e.doc(Kind::Cluster).get("imageRepository").is_none());
}

#[test]
fn user_image_repository_is_kept_and_coredns_follows_it() {
    let e = effective_with(
        "v1.31.9",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n\
         imageRepository: reg.example:5443/k8s\n",
    )
    .unwrap();
    let cluster = Kind::Cluster;
    assert_eq!(
        field(&e, cluster, &["imageRepository"]),
        "reg.example:5443/k8s"
    );
    let dns = field(&e, cluster, &["dns", "imageRepository"]);
    assert_eq!(dns, "reg.example:5443/k8s/coredns");
}

#[test]
fn vip_inside_the_pod_subnet_is_refused() {
    let err = effective_with(
        "v1.25.16",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  \
         podSubnet: 10.96.0.0/8\n",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("ClusterConfiguration.networking.podSubnet"),
        "{err}"
    );
    assert!(err.contains("10.103.97.2"), "{err}");
}

#[test]
fn unknown_kind_in_the_clusterfile_is_named() {
    let err = effective_with(
        "v1.25.16",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: UpgradeConfiguration\n",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.starts_with("Clusterfile: document 1: unknown kind \"UpgradeConfiguration\""),
        "{err}"
    );
}

#[test]
fn a_list_where_a_map_belongs_is_named() {
    let err = effective_with(
        "v1.25.16",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n- a\n",
    )
    .err()
    .unwrap()
    .to_string();
    assert_eq!(
        err,
        "Clusterfile: ClusterConfiguration.networking: expected a map, found a list"
    );
}

#[test]
fn versions_before_1_15_are_refused() {
    let err = effective(&inputs("v1.14.10")).err().unwrap();
    assert!(err.to_string().contains("v1.14.10"), "{err}");
}

#[test]
fn host_cgroup_driver_fills_an_unset_kubelet_field_only() {
    let mut inputs = inputs("v1.28.9");
    inputs.cgroup_driver = Some("systemd".into());
    let e = effective(&inputs).unwrap();
    assert_eq!(field(&e, Kind::Kubelet, &["cgroupDriver"]), "systemd");
    inputs.clusterfile_docs = docs(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
    );
    let e = effective(&inputs).unwrap();
    assert_eq!(field(&e, Kind::Kubelet, &["cgroupDriver"]), "cgroupfs");
}

#[test]
fn an_ipv6_vip_is_excluded_as_a_host_route() {
    let mut inputs = inputs("v1.31.0");
    inputs.vip = "fd00::2".parse().unwrap();
    let e = effective(&inputs).unwrap();
    let exclude = field(&e, Kind::KubeProxy, &["ipvs", "excludeCIDRs"]);
    assert_eq!(exclude, &Value::Sequence(vec![Value::from("fd00::2/128")]));
    let node = e.join_node(
        "fd00::20".parse().unwrap(),
        &super::JoinSecrets::placeholders(),
    );
    assert!(
        node.contains("apiServerEndpoint: '[fd00::2]:6443'"),
        "{node}"
    );
}
