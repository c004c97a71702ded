//! What the `tug demo` tests share: the five simulated hosts the demo
//! installs, and whether the screen shows each of them done.

use super::tmux::row;

/// The demo's simulated hosts: three masters, then two nodes.
pub const HOSTS: [&str; 5] = [
    "192.168.64.11",
    "192.168.64.12",
    "192.168.64.13",
    "192.168.64.21",
    "192.168.64.22",
];

/// Whether every simulated host's row says done.
pub fn every_host_done(screen: &str) -> bool {
    HOSTS.iter().all(|h| row(screen, h).contains(" done "))
}
