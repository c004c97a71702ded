//! The documents a kubeadm configuration is made of, read from YAML text or values.

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::Error;
use super::version::{ApiVersion, KUBEADM_GROUP};

/// The document kinds tug reads and writes, in the order they are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// kubeadm `InitConfiguration`: master0's endpoint and node registration.
    Init,
    /// kubeadm `ClusterConfiguration`: networking, control-plane flags, images.
    Cluster,
    /// kube-proxy `KubeProxyConfiguration`.
    KubeProxy,
    /// kubelet `KubeletConfiguration`.
    Kubelet,
    /// kubeadm `JoinConfiguration`, the base of the join-master and join-node configs.
    Join,
}

/// Every kind, in rendering order.
pub const KINDS: [Kind; 5] = [
    Kind::Init,
    Kind::Cluster,
    Kind::KubeProxy,
    Kind::Kubelet,
    Kind::Join,
];

impl Kind {
    /// The `kind:` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Init => "InitConfiguration",
            Self::Cluster => "ClusterConfiguration",
            Self::KubeProxy => "KubeProxyConfiguration",
            Self::Kubelet => "KubeletConfiguration",
            Self::Join => "JoinConfiguration",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// The one apiVersion a component-config kind has; `None` for kubeadm kinds, whose
    /// apiVersion follows the Kubernetes version.
    pub fn fixed_api_version(self) -> Option<&'static str> {
        match self {
            Self::KubeProxy => Some("kubeproxy.config.k8s.io/v1alpha1"),
            Self::Kubelet => Some("kubelet.config.k8s.io/v1beta1"),
            Self::Init | Self::Cluster | Self::Join => None,
        }
    }
}

/// One document: its kind, its kubeadm API version (kubeadm kinds only) and its fields,
/// `apiVersion` and `kind` included.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The document's kind.
    pub kind: Kind,
    /// The kubeadm API version it was written for; `None` for component configs.
    pub api: Option<ApiVersion>,
    /// All fields of the document.
    pub body: Mapping,
}

/// The documents of one configuration source, with the source's name for errors.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Where the documents come from, e.g. `image etc/kubeadm.yml` or `Clusterfile`.
    pub source: String,
    /// The documents in the order they were written.
    pub docs: Vec<Doc>,
}

impl Layer {
    /// Reads multi-document YAML text; empty documents are skipped.
    pub fn from_yaml(source: &str, text: &str) -> Result<Self, Error> {
        let mut values = Vec::new();
        for document in serde_yaml::Deserializer::from_str(text) {
            let value = Value::deserialize(document).map_err(|e| Error::Yaml {
                file: source.to_string(),
                line: e.location().map(|l| l.line()),
                message: e.to_string(),
            })?;
            values.push(value);
        }
        Self::from_values(source, values)
    }

    /// Checks parsed documents: each must be a map with a known `kind` and an `apiVersion`
    /// of that kind's API group. Null (empty) documents are skipped.
    pub fn from_values(source: &str, values: Vec<Value>) -> Result<Self, Error> {
        let mut docs = Vec::new();
        for (index, value) in values.into_iter().enumerate() {
            let number = index + 1;
            let body = match value {
                Value::Null => continue,
                Value::Mapping(m) => m,
                _ => {
                    return Err(Error::Document {
                        file: source.to_string(),
                        number,
                        message: "is not a map".into(),
                    });
                }
            };
            let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
            let Some(kind_name) = text("kind") else {
                return Err(Error::Document {
                    file: source.to_string(),
                    number,
                    message: "has no `kind`".into(),
                });
            };
            let kind = Kind::from_name(&kind_name).ok_or_else(|| Error::UnknownKind {
                file: source.to_string(),
                number,
                kind: kind_name.clone(),
            })?;
            let api_version = text("apiVersion").unwrap_or_default();
            let api = match kind.fixed_api_version() {
                Some(fixed) if fixed == api_version => None,
                Some(fixed) => return Err(bad_api(source, number, kind, &api_version, fixed)),
                None => Some(ApiVersion::parse(&api_version).ok_or_else(|| {
                    let expected = format!("{KUBEADM_GROUP}/v1beta2, v1beta3 or v1beta4");
                    bad_api(source, number, kind, &api_version, &expected)
                })?),
            };
            docs.push(Doc { kind, api, body });
        }
        Ok(Self {
            source: source.to_string(),
            docs,
        })
    }
}

fn bad_api(source: &str, number: usize, kind: Kind, found: &str, expected: &str) -> Error {
    Error::Document {
        file: source.to_string(),
        number,
        message: format!("{}: apiVersion {found:?} is not {expected}", kind.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_kinds_and_skips_empty_documents() {
        let text = "---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n---\n---\n\
                    apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
        let layer = Layer::from_yaml("x", text).unwrap();
        let kinds: Vec<_> = layer.docs.iter().map(|d| (d.kind, d.api)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::Cluster, Some(ApiVersion::V1beta3)),
                (Kind::Kubelet, None)
            ]
        );
    }

    #[test]
    fn unknown_kind_is_named() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ResetConfiguration\n";
        let err = Layer::from_yaml("image etc/kubeadm.yml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("image etc/kubeadm.yml"), "{err}");
        assert!(err.contains("ResetConfiguration"), "{err}");
    }

    #[test]
    fn wrong_api_version_is_named() {
        let text = "apiVersion: kubeproxy.config.k8s.io/v1beta9\nkind: KubeProxyConfiguration\n";
        let err = Layer::from_yaml("Clusterfile", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("kubeproxy.config.k8s.io/v1beta9"), "{err}");
        let text = "apiVersion: kubeadm.k8s.io/v1alpha3\nkind: InitConfiguration\n";
        let err = Layer::from_yaml("Clusterfile", text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("v1alpha3") && err.contains("InitConfiguration"),
            "{err}"
        );
    }

    #[test]
    fn yaml_errors_carry_the_line() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n\tbad: tab\n";
        let err = Layer::from_yaml("image etc/kubeadm.yml", text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("image etc/kubeadm.yml: "), "{err}");
        assert!(err.contains("line 3 column 1"), "{err}");
    }
}
