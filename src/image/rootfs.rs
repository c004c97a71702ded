//! The unpacked rootfs of an image, built once per manifest digest under
//! the rootfs cache and reused. A tree is assembled in a temp directory
//! beside its final place and renamed in only when every layer applied, so
//! an interrupted unpack never leaves something that looks complete.
//! Layers decompress concurrently (each on its own thread, a few ahead of
//! the one being written); they are applied strictly in order.

use super::digest::Digest;
use super::layer::{self, DecodingLayer, LayerError};
use super::store::{Store, StoreError, StoredImage};
use std::collections::VecDeque;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const TEMP_PREFIX: &str = ".tmp-";

/// What can go wrong unpacking an image.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A blob or document could not be read from the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer could not be applied.
    #[error("cannot unpack {image}")]
    Layer {
        /// The image.
        image: String,
        /// Which layer and entry failed.
        #[source]
        source: LayerError,
    },
    /// A filesystem operation on the cache failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What tug was doing.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The config lists a different number of diff_ids than the manifest has layers.
    #[error(
        "image {image}: the manifest has {layers} layers but the config lists {diff_ids} diff_ids"
    )]
    LayerCount {
        /// The image.
        image: String,
        /// Layers in the manifest.
        layers: usize,
        /// diff_ids in the config.
        diff_ids: usize,
    },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> RootfsError + 'a {
    move |source| RootfsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The rootfs cache directory: `<hex of manifest digest>/` per image.
#[derive(Debug, Clone)]
pub struct RootfsCache {
    dir: PathBuf,
}

impl RootfsCache {
    /// A cache rooted at `dir` (normally `Paths::rootfs_cache()`).
    pub fn new(dir: PathBuf) -> RootfsCache {
        RootfsCache { dir }
    }

    /// Where the tree of an image with this manifest digest lives when complete.
    pub fn path_for(&self, manifest: &Digest) -> PathBuf {
        self.dir.join(manifest.hex())
    }

    /// The unpacked tree of `img`: reused when present, built otherwise.
    pub fn unpack(&self, store: &Store, img: &StoredImage) -> Result<PathBuf, RootfsError> {
        let done = self.path_for(&img.manifest_digest);
        if done.is_dir() {
            return Ok(done);
        }
        self.prepare()?;
        let tmp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}",
            img.manifest_digest.hex(),
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir(&tmp).map_err(io_err("create", &tmp))?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
            .map_err(io_err("chmod", &tmp))?;
        if let Err(e) = apply_all(store, img, &tmp) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if let Err(e) = fs::rename(&tmp, &done) {
            let _ = fs::remove_dir_all(&tmp);
            // Someone else finished the same tree first: use theirs.
            if !done.is_dir() {
                return Err(io_err("move into place", &done)(e));
            }
        }
        Ok(done)
    }

    /// Remove trees of images no name in the store reaches, and leftovers of
    /// interrupted unpacks. Returns how many trees were removed.
    pub fn prune(&self, store: &Store) -> Result<usize, RootfsError> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        let keep = store.live()?;
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = match format!("sha256:{name}").parse::<Digest>() {
                Ok(d) => !keep.contains(&d),
                Err(_) => name.starts_with(TEMP_PREFIX) && !owner_alive(&name),
            };
            if stale {
                fs::remove_dir_all(entry.path()).map_err(io_err("remove", &entry.path()))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Create the cache dir, private to its owner (trees hold setuid files),
    /// and clear what interrupted unpacks left behind.
    fn prepare(&self) -> Result<(), RootfsError> {
        fs::create_dir_all(&self.dir).map_err(io_err("create", &self.dir))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("chmod", &self.dir))?;
        for entry in fs::read_dir(&self.dir)
            .map_err(io_err("list", &self.dir))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) && !owner_alive(&name) {
                fs::remove_dir_all(entry.path()).map_err(io_err("remove", &entry.path()))?;
            }
        }
        Ok(())
    }
}

/// Whether the process that named a temp dir `.tmp-<hex>-<pid>` still runs.
fn owner_alive(name: &str) -> bool {
    let Some(pid) = name.rsplit('-').next().and_then(|p| p.parse::<i32>().ok()) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Apply every layer of `img` onto `target`, in order, with up to a few
/// layers decompressing ahead of the one being written.
fn apply_all(store: &Store, img: &StoredImage, target: &Path) -> Result<(), RootfsError> {
    let name = img.reference.to_string();
    let layers = &img.manifest.layers;
    let diff_ids = &img.config.rootfs.diff_ids;
    if !diff_ids.is_empty() && diff_ids.len() != layers.len() {
        return Err(RootfsError::LayerCount {
            image: name,
            layers: layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    let ahead = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    let mut started: VecDeque<DecodingLayer> = VecDeque::new();
    let mut next = 0;
    for (i, desc) in layers.iter().enumerate() {
        while next < layers.len() && next < i + ahead {
            let blob = store.open_blob(&layers[next].digest)?;
            started.push_back(DecodingLayer::spawn(blob, &layers[next].media_type));
            next += 1;
        }
        let decoding = started.pop_front().expect("layer decoder started");
        layer::apply_decoded(decoding, &desc.digest.to_string(), diff_ids.get(i), target).map_err(
            |source| RootfsError::Layer {
                image: name.clone(),
                source,
            },
        )?;
    }
    Ok(())
}
