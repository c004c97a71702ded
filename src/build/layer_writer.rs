//! Write a [`CopyPlan`] as a deterministic tar layer (gzip, or plain for
//! already-compressed content) straight into the store: entries sorted by
//! path, mtime 0, uid/gid 0, no user names, modes and symlinks kept, a fixed
//! gzip header. The same plan always gives the
//! same bytes, so the same context builds the same image digest. Nothing
//! is held in memory: files stream from the context through tar and gzip
//! into the blob, hashed on the way (diff id before gzip, digest after).

use super::plan::{CopyPlan, Entry};
use crate::image::digest::Hasher;
use crate::image::oci::{Descriptor, media};
use crate::image::store::StoreError;
use crate::image::{Digest, Store};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{self, Write};

/// A layer written into the store.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The blob (OCI gzip or plain tar layer media type).
    pub descriptor: Descriptor,
    /// Digest of the uncompressed tar (the config's diff id).
    pub diff_id: Digest,
}

/// Why a layer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// Reading a context file or writing the blob failed.
    #[error("layer entry {entry}: {source}")]
    Io {
        /// The rootfs path being written.
        entry: String,
        /// The OS error.
        source: io::Error,
    },
    /// The store refused the blob.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Passes bytes through while hashing and counting them.
struct HashWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append(b: &mut tar::Builder<impl Write>, path: &str, entry: &Entry) -> io::Result<()> {
    match entry {
        Entry::Dir { mode } => {
            let mut h = header(tar::EntryType::Directory, *mode, 0);
            b.append_data(&mut h, format!("{path}/"), io::empty())
        }
        Entry::File { source, mode } => {
            let f = File::open(source)?;
            let len = f.metadata()?.len();
            let mut h = header(tar::EntryType::Regular, *mode, len);
            b.append_data(&mut h, path, io::Read::take(f, len))
        }
        Entry::Symlink { target } => {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0);
            b.append_link(&mut h, path, target)
        }
    }
}

/// How a layer's tar is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// gzip: for files as they come from a build context.
    Gzip,
    /// Plain tar: for content that is compressed already (the `registry/`
    /// tree is blobs of compressed layers), where gzip costs CPU and saves
    /// nothing.
    Plain,
}

/// Tar `plan` (gzipped or not) into a new blob of `store`. Returns None for
/// an empty plan (no layer at all rather than an empty one).
pub fn write_layer(
    store: &Store,
    plan: &CopyPlan,
    packing: Packing,
) -> Result<Option<Layer>, LayerError> {
    if plan.is_empty() {
        return Ok(None);
    }
    let fail = |source| LayerError::Io {
        entry: "(end of archive)".into(),
        source,
    };
    let blob = store.begin_blob()?;
    let (blob, diff_id, media_type) = match packing {
        Packing::Gzip => {
            let (gz, diff_id) = write_tar(plan, GzEncoder::new(blob, Compression::new(6)))?;
            (gz.finish().map_err(fail)?, diff_id, media::OCI_LAYER_GZIP)
        }
        Packing::Plain => {
            let (blob, diff_id) = write_tar(plan, blob)?;
            (blob, diff_id, media::OCI_LAYER_TAR)
        }
    };
    let mut descriptor = blob.commit(None)?;
    descriptor.media_type = media_type.to_string();
    Ok(Some(Layer {
        descriptor,
        diff_id,
    }))
}

/// Write the deterministic tar of `plan` into `out`; returns `out` and the
/// tar's digest (the diff id).
fn write_tar<W: Write>(plan: &CopyPlan, out: W) -> Result<(W, Digest), LayerError> {
    let mut tar = tar::Builder::new(HashWriter {
        inner: out,
        hasher: Hasher::new(),
    });
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, entry) in plan.entries() {
        if let Err(source) = append(&mut tar, path, entry) {
            let entry = match entry {
                Entry::File { source: s, .. } => format!("{path} (from {})", s.display()),
                _ => path.to_string(),
            };
            return Err(LayerError::Io { entry, source });
        }
    }
    let hw = tar.into_inner().map_err(|source| LayerError::Io {
        entry: "(end of archive)".into(),
        source,
    })?;
    Ok((hw.inner, hw.hasher.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn context(dir: &std::path::Path) {
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("etc/sub")).unwrap();
        std::fs::write(dir.join("bin/kubeadm"), "#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(
            dir.join("bin/kubeadm"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        std::fs::write(dir.join("etc/sub/a.conf"), "a").unwrap();
        std::os::unix::fs::symlink("../bin/kubeadm", dir.join("etc/link")).unwrap();
    }

    #[test]
    fn the_same_context_gives_the_same_layer_and_modes_and_links_survive() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("store")).unwrap();
        let ctx = tmp.path().join("ctx");
        context(&ctx);
        let mut plan = CopyPlan::default();
        plan.add_dir_contents(&ctx, "").unwrap();
        let a = write_layer(&store, &plan, Packing::Gzip).unwrap().unwrap();
        // Touch every file: mtimes must not matter.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(ctx.join("etc/sub/a.conf"), "a").unwrap();
        let b = write_layer(&store, &plan, Packing::Gzip).unwrap().unwrap();
        assert_eq!(a.descriptor.digest, b.descriptor.digest);
        assert_eq!(a.diff_id, b.diff_id);
        assert_ne!(a.descriptor.digest, a.diff_id);

        let f = store.open_blob(&a.descriptor.digest).unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(
                (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                (0, 0, 0)
            );
            let p = e.path().unwrap().to_string_lossy().into_owned();
            match p.as_str() {
                "bin/kubeadm" => assert_eq!(h.mode().unwrap(), 0o750),
                "etc/link" => assert_eq!(
                    e.link_name().unwrap().unwrap().to_string_lossy(),
                    "../bin/kubeadm"
                ),
                _ => {}
            }
            seen.push(p);
        }
        assert_eq!(
            seen,
            [
                "bin/",
                "bin/kubeadm",
                "etc/",
                "etc/link",
                "etc/sub/",
                "etc/sub/a.conf"
            ]
        );
        std::fs::write(ctx.join("etc/sub/a.conf"), "b").unwrap();
        let c = write_layer(&store, &plan, Packing::Gzip).unwrap().unwrap();
        assert_ne!(a.diff_id, c.diff_id);
    }
}
