//! Building test images: with umoci (real tool), and by hand when the test
//! needs content no tool would write (hostile entries, docker save tars).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use tug::image::Digest;

use super::support::sh;

/// A layer tar written entry by entry with raw names, so `..` and absolute
/// paths get in.
pub struct RawTar(tar::Builder<Vec<u8>>);

impl RawTar {
    pub fn new() -> RawTar {
        RawTar(tar::Builder::new(Vec::new()))
    }

    pub fn entry(
        mut self,
        path: &str,
        kind: tar::EntryType,
        link: Option<&str>,
        data: &[u8],
    ) -> RawTar {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(l) = link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }

    pub fn file(self, path: &str, data: &str) -> RawTar {
        self.entry(path, tar::EntryType::Regular, None, data.as_bytes())
    }

    pub fn symlink(self, path: &str, to: &str) -> RawTar {
        self.entry(path, tar::EntryType::Symlink, Some(to), b"")
    }

    pub fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn put_blob(layout: &Path, bytes: &[u8]) -> Digest {
    let d = Digest::of(bytes);
    fs::write(layout.join("blobs/sha256").join(d.hex()), bytes).unwrap();
    d
}

fn config_json(diff_ids: &[Digest], labels: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
        "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// An OCI layout at `dir` with one image named `name`, its layers gzipped.
/// Returns the layer digests.
pub fn hand_layout(dir: &Path, name: &str, layers: &[Vec<u8>]) -> Vec<Digest> {
    fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let diff_ids: Vec<Digest> = layers.iter().map(|l| Digest::of(l)).collect();
    let mut descs = Vec::new();
    let mut digests = Vec::new();
    for l in layers {
        let gz = gzip(l);
        let d = put_blob(dir, &gz);
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": gz.len()}));
        digests.push(d);
    }
    let config = config_json(&diff_ids, serde_json::json!({"sealos.io.type": "rootfs"}));
    let cd = put_blob(dir, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let md = put_blob(dir, &manifest);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": name}}]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    digests
}

/// Tar up a directory (an OCI layout) as an oci-archive.
pub fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(fs::File::create(out).unwrap());
    b.append_dir_all(".", dir).unwrap();
    b.finish().unwrap();
}

/// A `docker save` tar: manifest.json, `<hex>.json` config, `<id>/layer.tar`
/// (uncompressed), plus a second layer entry that is a symlink to the first
/// as old docker versions write for repeated layers.
pub fn docker_save(out: &Path, repo_tag: &str, layer: &[u8]) {
    let diff = Digest::of(layer);
    let config = config_json(
        &[diff.clone(), diff.clone()],
        serde_json::json!({"version": "v1.25.0"}),
    );
    let cd = Digest::of(&config);
    let manifest = serde_json::json!([{
        "Config": format!("{}.json", cd.hex()),
        "RepoTags": [repo_tag],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"],
    }]);
    let mut b = tar::Builder::new(fs::File::create(out).unwrap());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data).unwrap();
    };
    add(&format!("{}.json", cd.hex()), &config);
    add("aaa/layer.tar", layer);
    add("aaa/VERSION", b"1.0");
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "bbb/layer.tar", "../aaa/layer.tar")
        .unwrap();
    b.finish().unwrap();
}

/// An umoci layout at `dir/lay` whose image `tag` gets the given layers:
/// each step is a list of umoci insert arguments.
pub fn umoci_image(dir: &Path, tag: &str, steps: &[Vec<String>], config: &[&str]) -> PathBuf {
    let lay = dir.join("lay");
    let image = format!("{}:{tag}", lay.display());
    if !lay.exists() {
        sh(Command::new("umoci").args(["init", "--layout"]).arg(&lay));
    }
    sh(Command::new("umoci").args(["new", "--image", &image]));
    for s in steps {
        sh(Command::new("umoci")
            .args(["insert", "--no-history", "--image", &image])
            .args(s));
    }
    if !config.is_empty() {
        sh(Command::new("umoci")
            .args(["config", "--image", &image])
            .args(config));
    }
    lay
}

/// `skopeo copy oci:<lay>:<tag> oci-archive:<out>:<name>`.
pub fn to_archive(lay: &Path, tag: &str, out: &Path, name: &str) {
    sh(Command::new("skopeo").args([
        "copy",
        &format!("oci:{}:{tag}", lay.display()),
        &format!("oci-archive:{}:{name}", out.display()),
    ]));
}

/// Turn the single image of a `hand_layout` into a multi-arch index whose
/// other platform (arm64 or amd64) is named but not present, as after a
/// single-platform pull. Returns the manifest digest.
pub fn wrap_in_index(dir: &Path, name: &str) -> String {
    wrap_in_index_as(dir, name, false)
}

/// As [`wrap_in_index`], with the present manifest for the platform that is
/// not this machine's when `foreign` (an image pulled for other hosts).
pub fn wrap_in_index_as(dir: &Path, name: &str, foreign: bool) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut present = index["manifests"][0].clone();
    present.as_object_mut().unwrap().remove("annotations");
    let mut arch = std::env::consts::ARCH
        .replace("x86_64", "amd64")
        .replace("aarch64", "arm64");
    let mut other = if arch == "amd64" { "arm64" } else { "amd64" }.to_string();
    if foreign {
        std::mem::swap(&mut arch, &mut other);
    }
    present["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
    let phantom = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": Digest::of(b"not here"), "size": 8,
        "platform": {"os": "linux", "architecture": other},
    });
    let idx = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [phantom, present.clone()],
    }))
    .unwrap();
    let d = put_blob(dir, &idx);
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": idx.len(),
        "annotations": {"org.opencontainers.image.ref.name": name}}]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    present["digest"].as_str().unwrap().to_string()
}
