//! `tug load`: OCI archives (tug's, skopeo's), `docker save` tars (legacy
//! `manifest.json` + layer tars, converted to OCI manifests with the layers
//! stored as they are), and OCI layout directories. Blobs stream into the
//! store, verified; names are set only once every image checked out
//! complete; on any failure the blobs this load added are removed again.

mod check;
mod docker;

use super::ArchiveError;
use crate::image::digest::{Digest, Hasher};
use crate::image::layer::Compression;
use crate::image::oci::{ANNOTATION_REF_NAME, Descriptor, Index};
use crate::image::reference::Reference;
use crate::image::store::{MAX_DOCUMENT, Store};
use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// Whether an OCI `ref.name` is only a tag (`v1.28.9`), as skopeo and
/// buildah write into a layout (`oci:DIR:TAG`), rather than a full name.
fn is_bare_tag(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A bare tag in a layout directory names a tag of the layout's own
/// repository: `localhost/<dir name>:<tag>` (not `docker.io/library/<tag>`).
fn layout_name(dir: &Path, tag: &str) -> String {
    let repo: String = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let repo = repo.trim_matches('-');
    let repo = if repo.is_empty() { "layout" } else { repo };
    format!("localhost/{repo}:{tag}")
}

/// containerd's (and docker 25's) full-name annotation in index.json.
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Load every named image of `input` (an archive file or a layout
/// directory) into the store; returns the names set.
pub fn load(store: &Store, input: &Path) -> Result<Vec<Reference>, ArchiveError> {
    if input.is_dir() {
        return ingest(store, input, Some(input.to_path_buf()), |ing| {
            ing.read_dir_docs()
        });
    }
    let file = File::open(input).map_err(|source| ArchiveError::Io {
        path: input.to_path_buf(),
        action: "open",
        source,
    })?;
    load_from(store, input, file)
}

/// Load every named image of an archive read from `input` (for example an
/// entry of a bundle's tar, streamed); `name` is what errors call it.
pub fn load_from(
    store: &Store,
    name: &Path,
    input: impl Read + Send,
) -> Result<Vec<Reference>, ArchiveError> {
    ingest(store, name, None, |ing| ing.read_tar(input))
}

fn ingest(
    store: &Store,
    name: &Path,
    dir: Option<PathBuf>,
    read: impl FnOnce(&mut Ingest) -> Result<(), ArchiveError>,
) -> Result<Vec<Reference>, ArchiveError> {
    let _writing = store.writing()?;
    let mut ing = Ingest {
        store,
        archive: name.to_path_buf(),
        dir,
        added: Vec::new(),
        files: HashMap::new(),
        links: HashMap::new(),
        docs: HashMap::new(),
    };
    let result = read(&mut ing).and_then(|()| ing.finish());
    if result.is_err() {
        ing.rollback();
    }
    result
}

struct Ingest<'a> {
    store: &'a Store,
    archive: PathBuf,
    /// Set when loading a layout directory: blobs are copied from there.
    dir: Option<PathBuf>,
    /// Blobs this load put into the store (removed again on failure).
    added: Vec<Digest>,
    /// Archive path -> the blob it became.
    files: HashMap<String, (Digest, u64)>,
    /// Archive path -> the archive path it links to.
    links: HashMap<String, String>,
    /// index.json, manifest.json.
    docs: HashMap<String, Vec<u8>>,
}

/// A reader that remembers whether a failure came from reading (the
/// archive) rather than from writing (the store).
struct Tracked<R> {
    inner: R,
    hasher: Hasher,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

impl Ingest<'_> {
    fn invalid(&self, reason: impl Into<String>) -> ArchiveError {
        ArchiveError::Invalid {
            archive: self.archive.clone(),
            reason: reason.into(),
        }
    }

    fn read_err(&self, source: io::Error) -> ArchiveError {
        ArchiveError::Read {
            archive: self.archive.clone(),
            source,
        }
    }

    /// Stream one blob into the store, checked against `expected` when known.
    /// `size`, when known, is how many bytes the entry must have; fewer
    /// means the archive was cut short.
    fn put(
        &mut self,
        r: impl Read,
        size: Option<u64>,
        expected: Option<&Digest>,
        entry: &str,
    ) -> Result<(Digest, u64), ArchiveError> {
        if let Some(d) = expected.filter(|d| self.store.has_blob(d)) {
            let len = fs::metadata(self.store.blob_path(d))
                .map(|m| m.len())
                .unwrap_or(0);
            return Ok((d.clone(), len));
        }
        let mut src = Tracked {
            inner: r,
            hasher: Hasher::new(),
            failed: None,
        };
        let mut w = self.store.begin_blob()?;
        if let Err(e) = io::copy(&mut src, &mut w) {
            w.abort();
            return Err(match src.failed {
                Some(read) => self.read_err(read),
                None => self.invalid(format!("cannot store entry {entry}: {e}")),
            });
        }
        if let Some(want) = size.filter(|want| w.written() < *want) {
            let got = w.written();
            w.abort();
            return Err(self.read_err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("entry {entry} ends after {got} of {want} bytes"),
            )));
        }
        let actual = src.hasher.finish();
        let existed = self.store.has_blob(&actual);
        let desc = w
            .commit(Some(expected.unwrap_or(&actual)))
            .map_err(|source| ArchiveError::Blob {
                archive: self.archive.clone(),
                entry: entry.to_string(),
                source,
            })?;
        if !existed {
            self.added.push(actual.clone());
        }
        Ok((actual, desc.size))
    }

    fn read_tar(&mut self, input: impl Read + Send) -> Result<(), ArchiveError> {
        let mut input = BufReader::with_capacity(1 << 20, input);
        let head = input.fill_buf().map_err(|e| self.read_err(e))?;
        let reader: Box<dyn Read + Send + '_> = match Compression::sniff(head) {
            Some(c @ (Compression::Gzip | Compression::Zstd)) => {
                c.decoder(input).map_err(|e| self.read_err(e))?
            }
            _ => Box::new(input),
        };
        let mut tar = tar::Archive::new(reader);
        let entries = tar.entries().map_err(|e| self.read_err(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.read_err(e))?;
            let path = normalise(&String::from_utf8_lossy(&entry.path_bytes()));
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Symlink => {
                    let base = Path::new(&path)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .to_string_lossy()
                        .into_owned();
                    let to = normalise(&format!("{base}/{}", link.unwrap_or_default()));
                    self.links.insert(path, to);
                    continue;
                }
                tar::EntryType::Link => {
                    self.links
                        .insert(path, normalise(&link.unwrap_or_default()));
                    continue;
                }
                _ => continue,
            }
            if let Some(d) = blob_digest(&path) {
                let size = entry.size();
                let blob = self.put(&mut entry, Some(size), Some(&d), &path)?;
                self.files.insert(path, blob);
            } else if path == "index.json" || path == "manifest.json" {
                let mut body = Vec::new();
                (&mut entry)
                    .take(MAX_DOCUMENT)
                    .read_to_end(&mut body)
                    .map_err(|e| self.read_err(e))?;
                self.docs.insert(path, body);
            } else if path.ends_with(".tar") || path.ends_with(".json") {
                let size = entry.size();
                let blob = self.put(&mut entry, Some(size), None, &path)?;
                self.files.insert(path, blob);
            }
        }
        Ok(())
    }

    fn read_dir_docs(&mut self) -> Result<(), ArchiveError> {
        let dir = self.dir.clone().unwrap_or_default();
        let p = dir.join("index.json");
        let body = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(self.invalid("no index.json: not an OCI image layout directory"));
            }
            Err(source) => {
                return Err(ArchiveError::Io {
                    path: p,
                    action: "read",
                    source,
                });
            }
        };
        self.docs.insert("index.json".into(), body);
        Ok(())
    }

    fn finish(&mut self) -> Result<Vec<Reference>, ArchiveError> {
        let named = if let Some(body) = self.docs.get("index.json").cloned() {
            self.names_from_index(&body)?
        } else if let Some(body) = self.docs.get("manifest.json").cloned() {
            self.names_from_docker(&body)?
        } else {
            return Err(self.invalid(
                "no index.json or manifest.json: not an OCI archive or `docker save` tar (or it is truncated)",
            ));
        };
        if named.is_empty() {
            return Err(self.invalid("the archive holds no images"));
        }
        for (r, d) in &named {
            self.store.set_name(r, d.clone())?;
        }
        Ok(named.into_iter().map(|(r, _)| r).collect())
    }

    fn names_from_index(
        &mut self,
        body: &[u8],
    ) -> Result<Vec<(Reference, Descriptor)>, ArchiveError> {
        let idx: Index = serde_json::from_slice(body)
            .map_err(|e| self.invalid(format!("index.json is not a valid OCI index: {e}")))?;
        let mut out = Vec::new();
        for mut d in idx.manifests {
            let raw = d
                .annotations
                .get(CONTAINERD_NAME)
                .or_else(|| d.annotations.get(ANNOTATION_REF_NAME))
                .cloned()
                .ok_or_else(|| {
                    self.invalid(format!(
                        "image {} has no name ({ANNOTATION_REF_NAME})",
                        d.digest
                    ))
                })?;
            let raw = match (&self.dir, d.annotations.contains_key(CONTAINERD_NAME)) {
                (Some(dir), false) if is_bare_tag(&raw) => layout_name(dir, &raw),
                _ => raw,
            };
            let r: Reference = raw
                .parse()
                .map_err(|e| self.invalid(format!("image {}: {e}", d.digest)))?;
            self.check_image(&d, &raw)?;
            d.annotations.remove(CONTAINERD_NAME);
            d.annotations.remove(ANNOTATION_REF_NAME);
            out.push((r, d));
        }
        Ok(out)
    }

    /// Remove the blobs this load added that no name reaches.
    fn rollback(&mut self) {
        let mut keep = BTreeSet::new();
        if let Ok(idx) = self.store.read_index() {
            for d in idx.manifests {
                let _ = self.store.reachable(&d, &mut keep);
            }
        }
        for d in self.added.drain(..) {
            if !keep.contains(&d) {
                let _ = fs::remove_file(self.store.blob_path(&d));
            }
        }
    }
}

/// `./a/b/../c/` -> `a/c` (lexically; `..` above the top is dropped).
fn normalise(p: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(n) => out.push(n.to_string_lossy().into_owned()),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out.join("/")
}

/// The digest named by a `blobs/sha256/<hex>` path.
fn blob_digest(path: &str) -> Option<Digest> {
    path.strip_prefix("blobs/sha256/")
        .and_then(|h| format!("sha256:{h}").parse().ok())
}
