//! `tug bundle create`: the binary, the images and the two texts, each
//! streamed through a hasher into the output, then SHA256SUMS, then the
//! rename that makes the bundle exist.

use super::checksums::Sums;
use super::output::Output;
use super::{BINARY, BundleError, CLUSTERFILE, IMAGES, Job, README, SUMS, template};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::Ssh;
use crate::image::archive;
use crate::image::oci::Descriptor;
use crate::image::{Reference, Store};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

/// What goes into a bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The images with their store descriptors, in install order.
    pub images: Vec<(Reference, Descriptor)>,
    /// The Clusterfile template; it must hold no password or key data.
    pub clusterfile: Clusterfile,
    /// Whether its hosts are placeholders the engineer must replace.
    pub placeholders: bool,
    /// Extra lines for README.txt (for example: the password was left out).
    pub notes: Vec<String>,
    /// The `tug` binary to carry (normally the running one).
    pub binary: PathBuf,
}

/// Write `bundle` to `out` (a directory, or a tar when it ends in `.tar`);
/// returns the checksums written. Nothing exists at `out` unless every file
/// was written; on failure or cancel the temp output is removed.
pub fn create(
    store: &Store,
    bundle: &Bundle,
    out: &Path,
    job: Job<'_>,
) -> Result<Sums, BundleError> {
    refuse_secrets(bundle)?;
    let mut binary = File::open(&bundle.binary)
        .map_err(BundleError::io(&bundle.binary, "read the tug binary"))?;
    let binary_size = binary.metadata().map(|m| m.len()).unwrap_or(0);
    let images_size = archive_size(store, &bundle.images)?;
    let yaml = bundle.clusterfile.to_yaml()?;
    let names: Vec<Reference> = bundle.images.iter().map(|(r, _)| r.clone()).collect();
    let texts = [
        (
            CLUSTERFILE,
            template::clusterfile(&yaml, bundle.placeholders),
        ),
        (
            README,
            template::readme(&names, bundle.placeholders, &bundle.notes),
        ),
    ];

    let mut output = Output::begin(out)?;
    let mut sums = Sums::default();
    job.progress.start("writing", BINARY, binary_size);
    let hex = output.file(BINARY, 0o755, job, |w| {
        io::copy(&mut BufReader::with_capacity(1 << 20, &mut binary), w)
            .map(drop)
            .map_err(BundleError::io(&out.join(BINARY), "write"))
    })?;
    job.progress.finish(BINARY);
    sums.entries.push((hex, BINARY.to_string()));

    job.progress.start("writing", IMAGES, images_size);
    let shown = out.join(IMAGES);
    let hex = output.file(IMAGES, 0o644, job, |w| {
        archive::write_to(store, &bundle.images, w, &shown)?;
        Ok(())
    })?;
    job.progress.finish(IMAGES);
    sums.entries.push((hex, IMAGES.to_string()));

    for (name, text) in &texts {
        let hex = output.file(name, 0o644, job, |w| write_text(w, text, &out.join(name)))?;
        sums.entries.push((hex, name.to_string()));
    }
    let listing = sums.render();
    output.file(SUMS, 0o644, job, |w| {
        write_text(w, &listing, &out.join(SUMS))
    })?;
    output.commit()?;
    Ok(sums)
}

fn write_text(w: &mut dyn Write, text: &str, shown: &Path) -> Result<(), BundleError> {
    w.write_all(text.as_bytes())
        .map_err(BundleError::io(shown, "write"))
}

/// A bundle travels on a stick: it never carries a password or key data.
fn refuse_secrets(bundle: &Bundle) -> Result<(), BundleError> {
    let spec = &bundle.clusterfile.cluster.spec;
    let secret = |s: &Ssh| s.passwd.is_some() || s.pk_passwd.is_some() || s.pk_data.is_some();
    let found = spec.ssh.as_ref().is_some_and(secret)
        || spec
            .hosts
            .iter()
            .any(|h| h.ssh.as_ref().is_some_and(secret));
    if found {
        return Err(BundleError::Secret);
    }
    Ok(())
}

/// About how many bytes the archive takes (its blobs), for progress.
fn archive_size(store: &Store, images: &[(Reference, Descriptor)]) -> Result<u64, BundleError> {
    let mut blobs = BTreeSet::new();
    for (_, d) in images {
        store.reachable(d, &mut blobs)?;
    }
    Ok(blobs
        .iter()
        .filter_map(|d| fs::metadata(store.blob_path(d)).ok())
        .map(|m| m.len())
        .sum())
}
