//! The local store against real skopeo and umoci: save/load round trips,
//! docker save tars, damaged and hostile archives, and unpacking layers
//! (whiteouts, opaque dirs) into the rootfs cache.

#[path = "images_local/layout.rs"]
mod layout;
mod support;

use layout::{RawTar, docker_save, hand_layout, tar_dir, to_archive, umoci_image};
use std::fs;
use std::path::Path;
use std::process::Command;
use support::sh;
use support::tug::Tug;
use tug::image::rootfs::RootfsCache;
use tug::image::{Reference, Store};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn images_json(t: &Tug) -> serde_json::Value {
    serde_json::from_str(&t.run(&["images", "--json"]).ok().stdout).unwrap()
}

fn blob_count(t: &Tug) -> usize {
    fs::read_dir(t.store().join("blobs/sha256"))
        .unwrap()
        .count()
}

fn unpack(t: &Tug, name: &str) -> Result<std::path::PathBuf, String> {
    let store = Store::open(&t.store()).unwrap();
    let img = store
        .image(&name.parse::<Reference>().unwrap(), None)
        .unwrap();
    RootfsCache::new(t.home().join("data/rootfs"))
        .unpack(&store, &img)
        .map_err(|e| {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(c) = src {
                msg.push_str(&format!(": {c}"));
                src = c.source();
            }
            msg
        })
}

/// A sealos-like rootfs image built with umoci, as an oci-archive by skopeo.
fn sealos_archive(dir: &Path) -> std::path::PathBuf {
    let ctx = dir.join("ctx");
    fs::create_dir_all(ctx.join("scripts")).unwrap();
    fs::write(ctx.join("scripts/init.sh"), "echo init\n").unwrap();
    let lay = umoci_image(
        dir,
        "v1",
        &[vec![ctx.display().to_string(), "/".into()]],
        &[
            "--config.label=sealos.io.type=rootfs",
            "--config.label=version=v1.25.0",
            "--config.label=check=check.sh $registryData",
            "--config.env=registryDomain=sealos.hub",
        ],
    );
    let out = dir.join("sealos.tar");
    to_archive(&lay, "v1", &out, "labring/kubernetes:v1.25.0");
    out
}

#[test]
fn skopeo_archives_load_and_tug_archives_and_store_are_read_by_skopeo_and_umoci() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tug::new();
    let archive = sealos_archive(dir.path());
    let out = t.run(&["load", "-i", archive.to_str().unwrap()]).ok();
    assert!(
        out.stdout
            .contains("loaded docker.io/labring/kubernetes:v1.25.0"),
        "{}",
        out.stdout
    );
    let list = t.run(&["images"]).ok().stdout;
    assert!(
        list.contains("docker.io/labring/kubernetes")
            && list.contains("rootfs")
            && list.contains("v1.25.0"),
        "{list}"
    );
    let inspect: serde_json::Value = serde_json::from_str(
        &t.run(&["inspect", "labring/kubernetes:v1.25.0", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(inspect["scripts"]["check"], "check.sh $registryData");
    assert_eq!(inspect["env"]["registryDomain"], "sealos.hub");
    let digest = inspect["digest"].as_str().unwrap().to_string();

    t.run(&["tag", "labring/kubernetes:v1.25.0", "127.0.0.1:5000/k8s:v1"])
        .ok();
    let saved = dir.path().join("saved.tar");
    t.run(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "labring/kubernetes:v1.25.0",
        "127.0.0.1:5000/k8s:v1",
    ])
    .ok();
    let name = "docker.io/labring/kubernetes:v1.25.0";
    let sk = sh(Command::new("skopeo").args([
        "inspect",
        &format!("oci-archive:{}:{name}", saved.display()),
    ]));
    let sk: serde_json::Value = serde_json::from_str(&sk).unwrap();
    assert_eq!(sk["Digest"], digest.as_str());
    assert_eq!(sk["Labels"]["version"], "v1.25.0");
    // The store itself is a layout skopeo and umoci read.
    let store = t.store().display().to_string();
    let sk =
        sh(Command::new("skopeo").args(["inspect", &format!("oci:{store}:127.0.0.1:5000/k8s:v1")]));
    assert!(sk.contains(&digest), "{sk}");
    let ls = sh(Command::new("umoci").args(["ls", "--layout", &store]));
    assert!(
        ls.contains(name) && ls.contains("127.0.0.1:5000/k8s:v1"),
        "umoci ls: {ls}"
    );
    sh(Command::new("umoci").args(["stat", "--image", &format!("{store}:{name}")]));
    let bundle = dir.path().join("bundle");
    sh(Command::new("umoci")
        .args([
            "unpack",
            "--rootless",
            "--image",
            &format!("{store}:{name}"),
        ])
        .arg(&bundle));
    assert!(bundle.join("rootfs/scripts/init.sh").is_file());

    // A single-image archive reads without a name, and loads into a fresh store.
    let one = dir.path().join("one.tar");
    t.run(&["save", "-o", one.to_str().unwrap(), "127.0.0.1:5000/k8s:v1"])
        .ok();
    sh(Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", one.display())]));
    let t2 = Tug::new();
    t2.run(&["load", "-i", saved.to_str().unwrap()]).ok();
    assert_eq!(images_json(&t2).as_array().unwrap().len(), 2);
    // rmi by id needs --force when two names share it; blobs go with the last name.
    let id = inspect["id"].as_str().unwrap()[7..19].to_string();
    let e = t2.run(&["rmi", &id]).fails();
    assert!(e.stderr.contains("--force"), "{}", e.stderr);
    t2.run(&["rmi", "--force", &id]).ok();
    assert_eq!(images_json(&t2), serde_json::json!([]));
    assert_eq!(blob_count(&t2), 0);
}

#[test]
fn a_docker_save_tar_loads_and_unpacks() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tug::new();
    let layer = RawTar::new()
        .file("etc/kubeadm.yml", "kind: ClusterConfiguration\n")
        .bytes();
    let tarball = dir.path().join("docker.tar");
    docker_save(&tarball, "labring/app:v1", &layer);
    t.run(&["load", "-i", tarball.to_str().unwrap()]).ok();
    let list = images_json(&t);
    assert_eq!(list[0]["name"], "docker.io/labring/app:v1");
    assert_eq!(list[0]["version"], "v1.25.0");
    let root = unpack(&t, "labring/app:v1").unwrap();
    assert_eq!(
        fs::read_to_string(root.join("etc/kubeadm.yml")).unwrap(),
        "kind: ClusterConfiguration\n"
    );
}

#[test]
fn damaged_and_hostile_archives_fail_clearly_and_leave_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tug::new();
    t.run(&["load", "-i", sealos_archive(dir.path()).to_str().unwrap()])
        .ok();
    let saved = dir.path().join("saved.tar");
    t.run(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "labring/kubernetes:v1.25.0",
    ])
    .ok();
    let (baseline, blobs) = (images_json(&t), blob_count(&t));

    // A truncated archive, loaded into a store that lacks its blobs.
    let t2 = Tug::new();
    let bytes = fs::read(&saved).unwrap();
    let cut = dir.path().join("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = t2.run(&["load", "-i", cut.to_str().unwrap()]).fails();
    assert!(
        e.stderr.contains("cut.tar") && e.stderr.contains("truncated"),
        "{}",
        e.stderr
    );
    assert_eq!(images_json(&t2), serde_json::json!([]));
    assert_eq!(blob_count(&t2), 0);

    // A corrupted blob: content that does not match its name.
    let lay = dir.path().join("corrupt");
    let layers = hand_layout(
        &lay,
        "example.com/bad:v1",
        &[RawTar::new().file("a", "1").bytes()],
    );
    let victim = lay.join("blobs/sha256").join(layers[0].hex());
    let mut b = fs::read(&victim).unwrap();
    let last = b.len() - 9;
    b[last] ^= 0xff;
    fs::write(&victim, b).unwrap();
    let corrupt = dir.path().join("corrupt.tar");
    tar_dir(&lay, &corrupt);
    let e = t.run(&["load", "-i", corrupt.to_str().unwrap()]).fails();
    assert!(
        e.stderr.contains(layers[0].hex()) && e.stderr.contains("digest mismatch"),
        "{}",
        e.stderr
    );
    let e = t.run(&["load", "-i", lay.to_str().unwrap()]).fails();
    assert!(e.stderr.contains("digest mismatch"), "{}", e.stderr);
    assert_eq!((images_json(&t), blob_count(&t)), (baseline.clone(), blobs));

    // Hostile layers are refused as they are loaded, naming layer and entry.
    let outside = tempfile::tempdir().unwrap();
    let o = outside.path().display().to_string();
    let escape = format!("../../../../../../..{o}/pwned");
    let cases = [
        (
            "example.com/dotdot:v1",
            vec![RawTar::new().file(&escape, "x").bytes()],
            escape.clone(),
        ),
        (
            "example.com/symlink:v1",
            vec![
                RawTar::new().symlink("lnk", &o).bytes(),
                RawTar::new().file("lnk/pwned", "x").bytes(),
            ],
            "lnk/pwned".to_string(),
        ),
    ];
    for (name, layers, entry) in cases {
        let lay = dir.path().join(name.replace(['/', ':'], "_"));
        let digests = hand_layout(&lay, name, &layers);
        let e = t.run(&["load", "-i", lay.to_str().unwrap()]).fails().stderr;
        let bad = digests.last().unwrap().to_string();
        assert!(
            e.contains(&bad) && e.contains(&entry) && e.contains("refused"),
            "{e}"
        );
        assert_eq!(
            fs::read_dir(outside.path()).unwrap().count(),
            0,
            "{name} wrote outside"
        );
        assert_eq!((images_json(&t), blob_count(&t)), (baseline.clone(), blobs));
    }
}

#[test]
fn rootfs_unpack_applies_umoci_whiteouts_and_opaque_dirs_once() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for (d, files) in [(&one, ["keep", "gone"]), (&two, ["new", "other"])] {
        fs::create_dir_all(d.join("sub")).unwrap();
        for f in files {
            fs::write(d.join("sub").join(f), f).unwrap();
        }
    }
    fs::write(one.join("top"), "top").unwrap();
    let lay = umoci_image(
        dir.path(),
        "v1",
        &[
            s(&[one.to_str().unwrap(), "/data"]),
            s(&["--whiteout", "/data/sub/gone"]),
            s(&["--whiteout", "/data/top"]),
            s(&[one.join("sub").to_str().unwrap(), "/opq"]),
            s(&["--opaque", two.join("sub").to_str().unwrap(), "/opq"]),
        ],
        &[],
    );
    let archive = dir.path().join("wh.tar");
    to_archive(&lay, "v1", &archive, "example.com/wh:v1");
    let t = Tug::new();
    t.run(&["load", "-i", archive.to_str().unwrap()]).ok();
    // What an interrupted unpack (a dead process) left is cleared, never used.
    let stale = t.home().join("data/rootfs/.tmp-0123-999999999");
    fs::create_dir_all(&stale).unwrap();
    let root = unpack(&t, "example.com/wh:v1").unwrap();
    assert!(!stale.exists());
    assert_eq!(
        fs::read_to_string(root.join("data/sub/keep")).unwrap(),
        "keep"
    );
    assert!(!root.join("data/sub/gone").exists() && !root.join("data/top").exists());
    let mut opq: Vec<String> = fs::read_dir(root.join("opq"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    opq.sort();
    assert_eq!(opq, ["new", "other"]);
    // Reused, not rebuilt: a marker placed in the tree survives a second call.
    fs::write(root.join("marker"), "").unwrap();
    assert_eq!(unpack(&t, "example.com/wh:v1").unwrap(), root);
    assert!(root.join("marker").exists());
    // Removing the image removes its tree.
    t.run(&["rmi", "example.com/wh:v1"]).ok();
    assert!(!root.exists());
}

#[test]
fn bad_references_unknown_images_and_bad_files_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tug::new();
    t.run(&["load", "-i", sealos_archive(dir.path()).to_str().unwrap()])
        .ok();
    let baseline = images_json(&t);
    let text = t
        .run(&["inspect", "labring/kubernetes:v1.25.0"])
        .ok()
        .stdout;
    assert!(text.contains("bash init.sh  (default)"), "{text}");
    assert!(text.contains("Type:") && text.contains("rootfs"), "{text}");
    let cases: [(&[&str], &str); 6] = [
        (&["inspect", "Bad/Name"], "invalid image reference"),
        (
            &["inspect", "nosuch:v1"],
            "docker.io/library/nosuch:v1 is not in the local store",
        ),
        (
            &["rmi", "labring/kubernetes:v1.25.0", "nosuch:v1"],
            "nosuch:v1 is not in the local store",
        ),
        (&["tag", "nosuch:v1", "x:v1"], "not in the local store"),
        (&["load", "-i", "/nonexistent/x.tar"], "/nonexistent/x.tar"),
        (
            &[
                "inspect",
                "labring/kubernetes:v1.25.0",
                "--platform",
                "linux",
            ],
            "os/arch",
        ),
    ];
    for (args, want) in cases {
        let e = t.run(args).fails();
        assert!(
            e.stderr.starts_with("error: ") && e.stderr.contains(want),
            "{args:?}: {}",
            e.stderr
        );
        assert!(!e.stderr.contains("panicked"), "{}", e.stderr);
    }
    let junk = dir.path().join("junk.tar");
    fs::write(&junk, vec![b'x'; 5000]).unwrap();
    let e = t.run(&["load", "-i", junk.to_str().unwrap()]).fails();
    assert!(e.stderr.contains("junk.tar"), "{}", e.stderr);
    assert_eq!(images_json(&t), baseline);
    for cmd in ["images", "inspect", "tag", "rmi", "save", "load"] {
        let help = t.run(&[cmd, "--help"]).ok().stdout;
        assert!(help.contains("Usage: tug"), "{cmd}: {help}");
    }
    assert!(t.run(&["rmi", "--help"]).ok().stdout.contains("--force"));
}

#[test]
fn a_partial_multi_arch_index_loads_saves_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let lay = dir.path().join("multi");
    hand_layout(
        &lay,
        "example.com/multi:v1",
        &[RawTar::new().file("bin/kubeadm", "x").bytes()],
    );
    let manifest = layout::wrap_in_index(&lay, "example.com/multi:v1");
    let t = Tug::new();
    t.run(&["load", "-i", lay.to_str().unwrap()]).ok();
    let inspect: serde_json::Value = serde_json::from_str(
        &t.run(&["inspect", "example.com/multi:v1", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(inspect["digest"], manifest.as_str());
    let saved = dir.path().join("multi.tar");
    t.run(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "example.com/multi:v1",
    ])
    .ok();
    let sk =
        sh(Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", saved.display())]));
    // skopeo reports the digest of what the name points at: the index.
    let top: serde_json::Value =
        serde_json::from_slice(&fs::read(lay.join("index.json")).unwrap()).unwrap();
    let sk: serde_json::Value = serde_json::from_str(&sk).unwrap();
    assert_eq!(sk["Digest"], top["manifests"][0]["digest"]);
    let t2 = Tug::new();
    t2.run(&["load", "-i", saved.to_str().unwrap()]).ok();
    assert_eq!(images_json(&t2)[0]["digest"], manifest.as_str());
    let root = unpack(&t2, "example.com/multi:v1").unwrap();
    assert_eq!(fs::read_to_string(root.join("bin/kubeadm")).unwrap(), "x");
}

#[test]
fn an_index_pulled_for_another_platform_only_is_that_image_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let lay = dir.path().join("foreign");
    hand_layout(
        &lay,
        "example.com/foreign:v1",
        &[RawTar::new().file("bin/kubeadm", "arm").bytes()],
    );
    let manifest = layout::wrap_in_index_as(&lay, "example.com/foreign:v1", true);
    let t = Tug::new();
    t.run(&["load", "-i", lay.to_str().unwrap()]).ok();
    // No --platform: this machine's is not there, the one that is serves.
    let inspect: serde_json::Value = serde_json::from_str(
        &t.run(&["inspect", "example.com/foreign:v1", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(inspect["digest"], manifest.as_str());
    // Asking for this machine's platform by name still names what is missing.
    let here = format!(
        "linux/{}",
        std::env::consts::ARCH
            .replace("x86_64", "amd64")
            .replace("aarch64", "arm64")
    );
    let asked = t
        .run(&["inspect", "example.com/foreign:v1", "--platform", &here])
        .fails();
    assert!(asked.stderr.contains(&here), "{}", asked.stderr);
}
