//! What the health step carries: the nodes it waits for and how long. A
//! leaf, so the plan's actions can hold it without reaching the planner.

use crate::engine::host_id::HostId;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// A host whose node is waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Awaited {
    /// The host, as the plan names it.
    pub host: HostId,
    /// Its address: the node's InternalIP (tug sets the kubelet's node-ip to it).
    pub ip: IpAddr,
}

/// The wait's inputs: which nodes, how long, how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitReady {
    /// Every host whose node must be Ready.
    pub nodes: Vec<Awaited>,
    /// How long before the step fails.
    pub timeout: Duration,
    /// How long between two questions.
    pub every: Duration,
}

impl fmt::Display for WaitReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<&str> = self.nodes.iter().map(|n| n.host.as_str()).collect();
        write!(
            f,
            "wait up to {} for the nodes of {} to be Ready (kubectl get nodes)",
            show_duration(self.timeout),
            hosts.join(", ")
        )
    }
}

/// A duration as `--wait` takes it: `5m`, `1m30s`, `45s`.
pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}
