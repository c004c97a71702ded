//! The fixture cluster images of `tests/fixtures` (see its README), built
//! with the real `tug build` into a test's TUG_HOME, and the journal their
//! stand-in programs write on every host they run on.

use super::cluster_image::{gz_tar, put_image};
use super::hosts::{Host, Hosts};
use super::tug::Tug;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tug::image::Store;

/// The rootfs image's name (shaped like labring/kubernetes).
pub const ROOTFS: &str = "tugtest/kubernetes:v1.28.9";
/// The application image's name (one manifest, a CMD run on master0).
pub const APP: &str = "tugtest/echo-app:v1";
/// Where the stand-ins record their calls on a host.
pub const JOURNAL: &str = "/var/lib/tug-journal.log";
/// A line `<prog> <first arg>` (or `<prog>`) here makes that call exit 1.
pub const FAIL: &str = "/var/lib/tug-fixture-fail";
/// Lines `<name> <ip>` here are the nodes master0's kubectl knows.
pub const NODES: &str = "/var/lib/tug-fixture-nodes";

/// The patch image [`put_mixed_patch`] makes.
pub const MIXED: &str = "tugtest/mixed:v1";
/// Where its registry data lies in its one layer.
pub const MIXED_BLOB: &str = "registry/docker/registry/v2/blobs/sha256/ab/abcd/data";

/// Put the patch image [`MIXED`] in `tug`'s store: its one layer holds
/// `registry_bytes` of registry data (text that gzips to about two thirds)
/// beside `etc/<extra>`, as `COPY . .` of a context holding `registry/`
/// makes it in other builders (`tug build` gives registry/ a layer of its
/// own).
pub fn put_mixed_patch(tug: &Tug, registry_bytes: usize, extra: &str) {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: String = (0..registry_bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            CHARS[(x % 64) as usize] as char
        })
        .collect();
    put_image(
        &Store::open(&tug.store()).unwrap(),
        MIXED,
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Labels": {"sealos.io.type": "patch"}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[
            (MIXED_BLOB, data.as_str(), 0o644),
            (&format!("etc/{extra}"), "extra\n", 0o644),
        ])],
    );
}

/// `tug run IMAGES` with `hosts[0]` the master and `hosts[1]` a node, by
/// key, plain lines; then `extra`.
pub fn run_args_of(images: Vec<String>, hosts: &Hosts, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run".to_string()];
    args.extend(images);
    let key = hosts.key.display().to_string();
    let (master, node) = (hosts[0].addr(), hosts[1].addr());
    let fixed = [
        "--masters",
        &master,
        "--nodes",
        &node,
        "--pk",
        &key,
        "--plain",
    ];
    args.extend(fixed.iter().chain(extra).map(|s| s.to_string()));
    args
}

/// [`run_args_of`] the fixture images, built in `tug`'s store.
pub fn run_args(tug: &Tug, hosts: &Hosts, extra: &[&str]) -> Vec<String> {
    run_args_of(build_images(tug), hosts, extra)
}

/// A fixture build context under `tests/fixtures`.
pub fn context(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Build both fixture images in `tug`'s store and return their names
/// (rootfs first). The app's one container image is put in the build
/// cache first, so nothing is pulled.
pub fn build_images(tug: &Tug) -> Vec<String> {
    let cache = Store::open(&tug.home().join("data/build-cache")).unwrap();
    put_image(
        &cache,
        "docker.io/tugtest/echo:v1",
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/echo"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        }),
        &[gz_tar(&[("echo", "#!/bin/sh\necho hello\n", 0o755)])],
    );
    for (name, dir) in [(ROOTFS, "rootfs"), (APP, "app")] {
        let ctx = context(dir);
        tug.run(&["build", "-t", name, ctx.to_str().unwrap()]).ok();
    }
    vec![ROOTFS.to_string(), APP.to_string()]
}

/// Build the fixture rootfs as Kubernetes `version` (e.g. `v1.25.0`): its
/// `version` label and every stand-in's answers (kubeadm's own version,
/// kubelet's) say `version`. Returns its name, `tugtest/kubernetes:<version>`.
pub fn build_rootfs(tug: &Tug, version: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rootfs");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(context("rootfs"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    let minor = version.split('.').nth(1).unwrap();
    for f in ["Kubefile", "bin/kubeadm", "bin/kubelet", "bin/kubectl"] {
        let path = copy.join(f);
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replace("v1.28.9", version)
            .replace("Minor:\\\"28\\\"", &format!("Minor:\\\"{minor}\\\""));
        std::fs::write(&path, text).unwrap();
    }
    let name = format!("tugtest/kubernetes:{version}");
    tug.run(&["build", "-t", &name, copy.to_str().unwrap()])
        .ok();
    name
}

/// One journaled call: `prog`, `args`, `cwd`, `host` and the recorded env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub prog: String,
    pub args: String,
    pub cwd: String,
    pub host: String,
    pub env: BTreeMap<String, String>,
}

/// The calls in a journal's text, in order.
pub fn calls(journal: &str) -> Vec<Call> {
    journal
        .lines()
        .filter(|l| l.starts_with("prog="))
        .map(|line| {
            let mut fields: BTreeMap<String, String> = line
                .split('\t')
                .filter_map(|f| f.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let mut take = |k: &str| fields.remove(k).unwrap_or_default();
            Call {
                prog: take("prog"),
                args: take("args"),
                cwd: take("cwd"),
                host: take("host"),
                env: fields,
            }
        })
        .collect()
}

/// The calls of `prog` whose arguments start with `args`.
pub fn calls_of<'a>(all: &'a [Call], prog: &str, args: &str) -> Vec<&'a Call> {
    all.iter()
        .filter(|c| c.prog == prog && c.args.starts_with(args))
        .collect()
}

/// Set by a held tar once a layer reached it.
const HELD: &str = "/var/lib/tug-test-tar-started";
/// Lets held tars go on.
const GO: &str = "/var/lib/tug-test-go";

/// Make `host`'s tar (which unpacks every layer tug sends) wait before it
/// reads, so a test can act while a layer is mid-stream.
pub fn hold_layers(host: &Host) {
    host.exec(&format!(
        "printf '#!/bin/sh\\ntouch {HELD}\\nwhile [ ! -e {GO} ]; do sleep 0.05; done\\nexec /usr/bin/tar \"$@\"\\n' > /usr/local/bin/tar && chmod 755 /usr/local/bin/tar"
    ));
}

/// Whether a held tar has a layer waiting.
pub fn layer_held(host: &Host) -> bool {
    host.exec_output(&format!("test -e {HELD}"))
        .status
        .success()
}

/// Wait (up to two minutes) until a layer reached `host`'s held tar,
/// while `tug` is still running.
pub fn wait_for_held_layer(host: &Host, tug: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !layer_held(host) {
        assert!(
            std::time::Instant::now() < deadline,
            "no layer reached {}",
            host.ip
        );
        assert!(tug.try_wait().unwrap().is_none(), "tug ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Let held tars go on.
pub fn release_layers(host: &Host) {
    host.exec(&format!("touch {GO}"));
}

/// Give the host its own tar back.
pub fn unhold_layers(host: &Host) {
    host.exec("rm -f /usr/local/bin/tar");
}
