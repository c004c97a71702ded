//! Reading Clusterfile text: every document parsed as a plain value to
//! learn its kind (one Cluster; kubeadm and `Config` documents kept with
//! their text), then the Cluster read typed so its errors carry a line.

use super::{CONFIG_KIND, Clusterfile, ClusterfileError, Document, KUBEADM_KINDS, Source};
use crate::cluster::model::{API_VERSION, Cluster, KeepUnknown};
use crate::cluster::problem::{FieldPath, Locator, Problem, Severity};
use crate::cluster::verbatim;
use serde::Deserialize;
use serde_yaml::Value;
use std::path::Path;

/// The deepest `[`/`{` nesting a Clusterfile may have. The YAML parser
/// takes time quadratic in the depth (100k brackets took a minute); real
/// Clusterfiles nest a handful of levels.
pub const MAX_DEPTH: usize = 64;

/// The deepest indentation (plus compact `- ` entries) a line may have:
/// block collections nest by indentation, at least one column a level.
pub const MAX_INDENT: usize = 256;

/// The line and depth where flow collections first nest deeper than
/// [`MAX_DEPTH`], or a line's block nesting could exceed [`MAX_INDENT`];
/// quoted text and comments are skipped.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-', '?', ':']).len();
        if indent > MAX_INDENT {
            return Some((n + 1, indent));
        }
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some((n + 1, depth));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

impl Clusterfile {
    /// Parse Clusterfile text; `path` names it in errors. Does not validate.
    pub fn parse(path: &Path, text: String) -> Result<Clusterfile, ClusterfileError> {
        if let Some((line, depth)) = too_deep(&text) {
            return Err(ClusterfileError::Invalid(Problem {
                severity: Severity::Error,
                file: Some(path.to_path_buf()),
                line: Some(line),
                field: String::new(),
                message: format!(
                    "nested {depth} levels deep; a Clusterfile nests at most {MAX_DEPTH} brackets or {MAX_INDENT} columns (refused before parsing)"
                ),
            }));
        }
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
}
