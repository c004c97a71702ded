//! The store-time check: when an image enters the store (build, pull,
//! load) every layer is scanned once, a few at once, and the layers are
//! checked together ([`crate::image::vet`]) so an image that could reach
//! outside its tree on a host is refused before any install sees it.

use super::{ScanError, Scanned, cache_name, scan_cached};
use crate::image::digest::Digest;
use crate::image::vet::VetError;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the store-time check of an image says besides refusing it.
#[derive(Debug, Default)]
pub struct Vetted {
    /// Layers scanned now (the others were scanned before).
    pub scanned: usize,
    /// `layer: entries` whose setuid/setgid bits the hosts will drop.
    pub setuid: Vec<String>,
}

/// Scan every layer of a cluster image (one with a `sealos.io.type`
/// label) not yet in `cache`, a few at once, as the image enters the store
/// (build, pull, load), and check them together ([`vet_layers`]): an image
/// that could reach outside its tree on a host is refused, and a first
/// install starts sending at once, like a copy of an already unpacked tree
/// would. Other images are checked when an install uses them.
pub fn prescan(
    store: &crate::image::Store,
    cache: &Path,
    image: &crate::image::store::StoredImage,
) -> Result<Vetted, ScanError> {
    if !super::is_cluster_image(&image.config) {
        return Ok(Vetted::default());
    }
    let layers = &image.manifest.layers;
    let todo = layers
        .iter()
        .filter(|d| !cache.join(cache_name(&d.digest)).is_file())
        .count();
    let scans = scan_all(store, cache, layers)?;
    let pairs: Vec<_> = layers.iter().map(|d| &d.digest).zip(&scans).collect();
    vet_layers(&image.config.rootfs.diff_ids, "this image", &pairs)?;
    let setuid = pairs
        .iter()
        .filter(|(_, s)| !s.facts.setuid.is_empty())
        .map(|(d, s)| format!("layer {d}: {}", s.facts.setuid.join(", ")))
        .collect();
    Ok(Vetted {
        scanned: todo,
        setuid,
    })
}

/// Every layer's scan (from `cache` when there), in manifest order. A few
/// run at once, each worker taking the largest layer left, so one big layer
/// does not hold the others back.
fn scan_all(
    store: &crate::image::Store,
    cache: &Path,
    layers: &[crate::image::oci::Descriptor],
) -> Result<Vec<Scanned>, ScanError> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].size));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Scanned, ScanError>>>> =
        layers.iter().map(|_| Mutex::new(None)).collect();
    let width = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..width.min(layers.len()) {
            s.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let d = &layers[i];
                    let path = store.blob_path(&d.digest);
                    let scanned = scan_cached(Some(cache), &d.digest, &path, &d.media_type);
                    if scanned.is_err() {
                        next.store(order.len(), Ordering::Relaxed);
                    }
                    *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(scanned);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(layers.len());
    for slot in slots {
        let taken = slot.into_inner().unwrap_or_else(|p| p.into_inner());
        match taken {
            Some(scanned) => out.push(scanned?),
            // Only after another layer failed; its error was returned first.
            None => continue,
        }
    }
    Ok(out)
}

/// An image's layers, checked on their own: each layer's diff_id against
/// the config's, and no layer reaching through a lower layer's symlink.
pub fn vet_layers(
    diff_ids: &[Digest],
    image: &str,
    layers: &[(&Digest, &Scanned)],
) -> Result<(), VetError> {
    crate::image::vet::check_diff_ids(diff_ids, layers.iter().map(|(d, s)| (*d, &s.facts)))?;
    crate::image::vet::compose(layers.iter().map(|(d, s)| tree_layer(image, d, s, None)))
}

/// A scanned layer as it lands in a tree (`only`: just that top dir).
pub fn tree_layer<'a>(
    image: &'a str,
    digest: &'a Digest,
    s: &'a Scanned,
    only: Option<&'a str>,
) -> crate::image::vet::TreeLayer<'a> {
    crate::image::vet::TreeLayer {
        image,
        layer: digest,
        facts: &s.facts,
        whiteouts: &s.content.whiteouts,
        opaque: &s.content.opaque_dirs,
        only,
    }
}
