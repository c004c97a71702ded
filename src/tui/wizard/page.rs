//! What every wizard screen is to the wizard: a [`Page`] with its keys
//! (for the help and the footer), its own key handling and scrolling, its
//! drawing, and its part of the [`Draft`] the screens describe together.
//! The wizard knows screens only through this trait and the one list in
//! `wizard/mod.rs`.

use super::hosts::HostEntry;
use super::{Job, Reply};
use crate::cluster::clusterfile::{Clusterfile, Document};
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::model::Ssh;
use crate::tui::target::Target;
use crate::tui::theme::Theme;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

/// A key and what it does, as the help overlay and the footer show it.
pub type Keys = &'static [(&'static str, &'static str)];

/// Where a key sends the wizard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Stay on this screen.
    Stay,
    /// To the screen before (leave from the first).
    Back,
    /// On to the screen after.
    Next,
    /// Leave the wizard.
    Quit,
    /// Run a job and stay.
    Job(Job),
    /// Install the reviewed plan.
    Install,
}

/// What the screens describe together: the Clusterfile's inputs, as each
/// screen last left them. Screens read it to draw and to start jobs.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// The images to install, the rootfs first.
    pub images: Vec<String>,
    /// The rootfs image's architectures (empty when unknown).
    pub archs: Vec<String>,
    /// The hosts, in the order added.
    pub hosts: Vec<HostEntry>,
    /// The cluster's name.
    pub name: String,
    /// The SSH settings every host shares.
    pub ssh: Ssh,
    /// The `KEY=value` env overrides.
    pub env: Vec<String>,
    /// The kubeadm override's documents.
    pub documents: Vec<Document>,
    /// The installed cluster the wizard opened, if any.
    pub opened: Option<String>,
    /// The names installed clusters hold.
    pub taken: Vec<String>,
}

impl Draft {
    /// Why the cluster's name cannot be saved or installed: another
    /// installed cluster holds it (the opened one may keep its own).
    pub fn name_taken(&self) -> Option<String> {
        let name = self.name.as_str();
        (self.opened.as_deref() != Some(name) && self.taken.iter().any(|t| t == name)).then(|| {
            format!(
                "a cluster named {name} is already installed here: open it from the list of \
                 clusters to change it, or give this one another name"
            )
        })
    }

    /// The architecture every host answered in the connection test, when
    /// all did and all agree: the arch role the Clusterfile gets, so a
    /// multi-arch image installs the hosts' platform.
    pub fn common_arch(&self) -> Option<&str> {
        let first = self.hosts.first()?.arch.as_deref()?;
        self.hosts
            .iter()
            .all(|h| h.arch.as_deref() == Some(first))
            .then_some(first)
    }

    /// The Clusterfile the screens describe.
    pub fn clusterfile(&self) -> Result<Clusterfile, String> {
        if self.images.is_empty() {
            return Err("no image picked".into());
        }
        let pick = |m: bool| {
            self.hosts
                .iter()
                .filter(|h| h.master == m)
                .map(|h| h.addr)
                .collect()
        };
        let mut cf = generate(NewCluster {
            name: self.name.clone(),
            images: self.images.clone(),
            masters: pick(true),
            nodes: pick(false),
            ssh: self.ssh.clone(),
            env: self.env.clone(),
            ..NewCluster::default()
        })
        .map_err(|e| e.to_string())?;
        cf.documents = self.documents.clone();
        if let Some(arch) = self.common_arch() {
            for group in &mut cf.cluster.spec.hosts {
                group.roles.push(arch.to_string());
            }
        }
        Ok(cf)
    }
}

/// What a job's reply did to the screens.
#[derive(Debug, Default)]
pub struct Replied {
    /// The plan's target, when one is ready to install.
    pub target: Option<Target>,
    /// What screens took from the reply, in a few words each, for the
    /// screen that reports it.
    pub said: Vec<String>,
}

/// One wizard screen.
pub trait Page {
    /// Its keys, for the help overlay and the footer.
    fn keys(&self) -> Keys;

    /// Whether the wizard passes this screen by (it has nothing to show).
    fn skipped(&self) -> bool {
        false
    }

    /// Whether keys go to a text input (`q` and `?` are then typed).
    fn typing(&self) -> bool {
        false
    }

    /// Whether there is input that leaving the wizard would throw away.
    fn has_input(&self) -> bool {
        false
    }

    /// Scroll by `key` when the screen scrolls and the key moves it; true
    /// when it took the key. Asked before [`Page::handle_key`], never
    /// while typing.
    fn scroll(&mut self, _key: KeyEvent) -> bool {
        false
    }

    /// React to a key, knowing what all screens describe.
    fn handle_key(&mut self, key: KeyEvent, draft: &Draft) -> Flow;

    /// Arrive from the screen before.
    fn enter(&mut self, _draft: &Draft) -> Flow {
        Flow::Stay
    }

    /// The job this screen needs now that the draft changed (one at a
    /// time), if any; asked after every key and reply while it is shown.
    fn pending(&mut self, _draft: &Draft) -> Option<Job> {
        None
    }

    /// Take a job's reply (every screen sees every reply).
    fn reply(&mut self, _reply: &Reply, _draft: &Draft, _out: &mut Replied) {}

    /// Hear what the screens took from a reply (see [`Replied::said`]).
    fn told(&mut self, _said: &[String]) {}

    /// Write this screen's part of the draft.
    fn describe(&self, _draft: &mut Draft) {}

    /// Draw the screen.
    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, draft: &Draft);
}
