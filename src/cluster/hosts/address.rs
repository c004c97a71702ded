//! Host addresses as `tug gen`/`run` take them and as `spec.hosts[].ips`
//! stores them: one `ip`, `ip:port` or `[ipv6]:port`, and comma lists with
//! `FIRST-LAST` ranges expanded in order (bounded by [`MAX_RANGE`]).

use super::HostError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The most addresses one range may expand to: a typo such as
/// `10.0.0.1-10.9.0.1` must not silently become thousands of hosts.
pub const MAX_RANGE: u128 = 1024;

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

/// Why an IP cannot be one host: "any address", broadcast and multicast
/// reach no single machine (an SSH to 0.0.0.0 lands on the jump host).
fn not_a_host(ip: IpAddr) -> Option<&'static str> {
    if ip.is_unspecified() {
        Some("the unspecified address")
    } else if ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
        Some("the broadcast address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// `a` unless its IP cannot be one host.
fn usable(a: Address, given: &str) -> Result<Address, HostError> {
    match not_a_host(a.ip) {
        Some(why) => Err(HostError::NotAHost(given.to_string(), why)),
        None => Ok(a),
    }
}

impl FromStr for Address {
    type Err = HostError;

    /// `10.0.0.2`, `10.0.0.2:2222`, `fd00::2`, `[fd00::2]` or `[fd00::2]:2222`;
    /// never an address that is no single host.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        usable(parse_address(s)?, s)
    }
}

fn parse_address(s: &str) -> Result<Address, HostError> {
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

/// `FIRST-LAST[:PORT]`: LAST may be a full address or, for IPv4, only
/// its last parts (`10.0.0.2-4`, `10.0.0.2-1.4`); an IPv6 LAST takes a port
/// in brackets (`fd00::2-[fd00::4]:2222`). The port goes to every address.
fn expand_range(item: &str, first: &str, last: &str) -> Result<Vec<Address>, HostError> {
    let bad = || HostError::Range(item.to_string());
    let a: IpAddr = first.trim().parse().map_err(|_| bad())?;
    let last = last.trim();
    let (b, port): (IpAddr, Option<u16>) = match a {
        IpAddr::V4(a4) => {
            let (ip, port) = match last.rsplit_once(':') {
                Some((ip, p)) => (ip, Some(parse_port(p, item)?)),
                None => (last, None),
            };
            (IpAddr::V4(fill_v4(a4, ip).ok_or_else(bad)?), port)
        }
        IpAddr::V6(_) => match last.parse::<IpAddr>() {
            Ok(ip) => (ip, None),
            Err(_) => {
                let b: Address = last.parse().map_err(|_| bad())?;
                (b.ip, b.port)
            }
        },
    };
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
    (lo..=hi)
        .map(|n| Address {
            ip: match a {
                // `n` stays within the two v4 ends, so it fits in 32 bits.
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
            },
            port,
        })
        .map(|a| usable(a, item))
        .collect()
}

/// The IPv4 address `first` with its last parts replaced by `last`'s one
/// to four dot-separated numbers (`4` → a.b.c.4, `1.4` → a.b.1.4).
fn fill_v4(first: Ipv4Addr, last: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u8> = last
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut octets = first.octets();
    octets[4 - parts.len()..].copy_from_slice(&parts);
    Some(Ipv4Addr::from(octets))
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
    fn ranges_with_a_short_last_part_and_a_port() {
        assert_eq!(list("10.0.0.2-4"), ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
        assert_eq!(list("10.0.0.255-1.0"), ["10.0.0.255", "10.0.1.0"]);
        assert_eq!(
            list("10.0.0.2-10.0.0.3:2222"),
            ["10.0.0.2:2222", "10.0.0.3:2222"]
        );
        assert_eq!(list("10.0.0.2-3:2222"), ["10.0.0.2:2222", "10.0.0.3:2222"]);
        assert_eq!(
            list("fd00::2-[fd00::3]:2222"),
            ["[fd00::2]:2222", "[fd00::3]:2222"]
        );
    }

    #[test]
    fn bad_lists() {
        let err = |s: &str| parse_ip_list(s).unwrap_err();
        assert!(matches!(err("10.0.0.9-10.0.0.2"), HostError::Reversed(_)));
        assert!(matches!(
            err("10.0.0.0-10.0.255.255"),
            HostError::TooLarge(_, 65536)
        ));
        assert!(matches!(err("10.0.0.2-x"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.2-300"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.2-1.2.3.4.5"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.2-4:0"), HostError::Port(_)));
        assert!(matches!(err("10.0.0.9-2"), HostError::Reversed(_)));
        assert!(matches!(err("10.0.0.2-fd00::1"), HostError::Range(_)));
        assert!(matches!(err("10.0.0.300"), HostError::Address(_)));
        assert!(matches!(err("10.0.0.3:0"), HostError::Port(_)));
        assert!(matches!(err("10.0.0.3:70000"), HostError::Port(_)));
        assert!(matches!(err("[fd00::1]x"), HostError::Address(_)));
        assert!(matches!(err("10.0.0.1,,10.0.0.2"), HostError::Empty(_)));
        assert!(matches!(err("host.example"), HostError::Address(_)));
        for nobody in [
            "0.0.0.0",
            "0.0.0.0:22",
            "255.255.255.255",
            "[::]:22",
            "224.0.0.1",
        ] {
            let e = err(nobody);
            assert!(matches!(e, HostError::NotAHost(..)), "{nobody}: {e}");
            assert!(e.to_string().contains("is not a host"), "{e}");
        }
        assert!(matches!(
            err("255.255.255.250-255.255.255.255"),
            HostError::NotAHost(..)
        ));
    }
}
