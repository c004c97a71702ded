//! Clusterfile `Config` documents (sealos `pkg/config`): a file written into
//! an image's tree before its hooks and CMDs run. Each document applies to
//! the image its `spec.match` names, or to every image without one; its
//! `spec.strategy` says how `spec.data` meets the file the image already
//! has there: `override` (the default) replaces it, `insert` puts the data
//! before it, `append` after it (joined by a newline, as sealos joins
//! them), `merge` merges the data's YAML map into each YAML document of the
//! file (maps key by key, everything else replaced, as sealos's mergo with
//! overwrite). The image's file is read from its layers in the local store
//! here, on the jump host, so the planner only writes known content.

use super::spec::{ImageSpec, LayerSpec};
use crate::image::Reference;
use crate::image::layer::Compression;
use serde_yaml::{Mapping, Value};
use std::io::{BufRead, BufReader, Read};

/// The largest image file a Config document may insert into, append to or merge into.
pub const MAX_BASE_FILE: u64 = 16 << 20;

/// How a Config document's data meets the image's file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The data replaces the file.
    Override,
    /// The data's YAML map is merged into each YAML document of the file.
    Merge,
    /// The data goes before the file.
    Insert,
    /// The data goes after the file.
    Append,
}

impl Strategy {
    /// The strategy a `spec.strategy` names (override when absent); `None` when unknown.
    pub fn parse(name: Option<&str>) -> Option<Strategy> {
        match name {
            None | Some("override") => Some(Strategy::Override),
            Some("merge") => Some(Strategy::Merge),
            Some("insert") => Some(Strategy::Insert),
            Some("append") => Some(Strategy::Append),
            Some(_) => None,
        }
    }
}

/// One Config document, as the Clusterfile gives it (already validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigDoc {
    /// `metadata.name`, for errors.
    pub name: String,
    /// `spec.path`, relative to the image's root.
    pub path: String,
    /// `spec.data`.
    pub data: String,
    /// `spec.strategy`.
    pub strategy: Strategy,
    /// `spec.match`: the image it applies to; every image when `None`.
    pub matches: Option<String>,
}

/// A file to write into an image's tree on the hosts that image reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    /// The image's [`ImageSpec::name`].
    pub image: String,
    /// The path relative to the image's root.
    pub path: String,
    /// The content to write.
    pub content: String,
}

/// Why a Config document cannot be applied.
#[derive(Debug, thiserror::Error)]
#[error("Config {name}: image {image}, {path}: {message}")]
pub struct ConfigError {
    /// The document's name.
    pub name: String,
    /// The image.
    pub image: String,
    /// `spec.path`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The files the Config documents give each image, in image then document order
/// (a later document for the same file builds on the earlier one's result).
pub fn resolve(docs: &[ConfigDoc], images: &[ImageSpec]) -> Result<Vec<ConfigFile>, ConfigError> {
    let mut out: Vec<ConfigFile> = Vec::new();
    for image in images {
        for doc in docs.iter().filter(|d| applies(d, image)) {
            let fail = |message: String| ConfigError {
                name: doc.name.clone(),
                image: image.reference.clone(),
                path: doc.path.clone(),
                message,
            };
            let inside = !doc.path.is_empty()
                && !doc.path.starts_with('/')
                && !doc.path.split('/').any(|c| c == "..");
            if !inside {
                return Err(fail("want a path inside the image".into()));
            }
            let earlier = out
                .iter()
                .rposition(|f| f.image == image.name && f.path == doc.path);
            let base = match (doc.strategy, earlier) {
                (Strategy::Override, _) => String::new(),
                (_, Some(i)) => out.remove(i).content,
                (_, None) => image_file(image, &doc.path).map_err(fail)?,
            };
            let content = match doc.strategy {
                Strategy::Override => doc.data.clone(),
                Strategy::Insert => format!("{}\n{base}", doc.data),
                Strategy::Append => format!("{base}\n{}", doc.data),
                Strategy::Merge => merge_yaml(&base, &doc.data).map_err(fail)?,
            };
            out.retain(|f| !(f.image == image.name && f.path == doc.path));
            out.push(ConfigFile {
                image: image.name.clone(),
                path: doc.path.clone(),
                content,
            });
        }
    }
    Ok(out)
}

/// Whether `doc` applies to `image`: no `match`, or one naming the image (compared as
/// normalised references, so `labring/helm:v3` matches `docker.io/labring/helm:v3`).
fn applies(doc: &ConfigDoc, image: &ImageSpec) -> bool {
    let Some(wanted) = &doc.matches else {
        return true;
    };
    let norm = |r: &str| {
        r.parse::<Reference>()
            .map_or_else(|_| r.to_string(), |r| r.to_string())
    };
    norm(wanted) == norm(&image.reference)
}

/// The text of `path` in the image's merged tree; empty when it has none.
fn image_file(image: &ImageSpec, path: &str) -> Result<String, String> {
    let hides = |layer: &LayerSpec| {
        let c = &layer.content;
        c.whiteouts
            .iter()
            .any(|w| path == w || path.starts_with(&format!("{w}/")))
            || c.opaque_dirs
                .iter()
                .any(|d| d.is_empty() || path.starts_with(&format!("{d}/")))
    };
    for layer in image.layers.iter().rev() {
        if layer.content.other
            && let Some(bytes) = layer_file(layer, path)?
        {
            return String::from_utf8(bytes).map_err(|_| "the image's file is not text".into());
        }
        if hides(layer) {
            break;
        }
    }
    Ok(String::new())
}

/// The content of the regular file `path` in one layer, if the layer has it.
fn layer_file(layer: &LayerSpec, path: &str) -> Result<Option<Vec<u8>>, String> {
    let err = |e: std::io::Error| format!("reading layer {}: {e}", layer.digest);
    let file = std::fs::File::open(&layer.path).map_err(err)?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let head = input.fill_buf().map_err(err)?.to_vec();
    let tar = Compression::detect(&head, &layer.media_type)
        .decoder(input)
        .map_err(err)?;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.path().map_err(err)?.to_string_lossy().into_owned();
        let name = name.trim_start_matches("./").trim_end_matches('/');
        if name != path {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err("the image has something other than a regular file there".into());
        }
        if entry.size() > MAX_BASE_FILE {
            return Err(format!(
                "the image's file is larger than {MAX_BASE_FILE} bytes"
            ));
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_BASE_FILE)
            .read_to_end(&mut bytes)
            .map_err(err)?;
        return Ok(Some(bytes));
    }
    Ok(None)
}

/// sealos's merge: the data's map merged into every `---`-separated YAML document of
/// `base` (a missing file is one empty document), maps key by key, all else replaced.
fn merge_yaml(base: &str, data: &str) -> Result<String, String> {
    let over = as_map(data).map_err(|e| format!("spec.data: {e}"))?;
    let mut docs = Vec::new();
    for raw in base.split("---\n") {
        let mut doc = as_map(raw).map_err(|e| format!("the image's file: {e}"))?;
        merge_map(&mut doc, &over);
        let text = serde_yaml::to_string(&doc).map_err(|e| e.to_string())?;
        docs.push(text);
    }
    Ok(docs.join("\n---\n"))
}

fn as_map(text: &str) -> Result<Mapping, String> {
    match serde_yaml::from_str::<Value>(text).map_err(|e| e.to_string())? {
        Value::Null => Ok(Mapping::new()),
        Value::Mapping(m) => Ok(m),
        _ => Err("merge needs a YAML map".into()),
    }
}

fn merge_map(base: &mut Mapping, over: &Mapping) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge_map(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::spec::{ImageKind, LayerContent};
    use crate::image::digest::Digest;

    /// A gzip layer of (path, text) files in `dir`, hiding `whiteouts` below it.
    fn layer(
        dir: &std::path::Path,
        n: u8,
        files: &[(&str, &str)],
        whiteouts: &[&str],
    ) -> LayerSpec {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, text.as_bytes()).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
        let path = dir.join(format!("layer{n}"));
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        LayerSpec {
            digest: Digest::of(&[n]),
            size: 0,
            media_type: crate::image::oci::media::OCI_LAYER_GZIP.into(),
            path,
            content: LayerContent {
                other: !files.is_empty(),
                whiteouts: whiteouts.iter().map(|w| w.to_string()).collect(),
                ..LayerContent::default()
            },
        }
    }

    fn image(reference: &str, layers: Vec<LayerSpec>) -> ImageSpec {
        ImageSpec {
            reference: reference.into(),
            name: crate::engine::spec::image_dir_name(reference),
            kind: ImageKind::Application,
            manifest: Digest::of(reference.as_bytes()),
            arch: "amd64".into(),
            labels: Default::default(),
            image_env: Default::default(),
            env: Default::default(),
            entrypoint: vec![],
            cmd: vec![],
            layers,
            templates: vec![],
            has_sealctl: false,
        }
    }

    fn doc(path: &str, strategy: Strategy, data: &str, matches: Option<&str>) -> ConfigDoc {
        ConfigDoc {
            name: "n".into(),
            path: path.into(),
            data: data.into(),
            strategy,
            matches: matches.map(str::to_string),
        }
    }

    #[test]
    fn strategies_build_on_the_image_file_from_its_layers() {
        let dir = tempfile::tempdir().unwrap();
        let lower = layer(
            dir.path(),
            1,
            &[
                ("etc/a.yaml", "x: 1\n"),
                ("./etc/gone", "old"),
                ("etc/l.yaml", "- a\n"),
            ],
            &[],
        );
        let upper = layer(dir.path(), 2, &[("etc/b", "top")], &["etc/gone"]);
        let app = image("docker.io/labring/helm:v3", vec![lower, upper]);
        let other = image("docker.io/labring/calico:v3", vec![]);
        let docs = [
            doc(
                "etc/a.yaml",
                Strategy::Merge,
                "y: 2\n",
                Some("labring/helm:v3"),
            ),
            doc(
                "etc/a.yaml",
                Strategy::Append,
                "# end",
                Some("labring/helm:v3"),
            ),
            doc("etc/gone", Strategy::Insert, "new", Some("labring/helm:v3")),
            doc("etc/b", Strategy::Insert, "first", Some("labring/helm:v3")),
            doc("etc/all", Strategy::Override, "every image", None),
        ];
        let files = resolve(&docs, &[app, other]).unwrap();
        let got: Vec<(&str, &str, &str)> = files
            .iter()
            .map(|f| (f.image.as_str(), f.path.as_str(), f.content.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("helm-v3", "etc/a.yaml", "x: 1\ny: 2\n\n# end"),
                ("helm-v3", "etc/gone", "new\n"),
                ("helm-v3", "etc/b", "first\ntop"),
                ("helm-v3", "etc/all", "every image"),
                ("calico-v3", "etc/all", "every image"),
            ]
        );
        let bad = [doc("etc/l.yaml", Strategy::Merge, "y: 2\n", None)];
        let app = image(
            "labring/helm:v3",
            vec![layer(dir.path(), 3, &[("etc/l.yaml", "- a\n")], &[])],
        );
        let err = resolve(&bad, std::slice::from_ref(&app))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Config n: image labring/helm:v3, etc/l.yaml: the image's file:"),
            "{err}"
        );
        let outside = [doc("etc/../../x", Strategy::Override, "x", None)];
        let err = resolve(&outside, &[app]).unwrap_err().to_string();
        assert!(
            err.ends_with("etc/../../x: want a path inside the image"),
            "{err}"
        );
    }

    #[test]
    fn merge_replaces_values_and_lists_and_merges_maps_in_every_document() {
        let base = "a: 1\nm:\n  x: 1\n  l: [1, 2]\n---\nb: 2\n";
        let out = merge_yaml(base, "m:\n  l: [3]\n  y: 2\na: 9\n").unwrap();
        let docs: Vec<Value> = out
            .split("\n---\n")
            .map(|d| serde_yaml::from_str(d).unwrap())
            .collect();
        let want = |t: &str| serde_yaml::from_str::<Value>(t).unwrap();
        assert_eq!(docs[0], want("a: 9\nm: {x: 1, l: [3], y: 2}\n"));
        assert_eq!(docs[1], want("b: 2\na: 9\nm: {l: [3], y: 2}\n"));
        assert_eq!(
            merge_yaml("", "k: v\n").unwrap(),
            "k: v\n",
            "no file: the data"
        );
        assert!(
            merge_yaml("- a\n", "k: v\n")
                .unwrap_err()
                .contains("image's file")
        );
    }

    #[test]
    fn strategies_parse_as_sealos_names_them() {
        assert_eq!(Strategy::parse(None), Some(Strategy::Override));
        assert_eq!(Strategy::parse(Some("append")), Some(Strategy::Append));
        assert_eq!(Strategy::parse(Some("replace")), None);
    }
}
