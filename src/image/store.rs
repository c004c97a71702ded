//! The local image store: an OCI image layout (`oci-layout`, `index.json`
//! with `org.opencontainers.image.ref.name` annotations, `blobs/sha256/…`),
//! so skopeo and umoci read it as it is. Blobs are written to a temp file
//! beside the store, hashed while they stream, and renamed into place only
//! when their digest checks out: a crash or a bad download never leaves a
//! wrong blob under its name.

use super::digest::{Digest, Hasher};
use super::oci::{ANNOTATION_REF_NAME, Descriptor, ImageConfig, Index, Manifest, Platform, media};
use super::reference::Reference;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Largest JSON document (manifest, index, config) tug reads into memory.
pub const MAX_DOCUMENT: u64 = 16 << 20;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What tug was doing.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// No image of that name in the store.
    #[error("image {0} is not in the local store (try `tug pull {0}` or `tug images`)")]
    NotFound(String),
    /// A blob's content does not match its digest.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest it should have had.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// A blob a document refers to is missing.
    #[error("blob {0} is missing from the store")]
    MissingBlob(Digest),
    /// A JSON document could not be parsed.
    #[error("{what} {digest} is not valid JSON: {source}")]
    BadDocument {
        /// Which document kind.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A document is too large to be a manifest or config.
    #[error("{what} {digest} is {size} bytes, more than a manifest or config may be")]
    TooLarge {
        /// Which document kind.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// An index has no manifest for the wanted platform.
    #[error("{reference} has no image for platform {platform} (it has: {available})")]
    NoPlatform {
        /// The image.
        reference: String,
        /// What was asked.
        platform: String,
        /// What the index offers.
        available: String,
    },
    /// Unexpected media type.
    #[error("{digest} has media type {media_type}, which is not an image manifest or index")]
    UnsupportedMediaType {
        /// The descriptor's digest.
        digest: Digest,
        /// Its media type.
        media_type: String,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A handle on the store directory. Cheap to clone; all state is on disk.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    tmp: PathBuf,
}

/// An image resolved from the store: its manifest and config, parsed.
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// The name it was found under.
    pub reference: Reference,
    /// The descriptor in index.json (a manifest or an index).
    pub top: Descriptor,
    /// Digest of the single-platform manifest.
    pub manifest_digest: Digest,
    /// The manifest.
    pub manifest: Manifest,
    /// The config.
    pub config: ImageConfig,
}

impl StoredImage {
    /// The image id, as `tug images` shows it: the config digest.
    pub fn id(&self) -> &Digest {
        &self.manifest.config.digest
    }

    /// Total compressed size of config and layers.
    pub fn size(&self) -> u64 {
        self.manifest.config.size + self.manifest.layers.iter().map(|l| l.size).sum::<u64>()
    }
}

/// A blob being written: bytes are hashed and counted as they go by.
pub struct BlobWriter {
    file: File,
    path: PathBuf,
    hasher: Hasher,
    written: u64,
    store: Store,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Verify the digest (when one is expected) and move the blob into place.
    /// On a mismatch the temp file is removed and nothing enters the store.
    pub fn commit(self, expected: Option<&Digest>) -> Result<Descriptor> {
        let BlobWriter {
            file,
            path,
            hasher,
            written,
            store,
        } = self;
        file.sync_all().map_err(io_err("sync", &path))?;
        drop(file);
        let actual = hasher.finish();
        if let Some(want) = expected.filter(|w| **w != actual) {
            let _ = fs::remove_file(&path);
            return Err(StoreError::DigestMismatch {
                expected: want.clone(),
                actual,
            });
        }
        let dest = store.blob_path(&actual);
        fs::rename(&path, &dest).map_err(io_err("move blob into", &dest))?;
        Ok(Descriptor::new("application/octet-stream", actual, written))
    }

    /// Give up: remove the temp file.
    pub fn abort(self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// An flock held on one of the store's lock files; released on drop.
struct FileLock(File);

impl FileLock {
    fn acquire(path: &Path, exclusive: bool) -> Result<FileLock> {
        use std::os::fd::AsRawFd;
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err("open", path))?;
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            return Err(io_err("lock", path)(io::Error::last_os_error()));
        }
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on an fd we own; unlocking cannot violate memory safety.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Held by anything that adds blobs before it names them (pull, load,
/// build): while any is held, [`Store::gc`] waits, so it never removes a
/// blob that is about to be named.
pub struct WriteGuard {
    _lock: FileLock,
}

impl Store {
    /// Open the store at `root`, creating an empty layout if there is none.
    pub fn open(root: &Path) -> Result<Store> {
        let blobs = root.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(io_err("create", &blobs))?;
        let tmp = root.with_extension("tmp");
        fs::create_dir_all(&tmp).map_err(io_err("create", &tmp))?;
        let layout = root.join("oci-layout");
        if !layout.exists() {
            write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let index = root.join("index.json");
        if !index.exists() {
            let body = serde_json::to_vec(&Index::default()).expect("index serialises");
            write_atomic(&index, &body)?;
        }
        Ok(Store {
            root: root.to_path_buf(),
            tmp,
        })
    }

    /// The layout directory (what `oci:<dir>:<name>` names).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Scratch space on the same filesystem (temp blobs, staging).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Where a blob lives (whether or not it is there).
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs").join(d.algorithm()).join(d.hex())
    }

    /// Whether a blob is present.
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    /// Start writing a blob.
    pub fn begin_blob(&self) -> Result<BlobWriter> {
        let path = self
            .tmp
            .join(format!("blob-{}-{}", std::process::id(), unique_suffix()));
        let file = File::create(&path).map_err(io_err("create", &path))?;
        Ok(BlobWriter {
            file,
            path,
            hasher: Hasher::new(),
            written: 0,
            store: self.clone(),
        })
    }

    /// Store a small blob from memory (manifests, configs).
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let d = Digest::of(bytes);
        if !self.has_blob(&d) {
            let mut w = self.begin_blob()?;
            w.write_all(bytes)
                .map_err(io_err("write", &w.path.clone()))?;
            w.commit(Some(&d))?;
        }
        Ok(d)
    }

    /// Copy a blob from a reader, verifying it against `expected`.
    pub fn put_reader(&self, mut r: impl Read, expected: Option<&Digest>) -> Result<Descriptor> {
        let mut w = self.begin_blob()?;
        let path = w.path.clone();
        if let Err(e) = io::copy(&mut r, &mut w) {
            w.abort();
            return Err(io_err("write", &path)(e));
        }
        w.commit(expected)
    }

    /// Open a blob for streaming.
    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        let p = self.blob_path(d);
        File::open(&p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::MissingBlob(d.clone()),
            _ => io_err("open", &p)(e),
        })
    }

    /// Read a small JSON document blob, checking its digest.
    pub fn read_document(&self, d: &Digest, what: &'static str) -> Result<Vec<u8>> {
        let f = self.open_blob(d)?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_DOCUMENT {
            return Err(StoreError::TooLarge {
                what,
                digest: d.clone(),
                size,
            });
        }
        let mut buf = Vec::with_capacity(size as usize);
        f.take(MAX_DOCUMENT)
            .read_to_end(&mut buf)
            .map_err(io_err("read", &self.blob_path(d)))?;
        let actual = Digest::of(&buf);
        if actual != *d {
            return Err(StoreError::DigestMismatch {
                expected: d.clone(),
                actual,
            });
        }
        Ok(buf)
    }

    /// Read and parse a JSON document blob.
    pub fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        d: &Digest,
        what: &'static str,
    ) -> Result<T> {
        let bytes = self.read_document(d, what)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::BadDocument {
            what,
            digest: d.clone(),
            source,
        })
    }

    /// The layout's index.json.
    pub fn read_index(&self) -> Result<Index> {
        let p = self.root.join("index.json");
        let bytes = fs::read(&p).map_err(io_err("read", &p))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
            action: "parse",
            path: p,
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }

    /// Every named entry: (name, descriptor). Entries without a parseable
    /// name (written by other tools) are skipped.
    pub fn names(&self) -> Result<Vec<(Reference, Descriptor)>> {
        Ok(self
            .read_index()?
            .manifests
            .into_iter()
            .filter_map(|d| {
                let r = d.annotations.get(ANNOTATION_REF_NAME)?.parse().ok()?;
                Some((r, d))
            })
            .collect())
    }

    /// The descriptor a name points at. A digest-only reference matches any
    /// entry of that repository with that digest.
    pub fn resolve(&self, r: &Reference) -> Result<Descriptor> {
        let names = self.names()?;
        let hit = names.iter().find(|(n, _)| n == r).or_else(|| {
            let d = r.digest()?;
            names
                .iter()
                .find(|(n, desc)| n.name() == r.name() && desc.digest == *d)
        });
        hit.map(|(_, d)| d.clone())
            .ok_or_else(|| StoreError::NotFound(r.to_string()))
    }

    /// Point a name at a descriptor (replacing what it pointed at before).
    pub fn set_name(&self, r: &Reference, mut desc: Descriptor) -> Result<()> {
        desc.annotations
            .insert(ANNOTATION_REF_NAME.to_string(), r.to_string());
        self.update_index(|idx| {
            idx.manifests.retain(|d| {
                d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) != Some(&r.to_string())
            });
            idx.manifests.push(desc);
        })
    }

    /// Remove a name; returns what it pointed at.
    pub fn remove_name(&self, r: &Reference) -> Result<Descriptor> {
        let found = self.resolve(r)?;
        let name = found
            .annotations
            .get(ANNOTATION_REF_NAME)
            .cloned()
            .unwrap_or_default();
        self.update_index(|idx| {
            idx.manifests
                .retain(|d| d.annotations.get(ANNOTATION_REF_NAME) != Some(&name));
        })?;
        Ok(found)
    }

    /// Load an image: follow an index to the wanted platform (default: this
    /// machine's), then parse manifest and config.
    pub fn image(&self, r: &Reference, platform: Option<&Platform>) -> Result<StoredImage> {
        let top = self.resolve(r)?;
        let manifest_desc = self.select_manifest(r, &top, platform)?;
        let manifest: Manifest = self.read_json(&manifest_desc.digest, "manifest")?;
        let config: ImageConfig = self.read_json(&manifest.config.digest, "config")?;
        Ok(StoredImage {
            reference: r.clone(),
            top,
            manifest_digest: manifest_desc.digest,
            manifest,
            config,
        })
    }

    /// For an index descriptor pick the entry for `platform`; a manifest
    /// descriptor is returned as it is.
    pub fn select_manifest(
        &self,
        r: &Reference,
        top: &Descriptor,
        platform: Option<&Platform>,
    ) -> Result<Descriptor> {
        if media::is_manifest(&top.media_type) {
            return Ok(top.clone());
        }
        if !media::is_index(&top.media_type) {
            return Err(StoreError::UnsupportedMediaType {
                digest: top.digest.clone(),
                media_type: top.media_type.clone(),
            });
        }
        let idx: Index = self.read_json(&top.digest, "index")?;
        let want = platform.cloned().unwrap_or_else(Platform::current);
        idx.manifests
            .iter()
            .find(|d| {
                d.platform.as_ref().is_some_and(|p| want.matches(p)) && self.has_blob(&d.digest)
            })
            .cloned()
            .ok_or_else(|| StoreError::NoPlatform {
                reference: r.to_string(),
                platform: want.to_string(),
                available: idx
                    .manifests
                    .iter()
                    .filter(|d| self.has_blob(&d.digest))
                    .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Every blob reachable from a descriptor (itself, and for manifests and
    /// indexes what they reference). Missing children are not an error here.
    pub fn reachable(&self, top: &Descriptor, into: &mut BTreeSet<Digest>) -> Result<()> {
        if !into.insert(top.digest.clone()) || !self.has_blob(&top.digest) {
            return Ok(());
        }
        if media::is_index(&top.media_type) {
            let idx: Index = self.read_json(&top.digest, "index")?;
            for d in &idx.manifests {
                self.reachable(d, into)?;
            }
        } else if media::is_manifest(&top.media_type) {
            let m: Manifest = self.read_json(&top.digest, "manifest")?;
            into.insert(m.config.digest.clone());
            into.extend(m.layers.iter().map(|l| l.digest.clone()));
        }
        Ok(())
    }

    /// Remove every blob no name reaches. Returns (blobs removed, bytes freed).
    /// Waits for every [`Store::writing`] guard to be released first.
    pub fn gc(&self) -> Result<(usize, u64)> {
        let _writers_done = FileLock::acquire(&self.tmp.join("gc.lock"), true)?;
        let _lock = self.lock()?;
        let mut keep = BTreeSet::new();
        for d in self.read_index()?.manifests {
            self.reachable(&d, &mut keep)?;
        }
        let dir = self.root.join("blobs").join("sha256");
        let mut removed = (0, 0);
        for entry in fs::read_dir(&dir).map_err(io_err("list", &dir))? {
            let entry = entry.map_err(io_err("list", &dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let keep_it = format!("sha256:{name}")
                .parse::<Digest>()
                .map(|d| keep.contains(&d))
                .unwrap_or(true);
            if !keep_it {
                let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                fs::remove_file(entry.path()).map_err(io_err("remove", &entry.path()))?;
                removed.0 += 1;
                removed.1 += len;
            }
        }
        Ok(removed)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.tmp.join("index.lock"), true)
    }

    /// Keep [`Store::gc`] away until the guard is dropped. Take it before
    /// writing the first blob of something that will be named at the end.
    pub fn writing(&self) -> Result<WriteGuard> {
        FileLock::acquire(&self.tmp.join("gc.lock"), false).map(|l| WriteGuard { _lock: l })
    }

    fn update_index(&self, change: impl FnOnce(&mut Index)) -> Result<()> {
        let _lock = self.lock()?;
        let mut idx = self.read_index()?;
        change(&mut idx);
        let body = serde_json::to_vec_pretty(&idx).expect("index serialises");
        write_atomic(&self.root.join("index.json"), &body)
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Replace one of the layout's files (index.json, oci-layout) atomically;
/// readable by all, like the rest of the layout.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::fsutil::write_atomic(path, bytes, 0o644).map_err(io_err("replace", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_blob_never_enters_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("images")).unwrap();
        let want = Digest::of(b"good");
        let e = s.put_reader(&b"evil"[..], Some(&want)).unwrap_err();
        assert!(matches!(e, StoreError::DigestMismatch { .. }), "{e}");
        assert!(!s.has_blob(&want));
        assert_eq!(fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
        let d = s.put_reader(&b"good"[..], Some(&want)).unwrap();
        assert_eq!(d.digest, want);
        assert!(s.has_blob(&want));
    }

    #[test]
    fn names_point_at_descriptors_and_gc_keeps_only_reachable_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("images")).unwrap();
        let layer = s.put_bytes(b"layer").unwrap();
        let config = s.put_bytes(b"{}").unwrap();
        let orphan = s.put_bytes(b"orphan").unwrap();
        let m = serde_json::json!({
            "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": config.to_string(), "size": 2},
            "layers": [{"mediaType": media::OCI_LAYER_TAR, "digest": layer.to_string(), "size": 5}]
        });
        let mb = serde_json::to_vec(&m).unwrap();
        let md = s.put_bytes(&mb).unwrap();
        let r: Reference = "example.com/a/b:v1".parse().unwrap();
        s.set_name(
            &r,
            Descriptor::new(media::OCI_MANIFEST, md.clone(), mb.len() as u64),
        )
        .unwrap();
        assert_eq!(s.resolve(&r).unwrap().digest, md);
        assert_eq!(s.gc().unwrap().0, 1);
        assert!(!s.has_blob(&orphan) && s.has_blob(&layer));
        s.remove_name(&r).unwrap();
        assert!(matches!(s.resolve(&r), Err(StoreError::NotFound(_))));
        assert_eq!(s.gc().unwrap().0, 3);
    }

    #[test]
    fn gc_waits_for_writers_so_a_blob_about_to_be_named_survives() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("images")).unwrap();
        let guard = s.writing().unwrap();
        let blob = s.put_bytes(b"not named yet").unwrap();
        let gc = {
            let s = s.clone();
            std::thread::spawn(move || s.gc().unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(s.has_blob(&blob), "gc ran while a writer held the store");
        let r: Reference = "example.com/w:v1".parse().unwrap();
        s.set_name(
            &r,
            Descriptor::new("application/octet-stream", blob.clone(), 13),
        )
        .unwrap();
        drop(guard);
        gc.join().unwrap();
        assert!(s.has_blob(&blob));
    }
}
