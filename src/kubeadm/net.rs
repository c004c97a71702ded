//! The VIP: where it comes from and where it must not be.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Error;
use super::compute::DEFAULT_VIP;

/// The VIP nodes reach the API servers through: the image's `vip` label with `$VAR` and
/// `${VAR}` expanded from env (official images say `$defaultVIP`), else env `defaultVIP`,
/// else 10.103.97.2.
pub fn resolve_vip(label: Option<&str>, env: &BTreeMap<String, String>) -> Result<IpAddr, Error> {
    let from_label = label
        .map(|l| expand(l, env))
        .filter(|v| !v.trim().is_empty());
    let text = from_label
        .or_else(|| {
            env.get("defaultVIP")
                .filter(|v| !v.trim().is_empty())
                .cloned()
        })
        .unwrap_or_else(|| DEFAULT_VIP.to_string());
    text.trim().parse().map_err(|_| Error::BadVip(text.clone()))
}

/// Shell-style `$NAME` / `${NAME}` expansion; unknown names expand to nothing.
fn expand(text: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => (braced, ""),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            out.push('$');
        } else if let Some(value) = env.get(name) {
            out.push_str(value);
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Fails when `vip` lies inside one of the comma-separated CIDRs (pod or service subnet).
pub fn refuse_vip_in(vip: IpAddr, cidrs: &str) -> Result<(), String> {
    for cidr in cidrs.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let contains = contains(cidr, vip).ok_or_else(|| format!("{cidr:?} is not a CIDR"))?;
        if contains {
            return Err(format!(
                "the VIP {vip} lies inside {cidr}; choose another VIP or subnet"
            ));
        }
    }
    Ok(())
}

fn contains(cidr: &str, ip: IpAddr) -> Option<bool> {
    let (net, bits) = cidr.split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    let (net, ip, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        (IpAddr::V4(_), _) => return (bits <= 32).then_some(false),
        (IpAddr::V6(_), _) => return (bits <= 128).then_some(false),
    };
    if bits > width {
        return None;
    }
    let shift = width - bits;
    Some(bits == 0 || (net >> shift) == (ip >> shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn vip_sources_in_order() {
        let e = env(&[("defaultVIP", "10.9.9.9"), ("other", "10.1.1.1")]);
        assert_eq!(
            resolve_vip(Some("$defaultVIP"), &e).unwrap().to_string(),
            "10.9.9.9"
        );
        assert_eq!(
            resolve_vip(Some("${other}"), &e).unwrap().to_string(),
            "10.1.1.1"
        );
        assert_eq!(
            resolve_vip(Some("$missing"), &e).unwrap().to_string(),
            "10.9.9.9"
        );
        assert_eq!(resolve_vip(None, &e).unwrap().to_string(), "10.9.9.9");
        assert_eq!(
            resolve_vip(None, &env(&[])).unwrap().to_string(),
            DEFAULT_VIP
        );
        let err = resolve_vip(Some("vip.example"), &e)
            .unwrap_err()
            .to_string();
        assert!(err.contains("vip.example"), "{err}");
    }

    #[test]
    fn vip_inside_a_subnet_is_refused() {
        let vip: IpAddr = "10.96.0.10".parse().unwrap();
        let err = refuse_vip_in(vip, "100.64.0.0/10,10.96.0.0/22").unwrap_err();
        assert!(err.contains("10.96.0.0/22"), "{err}");
        refuse_vip_in(vip, "100.64.0.0/10,fd00::/108").unwrap();
        assert!(refuse_vip_in(vip, "10.0.0.0/33").is_err());
        assert!(refuse_vip_in(vip, "banana").is_err());
    }
}
