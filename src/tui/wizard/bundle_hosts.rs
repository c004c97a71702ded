//! A loaded bundle's Clusterfile fills the hosts and SSH screens: its
//! masters and nodes when the hosts screen is still empty (hosts the user
//! typed are never replaced), and its SSH user, key path and cluster name
//! where those fields still hold their defaults. The image screen's status
//! line says what was taken, or that the hosts were left out.

use super::Wizard;
use super::hosts::HostEntry;
use super::image::{Fetched, FromBundle, Note};
use super::ssh::SshScreen;

impl Wizard {
    /// A fetch ended: show it on the image screen, then take the hosts
    /// and SSH settings of a loaded bundle's Clusterfile.
    pub(super) fn fetched(&mut self, mut result: Result<Fetched, String>) {
        let from = result.as_mut().ok().and_then(|f| f.hosts.take());
        self.image.fetched(result);
        let Some(from) = from else { return };
        let mut said = self.take_hosts(&from);
        let ssh = fill_ssh(&mut self.ssh, &from);
        if !ssh.is_empty() {
            said.push_str(&format!("; from it too: {}", ssh.join(", ")));
        }
        if let Some(Note::Done(note)) = &mut self.image.note {
            note.push_str("; ");
            note.push_str(&said);
        }
    }

    /// Put the bundle's hosts on an empty hosts screen; what happened.
    fn take_hosts(&mut self, from: &FromBundle) -> String {
        if !self.hosts.hosts.is_empty() {
            return "the bundle's Clusterfile hosts were left out: the hosts screen already has hosts"
                .into();
        }
        let masters = from.masters.iter().map(|&addr| (addr, true));
        let nodes = from.nodes.iter().map(|&addr| (addr, false));
        self.hosts
            .hosts
            .extend(masters.chain(nodes).map(|(addr, master)| HostEntry {
                addr,
                master,
                arch: None,
            }));
        self.hosts.selected = 0;
        self.hosts.error = None;
        // Results for other hosts no longer hold.
        self.ssh.tests.clear();
        format!(
            "hosts from the bundle's Clusterfile: {}, {}",
            count(from.masters.len(), "master"),
            count(from.nodes.len(), "node")
        )
    }
}

/// Fill the SSH fields still at their defaults; the labels of those filled.
fn fill_ssh(ssh: &mut SshScreen, from: &FromBundle) -> Vec<&'static str> {
    let defaults = SshScreen::default();
    let mut filled = Vec::new();
    for (i, value) in [(0, &from.name), (1, &from.user), (3, &from.pk)] {
        let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let field = &mut ssh.fields[i];
        if field.text == defaults.fields[i].text && field.text != value {
            field.text = value.to_string();
            filled.push(field.label);
        }
    }
    if !filled.is_empty() {
        ssh.tests.clear();
    }
    filled
}

/// `1 master`, `3 nodes`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
