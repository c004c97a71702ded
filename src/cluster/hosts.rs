//! The hosts of a Clusterfile: addresses and IP lists (`address`), roles
//! as `tug gen`/`run` take them and `spec.hosts[].roles` stores them, and
//! the [`Machine`]s a Cluster's host entries resolve to.

mod address;
mod bastion;

pub use address::{Address, MAX_RANGE, parse_ip_list};
pub use bastion::{BastionAddr, BastionError};

use super::model::{Cluster, Ssh};
use std::net::IpAddr;
use std::str::FromStr;

/// Why an address, an IP list or a role is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Not an IP address, `ip:port` or `[ipv6]:port`.
    #[error("invalid address {0:?} (want IP, IP:PORT or [IPv6]:PORT)")]
    Address(String),
    /// The port after the address is not 1–65535.
    #[error("invalid port in {0:?} (want 1-65535)")]
    Port(String),
    /// A range whose ends are not addresses of the same family.
    #[error(
        "invalid range {0:?} (want FIRST-LAST[:PORT] of one family, e.g. 192.168.0.2-192.168.0.9 or 192.168.0.2-9:2222)"
    )]
    Range(String),
    /// A range whose first address is after its last.
    #[error("range {0:?} is reversed: the first address is after the last")]
    Reversed(String),
    /// A range with more addresses than [`MAX_RANGE`].
    #[error("range {0:?} holds {1} addresses; at most {MAX_RANGE} are allowed")]
    TooLarge(String, u128),
    /// An empty element in a comma list.
    #[error("empty entry in address list {0:?}")]
    Empty(String),
    /// An address that reaches no single host (0.0.0.0, broadcast, multicast).
    #[error("address {0:?} is not a host: it is {1}")]
    NotAHost(String, &'static str),
    /// A role that is neither a known role nor an architecture.
    #[error("unknown role {0:?} (want master, node, registry, amd64 or arm64)")]
    Role(String),
}

/// What a host does in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A control-plane host (runs etcd and the API server).
    Master,
    /// A worker.
    Node,
    /// Serves the cluster's private registry (default: master0).
    Registry,
}

/// A host's CPU architecture, recorded as a role the way sealos does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86_64.
    Amd64,
    /// aarch64.
    Arm64,
}

impl Arch {
    /// The OCI platform architecture name.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

impl Role {
    /// The name in `roles`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Node => "node",
            Role::Registry => "registry",
        }
    }
}

/// One entry of `roles`: sealos mixes roles and the architecture there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleEntry {
    /// A role.
    Role(Role),
    /// An architecture.
    Arch(Arch),
}

impl FromStr for RoleEntry {
    type Err = HostError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "master" => RoleEntry::Role(Role::Master),
            "node" => RoleEntry::Role(Role::Node),
            "registry" => RoleEntry::Role(Role::Registry),
            "amd64" => RoleEntry::Arch(Arch::Amd64),
            "arm64" => RoleEntry::Arch(Arch::Arm64),
            _ => return Err(HostError::Role(s.to_string())),
        })
    }
}

/// One machine of the cluster with everything needed to reach it: one
/// address of a `spec.hosts[]` entry with that entry's roles, env and SSH
/// settings resolved over the global ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// IP and SSH port (the address's own port, else the host's `ssh.port`,
    /// else `spec.ssh.port`, else 22).
    pub address: Address,
    /// Roles from the host entry (without the architecture).
    pub roles: Vec<Role>,
    /// The architecture role, when recorded.
    pub arch: Option<Arch>,
    /// `spec.ssh` overlaid field-wise with the host's `ssh`; `port` and
    /// `user` (root) are always set.
    pub ssh: Ssh,
    /// The host entry's own `K=V` env (over `spec.env`).
    pub env: Vec<String>,
    /// Index of the host entry in `spec.hosts`.
    pub host_index: usize,
}

impl Machine {
    /// The IP.
    pub fn ip(&self) -> IpAddr {
        self.address.ip
    }

    /// The SSH port.
    pub fn port(&self) -> u16 {
        self.address.port_or(DEFAULT_SSH_PORT)
    }

    /// Whether this machine has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The SSH port when nothing sets one.
pub const DEFAULT_SSH_PORT: u16 = 22;

/// The SSH user when nothing sets one.
pub const DEFAULT_SSH_USER: &str = "root";

impl Cluster {
    /// `metadata.name`, or `default` as sealos assumes.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("default")
    }

    /// Every machine in file order (host entries, then their `ips`).
    pub fn machines(&self) -> Result<Vec<Machine>, HostError> {
        let global = self.spec.ssh.clone().unwrap_or_default();
        let mut out = Vec::new();
        for (host_index, host) in self.spec.hosts.iter().enumerate() {
            let mut ssh = match &host.ssh {
                Some(over) => global.overlaid(over),
                None => global.clone(),
            };
            let default_port = ssh.port.unwrap_or(DEFAULT_SSH_PORT);
            ssh.user.get_or_insert_with(|| DEFAULT_SSH_USER.to_string());
            let (mut roles, mut arch) = (Vec::new(), None);
            for r in &host.roles {
                match r.parse()? {
                    RoleEntry::Role(r) => roles.push(r),
                    RoleEntry::Arch(a) => arch = Some(a),
                }
            }
            for ip in &host.ips {
                let address = ip.parse::<Address>()?.with_default_port(default_port);
                let mut ssh = ssh.clone();
                ssh.port = address.port;
                out.push(Machine {
                    address,
                    roles: roles.clone(),
                    arch,
                    ssh,
                    env: host.env.clone(),
                    host_index,
                });
            }
        }
        Ok(out)
    }

    /// The machines with `role`, in file order.
    pub fn with_role(&self, role: Role) -> Result<Vec<Machine>, HostError> {
        let mut all = self.machines()?;
        all.retain(|m| m.has(role));
        Ok(all)
    }

    /// The first address of the first host entry with role master: where
    /// `kubeadm init` runs.
    pub fn master0(&self) -> Result<Option<Machine>, HostError> {
        Ok(self.with_role(Role::Master)?.into_iter().next())
    }

    /// The hosts serving the private registry: those with role `registry`,
    /// else master0.
    pub fn registry_hosts(&self) -> Result<Vec<Machine>, HostError> {
        let registries = self.with_role(Role::Registry)?;
        if !registries.is_empty() {
            return Ok(registries);
        }
        Ok(self.master0()?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!("master".parse(), Ok(RoleEntry::Role(Role::Master)));
        assert_eq!("arm64".parse(), Ok(RoleEntry::Arch(Arch::Arm64)));
        assert_eq!("db".parse::<RoleEntry>(), Err(HostError::Role("db".into())));
    }
}
