use super::*;
use crate::image::digest::Digest;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use tar::{EntryType, Header};

/// Builds layer tars entry by entry, writing names raw so hostile paths
/// (`..`, absolute) get in, which `tar::Builder` itself would refuse.
struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Layer {
        Layer(tar::Builder::new(Vec::new()))
    }

    fn entry(
        mut self,
        path: &str,
        kind: EntryType,
        mode: u32,
        link: Option<&str>,
        data: &[u8],
    ) -> Layer {
        let mut h = Header::new_gnu();
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(l) = link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }
    fn file(self, p: &str, data: &str) -> Layer {
        self.entry(p, EntryType::Regular, 0o644, None, data.as_bytes())
    }
    fn dir(self, p: &str) -> Layer {
        self.entry(p, EntryType::Directory, 0o755, None, b"")
    }
    fn symlink(self, p: &str, to: &str) -> Layer {
        self.entry(p, EntryType::Symlink, 0o777, Some(to), b"")
    }
    fn hardlink(self, p: &str, to: &str) -> Layer {
        self.entry(p, EntryType::Link, 0o644, Some(to), b"")
    }
    fn tar(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn apply(target: &Path, blob: Vec<u8>, name: &str) -> Result<(), LayerError> {
    apply_layer(std::io::Cursor::new(blob), "", name, None, target)
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap()
}

#[test]
fn gzip_zstd_and_plain_layers_apply_with_modes_and_mtimes() {
    let tar = Layer::new()
        .dir("bin/")
        .entry("bin/tool", EntryType::Regular, 0o4755, None, b"#!/bin/sh\n")
        .file("etc/conf", "x=1")
        .tar();
    let blobs = [
        (tar.clone(), crate::image::oci::media::OCI_LAYER_TAR),
        (gzip(&tar), crate::image::oci::media::OCI_LAYER_GZIP),
        (
            zstd::encode_all(&tar[..], 3).unwrap(),
            crate::image::oci::media::OCI_LAYER_ZSTD,
        ),
    ];
    for (blob, media) in blobs {
        let t = tempfile::tempdir().unwrap();
        let id = Digest::of(&tar);
        apply_layer(std::io::Cursor::new(blob), media, "l", Some(&id), t.path()).unwrap();
        let m = fs::metadata(t.path().join("bin/tool")).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o4755, "{media}");
        assert_eq!(m.mtime(), 1_600_000_000);
        assert_eq!(
            fs::metadata(t.path().join("bin")).unwrap().mtime(),
            1_600_000_000
        );
        assert_eq!(read(t.path().join("etc/conf")), "x=1");
    }
}

#[test]
fn magic_bytes_beat_a_wrong_media_type() {
    assert_eq!(
        Compression::detect(
            &[0x1f, 0x8b, 8, 0],
            "application/vnd.oci.image.layer.v1.tar"
        ),
        Compression::Gzip
    );
    assert_eq!(
        Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd], ""),
        Compression::Zstd
    );
    assert_eq!(Compression::detect(b"", "x.tar+zstd"), Compression::Zstd);
    assert_eq!(
        Compression::detect(b"etc/", "x.tar+gzip"),
        Compression::None
    );
}

#[test]
fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
    let t = tempfile::tempdir().unwrap();
    let lower = Layer::new()
        .file("a/x", "1")
        .file("a/y", "2")
        .file("b/z", "3")
        .file("b/sub/deep", "4")
        .tar();
    apply(t.path(), lower, "lower").unwrap();
    let upper = Layer::new()
        .file("a/.wh.x", "")
        .file("b/new", "5")
        .file("b/sub/fresh", "6")
        .file("b/.wh..wh..opq", "")
        .file("c/keep", "7")
        .file("c/.wh.keep", "")
        .file("a/.wh.missing", "")
        .tar();
    apply(t.path(), upper, "upper").unwrap();
    let p = t.path();
    assert!(!p.join("a/x").exists());
    assert_eq!(read(p.join("a/y")), "2");
    assert!(!p.join("b/z").exists(), "opaque dir keeps a lower file");
    assert!(
        !p.join("b/sub/deep").exists(),
        "opaque dir keeps a lower file in a dir rewritten above"
    );
    assert_eq!(read(p.join("b/new")), "5");
    assert_eq!(read(p.join("b/sub/fresh")), "6");
    assert_eq!(
        read(p.join("c/keep")),
        "7",
        "a whiteout hid its own layer's file"
    );
    assert!(!p.join("a/.wh.x").exists() && !p.join("b/.wh..wh..opq").exists());
}

#[test]
fn a_whiteout_removes_a_whole_directory() {
    let t = tempfile::tempdir().unwrap();
    apply(t.path(), Layer::new().file("d/e/f", "1").tar(), "l1").unwrap();
    apply(t.path(), Layer::new().file(".wh.d", "").tar(), "l2").unwrap();
    assert!(!t.path().join("d").exists());
}

#[test]
fn hard_links_share_an_inode_and_may_not_point_outside() {
    let t = tempfile::tempdir().unwrap();
    apply(
        t.path(),
        Layer::new().file("a", "data").hardlink("b", "a").tar(),
        "l",
    )
    .unwrap();
    let (a, b) = (
        fs::metadata(t.path().join("a")).unwrap(),
        fs::metadata(t.path().join("b")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino());
    for bad in ["../../etc/passwd", "/etc/passwd"] {
        let e = apply(
            t.path(),
            Layer::new().hardlink("c", bad).tar(),
            "sha256:bad",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("sha256:bad") && msg.contains("\"c\"") && msg.contains("outside"),
            "{msg}"
        );
    }
    assert!(!t.path().join("c").exists());
}

#[test]
fn dot_dot_and_absolute_entries_are_refused_with_layer_and_entry() {
    let outside = tempfile::tempdir().unwrap();
    let t = tempfile::tempdir().unwrap();
    let escape = format!(
        "../{}/pwned",
        outside.path().file_name().unwrap().to_string_lossy()
    );
    let e = apply(t.path(), Layer::new().file(&escape, "x").tar(), "sha256:l1").unwrap_err();
    assert!(matches!(e, LayerError::Refused { .. }), "{e}");
    assert!(
        e.to_string().contains("sha256:l1") && e.to_string().contains(&escape),
        "{e}"
    );
    let abs = format!("{}/pwned", outside.path().display());
    let e = apply(t.path(), Layer::new().file(&abs, "x").tar(), "l2").unwrap_err();
    assert!(e.to_string().contains("absolute path"), "{e}");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn symlinks_are_kept_but_never_written_through() {
    let outside = tempfile::tempdir().unwrap();
    let o = outside.path().display().to_string();
    let t = tempfile::tempdir().unwrap();
    // A symlink from an earlier layer, then a file "inside" it.
    apply(t.path(), Layer::new().symlink("evil", &o).tar(), "l1").unwrap();
    assert_eq!(
        fs::read_link(t.path().join("evil"))
            .unwrap()
            .to_string_lossy(),
        o
    );
    let e = apply(
        t.path(),
        Layer::new().file("evil/pwned", "x").tar(),
        "sha256:l2",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("sha256:l2") && e.to_string().contains("evil/pwned"),
        "{e}"
    );
    assert!(e.to_string().contains("symlink"), "{e}");
    // The same within one layer, and a hard link through the symlink.
    let same = Layer::new().symlink("s", &o).file("s/pwned", "x").tar();
    assert!(apply(t.path(), same, "l3").is_err());
    let via = Layer::new().hardlink("h", "evil/secret").tar();
    assert!(apply(t.path(), via, "l4").is_err());
    // Whiteouts through a symlink may not delete outside files.
    fs::write(outside.path().join("victim"), "v").unwrap();
    assert!(
        apply(
            t.path(),
            Layer::new().file("evil/.wh.victim", "").tar(),
            "l5"
        )
        .is_err()
    );
    assert!(
        apply(
            t.path(),
            Layer::new().file("evil/.wh..wh..opq", "").tar(),
            "l6"
        )
        .is_err()
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 1);
}

#[test]
fn a_file_replaces_a_symlink_instead_of_following_it() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    fs::write(&victim, "safe").unwrap();
    let t = tempfile::tempdir().unwrap();
    apply(
        t.path(),
        Layer::new()
            .symlink("f", &victim.display().to_string())
            .tar(),
        "l1",
    )
    .unwrap();
    apply(t.path(), Layer::new().file("f", "new").tar(), "l2").unwrap();
    assert_eq!(read(&victim), "safe");
    assert_eq!(read(t.path().join("f")), "new");
    assert!(
        !fs::symlink_metadata(t.path().join("f"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_wrong_diff_id_and_a_truncated_blob_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", "1").tar();
    let wrong = Digest::of(b"other");
    let e = apply_layer(
        std::io::Cursor::new(gzip(&tar)),
        "",
        "sha256:x",
        Some(&wrong),
        t.path(),
    )
    .unwrap_err();
    assert!(matches!(e, LayerError::DiffIdMismatch { .. }), "{e}");
    assert!(e.to_string().contains("sha256:x"), "{e}");
    let big = Layer::new().file("big", &"z".repeat(100_000)).tar();
    let mut gz = gzip(&big);
    gz.truncate(gz.len() / 2);
    let e = apply(t.path(), gz, "sha256:t").unwrap_err();
    assert!(matches!(e, LayerError::Read { .. }), "{e}");
}

#[test]
fn a_directory_replaces_a_file_and_a_file_replaces_a_directory() {
    let t = tempfile::tempdir().unwrap();
    apply(
        t.path(),
        Layer::new().file("x", "1").file("y/z", "2").tar(),
        "l1",
    )
    .unwrap();
    apply(
        t.path(),
        Layer::new()
            .dir("x/")
            .file("x/in", "3")
            .file("y", "4")
            .tar(),
        "l2",
    )
    .unwrap();
    assert_eq!(read(t.path().join("x/in")), "3");
    assert_eq!(read(t.path().join("y")), "4");
}

#[test]
fn a_layer_cut_inside_a_file_is_refused_but_a_missing_trailer_is_not() {
    let tar = Layer::new()
        .file("a", "1")
        .file("b", &"q".repeat(2000))
        .tar();
    // Cut right after b's data: no padding, no end blocks (as umoci 0.4.7 writes).
    let end_of_data = 512 * 3 + 2000;
    let t = tempfile::tempdir().unwrap();
    apply(t.path(), tar[..end_of_data].to_vec(), "l1").unwrap();
    assert_eq!(read(t.path().join("b")).len(), 2000);
    let e = apply(t.path(), tar[..end_of_data - 10].to_vec(), "sha256:cut").unwrap_err();
    let msg = format!("{e}: {}", std::error::Error::source(&e).unwrap());
    assert!(
        msg.contains("sha256:cut") && msg.contains("1990 of 2000"),
        "{msg}"
    );
}
