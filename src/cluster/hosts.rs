//! Host addresses, roles and IP lists as `tug gen`/`run` take them and as
//! the Clusterfile stores them (`spec.hosts[].ips`, `spec.hosts[].roles`).

use super::model::{Cluster, Ssh};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The most addresses one range may expand to: a typo such as
/// `10.0.0.1-10.9.0.1` must not silently become thousands of hosts.
pub const MAX_RANGE: u128 = 1024;

/// Why an address, an IP list or a role is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Not an IP address, `ip:port` or `[ipv6]:port`.
    #[error("invalid address {0:?} (want IP, IP:PORT or [IPv6]:PORT)")]
    Address(String),
    /// The port after the address is not 1–65535.
    #[error("invalid port in {0:?} (want 1-65535)")]
    Port(String),
    /// A range whose ends are not full addresses of the same family.
    #[error(
        "invalid range {0:?} (want FIRST-LAST with two full addresses, e.g. 192.168.0.2-192.168.0.9)"
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
    /// A role that is neither a known role nor an architecture.
    #[error("unknown role {0:?} (want master, node, registry, amd64 or arm64)")]
    Role(String),
}

/// One SSH target: an IP and, when given, a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// The host's IP.
    pub ip: IpAddr,
    /// The SSH port written with the address, if any.
    pub port: Option<u16>,
}

impl Address {
    /// The port to connect to: the address's own, else `default`.
    pub fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }

    /// This address with its port filled in from `default` when absent.
    pub fn with_default_port(self, default: u16) -> Address {
        Address {
            ip: self.ip,
            port: Some(self.port_or(default)),
        }
    }
}

impl FromStr for Address {
    type Err = HostError;

    /// `10.0.0.2`, `10.0.0.2:2222`, `fd00::2`, `[fd00::2]` or `[fd00::2]:2222`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || HostError::Address(s.to_string());
        let t = s.trim();
        if let Some(rest) = t.strip_prefix('[') {
            let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
            let ip: Ipv6Addr = ip.parse().map_err(|_| bad())?;
            let port = match after {
                "" => None,
                p => Some(parse_port(p.strip_prefix(':').ok_or_else(bad)?, s)?),
            };
            return Ok(Address {
                ip: IpAddr::V6(ip),
                port,
            });
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Ok(Address { ip, port: None });
        }
        let (ip, port) = t.rsplit_once(':').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        Ok(Address {
            ip: IpAddr::V4(ip),
            port: Some(parse_port(port, s)?),
        })
    }
}

fn parse_port(p: &str, whole: &str) -> Result<u16, HostError> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(HostError::Port(whole.to_string())),
    }
}

impl fmt::Display for Address {
    /// `ip`, `ip:port` or `[ipv6]:port`: the form sealos writes in `ips`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.ip, self.port) {
            (ip, None) => write!(f, "{ip}"),
            (IpAddr::V4(ip), Some(p)) => write!(f, "{ip}:{p}"),
            (IpAddr::V6(ip), Some(p)) => write!(f, "[{ip}]:{p}"),
        }
    }
}

/// Parse an IP list as `--masters`/`--nodes` take it: comma-separated
/// addresses (`ip`, `ip:port`, `[ipv6]:port`) and ranges `FIRST-LAST` of
/// full addresses, expanded in order. An empty string is an empty list.
pub fn parse_ip_list(list: &str) -> Result<Vec<Address>, HostError> {
    let mut out = Vec::new();
    if list.trim().is_empty() {
        return Ok(out);
    }
    for item in list.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(HostError::Empty(list.to_string()));
        }
        match item.split_once('-') {
            Some((first, last)) => out.extend(expand_range(item, first, last)?),
            None => out.push(item.parse()?),
        }
    }
    Ok(out)
}

fn expand_range(item: &str, first: &str, last: &str) -> Result<Vec<Address>, HostError> {
    let bad = || HostError::Range(item.to_string());
    let (a, b): (IpAddr, IpAddr) = (
        first.trim().parse().map_err(|_| bad())?,
        last.trim().parse().map_err(|_| bad())?,
    );
    let (lo, hi) = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b))),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
        _ => return Err(bad()),
    };
    if lo > hi {
        return Err(HostError::Reversed(item.to_string()));
    }
    let count = hi - lo + 1;
    if count > MAX_RANGE {
        return Err(HostError::TooLarge(item.to_string(), count));
    }
    Ok((lo..=hi)
        .map(|n| Address {
            ip: match a {
                // `n` stays within the two v4 ends, so it fits in 32 bits.
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
            },
            port: None,
        })
        .collect())
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

    fn list(s: &str) -> Vec<String> {
        parse_ip_list(s)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn addresses() {
        assert_eq!(list("10.0.0.2"), ["10.0.0.2"]);
        assert_eq!(
            list("10.0.0.2:2222, 10.0.0.3"),
            ["10.0.0.2:2222", "10.0.0.3"]
        );
        assert_eq!(list("[fd00::2]:22,fd00::3"), ["[fd00::2]:22", "fd00::3"]);
        assert_eq!(list("[fd00::4]"), ["fd00::4"]);
        assert_eq!(list(""), Vec::<String>::new());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            list("192.168.0.254-192.168.1.1"),
            [
                "192.168.0.254",
                "192.168.0.255",
                "192.168.1.0",
                "192.168.1.1"
            ]
        );
        assert_eq!(list("fd00::9-fd00::a"), ["fd00::9", "fd00::a"]);
        assert_eq!(list("10.0.0.5-10.0.0.5,10.0.0.1"), ["10.0.0.5", "10.0.0.1"]);
    }

    #[test]
    fn bad_lists() {
        let err = |s: &str| parse_ip_list(s).unwrap_err();
        assert!(matches!(err("10.0.0.9-10.0.0.2"), HostError::Reversed(_)));
        assert!(matches!(
            err("10.0.0.0-10.0.255.255"),
            HostError::TooLarge(_, 65536)
        ));
        assert!(matches!(err("10.0.0.2-9"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.2-fd00::1"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.300"), HostError::Address(_)));
        assert!(matches!(err("10.0.0.3:0"), HostError::Port(_)));
        assert!(matches!(err("10.0.0.3:70000"), HostError::Port(_)));
        assert!(matches!(err("[fd00::1]x"), HostError::Address(_)));
        assert!(matches!(err("10.0.0.1,,10.0.0.2"), HostError::Empty(_)));
        assert!(matches!(err("host.example"), HostError::Address(_)));
    }

    #[test]
    fn roles() {
        assert_eq!("master".parse(), Ok(RoleEntry::Role(Role::Master)));
        assert_eq!("arm64".parse(), Ok(RoleEntry::Arch(Arch::Arm64)));
        assert_eq!("db".parse::<RoleEntry>(), Err(HostError::Role("db".into())));
    }
}
