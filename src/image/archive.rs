//! OCI archives: `tug save` writes a tar of an OCI image layout (what
//! skopeo calls `oci-archive:`), streamed blob by blob; `tug load` reads
//! such archives, `docker save` tars and plain layout directories. Loading
//! verifies every blob against its digest and names nothing until every
//! image is complete, so a truncated or corrupt archive leaves the store as
//! it was.

mod load;

pub use load::{load, load_from};

use super::digest::Digest;
use super::oci::{ANNOTATION_REF_NAME, Descriptor, Index, Manifest, media};
use super::reference::Reference;
use super::store::{Store, StoreError};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What can go wrong saving or loading an archive. Each names the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A filesystem operation failed.
    #[error("{}: cannot {action}", path.display())]
    Io {
        /// The archive (or file) concerned.
        path: PathBuf,
        /// What tug was doing.
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The tar stream itself is damaged.
    #[error("{}: cannot read the archive (truncated or corrupt?)", archive.display())]
    Read {
        /// The archive.
        archive: PathBuf,
        /// What the reader said.
        #[source]
        source: io::Error,
    },
    /// A blob in the archive failed its check (digest, size, JSON).
    #[error("{}: entry {entry}", archive.display())]
    Blob {
        /// The archive.
        archive: PathBuf,
        /// The entry or blob concerned.
        entry: String,
        /// What is wrong with it.
        #[source]
        source: StoreError,
    },
    /// The archive's structure is wrong (no index, unnamed image, missing blob…).
    #[error("{}: {reason}", archive.display())]
    Invalid {
        /// The archive.
        archive: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Write `images` (names and their index.json descriptors) into an OCI
/// archive at `out`, through a temp file renamed into place when complete.
pub fn save(
    store: &Store,
    images: &[(Reference, Descriptor)],
    out: &Path,
) -> Result<(), ArchiveError> {
    let mut blobs = BTreeSet::new();
    for (_, d) in images {
        collect(store, d, &mut blobs)?;
    }
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = out.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = write_archive(store, images, &blobs, &tmp).and_then(|()| {
        fs::rename(&tmp, out).map_err(|source| ArchiveError::Io {
            path: out.to_path_buf(),
            action: "move the archive into place",
            source,
        })
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_archive(
    store: &Store,
    images: &[(Reference, Descriptor)],
    blobs: &BTreeSet<Digest>,
    path: &Path,
) -> Result<(), ArchiveError> {
    let io_err = |action| {
        move |source| ArchiveError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let file = File::create(path).map_err(io_err("create"))?;
    let w = write_tar(
        store,
        images,
        blobs,
        BufWriter::with_capacity(1 << 20, file),
        path,
    )?;
    let file = w
        .into_inner()
        .map_err(|e| io_err("write")(e.into_error()))?;
    file.sync_all().map_err(io_err("sync"))
}

/// Write `images` as an OCI archive into any writer (a bundle streams it
/// into its own tar or through a hasher); `name` is what errors call it.
/// Returns the writer, flushed.
pub fn write_to<W: Write>(
    store: &Store,
    images: &[(Reference, Descriptor)],
    out: W,
    name: &Path,
) -> Result<W, ArchiveError> {
    let mut blobs = BTreeSet::new();
    for (_, d) in images {
        collect(store, d, &mut blobs)?;
    }
    write_tar(store, images, &blobs, out, name)
}

fn write_tar<W: Write>(
    store: &Store,
    images: &[(Reference, Descriptor)],
    blobs: &BTreeSet<Digest>,
    out: W,
    path: &Path,
) -> Result<W, ArchiveError> {
    let io_err = |action| {
        move |source| ArchiveError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    let small = |tar: &mut tar::Builder<_>, name: &str, body: &[u8]| {
        tar.append_data(&mut header(body.len() as u64), name, body)
    };
    small(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io_err("write"))?;
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        tar.append_data(&mut h, dir, io::empty())
            .map_err(io_err("write"))?;
    }
    for d in blobs {
        let f = store.open_blob(d)?;
        let len = f.metadata().map_err(io_err("read a blob for"))?.len();
        let name = format!("blobs/sha256/{}", d.hex());
        tar.append_data(&mut header(len), &name, f)
            .map_err(io_err("write"))?;
    }
    let mut index = Index::default();
    for (r, d) in images {
        let mut d = d.clone();
        d.annotations
            .insert(ANNOTATION_REF_NAME.to_string(), r.to_string());
        index.manifests.push(d);
    }
    let body = serde_json::to_vec(&index).expect("index serialises");
    small(&mut tar, "index.json", &body).map_err(io_err("write"))?;
    let mut w = tar.into_inner().map_err(io_err("write"))?;
    w.flush().map_err(io_err("write"))?;
    Ok(w)
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o644);
    h.set_size(size);
    h
}

/// Every blob an image needs. Manifests of other platforms that the store
/// does not hold (a single-platform pull of a multi-arch image) are skipped;
/// anything else missing is an error.
fn collect(store: &Store, d: &Descriptor, into: &mut BTreeSet<Digest>) -> Result<(), StoreError> {
    if !store.has_blob(&d.digest) {
        return Err(StoreError::MissingBlob(d.digest.clone()));
    }
    into.insert(d.digest.clone());
    if media::is_index(&d.media_type) {
        let idx: Index = store.read_json(&d.digest, "index")?;
        for child in idx.manifests.iter().filter(|c| store.has_blob(&c.digest)) {
            collect(store, child, into)?;
        }
    } else if media::is_manifest(&d.media_type) {
        let m: Manifest = store.read_json(&d.digest, "manifest")?;
        for b in std::iter::once(&m.config).chain(&m.layers) {
            if !store.has_blob(&b.digest) {
                return Err(StoreError::MissingBlob(b.digest.clone()));
            }
            into.insert(b.digest.clone());
        }
    } else {
        return Err(StoreError::UnsupportedMediaType {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
        });
    }
    Ok(())
}
