//! The Clusterfile: sealos-written files load and round-trip, bad files fail
//! with file, line and field, and the real `tug gen` writes the expected hosts.

mod support;

use serde::Deserialize;
use serde_yaml::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support::tug::Tug;
use tug::cluster::clusterfile::{Clusterfile, ClusterfileError};
use tug::cluster::hosts::{Arch, Role};
use tug::cluster::model::Phase;
use tug::cluster::problem::Severity;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/clusterfile")
        .join(name)
}

/// Every document of a YAML text as a plain value.
fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// Save into a temp dir, check the mode, and compare every document with
/// the original, field for field.
fn assert_round_trip(cf: &Clusterfile, original: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Clusterfile");
    cf.save(&out).unwrap();
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "Clusterfile mode");
    let before = documents(&std::fs::read_to_string(original).unwrap());
    let after = documents(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "document changed in the round trip");
    }
    let again = Clusterfile::load(&out).unwrap();
    assert_eq!(again.cluster, cf.cluster);
}

#[test]
fn sealos_clusterfile_with_status_loads_and_round_trips() {
    let path = fixture("sealos-single.yaml");
    let cf = Clusterfile::load(&path).unwrap();
    let c = &cf.cluster;
    assert_eq!(c.name(), "default");
    assert_eq!(c.spec.image.len(), 4);
    assert_eq!(c.spec.image[0], "labring/kubernetes:v1.25.0");
    let m0 = c.master0().unwrap().unwrap();
    assert_eq!(m0.address.to_string(), "10.0.4.3:22");
    assert_eq!(m0.arch, Some(Arch::Amd64));
    assert_eq!(m0.ssh.user.as_deref(), Some("root"));
    assert_eq!(
        m0.ssh.passwd.as_ref().unwrap().expose(),
        "[your-ssh-passwd]"
    );
    assert_eq!(m0.ssh.pk.as_deref(), Some("/root/.ssh/id_rsa"));
    assert_eq!(c.registry_hosts().unwrap(), vec![m0]);
    let status = c.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(Phase::ClusterSuccess));
    assert_eq!(status.mounts.len(), 4);
    assert_eq!(status.mounts[0].kind, "rootfs");
    assert_eq!(status.mounts[0].env["registryPort"], "5000");
    assert_eq!(
        status.mounts[2].cmd[1],
        "helm install calico charts/calico --namespace tigera-operator"
    );
    assert_eq!(status.conditions[0].kind, "ApplyClusterSuccess");
    assert_eq!(
        c.metadata.extra["creationTimestamp"],
        "2022-10-20T13:12:33Z"
    );
    assert!(cf.warnings().is_empty());
    assert_round_trip(&cf, &path);
}

#[test]
fn ha_clusterfile_hosts_ssh_documents_and_unknown_fields() {
    let path = fixture("sealos-ha.yaml");
    let cf = Clusterfile::load(&path).unwrap();
    let c = &cf.cluster;
    assert_eq!(c.name(), "prod");
    let masters = c.with_role(Role::Master).unwrap();
    let ips: Vec<String> = masters.iter().map(|m| m.address.to_string()).collect();
    assert_eq!(
        ips,
        ["192.168.1.10:22", "192.168.1.11:22", "192.168.1.12:22"]
    );
    let nodes = c.with_role(Role::Node).unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[1].address.to_string(), "[fd00::21]:2222");
    assert_eq!(nodes[0].arch, Some(Arch::Arm64));
    // The host's ssh overrides field by field: its password and port, the
    // global user, key and key passphrase.
    let ssh = &nodes[0].ssh;
    assert_eq!(ssh.passwd.as_ref().unwrap().expose(), "n0de-secret");
    assert_eq!(ssh.port, Some(2222));
    assert_eq!(ssh.user.as_deref(), Some("root"));
    assert_eq!(ssh.pk_passwd.as_ref().unwrap().expose(), "key-secret");
    assert_eq!(nodes[0].env, ["criData=/mnt/containerd"]);
    let registries = c.registry_hosts().unwrap();
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0].address.to_string(), "192.168.1.30:22");
    assert_eq!(registries[0].ssh.user.as_deref(), Some("registry-admin"));
    assert_eq!(
        registries[0].ssh.passwd.as_ref().unwrap().expose(),
        "Gl0bal-secret"
    );
    assert_eq!(
        c.spec
            .env
            .iter()
            .filter(|e| e.starts_with("CertSANS="))
            .count(),
        2
    );
    assert_eq!(c.spec.command, ["bash init.sh --fast"]);

    let init: Vec<&Value> = cf.kubeadm("InitConfiguration").collect();
    assert_eq!(init.len(), 1);
    assert_eq!(init[0]["localAPIEndpoint"]["bindPort"], 6444);
    assert_eq!(cf.kubeadm_documents().count(), 3);
    let configs: Vec<_> = cf.configs().collect();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0].path, "charts/calico/values.yaml");
    assert_eq!(configs[0].strategy, Some("merge"));
    assert_eq!(configs[0].matches, Some("labring/calico:v3.26.1"));

    let status = c.status.as_ref().unwrap();
    assert_eq!(status.command_conditions[0].kind, "ApplyCommandError");
    assert_eq!(status.extra["observedGeneration"], 7);
    assert_eq!(c.spec.extra["controlPlaneMode"], "kubeadm");
    // Fields tug does not know are kept, and said: with their line, never
    // silently.
    let unknown: Vec<(String, Option<usize>)> = cf
        .warnings()
        .into_iter()
        .map(|w| (w.field, w.line))
        .collect();
    assert_eq!(
        unknown,
        [
            ("spec.controlPlaneMode".to_string(), Some(11)),
            ("spec.hosts[1].ssh.tunnel".to_string(), Some(37)),
        ]
    );
    assert_round_trip(&cf, &path);
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let cf = Clusterfile::load(&fixture("sealos-ha.yaml")).unwrap();
    let debug = format!("{cf:?}");
    for secret in ["Gl0bal-secret", "n0de-secret", "key-secret"] {
        assert!(!debug.contains(secret), "{secret} in Debug output");
    }
    assert!(cf.to_yaml().unwrap().contains("Gl0bal-secret"));
}

#[test]
fn bad_clusterfiles_name_file_line_and_field() {
    // (fixture, line, field, part of the message)
    let cases = [
        ("tab-indent.yaml", 6, "image", "tabs"),
        (
            "list-for-map.yaml",
            9,
            "spec.ssh",
            "invalid type: sequence, expected a mapping",
        ),
        (
            "unknown-kind.yaml",
            13,
            "kind",
            "unknown kind \"ClusterConfig\"",
        ),
        ("bad-ip.yaml", 14, "spec.hosts[1].ips[1]", "10.0.0.300:22"),
        (
            "range-in-ips.yaml",
            10,
            "spec.hosts[0].ips[0]",
            "invalid address",
        ),
        ("no-master.yaml", 8, "spec.hosts", "no master"),
        (
            "duplicate-host.yaml",
            13,
            "spec.hosts[1].ips[1]",
            "duplicate host 10.0.0.2:22",
        ),
        (
            "master-and-node.yaml",
            10,
            "spec.hosts[0].roles",
            "not both",
        ),
        (
            "unknown-role.yaml",
            12,
            "spec.hosts[0].roles[1]",
            "unknown role \"db\"",
        ),
        ("no-image.yaml", 5, "spec.image", "no image"),
        ("env-without-equals.yaml", 10, "spec.env[1]", "NAME=VALUE"),
        ("bad-port.yaml", 10, "spec.ssh.port", "70000"),
        (
            "sealer-api-version.yaml",
            1,
            "apiVersion",
            "sealer.cloud/v2",
        ),
        (
            "config-strategy.yaml",
            19,
            "spec.strategy",
            "replace is not one of merge",
        ),
    ];
    for (name, line, field, text) in cases {
        let path = fixture(&format!("bad/{name}"));
        let err = match Clusterfile::load(&path) {
            Ok(_) => panic!("{name} loaded"),
            Err(ClusterfileError::Invalid(p)) => p,
            Err(e) => panic!("{name}: unexpected error {e}"),
        };
        assert_eq!(err.severity, Severity::Error);
        assert_eq!(err.file.as_deref(), Some(path.as_path()), "{name}");
        assert_eq!(
            (err.line, err.field.as_str()),
            (Some(line), field),
            "{name}: {err}"
        );
        assert!(err.message.contains(text), "{name}: {err}");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}: {field}: ", path.display())),
            "{shown}"
        );
        assert!(!shown.contains('\n'), "one line: {shown}");
    }
}

#[test]
fn even_master_count_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Clusterfile");
    let text = std::fs::read_to_string(fixture("sealos-ha.yaml"))
        .unwrap()
        .replace("    - 192.168.1.12:22\n", "");
    std::fs::write(&path, text).unwrap();
    let cf = Clusterfile::load(&path).unwrap();
    let mut w = cf.warnings();
    // The fixture's unknown fields are warned about too (see above).
    w.retain(|p| !p.message.starts_with("unknown field "));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "spec.hosts");
    assert!(w[0].message.contains("2 masters"), "{}", w[0]);
}

/// The hosts of a generated Clusterfile as (ips, roles) pairs.
fn hosts_of(yaml: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let v: Value = serde_yaml::from_str(yaml).unwrap();
    let list = |h: &Value, k: &str| -> Vec<String> {
        h[k].as_sequence()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    v["spec"]["hosts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| (list(h, "ips"), list(h, "roles")))
        .collect()
}

#[test]
fn gen_expands_ranges_and_groups_ports() {
    let tug = Tug::new();
    let run = tug
        .run(&[
            "gen",
            "labring/kubernetes:v1.29.9",
            "labring/calico:v3.26.1",
            "--masters",
            "10.0.0.2:2200,10.0.0.3-10.0.0.4",
            "--nodes",
            "10.0.1.254-10.0.2.1,[fd00::9]:2201",
            "-e",
            "CertSANS=a,b",
            "-e",
            "criData=/data",
            "--cmd",
            "kubectl apply -f manifests",
            "--cluster",
            "lab",
        ])
        .ok();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        hosts_of(&run.stdout),
        vec![
            (s(&["10.0.0.2:2200"]), s(&["master"])),
            (s(&["10.0.0.3:22", "10.0.0.4:22"]), s(&["master"])),
            (
                s(&[
                    "10.0.1.254:22",
                    "10.0.1.255:22",
                    "10.0.2.0:22",
                    "10.0.2.1:22"
                ]),
                s(&["node"])
            ),
            (s(&["[fd00::9]:2201"]), s(&["node"])),
        ]
    );
    let v: Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(v["metadata"]["name"], "lab");
    assert_eq!(
        v["spec"]["env"],
        serde_yaml::to_value(["CertSANS=a,b", "criData=/data"]).unwrap()
    );
    assert_eq!(v["spec"]["command"][0], "kubectl apply -f manifests");
    assert_eq!(v["spec"]["ssh"]["user"], "root");
    assert_eq!(v["spec"]["ssh"]["port"], 22);
    assert_eq!(v["spec"]["image"][1], "labring/calico:v3.26.1");
    // No private key in this HOME and no password: no pk written.
    assert!(v["spec"]["ssh"].get("pk").is_none());
    // Three masters: no warning.
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn gen_output_file_is_private_and_loads() {
    let tug = Tug::new();
    let ssh = tug.home().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("id_rsa"), "not a real key").unwrap();
    let out = tug.home().join("out/Clusterfile");
    let run = tug
        .cmd()
        .args([
            "gen",
            "labring/kubernetes:v1.25.0",
            "--masters",
            "10.0.0.2,10.0.0.3",
        ])
        .args(["--nodes", "10.0.0.9", "--port", "2022", "-u", "admin", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let run = support::tug::Run::from(run).ok();
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("2 masters"),
        "{}",
        run.stderr
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let cf = Clusterfile::load(&out).unwrap();
    let m = cf.cluster.machines().unwrap();
    let addrs: Vec<String> = m.iter().map(|m| m.address.to_string()).collect();
    assert_eq!(addrs, ["10.0.0.2:2022", "10.0.0.3:2022", "10.0.0.9:2022"]);
    assert_eq!(m[0].ssh.user.as_deref(), Some("admin"));
    let pk = ssh.join("id_rsa");
    assert_eq!(m[0].ssh.pk.as_deref(), Some(pk.to_str().unwrap()));
}

#[test]
fn gen_password_goes_to_the_file_only() {
    let tug = Tug::new();
    let run = tug
        .cmd()
        .args(["gen", "labring/kubernetes:v1.25.0", "--masters", "10.0.0.2"])
        .env("TUG_SSH_PASSWD", "s3cret-pw")
        .output()
        .unwrap();
    let run = support::tug::Run::from(run).ok();
    let v: Value = serde_yaml::from_str(&run.stdout).unwrap();
    assert_eq!(v["spec"]["ssh"]["passwd"], "s3cret-pw");
    // A password given: the default key is not added even if it existed.
    assert!(v["spec"]["ssh"].get("pk").is_none());
    assert!(!run.stderr.contains("s3cret-pw"));
}

#[test]
fn gen_refuses_bad_input_clearly() {
    let tug = Tug::new();
    let cases: [(&[&str], &str); 7] = [
        (&["--masters", "10.0.0.9-10.0.0.2"], "reversed"),
        (&["--masters", "10.0.0.0-10.0.255.255"], "65536 addresses"),
        (
            &["--masters", "10.0.0.2", "--nodes", "10.0.0.2:22"],
            "duplicate host 10.0.0.2:22",
        ),
        (
            &["--masters", "10.0.0.2", "-e", "registryPort"],
            "want NAME=VALUE",
        ),
        (&["--nodes", "10.0.0.2"], "no master"),
        (
            &["--masters", "10.0.0.2", "-e", "my-key=1"],
            "not a variable name",
        ),
        (
            &["--masters", "10.0.0.2", "--cluster", "../x"],
            "cluster name",
        ),
    ];
    for (args, text) in cases {
        let mut all = vec!["gen", "labring/kubernetes:v1.25.0"];
        all.extend_from_slice(args);
        let run = tug.run(&all).fails();
        assert!(run.stderr.contains(text), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let run = tug
        .run(&["gen", "Bad/Image", "--masters", "10.0.0.2"])
        .fails();
    assert!(
        run.stderr
            .contains("spec.image[0]: invalid image reference"),
        "{}",
        run.stderr
    );
}

#[test]
fn sealos_gen_output_with_nulls_and_empty_maps_round_trips() {
    let path = fixture("sealos-gen.yaml");
    let cf = Clusterfile::load(&path).unwrap();
    assert_eq!(cf.cluster.spec.ssh, Some(Default::default()));
    assert!(cf.cluster.status.is_some());
    assert!(cf.cluster.metadata.extra["creationTimestamp"].is_null());
    let m0 = cf.cluster.master0().unwrap().unwrap();
    assert_eq!(
        (m0.address.to_string(), m0.ssh.user.as_deref()),
        ("192.168.0.2:22".into(), Some("root"))
    );
    assert_eq!(cf.kubeadm("JoinConfiguration").count(), 1);
    assert_eq!(cf.kubeadm("KubeletConfiguration").count(), 0);
    assert_round_trip(&cf, &path);
}

#[test]
fn lines_count_across_comments_markers_and_empty_documents() {
    let text = "# generated\n---\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n\
        ---\n# the cluster\napiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nspec:\n  image: [a/b:c]\n  hosts:\n\
        \x20 - ips: [10.0.0.2:22]\n    roles: [master, mips]\n---\n";
    let path = Path::new("inline/Clusterfile");
    let cf = Clusterfile::parse(path, text.to_string()).unwrap();
    assert_eq!(cf.kubeadm("ClusterConfiguration").count(), 1);
    // Saving keeps the document order.
    let kinds: Vec<Value> = documents(&cf.to_yaml().unwrap())
        .into_iter()
        .map(|d| d["kind"].clone())
        .collect();
    assert_eq!(kinds, ["ClusterConfiguration", "Cluster"]);
    let p = cf.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].to_string(),
        "inline/Clusterfile:14: spec.hosts[0].roles[1]: unknown role \"mips\" (want master, node, registry, amd64 or arm64)"
    );
}

#[test]
fn edits_keep_unknown_fields() {
    let cf = Clusterfile::load(&fixture("sealos-ha.yaml")).unwrap();
    let mut edited = cf.clone();
    edited.cluster.spec.hosts.push(tug::cluster::model::Host {
        ips: vec!["192.168.1.40:22".into()],
        roles: vec!["node".into(), "amd64".into()],
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Clusterfile");
    edited.save(&out).unwrap();
    let again = Clusterfile::load(&out).unwrap();
    let c = &again.cluster;
    assert_eq!(c.with_role(Role::Node).unwrap().len(), 3);
    assert_eq!(c.spec.extra["controlPlaneMode"], "kubeadm");
    assert_eq!(
        c.spec.hosts[1].ssh.as_ref().unwrap().extra["tunnel"],
        "none"
    );
    assert_eq!(c.metadata.extra["annotations"]["sealos.io/note"], "kept");
    let rootfs = c.status.as_ref().unwrap().rootfs().unwrap();
    assert_eq!(rootfs.extra["snapshot"], 3);
    assert_eq!(rootfs.labels["version"], "v1.29.9");
    assert_eq!(again.documents, cf.documents);
}

#[test]
fn saving_keeps_the_kubeadm_documents_as_written_until_they_change() {
    let text = "# my cluster\napiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nspec:\n  image: [a/b:c]\n\
        \x20 hosts:\n  - ips: [10.0.0.2:22]\n    roles: [master]\n---\n# wider pods for the lab\n\
        apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n\
        \x20 podSubnet: 10.200.0.0/16 # see ticket 12\n---\napiVersion: kubeadm.k8s.io/v1beta3\n\
        kind: JoinConfiguration # untouched too\n";
    let mut cf = Clusterfile::parse(Path::new("Clusterfile"), text.to_string()).unwrap();
    // As after an install stage: the status changes, the documents do not.
    cf.cluster.status = Some(Default::default());
    let saved = cf.to_yaml().unwrap();
    for kept in [
        "# wider pods for the lab\n",
        "podSubnet: 10.200.0.0/16 # see ticket 12\n",
        "kind: JoinConfiguration # untouched too\n",
    ] {
        assert!(saved.contains(kept), "{kept:?} lost:\n{saved}");
    }
    // A document changed in code is written from its new value.
    cf.documents[0].value["networking"]["podSubnet"] = "10.9.0.0/16".into();
    let saved = cf.to_yaml().unwrap();
    assert!(
        saved.contains("podSubnet: 10.9.0.0/16") && !saved.contains("ticket 12"),
        "{saved}"
    );
    assert!(saved.contains("# untouched too"), "{saved}");
    let again = Clusterfile::parse(Path::new("again"), saved).unwrap();
    assert_eq!(again.kubeadm("JoinConfiguration").count(), 1);
}

#[test]
fn env_entries_follow_the_env_rules() {
    let text = "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nspec:\n  image: [a/b:c]\n  env:\n\
        \x20 - SEALOS_SYS_KUBE_VERSION=v9\n  - ok_1=x=y\n  hosts:\n  - ips: [10.0.0.2]\n    roles: [master]\n\
        \x20   env: [2bad=1]\n";
    let cf = Clusterfile::parse(Path::new("c.yaml"), text.to_string()).unwrap();
    let shown: Vec<String> = cf.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "c.yaml:11: spec.hosts[0].env[0]: \"2bad\" is not a variable name (letters, digits and _, not starting with a digit)",
            "c.yaml:6: spec.env[0]: SEALOS_SYS_KUBE_VERSION is set by tug; this entry is ignored",
        ]
    );
    assert_eq!(cf.warnings().len(), 1);
}

#[test]
fn typos_are_named_at_their_line_with_the_field_meant() {
    let text = "apiVersion: apps.sealos.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  \
                image: [labring/kubernetes:v1.25.0]\n  ssh:\n    pkk: /root/.ssh/id_rsa\n  hosts:\n  \
                - ips: [10.0.0.2]\n    roles: [master]\n    rolez: [node]\n  newSealosThing: 1\n";
    let cf = Clusterfile::parse(std::path::Path::new("Clusterfile"), text.to_string()).unwrap();
    let found: Vec<String> = cf.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found.iter().any(|p| p.contains(":8")
            && p.contains("spec.ssh.pkk")
            && p.ends_with("did you mean pk?")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains(":12") && p.contains("did you mean roles?")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("newSealosThing") && p.contains("tug reads image")),
        "{found:?}"
    );
}
