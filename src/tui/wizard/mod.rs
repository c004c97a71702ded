//! The wizard's screens before an install: image (the store's, pulled, or
//! from a bundle, whose Clusterfile can fill the hosts) → hosts → SSH (with a concurrent connection test that
//! also learns each host's arch) → configuration (env, subnets, a kubeadm
//! override and its merged preview) → review (the Clusterfile and the plan;
//! save without installing) → install. Screens only hold and edit their
//! own state; work that needs I/O is a [`Job`] the event loop runs (see
//! [`jobs`]), whose [`Reply`] comes back as an action.

mod bundle_hosts;
pub mod config;
pub mod field;
pub mod hosts;
pub mod image;
pub mod jobs;
pub mod review;
pub mod ssh;
#[cfg(test)]
mod tests;

use super::target::Target;
use super::theme::Theme;
use crate::app::AppError;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::model::Ssh;
use crate::secret::Secret;
use config::ConfigScreen;
use crossterm::event::{KeyCode, KeyEvent};
use hosts::HostsScreen;
use image::ImageScreen;
use ratatui::Frame;
use ratatui::layout::Rect;
use review::Review;
use ssh::{SshScreen, Tested};

/// Work a wizard screen needs done outside itself.
#[derive(Clone, Debug)]
pub enum Job {
    /// Connect to every host of the Clusterfile at once, trusting first-use
    /// keys with these fingerprints only.
    Test(Box<Clusterfile>, Vec<String>),
    /// Resolve the Clusterfile's images and make the install plan.
    Plan(Box<Clusterfile>),
    /// Save the Clusterfile as the cluster's (without installing).
    Save(Box<Clusterfile>),
    /// Bring images into the store (pull, or load a bundle).
    Fetch(image::Source),
    /// Read the image's env and merge the kubeadm configuration.
    Preview(Box<Clusterfile>),
}

/// Jobs compare by kind only (a Clusterfile has no equality): enough for
/// [`super::action::Effect`] comparisons, which ask which job a key started.
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl Eq for Job {}

/// What a job found.
#[derive(Clone, Debug)]
pub enum Reply {
    /// One host's connection test.
    Tested(String, Tested),
    /// The plan, or why there is none.
    Planned(Result<Planned, AppError>),
    /// Where the Clusterfile was saved, or why not.
    Saved(Result<String, String>),
    /// How far the running fetch has come.
    Fetching(image::Progress),
    /// The fetch ended: the store's images again, or why not.
    Fetched(Result<image::Fetched, String>),
    /// The image's env and the merged kubeadm configuration.
    Previewed(config::job::Previewed),
}

/// A plan ready to review and install.
#[derive(Clone, Debug)]
pub struct Planned {
    /// What to install.
    pub target: Target,
    /// The Clusterfile (secrets masked) and the plan, as lines.
    pub lines: Vec<String>,
}

/// Which screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Pick the image.
    Image,
    /// List the hosts.
    Hosts,
    /// SSH credentials and the connection test.
    Ssh,
    /// Env, subnets and the kubeadm override.
    Config,
    /// The Clusterfile and the plan.
    Review,
}

/// What a key asks of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Nothing beyond the wizard's own state.
    None,
    /// Leave (Esc on the first screen).
    Quit,
    /// Run a job.
    Job(Job),
    /// Install the reviewed plan.
    Install,
}

/// The wizard before the install.
#[derive(Clone, Debug)]
pub struct Wizard {
    /// The screen on show.
    pub step: Step,
    /// Image screen.
    pub image: ImageScreen,
    /// Hosts screen.
    pub hosts: HostsScreen,
    /// SSH screen.
    pub ssh: SshScreen,
    /// Configuration screen.
    pub config: ConfigScreen,
    /// Review screen.
    pub review: Review,
}

impl Wizard {
    /// The wizard over the store's images.
    pub fn new(choices: Vec<image::Choice>) -> Self {
        Wizard {
            step: Step::Image,
            image: ImageScreen::new(choices),
            hosts: HostsScreen::default(),
            ssh: SshScreen::default(),
            config: ConfigScreen::default(),
            review: Review::default(),
        }
    }

    /// Whether keys go to a text input (`?` is then typed, not help).
    pub fn typing(&self) -> bool {
        match self.step {
            Step::Image => self.image.typing(),
            Step::Hosts => self.hosts.typing(),
            Step::Ssh => true,
            Step::Config => self.config.typing(),
            _ => false,
        }
    }

    /// The Clusterfile the screens describe.
    pub fn clusterfile(&self) -> Result<Clusterfile, String> {
        let images = self.image.picked();
        if images.is_empty() {
            return Err("no image picked".into());
        }
        let (masters, nodes) = self.hosts.split();
        let opt = |i: usize| Some(self.ssh.value(i).to_string()).filter(|v| !v.is_empty());
        generate(NewCluster {
            name: self.ssh.value(0).to_string(),
            images: images.iter().map(|i| i.to_string()).collect(),
            masters,
            nodes,
            ssh: Ssh {
                user: opt(1),
                passwd: opt(2).map(Secret::new),
                pk: opt(3),
                pk_passwd: opt(4).map(Secret::new),
                ..Ssh::default()
            },
            env: self.config.env.overrides(),
            ..NewCluster::default()
        })
        .map(|mut cf| {
            cf.documents = self.config.documents();
            if let Some(arch) = self.hosts.common_arch() {
                for group in &mut cf.cluster.spec.hosts {
                    group.roles.push(arch.to_string());
                }
            }
            cf
        })
        .map_err(|e| e.to_string())
    }

    /// React to a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Msg {
        if key.code == KeyCode::Char('q') && !self.typing() {
            return Msg::Quit;
        }
        if self.step == Step::Config {
            return self.config_key(key);
        }
        if key.code == KeyCode::Esc && !self.hosts.typing() && !self.image.typing() {
            self.step = match self.step {
                Step::Image => return Msg::Quit,
                Step::Hosts => Step::Image,
                Step::Ssh => Step::Hosts,
                Step::Config => Step::Ssh,
                Step::Review => Step::Config,
            };
            return Msg::None;
        }
        match self.step {
            Step::Image => match self.image.handle_key(key) {
                image::Msg::None => Msg::None,
                image::Msg::Next => {
                    self.step = Step::Hosts;
                    Msg::None
                }
                image::Msg::Fetch(source) => Msg::Job(Job::Fetch(source)),
            },
            Step::Hosts => {
                if self.hosts.handle_key(key) {
                    self.step = Step::Ssh;
                }
                Msg::None
            }
            Step::Ssh => match self.ssh.handle_key(key) {
                ssh::Msg::None => Msg::None,
                ssh::Msg::Test(trust) => match self.clusterfile() {
                    Ok(cf) => {
                        for h in &self.hosts.hosts {
                            self.ssh
                                .tests
                                .insert(h.addr.ip.to_string(), Tested::Testing);
                        }
                        Msg::Job(Job::Test(Box::new(cf), trust))
                    }
                    Err(e) => {
                        self.ssh
                            .tests
                            .insert("clusterfile".into(), Tested::Failed(e));
                        Msg::None
                    }
                },
                ssh::Msg::Next => self.enter_config(),
            },
            Step::Config => self.config_key(key),
            Step::Review => match key.code {
                KeyCode::Char('s') => match self.clusterfile() {
                    Ok(cf) => Msg::Job(Job::Save(Box::new(cf))),
                    Err(e) => {
                        self.review.note = Some(e);
                        Msg::None
                    }
                },
                KeyCode::Enter | KeyCode::Char('i') if self.review.ready => Msg::Install,
                KeyCode::Down | KeyCode::Char('j') => {
                    self.review.scroll =
                        (self.review.scroll + 1).min(self.review.lines.len().saturating_sub(1));
                    Msg::None
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    self.review.scroll = self.review.scroll.saturating_sub(1);
                    Msg::None
                }
                KeyCode::PageDown | KeyCode::Char(' ') => {
                    self.review.scroll =
                        (self.review.scroll + 20).min(self.review.lines.len().saturating_sub(1));
                    Msg::None
                }
                KeyCode::PageUp => {
                    self.review.scroll = self.review.scroll.saturating_sub(20);
                    Msg::None
                }
                _ => Msg::None,
            },
        }
    }

    /// Show the review and plan the Clusterfile.
    fn open_review(&mut self) -> Msg {
        self.step = Step::Review;
        self.review = Review::default();
        match self.clusterfile() {
            Ok(cf) => Msg::Job(Job::Plan(Box::new(cf))),
            Err(e) => {
                self.review.note = Some(e);
                Msg::None
            }
        }
    }

    /// Take a job's reply; returns the plan's target when one is ready.
    pub fn reply(&mut self, reply: Reply) -> Option<Target> {
        match reply {
            Reply::Tested(host, t) => {
                if let Tested::Ok { arch: Some(a), .. } = &t {
                    self.hosts.set_arch(&host, a);
                }
                self.ssh.tests.insert(host, t);
                None
            }
            Reply::Planned(Ok(p)) => {
                self.review.lines = p.lines;
                self.review.ready = true;
                self.review.note = Some("Enter installs; s saves the Clusterfile only".into());
                Some(p.target)
            }
            Reply::Planned(Err(e)) => {
                self.review.ready = false;
                self.review.note = Some(e.to_string());
                None
            }
            Reply::Saved(r) => {
                self.review.note = Some(match r {
                    Ok(path) => format!("saved {path} (install later with tug apply -f {path})"),
                    Err(e) => format!("not saved: {e}"),
                });
                None
            }
            Reply::Fetching(p) => {
                self.image.progress(p);
                None
            }
            Reply::Fetched(r) => {
                self.fetched(r);
                None
            }
            Reply::Previewed(p) => {
                self.config.previewed(p);
                None
            }
        }
    }

    /// The keys of the current screen.
    pub fn keys(&self) -> &'static [(&'static str, &'static str)] {
        match self.step {
            Step::Image => &[
                ("↑/↓", "select an image"),
                ("Space", "mark for the install (in order, the rootfs first)"),
                ("Enter", "next: hosts"),
                ("p", "pull: REGISTRY/REPO:TAG [OS/ARCH] into the store"),
                ("b", "bundle: verify and load the one next to tug"),
                ("B", "bundle path: verify and load a bundle from a path"),
                ("q Esc", "quit"),
            ],
            Step::Hosts => &[
                (
                    "a / n",
                    "add masters / nodes (IPs, IP:PORT, FIRST-LAST, commas)",
                ),
                ("d", "remove the selected host"),
                ("r", "switch its role"),
                ("Enter", "next: SSH"),
                ("Esc", "back"),
                ("↑/↓", "select a host"),
            ],
            Step::Ssh => &[
                ("Tab ↑/↓", "next / previous field"),
                ("Ctrl-T", "test the connection to every host"),
                ("Ctrl-Y", "trust the new host keys shown"),
                ("Enter", "next: configuration"),
                ("Esc", "back"),
            ],
            Step::Config => self.config.keys(),
            Step::Review => &[
                ("↑/↓ PgUp/PgDn", "scroll"),
                ("s", "save the Clusterfile without installing"),
                ("Enter", "install"),
                ("Esc", "back"),
            ],
        }
    }

    /// Draw the current screen.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        match self.step {
            Step::Image => self.image.render(f, area, theme),
            Step::Hosts => self.hosts.render(f, area, theme, self.image.archs()),
            Step::Ssh => self.ssh.render(f, area, theme, self.image.archs()),
            Step::Config => self.config.render(f, area, theme),
            Step::Review => self.review.render(f, area, theme),
        }
    }
}
