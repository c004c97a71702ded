//! Write images from a [`Store`] into docker-distribution's filesystem
//! storage (`docker/registry/v2/…`), the `registry/` dir of a cluster image,
//! so a `registry` serving that dir answers for every image. Repositories
//! are named by the reference's path without the registry host
//! (`docker.io/library/nginx` -> `library/nginx`, `registry.k8s.io/pause`
//! -> `pause`), which is how image-cri-shim rewrites pulls to
//! `sealos.hub:5000/<path>`. Blobs are stored once however many images
//! share them, hard-linked from the store (copied across filesystems).

use crate::image::oci::{Descriptor, Index, Manifest, media};
use crate::image::store::StoreError;
use crate::image::{Digest, Reference, Store};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why the registry tree could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RegistryDirError {
    /// An image to write is not in the store.
    #[error("image {0} is not in the build cache")]
    NotInCache(Reference),
    /// Two references land on the same repository and tag with different content.
    #[error(
        "{first} and {second} would both be {repository}:{tag} in the image's registry, with different content"
    )]
    Clash {
        /// The first image.
        first: String,
        /// The second image.
        second: String,
        /// The shared repository path.
        repository: String,
        /// The shared tag.
        tag: String,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the tree failed.
    #[error("write {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, RegistryDirError>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RegistryDirError + '_ {
    move |source| RegistryDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What was written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    /// Images written.
    pub images: usize,
    /// Blobs added (shared blobs count once).
    pub blobs: usize,
    /// Bytes of the blobs added.
    pub bytes: u64,
}

/// A docker-distribution storage tree being filled.
pub struct RegistryDir<'a> {
    store: &'a Store,
    v2: PathBuf,
    tags: BTreeMap<(String, String), (Reference, Digest)>,
    written: Written,
}

impl<'a> RegistryDir<'a> {
    /// Fill `<dir>/docker/registry/v2` from `store`.
    pub fn new(store: &'a Store, dir: &Path) -> Self {
        RegistryDir {
            store,
            v2: dir.join("docker").join("registry").join("v2"),
            tags: BTreeMap::new(),
            written: Written::default(),
        }
    }

    /// Write one image (its index and the platforms the store holds, or its
    /// manifest), tagged as the reference says.
    pub fn add(&mut self, r: &Reference) -> Result<()> {
        let top = self.store.resolve(r).map_err(|e| match e {
            StoreError::NotFound(_) => RegistryDirError::NotInCache(r.clone()),
            e => e.into(),
        })?;
        let repo = self.v2.join("repositories").join(r.repository());
        if let Some(tag) = r.tag() {
            let key = (r.repository().to_string(), tag.to_string());
            if let Some((first, d)) = self.tags.get(&key)
                && *d != top.digest
            {
                return Err(RegistryDirError::Clash {
                    first: first.to_string(),
                    second: r.to_string(),
                    repository: key.0,
                    tag: key.1,
                });
            }
            self.tags.insert(key, (r.clone(), top.digest.clone()));
        }
        self.descriptor(&repo, &top)?;
        if let Some(tag) = r.tag() {
            let tag_dir = repo.join("_manifests").join("tags").join(tag);
            link(&tag_dir.join("current").join("link"), &top.digest)?;
            link(
                &tag_dir
                    .join("index")
                    .join("sha256")
                    .join(top.digest.hex())
                    .join("link"),
                &top.digest,
            )?;
        }
        self.written.images += 1;
        Ok(())
    }

    fn descriptor(&mut self, repo: &Path, d: &Descriptor) -> Result<()> {
        self.blob(&d.digest)?;
        let rev = repo
            .join("_manifests")
            .join("revisions")
            .join("sha256")
            .join(d.digest.hex());
        link(&rev.join("link"), &d.digest)?;
        if media::is_index(&d.media_type) {
            let idx: Index = self.store.read_json(&d.digest, "index")?;
            for child in idx
                .manifests
                .iter()
                .filter(|c| self.store.has_blob(&c.digest))
            {
                self.descriptor(repo, child)?;
            }
        } else {
            let m: Manifest = self.store.read_json(&d.digest, "manifest")?;
            for b in std::iter::once(&m.config).chain(&m.layers) {
                self.blob(&b.digest)?;
                let l = repo
                    .join("_layers")
                    .join("sha256")
                    .join(b.digest.hex())
                    .join("link");
                link(&l, &b.digest)?;
            }
        }
        Ok(())
    }

    fn blob(&mut self, d: &Digest) -> Result<()> {
        let dest = self
            .v2
            .join("blobs")
            .join("sha256")
            .join(&d.hex()[..2])
            .join(d.hex())
            .join("data");
        if dest.is_file() {
            return Ok(());
        }
        let src = self.store.blob_path(d);
        if !src.is_file() {
            return Err(StoreError::MissingBlob(d.clone()).into());
        }
        let parent = dest.parent().expect("blob path has a parent");
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        if fs::hard_link(&src, &dest).is_err() {
            let tmp = parent.join("data.tmp");
            fs::copy(&src, &tmp).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
        }
        self.written.blobs += 1;
        self.written.bytes += fs::metadata(&dest).map_err(io_err(&dest))?.len();
        Ok(())
    }

    /// What was written so far.
    pub fn finish(self) -> Written {
        self.written
    }
}

fn link(path: &Path, d: &Digest) -> Result<()> {
    let parent = path.parent().expect("link path has a parent");
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    fs::write(path, d.to_string()).map_err(io_err(path))
}

/// Write every image of `images` from `store` into `dir`.
pub fn write_images(store: &Store, images: &[Reference], dir: &Path) -> Result<Written> {
    let mut w = RegistryDir::new(store, dir);
    for r in images {
        w.add(r)?;
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::oci::Descriptor;

    fn manifest(store: &Store, layer: &[u8]) -> Descriptor {
        let l = store.put_bytes(layer).unwrap();
        let c = store.put_bytes(b"{}").unwrap();
        let m = serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": Descriptor::new(media::OCI_CONFIG, c, 2),
            "layers": [Descriptor::new(media::OCI_LAYER_GZIP, l, layer.len() as u64)]});
        let b = serde_json::to_vec(&m).unwrap();
        Descriptor::new(
            media::OCI_MANIFEST,
            store.put_bytes(&b).unwrap(),
            b.len() as u64,
        )
    }

    #[test]
    fn an_index_keeps_the_platforms_the_store_has_and_tags_may_not_clash() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("s")).unwrap();
        let amd = manifest(&store, b"amd64 layer");
        let absent = Digest::of(b"not stored");
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [
            {"mediaType": media::OCI_MANIFEST, "digest": amd.digest, "size": amd.size,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": media::OCI_MANIFEST, "digest": absent, "size": 1,
             "platform": {"architecture": "arm64", "os": "linux"}}]});
        let ib = serde_json::to_vec(&idx).unwrap();
        let id = store.put_bytes(&ib).unwrap();
        let multi: Reference = "registry.k8s.io/pause:3.9".parse().unwrap();
        store
            .set_name(
                &multi,
                Descriptor::new(media::OCI_INDEX, id.clone(), ib.len() as u64),
            )
            .unwrap();
        let other: Reference = "quay.io/x/pause:3.9".parse().unwrap();
        store.set_name(&other, manifest(&store, b"other")).unwrap();
        let same_path: Reference = "example.com/pause:3.9".parse().unwrap();
        store
            .set_name(&same_path, manifest(&store, b"different"))
            .unwrap();

        let dir = tmp.path().join("reg");
        let w = write_images(&store, &[multi.clone(), other], &dir).unwrap();
        assert_eq!(
            (w.images, w.blobs),
            (2, 6),
            "index, manifest, config, layer; manifest, layer (config shared)"
        );
        let repo = dir.join("docker/registry/v2/repositories/pause/_manifests");
        let current = fs::read_to_string(repo.join("tags/3.9/current/link")).unwrap();
        assert_eq!(current, id.to_string());
        assert!(
            repo.join("revisions/sha256")
                .join(amd.digest.hex())
                .join("link")
                .is_file()
        );
        assert!(!repo.join("revisions/sha256").join(absent.hex()).exists());
        let e = write_images(&store, &[multi, same_path], &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("would both be pause:3.9"), "{e}");
        let e = write_images(&store, &["nope:1".parse().unwrap()], &dir).unwrap_err();
        assert!(matches!(e, RegistryDirError::NotInCache(_)), "{e}");
    }
}
