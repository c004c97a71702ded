//! Pull what a build carries into the build cache: the discovered images
//! the cache lacks, a few at a time (each with the client's own blob
//! concurrency). A failure names the image and every file that named it,
//! since that is what the user has to fix.

use super::discover::Found;
use crate::image::Store;
use crate::image::oci::Platform;
use crate::image::registry::{Progress, PulledImage, RegistryClient, RegistryError};
use futures_util::{StreamExt, TryStreamExt, stream};
use std::sync::Arc;

/// Images pulled at the same time by default.
pub const PARALLEL_IMAGES: usize = 4;

/// A discovered image could not be pulled.
#[derive(Debug, thiserror::Error)]
#[error("cannot pull {reference} (named in {origins})")]
pub struct FetchError {
    /// The image.
    pub reference: String,
    /// Where it was found (`file:line, …`).
    pub origins: String,
    /// What the registry said.
    pub source: RegistryError,
}

impl FetchError {
    fn new(found: &Found, source: RegistryError) -> Self {
        let origins: Vec<String> = found.origins.iter().map(|o| o.to_string()).collect();
        FetchError {
            reference: found.reference.to_string(),
            origins: origins.join(", "),
            source,
        }
    }
}

/// Pull every image of `missing` into `cache` for `platforms` (this
/// machine's when empty), at most `parallel` at once; `pulled` is called as
/// each one completes. Stops at the first failure, dropping (and so
/// cancelling) the pulls still running: the cache keeps the blobs that
/// arrived, for the next try, but no name for an unfinished image.
pub async fn pull_missing(
    client: &RegistryClient,
    cache: &Store,
    missing: &[&Found],
    platforms: &[Platform],
    parallel: usize,
    progress: Arc<dyn Progress>,
    pulled: impl Fn(&PulledImage),
) -> Result<Vec<PulledImage>, FetchError> {
    stream::iter(missing.iter().copied())
        .map(|found| {
            let progress = progress.clone();
            async move {
                client
                    .pull(&found.reference, platforms, cache, progress)
                    .await
                    .map_err(|e| FetchError::new(found, e))
            }
        })
        .buffer_unordered(parallel.max(1))
        .inspect_ok(|p| pulled(p))
        .try_collect()
        .await
}
