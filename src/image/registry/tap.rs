//! A second reader of a layer's bytes while they download: the store-time
//! check scans a layer as it arrives instead of reading it back afterwards,
//! so a pull costs about as long as the download alone.

use crate::image::oci::{Descriptor, ImageConfig};
use tokio_util::bytes::Bytes;

/// Chooses which layers of a pull get a second reader.
pub trait BlobTap: Send + Sync {
    /// A reader for `layer` of an image with `config`, or `None` to leave
    /// that layer alone.
    fn open(&self, config: &ImageConfig, layer: &Descriptor) -> Option<Box<dyn TapSink>>;
}

/// Receives one layer's bytes in order, as they are written to the store.
pub trait TapSink: Send {
    /// The next bytes of the blob.
    fn data(&mut self, bytes: &Bytes);
    /// The blob ended: `committed` says whether it matched its digest and
    /// is in the store (a reader must keep nothing from an uncommitted one).
    fn finish(self: Box<Self>, committed: bool);
}
