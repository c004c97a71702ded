//! Reads a layer blob once on the jump host to learn what it holds
//! ([`LayerContent`]): whether it carries `registry/` data, other files or
//! both, which paths it whites out, and how large it is unpacked. The
//! planner needs this to send each host only what it needs and to apply
//! whiteouts on the host before the layer's own files land. The blob is
//! streamed; only headers are kept, and the text of the few small files the
//! planner reads (templates, `etc/kubeadm.yml`).

use super::spec::{LayerContent, TemplateFile};
use crate::image::digest::Digest;
use crate::image::oci::media;
use crate::image::vet::{Entry, Hashing, LayerFacts, VetError, Walker};
use crate::template::render_dir::{DEFAULT_MAX_TEMPLATE_SIZE, TEMPLATE_DIRS, TEMPLATE_SUFFIXES};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path};

mod store_check;
mod tap;

pub use store_check::{Vetted, prescan, tree_layer, vet_layers};
pub use tap::ScanTap;

/// The whiteout prefix of OCI/AUFS layers.
pub const WHITEOUT: &str = ".wh.";
/// The opaque-dir marker.
pub const OPAQUE: &str = ".wh..wh..opq";

/// Read and decompression buffer size of a scan.
const BUF: usize = 1 << 20;

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The blob could not be read or is not a tar.
    #[error("layer {layer}: {source}")]
    Io {
        /// The blob.
        layer: String,
        /// What failed.
        source: io::Error,
    },
    /// An entry whose path leaves the root.
    #[error("layer {layer}: entry {entry:?} points outside the image root")]
    Escapes {
        /// The blob.
        layer: String,
        /// The entry.
        entry: String,
    },
    /// The layer, or the image's layers together, may not reach a host.
    #[error(transparent)]
    Refused(Box<VetError>),
}

impl From<VetError> for ScanError {
    fn from(e: VetError) -> Self {
        ScanError::Refused(Box::new(e))
    }
}

/// How a blob is compressed, from its media type (and its first bytes when
/// the media type does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobCompression {
    /// A plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

impl BlobCompression {
    /// The compression a media type names; `None` when it names none.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        if media_type == media::OCI_LAYER_ZSTD || media_type.ends_with("+zstd") {
            Some(BlobCompression::Zstd)
        } else if media_type == media::OCI_LAYER_GZIP
            || media_type == media::DOCKER_LAYER_GZIP
            || media_type.ends_with("gzip")
        {
            Some(BlobCompression::Gzip)
        } else if media_type == media::OCI_LAYER_TAR || media_type.ends_with(".tar") {
            Some(BlobCompression::None)
        } else {
            None
        }
    }
}

/// The image's own kubeadm configuration, merged under the Clusterfile's.
pub const KUBEADM_YML: &str = "etc/kubeadm.yml";

/// Paths whose presence the planner wants to know.
pub const NOTED: [&str; 2] = ["cri/image-cri-shim", "opt/sealctl"];

/// What a scan learnt about one layer.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Scanned {
    /// What the layer holds.
    pub content: LayerContent,
    /// Its templates and `etc/kubeadm.yml`, with their text.
    pub files: Vec<TemplateFile>,
    /// Which of [`NOTED`] it holds.
    pub noted: Vec<String>,
    /// What the safety checks across layers need (symlinks, diff_id).
    pub facts: LayerFacts,
}

/// Whether an image is a cluster image (it has a `sealos.io.type` label),
/// the kind whose layers are scanned and checked as they enter the store.
pub fn is_cluster_image(config: &crate::image::oci::ImageConfig) -> bool {
    config
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .is_some_and(|l| l.contains_key("sealos.io.type"))
}

/// Whether the planner wants a file's text.
fn wanted(rel: &str) -> bool {
    rel == KUBEADM_YML
        || (TEMPLATE_DIRS
            .iter()
            .any(|d| rel.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
            && TEMPLATE_SUFFIXES.iter().any(|s| rel.ends_with(s)))
}

/// [`scan`], or the result of an earlier scan of the same blob kept in
/// `cache` (blobs are content-addressed, so a result never goes stale): a
/// re-apply does not decompress every layer again. The cache is best
/// effort: a missing or unreadable entry means a scan.
pub fn scan_cached(
    cache: Option<&Path>,
    digest: &Digest,
    path: &Path,
    media_type: &str,
) -> Result<Scanned, ScanError> {
    let entry = cache.map(|d| d.join(cache_name(digest)));
    if let Some(found) = entry
        .as_ref()
        .and_then(|e| std::fs::read(e).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    {
        return Ok(found);
    }
    let scanned = scan(path, &digest.to_string(), media_type)?;
    if let Some(entry) = &entry {
        keep(entry, digest, &scanned);
    }
    Ok(scanned)
}

/// Save a scan in the cache file `entry` (best effort).
fn keep(entry: &Path, digest: &Digest, scanned: &Scanned) {
    let saved = serde_json::to_vec(scanned)
        .map_err(io::Error::other)
        .and_then(|bytes| crate::fsutil::write_atomic(entry, &bytes, 0o600));
    if let Err(e) = saved {
        tracing::debug!("not caching the scan of {digest}: {e}");
    }
}

/// The cache file of a layer's scan.
fn cache_name(digest: &Digest) -> String {
    format!("{SCAN_PREFIX}{}-{}.json", digest.algorithm(), digest.hex())
}

/// The layer digest a scan cache file's name keeps, if it is one of ours
/// (of this format: older formats' files name nothing and go).
pub fn scan_digest(name: &str) -> Option<Digest> {
    let (algorithm, hex) = name
        .strip_prefix(SCAN_PREFIX)?
        .strip_suffix(".json")?
        .split_once('-')?;
    format!("{algorithm}:{hex}").parse().ok()
}

/// How a scan cache file's name starts (the format's version).
const SCAN_PREFIX: &str = "v2-";

/// Scan the blob at `path` of media type `media_type`; `layer` (its
/// digest) names it in errors.
pub fn scan(path: &Path, layer: &str, media_type: &str) -> Result<Scanned, ScanError> {
    let layer = layer.to_string();
    let io = |source| ScanError::Io {
        layer: layer.clone(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    scan_blob(BufReader::with_capacity(BUF, file), &layer, media_type)
}

/// Scan a blob read from `input` (compressed as `media_type` says).
pub fn scan_blob(
    input: impl std::io::BufRead,
    layer: &str,
    media_type: &str,
) -> Result<Scanned, ScanError> {
    let io = |source| ScanError::Io {
        layer: layer.to_string(),
        source,
    };
    let compression = BlobCompression::from_media_type(media_type).unwrap_or(BlobCompression::Gzip);
    let reader: Box<dyn Read + '_> = match compression {
        BlobCompression::None => Box::new(input),
        BlobCompression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        BlobCompression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(input).map_err(io)?)
        }
    };
    // The tar reader skips file data in small reads; decompressing into a
    // large buffer instead makes the decoder's inner loop run longer.
    scan_tar(BufReader::with_capacity(BUF, reader), layer)
}

/// Scan an uncompressed tar stream; `layer` names it in errors.
pub fn scan_tar(reader: impl Read, layer: &str) -> Result<Scanned, ScanError> {
    let io = |source| ScanError::Io {
        layer: layer.to_string(),
        source,
    };
    let mut out = Scanned::default();
    let content = &mut out.content;
    let mut walker = Walker::new(layer);
    let mut archive = tar::Archive::new(Hashing::new(reader));
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rel) = normalise(&raw) else {
            return Err(ScanError::Escapes {
                layer: layer.to_string(),
                entry: raw,
            });
        };
        if rel.is_empty() {
            continue;
        }
        content.entries += 1;
        let size = entry.header().size().map_err(io)?;
        content.unpacked_size += size;
        if NOTED.contains(&rel.as_str()) {
            out.noted.push(rel.clone());
        }
        let whiteout = rel
            .rsplit('/')
            .next()
            .is_some_and(|b| b.starts_with(WHITEOUT));
        let kind = entry.header().entry_type();
        if !whiteout {
            let target = (kind == tar::EntryType::Link)
                .then(|| entry.link_name_bytes())
                .flatten()
                .map(|t| normalise(&String::from_utf8_lossy(&t)));
            walker.entry(&Entry {
                raw: &raw,
                rel: &rel,
                kind,
                mode: entry.header().mode().map_err(io)?,
                link: target.as_ref().map(|t| t.as_deref()),
            })?;
        }
        if !whiteout
            && entry.header().entry_type().is_file()
            && size <= DEFAULT_MAX_TEMPLATE_SIZE
            && wanted(&rel)
        {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(|e| ScanError::Io {
                layer: layer.to_string(),
                source: io::Error::new(e.kind(), format!("{rel}: {e}")),
            })?;
            let mode = entry.header().mode().map_err(io)?;
            out.files.push(TemplateFile {
                path: rel.clone(),
                mode,
                source: text,
            });
        }
        if rel == "registry" || rel.starts_with("registry/") {
            content.registry = true;
        } else {
            content.other = true;
        }
        let (dir, base) = match rel.rsplit_once('/') {
            Some((d, b)) => (d, b),
            None => ("", rel.as_str()),
        };
        if base == OPAQUE {
            content.opaque_dirs.push(dir.to_string());
        } else if let Some(hidden) = base
            .strip_prefix(WHITEOUT)
            .filter(|h| !h.is_empty() && !h.starts_with(WHITEOUT))
        {
            let target = if dir.is_empty() {
                hidden.to_string()
            } else {
                format!("{dir}/{hidden}")
            };
            content.whiteouts.push(target);
        }
    }
    let diff_id = archive.into_inner().finish().map_err(io)?;
    out.facts = walker.finish(diff_id);
    Ok(out)
}

/// `./a/b/` → `a/b`; `None` when the path climbs out (`..`) of the root.
pub fn normalise(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn finds_registry_whiteouts_and_opaque_dirs() {
        let bytes = tar_of(&[
            ("./etc/a.conf.tmpl", b"abc"),
            ("registry/docker/x", b"12345"),
            ("bin/.wh.old", b""),
            ("opt/.wh..wh..opq", b""),
        ]);
        let scanned = scan_tar(&bytes[..], "l").unwrap();
        assert_eq!(scanned.files[0].path, "etc/a.conf.tmpl");
        assert_eq!(scanned.files[0].source, "abc");
        let c = scanned.content;
        assert!(c.registry && c.other);
        assert_eq!(c.whiteouts, ["bin/old"]);
        assert_eq!(c.opaque_dirs, ["opt"]);
        assert_eq!(c.unpacked_size, 8);
        assert_eq!(c.entries, 4);
    }

    #[test]
    fn gzip_blobs_are_read_by_media_type() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar_of(&[("registry/a", b"1")])).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let c = scan(&path, "l", media::OCI_LAYER_GZIP).unwrap().content;
        assert!(c.registry && !c.other);
    }

    #[test]
    fn climbing_out_is_refused() {
        assert_eq!(normalise("./a//b/"), Some("a/b".into()));
        assert_eq!(normalise("/etc/x"), Some("etc/x".into()));
        assert_eq!(normalise("a/../../x"), None);
    }
}
