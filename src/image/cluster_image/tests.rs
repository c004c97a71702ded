use super::*;
use crate::image::oci::{Descriptor, RuntimeConfig, media};

fn d(s: &str) -> Digest {
    Digest::of(s.as_bytes())
}

fn manifest() -> Manifest {
    serde_json::from_value(serde_json::json!({
        "schemaVersion": 2,
        "config": Descriptor::new(media::OCI_CONFIG, d("c"), 100),
        "layers": [Descriptor::new(media::OCI_LAYER_GZIP, d("l"), 1000)],
    }))
    .unwrap()
}

/// The labels and env of seed 001's Kubefile (a docker rootfs image).
fn seed_config() -> ImageConfig {
    let labels = [
        ("init", "init.sh"),
        ("version", "v1.20.5"),
        ("image", "ghcr.io/labring/lvscare:v4.1.3"),
        ("clean", "clean.sh $criData $criDockerdData"),
        ("check", "check.sh $registryData"),
        (
            "init-registry",
            "init-registry.sh $registryData $registryConfig",
        ),
        (
            "clean-registry",
            "clean-registry.sh $registryData $registryConfig",
        ),
        (
            "auth",
            "auth.sh $registryDomain $registryPort $registryUsername $registryPassword",
        ),
        ("sealos.io.type", "rootfs"),
        ("sealos.io.version", "v1beta1"),
    ];
    ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        config: Some(RuntimeConfig {
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            env: Some(vec![
                "registryPort=5000".into(),
                "criData=/var/lib/docker".into(),
                "registryDomain=sealos.hub".into(),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_seed_rootfs_image_reads_as_the_contract_says() {
    let ci = ClusterImage::from_parts(
        "docker.io/labring/k:v1",
        &d("m"),
        &manifest(),
        &seed_config(),
    )
    .unwrap();
    assert_eq!(ci.image_type, ImageType::Rootfs);
    assert_eq!(ci.version.as_deref(), Some("v1.20.5"));
    assert_eq!(ci.sealos_version.as_deref(), Some("v1beta1"));
    assert_eq!(
        ci.script("check").unwrap().command,
        "check.sh $registryData"
    );
    assert!(ci.script("init-cri").is_none());
    assert_eq!(ci.size, 1100);
    let v = serde_json::to_value(&ci).unwrap();
    assert_eq!(v["type"], "rootfs");
    assert_eq!(v["defaultedScripts"], serde_json::json!([]));
    assert_eq!(
        v["scripts"]["auth"],
        "auth.sh $registryDomain $registryPort $registryUsername $registryPassword"
    );
    assert_eq!(v["lvscareImage"], "ghcr.io/labring/lvscare:v4.1.3");
    assert_eq!(v["vip"], serde_json::Value::Null);
    assert_eq!(v["platform"], "linux/amd64");
    let keys: Vec<&String> = v["env"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["registryPort", "criData", "registryDomain"]);
    assert_eq!(v["layers"][0]["mediaType"], media::OCI_LAYER_GZIP);
}

#[test]
fn absent_labels_get_sealos_defaults_and_the_application_type() {
    let cfg = ImageConfig {
        config: Some(RuntimeConfig {
            labels: Some([("init".to_string(), "x.sh".to_string())].into()),
            cmd: Some(vec!["helm".into(), "install".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let ci = ClusterImage::from_parts("n", &d("m"), &manifest(), &cfg).unwrap();
    assert_eq!(ci.image_type, ImageType::Application);
    let v = serde_json::to_value(&ci).unwrap();
    assert_eq!(v["scripts"], serde_json::json!({"init": "x.sh"}));
    assert_eq!(
        v["defaultedScripts"],
        serde_json::json!(["check", "init-registry", "clean", "clean-registry"])
    );
    assert_eq!(ci.script("clean").unwrap().command, "bash clean.sh");
    assert_eq!(v["cmd"], serde_json::json!(["helm", "install"]));
}

#[test]
fn the_apps_type_label_counts_and_unknown_types_are_refused() {
    let mut cfg = ImageConfig {
        config: Some(RuntimeConfig {
            labels: Some([("apps.sealos.io/type".to_string(), "patch".to_string())].into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let ci = ClusterImage::from_parts("n", &d("m"), &manifest(), &cfg).unwrap();
    assert_eq!(ci.image_type, ImageType::Patch);
    cfg.config.as_mut().unwrap().labels =
        Some([("sealos.io.type".to_string(), "os".to_string())].into());
    let e = ClusterImage::from_parts("img", &d("m"), &manifest(), &cfg).unwrap_err();
    assert!(e.to_string().contains("sealos.io.type=\"os\""), "{e}");
}

#[test]
fn env_keeps_order_and_later_duplicates_win() {
    let e = Env::parse(&["B=1".into(), "A=x=y".into(), "B=2".into(), "C".into()]);
    assert_eq!(
        e.0,
        vec![
            ("B".into(), "2".into()),
            ("A".into(), "x=y".into()),
            ("C".into(), "".into())
        ]
    );
    assert_eq!(e.get("A"), Some("x=y"));
}
