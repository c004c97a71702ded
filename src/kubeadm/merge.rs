//! Field-by-field merging of configuration layers, as sealos merges them (mergo with
//! override and appended slices).
//!
//! Rules: maps merge recursively; scalars replace; a null (a field written without a
//! value) changes nothing; lists append, an entry equal to one already there not added
//! twice (so `certSANs` is a union, order kept). Lists whose entries carry a `name`
//! (`extraArgs` and `kubeletExtraArgs` in their v1beta4 name/value form, `extraVolumes`)
//! merge by name: the overlay's entries for a name replace the base's, new names are
//! appended. A layer that sets `etcd.external` drops the base's `etcd.local` and the other
//! way round: kubeadm takes only one. A map where the base has a list or a scalar (or the
//! other way round) is an error naming the field.

use std::collections::{BTreeMap, HashSet};

use serde_yaml::{Mapping, Value};

use super::Error;
use super::document::{KINDS, Kind, Layer};
use super::version::ApiVersion;

/// Lists whose entries are maps with a `name`, merged by it.
const NAMED_LISTS: &[&str] = &["extraArgs", "kubeletExtraArgs", "extraVolumes"];

/// The merged configuration: exactly one document per kind, all for one kubeadm API.
#[derive(Debug, Clone)]
pub struct Config {
    /// The kubeadm API version every kubeadm document is written for.
    pub api: ApiVersion,
    docs: BTreeMap<Kind, Mapping>,
}

impl Config {
    /// Merges layers in order, later layers winning. The first layer must hold every kind
    /// (the built-in defaults) and every layer must already be written for `api`.
    pub fn merge(api: ApiVersion, layers: Vec<Layer>) -> Result<Self, Error> {
        let mut docs: BTreeMap<Kind, Value> = BTreeMap::new();
        for layer in layers {
            for doc in layer.docs {
                debug_assert!(doc.api.is_none_or(|a| a == api), "layer not converted");
                let over = Value::Mapping(doc.body);
                match docs.get_mut(&doc.kind) {
                    Some(base) => {
                        if let Value::Mapping(b) = base {
                            etcd_exclusive(b, &over);
                        }
                        merge(base, over, doc.kind.name()).map_err(|e| Error::Field {
                            file: layer.source.clone(),
                            path: e.path,
                            message: e.message,
                        })?
                    }
                    None => {
                        docs.insert(doc.kind, over);
                    }
                }
            }
        }
        let docs = KINDS
            .into_iter()
            .map(|kind| match docs.remove(&kind) {
                Some(Value::Mapping(m)) => (kind, m),
                _ => panic!("built-in defaults lack {}", kind.name()),
            })
            .collect();
        Ok(Self { api, docs })
    }

    /// The merged document of a kind.
    pub fn doc(&self, kind: Kind) -> &Mapping {
        &self.docs[&kind]
    }

    /// The merged document of a kind, for computing fields.
    pub fn doc_mut(&mut self, kind: Kind) -> &mut Mapping {
        self.docs.get_mut(&kind).expect("every kind is present")
    }
}

/// Why two values could not be merged: the dotted field path and what was wrong.
#[derive(Debug)]
pub struct Mismatch {
    /// Dotted path, starting with the document kind.
    pub path: String,
    /// What was found where something else belongs.
    pub message: String,
}

/// Merges `over` into `base`; `path` names `base` for errors.
pub fn merge(base: &mut Value, over: Value, path: &str) -> Result<(), Mismatch> {
    if over.is_null() {
        return Ok(());
    }
    if base.is_null() {
        *base = without_nulls(over);
        return Ok(());
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                let child = format!("{path}.{}", key_text(&k));
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v, &child)?,
                    None if v.is_null() => {}
                    None => {
                        b.insert(k, without_nulls(v));
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) if NAMED_LISTS.contains(&field) => {
            *b = merge_named(std::mem::take(b), o, path)?;
        }
        (Value::Sequence(b), Value::Sequence(o)) => {
            for item in o {
                if !b.contains(&item) {
                    b.push(item);
                }
            }
        }
        (b, o) if shape(b) == shape(&o) => *b = o,
        (b, o) => {
            return Err(Mismatch {
                path: path.to_string(),
                message: format!("expected {}, found {}", shape(b), shape(&o)),
            });
        }
    }
    Ok(())
}

/// kubeadm refuses a ClusterConfiguration with both `etcd.local` and `etcd.external`:
/// the one `over` sets replaces the other in `base`, as sealos does.
fn etcd_exclusive(base: &mut Mapping, over: &Value) {
    let set = |kind: &str| {
        over.get("etcd")
            .and_then(|e| e.get(kind))
            .is_some_and(|v| !v.is_null())
    };
    let Some(Value::Mapping(etcd)) = base.get_mut("etcd") else {
        return;
    };
    if set("external") {
        etcd.shift_remove("local");
    } else if set("local") {
        etcd.shift_remove("external");
    }
}

/// Merges lists of named entries: the overlay's entries for a name take the place of
/// the base's entries for that name; new names are appended.
fn merge_named(base: Vec<Value>, over: Vec<Value>, path: &str) -> Result<Vec<Value>, Mismatch> {
    let name_of = |item: &Value| -> Result<String, Mismatch> {
        item.get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Mismatch {
                path: path.to_string(),
                message: "every entry needs a `name`".into(),
            })
    };
    let mut over_names = Vec::with_capacity(over.len());
    for item in &over {
        over_names.push(name_of(item)?);
    }
    let mut placed = HashSet::new();
    let mut merged = Vec::new();
    for item in base {
        let name = name_of(&item)?;
        if !over_names.contains(&name) {
            merged.push(item);
        } else if placed.insert(name.clone()) {
            merged.extend(
                over.iter()
                    .zip(&over_names)
                    .filter(|(_, n)| **n == name)
                    .map(|(v, _)| v.clone()),
            );
        }
    }
    for (item, name) in over.into_iter().zip(over_names) {
        if !placed.contains(&name) {
            merged.push(item);
        }
    }
    Ok(merged)
}

/// A value with every null map field removed, so unset fields never reach the output.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Mapping(_) => "a map",
        Value::Sequence(_) => "a list",
        Value::Null => "nothing",
        Value::Tagged(t) => shape(&t.value),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => "a single value",
    }
}

/// A map key as text for error paths.
pub fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    fn merged(base: &str, over: &str) -> Value {
        let mut b = yaml(base);
        merge(&mut b, yaml(over), "Doc").unwrap();
        b
    }

    #[test]
    fn maps_merge_recursively_and_scalars_replace() {
        let out = merged(
            "a:\n  b: 1\n  c:\n    d: x\n    e: y\nf: 2\n",
            "a:\n  c:\n    e: z\n    g: new\nh: 3\n",
        );
        assert_eq!(
            out,
            yaml("a:\n  b: 1\n  c:\n    d: x\n    e: z\n    g: new\nf: 2\nh: 3\n")
        );
    }

    #[test]
    fn nulls_change_nothing() {
        let out = merged("a: 1\nb:\n  c: 2\n", "a:\nb:\n  c: ~\n  d: ~\nx: ~\n");
        assert_eq!(out, yaml("a: 1\nb:\n  c: 2\n"));
    }

    #[test]
    fn lists_append_without_repeating_an_entry() {
        let out = merged(
            "taints:\n- {key: a}\n- {key: b}\n",
            "taints:\n- {key: c}\n- {key: a}\n",
        );
        assert_eq!(out, yaml("taints:\n- {key: a}\n- {key: b}\n- {key: c}\n"));
    }

    #[test]
    fn extra_volumes_merge_by_name() {
        let out = merged(
            "extraVolumes:\n- {name: audit, hostPath: /a}\n- {name: localtime, hostPath: /t}\n",
            "extraVolumes:\n- {name: data, hostPath: /d}\n- {name: localtime, hostPath: /u}\n",
        );
        assert_eq!(
            out,
            yaml(
                "extraVolumes:\n- {name: audit, hostPath: /a}\n- {name: localtime, hostPath: /u}\n\
                 - {name: data, hostPath: /d}\n"
            )
        );
    }

    #[test]
    fn etcd_external_and_local_exclude_each_other() {
        let layer = |text: &str| Layer::from_yaml("x", text).unwrap();
        let cluster = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n";
        let base = format!("{cluster}etcd:\n  local:\n    dataDir: /d\n");
        let defaults = super::super::defaults::defaults(ApiVersion::V1beta3);
        let external = format!("{cluster}etcd:\n  external:\n    endpoints: [https://e:2379]\n");
        let config = Config::merge(
            ApiVersion::V1beta3,
            vec![defaults.clone(), layer(&base), layer(&external)],
        )
        .unwrap();
        let etcd = &config.doc(Kind::Cluster)["etcd"];
        assert_eq!(etcd, &yaml("external:\n  endpoints: [https://e:2379]\n"));
        let local = format!("{cluster}etcd:\n  local:\n    dataDir: /x\n");
        let config = Config::merge(
            ApiVersion::V1beta3,
            vec![defaults, layer(&external), layer(&local)],
        )
        .unwrap();
        let etcd = &config.doc(Kind::Cluster)["etcd"];
        assert!(etcd.get("external").is_none(), "{etcd:?}");
        assert_eq!(etcd["local"]["dataDir"], "/x");
    }

    #[test]
    fn cert_sans_union_keeps_order() {
        let out = merged(
            "apiServer:\n  certSANs: [b.example, 10.0.0.1]\n",
            "apiServer:\n  certSANs: [10.0.0.1, a.example, c.example]\n",
        );
        assert_eq!(
            out,
            yaml("apiServer:\n  certSANs: [b.example, 10.0.0.1, a.example, c.example]\n")
        );
    }

    #[test]
    fn argument_lists_merge_by_name() {
        let out = merged(
            "extraArgs:\n- {name: a, value: '1'}\n- {name: b, value: '2'}\n- {name: c, value: '3'}\n",
            "extraArgs:\n- {name: b, value: '20'}\n- {name: d, value: '4'}\n- {name: b, value: '21'}\n",
        );
        assert_eq!(
            out,
            yaml(
                "extraArgs:\n- {name: a, value: '1'}\n- {name: b, value: '20'}\n- {name: b, value: '21'}\n\
                 - {name: c, value: '3'}\n- {name: d, value: '4'}\n"
            )
        );
    }

    #[test]
    fn shape_mismatch_names_the_field() {
        let mut base = yaml("networking:\n  podSubnet: 10.0.0.0/8\n");
        let err = merge(&mut base, yaml("networking: [a]\n"), "ClusterConfiguration").unwrap_err();
        assert_eq!(err.path, "ClusterConfiguration.networking");
        assert_eq!(err.message, "expected a map, found a list");
        let err = merge(&mut base, yaml("networking:\n  podSubnet: {a: 1}\n"), "X").unwrap_err();
        assert_eq!(err.path, "X.networking.podSubnet");
    }
}
