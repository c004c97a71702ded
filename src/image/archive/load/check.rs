//! Checking that an image an archive names is complete before its name is
//! set: every manifest, config and layer present in the store (copied from
//! a layout directory when loading one) with the size its descriptor says,
//! and the documents well-formed.

use super::super::ArchiveError;
use super::Ingest;
use crate::image::digest::Digest;
use crate::image::oci::{Descriptor, ImageConfig, Index, Manifest, media};
use std::fs::{self, File};

impl Ingest<'_> {
    /// Make sure a blob is in the store with the size its descriptor says
    /// (copying it from a layout directory when loading one).
    fn ensure_blob(&mut self, d: &Descriptor, what: &str) -> Result<(), ArchiveError> {
        if let Some(dir) = self.dir.clone().filter(|_| !self.store.has_blob(&d.digest)) {
            let p = dir
                .join("blobs")
                .join(d.digest.algorithm())
                .join(d.digest.hex());
            if let Ok(f) = File::open(&p) {
                self.put(
                    f,
                    None,
                    Some(&d.digest),
                    &format!("blobs/sha256/{}", d.digest.hex()),
                )?;
            }
        }
        if !self.store.has_blob(&d.digest) {
            return Err(self.invalid(format!(
                "blob {} ({what}) is not in the archive (truncated?)",
                d.digest
            )));
        }
        let len = fs::metadata(self.store.blob_path(&d.digest))
            .map(|m| m.len())
            .unwrap_or(0);
        if len != d.size {
            return Err(self.invalid(format!(
                "blob {} ({what}) is {len} bytes, its descriptor says {}",
                d.digest, d.size
            )));
        }
        Ok(())
    }

    fn available(&self, d: &Descriptor) -> bool {
        self.store.has_blob(&d.digest)
            || self
                .dir
                .as_ref()
                .is_some_and(|dir| dir.join("blobs/sha256").join(d.digest.hex()).is_file())
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        d: &Digest,
        what: &'static str,
    ) -> Result<T, ArchiveError> {
        self.store
            .read_json(d, what)
            .map_err(|source| ArchiveError::Blob {
                archive: self.archive.clone(),
                entry: format!("blobs/sha256/{}", d.hex()),
                source,
            })
    }

    /// Check that everything an image needs is present and well-formed.
    pub(super) fn check_image(&mut self, d: &Descriptor, name: &str) -> Result<(), ArchiveError> {
        self.ensure_blob(d, &format!("manifest of {name}"))?;
        if media::is_index(&d.media_type) {
            let idx: Index = self.parse(&d.digest, "index")?;
            let present: Vec<Descriptor> = idx
                .manifests
                .into_iter()
                .filter(|c| self.available(c))
                .collect();
            if present.is_empty() {
                return Err(self.invalid(format!(
                    "{name}: none of its platform manifests is in the archive"
                )));
            }
            for c in &present {
                self.check_image(c, name)?;
            }
            return Ok(());
        }
        if !media::is_manifest(&d.media_type) {
            return Err(self.invalid(format!("{name}: unsupported media type {}", d.media_type)));
        }
        let m: Manifest = self.parse(&d.digest, "manifest")?;
        self.ensure_blob(&m.config, &format!("config of {name}"))?;
        self.parse::<ImageConfig>(&m.config.digest, "config")?;
        for (i, l) in m.layers.iter().enumerate() {
            self.ensure_blob(l, &format!("layer {} of {name}", i + 1))?;
        }
        Ok(())
    }
}
