//! Find the container images a cluster image needs, in its rootfs as it
//! will be after COPY: `manifests/` YAML, `manifests/imageList`,
//! `images/shim/*` lists and `charts/`. Each image says where it was
//! found; the result is deduplicated by normalised reference and sorted.

mod charts;
mod yaml;

use crate::image::Reference;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where an image reference was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The file, relative to the scanned root.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        Ok(())
    }
}

/// One image and every place that names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The normalised reference.
    pub reference: Reference,
    /// Where it was found, sorted.
    pub origins: Vec<Origin>,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    /// Images, sorted by reference.
    pub images: Vec<Found>,
    /// Things the user should know (helm missing, values skipped).
    pub warnings: Vec<String>,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An image line or container image is not a reference.
    #[error("{origin}: {message}")]
    BadReference {
        /// Where.
        origin: Origin,
        /// The reference error.
        message: String,
    },
    /// A manifest is not valid YAML.
    #[error("{}:{line}:{column}: not valid YAML: {message}", file.display())]
    BadYaml {
        /// The file, relative to the root.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// `helm template` failed.
    #[error("helm template {}: {message}", chart.display())]
    Helm {
        /// The chart, relative to the root.
        chart: PathBuf,
        /// Its exit status and last lines of output.
        message: String,
    },
}

/// How to discover: which helm to run, if any.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The helm binary; None means read chart values instead.
    pub helm: Option<PathBuf>,
}

impl Options {
    /// Use the `helm` found on PATH, if there is one.
    pub fn from_env() -> Self {
        let helm = std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("helm"))
                .find(|h| h.is_file())
        });
        Options { helm }
    }
}

/// Collects references with their origins.
#[derive(Default)]
struct Collector {
    found: BTreeMap<Reference, Vec<Origin>>,
    warnings: Vec<String>,
}

impl Collector {
    fn add(&mut self, r: Reference, origin: Origin) {
        let v = self.found.entry(r).or_default();
        if !v.contains(&origin) {
            v.push(origin);
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DiscoverError + '_ {
    move |source| DiscoverError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Files under `dir` (recursively, sorted), as paths relative to `root`.
fn files_under(root: &Path, dir: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut out = Vec::new();
    let full = root.join(dir);
    if !full.is_dir() {
        return Ok(out);
    }
    let mut names: Vec<_> = std::fs::read_dir(&full)
        .map_err(io(&full))?
        .filter_map(|e| e.ok())
        .collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let rel = dir.join(e.file_name());
        if e.path().is_dir() {
            out.extend(files_under(root, &rel)?);
        } else if e.path().is_file() {
            out.push(rel);
        }
    }
    Ok(out)
}

/// Read a file of references, one a line (`#` comments, blank lines).
fn scan_list(root: &Path, rel: &Path, c: &mut Collector) -> Result<(), DiscoverError> {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin {
            file: rel.to_path_buf(),
            line: Some(n + 1),
        };
        match line.parse::<Reference>() {
            Ok(r) => c.add(r, origin),
            Err(e) => {
                return Err(DiscoverError::BadReference {
                    origin,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Discover images under `root` (a rootfs or build context), using helm
/// from PATH when present.
pub fn discover(root: &Path) -> Result<Discovery, DiscoverError> {
    discover_with(root, &Options::from_env())
}

/// Discover images under `root` with explicit options.
pub fn discover_with(root: &Path, opts: &Options) -> Result<Discovery, DiscoverError> {
    let mut c = Collector::default();
    for rel in files_under(root, Path::new("manifests"))? {
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if rel.parent() == Some(Path::new("manifests")) && name == "imageList" {
            scan_list(root, &rel, &mut c)?;
        } else if [".yaml", ".yml", ".tmpl"].iter().any(|e| name.ends_with(e)) {
            yaml::scan_file(root, &rel, &mut c)?;
        }
    }
    for rel in files_under(root, Path::new("images/shim"))? {
        scan_list(root, &rel, &mut c)?;
    }
    charts::scan(root, opts, &mut c)?;
    Ok(Discovery {
        images: c
            .found
            .into_iter()
            .map(|(reference, mut origins)| {
                origins.sort();
                Found { reference, origins }
            })
            .collect(),
        warnings: c.warnings,
    })
}
