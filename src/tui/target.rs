//! What the wizard is installing, as its screens show it: made when a plan
//! is ready (the review, the demo), read by the dashboard and the done
//! screen.

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
}
