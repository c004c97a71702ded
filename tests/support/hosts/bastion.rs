//! Test hosts that only a bastion can reach. All hosts share the machine's
//! network, so the inner hosts cannot be hidden by address; instead an
//! iptables rule refuses connections to their sshd from processes running
//! as root (tug and the tests run as root). A bastion's sshd opens its
//! `direct-tcpip` connections as its non-root login user, so with the rule
//! in place a host answers only through the bastion.

use super::Host;
use std::process::Command;

/// Marks tug's rules, so a rule left by a killed test is found and removed.
const COMMENT: &str = "tug-test-only-via-bastion";

/// Removes its rules on drop: the hosts take direct connections again.
pub struct OnlyViaBastion {
    rules: Vec<Vec<String>>,
}

impl Host {
    /// Refuse connections from root processes to this host's sshd until the
    /// guard drops: only a bastion logged in as a non-root user gets through.
    pub fn only_via_bastion(&self) -> OnlyViaBastion {
        assert!(super::super::have("iptables"), "needs iptables");
        let rule = rule(&self.ip, self.port);
        super::super::sh(Command::new("iptables").arg("-I").args(&rule));
        OnlyViaBastion { rules: vec![rule] }
    }
}

impl Drop for OnlyViaBastion {
    fn drop(&mut self) {
        for r in &self.rules {
            let _ = Command::new("iptables").arg("-D").args(r).status();
        }
    }
}

/// The rule for `ip:port`, without its `-I`/`-D`.
fn rule(ip: &str, port: u16) -> Vec<String> {
    let port = port.to_string();
    [
        "OUTPUT",
        "-o",
        "lo",
        "-d",
        ip,
        "-p",
        "tcp",
        "--dport",
        &port,
        "-m",
        "owner",
        "--uid-owner",
        "0",
        "-m",
        "comment",
        "--comment",
        COMMENT,
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
    ]
    .map(String::from)
    .to_vec()
}

/// Remove a rule a killed test may have left for `ip:port` (a new host
/// there must answer everyone).
pub(super) fn clear_stale(ip: &str, port: u16) {
    let rule = rule(ip, port);
    let quiet = |c: &mut Command| {
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    while super::super::have("iptables") && quiet(Command::new("iptables").arg("-D").args(&rule)) {}
}
