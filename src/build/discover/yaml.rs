//! Images in Kubernetes YAML: every `image:` of containers, initContainers
//! and ephemeralContainers (whatever the kind: Pod, Deployment, CronJob,
//! List items, CRDs with pod templates), plus any other `image:` string that
//! parses as a reference. Templated files are scanned line by line instead.

use super::{Collector, DiscoverError, Origin, io};
use crate::image::Reference;
use serde::Deserialize;
use serde_yaml::Value;
use std::path::Path;

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Whether a value is a template or variable, not a reference yet.
fn templated(s: &str) -> bool {
    s.contains("{{") || s.contains('$')
}

/// The value of an `image:` key on a line, unquoted, if the line has one.
fn image_on_line(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with('#') {
        return None;
    }
    let at = t.find("image:")?;
    let before = t[..at].chars().last();
    if before.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let v = t[at + 6..].split(" #").next().unwrap_or("").trim();
    let v = v.trim_matches(|c| c == '"' || c == '\'').trim();
    (!v.is_empty()).then_some(v)
}

/// The first line (1-based) whose `image:` value is `value`.
fn line_of(text: &str, value: &str) -> Option<usize> {
    text.lines()
        .position(|l| image_on_line(l) == Some(value))
        .map(|i| i + 1)
}

/// Scan one manifest file.
pub(super) fn scan_file(root: &Path, rel: &Path, c: &mut Collector) -> Result<(), DiscoverError> {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    if rel.extension().is_some_and(|e| e == "tmpl") || text.contains("{{") {
        line_scan(&text, rel, c);
        return Ok(());
    }
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = Value::deserialize(doc).map_err(|e| {
            let loc = e.location();
            DiscoverError::BadYaml {
                file: rel.to_path_buf(),
                line: loc.as_ref().map_or(1, |l| l.line()),
                column: loc.as_ref().map_or(1, |l| l.column()),
                message: e.to_string(),
            }
        })?;
        walk(&value, false, &mut |image, strict| {
            record(image, strict, rel, Some(&text), c)
        })?;
    }
    Ok(())
}

/// Scan YAML that may not be valid (helm output pieces): structured when it
/// parses, line by line otherwise. Origins carry no line.
pub(super) fn scan_rendered(
    text: &str,
    origin: &Path,
    c: &mut Collector,
) -> Result<(), DiscoverError> {
    let docs: Result<Vec<Value>, _> = serde_yaml::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect();
    match docs {
        Ok(docs) => {
            for d in &docs {
                walk(d, false, &mut |image, strict| {
                    record(image, strict, origin, None, c)
                })?;
            }
        }
        Err(_) => line_scan(text, origin, c),
    }
    Ok(())
}

fn record(
    image: &str,
    strict: bool,
    rel: &Path,
    text: Option<&str>,
    c: &mut Collector,
) -> Result<(), DiscoverError> {
    let origin = Origin {
        file: rel.to_path_buf(),
        line: text.and_then(|t| line_of(t, image)),
    };
    if templated(image) {
        c.warnings
            .push(format!("{origin}: skipped templated image {image:?}"));
        return Ok(());
    }
    match image.parse::<Reference>() {
        Ok(r) => c.add(r, origin),
        Err(e) if strict => {
            return Err(DiscoverError::BadReference {
                origin,
                message: format!("container image: {e}"),
            });
        }
        Err(_) => {}
    }
    Ok(())
}

/// Visit every `image:` string; `strict` when it is a container's image.
fn walk(
    v: &Value,
    strict: bool,
    f: &mut dyn FnMut(&str, bool) -> Result<(), DiscoverError>,
) -> Result<(), DiscoverError> {
    match v {
        Value::Mapping(m) => {
            for (k, val) in m {
                let key = k.as_str().unwrap_or("");
                match (key, val) {
                    ("image", Value::String(s)) => f(s, strict)?,
                    (k, Value::Sequence(items)) if CONTAINER_LISTS.contains(&k) => {
                        for item in items {
                            walk(item, true, f)?;
                        }
                    }
                    _ => walk(val, false, f)?,
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                walk(item, false, f)?;
            }
        }
        Value::Tagged(t) => walk(&t.value, strict, f)?,
        _ => {}
    }
    Ok(())
}

/// sealos-style scan: every `image:` line whose value parses.
pub(super) fn line_scan(text: &str, rel: &Path, c: &mut Collector) {
    for (n, line) in text.lines().enumerate() {
        let Some(v) = image_on_line(line) else {
            continue;
        };
        if templated(v) {
            continue;
        }
        if let Ok(r) = v.parse::<Reference>() {
            c.add(
                r,
                Origin {
                    file: rel.to_path_buf(),
                    line: Some(n + 1),
                },
            );
        }
    }
}
