//! Which images a base image's `registry/` already serves, read from the
//! tag and revision links in its layers, so a build FROM it neither pulls
//! nor stores them again. Layers are streamed, never unpacked to disk.

use crate::image::layer::Compression;
use crate::image::store::{StoreError, StoredImage};
use crate::image::{Reference, Store};
use std::collections::BTreeSet;
use std::io::BufRead;

const REPOS: &str = "registry/docker/registry/v2/repositories/";

/// Why the base layers could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaseRegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A layer is not a readable tar.
    #[error("base layer {digest}: {source}")]
    Layer {
        /// The layer's digest.
        digest: String,
        /// The read error.
        source: std::io::Error,
    },
}

/// `repository:tag` and `repository@digest` keys the base registry holds.
#[derive(Debug, Clone, Default)]
pub struct Held(BTreeSet<String>);

impl Held {
    /// Whether the base registry serves this reference.
    pub fn contains(&self, r: &Reference) -> bool {
        let by_tag = r
            .tag()
            .is_some_and(|t| self.0.contains(&format!("{}:{t}", r.repository())));
        let by_digest = r
            .digest()
            .is_some_and(|d| self.0.contains(&format!("{}@{d}", r.repository())));
        by_tag || by_digest
    }
}

/// The key a layer entry path stands for, if it is a tag or revision link.
fn key(path: &str) -> Option<String> {
    let rest = path
        .trim_start_matches("./")
        .trim_start_matches('/')
        .strip_prefix(REPOS)?;
    let (repo, m) = rest.split_once("/_manifests/")?;
    if let Some(tag) = m
        .strip_prefix("tags/")
        .and_then(|t| t.strip_suffix("/current/link"))
    {
        return Some(format!("{repo}:{tag}"));
    }
    let hex = m.strip_prefix("revisions/sha256/")?.strip_suffix("/link")?;
    Some(format!("{repo}@sha256:{hex}"))
}

/// Read every layer of `base` for registry links.
pub fn held(store: &Store, base: &StoredImage) -> Result<Held, BaseRegistryError> {
    let mut out = BTreeSet::new();
    for layer in &base.manifest.layers {
        let fail = |source| BaseRegistryError::Layer {
            digest: layer.digest.to_string(),
            source,
        };
        let mut blob = std::io::BufReader::new(store.open_blob(&layer.digest)?);
        let head = blob.fill_buf().map_err(fail)?;
        let reader = Compression::detect(head, &layer.media_type)
            .decoder(blob)
            .map_err(fail)?;
        let mut ar = tar::Archive::new(reader);
        for e in ar.entries().map_err(fail)? {
            let e = e.map_err(fail)?;
            let path = e.path().map_err(fail)?;
            if let Some(k) = key(&path.to_string_lossy()) {
                out.insert(k);
            }
        }
    }
    Ok(Held(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_paths_become_keys() {
        let k = super::key;
        let base = "registry/docker/registry/v2/repositories/library/nginx/_manifests/";
        assert_eq!(
            k(&format!("{base}tags/1.25/current/link")).unwrap(),
            "library/nginx:1.25"
        );
        assert_eq!(
            k(&format!("./{base}revisions/sha256/abc/link")).unwrap(),
            "library/nginx@sha256:abc"
        );
        assert_eq!(k(&format!("{base}tags/1.25/index/sha256/abc/link")), None);
        assert_eq!(k("etc/registry.yml"), None);
    }
}
