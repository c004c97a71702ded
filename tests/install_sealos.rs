//! A Clusterfile as sealos users write them, applied over real sshd hosts: inline keys
//! (`pkData`, per host too, with a passphrase), `Config` documents written into the
//! images before their hooks and CMDs, `$(HELM_OPTS)` reaching the app's CMD as sealos
//! passes it, and the cluster-admin kubeconfig kept off the workers unless asked for.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::fixture::{self, APP, ROOTFS};
use support::hosts::{Hosts, keygen};
use support::tug::{Run, Tug};

const DATA: &str = "/var/lib/sealos/data/sc";
const APP_DIR: &str = "/var/lib/sealos/data/sc/applications/echo-app-v1/workdir";

/// A YAML block scalar of `text`, indented for `pkData:` at `indent` spaces.
fn block(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn clusterfile(hosts: &Hosts, node_key: &Path, annotation: &str) -> String {
    let key = std::fs::read_to_string(&hosts.key).unwrap();
    let node_key = std::fs::read_to_string(node_key).unwrap();
    format!(
        r##"apiVersion: apps.sealos.io/v1beta1
kind: Cluster
metadata:
  name: sc
{annotation}spec:
  hosts:
  - ips: [{master}]
    roles: [master]
  - ips: [{node}]
    roles: [node]
    ssh:
      pkPasswd: node-key-passphrase
      pkData: |
{node_key}  image: [{ROOTFS}, {APP}]
  ssh:
    user: root
    pkData: |
{key}  env:
  - 'HELM_OPTS=--set-string b="x y"'
---
apiVersion: apps.sealos.io/v1beta1
kind: Config
metadata:
  name: values
spec:
  match: {APP}
  path: etc/values.yaml
  data: |
    b: "x y"
---
apiVersion: apps.sealos.io/v1beta1
kind: Config
metadata:
  name: banner
spec:
  match: {APP}
  path: manifests/echo.yaml
  strategy: insert
  data: "# inserted by a Config"
---
apiVersion: apps.sealos.io/v1beta1
kind: Config
metadata:
  name: kubeadm-note
spec:
  match: {ROOTFS}
  path: etc/kubeadm.yml
  strategy: merge
  data: |
    tugNote: merged
---
apiVersion: apps.sealos.io/v1beta1
kind: Config
metadata:
  name: elsewhere
spec:
  match: example.com/other:v1
  path: etc/never.yaml
  data: "x: 1"
"##,
        master = hosts[0].addr(),
        node = hosts[1].addr(),
        node_key = block(&node_key, 8),
        key = block(&key, 6),
    )
}

/// `tug apply -f FILE` with no ssh-agent to fall back to.
fn apply(tug: &Tug, file: &Path) -> Run {
    tug.cmd()
        .args(["apply", "-f", file.to_str().unwrap(), "--plain"])
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
        .into()
}

fn mode(hosts: &Hosts, i: usize, path: &str) -> String {
    hosts[i]
        .exec(&format!("stat -c %a {path}"))
        .trim()
        .to_string()
}

#[test]
fn a_sealos_clusterfile_with_inline_keys_configs_and_helm_opts_installs_over_ssh() {
    let hosts = Hosts::start(2);
    let tug = Tug::new();
    fixture::build_images(&tug);
    // The node accepts only its own key, which needs a passphrase: it can only be
    // reached with the node's pkData and pkPasswd, not the cluster's key or an agent.
    let node_key = tug.home().join("node_key");
    keygen(&node_key, "node-key-passphrase");
    let public = std::fs::read_to_string(node_key.with_extension("pub")).unwrap();
    std::fs::write(hosts[1].dir.join("authorized_keys"), public).unwrap();
    let file = tug.home().join("Clusterfile");
    std::fs::write(&file, clusterfile(&hosts, &node_key, "")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let run = apply(&tug, &file);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let read = |i: usize, path: &str| hosts[i].exec(&format!("cat {path}"));

    // $(HELM_OPTS) reaches the CMD as sealos passes it: the shell reads the value.
    assert_eq!(
        read(0, "/var/lib/tug-fixture-app-argv.log"),
        "<default><--set-string><b=x y>\n"
    );
    // Config documents: in the app's tree before its CMD ran, inserted before the
    // image's own file, merged into the rootfs's YAML on every host, 0600.
    assert_eq!(
        read(0, "/var/lib/tug-fixture-app-values.seen"),
        "b: \"x y\"\n"
    );
    assert_eq!(
        mode(&hosts, 0, &format!("{APP_DIR}/etc/values.yaml")),
        "600"
    );
    let manifest = read(0, &format!("{APP_DIR}/manifests/echo.yaml"));
    assert!(
        manifest.starts_with("# inserted by a Config\n") && manifest.contains("tugtest/echo:v1"),
        "{manifest}"
    );
    for i in 0..2 {
        let kubeadm = read(i, &format!("{DATA}/rootfs/etc/kubeadm.yml"));
        let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&kubeadm)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 1, "{kubeadm}");
        assert_eq!(docs[0]["tugNote"], "merged", "{kubeadm}");
        assert_eq!(
            docs[0]["kind"], "ClusterConfiguration",
            "the image's own fields stay"
        );
        assert_eq!(docs[0]["networking"]["podSubnet"], "100.64.0.0/10");
        assert_eq!(
            mode(&hosts, i, &format!("{DATA}/rootfs/etc/kubeadm.yml")),
            "600"
        );
        // The rootfs as sealos leaves it: 0755 (the fixture's tug-journal is
        // 0644 in the image), a rendered template too; secrets stay 0600.
        for path in [
            "bin/tug-journal",
            "bin/kubeadm",
            "etc/kubelet.service",
            "scripts",
        ] {
            assert_eq!(
                mode(&hosts, i, &format!("{DATA}/rootfs/{path}")),
                "755",
                "{path}"
            );
        }
        let never = hosts[i].exec_output(&format!("find {DATA} -name never.yaml | grep ."));
        assert!(!never.status.success(), "a Config for another image");
    }
    // The cluster-admin kubeconfig stays on the master.
    assert!(read(0, "/root/.kube/config").contains("admin"));
    let on_node = hosts[1].exec_output("test -e /root/.kube/config");
    assert!(!on_node.status.success(), "admin kubeconfig on a worker");

    // Asked for, the copy goes to the worker, 0600, the same file as the master's.
    let annotation = "  annotations:\n    tug.io/admin-kubeconfig-on-nodes: \"true\"\n";
    std::fs::write(&file, clusterfile(&hosts, &node_key, annotation)).unwrap();
    let run = apply(&tug, &file);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(read(1, "/root/.kube/config"), read(0, "/root/.kube/config"));
    assert_eq!(mode(&hosts, 1, "/root/.kube/config"), "600");
}
