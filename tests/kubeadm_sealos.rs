//! The kubeadm configs `tug plan --kubeadm-config` prints hold what sealos's own code
//! gives kubeadm: pull policy Never, each host's node-ip, `taints: []` on a lone host,
//! appended lists and an external etcd replacing the local one. The expected documents
//! are written by hand from sealos's code (tests/golden/kubeadm/sealos/README.md).

mod support;

use std::path::{Path, PathBuf};

use serde_yaml::Value;
use support::cluster_image::{gz_tar, put_image};
use support::tug::Tug;
use tug::image::Store;

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/kubeadm/sealos")
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// A sealos-style rootfs image (image-cri-shim, no etc/kubeadm.yml) of `version`.
fn put_rootfs(store: &Path, name: &str, version: &str) {
    let store = Store::open(store).unwrap();
    put_image(
        &store,
        name,
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Env": ["defaultVIP=10.103.97.2", "registryDomain=sealos.hub", "registryPort=5000"],
                "Labels": {"sealos.io.type": "rootfs", "version": version, "vip": "$defaultVIP"},
            },
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[
            ("cri/image-cri-shim", "shim", 0o755),
            ("bin/kubeadm", "kubeadm", 0o755),
        ])],
    );
}

/// Where `actual` lacks something `expected` asks for (see the cases' README).
fn mismatch(actual: Option<&Value>, expected: &Value, path: &str) -> Option<String> {
    match (actual, expected) {
        (None, Value::Null) => None,
        (Some(a), Value::Null) => Some(format!("{path}: expected absent, found {a:?}")),
        (None, _) => Some(format!("{path}: missing, expected {expected:?}")),
        (Some(Value::Mapping(a)), Value::Mapping(e)) => e.iter().find_map(|(k, v)| {
            let key = k.as_str().unwrap();
            mismatch(a.get(key), v, &format!("{path}.{key}"))
        }),
        (Some(a), e) => (a != e).then(|| format!("{path}: expected {e:?}, found {a:?}")),
    }
}

/// Checks one expected file against `tug plan`'s output for its step and host.
fn check(tug: &Tug, case: &Path, expected_file: &Path) {
    let name = expected_file.file_stem().unwrap().to_str().unwrap();
    let (step, host) = match name.strip_prefix("join-master-") {
        Some(ip) => ("join-master", Some(ip)),
        None => match name.strip_prefix("join-node-") {
            Some(ip) => ("join-node", Some(ip)),
            None => (name, None),
        },
    };
    let clusterfile = case.join("Clusterfile");
    let mut args = vec![
        "plan",
        "-f",
        clusterfile.to_str().unwrap(),
        "--kubeadm-config",
        step,
    ];
    args.extend(host.iter().flat_map(|ip| ["--host", ip]));
    let out = tug.run(&args).ok().stdout;
    let actual = docs(&out);
    let expected = docs(&std::fs::read_to_string(expected_file).unwrap());
    assert!(!expected.is_empty(), "{}", expected_file.display());
    for doc in expected {
        let kind = doc["kind"].as_str().unwrap();
        let found = actual.iter().find(|d| d["kind"] == kind);
        if let Some(problem) = mismatch(found, &doc, kind) {
            panic!(
                "{}: {problem}\n--- tug plan printed:\n{out}",
                expected_file.display()
            );
        }
    }
}

#[test]
fn tug_plan_gives_kubeadm_what_sealos_gives_it() {
    let tug = Tug::new();
    put_rootfs(&tug.store(), "labring/kubernetes:v1.25.16", "v1.25.16");
    let mut checked = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for case in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for file in files {
            check(&tug, &case, &file);
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "every expected file was checked");
}

#[test]
fn the_matcher_catches_what_it_should() {
    let actual: Value = serde_yaml::from_str("a: {b: [1, 2], c: x}\n").unwrap();
    let expect = |text: &str| mismatch(Some(&actual), &serde_yaml::from_str(text).unwrap(), "K");
    assert_eq!(expect("a: {b: [1, 2]}\n"), None);
    assert!(expect("a: {b: [1]}\n").is_some(), "lists compare whole");
    assert!(expect("a: {c: ~}\n").is_some(), "~ asks for absence");
    assert_eq!(expect("a: {d: ~}\n"), None);
    assert!(expect("a: {d: 1}\n").is_some());
}
