//! The Clusterfile as a file: one sealos `Cluster` document plus any number
//! of kubeadm documents and sealos `Config` documents, loaded with errors
//! that name file, line and field, and saved atomically with mode 0600,
//! the documents tug leaves alone as the user wrote them.

mod parse;

use super::model::Cluster;
use super::problem::{FieldPath, Locator, Problem, Severity};
use super::{validate, verbatim};
use crate::fsutil::write_private;
use serde_yaml::Value;
use std::path::{Path, PathBuf};

/// The largest Clusterfile tug reads; real ones are a few kilobytes.
const MAX_SIZE: u64 = 16 << 20;

/// The kubeadm kinds a Clusterfile may carry for the kubeadm module.
pub const KUBEADM_KINDS: [&str; 5] = [
    "InitConfiguration",
    "ClusterConfiguration",
    "JoinConfiguration",
    "KubeProxyConfiguration",
    "KubeletConfiguration",
];

/// The sealos kind that drops a file into an image before install.
pub const CONFIG_KIND: &str = "Config";

/// What went wrong reading or writing a Clusterfile.
#[derive(Debug, thiserror::Error)]
pub enum ClusterfileError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content is not a valid Clusterfile (file, line, field inside).
    #[error("{0}")]
    Invalid(Problem),
    /// The file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A document could not be encoded as YAML.
    #[error("cannot encode the Clusterfile as YAML")]
    Encode(#[source] serde_yaml::Error),
}

/// A document other than the Cluster, kept as YAML for its consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Its `kind`: one of [`KUBEADM_KINDS`] or [`CONFIG_KIND`].
    pub kind: String,
    /// The whole document.
    pub value: Value,
    /// The document as written, comments included: saved as it is while it
    /// still reads as `value` (see [`verbatim`]); `None` when made in code.
    pub text: Option<String>,
}

/// A sealos `Config` document: a file written into an image before install.
#[derive(Debug, Clone, PartialEq)]
pub struct Config<'a> {
    /// `metadata.name`.
    pub name: Option<&'a str>,
    /// `spec.path`, relative to the image root.
    pub path: &'a str,
    /// `spec.data`, the content.
    pub data: &'a str,
    /// `spec.strategy`: merge, override, insert or append.
    pub strategy: Option<&'a str>,
    /// `spec.match`: the image this applies to (all when absent).
    pub matches: Option<&'a str>,
}

/// Where a loaded Clusterfile came from, for line numbers in findings.
#[derive(Clone)]
struct Source {
    path: PathBuf,
    text: String,
    /// Ordinal (among non-empty documents) of the Cluster document.
    cluster_doc: usize,
    /// Ordinals of the other documents, parallel to `documents`.
    doc_ordinals: Vec<usize>,
}

/// Only the path: the text holds passwords.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A Clusterfile: the Cluster plus the kubeadm and Config documents.
#[derive(Debug, Clone)]
pub struct Clusterfile {
    /// The sealos Cluster document.
    pub cluster: Cluster,
    /// The other documents, in file order.
    pub documents: Vec<Document>,
    /// How many of `documents` came before the Cluster in the file; saving
    /// keeps that order.
    cluster_position: usize,
    source: Option<Source>,
}

impl Clusterfile {
    /// A Clusterfile holding just this Cluster.
    pub fn new(cluster: Cluster) -> Clusterfile {
        Clusterfile {
            cluster,
            documents: Vec::new(),
            cluster_position: 0,
            source: None,
        }
    }

    /// Read, parse and validate a Clusterfile. Errors (and only errors:
    /// see [`Clusterfile::warnings`]) fail the load with file, line and field.
    pub fn load(path: &Path) -> Result<Clusterfile, ClusterfileError> {
        let read_err = |source| ClusterfileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_SIZE + 1), &mut text)
            .map_err(read_err)?;
        if text.len() as u64 > MAX_SIZE {
            return Err(ClusterfileError::Invalid(Problem {
                severity: Severity::Error,
                file: Some(path.to_path_buf()),
                line: None,
                field: String::new(),
                message: format!("larger than {MAX_SIZE} bytes; not a Clusterfile"),
            }));
        }
        let cf = Self::parse(path, text)?;
        match cf
            .problems()
            .into_iter()
            .find(|p| p.severity == Severity::Error)
        {
            Some(p) => Err(ClusterfileError::Invalid(p)),
            None => Ok(cf),
        }
    }

    /// Every error and warning validation finds, errors first.
    pub fn problems(&self) -> Vec<Problem> {
        let mut all = validate::check(self);
        all.sort_by_key(|p| p.severity != Severity::Error);
        all
    }

    /// The warnings alone (e.g. an even number of masters).
    pub fn warnings(&self) -> Vec<Problem> {
        let mut all = self.problems();
        all.retain(|p| p.severity == Severity::Warning);
        all
    }

    /// The file this was loaded from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.source.as_ref().map(|s| s.path.as_path())
    }

    /// A finding about the Cluster document at `field` (`spec.hosts[1].ips`).
    pub(crate) fn cluster_problem(
        &self,
        severity: Severity,
        field: &str,
        message: String,
    ) -> Problem {
        self.problem(severity, None, field, message)
    }

    /// A finding about the `doc`-th other document at `field`.
    pub(crate) fn document_problem(
        &self,
        severity: Severity,
        doc: usize,
        field: &str,
        message: String,
    ) -> Problem {
        self.problem(severity, Some(doc), field, message)
    }

    fn problem(
        &self,
        severity: Severity,
        doc: Option<usize>,
        field: &str,
        message: String,
    ) -> Problem {
        let (file, line) = match &self.source {
            Some(s) => {
                let ordinal = match doc {
                    None => Some(s.cluster_doc),
                    Some(d) => s.doc_ordinals.get(d).copied(),
                };
                let line =
                    ordinal.and_then(|o| Locator::new(&s.text).line(o, &FieldPath::parse(field)));
                (Some(s.path.clone()), line)
            }
            None => (None, None),
        };
        Problem {
            severity,
            file,
            line,
            field: field.to_string(),
            message,
        }
    }

    /// The kubeadm documents of one kind (e.g. `ClusterConfiguration`), in file order.
    pub fn kubeadm(&self, kind: &str) -> impl Iterator<Item = &Value> {
        self.documents
            .iter()
            .filter(move |d| d.kind == kind && d.kind != CONFIG_KIND)
            .map(|d| &d.value)
    }

    /// All kubeadm documents, in file order.
    pub fn kubeadm_documents(&self) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(|d| d.kind != CONFIG_KIND)
    }

    /// The sealos `Config` documents (validated: path and data are strings).
    pub fn configs(&self) -> impl Iterator<Item = Config<'_>> {
        self.documents
            .iter()
            .filter(|d| d.kind == CONFIG_KIND)
            .map(|d| {
                let s = |k: &str| {
                    d.value
                        .get("spec")
                        .and_then(|s| s.get(k))
                        .and_then(Value::as_str)
                };
                Config {
                    name: d
                        .value
                        .get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str),
                    path: s("path").unwrap_or_default(),
                    data: s("data").unwrap_or_default(),
                    strategy: s("strategy"),
                    matches: s("match"),
                }
            })
    }

    /// The whole file as multi-document YAML, documents in their file order
    /// (a new Clusterfile: the Cluster first).
    pub fn to_yaml(&self) -> Result<String, ClusterfileError> {
        let encode = |v: Result<String, serde_yaml::Error>| v.map_err(ClusterfileError::Encode);
        let document = |d: &Document| match d
            .text
            .as_deref()
            .and_then(|t| verbatim::still_reads_as(t, &d.value))
        {
            Some(text) => Ok(text),
            None => encode(serde_yaml::to_string(&d.value)),
        };
        let before = self.cluster_position.min(self.documents.len());
        let mut parts = Vec::with_capacity(self.documents.len() + 1);
        for d in &self.documents[..before] {
            parts.push(document(d)?);
        }
        parts.push(encode(serde_yaml::to_string(&self.cluster))?);
        for d in &self.documents[before..] {
            parts.push(document(d)?);
        }
        Ok(parts.join("---\n"))
    }

    /// Write the file atomically (temp file, fsync, rename) with mode 0600:
    /// it can hold passwords and keys.
    pub fn save(&self, path: &Path) -> Result<(), ClusterfileError> {
        let text = self.to_yaml()?;
        write_private(path, text.as_bytes()).map_err(|source| ClusterfileError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}
