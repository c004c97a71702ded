//! Which Kubernetes version changes tug carries out, decided before any
//! host is touched. kubeadm supports one minor version at a time and never
//! back, so tug (like sealos) refuses a downgrade and a jump of more than
//! one minor; unlike sealos it also refuses a change of major version.

use crate::kubeadm::KubeVersion;

/// What moving a cluster from one version to another is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The same version: an install, resume or change of hosts.
    Same,
    /// A newer patch or the next minor: an upgrade.
    Upgrade,
}

/// A version change tug will not make, naming both versions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The new image is older than the cluster.
    #[error(
        "the cluster runs Kubernetes {from} and the image is {to}: tug does not downgrade a cluster; \
         nothing was changed on any host"
    )]
    Downgrade {
        /// What the cluster runs.
        from: KubeVersion,
        /// What the image has.
        to: KubeVersion,
    },
    /// More than one minor (or another major) at once.
    #[error(
        "the cluster runs Kubernetes {from} and the image is {to}: kubeadm upgrades one minor version \
         at a time, so upgrade to v{major}.{next}.x first; nothing was changed on any host",
        major = from.0.major,
        next = from.0.minor + 1
    )]
    TooFar {
        /// What the cluster runs.
        from: KubeVersion,
        /// What the image has.
        to: KubeVersion,
    },
}

/// Whether a cluster at `from` may move to `to`, and how.
pub fn check(from: &KubeVersion, to: &KubeVersion) -> Result<Change, RuleError> {
    let (f, t) = (&from.0, &to.0);
    let refuse = |e: fn(KubeVersion, KubeVersion) -> RuleError| Err(e(from.clone(), to.clone()));
    if t < f {
        return refuse(|from, to| RuleError::Downgrade { from, to });
    }
    if t == f {
        return Ok(Change::Same);
    }
    if t.major != f.major || t.minor > f.minor + 1 {
        return refuse(|from, to| RuleError::TooFar { from, to });
    }
    Ok(Change::Upgrade)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> KubeVersion {
        KubeVersion::parse(s).unwrap()
    }

    #[test]
    fn one_minor_or_a_patch_up_is_an_upgrade_and_the_same_version_is_not() {
        assert_eq!(check(&v("v1.25.0"), &v("v1.26.0")), Ok(Change::Upgrade));
        assert_eq!(check(&v("v1.25.0"), &v("v1.26.9")), Ok(Change::Upgrade));
        assert_eq!(check(&v("v1.25.0"), &v("v1.25.16")), Ok(Change::Upgrade));
        assert_eq!(check(&v("v1.25.3"), &v("1.25.3")), Ok(Change::Same));
    }

    #[test]
    fn a_downgrade_and_a_jump_are_refused_naming_both_versions() {
        let e = check(&v("v1.26.0"), &v("v1.25.0")).unwrap_err().to_string();
        assert!(e.contains("v1.26.0") && e.contains("v1.25.0") && e.contains("downgrade"));
        let e = check(&v("v1.26.2"), &v("v1.26.1")).unwrap_err();
        assert!(matches!(e, RuleError::Downgrade { .. }));
        let e = check(&v("v1.25.0"), &v("v1.28.0")).unwrap_err().to_string();
        assert!(e.contains("v1.25.0") && e.contains("v1.28.0") && e.contains("v1.26.x"));
        let e = check(&v("v1.30.0"), &v("v2.0.0")).unwrap_err();
        assert!(matches!(e, RuleError::TooFar { .. }));
    }
}
