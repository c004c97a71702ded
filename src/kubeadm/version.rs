//! Which kubeadm config API a Kubernetes version speaks.

use std::fmt;

use semver::Version;

use super::Error;

/// A kubeadm configuration API version (`kubeadm.k8s.io/<version>`), ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiVersion {
    /// Kubernetes v1.15 to v1.22.
    V1beta2,
    /// Kubernetes v1.23 to v1.30.
    V1beta3,
    /// Kubernetes v1.31 and newer: extraArgs are name/value lists.
    V1beta4,
}

/// The kubeadm API group every kubeadm document's apiVersion starts with.
pub const KUBEADM_GROUP: &str = "kubeadm.k8s.io";

impl ApiVersion {
    /// Every API version tug writes, oldest first.
    pub const ALL: [ApiVersion; 3] = [Self::V1beta2, Self::V1beta3, Self::V1beta4];

    /// The Kubernetes versions whose kubeadm reads this API version, as
    /// [`ApiVersion::for_kube`] picks it.
    pub fn kubernetes(self) -> &'static str {
        match self {
            Self::V1beta2 => "v1.15 - v1.22",
            Self::V1beta3 => "v1.23 - v1.30",
            Self::V1beta4 => "v1.31 and newer",
        }
    }

    /// The API version kubeadm of this Kubernetes version reads, from a version such as
    /// `v1.25.16` or `1.25.16` (the image's `version` label).
    pub fn for_kube(kube: &KubeVersion) -> Result<Self, Error> {
        let v = &kube.0;
        match (v.major, v.minor) {
            (1, minor) if minor < 15 => Err(Error::TooOld(kube.to_string())),
            (1, minor) if minor < 23 => Ok(Self::V1beta2),
            (1, minor) if minor < 31 => Ok(Self::V1beta3),
            _ => Ok(Self::V1beta4),
        }
    }

    /// Parses the version part of `kubeadm.k8s.io/<version>`. v1beta1 documents are read
    /// as v1beta2, which only added fields to it.
    pub fn parse(api_version: &str) -> Option<Self> {
        let version = api_version.strip_prefix(KUBEADM_GROUP)?.strip_prefix('/')?;
        match version {
            "v1beta1" | "v1beta2" => Some(Self::V1beta2),
            "v1beta3" => Some(Self::V1beta3),
            "v1beta4" => Some(Self::V1beta4),
            _ => None,
        }
    }

    /// The full apiVersion string, e.g. `kubeadm.k8s.io/v1beta3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1beta2 => "kubeadm.k8s.io/v1beta2",
            Self::V1beta3 => "kubeadm.k8s.io/v1beta3",
            Self::V1beta4 => "kubeadm.k8s.io/v1beta4",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Kubernetes version as the image's `version` label gives it; displayed with a leading `v`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion(pub Version);

impl KubeVersion {
    /// Parses `v1.25.16` or `1.25.16`; anything else is an error naming the text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
        Version::parse(bare)
            .map(Self)
            .map_err(|_| Error::BadVersion(text.to_string()))
    }

    /// Whether this version is at least 1.`minor`.0.
    pub fn at_least(&self, minor: u64) -> bool {
        (self.0.major, self.0.minor) >= (1, minor)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(v: &str) -> Result<ApiVersion, Error> {
        ApiVersion::for_kube(&KubeVersion::parse(v)?)
    }

    #[test]
    fn each_api_says_the_range_for_kube_picks_it_for() {
        for a in ApiVersion::ALL {
            let first = a.kubernetes().split_whitespace().next().unwrap();
            assert_eq!(api(&format!("{first}.0")).unwrap(), a, "{first}");
        }
        assert_eq!(api("v1.22.17").unwrap(), ApiVersion::V1beta2);
        assert_eq!(api("v1.30.9").unwrap(), ApiVersion::V1beta3);
    }

    #[test]
    fn version_ranges() {
        assert_eq!(api("v1.15.0").unwrap(), ApiVersion::V1beta2);
        assert_eq!(api("1.22.17").unwrap(), ApiVersion::V1beta2);
        assert_eq!(api("v1.23.0").unwrap(), ApiVersion::V1beta3);
        assert_eq!(api("v1.30.14").unwrap(), ApiVersion::V1beta3);
        assert_eq!(api("v1.31.0").unwrap(), ApiVersion::V1beta4);
        assert_eq!(api("v1.33.1").unwrap(), ApiVersion::V1beta4);
    }

    #[test]
    fn too_old_and_bad_versions_are_named() {
        let err = api("v1.14.10").unwrap_err().to_string();
        assert!(err.contains("v1.14.10") && err.contains("v1beta1"), "{err}");
        let err = api("latest").unwrap_err().to_string();
        assert!(err.contains("\"latest\""), "{err}");
    }

    #[test]
    fn parses_api_versions() {
        assert_eq!(
            ApiVersion::parse("kubeadm.k8s.io/v1beta1"),
            Some(ApiVersion::V1beta2)
        );
        assert_eq!(
            ApiVersion::parse("kubeadm.k8s.io/v1beta4"),
            Some(ApiVersion::V1beta4)
        );
        assert_eq!(ApiVersion::parse("kubeadm.k8s.io/v1alpha3"), None);
        assert_eq!(ApiVersion::parse("kubelet.config.k8s.io/v1beta1"), None);
    }
}
