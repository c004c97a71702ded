//! Resolving a cluster spec from images in a real store: the sealos
//! contract (type, version, env, labels), layer scans (templates, registry
//! data, whiteouts) cached per layer, and the kubeadm inputs.

mod support;

use support::cluster_image::{gz_tar, put_image};
use tug::engine::install::plan_install;
use tug::engine::plan::{Action, HostId};
use tug::engine::resolve::{SpecInputs, resolve};
use tug::engine::spec::{HostSpec, ImageKind, Role, SshSpec};
use tug::image::Store;

const KUBEADM: &str = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.5.0.0/16\n";

#[test]
fn resolving_reads_contract_layers_templates_and_kubeadm_inputs_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let rootfs = put_image(
        &store,
        "example.com/kubernetes:v1.25.16",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Env": ["registryUsername=admin", "registryPassword=pw", "registryPort=5000", "defaultVIP=10.103.97.9"],
                "Labels": {"sealos.io.type": "rootfs", "version": "v1.25.16", "vip": "$defaultVIP"},
            },
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[
            gz_tar(&[
                ("etc/old.conf.tmpl", "x", 0o640),
                ("etc/a.conf.tmpl", "{{ .registryPort }}", 0o640),
                ("cri/image-cri-shim", "", 0o640),
            ]),
            gz_tar(&[
                ("etc/.wh.old.conf.tmpl", "", 0o640),
                ("etc/kubeadm.yml", KUBEADM, 0o640),
                ("registry/docker/x", "r", 0o640),
            ]),
        ],
    );
    let app = put_image(
        &store,
        "example.com/helm:v3",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/bin/sh", "-c", "cp -f opt/helm /usr/bin/helm"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[("opt/helm", "bin", 0o640)])],
    );
    let host = HostSpec {
        id: HostId::new("10.0.0.1"),
        ip: "10.0.0.1".parse().unwrap(),
        port: 22,
        roles: vec![Role::Master],
        arch: "amd64".into(),
        ssh: SshSpec::default(),
        env: vec![],
    };
    let inputs = SpecInputs {
        name: "c1".into(),
        hosts: vec![host],
        images: vec![rootfs, app],
        cluster_env: vec!["SEALOS_SYS_KUBE_VERSION=x".into()],
        flag_env: vec![],
        command: None,
        kubeadm_docs: vec![],
        configs: vec![],
        admin_kubeconfig_on_nodes: false,
        data_root: "/var/lib/sealos".into(),
        local_dir: dir.path().join("cluster"),
    };
    let cache = dir.path().join("scans");
    let r = resolve(&store, inputs.clone(), Some(&cache)).unwrap();
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        3,
        "one scan per layer kept"
    );
    let again = resolve(&store, inputs, Some(&cache)).unwrap();
    assert_eq!(again.spec.images[0].templates.len(), 1);
    assert_eq!(
        r.warnings.len(),
        1,
        "the reserved key is dropped with a warning"
    );
    let s = &r.spec;
    let root = &s.images[0];
    assert_eq!(root.kind, ImageKind::Rootfs);
    assert_eq!(root.name, "kubernetes-v1.25.16");
    let t: Vec<&str> = root.templates.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(
        t,
        ["etc/a.conf.tmpl"],
        "the whiteout hides the older template"
    );
    assert_eq!(root.templates[0].mode, 0o640);
    assert!(root.layers[1].content.registry && root.layers[1].content.other);
    assert_eq!(root.env.get("SEALOS_SYS_KUBE_VERSION"), Some("v1.25.16"));
    assert_eq!(s.kubeadm.image_kubeadm_yaml.as_deref(), Some(KUBEADM));
    assert!(s.kubeadm.has_image_cri_shim);
    assert_eq!(s.kubeadm.vip.to_string(), "10.103.97.9");
    assert_eq!(s.registry_auth.as_ref().unwrap().username, "admin");
    assert_eq!(s.images[1].kind, ImageKind::Application);
    assert_eq!(s.images[1].cmd, ["cp -f opt/helm /usr/bin/helm"]);
    let plan = plan_install(s, &Default::default()).unwrap();
    let text = plan.plan.to_string();
    assert!(text.contains("cp -f opt/helm /usr/bin/helm"), "{text}");
    let init = plan
        .plan
        .steps()
        .find_map(|st| match &st.action {
            Action::WriteFile { path, content, .. } if path.ends_with("kubeadm-init.yaml") => {
                Some(content.expose().to_string())
            }
            _ => None,
        })
        .unwrap();
    assert!(init.contains("podSubnet: 10.5.0.0/16"), "{init}");
}
