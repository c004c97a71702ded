//! `tug bundle load`: verify the bundle, then stream its images archive
//! (from the directory, or out of the bundle tar in place) into the store.
//! Nothing here touches the network.

use super::verify::{Verified, bundle_name, verify};
use super::{BundleError, IMAGES, Job};
use crate::image::archive;
use crate::image::{Reference, Store};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What a load did.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The verification that came first.
    pub verified: Verified,
    /// The image names now in the store.
    pub images: Vec<Reference>,
}

/// Verify the bundle at `path` (directory or tar), then load its images.
pub fn load(store: &Store, path: &Path, job: Job<'_>) -> Result<Loaded, BundleError> {
    let verified = verify(path, job)?;
    let shown = path.join(IMAGES);
    let size = verified
        .files
        .iter()
        .find(|(n, _)| n == IMAGES)
        .map_or(0, |(_, s)| *s);
    let io = |action| BundleError::io(&shown, action);
    let reader: Box<dyn Read + Send> = if path.is_dir() {
        Box::new(File::open(&shown).map_err(io("read"))?)
    } else {
        let offset = images_offset(path)?;
        let mut f = File::open(path).map_err(io("read"))?;
        f.seek(SeekFrom::Start(offset)).map_err(io("read"))?;
        Box::new(f.take(size))
    };
    job.progress.start("loading", IMAGES, size);
    let reading = Watched {
        inner: BufReader::with_capacity(1 << 20, reader),
        job,
    };
    let loaded = archive::load_from(store, &shown, reading);
    job.progress.finish(IMAGES);
    let images = match loaded {
        Err(_) if job.cancelled() => return Err(BundleError::Cancelled),
        other => other?,
    };
    Ok(Loaded { verified, images })
}

/// Where the images archive's bytes start inside a bundle tar.
fn images_offset(path: &Path) -> Result<u64, BundleError> {
    let damaged = BundleError::io(path, "read the bundle tar (truncated or damaged?)");
    let file = File::open(path).map_err(&damaged)?;
    let mut tar = tar::Archive::new(BufReader::new(file));
    for entry in tar.entries().map_err(&damaged)? {
        let entry = entry.map_err(&damaged)?;
        if bundle_name(&entry.path_bytes()) == IMAGES {
            return Ok(entry.raw_file_position());
        }
    }
    Err(BundleError::Missing {
        path: path.join(IMAGES),
    })
}

/// A reader that reports progress and stops once the job is cancelled.
struct Watched<'a, R> {
    inner: R,
    job: Job<'a>,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.job.cancelled() {
            return Err(io::Error::other("cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.job.progress.advance(n as u64);
        Ok(n)
    }
}
