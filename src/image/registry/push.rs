//! Pushing: blobs the registry lacks stream from the store's files (chunked
//! PATCHes by default, one PUT when asked or when the registry refuses
//! chunks), then each manifest goes up with its exact stored bytes so its
//! digest is the same on both sides; an index pushes its children first.

use super::errors::At;
use super::progress::Progress;
use super::{RegistryOptions, Result, Session, oci_ref};
use crate::image::digest::Digest;
use crate::image::oci::{Descriptor, Index, Manifest, media};
use crate::image::reference::Reference;
use crate::image::registry::RegistryError;
use crate::image::store::Store;
use futures_util::{StreamExt, TryStreamExt, stream};
use oci_client::errors::OciDistributionError;
use std::io::Read;
use std::sync::Arc;
use tokio_util::bytes::Bytes;

/// Bytes read from a blob file per upload request (oci-client's chunk size).
const CHUNK: usize = 4 << 20;

pub(super) async fn push(
    s: &Session,
    options: &RegistryOptions,
    store: &Store,
    src: &Reference,
    dest: &Reference,
    progress: Arc<dyn Progress>,
) -> Result<Digest> {
    let top = store.resolve(src)?;
    let image = dest.to_string();
    let at = At {
        registry: &s.registry,
        image: &image,
        blob: None,
    };
    s.client
        .store_auth_if_needed(oci_ref(dest).resolve_registry(), &s.auth)
        .await;
    let p = Pusher {
        s,
        options,
        store,
        dest,
        image: &image,
        progress,
    };
    if media::is_index(&top.media_type) {
        let idx: Index = store.read_json(&top.digest, "index")?;
        for child in &idx.manifests {
            if !store.has_blob(&child.digest) {
                let platform = child.platform.as_ref().map(|p| p.to_string());
                return Err(RegistryError::BadManifest {
                    image: src.to_string(),
                    reason: format!(
                        "its index lists manifest {} ({}) that is not in the local store; pull it with --platform first",
                        child.digest,
                        platform.unwrap_or_else(|| "no platform".into())
                    ),
                });
            }
            p.push_manifest(child, &dest.with_digest(child.digest.clone()))
                .await?;
        }
        p.put_document(&top, dest, &at).await?;
    } else {
        p.push_manifest(&top, dest).await?;
    }
    Ok(top.digest)
}

struct Pusher<'a> {
    s: &'a Session,
    options: &'a RegistryOptions,
    store: &'a Store,
    dest: &'a Reference,
    image: &'a str,
    progress: Arc<dyn Progress>,
}

impl Pusher<'_> {
    /// Push a manifest's blobs, then the manifest under `name`.
    async fn push_manifest(&self, desc: &Descriptor, name: &Reference) -> Result<()> {
        let at = At {
            registry: &self.s.registry,
            image: self.image,
            blob: None,
        };
        let m: Manifest = self.store.read_json(&desc.digest, "manifest")?;
        let blobs: Vec<Descriptor> = std::iter::once(m.config).chain(m.layers).collect();
        stream::iter(blobs.into_iter().map(|b| self.push_blob(b)))
            .buffer_unordered(self.options.concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        self.put_document(desc, name, &at).await
    }

    /// PUT a manifest or index with its stored bytes.
    async fn put_document(&self, desc: &Descriptor, name: &Reference, at: &At<'_>) -> Result<()> {
        let bytes = self.store.read_document(&desc.digest, "manifest")?;
        let content_type = reqwest::header::HeaderValue::from_str(&desc.media_type)
            .map_err(|_| at.protocol(format!("bad media type {:?}", desc.media_type)))?;
        self.s
            .client
            .push_manifest_raw(&oci_ref(name), bytes, content_type)
            .await
            .map_err(|e| at.oci(e))?;
        Ok(())
    }

    /// Upload one blob unless the registry has it.
    async fn push_blob(&self, desc: Descriptor) -> Result<()> {
        let desc = &desc;
        let at = At {
            registry: &self.s.registry,
            image: self.image,
            blob: Some(&desc.digest),
        };
        let oref = oci_ref(self.dest);
        let exists = self
            .s
            .client
            .blob_exists(&oref, &desc.digest.to_string())
            .await
            .map_err(|e| at.oci(e))?;
        if exists {
            return Ok(());
        }
        self.progress.blob_started(&desc.digest, desc.size);
        let first = self.upload(&self.s.client, &oref, desc).await;
        let result = match first {
            Err(OciDistributionError::SpecViolationError(_)) if !self.options.monolithic_push => {
                // The registry refused chunked upload: send it in one PUT.
                let mono = super::make_client(self.options, &self.s.registry, true)?;
                mono.store_auth_if_needed(oref.resolve_registry(), &self.s.auth)
                    .await;
                self.upload(&mono, &oref, desc).await
            }
            other => other,
        };
        self.progress.blob_finished(&desc.digest);
        result.map(|_| ()).map_err(|e| at.oci(e))
    }

    /// Stream a blob file to the registry in `CHUNK`-sized pieces.
    async fn upload(
        &self,
        client: &oci_client::Client,
        oref: &oci_client::Reference,
        desc: &Descriptor,
    ) -> std::result::Result<String, OciDistributionError> {
        let file = self
            .store
            .open_blob(&desc.digest)
            .map_err(|e| OciDistributionError::IoError(std::io::Error::other(e)))?;
        let progress = self.progress.clone();
        let digest = desc.digest.clone();
        let chunks = stream::try_unfold(file, |mut f| async move {
            let (f, buf) = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; CHUNK];
                let mut n = 0;
                while n < CHUNK {
                    match f.read(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return (f, Err(e)),
                    }
                }
                buf.truncate(n);
                (f, Ok(buf))
            })
            .await
            .map_err(std::io::Error::other)?;
            let buf = buf?;
            if buf.is_empty() {
                Ok(None)
            } else {
                Ok(Some((Bytes::from(buf), f)))
            }
        })
        .inspect_ok(move |b: &Bytes| progress.blob_advanced(&digest, b.len() as u64))
        .map_err(OciDistributionError::IoError);
        client
            .push_blob_stream(oref, chunks, &desc.digest.to_string(), Some(desc.size))
            .await
    }
}
