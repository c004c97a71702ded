//! Which transport drives each host: a host whose IP is exactly an
//! address of one of the jump host's interfaces runs its steps locally
//! (no SSH to itself); every other host needs SSH. The jump host itself
//! ([`crate::engine::install::JUMP_HOST`]) is always local.

use super::Transport;
use super::gone::GoneTransport;
use super::local::LocalTransport;
use super::ssh::{Jumps, SshTransport};
use crate::engine::install::JUMP_HOST;
use crate::engine::plan::HostId;
use crate::engine::spec::HostSpec;
use crate::ssh::{HostKeyPolicy, KnownHosts, NewHostKey};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The IP addresses of this machine's interfaces.
pub fn local_addresses() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family tells its real type.
            match i32::from(unsafe { (*ifa.ifa_addr).sa_family }) {
                libc::AF_INET => {
                    // SAFETY: the family is AF_INET, so this is a sockaddr_in.
                    let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                    out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))));
                }
                libc::AF_INET6 => {
                    // SAFETY: the family is AF_INET6, so this is a sockaddr_in6.
                    let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                    out.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
                }
                _ => {}
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// A host tug cannot reach with the transports it has.
#[derive(Debug, thiserror::Error)]
#[error("host {host} ({ip}) is not this machine, and {reason}")]
pub struct NoTransport {
    /// The host.
    pub host: String,
    /// Its IP.
    pub ip: IpAddr,
    /// Why no transport fits.
    pub reason: String,
}

/// Why the hosts could not all be reached.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConnectError(pub Vec<String>);

/// What [`connect`] does with a host it cannot connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// Fail, naming every such host: an install changes nothing unless it
    /// can reach every host.
    Refuse,
    /// Give the host a [`GoneTransport`], so a reset or delete goes on with
    /// the others and its steps fail naming it and why.
    Tolerate,
}

/// Connect to every host of `hosts` that is not this machine, all at once,
/// and return a transport for every host plus the jump host. Every host
/// that fails is named (not only the first), and each newly trusted host
/// key is reported through `new_key` with who showed it (a host's id, or
/// `bastion HOST:PORT`). Hosts behind one bastion share its connection.
pub async fn connect(
    hosts: &[HostSpec],
    known: KnownHosts,
    policy: HostKeyPolicy,
    unreachable: Unreachable,
    mut new_key: impl FnMut(&str, &NewHostKey),
) -> Result<HashMap<HostId, Arc<dyn Transport>>, ConnectError> {
    let mine = local_addresses().unwrap_or_default();
    let remote: Vec<&HostSpec> = hosts.iter().filter(|h| !mine.contains(&h.ip)).collect();
    let jumps = Jumps::default();
    let attempts = remote
        .iter()
        .map(|h| SshTransport::connect(h, known.clone(), policy.clone(), &jumps));
    let results = futures_util::future::join_all(attempts).await;
    for k in jumps.new_keys() {
        new_key(&format!("bastion {}", k.addr), &k);
    }
    let mut connected = HashMap::new();
    let mut failed = Vec::new();
    for (h, r) in remote.into_iter().zip(results) {
        match r {
            Ok(t) => {
                if let Some(k) = t.new_host_key() {
                    new_key(&h.id.to_string(), &k);
                }
                connected.insert(h.id.clone(), Arc::new(t) as Arc<dyn Transport>);
            }
            Err(e) if unreachable == Unreachable::Tolerate => {
                let reason = format!("unreachable: {e}");
                connected.insert(h.id.clone(), Arc::new(GoneTransport::new(reason)));
            }
            Err(e) => failed.push(format!("host {}: {e}", h.id)),
        }
    }
    if !failed.is_empty() {
        return Err(ConnectError(failed));
    }
    transports(hosts, |h| {
        connected.remove(&h.id).ok_or_else(|| NoTransport {
            host: h.id.to_string(),
            ip: h.ip,
            reason: "it was not connected".into(),
        })
    })
    .map_err(|e| ConnectError(vec![e.to_string()]))
}

/// A transport for every host of `hosts` plus the jump host: local for
/// this machine's own addresses, `remote(host)` for the others.
pub fn transports(
    hosts: &[HostSpec],
    mut remote: impl FnMut(&HostSpec) -> Result<Arc<dyn Transport>, NoTransport>,
) -> Result<HashMap<HostId, Arc<dyn Transport>>, NoTransport> {
    let mine = local_addresses().unwrap_or_default();
    let mut out: HashMap<HostId, Arc<dyn Transport>> = HashMap::new();
    out.insert(HostId::new(JUMP_HOST), Arc::new(LocalTransport::new()));
    for h in hosts {
        let t: Arc<dyn Transport> = if mine.contains(&h.ip) {
            Arc::new(LocalTransport::new())
        } else {
            remote(h)?
        };
        out.insert(h.id.clone(), t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_one_of_ours() {
        let mine = local_addresses().unwrap();
        assert!(mine.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{mine:?}");
        assert!(!mine.contains(&"127.0.10.1".parse().unwrap()));
    }
}
