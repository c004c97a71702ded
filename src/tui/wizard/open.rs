//! A saved Clusterfile opened in the wizard (`tug --answers FILE`, or an
//! installed cluster from the clusters screen): its images are marked on
//! the image screen, its hosts fill the hosts screen, its SSH settings and
//! name the SSH screen, its env and kubeadm documents the configuration.
//! What the file holds replaces what the screens held.

use super::Wizard;
use super::config::env::Row;
use super::hosts::HostEntry;
use super::image::Note;
use super::ssh::SshScreen;
use super::{Step, field::Field};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::{Address, DEFAULT_SSH_PORT, Role};
use crate::image::Reference;
use crate::secret::Secret;
use std::path::PathBuf;

/// A Clusterfile read for the wizard.
#[derive(Clone, Debug)]
pub struct Opened {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its contents.
    pub cf: Box<Clusterfile>,
    /// The installed cluster it is the Clusterfile of, when opened from
    /// the clusters screen: only then may it be saved under its own name.
    pub opened: Option<String>,
}

impl Wizard {
    /// Fill every screen from `o`; the wizard then shows the hosts (or the
    /// image screen, when an image of the file is not in the store).
    pub fn open(&mut self, o: &Opened) -> Result<(), String> {
        let cf = &o.cf;
        let spec = &cf.cluster.spec;
        let machines = cf
            .cluster
            .machines()
            .map_err(|e| format!("{}: {e}", o.path.display()))?;
        let images: Vec<String> = spec
            .image
            .iter()
            .map(|i| i.parse::<Reference>().map_or(i.clone(), |r| r.to_string()))
            .collect();
        let missing: Vec<&String> = images
            .iter()
            .filter(|i| !self.image.choices.iter().any(|c| &c.name == *i))
            .collect();
        let ssh = spec.ssh.clone().unwrap_or_default();
        let port = ssh.port.unwrap_or(DEFAULT_SSH_PORT);
        self.hosts.hosts = machines
            .iter()
            .filter(|m| m.has(Role::Master) || m.has(Role::Node))
            .map(|m| HostEntry {
                addr: Address {
                    ip: m.ip(),
                    port: Some(m.port()).filter(|p| *p != port),
                },
                master: m.has(Role::Master),
                arch: None,
            })
            .collect();
        self.hosts.selected = 0;
        self.hosts.error = None;
        let mut fields = SshScreen::default().fields;
        fields[0].set(cf.cluster.name());
        fields[5].set(&port.to_string());
        for (i, value) in [(1, &ssh.user), (3, &ssh.pk), (6, &ssh.bastion)] {
            if let Some(v) = value {
                fields[i].set(v);
            }
        }
        for (i, label, secret) in [
            (2, "password", &ssh.passwd),
            (4, "key passphrase", &ssh.pk_passwd),
        ] {
            if let Some(s) = secret {
                fields[i] = Field::replacing(label, s.expose());
            }
        }
        self.ssh.fields = fields;
        self.ssh.tests.clear();
        self.config.env.rows = spec
            .env
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| Row {
                key: k.to_string(),
                image: None,
                value: Some(Secret::new(v)),
            })
            .collect();
        self.config.image = None;
        let text: Vec<String> = cf
            .kubeadm_documents()
            .map(|d| {
                d.text
                    .clone()
                    .or_else(|| serde_yaml::to_string(&d.value).ok())
                    .unwrap_or_default()
            })
            .collect();
        self.config.editor.set_text(text.join("\n---\n").trim_end());
        self.clusters.opened = o.opened.clone();
        self.clusters.note = None;
        let what = match &o.opened {
            Some(name) => format!("cluster {name}"),
            None => o.path.display().to_string(),
        };
        if missing.is_empty() {
            self.image.marked = images;
            self.image.note = Some(Note::Done(format!("opened {what}")));
            self.step = Step::Hosts;
        } else {
            let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            self.image.note = Some(Note::Failed(format!(
                "opened {what}; not in the store: {} (p pulls it)",
                missing.join(", ")
            )));
            self.step = Step::Image;
        }
        Ok(())
    }
}
