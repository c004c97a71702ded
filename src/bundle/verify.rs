//! `tug bundle verify`: every file SHA256SUMS lists, hashed and compared,
//! in a bundle directory or straight out of a bundle tar. The Clusterfile
//! is the one file the engineer is meant to edit: when only it differs and
//! it still reads as a Clusterfile, it is reported as edited, not damaged.

use super::checksums::{MAX_SUMS, Sums, hash_reader};
use super::output::is_tar;
use super::{BINARY, BundleError, CLUSTERFILE, IMAGES, Job, SUMS};
use crate::cluster::clusterfile::Clusterfile;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Largest Clusterfile read from a bundle tar to tell an edit from damage.
const MAX_CLUSTERFILE: u64 = 1 << 20;

/// A bundle that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Every file checked, with its size, in SHA256SUMS order.
    pub files: Vec<(String, u64)>,
    /// Files changed since the bundle was made that may be (the Clusterfile).
    pub edited: Vec<String>,
}

/// Check every file of the bundle at `path` (a directory or a `.tar`)
/// against its SHA256SUMS.
pub fn verify(path: &Path, job: Job<'_>) -> Result<Verified, BundleError> {
    let found = if path.is_dir() {
        read_dir(path, job)?
    } else if is_tar(path) || path.is_file() {
        read_tar(path, job)?
    } else {
        return Err(BundleError::NotABundle {
            path: path.to_path_buf(),
            reason: "no such directory or tar".into(),
        });
    };
    found.check(path)
}

/// What reading a bundle found: its listing and each file's hash and size.
struct Found {
    sums: Sums,
    hashes: HashMap<String, (String, u64)>,
    /// The Clusterfile's text when it parses, for telling edits from damage.
    clusterfile_ok: bool,
}

impl Found {
    fn check(self, path: &Path) -> Result<Verified, BundleError> {
        for needed in [BINARY, IMAGES, CLUSTERFILE] {
            if self.sums.get(needed).is_none() {
                return Err(BundleError::NotABundle {
                    path: path.to_path_buf(),
                    reason: format!("{SUMS} does not list {needed}"),
                });
            }
        }
        let mut files = Vec::new();
        let mut edited = Vec::new();
        let mut bad = Vec::new();
        for (want, name) in &self.sums.entries {
            let Some((got, size)) = self.hashes.get(name) else {
                return Err(BundleError::Missing {
                    path: path.join(name),
                });
            };
            if got == want {
                files.push((name.clone(), *size));
            } else if name == CLUSTERFILE && self.clusterfile_ok {
                edited.push(name.clone());
            } else {
                bad.push(name.clone());
            }
        }
        if let Some(first) = bad.first() {
            return Err(BundleError::Mismatch {
                path: path.join(first),
                others: bad[1..].to_vec(),
            });
        }
        Ok(Verified { files, edited })
    }
}

fn read_dir(dir: &Path, job: Job<'_>) -> Result<Found, BundleError> {
    let sums_path = dir.join(SUMS);
    let text = match File::open(&sums_path) {
        Ok(f) => read_text(f, &sums_path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BundleError::NotABundle {
                path: dir.to_path_buf(),
                reason: format!("no {SUMS}: not a bundle, or an unfinished one"),
            });
        }
        Err(source) => return Err(BundleError::io(&sums_path, "read")(source)),
    };
    let sums = Sums::parse(&sums_path, &text)?;
    let mut hashes = HashMap::new();
    for (_, name) in &sums.entries {
        let p = dir.join(name);
        let f = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(BundleError::io(&p, "read")(source)),
        };
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        job.progress.start("checking", name, size);
        let hashed = hash_reader(&mut BufReader::with_capacity(1 << 20, f), job);
        job.progress.finish(name);
        hashes.insert(name.clone(), cancelled_or(hashed, job, &p)?);
    }
    let clusterfile_ok = Clusterfile::load(&dir.join(CLUSTERFILE)).is_ok();
    Ok(Found {
        sums,
        hashes,
        clusterfile_ok,
    })
}

fn read_tar(path: &Path, job: Job<'_>) -> Result<Found, BundleError> {
    let file = File::open(path).map_err(BundleError::io(path, "read"))?;
    let damaged = BundleError::io(path, "read the bundle tar (truncated or damaged?)");
    let mut tar = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut sums_text = None;
    let mut hashes = HashMap::new();
    let mut clusterfile_ok = false;
    for entry in tar.entries().map_err(&damaged)? {
        let mut entry = entry.map_err(&damaged)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = bundle_name(&entry.path_bytes());
        let shown = path.join(&name);
        if name == SUMS {
            sums_text = Some(read_text(&mut entry, &shown)?);
            continue;
        }
        let size = entry.size();
        job.progress.start("checking", &name, size);
        let hashed = if name == CLUSTERFILE && size <= MAX_CLUSTERFILE {
            let mut body = Vec::new();
            (&mut entry)
                .take(MAX_CLUSTERFILE)
                .read_to_end(&mut body)
                .map_err(&damaged)?;
            clusterfile_ok = String::from_utf8(body.clone())
                .is_ok_and(|text| Clusterfile::parse(&shown, text).is_ok());
            hash_reader(&mut body.as_slice(), job)
        } else {
            hash_reader(&mut entry, job)
        };
        job.progress.finish(&name);
        let (hex, read) = cancelled_or(hashed, job, path)?;
        if read < size {
            return Err(damaged(io::ErrorKind::UnexpectedEof.into()));
        }
        hashes.insert(name, (hex, read));
    }
    let text = sums_text.ok_or_else(|| BundleError::NotABundle {
        path: path.to_path_buf(),
        reason: format!("no {SUMS} in the tar: not a bundle, or an unfinished one"),
    })?;
    Ok(Found {
        sums: Sums::parse(&path.join(SUMS), &text)?,
        hashes,
        clusterfile_ok,
    })
}

/// A file's name in the bundle from its path in the tar (`<dir>/<name>`).
pub(super) fn bundle_name(tar_path: &[u8]) -> String {
    let p = String::from_utf8_lossy(tar_path);
    let p = p.trim_end_matches('/');
    p.split_once('/').map_or(p, |(_, rest)| rest).to_string()
}

fn read_text(r: impl Read, shown: &Path) -> Result<String, BundleError> {
    let mut text = String::new();
    r.take(MAX_SUMS)
        .read_to_string(&mut text)
        .map_err(BundleError::io(shown, "read"))?;
    Ok(text)
}

fn cancelled_or<T>(r: io::Result<T>, job: Job<'_>, shown: &Path) -> Result<T, BundleError> {
    match r {
        Err(_) if job.cancelled() => Err(BundleError::Cancelled),
        Err(source) => Err(BundleError::io(shown, "read")(source)),
        Ok(v) => Ok(v),
    }
}
