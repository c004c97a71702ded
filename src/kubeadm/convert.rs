//! Converting kubeadm documents written for one kubeadm API version to another.
//!
//! Only what differs between v1beta2, v1beta3 and v1beta4 in the fields people write is
//! converted: extraArgs maps ⇄ name/value lists (v1beta4), the discovery and control-plane
//! timeouts that moved under `timeouts` (v1beta4), and the v1beta2 fields v1beta3 dropped.
//! A field that has no equivalent in the target version is an error naming it.

use serde_yaml::{Mapping, Value};

use super::Error;
use super::document::{Doc, Kind, Layer};
use super::fields::{self, key};
use super::version::ApiVersion;

/// Where extraArgs live, per kind.
const ARG_PATHS: &[(Kind, &[&str])] = &[
    (Kind::Cluster, &["apiServer", "extraArgs"]),
    (Kind::Cluster, &["controllerManager", "extraArgs"]),
    (Kind::Cluster, &["scheduler", "extraArgs"]),
    (Kind::Cluster, &["etcd", "local", "extraArgs"]),
    (Kind::Init, &["nodeRegistration", "kubeletExtraArgs"]),
    (Kind::Join, &["nodeRegistration", "kubeletExtraArgs"]),
];

/// Fields only v1beta4 has.
const ONLY_V1BETA4: &[(Kind, &[&str])] = &[
    (Kind::Cluster, &["certificateValidityPeriod"]),
    (Kind::Cluster, &["caCertificateValidityPeriod"]),
    (Kind::Cluster, &["encryptionAlgorithm"]),
    (Kind::Cluster, &["dns", "disabled"]),
    (Kind::Cluster, &["proxy", "disabled"]),
    (Kind::Cluster, &["apiServer", "extraEnvs"]),
    (Kind::Cluster, &["controllerManager", "extraEnvs"]),
    (Kind::Cluster, &["scheduler", "extraEnvs"]),
    (Kind::Cluster, &["etcd", "local", "extraEnvs"]),
    (Kind::Init, &["dryRun"]),
    (Kind::Join, &["dryRun"]),
    (Kind::Init, &["nodeRegistration", "imagePullSerial"]),
    (Kind::Join, &["nodeRegistration", "imagePullSerial"]),
    (Kind::Init, &["timeouts"]),
    (Kind::Join, &["timeouts"]),
];

/// Fields v1beta3 added over v1beta2.
const SINCE_V1BETA3: &[(Kind, &[&str])] = &[
    (Kind::Init, &["skipPhases"]),
    (Kind::Join, &["skipPhases"]),
    (Kind::Init, &["patches"]),
    (Kind::Join, &["patches"]),
    (Kind::Init, &["nodeRegistration", "imagePullPolicy"]),
    (Kind::Join, &["nodeRegistration", "imagePullPolicy"]),
];

/// v1beta3 `apiServer.timeoutForControlPlane` ⇄ v1beta4 init `timeouts.controlPlaneComponentHealthCheck`.
const OLD_CP_TIMEOUT: &[&str] = &["apiServer", "timeoutForControlPlane"];
const NEW_CP_TIMEOUT: &[&str] = &["timeouts", "controlPlaneComponentHealthCheck"];
/// v1beta3 join `discovery.timeout` ⇄ v1beta4 join `timeouts.discovery`.
const OLD_DISCOVERY_TIMEOUT: &[&str] = &["discovery", "timeout"];
const NEW_DISCOVERY_TIMEOUT: &[&str] = &["timeouts", "discovery"];

/// Rewrites every kubeadm document of `layer` for `target`.
pub fn convert_layer(layer: &mut Layer, target: ApiVersion) -> Result<(), Error> {
    let source = layer.source.clone();
    let field_error = |kind: Kind, path: &[&str], message: String| Error::Field {
        file: source.clone(),
        path: format!("{}.{}", kind.name(), path.join(".")),
        message,
    };
    // A control-plane timeout moving between ClusterConfiguration and InitConfiguration.
    let mut moved_timeout: Option<Value> = None;
    for doc in &mut layer.docs {
        let Some(from) = doc.api else { continue };
        if from == target {
            continue;
        }
        refuse_missing(doc, from, target, &field_error)?;
        let body = &mut doc.body;
        if from < ApiVersion::V1beta4 && target == ApiVersion::V1beta4 {
            if doc.kind == Kind::Cluster {
                moved_timeout = fields::take(body, OLD_CP_TIMEOUT).or(moved_timeout);
            }
            if doc.kind == Kind::Join {
                move_field(body, OLD_DISCOVERY_TIMEOUT, NEW_DISCOVERY_TIMEOUT)
                    .map_err(|m| field_error(doc.kind, NEW_DISCOVERY_TIMEOUT, m))?;
            }
        }
        if from == ApiVersion::V1beta4 && target < ApiVersion::V1beta4 {
            if doc.kind == Kind::Init {
                moved_timeout = fields::take(body, NEW_CP_TIMEOUT).or(moved_timeout);
            }
            if doc.kind == Kind::Join {
                move_field(body, NEW_DISCOVERY_TIMEOUT, OLD_DISCOVERY_TIMEOUT)
                    .map_err(|m| field_error(doc.kind, OLD_DISCOVERY_TIMEOUT, m))?;
            }
        }
        for (kind, path) in ARG_PATHS {
            if *kind != doc.kind {
                continue;
            }
            let Some(args) = fields::get(body, path).cloned() else {
                continue;
            };
            let converted = if target == ApiVersion::V1beta4 {
                args_to_list(args)
            } else {
                args_to_map(args)
            };
            let converted = converted.map_err(|m| field_error(doc.kind, path, m))?;
            fields::put(body, path, converted).map_err(|m| field_error(doc.kind, path, m))?;
        }
        body.insert(key("apiVersion"), Value::from(target.as_str()));
        doc.api = Some(target);
    }
    if let Some(timeout) = moved_timeout {
        let (kind, path) = if target == ApiVersion::V1beta4 {
            (Kind::Init, NEW_CP_TIMEOUT)
        } else {
            (Kind::Cluster, OLD_CP_TIMEOUT)
        };
        let doc = doc_of(layer, kind, target);
        fields::put(&mut doc.body, path, timeout).map_err(|m| field_error(kind, path, m))?;
    }
    Ok(())
}

/// Fails on fields the target version has no place for; drops v1beta2 fields whose only
/// allowed value is what v1beta3 assumes.
fn refuse_missing(
    doc: &mut Doc,
    from: ApiVersion,
    target: ApiVersion,
    field_error: &impl Fn(Kind, &[&str], String) -> Error,
) -> Result<(), Error> {
    let mut lost: Vec<&[&str]> = Vec::new();
    if from == ApiVersion::V1beta4 && target < ApiVersion::V1beta4 {
        lost.extend(only_for(ONLY_V1BETA4, doc.kind));
    }
    if from >= ApiVersion::V1beta3 && target == ApiVersion::V1beta2 {
        lost.extend(only_for(SINCE_V1BETA3, doc.kind));
    }
    for path in lost {
        let movable = match doc.kind {
            Kind::Init => NEW_CP_TIMEOUT,
            _ => NEW_DISCOVERY_TIMEOUT,
        };
        let present = match fields::get(&doc.body, path) {
            Some(Value::Mapping(m)) if path == ["timeouts"] => {
                m.keys().find(|k| k.as_str() != Some(movable[1])).cloned()
            }
            Some(_) if path != ["timeouts"] => Some(Value::from(path.join("."))),
            _ => None,
        };
        if let Some(found) = present {
            let shown = match path {
                ["timeouts"] => vec!["timeouts", found.as_str().unwrap_or("?")],
                _ => path.to_vec(),
            };
            return Err(field_error(
                doc.kind,
                &shown,
                format!("has no equivalent in {target}"),
            ));
        }
    }
    if from == ApiVersion::V1beta2 && target >= ApiVersion::V1beta3 && doc.kind == Kind::Cluster {
        let dropped: [(&[&str], Value); 2] = [
            (&["dns", "type"], Value::from("CoreDNS")),
            (&["useHyperKubeImage"], Value::from(false)),
        ];
        for (path, only) in dropped {
            match fields::take(&mut doc.body, path) {
                Some(v) if v != only => {
                    let message = format!("only {} is possible from {target}", yaml_inline(&only));
                    return Err(field_error(doc.kind, path, message));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn only_for<'a>(
    table: &'a [(Kind, &'a [&'a str])],
    kind: Kind,
) -> impl Iterator<Item = &'a [&'a str]> {
    table
        .iter()
        .filter(move |(k, _)| *k == kind)
        .map(|(_, p)| *p)
}

fn move_field(body: &mut Mapping, from: &[&str], to: &[&str]) -> Result<(), String> {
    match fields::take(body, from) {
        Some(v) => fields::put(body, to, v),
        None => Ok(()),
    }
}

/// The layer's document of `kind`, added empty when the layer has none.
fn doc_of(layer: &mut Layer, kind: Kind, api: ApiVersion) -> &mut Doc {
    let index = match layer.docs.iter().position(|d| d.kind == kind) {
        Some(i) => i,
        None => {
            let mut body = Mapping::new();
            body.insert(key("apiVersion"), Value::from(api.as_str()));
            body.insert(key("kind"), Value::from(kind.name()));
            layer.docs.push(Doc {
                kind,
                api: Some(api),
                body,
            });
            layer.docs.len() - 1
        }
    };
    &mut layer.docs[index]
}

/// `{flag: value}` → `[{name: flag, value: "value"}]`; values become strings.
fn args_to_list(args: Value) -> Result<Value, String> {
    match args {
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let mut entry = Mapping::new();
                entry.insert(key("name"), Value::from(scalar_text(&k)?));
                entry.insert(key("value"), Value::from(scalar_text(&v)?));
                Ok(Value::Mapping(entry))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Value::Sequence),
        Value::Sequence(_) => Ok(args),
        _ => Err("expected a map of flag: value".into()),
    }
}

/// `[{name: flag, value: v}]` → `{flag: v}`; a flag given twice cannot be expressed.
fn args_to_map(args: Value) -> Result<Value, String> {
    match args {
        Value::Sequence(items) => {
            let mut map = Mapping::new();
            for item in items {
                let name = item.get("name").and_then(Value::as_str);
                let Some(name) = name else {
                    return Err("every entry needs a `name` (and a `value`)".into());
                };
                let value = item.get("value").map(scalar_text).transpose()?;
                let value = Value::from(value.unwrap_or_default());
                if map.insert(key(name), value).is_some() {
                    return Err(format!(
                        "flag {name} is given twice, which a map cannot hold"
                    ));
                }
            }
            Ok(Value::Mapping(map))
        }
        Value::Mapping(_) => Ok(args),
        _ => Err("expected a list of name/value entries".into()),
    }
}

fn scalar_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!(
            "expected a single value, found {}",
            yaml_inline(other)
        )),
    }
}

fn yaml_inline(value: &Value) -> String {
    serde_yaml::to_string(value)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> Layer {
        Layer::from_yaml("Clusterfile", text).unwrap()
    }

    fn body(text: &str) -> Mapping {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn v1beta3_extra_args_become_v1beta4_lists() {
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n  \
             extraArgs:\n    audit-log-maxage: 7\n    enable-admission-plugins: NodeRestriction\n  \
             timeoutForControlPlane: 4m0s\n",
        );
        convert_layer(&mut l, ApiVersion::V1beta4).unwrap();
        assert_eq!(
            l.docs[0].body,
            body(
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  \
                 extraArgs:\n  - name: audit-log-maxage\n    value: '7'\n  \
                 - name: enable-admission-plugins\n    value: NodeRestriction\n"
            )
        );
        assert_eq!(l.docs[1].kind, Kind::Init);
        assert_eq!(
            l.docs[1].body,
            body(
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ntimeouts:\n  \
                 controlPlaneComponentHealthCheck: 4m0s\n"
            )
        );
    }

    #[test]
    fn v1beta4_lists_become_v1beta3_maps_and_back() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  \
                    kubeletExtraArgs:\n  - name: node-ip\n    value: 10.0.0.5\ntimeouts:\n  discovery: 1m0s\n";
        let mut l = layer(text);
        convert_layer(&mut l, ApiVersion::V1beta3).unwrap();
        assert_eq!(
            l.docs[0].body,
            body(
                "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\nnodeRegistration:\n  \
                 kubeletExtraArgs:\n    node-ip: 10.0.0.5\ndiscovery:\n  timeout: 1m0s\n"
            )
        );
        convert_layer(&mut l, ApiVersion::V1beta4).unwrap();
        assert_eq!(l.docs[0].body, body(text));
    }

    #[test]
    fn fields_without_equivalent_are_refused() {
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n\
             certificateValidityPeriod: 8760h\n",
        );
        let err = convert_layer(&mut l, ApiVersion::V1beta3)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Clusterfile: ClusterConfiguration.certificateValidityPeriod: has no equivalent in \
             kubeadm.k8s.io/v1beta3"
        );
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ntimeouts:\n  \
             kubeletHealthCheck: 4m0s\n",
        );
        let err = convert_layer(&mut l, ApiVersion::V1beta3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("InitConfiguration.timeouts.kubeletHealthCheck"),
            "{err}"
        );
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  \
             extraArgs:\n  - {name: a, value: '1'}\n  - {name: a, value: '2'}\n",
        );
        let err = convert_layer(&mut l, ApiVersion::V1beta3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("apiServer.extraArgs") && err.contains("flag a"),
            "{err}"
        );
    }

    #[test]
    fn v1beta2_only_fields_are_dropped_when_default() {
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\ndns:\n  type: CoreDNS\n\
             useHyperKubeImage: false\n",
        );
        convert_layer(&mut l, ApiVersion::V1beta3).unwrap();
        assert_eq!(
            l.docs[0].body,
            body("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n")
        );
        let mut l = layer(
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\ndns:\n  type: kube-dns\n",
        );
        let err = convert_layer(&mut l, ApiVersion::V1beta3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ClusterConfiguration.dns.type"), "{err}");
    }
}
