//! Building a new Cluster from command-line settings (`tug gen`, `tug run`),
//! laid out the way sealos lays it out: one host entry per SSH port and role,
//! master0's entry first, every address written as `ip:port`.
//!
//! The architecture role is not added: sealos asks each host over SSH, which
//! `gen` cannot do. The installer detects it when it connects and records
//! it in the cluster's state Clusterfile.

use super::clusterfile::Clusterfile;
use super::hosts::{Address, HostError, Role};
use super::model::{API_VERSION, Cluster, ClusterSpec, Host, Metadata, Ssh};
use std::collections::HashSet;

/// What the user asked for; addresses already parsed.
#[derive(Debug, Clone, Default)]
pub struct NewCluster {
    /// `metadata.name`.
    pub name: String,
    /// Cluster images, in install order.
    pub images: Vec<String>,
    /// Master addresses; the first becomes master0.
    pub masters: Vec<Address>,
    /// Worker addresses.
    pub nodes: Vec<Address>,
    /// Global SSH settings (`spec.ssh`); its port fills addresses without one.
    pub ssh: Ssh,
    /// `K=V` entries for `spec.env`.
    pub env: Vec<String>,
    /// `spec.command`.
    pub command: Vec<String>,
}

/// Why the settings do not make a cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// No `--masters`.
    #[error("no master: give --masters")]
    NoMaster,
    /// No image argument.
    #[error("no image: name at least the cluster image")]
    NoImage,
    /// An address given twice (in --masters, --nodes or both).
    #[error("duplicate host {0}")]
    Duplicate(String),
    /// A bad address.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Build the Clusterfile for these settings.
pub fn generate(new: NewCluster) -> Result<Clusterfile, GenError> {
    if new.images.is_empty() {
        return Err(GenError::NoImage);
    }
    if new.masters.is_empty() {
        return Err(GenError::NoMaster);
    }
    let port = new.ssh.port.unwrap_or(super::hosts::DEFAULT_SSH_PORT);
    let mut seen = HashSet::new();
    for a in new.masters.iter().chain(&new.nodes) {
        let a = a.with_default_port(port);
        if !seen.insert(a) {
            return Err(GenError::Duplicate(a.to_string()));
        }
    }
    let mut hosts = group_by_port(&new.masters, Role::Master, port);
    hosts.extend(group_by_port(&new.nodes, Role::Node, port));
    let mut ssh = new.ssh;
    ssh.port = Some(port);
    ssh.user
        .get_or_insert_with(|| super::hosts::DEFAULT_SSH_USER.to_string());
    Ok(Clusterfile::new(Cluster {
        api_version: API_VERSION.to_string(),
        kind: "Cluster".to_string(),
        metadata: Metadata {
            name: Some(new.name),
            ..Metadata::default()
        },
        spec: ClusterSpec {
            image: new.images,
            ssh: Some(ssh),
            hosts,
            env: new.env,
            command: new.command,
            ..ClusterSpec::default()
        },
        status: None,
        ..Cluster::default()
    }))
}

/// One host entry per distinct port, in order of first appearance (so the
/// entry holding the first address, master0 for masters, comes first).
fn group_by_port(addrs: &[Address], role: Role, default_port: u16) -> Vec<Host> {
    let mut groups: Vec<(u16, Host)> = Vec::new();
    for a in addrs {
        let a = a.with_default_port(default_port);
        let p = a.port_or(default_port);
        let i = match groups.iter().position(|(q, _)| *q == p) {
            Some(i) => i,
            None => {
                let host = Host {
                    roles: vec![role.as_str().to_string()],
                    ..Host::default()
                };
                groups.push((p, host));
                groups.len() - 1
            }
        };
        groups[i].1.ips.push(a.to_string());
    }
    groups.into_iter().map(|(_, h)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::hosts::parse_ip_list;

    fn new(masters: &str, nodes: &str) -> NewCluster {
        NewCluster {
            name: "default".into(),
            images: vec!["labring/kubernetes:v1.25.0".into()],
            masters: parse_ip_list(masters).unwrap(),
            nodes: parse_ip_list(nodes).unwrap(),
            ..NewCluster::default()
        }
    }

    #[test]
    fn groups_by_port_master0_first() {
        let cf = generate(new(
            "10.0.0.2:2222,10.0.0.3,10.0.0.4:2222",
            "10.0.0.5-10.0.0.6",
        ))
        .unwrap();
        let hosts = &cf.cluster.spec.hosts;
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts[0].ips, ["10.0.0.2:2222", "10.0.0.4:2222"]);
        assert_eq!(hosts[1].ips, ["10.0.0.3:22"]);
        assert_eq!(hosts[2].ips, ["10.0.0.5:22", "10.0.0.6:22"]);
        assert_eq!(hosts[2].roles, ["node"]);
        let m0 = cf.cluster.master0().unwrap().unwrap();
        assert_eq!(m0.address.to_string(), "10.0.0.2:2222");
        assert!(
            cf.problems()
                .iter()
                .all(|p| p.severity != crate::cluster::problem::Severity::Error)
        );
    }

    #[test]
    fn refuses_duplicates_and_missing_parts() {
        assert_eq!(
            generate(new("10.0.0.2", "10.0.0.2:22")).unwrap_err(),
            GenError::Duplicate("10.0.0.2:22".into())
        );
        assert_eq!(
            generate(new("", "10.0.0.2")).unwrap_err(),
            GenError::NoMaster
        );
        let mut n = new("10.0.0.2", "");
        n.images.clear();
        assert_eq!(generate(n).unwrap_err(), GenError::NoImage);
    }
}
