//! Where hosts live: over SSH (every real use), or the demo's simulated
//! hosts (`tug demo`, [`DemoTransport`]). This is the one seam between the
//! faces and the demo: the connection test and the install's hosts ask
//! it; no screen or command knows which it is.

use super::probe::Tested;
use super::session::Hosts;
use crate::engine::install::JUMP_HOST;
use crate::engine::plan::HostId;
use crate::engine::spec::{ClusterSpec, HostSpec};
use crate::engine::transport::Transport;
use crate::engine::transport::demo::DemoTransport;
use crate::engine::transport::local::LocalTransport;
use crate::engine::transport::select::Unreachable;
use crate::ssh::{HostKeyPolicy, KnownHosts};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a face reaches its hosts.
#[derive(Clone, Debug)]
pub enum Reach {
    /// Over SSH, keys checked against tug's known_hosts.
    Ssh,
    /// The demo's simulated hosts: nothing is contacted.
    Simulated(Simulated),
}

impl Reach {
    /// How the install reaches `spec`'s hosts: over SSH with tug's
    /// known_hosts at `known` (every first-use key was confirmed in the
    /// connection test), or a [`DemoTransport`] each.
    pub fn hosts(&self, spec: &ClusterSpec, known: PathBuf) -> Hosts {
        match self {
            Reach::Ssh => Hosts::Ssh {
                hosts: spec.hosts.clone(),
                known: KnownHosts::new(known),
                policy: HostKeyPolicy::Strict,
                unreachable: Unreachable::Refuse,
            },
            Reach::Simulated(s) => Hosts::Ready(s.transports(spec)),
        }
    }
}

/// The arch every simulated host answers.
const ARCH: &str = "amd64";

/// The demo's simulated hosts: links around `speed`, commands taking
/// about `pace`, and host keys made up from each address.
#[derive(Clone, Debug)]
pub struct Simulated {
    /// Link speed in KiB/s (hosts vary around it).
    speed: u64,
    /// About how long each simulated command takes.
    pace: Duration,
    /// Fingerprints confirmed in this session; kept in memory only, so no
    /// known_hosts file ever names a simulated host.
    trusted: Arc<Mutex<HashSet<String>>>,
}

impl Simulated {
    /// Hosts with links of about `speed` KiB/s whose commands take about
    /// `pace` each.
    pub fn new(speed: u64, pace: Duration) -> Self {
        Simulated {
            speed,
            pace,
            trusted: Arc::default(),
        }
    }

    /// A simulated host per spec host (named demo-master-N / demo-node-N,
    /// links a little faster or slower than `speed`); the jump host is
    /// this machine, where only the hostname comparison runs.
    pub fn transports(&self, spec: &ClusterSpec) -> HashMap<HostId, Arc<dyn Transport>> {
        let mut out: HashMap<HostId, Arc<dyn Transport>> = HashMap::new();
        out.insert(HostId::new(JUMP_HOST), Arc::new(LocalTransport::new()));
        let named = spec
            .masters()
            .enumerate()
            .map(|(i, h)| (h, format!("demo-master-{}", i + 1)))
            .chain(
                spec.nodes()
                    .enumerate()
                    .map(|(i, h)| (h, format!("demo-node-{}", i + 1))),
            );
        let named: Vec<_> = named.collect();
        let nodes: Vec<(String, String)> = named
            .iter()
            .map(|(h, name)| (name.clone(), h.ip.to_string()))
            .collect();
        for (i, (h, name)) in named.into_iter().enumerate() {
            let speed = self.speed.max(1) * 1024 * (7 + (i as u64 * 3) % 7) / 10;
            let host = DemoTransport::new(name, speed, self.pace).with_nodes(nodes.clone());
            out.insert(h.id.clone(), Arc::new(host));
        }
        out
    }

    /// The connection test of one simulated host, as the SSH test answers
    /// it: a first-use key to confirm, trusted once its fingerprint is in
    /// `trust` (and for the rest of the session), then `ok` on amd64.
    pub fn test(&self, host: &HostSpec, trust: &[String]) -> Tested {
        let fp = fingerprint(&format!("{}:{}", host.ip, host.port));
        let mut trusted = self.trusted.lock().unwrap_or_else(|p| p.into_inner());
        let key = format!("ssh-ed25519 {fp}");
        if trust.contains(&fp) {
            trusted.insert(fp);
            Tested::Ok {
                key: format!("{key} (simulated; trusted now)"),
                arch: Some(ARCH.into()),
            }
        } else if trusted.contains(&fp) {
            Tested::Ok {
                key: format!("{key} (simulated; trusted)"),
                arch: Some(ARCH.into()),
            }
        } else {
            Tested::NewKey {
                key: format!("{key} (simulated)"),
                fingerprint: fp,
            }
        }
    }
}

/// A made-up fingerprint for the simulated host at `addr`, the same on
/// every run (FNV-1a) and labelled so it cannot pass for a real one.
fn fingerprint(addr: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in addr.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("SHA256:demo-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::spec::SshSpec;

    fn host(ip: &str) -> HostSpec {
        HostSpec {
            id: HostId::new(ip),
            ip: ip.parse().unwrap(),
            port: 22,
            roles: Vec::new(),
            arch: ARCH.into(),
            ssh: SshSpec::default(),
            env: Vec::new(),
        }
    }

    fn new_key(t: &Tested) -> String {
        match t {
            Tested::NewKey { key, fingerprint } => {
                assert!(key.contains(fingerprint) && key.ends_with("(simulated)"));
                fingerprint.clone()
            }
            other => panic!("not a new key: {other:?}"),
        }
    }

    #[test]
    fn a_simulated_key_is_stable_per_host_and_labelled() {
        let sim = Simulated::new(1, Duration::ZERO);
        let a = new_key(&sim.test(&host("192.168.64.11"), &[]));
        let again = new_key(&Simulated::new(1, Duration::ZERO).test(&host("192.168.64.11"), &[]));
        let b = new_key(&sim.test(&host("192.168.64.12"), &[]));
        assert_eq!(a, again);
        assert_ne!(a, b);
        assert!(a.starts_with("SHA256:demo-"), "{a}");
    }

    #[test]
    fn a_confirmed_key_is_ok_on_amd64_and_stays_trusted_only_in_this_session() {
        let sim = Simulated::new(1, Duration::ZERO);
        let h = host("10.1.2.3");
        let fp = new_key(&sim.test(&h, &[]));
        // Trusting another host's key does not trust this one.
        new_key(&sim.test(&h, &["SHA256:demo-0".into()]));
        let ok = |t: Tested, note: &str| match t {
            Tested::Ok { key, arch } => {
                assert!(key.contains(&fp) && key.contains(note), "{key}");
                assert_eq!(arch.as_deref(), Some("amd64"));
            }
            other => panic!("not ok: {other:?}"),
        };
        ok(
            sim.test(&h, std::slice::from_ref(&fp)),
            "(simulated; trusted now)",
        );
        ok(sim.test(&h, &[]), "(simulated; trusted)");
        new_key(&Simulated::new(1, Duration::ZERO).test(&h, &[]));
    }

    #[test]
    fn every_host_gets_a_simulated_transport_and_the_jump_host_a_local_one() {
        let spec = crate::engine::install::fixture::spec(Vec::new());
        let hosts = Simulated::new(64, Duration::ZERO).transports(&spec);
        assert_eq!(hosts.len(), spec.hosts.len() + 1);
        assert!(hosts.contains_key(&HostId::new(JUMP_HOST)));
        for h in &spec.hosts {
            assert!(hosts.contains_key(&h.id), "{}", h.id);
        }
    }
}
