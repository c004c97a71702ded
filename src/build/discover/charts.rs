//! Images of Helm charts under `charts/`: rendered with `helm template`
//! when helm is there (with `charts/<name>.values.yaml` applied), otherwise
//! read from the chart's values (`image: repo:tag`, or `image.registry` +
//! `image.repository` + `image.tag` at any depth, the tag defaulting to the
//! chart's appVersion), with a warning that templates were not rendered.

use super::{Collector, DiscoverError, Origin, io, yaml};
use crate::image::Reference;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chart dirs (holding Chart.yaml) and `.tgz` charts under `charts/`, not
/// descending into a chart (its subcharts go with it).
fn charts(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), DiscoverError> {
    let dir = root.join(rel);
    if !dir.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let child = rel.join(e.file_name());
        let path = e.path();
        if path.is_dir() {
            if path.join("Chart.yaml").is_file() {
                out.push(child);
            } else {
                charts(root, &child, out)?;
            }
        } else if child.extension().is_some_and(|x| x == "tgz") {
            out.push(child);
        }
    }
    Ok(())
}

/// The values override sealos applies: `charts/<name>.values.yaml` beside the chart.
fn override_file(root: &Path, chart: &Path) -> Option<PathBuf> {
    let name = chart.file_name()?.to_string_lossy();
    let name = name.strip_suffix(".tgz").unwrap_or(&name);
    let p = chart.with_file_name(format!("{name}.values.yaml"));
    root.join(&p).is_file().then_some(p)
}

pub(super) fn scan(
    root: &Path,
    opts: &super::Options,
    c: &mut Collector,
) -> Result<(), DiscoverError> {
    let mut found = Vec::new();
    charts(root, Path::new("charts"), &mut found)?;
    let mut unrendered = Vec::new();
    for chart in found {
        let values = override_file(root, &chart);
        match &opts.helm {
            Some(helm) => render(root, helm, &chart, values.as_deref(), c)?,
            None => {
                from_values(root, &chart, values.as_deref(), c)?;
                unrendered.push(chart.display().to_string());
            }
        }
    }
    if !unrendered.is_empty() {
        c.warnings.push(format!(
            "helm not found on PATH: images of {} were read from chart values only (templates not rendered); install helm for a complete scan",
            unrendered.join(", ")
        ));
    }
    Ok(())
}

fn render(
    root: &Path,
    helm: &Path,
    chart: &Path,
    values: Option<&Path>,
    c: &mut Collector,
) -> Result<(), DiscoverError> {
    let mut cmd = Command::new(helm);
    cmd.current_dir(root)
        .arg("template")
        .arg("dryrun")
        .arg(chart);
    if let Some(v) = values {
        cmd.arg("-f").arg(v);
    }
    let out = cmd.output().map_err(io(helm))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(DiscoverError::Helm {
            chart: chart.to_path_buf(),
            message: format!(
                "{}: {}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // helm marks each document with `# Source: <chart>/<path in chart>`.
    let mut origin = chart.to_path_buf();
    let mut doc = String::new();
    for line in text.lines().chain(std::iter::once("---")) {
        if line.starts_with("---") {
            yaml::scan_rendered(&doc, &origin, c)?;
            doc.clear();
            origin = chart.to_path_buf();
        } else if let Some(src) = line.strip_prefix("# Source: ") {
            let inside = src.trim().split_once('/').map_or("", |(_, rest)| rest);
            origin = chart.join(inside);
        } else {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    Ok(())
}

/// Chart.yaml and values.yaml texts of a chart dir or `.tgz`.
fn chart_files(root: &Path, chart: &Path) -> Result<(String, String), DiscoverError> {
    let path = root.join(chart);
    if path.is_dir() {
        let read = |n: &str| {
            let p = path.join(n);
            if p.is_file() {
                std::fs::read_to_string(&p).map_err(io(&p))
            } else {
                Ok(String::new())
            }
        };
        return Ok((read("Chart.yaml")?, read("values.yaml")?));
    }
    let f = std::fs::File::open(&path).map_err(io(&path))?;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let (mut meta, mut values) = (String::new(), String::new());
    for e in ar.entries().map_err(io(&path))? {
        let e = e.map_err(io(&path))?;
        let p = e.path().map_err(io(&path))?.into_owned();
        let parts: Vec<_> = p.components().collect();
        let target = match (parts.len(), p.file_name().and_then(|n| n.to_str())) {
            (2, Some("Chart.yaml")) => &mut meta,
            (2, Some("values.yaml")) => &mut values,
            _ => continue,
        };
        std::io::Read::read_to_string(&mut std::io::Read::take(e, 4 << 20), target)
            .map_err(io(&path))?;
    }
    Ok((meta, values))
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Overlay `over` onto `base`, mapping by mapping.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn from_values(
    root: &Path,
    chart: &Path,
    extra: Option<&Path>,
    c: &mut Collector,
) -> Result<(), DiscoverError> {
    let (meta, values_text) = chart_files(root, chart)?;
    let app_version = serde_yaml::from_str::<Value>(&meta)
        .ok()
        .and_then(|m| scalar(m.get("appVersion")));
    let values_file = chart.join("values.yaml");
    let mut values: Value = serde_yaml::from_str(&values_text).unwrap_or(Value::Null);
    let mut texts = vec![(values_file, values_text.clone())];
    if let Some(x) = extra {
        let text = std::fs::read_to_string(root.join(x)).map_err(io(x))?;
        if let Ok(over) = serde_yaml::from_str::<Value>(&text) {
            merge(&mut values, over);
        }
        texts.push((x.to_path_buf(), text));
    }
    let mut refs = Vec::new();
    image_values(&values, app_version.as_deref(), &mut refs);
    for (r, needle) in refs {
        let origin = texts
            .iter()
            .rev()
            .find_map(|(f, t)| {
                t.lines().position(|l| l.contains(&needle)).map(|i| Origin {
                    file: f.clone(),
                    line: Some(i + 1),
                })
            })
            .unwrap_or(Origin {
                file: chart.join("values.yaml"),
                line: None,
            });
        c.add(r, origin);
    }
    // Subcharts carry their own values and appVersion.
    if root.join(chart).is_dir() {
        let mut subs = Vec::new();
        charts(root, &chart.join("charts"), &mut subs)?;
        for sub in subs.into_iter().filter(|s| root.join(s).is_dir()) {
            from_values(root, &sub, None, c)?;
        }
    }
    Ok(())
}

fn is_image_key(k: &str) -> bool {
    k == "image" || k.ends_with("Image") || k.ends_with("_image")
}

/// References in chart values, each with the text to find its line by.
fn image_values(v: &Value, app_version: Option<&str>, out: &mut Vec<(Reference, String)>) {
    let Value::Mapping(m) = v else {
        if let Value::Sequence(items) = v {
            items.iter().for_each(|i| image_values(i, app_version, out));
        }
        return;
    };
    for (k, val) in m {
        let key = k.as_str().unwrap_or("");
        let candidate = match val {
            Value::String(s) if is_image_key(key) => Some((s.clone(), s.clone())),
            Value::Mapping(im) if is_image_key(key) => scalar(im.get("repository")).map(|repo| {
                let mut s = match scalar(im.get("registry")) {
                    Some(reg) => format!("{}/{repo}", reg.trim_end_matches('/')),
                    None => repo.clone(),
                };
                if let Some(tag) = scalar(im.get("tag")).or(app_version.map(str::to_string)) {
                    s = format!("{s}:{tag}");
                }
                if let Some(d) = scalar(im.get("digest")) {
                    s = format!("{s}@{d}");
                }
                (s, repo)
            }),
            _ => None,
        };
        match candidate {
            Some((s, needle)) if !s.contains("{{") => {
                let s = if s
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| !last.contains(':') && !last.contains('@'))
                {
                    app_version.map_or(s.clone(), |t| format!("{s}:{t}"))
                } else {
                    s
                };
                if let Ok(r) = s.parse::<Reference>() {
                    out.push((r, needle));
                }
            }
            Some(_) => {}
            None => image_values(val, app_version, out),
        }
    }
}
