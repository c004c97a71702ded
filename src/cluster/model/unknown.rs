//! Keeping what tug does not know: after the typed read (which has no
//! `#[serde(flatten)]`, so its errors keep their locations), every struct's
//! `extra` is filled from the same document parsed as a plain YAML value,
//! so a file written by a newer sealos survives a load/save round trip.

use super::{Cluster, ClusterSpec, ClusterStatus, Condition, Host, Mount, Ssh};
use serde_yaml::{Mapping, Value};

/// Copies the fields a struct does not know from the parsed YAML value into
/// its `extra`, recursing into the typed children.
pub(crate) trait KeepUnknown {
    /// Fill `extra` (and the children's) from `v`, the same node as YAML.
    fn keep_unknown(&mut self, v: &Value);
}

/// The fields of `spec` tug reads.
pub(crate) const SPEC_FIELDS: [&str; 5] = ["image", "ssh", "hosts", "env", "command"];
/// The fields of an `ssh` block tug reads.
pub(crate) const SSH_FIELDS: [&str; 10] = [
    "user",
    "passwd",
    "pk",
    "pkData",
    "pkName",
    "pkPasswd",
    "port",
    "bastion",
    "bastionPk",
    "bastionPasswd",
];
/// The fields of a `spec.hosts[]` entry tug reads.
pub(crate) const HOST_FIELDS: [&str; 4] = ["ips", "roles", "env", "ssh"];

fn unknown(v: &Value, known: &[&str]) -> Mapping {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.as_str().is_some_and(|k| known.contains(&k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn each<T: KeepUnknown>(items: &mut [T], v: Option<&Value>) {
    if let Some(seq) = v.and_then(Value::as_sequence) {
        for (item, v) in items.iter_mut().zip(seq) {
            item.keep_unknown(v);
        }
    }
}

impl KeepUnknown for Cluster {
    fn keep_unknown(&mut self, v: &Value) {
        self.extra = unknown(v, &["apiVersion", "kind", "metadata", "spec", "status"]);
        if let Some(m) = v.get("metadata") {
            self.metadata.extra = unknown(m, &["name"]);
        }
        if let Some(s) = v.get("spec") {
            self.spec.keep_unknown(s);
        }
        if let (Some(st), Some(s)) = (self.status.as_mut(), v.get("status")) {
            st.keep_unknown(s);
        }
    }
}

impl KeepUnknown for ClusterSpec {
    fn keep_unknown(&mut self, v: &Value) {
        self.extra = unknown(v, &SPEC_FIELDS);
        if let (Some(ssh), Some(s)) = (self.ssh.as_mut(), v.get("ssh")) {
            ssh.keep_unknown(s);
        }
        each(&mut self.hosts, v.get("hosts"));
    }
}

impl KeepUnknown for Ssh {
    fn keep_unknown(&mut self, v: &Value) {
        self.extra = unknown(v, &SSH_FIELDS);
    }
}

impl KeepUnknown for Host {
    fn keep_unknown(&mut self, v: &Value) {
        self.extra = unknown(v, &HOST_FIELDS);
        if let (Some(ssh), Some(s)) = (self.ssh.as_mut(), v.get("ssh")) {
            ssh.keep_unknown(s);
        }
    }
}

impl KeepUnknown for ClusterStatus {
    fn keep_unknown(&mut self, v: &Value) {
        let known = [
            "phase",
            "mounts",
            "conditions",
            "hostVersions",
            "commandCondition",
        ];
        self.extra = unknown(v, &known);
        each(&mut self.mounts, v.get("mounts"));
        each(&mut self.conditions, v.get("conditions"));
        each(&mut self.command_conditions, v.get("commandCondition"));
    }
}

impl KeepUnknown for Mount {
    fn keep_unknown(&mut self, v: &Value) {
        let known = [
            "name",
            "type",
            "imageName",
            "mountPoint",
            "env",
            "labels",
            "cmd",
            "entrypoint",
        ];
        self.extra = unknown(v, &known);
    }
}

impl KeepUnknown for Condition {
    fn keep_unknown(&mut self, v: &Value) {
        let known = ["type", "status", "lastHeartbeatTime", "reason", "message"];
        self.extra = unknown(v, &known);
    }
}
