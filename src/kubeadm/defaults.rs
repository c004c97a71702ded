//! The built-in kubeadm defaults, one multi-document YAML per kubeadm API version.

use super::document::Layer;
use super::version::ApiVersion;

const V1BETA2: &str = include_str!("../../assets/kubeadm/v1beta2.yaml");
const V1BETA3: &str = include_str!("../../assets/kubeadm/v1beta3.yaml");
const V1BETA4: &str = include_str!("../../assets/kubeadm/v1beta4.yaml");

/// The name the defaults carry in errors.
pub const SOURCE: &str = "built-in kubeadm defaults";

/// The built-in defaults for one kubeadm API version: every kind tug renders.
pub fn defaults(api: ApiVersion) -> Layer {
    let text = match api {
        ApiVersion::V1beta2 => V1BETA2,
        ApiVersion::V1beta3 => V1BETA3,
        ApiVersion::V1beta4 => V1BETA4,
    };
    Layer::from_yaml(SOURCE, text).expect("the built-in defaults are valid")
}

#[cfg(test)]
mod tests {
    use super::super::document::KINDS;
    use super::*;

    #[test]
    fn every_version_has_every_kind_once_for_its_api() {
        for api in [
            ApiVersion::V1beta2,
            ApiVersion::V1beta3,
            ApiVersion::V1beta4,
        ] {
            let layer = defaults(api);
            let kinds: Vec<_> = layer.docs.iter().map(|d| d.kind).collect();
            let mut sorted = kinds.clone();
            sorted.sort();
            assert_eq!(sorted, KINDS, "{api}");
            for doc in &layer.docs {
                assert!(doc.api.is_none_or(|a| a == api), "{api} {:?}", doc.kind);
            }
        }
    }
}
