//! `docker save` tars: `manifest.json` names a config file and layer tars
//! per image; tug stores them as they are (layers uncompressed unless they
//! already were compressed) under a new OCI manifest, named by `RepoTags`.

use super::super::ArchiveError;
use super::{Ingest, normalise};
use crate::image::digest::Digest;
use crate::image::layer::Compression;
use crate::image::oci::{Descriptor, Manifest, media};
use crate::image::reference::Reference;
use std::io::Read;

impl Ingest<'_> {
    /// The blob an archive path became, following links.
    fn file(&self, path: &str) -> Result<(Digest, u64), ArchiveError> {
        let mut p = normalise(path);
        for _ in 0..16 {
            if let Some(f) = self.files.get(&p) {
                return Ok(f.clone());
            }
            match self.links.get(&p) {
                Some(to) => p = to.clone(),
                None => break,
            }
        }
        Err(self.invalid(format!(
            "manifest.json names {path}, which is not in the archive (truncated?)"
        )))
    }

    pub(super) fn names_from_docker(
        &mut self,
        body: &[u8],
    ) -> Result<Vec<(Reference, Descriptor)>, ArchiveError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            config: String,
            #[serde(default)]
            repo_tags: Option<Vec<String>>,
            layers: Vec<String>,
        }
        let entries: Vec<Entry> = serde_json::from_slice(body).map_err(|e| {
            self.invalid(format!("manifest.json is not a docker save manifest: {e}"))
        })?;
        let mut out = Vec::new();
        for e in entries {
            let (cd, cs) = self.file(&e.config)?;
            let mut layers = Vec::new();
            for l in &e.layers {
                let (ld, ls) = self.file(l)?;
                let mut head = [0u8; 4];
                let n = self.store.open_blob(&ld)?.read(&mut head).unwrap_or(0);
                let mt = match Compression::sniff(&head[..n]) {
                    Some(Compression::Gzip) => media::OCI_LAYER_GZIP,
                    Some(Compression::Zstd) => media::OCI_LAYER_ZSTD,
                    _ => media::OCI_LAYER_TAR,
                };
                layers.push(Descriptor::new(mt, ld, ls));
            }
            let m = Manifest {
                schema_version: 2,
                media_type: Some(media::OCI_MANIFEST.to_string()),
                config: Descriptor::new(media::OCI_CONFIG, cd.clone(), cs),
                layers,
                annotations: Default::default(),
                extra: Default::default(),
            };
            let bytes = serde_json::to_vec(&m).expect("manifest serialises");
            let md = Digest::of(&bytes);
            let (md, _) = self.put(&bytes[..], None, Some(&md), "manifest.json")?;
            let desc = Descriptor::new(media::OCI_MANIFEST, md, bytes.len() as u64);
            let tags = e.repo_tags.unwrap_or_default();
            if tags.is_empty() {
                return Err(self.invalid(format!(
                    "image {cd} in manifest.json has no RepoTags (no name)"
                )));
            }
            self.check_image(&desc, &tags[0])?;
            for t in tags {
                let r: Reference = t
                    .parse()
                    .map_err(|err| self.invalid(format!("RepoTags: {err}")))?;
                out.push((r, desc.clone()));
            }
        }
        Ok(out)
    }
}
