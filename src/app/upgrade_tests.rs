use super::*;
use crate::engine::install::fixture::spec;
use std::path::Path;

fn saved(image: &str, phase: &str, versions: &[(&str, &str)]) -> Clusterfile {
    let mut text = format!(
        "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata: {{name: default}}\n\
         spec:\n  image: [{image}]\n  hosts: [{{ips: ['10.0.0.1'], roles: [master]}}]\n\
         status:\n  phase: {phase}\n"
    );
    if !versions.is_empty() {
        text.push_str("  hostVersions:\n");
        for (h, v) in versions {
            text.push_str(&format!("    {h}: {v}\n"));
        }
    }
    Clusterfile::parse(Path::new("Clusterfile"), text).unwrap()
}

fn at(version: &str) -> Vec<(String, String)> {
    (1..=5)
        .map(|n| (format!("10.0.0.{n}"), version.to_string()))
        .collect()
}

fn decided(cf: &Clusterfile) -> anyhow::Result<Lifecycle> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    decide(&store, Some(cf), &spec(vec![]))
}

fn with(image: &str, phase: &str, versions: &[(String, String)]) -> Clusterfile {
    let v: Vec<(&str, &str)> = versions
        .iter()
        .map(|(h, v)| (h.as_str(), v.as_str()))
        .collect();
    saved(image, phase, &v)
}

#[test]
fn a_cluster_one_minor_older_is_upgraded_on_every_host_not_yet_there() {
    let mut v = at("v1.24.3");
    v[0].1 = "v1.25.16".into();
    let got = decided(&with("labring/kubernetes:v1.24.3", "ClusterSuccess", &v)).unwrap();
    let Lifecycle::Upgrade { from, to, pending } = got else {
        panic!("{got:?}")
    };
    assert_eq!(
        (from.to_string(), to.to_string()),
        ("v1.24.3".into(), "v1.25.16".into())
    );
    let pending: Vec<String> = pending.iter().map(ToString::to_string).collect();
    assert_eq!(pending, ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]);
}

#[test]
fn the_same_image_is_an_install_and_a_downgrade_or_jump_is_refused() {
    let same = with(
        "labring/kubernetes:v1.25.16",
        "ClusterSuccess",
        &at("v1.25.16"),
    );
    assert_eq!(decided(&same).unwrap(), Lifecycle::Install);
    let newer = with(
        "labring/kubernetes:v1.26.0",
        "ClusterSuccess",
        &at("v1.26.0"),
    );
    let e = decided(&newer).unwrap_err().to_string();
    assert!(
        e.contains("v1.26.0") && e.contains("v1.25.16") && e.contains("downgrade"),
        "{e}"
    );
    let old = with(
        "labring/kubernetes:v1.23.0",
        "ClusterSuccess",
        &at("v1.23.0"),
    );
    let e = decided(&old).unwrap_err().to_string();
    assert!(e.contains("one minor version at a time"), "{e}");
}

#[test]
fn what_tug_does_not_handle_is_refused_by_name() {
    let other = with(
        "example.com/k8s:v1.25.16",
        "ClusterSuccess",
        &at("v1.25.16"),
    );
    let e = decided(&other).unwrap_err().to_string();
    assert!(e.contains("will not re-install"), "{e}");
    let unfinished = with("labring/kubernetes:v1.24.3", "ClusterFailed", &[]);
    let e = decided(&unfinished).unwrap_err().to_string();
    assert!(e.contains("cannot tell which Kubernetes version"), "{e}");
    let mut fewer = at("v1.24.3");
    fewer.pop();
    let e = decided(&with(
        "labring/kubernetes:v1.24.3",
        "ClusterSuccess",
        &fewer,
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("10.0.0.5 are new"), "{e}");
}
