//! Golden tests for the effective kubeadm configuration: defaults + an image kubeadm.yml
//! + a Clusterfile override, for one Kubernetes version per kubeadm API version.
//!
//! The expected YAML lives in tests/golden/kubeadm/<version>/. To regenerate after an
//! intended change, run with `TUG_UPDATE_GOLDEN=1` and review the diff line by line.
//! The last tests run the real `tug plan` on images put into a real store and check it
//! prints exactly the same YAML.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use tug::kubeadm::{self, Effective, Inputs, JoinSecrets};

const MASTERS: [&str; 3] = ["192.168.0.10", "192.168.0.11", "192.168.0.12"];
const NODE: &str = "192.168.0.20";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/kubeadm")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The inputs of one golden case. The three versions also cover both image styles:
/// v1.20 and v1.31 are sealer-style (private registry as imageRepository), v1.25 is a
/// sealos image with image-cri-shim.
fn inputs(version: &str, with_override: bool) -> Inputs {
    let dir = golden_dir().join("input");
    let env: BTreeMap<String, String> = [("defaultVIP", "10.103.97.2")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let clusterfile_docs = if with_override {
        docs(&read(&dir.join("clusterfile-override.yml")))
    } else {
        Vec::new()
    };
    Inputs {
        kube_version: version.to_string(),
        image_kubeadm_yaml: Some(read(&dir.join("image-kubeadm.yml"))),
        clusterfile_docs,
        masters: MASTERS.iter().map(|m| ip(m)).collect(),
        nodes: vec![ip(NODE)],
        vip: kubeadm::resolve_vip(Some("$defaultVIP"), &env).unwrap(),
        registry_domain: "sealos.hub".into(),
        registry_port: 5000,
        has_image_cri_shim: version == "v1.25.16",
        cri_socket: None,
        cgroup_driver: None,
        env,
    }
}

/// The three configs of a case: init, join-master (for the second master), join-node.
fn rendered(effective: &Effective) -> [(&'static str, String); 3] {
    let secrets = JoinSecrets::placeholders();
    [
        ("init", effective.init()),
        (
            "join-master",
            effective.join_master(ip(MASTERS[1]), &secrets),
        ),
        ("join-node", effective.join_node(ip(NODE), &secrets)),
    ]
}

/// Every leaf of a multi-document YAML as `Kind.path.to.field` → value.
fn leaves(text: &str) -> BTreeMap<String, Value> {
    fn walk(prefix: String, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Mapping(m) => {
                for (k, v) in m {
                    walk(format!("{prefix}.{}", k.as_str().unwrap()), v, out);
                }
            }
            Value::Sequence(s) => {
                for (i, v) in s.iter().enumerate() {
                    walk(format!("{prefix}[{i}]"), v, out);
                }
            }
            leaf => {
                out.insert(prefix, leaf.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    for doc in docs(text) {
        let kind = doc["kind"].as_str().unwrap().to_string();
        walk(kind, &doc, &mut out);
    }
    out
}

fn changed_paths(before: &str, after: &str) -> BTreeSet<String> {
    let (a, b) = (leaves(before), leaves(after));
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

fn check_version(version: &str) {
    let with = kubeadm::effective(&inputs(version, true)).unwrap();
    let without = kubeadm::effective(&inputs(version, false)).unwrap();
    assert_eq!(with.bind_port(), 6444);
    assert_eq!(without.bind_port(), 6443);

    let dir = golden_dir().join(version);
    let update = std::env::var_os("TUG_UPDATE_GOLDEN").is_some();
    for (step, text) in rendered(&with) {
        let path = dir.join(format!("{step}.yaml"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        assert_eq!(
            text,
            read(&path),
            "{version} {step} differs from {}",
            path.display()
        );
    }

    let expected: [(&str, &[&str]); 3] = [
        (
            "init",
            &[
                "InitConfiguration.localAPIEndpoint.bindPort",
                "ClusterConfiguration.controlPlaneEndpoint",
                "ClusterConfiguration.networking.podSubnet",
            ],
        ),
        (
            "join-master",
            &[
                "JoinConfiguration.controlPlane.localAPIEndpoint.bindPort",
                "JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint",
            ],
        ),
        (
            "join-node",
            &["JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint"],
        ),
    ];
    for ((step, after), ((_, before), (_, paths))) in rendered(&with)
        .into_iter()
        .zip(rendered(&without).into_iter().zip(expected))
    {
        let paths: BTreeSet<String> = paths.iter().map(|p| p.to_string()).collect();
        assert_eq!(changed_paths(&before, &after), paths, "{version} {step}");
    }
}

#[test]
fn golden_v1_20_kubeadm_v1beta2() {
    check_version("v1.20.15");
}

#[test]
fn golden_v1_25_kubeadm_v1beta3() {
    check_version("v1.25.16");
}

#[test]
fn golden_v1_31_kubeadm_v1beta4() {
    check_version("v1.31.9");
}

/// One layer: (path, contents) entries, gzip-compressed; returns (blob, diff id).
fn layer(entries: &[(&str, &[u8])]) -> (Vec<u8>, tug::image::Digest) {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        tar.append_data(&mut header, path, *data).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let diff_id = tug::image::Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

/// Puts a rootfs image with these labels and layers into the store under `name`.
fn put_image(store: &Path, name: &str, labels: &[(&str, &str)], layers: &[Vec<(&str, &[u8])>]) {
    use tug::image::oci::{Descriptor, ImageConfig, Manifest, RuntimeConfig, media};
    let store = tug::image::Store::open(store).unwrap();
    let mut config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        config: Some(RuntimeConfig {
            env: Some(
                [
                    "defaultVIP=10.103.97.2",
                    "registryDomain=sealos.hub",
                    "registryPort=5000",
                ]
                .map(String::from)
                .to_vec(),
            ),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut descriptors = Vec::new();
    for entries in layers {
        let (blob, diff_id) = layer(entries);
        let digest = store.put_bytes(&blob).unwrap();
        descriptors.push(Descriptor::new(
            media::OCI_LAYER_GZIP,
            digest,
            blob.len() as u64,
        ));
        config.rootfs.diff_ids.push(diff_id);
    }
    let config = serde_json::to_vec(&config).unwrap();
    let config = Descriptor::new(
        media::OCI_CONFIG,
        store.put_bytes(&config).unwrap(),
        config.len() as u64,
    );
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config,
        layers: descriptors,
        annotations: Default::default(),
        extra: Default::default(),
    };
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let digest = store.put_bytes(&manifest).unwrap();
    let top = Descriptor::new(media::OCI_MANIFEST, digest, manifest.len() as u64);
    store.set_name(&name.parse().unwrap(), top).unwrap();
}

/// A Clusterfile with three masters, one node, a sealos Config document and the override.
fn write_clusterfile(dir: &Path, image: &str, extra_docs: &str) -> PathBuf {
    let path = dir.join("Clusterfile");
    let override_docs = read(&golden_dir().join("input/clusterfile-override.yml"));
    let text = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: default\nspec:\n  \
         hosts:\n  - ips: [192.168.0.10:22, 192.168.0.11:22, 192.168.0.12:22]\n    roles: [master, amd64]\n  \
         - ips: [192.168.0.20:22]\n    roles: [node, amd64]\n  image:\n  - {image}\n  - labring/helm:v3.8.2\n  \
         ssh:\n    user: root\n---\napiVersion: apps.sealos.io/v1beta1\nkind: Config\nmetadata:\n  name: x\n\
         spec:\n  path: etc/x.yaml\n  data: 'a: 1'\n---\n{override_docs}{extra_docs}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn plan_steps(tug: &support::tug::Tug, clusterfile: &Path) -> Vec<(&'static str, String)> {
    ["init", "join-master", "join-node"]
        .into_iter()
        .map(|step| {
            let file = clusterfile.to_str().unwrap();
            let run = tug
                .run(&["plan", "-f", file, "--kubeadm-config", step])
                .ok();
            (step, run.stdout)
        })
        .collect()
}

#[test]
fn tug_plan_prints_the_golden_configs() {
    let tug = support::tug::Tug::new();
    let image_yml = read(&golden_dir().join("input/image-kubeadm.yml"));
    let rootfs: Vec<(&str, &[u8])> = vec![
        ("etc/kubeadm.yml", image_yml.as_bytes()),
        ("cri/image-cri-shim", b"shim"),
        ("bin/kubeadm", b"kubeadm"),
    ];
    let sealos = [
        ("version", "v1.25.16"),
        ("vip", "$defaultVIP"),
        ("sealos.io.type", "rootfs"),
    ];
    put_image(
        &tug.store(),
        "labring/kubernetes:v1.25.16",
        &sealos,
        std::slice::from_ref(&rootfs),
    );
    // A later layer whites image-cri-shim out: a sealer-style image.
    let whiteout: Vec<(&str, &[u8])> = vec![("cri/.wh.image-cri-shim", b"")];
    let sealer = [("version", "v1.31.9"), ("sealos.io.type", "rootfs")];
    put_image(
        &tug.store(),
        "example/k8s:v1.31.9",
        &sealer,
        &[rootfs, whiteout],
    );
    put_image(
        &tug.store(),
        "labring/helm:v3.8.2",
        &[("sealos.io.type", "application")],
        &[],
    );

    for (image, version) in [
        ("labring/kubernetes:v1.25.16", "v1.25.16"),
        ("example/k8s:v1.31.9", "v1.31.9"),
    ] {
        let clusterfile = write_clusterfile(tug.home(), image, "");
        for (step, stdout) in plan_steps(&tug, &clusterfile) {
            let golden = golden_dir().join(version).join(format!("{step}.yaml"));
            assert_eq!(stdout, read(&golden), "tug plan {step} for {image}");
        }
    }

    let file = write_clusterfile(
        tug.home(),
        "labring/kubernetes:v1.25.16",
        "---\nkind: ResetConfiguration\n",
    );
    let run = tug
        .run(&[
            "plan",
            "-f",
            file.to_str().unwrap(),
            "--kubeadm-config",
            "init",
        ])
        .fails();
    assert!(
        run.stderr.contains("unknown kind \"ResetConfiguration\""),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let file = write_clusterfile(tug.home(), "labring/kubernetes:v9.9.9", "");
    let run = tug
        .run(&[
            "plan",
            "-f",
            file.to_str().unwrap(),
            "--kubeadm-config",
            "init",
        ])
        .fails();
    assert!(
        run.stderr.contains("labring/kubernetes:v9.9.9"),
        "{}",
        run.stderr
    );
}
