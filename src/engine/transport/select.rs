//! Which transport drives each host: a host whose IP is exactly an
//! address of one of the jump host's interfaces runs its steps locally
//! (no SSH to itself); every other host needs SSH. The jump host itself
//! ([`crate::engine::install::JUMP_HOST`]) is always local.

use super::Transport;
use super::local::LocalTransport;
use crate::engine::install::JUMP_HOST;
use crate::engine::plan::HostId;
use crate::engine::spec::HostSpec;
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
