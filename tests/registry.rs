//! Pull, push, login and logout against a real docker-registry, with images
//! built by umoci and moved by skopeo.

mod support;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::registry::Registry;
use support::sh;
use support::tug::{Run, Tug};

/// The LABELs of a sealos containerd rootfs image (labring-contract §1.3),
/// `$var`s literal as they are stored.
const ROOTFS_LABELS: &[(&str, &str)] = &[
    ("sealos.io.type", "rootfs"),
    ("sealos.io.version", "v1beta1"),
    ("version", "v1.25.0"),
    ("image", "ghcr.io/labring/lvscare:v4.1.3"),
    (
        "init",
        "init-cri.sh $registryDomain $registryPort && bash init.sh",
    ),
    ("clean", "clean.sh && bash clean-cri.sh $criData"),
    ("check", "check.sh $registryData"),
    (
        "init-registry",
        "init-registry.sh $registryData $registryConfig",
    ),
    (
        "clean-registry",
        "clean-registry.sh $registryData $registryConfig",
    ),
    ("vip", "$defaultVIP"),
];

/// Its ENVs.
const ROOTFS_ENV: &[(&str, &str)] = &[
    ("criData", "/var/lib/containerd"),
    ("registryData", "/var/lib/registry"),
    ("registryConfig", "/etc/registry"),
    ("registryDomain", "sealos.hub"),
    ("registryPort", "5000"),
    ("registryUsername", "admin"),
    ("registryPassword", "passw0rd"),
    ("defaultVIP", "10.103.97.2"),
    (
        "SEALOS_SYS_CRI_ENDPOINT",
        "/var/run/containerd/containerd.sock",
    ),
];

/// Build `layout:tag` with umoci: one layer per file, then labels and env.
fn umoci_image(
    layout: &Path,
    tag: &str,
    arch: &str,
    files: &[(&str, &str)],
    labels: &[(&str, &str)],
    env: &[(&str, &str)],
) {
    if !layout.join("index.json").exists() {
        sh(Command::new("umoci").args(["init", "--layout"]).arg(layout));
    }
    let image = format!("{}:{tag}", layout.display());
    sh(Command::new("umoci").args(["new", "--image", &image]));
    let src = tempfile::tempdir().unwrap();
    for (i, (target, content)) in files.iter().enumerate() {
        let f = src.path().join(format!("f{i}"));
        std::fs::write(&f, content).unwrap();
        sh(Command::new("umoci")
            .args(["insert", "--image", &image])
            .arg(&f)
            .arg(target));
    }
    let mut cfg = Command::new("umoci");
    cfg.args([
        "config",
        "--image",
        &image,
        "--os",
        "linux",
        "--architecture",
        arch,
    ]);
    for (k, v) in labels {
        cfg.arg(format!("--config.label={k}={v}"));
    }
    for (k, v) in env {
        cfg.arg(format!("--config.env={k}={v}"));
    }
    sh(&mut cfg);
}

/// `skopeo copy oci:LAYOUT:TAG docker://DEST` (all platforms of an index).
fn skopeo_push(reg: &Registry, layout: &Path, tag: &str, dest: &str) {
    let mut c = Command::new("skopeo");
    c.args(["copy", "--all", "--dest-tls-verify=false"]);
    if let Some((u, p)) = &reg.auth {
        c.arg(format!("--dest-creds={u}:{p}"));
    }
    c.arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"));
    sh(&mut c);
}

/// `skopeo inspect [--config] TARGET` as JSON.
fn skopeo_inspect(target: &str, config: bool) -> Value {
    let mut c = Command::new("skopeo");
    c.args(["inspect", "--tls-verify=false"]);
    if config {
        c.arg("--config");
    }
    serde_json::from_str(&sh(c.arg(target))).unwrap()
}

/// The digest tug printed at the end of a `pulled …` or `pushed …` line.
fn printed_digest(run: &Run) -> String {
    run.stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in {:?}", run.stdout))
        .to_string()
}

fn store_blobs(tug: &Tug) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(tug.store().join("blobs/sha256"))
        .map(|d| {
            d.map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn store_names(tug: &Tug) -> Vec<String> {
    let idx: Value =
        serde_json::from_slice(&std::fs::read(tug.store().join("index.json")).unwrap()).unwrap();
    idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .map(str::to_string)
        .collect()
}

/// Temp files tug left in the store's scratch dir (lock files aside).
fn leftover_temp_files(tug: &Tug) -> Vec<PathBuf> {
    std::fs::read_dir(tug.home().join("data/.images.tmp"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_none_or(|e| e != "lock"))
                .collect()
        })
        .unwrap_or_default()
}

/// The store stays usable: `tug images` runs, no temp blobs
/// are left behind, and `name` is not in index.json.
fn assert_store_consistent(tug: &Tug, name: &str) {
    tug.run(&["images"]).ok();
    assert!(
        leftover_temp_files(tug).is_empty(),
        "{:?}",
        leftover_temp_files(tug)
    );
    assert!(
        !store_names(tug).iter().any(|n| n == name),
        "{name} half-named"
    );
}

#[test]
fn a_sealos_rootfs_image_pushed_by_skopeo_is_pulled_with_its_contract_intact() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    umoci_image(
        &layout,
        "v1.25.0",
        "amd64",
        &[
            ("/scripts/init.sh", "#!/bin/sh\necho init\n"),
            ("/etc/kubeadm.yml", "kind: x\n"),
        ],
        ROOTFS_LABELS,
        ROOTFS_ENV,
    );
    let name = reg.reference("labring/kubernetes:v1.25.0");
    skopeo_push(&reg, &layout, "v1.25.0", &name);

    let tug = Tug::new();
    let run = tug.run(&["pull", &name]).ok();
    assert!(
        run.stdout.starts_with(&format!("pulled {name} sha256:")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(2 layers,") && run.stdout.contains("3 of 3 blobs new"),
        "{}",
        run.stdout
    );

    let remote = skopeo_inspect(&format!("docker://{name}"), false);
    assert_eq!(printed_digest(&run), remote["Digest"].as_str().unwrap());
    let local = format!("oci:{}:{name}", tug.store().display());
    assert_eq!(skopeo_inspect(&local, false)["Digest"], remote["Digest"]);
    let config = skopeo_inspect(&local, true);
    for (k, v) in ROOTFS_LABELS {
        assert_eq!(config["config"]["Labels"][k], *v, "label {k}");
    }
    let env: Vec<String> = serde_json::from_value(config["config"]["Env"].clone()).unwrap();
    for (k, v) in ROOTFS_ENV {
        assert!(
            env.contains(&format!("{k}={v}")),
            "env {k} missing from {env:?}"
        );
    }

    let out = tug.run(&["inspect", &name, "--json"]).ok();
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["type"], "rootfs");
    assert_eq!(j["version"], "v1.25.0");
    assert_eq!(j["digest"], remote["Digest"]);
    for k in ["init", "clean", "check", "init-registry", "clean-registry"] {
        let want = ROOTFS_LABELS.iter().find(|(l, _)| *l == k).unwrap().1;
        assert_eq!(j["scripts"][k], want, "script {k}");
    }
    for (k, v) in ROOTFS_ENV {
        assert_eq!(j["env"][k], *v, "env {k}");
    }
    assert_eq!(j["lvscareImage"], "ghcr.io/labring/lvscare:v4.1.3");
    assert_eq!(j["layers"].as_array().unwrap().len(), 2);

    // A second pull fetches nothing.
    let again = tug.run(&["pull", &name]).ok();
    assert!(
        again.stdout.contains("0 of 3 blobs new"),
        "{}",
        again.stdout
    );
}

#[test]
fn push_keeps_the_manifest_digest_chunked_and_monolithic() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    umoci_image(
        &layout,
        "v1",
        "amd64",
        &[("/a", "alpha"), ("/b", "beta")],
        &[("x", "1")],
        &[],
    );
    let src = reg.reference("src/app:v1");
    skopeo_push(&reg, &layout, "v1", &src);
    let tug = Tug::new();
    let pulled = printed_digest(&tug.run(&["pull", &src]).ok());

    for (dest, extra) in [("copy/app:v2", None), ("mono/app:v3", Some("--monolithic"))] {
        let dest = reg.reference(dest);
        let mut args = vec!["push", &src, &dest];
        args.extend(extra);
        let run = tug.run(&args).ok();
        assert!(
            run.stdout
                .starts_with(&format!("pushed {dest} {pulled} (3 blobs sent, ")),
            "{}",
            run.stdout
        );
        let remote = skopeo_inspect(&format!("docker://{dest}"), false);
        assert_eq!(remote["Digest"], pulled.as_str());
        assert_eq!(remote["Labels"]["x"], "1");
    }
    // Pushing again sends no blob: the registry has them all.
    let again = tug.run(&["push", &src]).ok();
    assert!(
        again.stdout.contains("(0 blobs sent, 0 B)"),
        "{}",
        again.stdout
    );
    // Whatever was pushed pulls back into a fresh store byte for byte.
    let other = Tug::new();
    let back = other.run(&["pull", &reg.reference("mono/app:v3")]).ok();
    assert_eq!(printed_digest(&back), pulled);
}

/// Add an index over `tags` (their platforms from their configs) to a layout
/// as `index_tag`.
fn add_index(layout: &Path, tags: &[(&str, &str)], index_tag: &str) {
    let idx_path = layout.join("index.json");
    let mut top: Value = serde_json::from_slice(&std::fs::read(&idx_path).unwrap()).unwrap();
    let entries: Vec<Value> = tags
        .iter()
        .map(|(tag, arch)| {
            let d = top["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == *tag)
                .unwrap()
                .clone();
            json!({"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                   "platform": {"architecture": arch, "os": "linux"}})
        })
        .collect();
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .unwrap();
    let hex = sha256_hex(&body);
    std::fs::write(layout.join("blobs/sha256").join(&hex), &body).unwrap();
    top["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{hex}"), "size": body.len(),
        "annotations": {"org.opencontainers.image.ref.name": index_tag},
    }));
    std::fs::write(&idx_path, serde_json::to_vec(&top).unwrap()).unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    sh(Command::new("sha256sum").arg(f.path()))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Layer digests of a manifest in the registry.
fn remote_layers(reference: &str) -> Vec<String> {
    serde_json::from_value(
        skopeo_inspect(&format!("docker://{reference}"), false)["Layers"].clone(),
    )
    .unwrap()
}

#[test]
fn a_multi_arch_index_resolves_to_the_platforms_asked() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    umoci_image(
        &layout,
        "amd",
        "amd64",
        &[("/arch", "amd64 bits")],
        &[],
        &[],
    );
    umoci_image(
        &layout,
        "arm",
        "arm64",
        &[("/arch", "arm64 bits")],
        &[],
        &[],
    );
    add_index(&layout, &[("amd", "amd64"), ("arm", "arm64")], "multi");
    let name = reg.reference("multi/app:v1");
    skopeo_push(&reg, &layout, "multi", &name);
    skopeo_push(&reg, &layout, "amd", &reg.reference("multi/app:amd"));
    skopeo_push(&reg, &layout, "arm", &reg.reference("multi/app:arm"));
    let amd_layers = remote_layers(&reg.reference("multi/app:amd"));
    let arm_layers = remote_layers(&reg.reference("multi/app:arm"));

    let tug = Tug::new();
    let run = tug.run(&["pull", "--platform", "linux/arm64", &name]).ok();
    let blobs = store_blobs(&tug);
    assert!(arm_layers.iter().all(|l| blobs.contains(l)), "{blobs:?}");
    assert!(!amd_layers.iter().any(|l| blobs.contains(l)), "{blobs:?}");
    let arm_digest = skopeo_inspect(
        &format!("docker://{}", reg.reference("multi/app:arm")),
        false,
    )["Digest"]
        .clone();
    assert_eq!(printed_digest(&run), arm_digest.as_str().unwrap());
    let cfg = skopeo_inspect(&format!("oci:{}:{name}", tug.store().display()), true);
    assert_eq!(cfg["architecture"], "arm64");

    // Both platforms: the index is named and both manifests are stored.
    let both = Tug::new();
    let run = both
        .run(&["pull", "--platform", "linux/amd64,linux/arm64", &name])
        .ok();
    assert!(
        run.stdout.contains("linux/amd64 linux/arm64"),
        "{}",
        run.stdout
    );
    let blobs = store_blobs(&both);
    assert!(
        amd_layers
            .iter()
            .chain(&arm_layers)
            .all(|l| blobs.contains(l))
    );
    let index_json: Value =
        serde_json::from_slice(&std::fs::read(both.store().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index_json["manifests"][0]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    // Pushing the index sends its children first; the digest survives.
    let copy = reg.reference("copy/multi:v1");
    let pushed = both.run(&["push", &name, &copy]).ok();
    let raw = sh(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{copy}")));
    assert_eq!(
        printed_digest(&pushed),
        format!("sha256:{}", sha256_hex(raw.as_bytes()))
    );

    // A platform the index lacks is named in the error.
    let e = Tug::new()
        .run(&["pull", "--platform", "linux/s390x", &name])
        .fails();
    assert!(
        e.stderr.contains("linux/s390x") && e.stderr.contains("linux/arm64"),
        "{}",
        e.stderr
    );
}

#[test]
fn login_is_needed_checked_private_and_undone_by_logout() {
    let reg = Registry::start_with_auth("alice", "wonder land");
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    umoci_image(&layout, "v1", "amd64", &[("/f", "private")], &[], &[]);
    let name = reg.reference("secret/app:v1");
    skopeo_push(&reg, &layout, "v1", &name);

    let tug = Tug::new();
    let denied = tug.run(&["pull", &name]).fails();
    let first = denied.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("unauthorized") && first.contains(&format!("tug login {}", reg.addr)),
        "{}",
        denied.stderr
    );

    let auth_file = tug.home().join("config/auth.json");
    let wrong = tug
        .run(&["login", &reg.addr, "-u", "alice", "-p", "wrong"])
        .fails();
    assert!(wrong.stderr.contains("unauthorized"), "{}", wrong.stderr);
    assert!(!wrong.stderr.contains("wrong") && !auth_file.exists());

    let mut login = tug.cmd();
    login
        .args(["login", &reg.addr, "-u", "alice", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = login.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"wonder land\n")
        .unwrap();
    let out: Run = child.wait_with_output().unwrap().into();
    let out = out.ok();
    assert!(!out.stdout.contains("wonder land") && !out.stderr.contains("wonder land"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&auth_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&auth_file).unwrap()).unwrap();
    assert!(saved["auths"][&reg.addr]["auth"].is_string(), "{saved}");

    tug.run(&["pull", &name]).ok();
    tug.run(&["push", &name, &reg.reference("secret/copy:v1")])
        .ok();

    let out = tug.run(&["logout", &reg.addr]).ok();
    assert!(out.stdout.contains("logged out"), "{}", out.stdout);
    let saved: Value = serde_json::from_slice(&std::fs::read(&auth_file).unwrap()).unwrap();
    assert!(saved["auths"].get(&reg.addr).is_none(), "{saved}");
    tug.run(&["pull", &name]).fails();
}

/// A TCP relay to `upstream` that sends at most `rate` bytes a second back
/// to the client, so a large blob takes long enough to be interrupted.
fn throttled_relay(upstream: String, rate: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 << 10];
                let start = Instant::now();
                let mut sent = 0usize;
                loop {
                    let n = match s_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    let due = Duration::from_secs_f64(sent as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                let _ = c_out.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}

/// Write an OCI layout by hand holding one image whose layers are `layers`
/// (bytes as they are: a layer's content does not matter to a registry).
fn raw_layout(layout: &Path, tag: &str, layers: &[Vec<u8>]) {
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let descs: Vec<(String, usize)> = layers.iter().map(|l| put(l)).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": descs.iter().map(|d| d.0.clone()).collect::<Vec<_>>()},
    }))
    .unwrap();
    let (cd, cs) = put(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": descs.iter().map(|(d, s)| json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let (md, ms) = put(&manifest);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": tag}}]});
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
}

/// Bytes that do not compress, from a fixed seed.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

#[test]
fn a_registry_killed_mid_blob_fails_the_pull_and_the_rerun_fetches_only_what_is_missing() {
    let mut reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    raw_layout(
        &layout,
        "v1",
        &[b"small layer".to_vec(), noise(48 << 20, 7)],
    );
    skopeo_push(&reg, &layout, "v1", &reg.reference("big/app:v1"));
    let relay = throttled_relay(reg.addr.clone(), 8 << 20);
    let name = format!("{relay}/big/app:v1");

    let tug = Tug::new();
    let mut child = tug
        .cmd()
        .args(["pull", &name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let tmp = tug.home().join("data/.images.tmp");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let partial = std::fs::read_dir(&tmp)
            .map(|d| {
                d.flatten()
                    .any(|e| e.metadata().map(|m| m.len() > 4 << 20).unwrap_or(false))
            })
            .unwrap_or(false);
        if partial {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "pull ended before the big blob was under way"
        );
        assert!(Instant::now() < deadline, "the big blob never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    reg.kill();
    let failed: Run = child.wait_with_output().unwrap().into();
    let failed = failed.fails();
    assert!(
        failed.stderr.contains(&format!("registry {relay}"))
            && failed.stderr.contains("blob sha256:"),
        "{}",
        failed.stderr
    );
    assert_store_consistent(&tug, &name);
    let kept = store_blobs(&tug);
    assert_eq!(kept.len(), 2, "config and small layer stay: {kept:?}");

    reg.restart();
    let done = tug.run(&["pull", &name]).ok();
    assert!(done.stdout.contains("1 of 3 blobs new"), "{}", done.stdout);
    assert_eq!(store_blobs(&tug).len(), 4);
}

#[test]
fn ctrl_c_stops_a_pull_with_130_and_leaves_no_temp_files() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    raw_layout(&layout, "v1", &[noise(32 << 20, 11)]);
    skopeo_push(&reg, &layout, "v1", &reg.reference("slow/app:v1"));
    let relay = throttled_relay(reg.addr.clone(), 4 << 20);
    let name = format!("{relay}/slow/app:v1");
    let tug = Tug::new();
    let child = tug
        .cmd()
        .args(["pull", &name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let tmp = tug.home().join("data/.images.tmp");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_dir(&tmp)
        .map(|d| {
            d.flatten()
                .any(|e| e.metadata().map(|m| m.len() > 1 << 20).unwrap_or(false))
        })
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "the blob never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    sh(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, 130, "{}", run.stderr);
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
    assert_store_consistent(&tug, &name);
}

#[test]
fn bad_references_unknown_images_and_corrupt_blobs_fail_clearly() {
    let reg = Registry::start();
    let tug = Tug::new();
    let bad = tug.run(&["pull", "Bad//Name"]).fails();
    assert!(
        bad.stderr
            .starts_with("error: invalid image reference \"Bad//Name\""),
        "{}",
        bad.stderr
    );

    let missing = reg.reference("no/such:v9");
    let e = tug.run(&["pull", &missing]).fails();
    assert!(
        e.stderr.contains(&format!("image {missing} not found")),
        "{}",
        e.stderr
    );
    assert_store_consistent(&tug, &missing);

    let prefs = tug.home().join("config/config.yaml");
    std::fs::create_dir_all(prefs.parent().unwrap()).unwrap();
    std::fs::write(&prefs, "insecureRegistries: [unclosed\n").unwrap();
    let e = tug.run(&["pull", &missing]).fails();
    assert!(
        e.stderr.contains("config.yaml") && e.stderr.contains("insecureRegistries"),
        "{}",
        e.stderr
    );
    std::fs::write(&prefs, "insecureRegistries: [\"reg.lan:5000\"]\n").unwrap();

    let refused = tug.run(&["pull", "127.0.0.1:1/x:y"]).fails();
    // One line with the cause, not reqwest's repetition of the URL.
    assert!(
        refused
            .stderr
            .contains("cannot reach registry 127.0.0.1:1: Connection refused")
            && !refused.stderr.contains("error sending request"),
        "{}",
        refused.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    umoci_image(
        &layout,
        "v1",
        "amd64",
        &[("/data", "the real content")],
        &[],
        &[],
    );
    let name = reg.reference("bad/blob:v1");
    skopeo_push(&reg, &layout, "v1", &name);
    let layer = remote_layers(&name).remove(0);
    let data = reg
        .storage
        .join("docker/registry/v2/blobs/sha256")
        .join(&layer[7..9])
        .join(&layer[7..])
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let e = tug.run(&["pull", &name]).fails();
    assert!(
        e.stderr.contains("digest mismatch") && e.stderr.contains(&format!("blob {layer}")),
        "{}",
        e.stderr
    );
    assert_store_consistent(&tug, &name);
    assert!(!store_blobs(&tug).contains(&layer));
}
