//! Assemble a built image: the base image's layers as they are, one
//! deterministic layer with what COPY added, `registry/` in a layer of its
//! own (the discovered images, taken from an already-filled cache store,
//! plus any `registry/` the context copied), and the composed config. The
//! name is set last, so a failed build leaves nothing named.

use super::base_registry::{self, BaseRegistryError};
use super::config::{self, NewLayers};
use super::discover::{self, DiscoverError, Discovery, Found, Options};
use super::kubefile::{Base, Kubefile};
use super::layer_writer::{self, Layer, LayerError, Packing};
use super::plan::{CopyPlan, Entry, PlanError};
use super::registry_dir::{self, RegistryDirError};
use crate::image::oci::{Descriptor, Manifest, Platform, media};
use crate::image::store::{StoreError, StoredImage};
use crate::image::{Digest, Reference, Store};
use std::path::{Path, PathBuf};

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A COPY cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Image discovery failed.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// A layer could not be written.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The registry tree could not be written.
    #[error(transparent)]
    Registry(#[from] RegistryDirError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The base image's layers could not be read.
    #[error(transparent)]
    BaseRegistry(#[from] BaseRegistryError),
    /// Images must be pulled first.
    #[error("{} not in the build cache: {}", if .0.len() == 1 { "this image is" } else { "these images are" }, .0.join("; "))]
    NotCached(Vec<String>),
    /// Staging files failed.
    #[error("staging {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A context read and scanned, before anything is written to the store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Files for the COPY layer (everything but `registry/`).
    pub files: CopyPlan,
    /// `registry/` files the context itself copied.
    pub registry_files: CopyPlan,
    /// Images the cluster needs.
    pub discovery: Discovery,
}

impl Prepared {
    /// Drop the images `base`'s registry already serves (they need no pull
    /// and no second copy); returns them.
    pub fn drop_held_by(
        &mut self,
        store: &Store,
        base: &StoredImage,
    ) -> Result<Vec<Found>, BuildError> {
        if self.discovery.images.is_empty() {
            return Ok(Vec::new());
        }
        let held = base_registry::held(store, base)?;
        let (gone, keep) = std::mem::take(&mut self.discovery.images)
            .into_iter()
            .partition(|f| held.contains(&f.reference));
        self.discovery.images = keep;
        Ok(gone)
    }

    /// The discovered references, sorted.
    pub fn images(&self) -> Vec<Reference> {
        self.discovery
            .images
            .iter()
            .map(|f| f.reference.clone())
            .collect()
    }
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The name it got.
    pub reference: Reference,
    /// The manifest descriptor (what the name points at).
    pub manifest: Descriptor,
    /// The config digest (the image id).
    pub config: Digest,
    /// The COPY layer, if COPY added anything.
    pub copy_layer: Option<Layer>,
    /// The `registry/` layer, if there were images or registry files.
    pub registry_layer: Option<Layer>,
}

/// A scratch dir removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(store: &Store, what: &str) -> Result<Scratch, BuildError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = store.tmp_dir().join(format!(
            "{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).map_err(|source| BuildError::Io {
            path: p.clone(),
            source,
        })?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Rootfs dirs discovery looks at.
const SCANNED: [&str; 3] = ["manifests/", "charts/", "images/shim/"];

/// Lay the scanned parts of the planned rootfs out in `dir` (hard links,
/// or copies across filesystems) so discovery sees the image as it will be.
fn stage(plan: &CopyPlan, dir: &Path) -> Result<(), BuildError> {
    for (path, entry) in plan
        .entries()
        .filter(|(p, _)| SCANNED.iter().any(|s| p.starts_with(s)))
    {
        let dest = dir.join(path);
        let fail = |source| BuildError::Io {
            path: dest.clone(),
            source,
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        match entry {
            Entry::Dir { .. } => std::fs::create_dir_all(&dest).map_err(fail)?,
            Entry::File { source, .. } => {
                if std::fs::hard_link(source, &dest).is_err() {
                    std::fs::copy(source, &dest).map_err(fail)?;
                }
            }
            Entry::Symlink { target } => std::os::unix::fs::symlink(target, &dest).map_err(fail)?,
        }
    }
    Ok(())
}

/// Plan the COPYs of `kubefile` against `context` and discover the images
/// the result needs. Writes nothing to the store but scratch files.
pub fn prepare(
    store: &Store,
    context: &Path,
    kubefile: &Kubefile,
    opts: &Options,
) -> Result<Prepared, BuildError> {
    let mut files = CopyPlan::from_steps(context, &kubefile.path, &kubefile.steps)?;
    let registry_files = files.split_off("registry");
    let scratch = Scratch::new(store, "build-scan")?;
    stage(&files, &scratch.0)?;
    let discovery = discover::discover_with(&scratch.0, opts)?;
    Ok(Prepared {
        files,
        registry_files,
        discovery,
    })
}

/// Images of `prepared` the cache does not hold for every one of
/// `platforms` (this machine's when empty): what must be pulled (into
/// `cache`) before [`assemble`].
pub fn missing_from<'a>(
    cache: &Store,
    prepared: &'a Prepared,
    platforms: &[Platform],
) -> Vec<&'a Found> {
    let current = [Platform::current()];
    let wanted = if platforms.is_empty() {
        &current[..]
    } else {
        platforms
    };
    prepared
        .discovery
        .images
        .iter()
        .filter(|f| !wanted.iter().all(|p| cached_for(cache, &f.reference, p)))
        .collect()
}

/// Whether `cache` names `r` with a complete image for `platform` (a lone
/// manifest counts only when its config says that platform).
fn cached_for(cache: &Store, r: &Reference, platform: &Platform) -> bool {
    let Ok(img) = cache.image(r, Some(platform)) else {
        return false;
    };
    let have = Platform {
        architecture: img.config.architecture.clone(),
        os: img.config.os.clone(),
        variant: img.config.variant.clone(),
        extra: Default::default(),
    };
    platform.matches(&have)
        && std::iter::once(&img.manifest.config)
            .chain(&img.manifest.layers)
            .all(|d| cache.has_blob(&d.digest))
}

/// `reference (from file:line, …)`, for messages about missing images.
pub fn describe(found: &Found) -> String {
    let from: Vec<String> = found.origins.iter().map(|o| o.to_string()).collect();
    format!("{} (from {})", found.reference, from.join(", "))
}

/// Build the image into `store` and name it `name`. `base` is the FROM
/// image, already in `store` (None for scratch); every discovered image
/// must already be in `cache`. Holds the store's writer guard throughout,
/// so a concurrent gc cannot take the new blobs before the name is set;
/// on failure the blobs this build added and no name reaches are removed.
pub fn assemble(
    store: &Store,
    cache: &Store,
    name: &Reference,
    kubefile: &Kubefile,
    prepared: &Prepared,
    base: Option<&StoredImage>,
    platform: &Platform,
) -> Result<Built, BuildError> {
    let _writing = store.writing()?;
    let mut added = Vec::new();
    let result = write_image(
        store, cache, name, kubefile, prepared, base, platform, &mut added,
    );
    if result.is_err() {
        rollback(store, &added);
    }
    result
}

/// Remove the blobs of `added` no name in `store` reaches.
fn rollback(store: &Store, added: &[Digest]) {
    let mut keep = std::collections::BTreeSet::new();
    if let Ok(names) = store.names() {
        for (_, d) in names {
            let _ = store.reachable(&d, &mut keep);
        }
    }
    for d in added.iter().filter(|d| !keep.contains(*d)) {
        let _ = std::fs::remove_file(store.blob_path(d));
    }
}

/// Put a blob into `store`, remembering it in `added` if it was new.
fn put_new(store: &Store, bytes: &[u8], added: &mut Vec<Digest>) -> Result<Digest, BuildError> {
    let d = Digest::of(bytes);
    let new = !store.has_blob(&d);
    store.put_bytes(bytes)?;
    if new {
        added.push(d.clone());
    }
    Ok(d)
}

/// Write a layer, remembering it in `added` if it was new.
fn layer_new(
    store: &Store,
    plan: &CopyPlan,
    packing: Packing,
    added: &mut Vec<Digest>,
) -> Result<Option<Layer>, BuildError> {
    let layer = layer_writer::write_layer(store, plan, packing)?;
    if let Some(l) = &layer {
        added.push(l.descriptor.digest.clone());
    }
    Ok(layer)
}

#[allow(clippy::too_many_arguments)]
fn write_image(
    store: &Store,
    cache: &Store,
    name: &Reference,
    kubefile: &Kubefile,
    prepared: &Prepared,
    base: Option<&StoredImage>,
    platform: &Platform,
    added: &mut Vec<Digest>,
) -> Result<Built, BuildError> {
    let missing = missing_from(cache, prepared, std::slice::from_ref(platform));
    if !missing.is_empty() {
        return Err(BuildError::NotCached(
            missing.into_iter().map(describe).collect(),
        ));
    }
    let mut layers: Vec<Descriptor> = base.map(|b| b.manifest.layers.clone()).unwrap_or_default();
    if let Some(l) = layers.iter().find(|l| !store.has_blob(&l.digest)) {
        return Err(StoreError::MissingBlob(l.digest.clone()).into());
    }
    let copy_layer = layer_new(store, &prepared.files, Packing::Gzip, added)?;
    let images = prepared.images();
    let registry_layer = {
        let scratch = Scratch::new(store, "build-registry")?;
        registry_dir::write_images(cache, &images, &scratch.0)?;
        let mut plan = prepared.registry_files.clone();
        if !images.is_empty() {
            plan.add_dir_contents(&scratch.0, "registry")?;
        }
        // Staged dirs and hard-linked blobs carry this machine's umask.
        plan.set_modes(0o755, 0o644);
        layer_new(store, &plan, Packing::Plain, added)?
    };
    layers.extend(
        copy_layer
            .iter()
            .chain(&registry_layer)
            .map(|l| l.descriptor.clone()),
    );
    let scratch_rootfs = matches!(kubefile.base, Base::Scratch)
        && matches!(prepared.files.get("bin/kubeadm"), Some(Entry::File { .. }));
    let new = NewLayers {
        copy: copy_layer.as_ref().map(|l| l.diff_id.clone()),
        registry: registry_layer
            .as_ref()
            .map(|l| (l.diff_id.clone(), images.len())),
    };
    let cfg = config::compose(
        base.map(|b| &b.config),
        kubefile,
        platform,
        scratch_rootfs,
        &new,
    );
    let cfg_bytes = serde_json::to_vec(&cfg).expect("config serialises");
    let cfg_digest = put_new(store, &cfg_bytes, added)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_string()),
        config: Descriptor::new(
            media::OCI_CONFIG,
            cfg_digest.clone(),
            cfg_bytes.len() as u64,
        ),
        layers,
        annotations: Default::default(),
        extra: Default::default(),
    };
    let m_bytes = serde_json::to_vec(&manifest).expect("manifest serialises");
    let m_digest = put_new(store, &m_bytes, added)?;
    let desc = Descriptor::new(media::OCI_MANIFEST, m_digest, m_bytes.len() as u64);
    store.set_name(name, desc.clone())?;
    Ok(Built {
        reference: name.clone(),
        manifest: desc,
        config: cfg_digest,
        copy_layer,
        registry_layer,
    })
}
