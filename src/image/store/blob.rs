//! Writing one blob: hashed and counted as it streams into a temp file,
//! renamed under its digest only when the digest checks out.

use super::Store;
use super::error::{Result, StoreError, io_err};
use crate::image::digest::{Digest, Hasher};
use crate::image::oci::Descriptor;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

/// A blob being written: bytes are hashed and counted as they go by.
pub struct BlobWriter {
    file: File,
    path: PathBuf,
    hasher: Hasher,
    written: u64,
    store: Store,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Verify the digest (when one is expected) and move the blob into place.
    /// On a mismatch the temp file is removed and nothing enters the store.
    pub fn commit(self, expected: Option<&Digest>) -> Result<Descriptor> {
        let BlobWriter {
            file,
            path,
            hasher,
            written,
            store,
        } = self;
        file.sync_all().map_err(io_err("sync", &path))?;
        drop(file);
        let actual = hasher.finish();
        if let Some(want) = expected.filter(|w| **w != actual) {
            let _ = fs::remove_file(&path);
            return Err(StoreError::DigestMismatch {
                expected: want.clone(),
                actual,
            });
        }
        let dest = store.blob_path(&actual);
        fs::rename(&path, &dest).map_err(io_err("move blob into", &dest))?;
        Ok(Descriptor::new("application/octet-stream", actual, written))
    }

    /// Give up: remove the temp file.
    pub fn abort(self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl BlobWriter {
    /// A writer into `path` (a temp file of `store`'s).
    pub(super) fn new(file: File, path: PathBuf, store: Store) -> Self {
        BlobWriter {
            file,
            path,
            hasher: Hasher::new(),
            written: 0,
            store,
        }
    }

    /// The temp file being written (for error messages).
    pub(super) fn temp_path(&self) -> &std::path::Path {
        &self.path
    }
}
