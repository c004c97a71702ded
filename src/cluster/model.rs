//! The sealos `apps.sealos.io/v1beta1` `Cluster` document, field for field.
//!
//! Every struct keeps the fields it does not know in `extra`, so a file
//! written by a newer sealos survives a load/save round trip. Typed fields
//! are read without `#[serde(flatten)]` (which would lose error locations);
//! `extra` is filled afterwards from the parsed YAML value by [`KeepUnknown`]
//! (in `unknown`).

mod unknown;

pub(crate) use unknown::{HOST_FIELDS, KeepUnknown, SPEC_FIELDS, SSH_FIELDS};

use crate::secret::Secret;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_yaml::Mapping;
use std::collections::BTreeMap;
use std::fmt;

/// The `apiVersion` of the sealos Cluster and Config kinds.
pub const API_VERSION: &str = "apps.sealos.io/v1beta1";

/// The `Cluster` document: hosts, images, SSH, env, and the applied status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Always [`API_VERSION`].
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always `Cluster`.
    pub kind: String,
    /// Name and Kubernetes object metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// What the cluster should be.
    #[serde(default)]
    pub spec: ClusterSpec,
    /// What was applied, written back after each apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ClusterStatus>,
    /// Fields tug does not know, kept for the round trip.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

/// `metadata`: the name; `creationTimestamp`, annotations etc. stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The cluster's name (`default` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Other metadata fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

impl Metadata {
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.extra.is_empty()
    }

    /// The text of `metadata.annotations[key]`, if set: tug's own options ride there,
    /// where sealos (which ignores them) keeps the file valid.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.extra.get("annotations")?.get(key)?.as_str()
    }
}

/// `spec`: the desired cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterSpec {
    /// Cluster images in install order; the first is the rootfs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image: Vec<String>,
    /// SSH settings for every host unless a host overrides them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<Ssh>,
    /// Groups of hosts sharing roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<Host>,
    /// `K=V` entries; a list because keys may repeat (`CertSANS=a`, `CertSANS=b`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Replaces the CMD of the first image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Other spec fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

/// SSH settings, global (`spec.ssh`) or per host (`spec.hosts[].ssh`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ssh {
    /// Login user (root when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Login password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passwd: Option<Secret>,
    /// Path of the private key on the jump host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pk: Option<String>,
    /// The private key itself (PEM text).
    #[serde(rename = "pkData", default, skip_serializing_if = "Option::is_none")]
    pub pk_data: Option<Secret>,
    /// A name for the key (sealos bookkeeping).
    #[serde(rename = "pkName", default, skip_serializing_if = "Option::is_none")]
    pub pk_name: Option<String>,
    /// Passphrase of the private key.
    #[serde(rename = "pkPasswd", default, skip_serializing_if = "Option::is_none")]
    pub pk_passwd: Option<Secret>,
    /// SSH port (22 when absent); sealer writes it quoted, so strings are read too.
    #[serde(
        default,
        deserialize_with = "port",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<u16>,
    /// The bastion every host is reached through, `USER@HOST[:PORT]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bastion: Option<String>,
    /// The bastion's own private key on the jump host.
    #[serde(rename = "bastionPk", default, skip_serializing_if = "Option::is_none")]
    pub bastion_pk: Option<String>,
    /// The bastion's own login password (without it or a key: the ssh-agent).
    #[serde(
        rename = "bastionPasswd",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub bastion_passwd: Option<Secret>,
    /// Other SSH fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

impl Ssh {
    /// These settings with every field `over` sets replacing ours (sealos's
    /// per-host override is field by field).
    pub fn overlaid(&self, over: &Ssh) -> Ssh {
        let mut extra = self.extra.clone();
        extra.extend(over.extra.clone());
        Ssh {
            user: over.user.clone().or_else(|| self.user.clone()),
            passwd: over.passwd.clone().or_else(|| self.passwd.clone()),
            pk: over.pk.clone().or_else(|| self.pk.clone()),
            pk_data: over.pk_data.clone().or_else(|| self.pk_data.clone()),
            pk_name: over.pk_name.clone().or_else(|| self.pk_name.clone()),
            pk_passwd: over.pk_passwd.clone().or_else(|| self.pk_passwd.clone()),
            port: over.port.or(self.port),
            bastion: over.bastion.clone().or_else(|| self.bastion.clone()),
            bastion_pk: over.bastion_pk.clone().or_else(|| self.bastion_pk.clone()),
            bastion_passwd: (over.bastion_passwd.clone()).or_else(|| self.bastion_passwd.clone()),
            extra,
        }
    }
}

/// One `spec.hosts[]` entry: addresses sharing roles, env and SSH overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// `ip:port` (or `ip`, `[ipv6]:port`) strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    /// `master`/`node`/`registry` and an architecture (`amd64`/`arm64`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// `K=V` entries overriding `spec.env` on these hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Field-wise override of `spec.ssh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<Ssh>,
    /// Other host fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

/// Where an apply got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// An apply is running or was interrupted.
    ClusterInProcess,
    /// The last apply succeeded.
    ClusterSuccess,
    /// The last apply failed.
    ClusterFailed,
}

/// `status`: what was applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The apply phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// One entry per applied image, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// Apply results (`ApplyClusterSuccess`/`ApplyClusterError`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The Kubernetes version each host runs, by its address, as tug
    /// last installed or upgraded it (tug's own field; sealos keeps it).
    #[serde(
        rename = "hostVersions",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub host_versions: BTreeMap<String, String>,
    /// Guest command results (`ApplyCommandSuccess`/`…Error`/`…Cancelled`).
    #[serde(
        rename = "commandCondition",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub command_conditions: Vec<Condition>,
    /// Other status fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

impl ClusterStatus {
    /// The first rootfs mount: the Kubernetes image whose labels (`version`,
    /// `vip`) and env the installer and kubeadm read.
    pub fn rootfs(&self) -> Option<&Mount> {
        self.mounts.iter().find(|m| m.kind == "rootfs")
    }
}

/// One applied image in `status.mounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    /// Working-container name (sealos) or any unique name.
    #[serde(default)]
    pub name: String,
    /// `rootfs`, `application` or `patch` (empty means application).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The image reference as the user wrote it.
    #[serde(rename = "imageName", default)]
    pub image_name: String,
    /// Where the image's files were on the jump host.
    #[serde(rename = "mountPoint", default)]
    pub mount_point: String,
    /// The image's ENV merged with the Clusterfile's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The image's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The image's CMD.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// The image's ENTRYPOINT.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// Other mount fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

/// A status condition (`conditions[]` and `commandCondition[]`); the
/// command kind's `images` list and anything else stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// E.g. `ApplyClusterSuccess`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `"True"` or `"False"`.
    #[serde(default)]
    pub status: String,
    /// RFC 3339 time of the last update.
    #[serde(
        rename = "lastHeartbeatTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_heartbeat_time: Option<String>,
    /// Short machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Other condition fields.
    #[serde(skip_deserializing, flatten)]
    pub extra: Mapping,
}

/// Reads a port written as a number or as a quoted string.
fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    struct PortVisitor;
    impl Visitor<'_> for PortVisitor {
        type Value = Option<u16>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a port number 1-65535")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            match u16::try_from(v) {
                Ok(p) if p > 0 => Ok(Some(p)),
                _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().parse::<u64>() {
                Ok(n) => self.visit_u64(n),
                Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(PortVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_as_numbers_or_strings() {
        let ssh: Ssh = serde_yaml::from_str("port: \"2222\"").unwrap();
        assert_eq!(ssh.port, Some(2222));
        let ssh: Ssh = serde_yaml::from_str("port: 22").unwrap();
        assert_eq!(ssh.port, Some(22));
        assert!(serde_yaml::from_str::<Ssh>("port: 0").is_err());
        assert!(serde_yaml::from_str::<Ssh>("port: ssh").is_err());
    }

    #[test]
    fn host_ssh_overrides_field_by_field() {
        let global: Ssh =
            serde_yaml::from_str("{user: root, passwd: a, port: 22, pk: /k}").unwrap();
        let over: Ssh = serde_yaml::from_str("{passwd: b, port: 2222}").unwrap();
        let eff = global.overlaid(&over);
        assert_eq!(eff.user.as_deref(), Some("root"));
        assert_eq!(eff.passwd.unwrap().expose(), "b");
        assert_eq!(eff.port, Some(2222));
        assert_eq!(eff.pk.as_deref(), Some("/k"));
    }
}
