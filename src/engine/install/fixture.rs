//! A 3-master, 2-node cluster spec with a rootfs and an application image,
//! shared by the planners' tests.

use super::*;
use crate::cluster::env::{EnvInputs, EnvMap};
use crate::engine::command::Secret;
use crate::engine::spec::{
    DEFAULT_DATA_ROOT, ImageKind, LayerContent, LayerSpec, RegistryAuth, Role, SshSpec,
    TemplateFile,
};
use crate::image::digest::Digest;
use std::net::IpAddr;

fn host(n: u8, roles: &[Role]) -> HostSpec {
    let ip: IpAddr = format!("10.0.0.{n}").parse().unwrap();
    HostSpec {
        id: HostId::new(ip.to_string()),
        ip,
        port: 22,
        roles: roles.to_vec(),
        arch: "amd64".into(),
        ssh: SshSpec {
            user: "root".into(),
            password: Some(Secret::new("rootpw")),
            ..SshSpec::default()
        },
        env: Vec::new(),
    }
}

fn layer(n: u8, registry: bool, other: bool) -> LayerSpec {
    LayerSpec {
        digest: Digest::of(&[n]),
        size: 1000 + u64::from(n),
        media_type: crate::image::oci::media::OCI_LAYER_GZIP.into(),
        path: format!("/store/blobs/{n}").into(),
        content: LayerContent {
            registry,
            other,
            whiteouts: if n == 2 {
                vec!["bin/old".into()]
            } else {
                vec![]
            },
            unpacked_size: 10 << 20,
            entries: 3,
            ..LayerContent::default()
        },
    }
}

fn env(image: &EnvMap, version: Option<&str>, cluster: &[String]) -> Env {
    Env::resolve(&EnvInputs {
        image_env: image,
        rootfs_version: version,
        cluster_env: cluster,
        flags: &[],
    })
    .unwrap()
    .env
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn spec(cluster_env: Vec<String>) -> ClusterSpec {
    let hosts = vec![
        host(1, &[Role::Master]),
        host(2, &[Role::Master]),
        host(3, &[Role::Master]),
        host(4, &[Role::Node]),
        host(5, &[Role::Node]),
    ];
    let image_env: EnvMap = [
        ("registryDomain", "sealos.hub"),
        ("registryPort", "5000"),
        ("registryPassword", "passw0rd"),
        ("registryUsername", "admin"),
        ("registryData", "/var/lib/registry"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let rootfs = ImageSpec {
        reference: "docker.io/labring/kubernetes:v1.25.16".into(),
        name: "kubernetes-v1.25.16".into(),
        kind: ImageKind::Rootfs,
        manifest: Digest::of(b"m"),
        arch: "amd64".into(),
        labels: labels(&[
            ("check", "check.sh $registryData"),
            (
                "init",
                "init-cri.sh $registryDomain $registryPort && bash init.sh",
            ),
            (
                "init-registry",
                "init-registry.sh $registryData $registryConfig",
            ),
            ("version", "v1.25.16"),
            ("image", "ghcr.io/labring/lvscare:v$sealosVersion"),
        ]),
        env: env(&image_env, Some("v1.25.16"), &cluster_env),
        image_env,
        entrypoint: vec![],
        cmd: vec![],
        layers: vec![
            layer(1, false, true),
            layer(2, false, true),
            layer(3, true, false),
        ],
        templates: vec![TemplateFile {
            path: "etc/registry.yml.tmpl".into(),
            mode: 0o644,
            source: "domain: {{ .registryDomain }}\npassword: {{ .registryPassword }}\n".into(),
        }],
        has_sealctl: true,
    };
    let app_env: EnvMap = [("NAME", "calico")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let app = ImageSpec {
        reference: "docker.io/labring/calico:v3.24.1".into(),
        name: "calico-v3.24.1".into(),
        kind: ImageKind::Application,
        manifest: Digest::of(b"a"),
        arch: "amd64".into(),
        labels: BTreeMap::new(),
        env: env(&app_env, None, &cluster_env),
        image_env: app_env,
        entrypoint: vec![],
        cmd: vec!["helm upgrade -i $(NAME) charts/calico".into()],
        layers: vec![layer(4, true, true)],
        templates: vec![],
        has_sealctl: false,
    };
    let masters: Vec<IpAddr> = hosts
        .iter()
        .filter(|h| h.has(Role::Master))
        .map(|h| h.ip)
        .collect();
    let nodes: Vec<IpAddr> = hosts
        .iter()
        .filter(|h| !h.has(Role::Master))
        .map(|h| h.ip)
        .collect();
    ClusterSpec {
        name: "default".into(),
        hosts,
        images: vec![rootfs, app],
        cluster_env,
        flag_env: vec![],
        command: None,
        kubeadm: crate::kubeadm::Inputs {
            kube_version: "v1.25.16".into(),
            image_kubeadm_yaml: None,
            clusterfile_docs: vec![],
            masters,
            nodes,
            vip: "10.103.97.2".parse().unwrap(),
            registry_domain: "sealos.hub".into(),
            registry_port: 5000,
            has_image_cri_shim: true,
            cri_socket: None,
            cgroup_driver: None,
            env: BTreeMap::new(),
        },
        data_root: DEFAULT_DATA_ROOT.into(),
        local_dir: "/home/u/.tug/clusters/default".into(),
        registry_auth: Some(RegistryAuth {
            username: "admin".into(),
            password: Secret::new("passw0rd"),
        }),
        configs: vec![],
        admin_kubeconfig_on_nodes: false,
    }
}

/// The env an image with these `pairs` as its ENV resolves to, alone.
pub(crate) fn env_of(pairs: &[(&str, &str)]) -> Env {
    let map: EnvMap = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env(&map, None, &[])
}
