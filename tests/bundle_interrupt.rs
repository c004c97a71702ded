//! An interrupted `tug bundle create` (Ctrl-C, or killed outright) never
//! leaves a bundle that verifies, and an interrupted `tug bundle load`
//! leaves the store as it was. The image is big and incompressible so the
//! real binary is still at work when the signal comes.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::tug::{Run, Tug};
use tug::image::Store;
use tug::image::oci::{Descriptor, media};

/// Put an image with one big incompressible layer straight into the store,
/// streamed, so writing a bundle of it takes long enough to interrupt.
fn put_big_image(tug: &Tug, name: &str, bytes: u64) {
    let store = Store::open(&tug.store()).unwrap();
    let mut w = store.begin_blob().unwrap();
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut left = bytes;
    while left > 0 {
        for chunk in buf.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(buf.len() as u64) as usize;
        w.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    let layer = w.commit(None).unwrap();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer.digest.to_string()]},
    }))
    .unwrap();
    let cd = store.put_bytes(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": media::OCI_CONFIG, "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": media::OCI_LAYER_TAR, "digest": layer.digest.to_string(), "size": bytes}],
    }))
    .unwrap();
    let md = store.put_bytes(&manifest).unwrap();
    store
        .set_name(
            &name.parse().unwrap(),
            Descriptor::new(media::OCI_MANIFEST, md, manifest.len() as u64),
        )
        .unwrap();
}

/// Start `tug bundle create` of the big image into `out` and send `signal`
/// once its temp output exists; returns how it ended.
fn interrupt_create(tug: &Tug, out: &Path, signal: i32) -> Run {
    let child = tug
        .cmd()
        .args([
            "bundle",
            "create",
            "-o",
            out.to_str().unwrap(),
            "tugtest/big:v1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let parent = out.parent().unwrap();
    let prefix = format!(".{}.partial-", out.file_name().unwrap().to_string_lossy());
    let started = Instant::now();
    loop {
        let partial = fs::read_dir(parent).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&prefix)
        });
        if partial {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temp output appeared"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    child.wait_with_output().unwrap().into()
}

#[test]
fn an_interrupted_create_leaves_no_bundle() {
    let tug = Tug::new();
    put_big_image(&tug, "tugtest/big:v1", 384 << 20);
    let tmp = tempfile::tempdir().unwrap();

    // Ctrl-C: exit 130 and nothing left, not even the temp output.
    for out in [tmp.path().join("dir"), tmp.path().join("one.tar")] {
        let run = interrupt_create(&tug, &out, libc::SIGINT);
        assert_eq!(run.code, 130, "{}", run.stderr);
        assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    // Killed outright: no bundle under the name, and what is left does not verify.
    let out = tmp.path().join("killed");
    let run = interrupt_create(&tug, &out, libc::SIGKILL);
    assert_eq!(run.code, -1);
    assert!(!out.exists());
    for left in fs::read_dir(tmp.path()).unwrap() {
        let left = left.unwrap().path();
        let bad = tug
            .run(&["bundle", "verify", left.to_str().unwrap()])
            .fails();
        assert!(bad.stderr.contains("not a tug bundle"), "{}", bad.stderr);
    }
    // The re-run removes what the killed one left and writes the bundle.
    let left = fs::read_dir(tmp.path()).unwrap().count();
    assert!(left > 0, "the killed create left its temp output");
    tug.run(&[
        "bundle",
        "create",
        "-o",
        out.to_str().unwrap(),
        "tugtest/big:v1",
    ])
    .ok();
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["killed"]);
    tug.run(&["bundle", "verify", out.to_str().unwrap()]).ok();
}

#[test]
fn an_interrupted_load_leaves_the_store_as_it_was() {
    let tug = Tug::new();
    put_big_image(&tug, "tugtest/big:v1", 384 << 20);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    tug.run(&[
        "bundle",
        "create",
        "-o",
        dir.to_str().unwrap(),
        "tugtest/big:v1",
    ])
    .ok();

    // Ctrl-C once the images are being loaded (after the checks).
    let far = Tug::new();
    let mut child = far
        .cmd()
        .args(["bundle", "load", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("loading images.oci.tar") {
            // SAFETY: kill(2) on our own child's pid.
            assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains("cancelled"), "{seen}");
    let store = Store::open(&far.store()).unwrap();
    assert!(store.names().unwrap().is_empty());
    let blobs = far.store().join("blobs/sha256");
    let left = fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "blobs left in {}", blobs.display());
}
