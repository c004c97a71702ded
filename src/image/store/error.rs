//! What can go wrong in the store, as one typed error.

use crate::image::digest::Digest;
use std::io;
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

pub(super) type Result<T> = std::result::Result<T, StoreError>;

pub(super) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
