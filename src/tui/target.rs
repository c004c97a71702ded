//! What the wizard is installing, as its screens show it: made when a plan
//! is ready (the review, the demo), read by the dashboard and the done
//! screen. A teardown (hosts removed, the cluster reset) is shown the same
//! way, under its own titles.

use crate::engine::plan::{HostId, Plan};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What is being installed: the plan and how to show it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The cluster's name.
    pub cluster: String,
    /// The images, as shown: the cluster image (the first), and how many
    /// follow it (`REF + 2 apps`).
    pub image: String,
    /// The install plan.
    pub plan: Plan,
    /// Each host's roles, as shown.
    pub roles: BTreeMap<HostId, String>,
    /// Where the kubeconfig lands.
    pub kubeconfig: PathBuf,
    /// What the run does to the cluster.
    pub doing: Doing,
}

/// What a run does to its cluster, as the titles say it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Doing {
    /// Installs it (or resumes, adds hosts).
    #[default]
    Install,
    /// Upgrades it to this Kubernetes version.
    Upgrade(String),
    /// Takes these hosts out (as shown: addresses joined by commas).
    Remove(String),
    /// Takes the whole cluster down.
    Reset,
}

impl Doing {
    /// The title while it runs.
    pub fn running(&self, t: &Target) -> String {
        match self {
            Doing::Install => format!("installing cluster {} ({})", t.cluster, t.image),
            Doing::Upgrade(to) => format!("upgrading cluster {} to {to} ({})", t.cluster, t.image),
            Doing::Remove(hosts) => format!("removing {hosts} from cluster {}", t.cluster),
            Doing::Reset => format!("resetting cluster {}", t.cluster),
        }
    }

    /// The title once it ended.
    pub fn ended(&self, t: &Target) -> String {
        match self {
            Doing::Install => format!("install of cluster {} ({})", t.cluster, t.image),
            Doing::Upgrade(to) => format!("upgrade of cluster {} to {to}", t.cluster),
            Doing::Remove(hosts) => format!("removal of {hosts} from cluster {}", t.cluster),
            Doing::Reset => format!("reset of cluster {}", t.cluster),
        }
    }

    /// Whether it takes hosts or the cluster down (started from the list
    /// of clusters, not from the wizard's screens).
    pub fn tears_down(&self) -> bool {
        matches!(self, Doing::Remove(_) | Doing::Reset)
    }

    /// The run in one word, for what did not run.
    pub fn noun(&self) -> &'static str {
        match self {
            Doing::Install => "install",
            Doing::Upgrade(_) => "upgrade",
            Doing::Remove(_) => "removal",
            Doing::Reset => "reset",
        }
    }
}
