//! Decides, from a layer's tar headers alone, whether the hosts may unpack
//! it: they run GNU tar as root, which writes through any symlink already
//! in the tree and makes whatever device node a header asks for. So before
//! any host sees a byte the jump host walks each layer once ([`Walker`],
//! fed by the installer's layer scan) and refuses an entry that would
//! write, delete or hard-link through a symlink an earlier entry made, or
//! make a device node or fifo; it notes setuid/setgid files (the hosts drop
//! those bits) and hashes the tar for the config's diff_id ([`Hashing`]).
//! What a layer leaves behind ([`LayerFacts`]) is kept, so the layers of an
//! image, and the images an install puts in one tree, are checked together
//! ([`compose`]) without reading the blobs again.

mod compose;

pub use compose::{TreeLayer, check_diff_ids, compose};

use super::digest::{Digest, Hasher};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use tar::EntryType;

/// Why a layer, or a set of layers, may not be unpacked on a host.
#[derive(Debug, thiserror::Error)]
pub enum VetError {
    /// An entry that goes through a symlink made earlier in the same tree.
    #[error(
        "layer {layer}: entry {entry:?} would {how} through the symlink {link:?} made by {made_by}; refused so nothing lands outside the image's tree"
    )]
    Through {
        /// The layer (its digest).
        layer: String,
        /// The entry as the tar names it.
        entry: String,
        /// `write`, `delete` or `hard-link`.
        how: &'static str,
        /// The symlink it would pass.
        link: String,
        /// Which entry or layer (and image) made the symlink.
        made_by: String,
    },
    /// A device node or fifo.
    #[error("layer {layer}: entry {entry:?} is a {kind}; images may not make special files")]
    Special {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// `character device`, `block device` or `fifo`.
        kind: &'static str,
    },
    /// A hard link whose target leaves the tree.
    #[error("layer {layer}: entry {entry:?} hard-links to {target:?}, outside the image's tree")]
    LinkOutside {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// Its link target.
        target: String,
    },
    /// The config's diff_id does not match what the layer unpacks to.
    #[error("layer {layer}: the config says its content is {expected}, but it unpacks to {actual}")]
    DiffId {
        /// The layer.
        layer: String,
        /// The config's diff_id (or `nothing` when the config lists fewer).
        expected: String,
        /// The hash of the uncompressed tar.
        actual: String,
    },
    /// The config lists a different number of diff_ids than the manifest layers.
    #[error("the config lists {diff_ids} layer diff_ids but the manifest has {layers} layers")]
    DiffIdCount {
        /// diff_ids in the config.
        diff_ids: usize,
        /// Layers in the manifest.
        layers: usize,
    },
}

/// What one layer leaves in its tree, as far as the checks across layers
/// need to know. Kept with the layer's scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerFacts {
    /// sha256 of the uncompressed tar (the config's diff_id when honest).
    pub diff_id: Option<Digest>,
    /// Paths that are symlinks once the layer is applied.
    pub symlinks: Vec<String>,
    /// Every path the layer's entries pass through as a directory (their
    /// parents, directory entries, hard-link targets' parents), each with
    /// the first entry that needs it: a lower layer's symlink at any of
    /// these would be followed.
    pub through: BTreeMap<String, String>,
    /// Regular files with the setuid or setgid bit; the hosts clear it.
    pub setuid: Vec<String>,
}

/// Walks one layer's entries in tar order; see the module doc.
pub struct Walker {
    layer: String,
    links: BTreeSet<String>,
    facts: LayerFacts,
}

/// One entry as the walker needs it: its normalised path (no `..`, no
/// leading `/`), type, mode and, for hard links, the normalised target.
pub struct Entry<'a> {
    /// The path as the tar names it, for messages.
    pub raw: &'a str,
    /// The path relative to the tree root.
    pub rel: &'a str,
    /// The tar entry type.
    pub kind: EntryType,
    /// Permission bits.
    pub mode: u32,
    /// For a hard link, its target relative to the tree root (`None` when
    /// the target climbs out of the tree).
    pub link: Option<Option<&'a str>>,
}

/// The proper ancestors of a relative path: `a/b/c` → `a`, `a/b`.
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    rel.match_indices('/').map(move |(i, _)| &rel[..i])
}

impl Walker {
    /// A walker for the layer named `layer` (its digest).
    pub fn new(layer: &str) -> Self {
        Walker {
            layer: layer.to_string(),
            links: BTreeSet::new(),
            facts: LayerFacts::default(),
        }
    }

    fn note_through(&mut self, dir: &str, entry: &str) {
        if !self.facts.through.contains_key(dir) {
            self.facts
                .through
                .insert(dir.to_string(), entry.to_string());
        }
    }

    fn through_link(&self, path: &str, raw: &str, how: &'static str) -> Result<(), VetError> {
        match self.links.get(path) {
            Some(link) => Err(VetError::Through {
                layer: self.layer.clone(),
                entry: raw.to_string(),
                how,
                link: link.clone(),
                made_by: "an earlier entry of the same layer".into(),
            }),
            None => Ok(()),
        }
    }

    /// Check one entry (whiteout entries are not unpacked and are checked
    /// across layers instead; pass only the others).
    pub fn entry(&mut self, e: &Entry<'_>) -> Result<(), VetError> {
        let special = match e.kind {
            EntryType::Char => Some("character device"),
            EntryType::Block => Some("block device"),
            EntryType::Fifo => Some("fifo"),
            _ => None,
        };
        if let Some(kind) = special {
            return Err(VetError::Special {
                layer: self.layer.clone(),
                entry: e.raw.to_string(),
                kind,
            });
        }
        for dir in ancestors(e.rel) {
            self.through_link(dir, e.raw, "write")?;
            self.note_through(dir, e.raw);
        }
        if e.kind.is_dir() {
            self.through_link(e.rel, e.raw, "write")?;
            self.note_through(e.rel, e.raw);
        }
        if let Some(target) = e.link {
            let Some(target) = target else {
                return Err(VetError::LinkOutside {
                    layer: self.layer.clone(),
                    entry: e.raw.to_string(),
                    target: "..".into(),
                });
            };
            for dir in ancestors(target) {
                self.through_link(dir, e.raw, "hard-link")?;
                self.note_through(dir, e.raw);
            }
        }
        if e.kind.is_symlink() {
            self.links.insert(e.rel.to_string());
        } else {
            self.links.remove(e.rel);
        }
        if e.kind.is_file() && e.mode & 0o6000 != 0 {
            self.facts.setuid.push(e.rel.to_string());
        }
        Ok(())
    }

    /// What the layer leaves behind; `diff_id` is the tar's hash.
    pub fn finish(mut self, diff_id: Digest) -> LayerFacts {
        self.facts.symlinks = self.links.into_iter().collect();
        self.facts.diff_id = Some(diff_id);
        self.facts
    }
}

/// A reader that hashes what passes through it: the uncompressed tar's
/// hash is the layer's diff_id.
pub struct Hashing<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Hashing<R> {
    /// Hash what is read from `inner`.
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Read what is left (tar padding after the end marker counts too) and
    /// return the hash of everything.
    pub fn finish(mut self) -> io::Result<Digest> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.hasher.finish())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
