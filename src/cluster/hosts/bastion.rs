//! A bastion's address as `--bastion` and `spec.ssh.bastion` write it:
//! `USER@HOST[:PORT]`, HOST a name, an IPv4 address or `[IPv6]`.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// Where and as whom to log in to a bastion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BastionAddr {
    /// The login user on the bastion.
    pub user: String,
    /// Its host name or IP (IPv6 without brackets).
    pub host: String,
    /// Its SSH port (22 unless given).
    pub port: u16,
}

/// Why a bastion value is not `USER@HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid bastion {value:?}: {why} (want USER@HOST[:PORT])")]
pub struct BastionError {
    /// The value as given.
    pub value: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl FromStr for BastionAddr {
    type Err = BastionError;

    fn from_str(s: &str) -> Result<BastionAddr, BastionError> {
        let bad = |why| BastionError {
            value: s.to_string(),
            why,
        };
        let (user, rest) = s.split_once('@').ok_or_else(|| bad("no USER@"))?;
        if user.is_empty() || !user.chars().all(is_user_char) {
            return Err(bad(
                "the user is empty or has characters a login name cannot",
            ));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (ip, after) = v6.split_once(']').ok_or_else(|| bad("no closing ]"))?;
            ip.parse::<Ipv6Addr>()
                .map_err(|_| bad("not an IPv6 address between [ ]"))?;
            match after {
                "" => (ip, None),
                p => (
                    ip,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ]"))?),
                ),
            }
        } else if rest.matches(':').count() > 1 {
            // A bare IPv6 address: no port can follow it.
            (rest, None)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let is_v6 = host.parse::<Ipv6Addr>().is_ok();
        if host.is_empty() || !(is_v6 || host.chars().all(is_host_char)) {
            return Err(bad("the host is empty or not a name or address"));
        }
        let port = match port {
            None => 22,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("the port is not 1-65535"))?,
        };
        Ok(BastionAddr {
            user: user.to_string(),
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for BastionAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            write!(f, "{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        s.parse::<BastionAddr>().unwrap().to_string()
    }

    fn why(s: &str) -> &'static str {
        s.parse::<BastionAddr>().unwrap_err().why
    }

    #[test]
    fn user_host_and_port_forms_parse() {
        assert_eq!(ok("ops@10.0.0.1"), "ops@10.0.0.1:22");
        assert_eq!(ok("ops@jump.example.com:2222"), "ops@jump.example.com:2222");
        assert_eq!(ok("root@[fd00::1]:22"), "root@[fd00::1]:22");
        assert_eq!(ok("root@fd00::1"), "root@[fd00::1]:22");
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        assert_eq!(why("10.0.0.1"), "no USER@");
        assert_eq!(why("@10.0.0.1"), why("a b@10.0.0.1"));
        assert_eq!(why("ops@"), "the host is empty or not a name or address");
        assert_eq!(why("ops@host:0"), "the port is not 1-65535");
        assert_eq!(why("ops@host:x"), "the port is not 1-65535");
        assert_eq!(why("ops@[fd00::1"), "no closing ]");
        let e = "ops@host:99999"
            .parse::<BastionAddr>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"ops@host:99999\"") && e.contains("USER@HOST[:PORT]"),
            "{e}"
        );
    }
}
