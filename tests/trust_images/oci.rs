//! OCI layouts written by the tests: tar entries of every kind, gzip
//! layers, a config with honest (or lying) diff_ids, pushed with skopeo;
//! and the marker dir under /tmp that hostile images aim at.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use tar::{EntryType, Header};
use tug::image::Digest;

use super::support::registry::Registry;
use super::support::sh;

/// One tar entry to write.
pub enum E<'a> {
    File(&'a str, &'a str, u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Char(&'a str),
}

pub fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(0);
        let (path, kind, link, data): (&str, _, Option<&str>, &[u8]) = match e {
            E::File(p, d, mode) => {
                h.set_mode(*mode);
                h.set_size(d.len() as u64);
                (p, EntryType::Regular, None, d.as_bytes())
            }
            E::Dir(p) => {
                h.set_mode(0o755);
                (p, EntryType::Directory, None, b"")
            }
            E::Symlink(p, t) => (p, EntryType::Symlink, Some(t), b""),
            E::Hardlink(p, t) => (p, EntryType::Link, Some(t), b""),
            E::Char(p) => {
                h.set_mode(0o666);
                h.set_device_major(1).unwrap();
                h.set_device_minor(1).unwrap();
                (p, EntryType::Char, None, b"")
            }
        };
        h.set_entry_type(kind);
        if let Some(t) = link {
            h.set_link_name(t).unwrap();
        }
        h.set_path(path).unwrap();
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes).unwrap();
    gz.finish().unwrap()
}

pub fn put_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let d = Digest::of(bytes);
    let dir = layout.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(d.hex()), bytes).unwrap();
    (d.to_string(), bytes.len())
}

/// An OCI layout at `layout` holding one image tagged `v1`: these layers
/// (uncompressed tars, gzipped here), a config with `labels` and `env`,
/// and the honest diff_ids unless `diff_ids` says otherwise.
pub fn layout(
    layout: &Path,
    layers: &[Vec<u8>],
    labels: serde_json::Value,
    env: &[&str],
    diff_ids: Option<Vec<String>>,
) {
    let honest: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
    let descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let (d, n) = put_blob(layout, &gz(l));
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
        })
        .collect();
    let config = serde_json::json!({
        "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
        "os": "linux",
        "config": {"Labels": labels, "Env": env},
        "rootfs": {"type": "layers", "diff_ids": diff_ids.unwrap_or(honest)},
    });
    let (cd, cn) = put_blob(layout, &serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
        "layers": descs,
    }))
    .unwrap();
    let (md, mn) = put_blob(layout, &manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
}

/// Write the image, push it with skopeo, return its reference.
pub fn push(reg: &Registry, work: &Path, name: &str, build: impl FnOnce(&Path)) -> String {
    let dir = work.join(name.replace('/', "_"));
    build(&dir);
    let dest = reg.reference(&format!("{name}:v1"));
    sh(Command::new("skopeo")
        .args(["copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:v1", dir.display()))
        .arg(format!("docker://{dest}")));
    dest
}

pub fn patch() -> serde_json::Value {
    serde_json::json!({"sealos.io.type": "patch"})
}

/// A marker dir under /tmp holding one file; `untouched` checks it.
pub struct Marker(tempfile::TempDir);

impl Marker {
    pub fn new() -> Marker {
        let dir = tempfile::Builder::new()
            .prefix("tug-trust-")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(dir.path().join("f"), "keep").unwrap();
        Marker(dir)
    }

    pub fn path(&self) -> String {
        self.0.path().display().to_string()
    }

    #[track_caller]
    pub fn untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["f"], "the marker dir was written");
        let kept = std::fs::read_to_string(self.0.path().join("f")).unwrap();
        assert_eq!(kept, "keep");
    }
}

/// [`layout`] with a CMD (run by `sh -c` on master0).
pub fn layout_with_cmd(d: &Path, layers: &[Vec<u8>], labels: serde_json::Value, cmd: &str) {
    layout(d, layers, labels, &[], None);
    // Rewrite the config with the CMD and re-point the manifest and index.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("index.json")).unwrap()).unwrap();
    let blob = |digest: &str| {
        d.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let md = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&md)).unwrap()).unwrap();
    let cd = manifest["config"]["digest"].as_str().unwrap().to_string();
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&cd)).unwrap()).unwrap();
    config["config"]["Cmd"] = serde_json::json!(["/bin/sh", "-c", cmd]);
    let (cd, cn) = put_blob(d, &serde_json::to_vec(&config).unwrap());
    manifest["config"]["digest"] = cd.into();
    manifest["config"]["size"] = cn.into();
    let (md, mn) = put_blob(d, &serde_json::to_vec(&manifest).unwrap());
    let mut index = index;
    index["manifests"][0]["digest"] = md.into();
    index["manifests"][0]["size"] = mn.into();
    std::fs::write(d.join("index.json"), index.to_string()).unwrap();
}
