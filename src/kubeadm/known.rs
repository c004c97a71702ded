//! The fields each kubeadm kind has (kubeadm v1beta2–v1beta4, kube-proxy
//! v1alpha1, kubelet v1beta1), at the levels users write: a field a user
//! misspelled (`dnsDomian:`) is found by being unknown there and within
//! two edits of a known one. Fields far from every known name are left
//! alone: this list is not every field of every version, and a newer
//! kubeadm may have more.

use crate::cluster::typos::nearest;
use serde_yaml::Value;

/// The known fields of one map: its kind, its path inside the document,
/// its field names.
type Level = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const LEVELS: &[Level] = &[
    (
        "ClusterConfiguration",
        &[],
        &[
            "apiVersion",
            "kind",
            "etcd",
            "networking",
            "kubernetesVersion",
            "controlPlaneEndpoint",
            "apiServer",
            "controllerManager",
            "scheduler",
            "dns",
            "proxy",
            "certificatesDir",
            "imageRepository",
            "featureGates",
            "clusterName",
            "useHyperKubeImage",
            "encryptionAlgorithm",
            "certificateValidityPeriod",
            "caCertificateValidityPeriod",
        ],
    ),
    (
        "ClusterConfiguration",
        &["networking"],
        &["serviceSubnet", "podSubnet", "dnsDomain"],
    ),
    ("ClusterConfiguration", &["etcd"], &["local", "external"]),
    (
        "ClusterConfiguration",
        &["etcd", "local"],
        &[
            "imageRepository",
            "imageTag",
            "dataDir",
            "extraArgs",
            "extraEnvs",
            "serverCertSANs",
            "peerCertSANs",
        ],
    ),
    (
        "ClusterConfiguration",
        &["dns"],
        &["type", "imageRepository", "imageTag", "disabled"],
    ),
    (
        "ClusterConfiguration",
        &["apiServer"],
        &[
            "extraArgs",
            "extraVolumes",
            "extraEnvs",
            "certSANs",
            "timeoutForControlPlane",
        ],
    ),
    (
        "ClusterConfiguration",
        &["controllerManager"],
        &["extraArgs", "extraVolumes", "extraEnvs"],
    ),
    (
        "ClusterConfiguration",
        &["scheduler"],
        &["extraArgs", "extraVolumes", "extraEnvs"],
    ),
    (
        "InitConfiguration",
        &[],
        &[
            "apiVersion",
            "kind",
            "bootstrapTokens",
            "nodeRegistration",
            "localAPIEndpoint",
            "certificateKey",
            "skipPhases",
            "patches",
            "timeouts",
            "dryRun",
        ],
    ),
    (
        "InitConfiguration",
        &["localAPIEndpoint"],
        &["advertiseAddress", "bindPort"],
    ),
    (
        "InitConfiguration",
        &["nodeRegistration"],
        NODE_REGISTRATION,
    ),
    (
        "JoinConfiguration",
        &[],
        &[
            "apiVersion",
            "kind",
            "caCertPath",
            "discovery",
            "nodeRegistration",
            "controlPlane",
            "skipPhases",
            "patches",
            "timeouts",
            "dryRun",
        ],
    ),
    (
        "JoinConfiguration",
        &["nodeRegistration"],
        NODE_REGISTRATION,
    ),
    (
        "JoinConfiguration",
        &["discovery"],
        &["bootstrapToken", "file", "tlsBootstrapToken", "timeout"],
    ),
    (
        "JoinConfiguration",
        &["controlPlane"],
        &["localAPIEndpoint", "certificateKey"],
    ),
    (
        "KubeProxyConfiguration",
        &[],
        &[
            "apiVersion",
            "kind",
            "bindAddress",
            "bindAddressHardFail",
            "clientConnection",
            "clusterCIDR",
            "configSyncPeriod",
            "conntrack",
            "detectLocal",
            "detectLocalMode",
            "enableProfiling",
            "featureGates",
            "healthzBindAddress",
            "hostnameOverride",
            "iptables",
            "ipvs",
            "logging",
            "metricsBindAddress",
            "mode",
            "nftables",
            "nodePortAddresses",
            "oomScoreAdj",
            "portRange",
            "showHiddenMetricsForVersion",
            "udpIdleTimeout",
            "winkernel",
        ],
    ),
    (
        "KubeProxyConfiguration",
        &["ipvs"],
        &[
            "excludeCIDRs",
            "minSyncPeriod",
            "scheduler",
            "strictARP",
            "syncPeriod",
            "tcpFinTimeout",
            "tcpTimeout",
            "udpTimeout",
        ],
    ),
    (
        "KubeletConfiguration",
        &[],
        &[
            "apiVersion",
            "kind",
            "address",
            "port",
            "readOnlyPort",
            "authentication",
            "authorization",
            "cgroupDriver",
            "cgroupRoot",
            "cgroupsPerQOS",
            "clusterDNS",
            "clusterDomain",
            "containerLogMaxFiles",
            "containerLogMaxSize",
            "containerRuntimeEndpoint",
            "cpuCFSQuota",
            "cpuManagerPolicy",
            "cpuManagerReconcilePeriod",
            "enableControllerAttachDetach",
            "enableDebuggingHandlers",
            "enableServer",
            "enforceNodeAllocatable",
            "eventBurst",
            "eventRecordQPS",
            "evictionHard",
            "evictionMaxPodGracePeriod",
            "evictionPressureTransitionPeriod",
            "evictionSoft",
            "evictionSoftGracePeriod",
            "failSwapOn",
            "featureGates",
            "fileCheckFrequency",
            "hairpinMode",
            "healthzBindAddress",
            "healthzPort",
            "httpCheckFrequency",
            "imageGCHighThresholdPercent",
            "imageGCLowThresholdPercent",
            "imageMinimumGCAge",
            "kubeAPIBurst",
            "kubeAPIQPS",
            "kubeReserved",
            "logging",
            "maxOpenFiles",
            "maxPods",
            "memorySwap",
            "nodeLeaseDurationSeconds",
            "nodeStatusReportFrequency",
            "nodeStatusUpdateFrequency",
            "oomScoreAdj",
            "podPidsLimit",
            "registryBurst",
            "registryPullQPS",
            "resolvConf",
            "rotateCertificates",
            "runtimeRequestTimeout",
            "serializeImagePulls",
            "serverTLSBootstrap",
            "shutdownGracePeriod",
            "shutdownGracePeriodCriticalPods",
            "staticPodPath",
            "streamingConnectionIdleTimeout",
            "syncFrequency",
            "systemReserved",
            "tlsCertFile",
            "tlsPrivateKeyFile",
            "topologyManagerPolicy",
            "volumeStatsAggPeriod",
        ],
    ),
];

const NODE_REGISTRATION: &[&str] = &[
    "name",
    "criSocket",
    "taints",
    "kubeletExtraArgs",
    "ignorePreflightErrors",
    "imagePullPolicy",
    "imagePullSerial",
];

/// A field that is probably a typo of a known one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Typo {
    /// Its dotted path inside the document (`networking.dnsDomian`).
    pub path: String,
    /// The known field it is near.
    pub nearest: &'static str,
}

/// The fields of `doc` (a document of kind `kind`) that are unknown where
/// they are and within two edits of a known field there.
pub fn typos(kind: &str, doc: &Value) -> Vec<Typo> {
    let mut out = Vec::new();
    for (_, path, known) in LEVELS.iter().filter(|(k, ..)| *k == kind) {
        let at = path.iter().try_fold(doc, |at, step| at.get(*step));
        let Some(map) = at.and_then(Value::as_mapping) else {
            continue;
        };
        for key in map.keys().filter_map(Value::as_str) {
            if known.contains(&key) {
                continue;
            }
            if let Some(near) = nearest(key, known) {
                let mut dotted: Vec<&str> = path.to_vec();
                dotted.push(key);
                out.push(Typo {
                    path: dotted.join("."),
                    nearest: near,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_misspelled_field_is_named_with_the_known_one_of_its_kind() {
        let d = doc("kind: ClusterConfiguration\nnetworking:\n  dnsDomian: x\n  podSubnet: y\n");
        assert_eq!(
            typos("ClusterConfiguration", &d),
            [Typo {
                path: "networking.dnsDomian".into(),
                nearest: "dnsDomain"
            }]
        );
        let d = doc("kind: KubeletConfiguration\nmaxPod: 10\ncgroupDriver: systemd\n");
        assert_eq!(typos("KubeletConfiguration", &d)[0].nearest, "maxPods");
        let d = doc("kind: InitConfiguration\nnodeRegistration:\n  crisocket: x\n");
        assert_eq!(
            typos("InitConfiguration", &d)[0].path,
            "nodeRegistration.crisocket"
        );
    }

    #[test]
    fn fields_far_from_every_known_one_and_free_maps_pass() {
        let d = doc(
            "kind: ClusterConfiguration\nsomethingNew: 1\napiServer:\n  extraArgs:\n    anything-at-all: x\n",
        );
        assert_eq!(typos("ClusterConfiguration", &d), []);
        // The same misspelling is no typo in a kind without that field.
        let d = doc("kind: KubeProxyConfiguration\nnetworking:\n  dnsDomian: x\n");
        assert_eq!(typos("KubeProxyConfiguration", &d), []);
    }
}
