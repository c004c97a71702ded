//! Pulling: manifests raw (their exact bytes are what the digest covers),
//! then config and layers streamed into the store's verified blob writers,
//! several at a time, skipping what is already there. The name is set last,
//! so a failed pull leaves blobs (reused by the next try) but never a name
//! pointing at something incomplete.

use super::errors::At;
use super::progress::Progress;
use super::tap::{BlobTap, TapSink};
use super::{Result, Session, oci_ref};
use crate::image::digest::Digest;
use crate::image::oci::{Descriptor, ImageConfig, Index, Manifest, Platform, media};
use crate::image::reference::Reference;
use crate::image::registry::RegistryError;
use crate::image::store::{MAX_DOCUMENT, Store};
use futures_util::{StreamExt, TryStreamExt, stream};
use oci_client::RegistryOperation;
use oci_client::client::BlobResponse;
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use reqwest::StatusCode;
use reqwest::header::ACCEPT as ACCEPT_HEADER;
use std::io::Write;
use std::sync::Arc;
use tokio_util::bytes::Bytes;

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The name it was stored under.
    pub reference: Reference,
    /// Digest of what the name points at (a manifest, or an index when
    /// several platforms were asked for).
    pub digest: Digest,
    /// Media type of that document.
    pub media_type: String,
    /// The platform manifests pulled: (platform from the index, digest).
    pub manifests: Vec<(Option<Platform>, Digest)>,
    /// Layers over all pulled manifests.
    pub layers: usize,
    /// Bytes of configs and layers over all pulled manifests.
    pub size: u64,
    /// Config and layer blobs the image needs.
    pub blobs: usize,
    /// Of those, how many were fetched (the rest were already in the store).
    pub fetched: usize,
    /// Bytes fetched.
    pub fetched_bytes: u64,
}

/// A layer's second reader (owned: it outlives no borrow of the pull).
type Sink = Box<dyn TapSink + 'static>;

/// Media types asked for when fetching a manifest.
const ACCEPT: &[&str] = &[
    media::OCI_MANIFEST,
    media::OCI_INDEX,
    media::DOCKER_MANIFEST,
    media::DOCKER_LIST,
];

pub(super) async fn pull(
    s: &Session,
    r: &Reference,
    platforms: &[Platform],
    store: &Store,
    progress: Arc<dyn Progress>,
    concurrency: usize,
    tap: Option<&dyn BlobTap>,
) -> Result<PulledImage> {
    let image = r.to_string();
    let at = At {
        registry: &s.registry,
        image: &image,
        blob: None,
    };
    let oref = oci_ref(r);
    let (top_bytes, top_type) = fetch_manifest(s, &oref, &at, r.digest()).await?;
    let top_digest = Digest::of(&top_bytes);

    // (descriptor, bytes) of each platform manifest to pull.
    let mut chosen: Vec<(Descriptor, Bytes)> = Vec::new();
    if media::is_index(&top_type) {
        let idx: Index = parse(&top_bytes, &at, "index")?;
        let current = [Platform::current()];
        let wanted = if platforms.is_empty() {
            &current[..]
        } else {
            platforms
        };
        for want in wanted {
            let entry = idx
                .manifests
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
                .ok_or_else(|| no_platform(&image, want, &idx))?;
            if chosen.iter().any(|(d, _)| d.digest == entry.digest) {
                continue;
            }
            let child_ref = oref.clone_with_digest(entry.digest.to_string());
            let (bytes, kind) = fetch_manifest(s, &child_ref, &at, Some(&entry.digest)).await?;
            if !media::is_manifest(&kind) {
                return Err(at.protocol(format!(
                    "index entry {} for {want} is a {kind}, not an image manifest",
                    entry.digest
                )));
            }
            chosen.push((entry.clone(), bytes));
        }
    } else {
        let desc = Descriptor::new(&top_type, top_digest.clone(), top_bytes.len() as u64);
        chosen.push((desc, top_bytes.clone()));
    }

    let mut manifests = Vec::with_capacity(chosen.len());
    let (mut layers, mut size) = (0, 0);
    for (_, bytes) in &chosen {
        let m: Manifest = parse(bytes, &at, "manifest")?;
        if m.config.size > MAX_DOCUMENT {
            return Err(at.protocol(format!(
                "config {} is {} bytes, over the {MAX_DOCUMENT}-byte limit",
                m.config.digest, m.config.size
            )));
        }
        layers += m.layers.len();
        size += m.config.size + m.layers.iter().map(|l| l.size).sum::<u64>();
        manifests.push(m);
    }
    // Configs first (they are small), so a tap can choose layers by them;
    // then every layer, once, in manifest order.
    let configs = unique(manifests.iter().map(|m| m.config.clone()));
    let mut fetched: Vec<Option<u64>> = stream::iter(
        configs
            .clone()
            .into_iter()
            .map(|d| fetch_blob(s, &oref, &image, d, store, progress.clone(), None)),
    )
    .buffer_unordered(concurrency.max(1))
    .try_collect()
    .await?;
    let layer_descs = unique(manifests.iter().flat_map(|m| m.layers.iter().cloned()));
    let sinks = match tap {
        Some(tap) => tap_sinks(tap, store, &manifests, &layer_descs, &at)?,
        None => layer_descs.iter().map(|_| None).collect(),
    };
    let total = configs.len() + layer_descs.len();
    let mut jobs = Vec::with_capacity(layer_descs.len());
    for (d, t) in layer_descs.into_iter().zip(sinks) {
        jobs.push(fetch_blob(s, &oref, &image, d, store, progress.clone(), t));
    }
    fetched.extend(
        stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .try_collect::<Vec<_>>()
            .await?,
    );

    for (_, bytes) in &chosen {
        store.put_bytes(bytes)?;
    }
    let named = if chosen.len() == 1 {
        let (mut d, _) = chosen[0].clone();
        d.annotations.clear();
        d
    } else {
        store.put_bytes(&top_bytes)?;
        Descriptor::new(&top_type, top_digest, top_bytes.len() as u64)
    };
    store.set_name(r, named.clone())?;
    Ok(PulledImage {
        reference: r.clone(),
        digest: named.digest,
        media_type: named.media_type,
        manifests: chosen
            .into_iter()
            .map(|(d, _)| (d.platform, d.digest))
            .collect(),
        layers,
        size,
        blobs: total,
        fetched: fetched.iter().flatten().count(),
        fetched_bytes: fetched.iter().flatten().sum(),
    })
}

/// Each descriptor once, first come first kept.
fn unique(descs: impl Iterator<Item = Descriptor>) -> Vec<Descriptor> {
    let mut seen = std::collections::BTreeSet::new();
    descs.filter(|d| seen.insert(d.digest.clone())).collect()
}

/// The tap's reader for each of `layers` (in order): asked with the config
/// of each manifest holding the layer, the first that wants it reads it.
/// Layers already stored are not fetched, so they get none.
fn tap_sinks(
    tap: &dyn BlobTap,
    store: &Store,
    manifests: &[Manifest],
    layers: &[Descriptor],
    at: &At<'_>,
) -> Result<Vec<Option<Sink>>> {
    let configs = manifests
        .iter()
        .map(|m| store.read_json::<ImageConfig>(&m.config.digest, "image config"))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| at.store(e))?;
    Ok(layers
        .iter()
        .map(|layer| {
            if store.has_blob(&layer.digest) {
                return None;
            }
            manifests
                .iter()
                .zip(&configs)
                .filter(|(m, _)| m.layers.iter().any(|l| l.digest == layer.digest))
                .find_map(|(_, config)| tap.open(config, layer))
        })
        .collect())
}

/// Fetch a manifest or index as raw bytes and its media type; when a digest
/// is expected the bytes must hash to it. The body is read up to
/// [`MAX_DOCUMENT`] and no further: a registry that sends more (or never
/// stops) is refused without the jump host holding it.
async fn fetch_manifest(
    s: &Session,
    oref: &oci_client::Reference,
    at: &At<'_>,
    expected: Option<&Digest>,
) -> Result<(Bytes, String)> {
    let token = s
        .client
        .auth(oref, &s.auth, RegistryOperation::Pull)
        .await
        .map_err(|e| at.oci(e))?;
    let url = format!(
        "{}://{}/v2/{}/manifests/{}",
        s.scheme,
        oref.resolve_registry(),
        oref.repository(),
        oref.digest().or(oref.tag()).unwrap_or("latest"),
    );
    let mut request = s.http.get(&url).header(ACCEPT_HEADER, ACCEPT.join(", "));
    request = match (token, &s.auth) {
        (Some(t), _) => request.bearer_auth(t),
        (None, RegistryAuth::Basic(u, p)) => request.basic_auth(u, Some(p)),
        (None, _) => request,
    };
    let mut response = request.send().await.map_err(|e| at.transport(&e))?;
    match response.status() {
        st if st.is_success() => {}
        StatusCode::NOT_FOUND => return Err(at.not_found()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(at.unauthorized()),
        st => return Err(at.protocol(format!("GET {url} answered {st}"))),
    }
    let too_large = || at.protocol(format!("manifest is over the {MAX_DOCUMENT}-byte limit"));
    if response.content_length().is_some_and(|n| n > MAX_DOCUMENT) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| at.transport(&e))? {
        if (body.len() + chunk.len()) as u64 > MAX_DOCUMENT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let bytes = Bytes::from(body);
    if let Some(want) = expected {
        let got = Digest::of(&bytes);
        if got != *want {
            return Err(at.mismatch(&format!("expected {want}, got {got}")));
        }
    }
    let kind = media_type_of(&bytes).ok_or_else(|| RegistryError::BadManifest {
        image: at.image.to_string(),
        reason: "the registry sent something that is not an image manifest or index".into(),
    })?;
    Ok((bytes, kind))
}

/// The media type a manifest declares, or the one its shape implies.
fn media_type_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        layers: Option<serde_json::Value>,
    }
    let p: Probe = serde_json::from_slice(bytes).ok()?;
    match p.media_type {
        Some(m) if media::is_index(&m) || media::is_manifest(&m) => Some(m),
        Some(_) => None,
        None if p.manifests.is_some() => Some(media::OCI_INDEX.to_string()),
        None if p.layers.is_some() => Some(media::OCI_MANIFEST.to_string()),
        None => None,
    }
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], at: &At<'_>, what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::BadManifest {
        image: at.image.to_string(),
        reason: format!("its {what} is not valid: {e}"),
    })
}

fn no_platform(image: &str, want: &Platform, idx: &Index) -> RegistryError {
    RegistryError::NoPlatform {
        image: image.to_string(),
        platform: want.to_string(),
        available: idx
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Chunks queued per blob between the network and the disk writer. hyper
/// hands out up to ~400 KiB a chunk, so 4 blobs × 4 chunks stay under 7 MiB.
const QUEUE: usize = 4;

/// A chunk for the writer thread, or the end of the blob.
enum Chunk {
    Data(Bytes),
    End,
}

/// Stream one blob into the store unless it is there. Returns the bytes
/// fetched, or None when it was skipped.
async fn fetch_blob(
    s: &Session,
    oref: &oci_client::Reference,
    image: &str,
    desc: Descriptor,
    store: &Store,
    progress: Arc<dyn Progress>,
    mut tap: Option<Sink>,
) -> Result<Option<u64>> {
    if store.has_blob(&desc.digest) {
        return Ok(None);
    }
    let at = At {
        registry: &s.registry,
        image,
        blob: Some(&desc.digest),
    };
    let odesc = OciDescriptor {
        media_type: desc.media_type.clone(),
        digest: desc.digest.to_string(),
        size: desc.size as i64,
        ..Default::default()
    };
    // The store hashes what it takes and refuses a blob of another digest
    // (the commit below), so the client need not hash it too: asked from
    // byte 0, a registry that serves ranges answers 206 with the whole
    // blob, which the client passes on unhashed; one that does not answers
    // 200, hashed by both.
    let mut body = match s
        .client
        .pull_blob_stream_partial(oref, &odesc, 0, None)
        .await
        .map_err(|e| at.oci(e))?
    {
        BlobResponse::Full(b) | BlobResponse::Partial(b) => b,
    };
    progress.blob_started(&desc.digest, desc.size);
    let result = async {
        let writer = store.begin_blob().map_err(|e| at.store(e))?;
        // A small bounded queue to a blocking writer thread: the network
        // never waits on a disk write, and memory stays a few chunks.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(QUEUE);
        let expected = desc.digest.clone();
        let sink = tokio::task::spawn_blocking(move || {
            let mut w = writer;
            let finish = |tap: Option<Sink>, committed| {
                if let Some(t) = tap {
                    t.finish(committed);
                }
            };
            while let Some(chunk) = rx.blocking_recv() {
                match chunk {
                    Chunk::Data(b) => {
                        if let Err(e) = w.write_all(&b) {
                            w.abort();
                            finish(tap, false);
                            return Some(Err(e));
                        }
                        if let Some(t) = tap.as_mut() {
                            t.data(&b);
                        }
                    }
                    Chunk::End => {
                        let committed = w.commit(Some(&expected));
                        finish(tap, committed.is_ok());
                        return Some(Ok(committed));
                    }
                }
            }
            w.abort();
            finish(tap, false);
            None
        });
        let mut got = 0u64;
        let mut failure = None;
        while let Some(item) = body.next().await {
            match item {
                Ok(b) => {
                    got += b.len() as u64;
                    if got > desc.size {
                        failure = Some(RegistryError::Oversized {
                            image: image.to_string(),
                            blob: desc.digest.clone(),
                            size: desc.size,
                        });
                        break;
                    }
                    progress.blob_advanced(&desc.digest, b.len() as u64);
                    if tx.send(Chunk::Data(b)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(at.io(e));
                    break;
                }
            }
        }
        if failure.is_none() {
            let _ = tx.send(Chunk::End).await;
        }
        drop(tx);
        let outcome = sink
            .await
            .map_err(|e| at.protocol(format!("writer task failed: {e}")))?;
        if let Some(f) = failure {
            return Err(f);
        }
        match outcome {
            Some(Ok(committed)) => committed.map(|_| got).map_err(|e| at.store(e)),
            Some(Err(io)) => Err(RegistryError::Store(crate::image::store::StoreError::Io {
                action: "write blob into",
                path: store.tmp_dir().to_path_buf(),
                source: io,
            })),
            None => Err(at.protocol("the blob stream ended early".into())),
        }
    }
    .await;
    progress.blob_finished(&desc.digest);
    result.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_document_or_its_shape() {
        let m = format!(
            r#"{{"mediaType":"{}","layers":[]}}"#,
            media::DOCKER_MANIFEST
        );
        assert_eq!(media_type_of(m.as_bytes()).unwrap(), media::DOCKER_MANIFEST);
        assert_eq!(
            media_type_of(br#"{"schemaVersion":2,"manifests":[]}"#).unwrap(),
            media::OCI_INDEX
        );
        assert_eq!(
            media_type_of(br#"{"schemaVersion":2,"config":{},"layers":[]}"#).unwrap(),
            media::OCI_MANIFEST
        );
        assert!(media_type_of(br#"{"mediaType":"text/html"}"#).is_none());
        assert!(media_type_of(b"<html>").is_none());
    }
}
