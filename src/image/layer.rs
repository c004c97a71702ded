//! Applying image layers to a directory. A layer is a tar (uncompressed, gzip
//! or zstd) of changes: files, directories, links, and OCI whiteouts
//! (`.wh.name` removes `name`, `.wh..wh..opq` hides what lower layers put in
//! a directory). Layers come from anywhere, so every entry is checked: none
//! may land outside the target (`..`, absolute paths, a parent that is a
//! symlink, a hard link to outside), and no symlink is ever followed while
//! writing. Decompression runs on its own thread, hashing the tar as it goes
//! so the config's diff_id is verified; memory stays bounded by a small
//! channel of chunks.

mod apply;
mod decode;
mod sys;
#[cfg(test)]
mod tests;

pub use apply::apply_tar;
pub use decode::{Compression, DecodingLayer};

use super::digest::Digest;
use std::io;
use std::path::{Path, PathBuf};

/// What can go wrong applying a layer. Every variant names the layer.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// An entry that would escape the target or is otherwise unsafe.
    #[error("layer {layer}: entry {entry:?} refused: {reason}")]
    Refused {
        /// The layer (its digest, or a label).
        layer: String,
        /// The entry path as written in the tar.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A filesystem operation failed while applying an entry.
    #[error("layer {layer}: entry {entry:?}: cannot {action} {}", path.display())]
    Io {
        /// The layer.
        layer: String,
        /// The entry path.
        entry: String,
        /// What tug was doing.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The compressed stream or the tar inside it is damaged.
    #[error("layer {layer}: cannot read the layer (truncated or corrupt?)")]
    Read {
        /// The layer.
        layer: String,
        /// What the decoder or tar reader said.
        #[source]
        source: io::Error,
    },
    /// The uncompressed content does not match the config's diff_id.
    #[error(
        "layer {layer}: uncompressed content has digest {actual}, but the image config says {expected} (corrupt blob?)"
    )]
    DiffIdMismatch {
        /// The layer.
        layer: String,
        /// The diff_id from the config.
        expected: Digest,
        /// What the content hashes to.
        actual: Digest,
    },
}

/// Apply one layer from a reader of its blob (compressed or not) onto
/// `target`, verifying the uncompressed digest when `diff_id` is given.
/// `layer` names the layer in errors (normally its digest).
pub fn apply_layer(
    blob: impl io::Read + Send + 'static,
    media_type: &str,
    layer: &str,
    diff_id: Option<&Digest>,
    target: &Path,
) -> Result<(), LayerError> {
    let decoded = DecodingLayer::spawn(blob, media_type);
    apply_decoded(decoded, layer, diff_id, target)
}

/// Apply a layer whose decompression was already started (see
/// [`DecodingLayer::spawn`]); used to decompress later layers while earlier
/// ones are being written.
pub fn apply_decoded(
    mut decoded: DecodingLayer,
    layer: &str,
    diff_id: Option<&Digest>,
    target: &Path,
) -> Result<(), LayerError> {
    apply_tar(&mut decoded, layer, target)?;
    let actual = decoded.finish().map_err(|source| LayerError::Read {
        layer: layer.to_string(),
        source,
    })?;
    match diff_id {
        Some(expected) if *expected != actual => Err(LayerError::DiffIdMismatch {
            layer: layer.to_string(),
            expected: expected.clone(),
            actual,
        }),
        _ => Ok(()),
    }
}
