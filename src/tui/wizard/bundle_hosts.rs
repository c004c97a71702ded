//! A loaded bundle's Clusterfile fills the hosts and SSH screens: its
//! masters and nodes when the hosts screen is still empty (hosts the user
//! typed are never replaced), and its SSH user, key path and cluster name
//! where those fields still hold their defaults. What was taken is said
//! on the image screen's status line, or that the hosts were left out.

use super::hosts::{HostEntry, HostsScreen};
use super::image::FromBundle;
use super::ssh::SshScreen;

impl HostsScreen {
    /// Put the bundle's hosts on an empty screen; what happened.
    pub(super) fn take_bundle(&mut self, from: &FromBundle) -> String {
        if !self.hosts.is_empty() {
            return "the bundle's Clusterfile hosts were left out: the hosts screen already has hosts"
                .into();
        }
        let masters = from.masters.iter().map(|&addr| (addr, true));
        let nodes = from.nodes.iter().map(|&addr| (addr, false));
        self.hosts
            .extend(masters.chain(nodes).map(|(addr, master)| HostEntry {
                addr,
                master,
                arch: None,
            }));
        self.selected = 0;
        self.error = None;
        format!(
            "hosts from the bundle's Clusterfile: {}, {}",
            count(from.masters.len(), "master"),
            count(from.nodes.len(), "node")
        )
    }
}

impl SshScreen {
    /// Fill the fields still at their defaults; `hosts_taken` when the
    /// hosts screen took the bundle's hosts (earlier results then no longer
    /// hold). What was filled, when anything was.
    pub(super) fn take_bundle(&mut self, from: &FromBundle, hosts_taken: bool) -> Option<String> {
        let defaults = SshScreen::default();
        let mut filled = Vec::new();
        for (i, value) in [(0, &from.name), (1, &from.user), (3, &from.pk)] {
            let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let field = &mut self.fields[i];
            if field.text() == defaults.fields[i].text() && field.text() != value {
                field.set(value);
                filled.push(field.label);
            }
        }
        if hosts_taken || !filled.is_empty() {
            self.tests.clear();
        }
        (!filled.is_empty()).then(|| format!("from it too: {}", filled.join(", ")))
    }
}

/// `1 master`, `3 nodes`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
