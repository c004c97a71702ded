//! How a transfer reports what it is doing, so the CLI can draw a bar per
//! layer and the builder can stay quiet.

use super::super::digest::Digest;

/// Called as blobs move. Blobs already present (locally for a pull, in the
/// registry for a push) are never started.
pub trait Progress: Send + Sync {
    /// A blob of `size` bytes starts to move.
    fn blob_started(&self, _digest: &Digest, _size: u64) {}
    /// `bytes` more bytes of a started blob moved.
    fn blob_advanced(&self, _digest: &Digest, _bytes: u64) {}
    /// A started blob finished (successfully or not).
    fn blob_finished(&self, _digest: &Digest) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
