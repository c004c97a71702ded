//! Checks across layers: the layers that land in one tree on a host (an
//! image's own, a patch over a rootfs, application registry data merged
//! into the rootfs), applied in order, never delete, write or hard-link
//! through a symlink a lower layer left; and each layer's tar is what its
//! image's config says it is.

use super::{LayerFacts, VetError, ancestors};
use crate::image::digest::Digest;
use std::collections::BTreeMap;

/// One layer as it lands in a tree.
pub struct TreeLayer<'a> {
    /// The image it belongs to, for messages.
    pub image: &'a str,
    /// The layer's digest.
    pub layer: &'a Digest,
    /// What its walk found.
    pub facts: &'a LayerFacts,
    /// Paths it whites out (applied on the host before its entries).
    pub whiteouts: &'a [String],
    /// Dirs it makes opaque.
    pub opaque: &'a [String],
    /// Only this top-level dir of the layer lands in the tree (application
    /// registry data merged into the rootfs); `None` for all of it.
    pub only: Option<&'a str>,
}

/// Whether `path` is `top` or under it.
fn under(path: &str, top: &str) -> bool {
    path == top || path.strip_prefix(top).is_some_and(|r| r.starts_with('/'))
}

/// Check `layers`, in the order they are applied to one tree.
pub fn compose<'a>(layers: impl IntoIterator<Item = TreeLayer<'a>>) -> Result<(), VetError> {
    // Symlink path → who made it.
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    for l in layers {
        let scope = |p: &str| l.only.is_none_or(|top| under(p, top));
        let refuse = |entry: &str, how, link: &str, made_by: &String| VetError::Through {
            layer: l.layer.to_string(),
            entry: entry.to_string(),
            how,
            link: link.to_string(),
            made_by: made_by.clone(),
        };
        let deleted = l.whiteouts.iter().map(|w| (w, false));
        let emptied = l.opaque.iter().map(|d| (d, true));
        for (path, opaque) in deleted.chain(emptied).filter(|(p, _)| scope(p)) {
            let own = opaque.then_some(path.as_str());
            for dir in ancestors(path).chain(own) {
                if let Some(by) = links.get(dir) {
                    return Err(refuse(path, "delete", dir, by));
                }
            }
        }
        for w in l.whiteouts.iter().filter(|p| scope(p)) {
            links.retain(|p, _| !under(p, w));
        }
        for d in l.opaque.iter().filter(|p| scope(p)) {
            links.retain(|p, _| p == d || !under(p, d));
        }
        if !links.is_empty() {
            for (dir, entry) in l.facts.through.iter().filter(|(p, _)| scope(p)) {
                if let Some(by) = links.get(dir) {
                    return Err(refuse(entry, "write", dir, by));
                }
            }
        }
        let made_by = format!("layer {} of {}", l.layer, l.image);
        for s in l.facts.symlinks.iter().filter(|p| scope(p)) {
            links.insert(s.clone(), made_by.clone());
        }
    }
    Ok(())
}

/// Check each layer's diff_id (from its walk) against the config's list.
pub fn check_diff_ids<'a>(
    config: &[Digest],
    layers: impl ExactSizeIterator<Item = (&'a Digest, &'a LayerFacts)>,
) -> Result<(), VetError> {
    if config.len() != layers.len() {
        return Err(VetError::DiffIdCount {
            diff_ids: config.len(),
            layers: layers.len(),
        });
    }
    for (want, (layer, facts)) in config.iter().zip(layers) {
        if facts.diff_id.as_ref() != Some(want) {
            return Err(VetError::DiffId {
                layer: layer.to_string(),
                expected: want.to_string(),
                actual: facts
                    .diff_id
                    .as_ref()
                    .map_or_else(|| "nothing known".into(), Digest::to_string),
            });
        }
    }
    Ok(())
}
