//! The local image store: an OCI image layout (`oci-layout`, `index.json`
//! with `org.opencontainers.image.ref.name` annotations, `blobs/sha256/…`),
//! so skopeo and umoci read it as it is. Blobs are written to a temp file
//! beside the store, hashed while they stream, and renamed into place only
//! when their digest checks out: a crash or a bad download never leaves a
//! wrong blob under its name.

mod blob;
mod error;
mod lock;
#[cfg(test)]
mod tests;

pub use blob::BlobWriter;
pub use error::{MAX_DOCUMENT, StoreError};
pub use lock::WriteGuard;

use super::digest::Digest;
use super::oci::{ANNOTATION_REF_NAME, Descriptor, ImageConfig, Index, Manifest, Platform, media};
use super::reference::Reference;
use error::{Result, io_err};
use lock::FileLock;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

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

/// The store's scratch space: a hidden sibling of `root` (`.images.tmp`
/// beside `images`), on the same filesystem so finished blobs are renamed
/// into place, and out of sight in the data dir.
fn scratch_dir(root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    root.with_file_name(format!(".{name}.tmp"))
}

/// Best effort: drop what processes that are gone left in the scratch
/// space (`<what>-<pid>-<n>` entries of a pid no longer running), and the
/// visible `<root>.tmp` dir older versions of tug used, when it holds
/// nothing but such entries and lock files.
fn clear_stale_scratch(root: &Path, tmp: &Path) {
    let old = root.with_extension("tmp");
    if root.extension().is_none()
        && let Ok(entries) = fs::read_dir(&old)
    {
        let ours = entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".lock") || writer_of(&name).is_some()
        });
        if ours {
            let _ = fs::remove_dir_all(&old);
        }
    }
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let gone = writer_of(&name).is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists());
        if gone {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// The pid in a scratch entry's name (`blob-<pid>-…`, `<what>-<pid>-<n>`):
/// its first all-digit part after the first.
fn writer_of(name: &str) -> Option<u32> {
    name.split('-')
        .skip(1)
        .find(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()
}

impl Store {
    /// Open the store at `root`, creating an empty layout if there is none.
    pub fn open(root: &Path) -> Result<Store> {
        let blobs = root.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(io_err("create", &blobs))?;
        let tmp = scratch_dir(root);
        fs::create_dir_all(&tmp).map_err(io_err("create", &tmp))?;
        clear_stale_scratch(root, &tmp);
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
        Ok(BlobWriter::new(file, path, self.clone()))
    }

    /// Store a small blob from memory (manifests, configs).
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let d = Digest::of(bytes);
        if !self.has_blob(&d) {
            self.put_reader(bytes, Some(&d))?;
        }
        Ok(d)
    }

    /// Copy a blob from a reader, verifying it against `expected`.
    pub fn put_reader(&self, mut r: impl Read, expected: Option<&Digest>) -> Result<Descriptor> {
        let mut w = self.begin_blob()?;
        let path = w.temp_path().to_path_buf();
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
        let present: Vec<&Descriptor> = idx
            .manifests
            .iter()
            .filter(|d| d.platform.is_some() && self.has_blob(&d.digest))
            .collect();
        let found = present
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)));
        // Asked for nothing in particular: an image pulled for one other
        // platform only (arm64 hosts, an amd64 jump host) is that one.
        let only = match (platform, present.as_slice()) {
            (None, [one]) => Some(one),
            _ => None,
        };
        found
            .or(only)
            .map(|d| (*d).clone())
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

    /// Every blob some name in the store reaches: what [`Store::gc`] keeps,
    /// and what caches kept by blob digest may keep.
    pub fn live(&self) -> Result<BTreeSet<Digest>> {
        let mut keep = BTreeSet::new();
        for d in self.read_index()?.manifests {
            self.reachable(&d, &mut keep)?;
        }
        Ok(keep)
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
        let keep = self.live()?;
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
        WriteGuard::shared(&self.tmp.join("gc.lock"))
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
