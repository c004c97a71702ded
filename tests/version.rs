//! `tug version`: the binary says what it is, as JSON too.

mod support;

use support::tug::Tug;

#[test]
fn version_names_the_build_and_the_kubeadm_apis() {
    let tug = Tug::new();
    let out = tug.run(&["version", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    if head.status.success() {
        assert_eq!(
            v["gitCommit"],
            String::from_utf8_lossy(&head.stdout).trim(),
            "{v}"
        );
    }
    let date = v["buildDate"].as_str().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{date}"
    );
    let apis: Vec<&str> = v["kubernetes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kubeadmApiVersion"].as_str().unwrap())
        .collect();
    assert_eq!(
        apis,
        [
            "kubeadm.k8s.io/v1beta2",
            "kubeadm.k8s.io/v1beta3",
            "kubeadm.k8s.io/v1beta4"
        ]
    );
    let plain = tug.run(&["version"]).ok();
    assert!(
        plain
            .stdout
            .starts_with(&format!("tug {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        plain.stdout
    );
}
