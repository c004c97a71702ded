//! The Clusterfile as a file: one sealos `Cluster` document plus any number
//! of kubeadm documents and sealos `Config` documents, loaded with errors
//! that name file, line and field, and saved atomically with mode 0600,
//! the documents tug leaves alone as the user wrote them.

use super::model::{API_VERSION, Cluster, KeepUnknown};
use super::problem::{FieldPath, Locator, Problem, Severity};
use super::{validate, verbatim};
use crate::fsutil::write_private;
use serde::Deserialize;
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

    /// Parse Clusterfile text; `path` names it in errors. Does not validate.
    pub fn parse(path: &Path, text: String) -> Result<Clusterfile, ClusterfileError> {
        let locator = Locator::new(&text);
        let fail = |line, field: &str, message: String| {
            ClusterfileError::Invalid(Problem {
                severity: Severity::Error,
                file: Some(path.to_path_buf()),
                line,
                field: field.to_string(),
                message,
            })
        };
        // First pass: every document as a plain value, to learn the kinds.
        let mut values = Vec::new();
        for de in serde_yaml::Deserializer::from_str(&text) {
            // The parser reports a syntax error again for every following
            // document, so stop at the first.
            values.push(
                Value::deserialize(de)
                    .map_err(|e| ClusterfileError::Invalid(Problem::from_yaml(path, &text, &e)))?,
            );
        }
        let mut texts = verbatim::document_texts(&text, &values);
        let mut cluster: Option<(usize, usize)> = None;
        let mut documents = Vec::new();
        let mut doc_ordinals = Vec::new();
        let mut ordinal = 0;
        for (index, value) in values.iter().enumerate() {
            if value.is_null() {
                continue;
            }
            let at = |p: &str| locator.line(ordinal, &FieldPath::parse(p));
            if !value.is_mapping() {
                return Err(fail(at(""), "", "a document must be a mapping".into()));
            }
            let kind = match value.get("kind") {
                Some(Value::String(k)) => k.as_str(),
                Some(_) => return Err(fail(at("kind"), "kind", "must be a string".into())),
                None => return Err(fail(at(""), "kind", "missing".into())),
            };
            let api = value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            match kind {
                "Cluster" => {
                    if api != API_VERSION {
                        let msg = format!(
                            "{api:?} is not supported for kind Cluster (want {API_VERSION})"
                        );
                        return Err(fail(at("apiVersion"), "apiVersion", msg));
                    }
                    if cluster.is_some() {
                        let msg = "a second Cluster document; a Clusterfile holds one".into();
                        return Err(fail(at("kind"), "kind", msg));
                    }
                    cluster = Some((index, ordinal));
                }
                k if k == CONFIG_KIND || KUBEADM_KINDS.contains(&k) => {
                    documents.push(Document {
                        kind: k.to_string(),
                        value: value.clone(),
                        text: texts[index].take(),
                    });
                    doc_ordinals.push(ordinal);
                }
                other => {
                    let msg = format!(
                        "unknown kind {other:?} (want Cluster, Config, {})",
                        KUBEADM_KINDS.join(", ")
                    );
                    return Err(fail(at("kind"), "kind", msg));
                }
            }
            ordinal += 1;
        }
        let Some((index, cluster_doc)) = cluster else {
            return Err(fail(
                None,
                "kind",
                "no Cluster document (kind: Cluster)".into(),
            ));
        };
        // Second pass: the Cluster document typed, so errors carry a location.
        let de = serde_yaml::Deserializer::from_str(&text)
            .nth(index)
            .expect("the first pass saw this document");
        let mut c = Cluster::deserialize(de)
            .map_err(|e| ClusterfileError::Invalid(Problem::from_yaml(path, &text, &e)))?;
        c.keep_unknown(&values[index]);
        let cluster_position = doc_ordinals.iter().filter(|&&o| o < cluster_doc).count();
        Ok(Clusterfile {
            cluster: c,
            documents,
            cluster_position,
            source: Some(Source {
                path: path.to_path_buf(),
                text,
                cluster_doc,
                doc_ordinals,
            }),
        })
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
