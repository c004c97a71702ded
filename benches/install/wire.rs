//! Bytes on the wire to each test host's sshd, counted by the kernel: an
//! iptables chain of its own with one counting rule per host address
//! (TCP to the sshd port, so SSH framing and everything else on the
//! connections counts). Removed on drop. None where iptables is not usable.

use std::process::Command;

/// Counting rules for some hosts.
pub struct Wire {
    chain: String,
    ips: Vec<String>,
    port: u16,
}

fn ipt(args: &[&str]) -> Option<String> {
    let out = Command::new("iptables")
        .args(["-w"])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Wire {
    /// Start counting bytes sent to `ips` on `port`.
    pub fn count(ips: &[String], port: u16) -> Option<Wire> {
        let chain = format!("TUGBENCH{}", std::process::id());
        ipt(&["-N", &chain])?;
        let wire = Wire {
            chain,
            ips: ips.to_vec(),
            port,
        };
        ipt(&["-I", "INPUT", "-j", &wire.chain])?;
        let p = port.to_string();
        for ip in ips {
            ipt(&["-A", &wire.chain, "-d", ip, "-p", "tcp", "--dport", &p])?;
        }
        Some(wire)
    }

    /// Bytes counted per host since the last reset, in `ips` order.
    pub fn bytes(&self) -> Vec<u64> {
        let list = ipt(&["-L", &self.chain, "-n", "-v", "-x"]).unwrap_or_default();
        let dpt = format!("dpt:{}", self.port);
        self.ips
            .iter()
            .map(|ip| {
                list.lines()
                    .map(|l| l.split_whitespace().collect::<Vec<_>>())
                    .find(|f| f.contains(&ip.as_str()) && f.contains(&dpt.as_str()))
                    .and_then(|f| f.get(1).and_then(|b| b.parse().ok()))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Set the counters to zero.
    pub fn reset(&self) {
        ipt(&["-Z", &self.chain]);
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        ipt(&["-D", "INPUT", "-j", &self.chain]);
        ipt(&["-F", &self.chain]);
        ipt(&["-X", &self.chain]);
    }
}
