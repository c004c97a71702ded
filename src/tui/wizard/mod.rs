//! The wizard's screens before an install: image (the store's, pulled, or
//! from a bundle, whose Clusterfile can fill the hosts) → hosts → SSH (with a concurrent connection test that
//! also learns each host's arch) → configuration (env, subnets, a kubeadm
//! override and its merged preview) → review (the Clusterfile and the plan;
//! save without installing) → install. Every screen is a [`Page`] that
//! holds and edits its own state, keys, help and scrolling; the wizard
//! only walks the list in `screens!`. Work that needs I/O is a [`Job`]
//! the event loop runs (see [`jobs`]), whose [`Reply`] comes back as an
//! action.

mod bundle_hosts;
pub mod clusters;
pub mod config;
pub mod field;
pub mod hosts;
pub mod image;
pub mod jobs;
pub mod open;
pub mod page;
pub mod planning;
pub mod prefs;
pub mod review;
pub mod scroll;
pub mod ssh;
pub mod takedown;
mod teardown_job;
#[cfg(test)]
mod tests;

use super::target::Target;
use super::theme::Theme;
use crate::app::AppError;
use crate::app::clusters::{Installed, free_name};
use crate::cluster::clusterfile::Clusterfile;
use clusters::ClustersScreen;
use config::ConfigScreen;
use crossterm::event::{KeyCode, KeyEvent};
use hosts::HostsScreen;
use image::ImageScreen;
pub use open::Opened;
pub use page::{Draft, Flow, Keys, Page, Replied};
use ratatui::Frame;
use ratatui::layout::Rect;
use review::Review;
use ssh::{SshScreen, Tested};
use std::path::PathBuf;

/// Work a wizard screen needs done outside itself.
#[derive(Clone, Debug)]
pub enum Job {
    /// Connect to every host of the Clusterfile at once, trusting first-use
    /// keys with these fingerprints only.
    Test(Box<Clusterfile>, Vec<String>),
    /// Resolve the Clusterfile's images and make the install plan.
    Plan(Box<Clusterfile>, Ask),
    /// Save the Clusterfile as the cluster's (without installing), unless
    /// another cluster holds its name (the opened one may).
    Save(Box<Clusterfile>, Option<String>),
    /// Read a Clusterfile to open in the wizard; the installed cluster it
    /// belongs to, when opened from the clusters screen.
    Open(PathBuf, Option<String>),
    /// Bring images into the store (pull, or load a bundle).
    Fetch(image::Source),
    /// Read the image's env and merge the kubeadm configuration.
    Preview(Box<Clusterfile>),
    /// Plan taking hosts out of an installed cluster, or resetting it.
    Teardown(takedown::Takedown),
}

/// How the review asks for a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ask {
    /// The installed cluster the wizard opened (only it may be planned
    /// under its own name).
    pub opened: Option<String>,
    /// Leave out the preflight checks (`--skip-checks`).
    pub skip_checks: bool,
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
    /// A Clusterfile read to open, or why it cannot be.
    Opened(Result<Opened, String>),
    /// The plan of a delete or reset, or why there is none.
    TeardownPlanned(Result<Planned, AppError>),
}

/// A plan ready to review and install.
#[derive(Clone, Debug)]
pub struct Planned {
    /// What to install.
    pub target: Target,
    /// The Clusterfile (secrets masked) and the plan, as lines.
    pub lines: Vec<String>,
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

/// Declares the screens in order: the [`Step`] naming each, the
/// [`Wizard`] holding each screen's state in a field, and the way from a
/// step to its [`Page`].
macro_rules! screens {
    ($($(#[$doc:meta])* $step:ident => $field:ident: $ty:ty,)*) => {
        /// Which screen.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Step {
            $($(#[$doc])* $step,)*
        }

        /// The screens in the order the wizard walks them.
        const STEPS: &[Step] = &[$(Step::$step,)*];

        /// The wizard before the install.
        #[derive(Clone, Debug)]
        pub struct Wizard {
            /// The screen on show.
            pub step: Step,
            $($(#[$doc])* pub $field: $ty,)*
        }

        impl Wizard {
            /// Every screen as it starts.
            fn blank() -> Self {
                Wizard {
                    step: STEPS[0],
                    $($field: <$ty>::default(),)*
                }
            }

            /// The screen of `step`.
            fn page(&self, step: Step) -> &dyn Page {
                match step {
                    $(Step::$step => &self.$field,)*
                }
            }

            /// The screen of `step`, to change.
            fn page_mut(&mut self, step: Step) -> &mut dyn Page {
                match step {
                    $(Step::$step => &mut self.$field,)*
                }
            }
        }
    };
}

screens! {
    /// The installed clusters (skipped when there are none).
    Clusters => clusters: ClustersScreen,
    /// Pick the image.
    Image => image: ImageScreen,
    /// List the hosts.
    Hosts => hosts: HostsScreen,
    /// SSH credentials and the connection test.
    Ssh => ssh: SshScreen,
    /// Env, subnets and the kubeadm override.
    Config => config: ConfigScreen,
    /// The Clusterfile and the plan.
    Review => review: Review,
}

impl Wizard {
    /// The wizard over the store's images, for a machine with no cluster.
    pub fn new(choices: Vec<image::Choice>) -> Self {
        Wizard::over(choices, Vec::new())
    }

    /// The wizard over the store's images and this machine's clusters:
    /// it starts on their list when there are any, and a new cluster is
    /// named so it takes no installed cluster's name.
    pub fn over(choices: Vec<image::Choice>, installed: Vec<Installed>) -> Self {
        let mut w = Wizard::blank();
        w.image = ImageScreen::new(choices);
        w.clusters = ClustersScreen::new(installed);
        w.ssh.fields[0].set(&free_name(&w.clusters.taken()));
        w.step = w.first();
        w
    }

    /// The first screen not skipped.
    fn first(&self) -> Step {
        STEPS
            .iter()
            .copied()
            .find(|s| !self.page(*s).skipped())
            .unwrap_or(Step::Image)
    }

    /// What the screens describe together.
    pub fn draft(&self) -> Draft {
        let mut draft = Draft::default();
        for step in STEPS {
            self.page(*step).describe(&mut draft);
        }
        draft
    }

    /// Whether keys go to a text input (`?` is then typed, not help).
    pub fn typing(&self) -> bool {
        self.page(self.step).typing()
    }

    /// Whether leaving now would throw away something the user entered.
    pub fn has_input(&self) -> bool {
        STEPS.iter().any(|s| self.page(*s).has_input())
    }

    /// The Clusterfile the screens describe.
    pub fn clusterfile(&self) -> Result<Clusterfile, String> {
        self.draft().clusterfile()
    }

    /// React to a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Msg {
        if key.code == KeyCode::Char('q') && !self.typing() {
            return Msg::Quit;
        }
        let draft = self.draft();
        let page = self.page_mut(self.step);
        let flow = if !page.typing() && page.scroll(key) {
            Flow::Stay
        } else {
            page.handle_key(key, &draft)
        };
        self.follow(flow)
    }

    /// Go where `flow` says.
    fn follow(&mut self, flow: Flow) -> Msg {
        let at = STEPS.iter().position(|s| *s == self.step).unwrap_or(0);
        match flow {
            Flow::Stay => self.pending_job(),
            Flow::Back => match STEPS[..at].iter().rposition(|s| !self.page(*s).skipped()) {
                None => Msg::Quit,
                Some(i) => {
                    self.step = STEPS[i];
                    Msg::None
                }
            },
            Flow::Next => match STEPS.get(at + 1) {
                None => Msg::None,
                Some(next) => {
                    self.step = *next;
                    let draft = self.draft();
                    let flow = self.page_mut(self.step).enter(&draft);
                    self.follow(flow)
                }
            },
            Flow::Quit => Msg::Quit,
            Flow::Job(job) => Msg::Job(job),
            Flow::Install => Msg::Install,
        }
    }

    /// The job the screen on show needs now, if any (a change made while
    /// its last job ran asks for the next one when that one answers).
    pub fn pending_job(&mut self) -> Msg {
        let draft = self.draft();
        match self.page_mut(self.step).pending(&draft) {
            Some(job) => Msg::Job(job),
            None => Msg::None,
        }
    }

    /// Take a job's reply; returns the plan's target when one is ready.
    pub fn reply(&mut self, reply: Reply) -> Option<Target> {
        if let Reply::Opened(Ok(o)) = &reply
            && let Err(e) = self.open(o)
        {
            return self.reply(Reply::Opened(Err(e)));
        }
        let draft = self.draft();
        let mut out = Replied::default();
        for step in STEPS {
            self.page_mut(*step).reply(&reply, &draft, &mut out);
        }
        if !out.said.is_empty() {
            for step in STEPS {
                self.page_mut(*step).told(&out.said);
            }
        }
        out.target
    }

    /// The keys of the current screen.
    pub fn keys(&self) -> Keys {
        self.page(self.step).keys()
    }

    /// Draw the current screen.
    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        self.page(self.step).render(f, area, theme, &self.draft());
    }
}
