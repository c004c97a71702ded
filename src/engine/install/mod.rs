//! The install planner: [`ClusterSpec`] → [`Plan`], with no I/O. The
//! stages follow sealos's sequence (labring-contract §3) so official images
//! run unchanged: preflight → distribute → render → check → registry →
//! `/etc/hosts` → init → kubeadm init → masters join one by one → nodes
//! join in parallel (IPVS first, lvscare after) → guest commands.
//!
//! Values produced at run time (the join token, CA hash and certificate
//! key) never enter the plan: master0 writes them to a 0600 file, the
//! jump host fetches it, and each joining host receives it on stdin and
//! fills its join config from it. Plans and logs only ever show the
//! placeholders.

mod apps;
pub(crate) mod bootstrap;
mod cmdline;
mod configs;
pub(crate) mod distribute;
#[cfg(test)]
pub(crate) mod fixture;
mod join;
mod kubeconfig;
pub(crate) mod preflight;
pub mod shell;
#[cfg(test)]
mod tests;

pub use bootstrap::LVSCARE_NODE_IP;
pub use join::ADMIN_CONF;

use super::command::CommandError;
use super::plan::{Action, HostId, Marker, OnFailure, Order, Phase, Plan, PlanError, Stage, Step};
use super::spec::{ClusterSpec, HostSpec, ImageSpec, SpecError};
use crate::cluster::env::{Env, EnvError, EnvWarning};
use crate::kubeadm;
use crate::template::TemplateError;
use std::collections::{BTreeMap, HashMap};

/// The machine running tug as the plan names it: steps that compare facts
/// gathered from the hosts run there, over a local transport. Not a host
/// of the cluster: views neither count it as one nor call it a jump host
/// (a bastion, to many admins).
pub const JUMP_HOST: &str = "local";

/// Where sealos's scripts expect the registry data (`registryData`).
pub const DEFAULT_REGISTRY_DATA: &str = "/var/lib/registry";

/// How the install is planned.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Leave out the preflight checks (`--skip-checks`).
    pub skip_checks: bool,
    /// How many steps of a parallel stage run at once.
    pub parallel: usize,
    /// Where the jump host keeps what it derives from layers (a mixed
    /// layer without its registry data); without it, such a layer goes
    /// whole to every host and each drops what it does not need.
    pub layer_cache: Option<std::path::PathBuf>,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            skip_checks: false,
            parallel: 16,
            layer_cache: None,
        }
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The spec is inconsistent.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A host's env is wrong.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The kubeadm configuration cannot be made.
    #[error("kubeadm configuration: {0}")]
    Kubeadm(#[from] kubeadm::Error),
    /// A template of an image does not render.
    #[error("image {image}, host {host}: {source}")]
    Template {
        /// The image.
        image: String,
        /// The host whose env it was rendered with.
        host: String,
        /// What is wrong, with file, line and column.
        source: TemplateError,
    },
    /// A command cannot be made.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The plan is inconsistent.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The registry password could not be hashed.
    #[error("hashing the registry password: {0}")]
    Htpasswd(String),
}

/// A plan and what was dropped while making it.
#[derive(Debug)]
pub struct InstallPlan {
    /// The stages.
    pub plan: Plan,
    /// Env pairs that were ignored (user `SEALOS_SYS*` keys, …).
    pub warnings: Vec<EnvWarning>,
}

/// Everything the phase planners share.
pub(crate) struct Ctx<'a> {
    pub spec: &'a ClusterSpec,
    pub opts: &'a InstallOptions,
    pub master0: &'a HostSpec,
    pub registry_hosts: Vec<&'a HostSpec>,
    pub rootfs: &'a ImageSpec,
    /// The rootfs env of each host.
    pub env: HashMap<HostId, Env>,
    /// Labels of every image, later images overriding (the hooks' labels).
    pub labels: BTreeMap<String, String>,
    pub kubeadm: kubeadm::Effective,
    /// The registry's domain, port and address.
    pub registry: (String, String, String),
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        spec: &'a ClusterSpec,
        opts: &'a InstallOptions,
    ) -> Result<(Self, Vec<EnvWarning>), InstallError> {
        spec.validate()?;
        let master0 = spec.master0()?;
        let registry_hosts = spec.registry_hosts()?;
        let rootfs = spec.rootfs()?;
        let mut warnings = Vec::new();
        let mut env = HashMap::new();
        for h in &spec.hosts {
            let r = rootfs.env.for_host(h.id.as_str(), &h.env, &h.run_mode())?;
            warnings.extend(r.warnings);
            env.insert(h.id.clone(), r.env);
        }
        let labels = spec.images.iter().flat_map(|i| i.labels.clone()).collect();
        let kubeadm = kubeadm::effective(&spec.kubeadm)?;
        let get = |k: &str, d: &str| {
            rootfs
                .env
                .get(k)
                .filter(|v| !v.is_empty())
                .unwrap_or(d)
                .to_string()
        };
        let registry = (
            get("registryDomain", "sealos.hub"),
            get("registryPort", "5000"),
            registry_hosts[0].ip.to_string(),
        );
        let ctx = Ctx {
            spec,
            opts,
            master0,
            registry_hosts,
            rootfs,
            env,
            labels,
            kubeadm,
            registry,
        };
        Ok((ctx, warnings))
    }

    /// The hook line of `name`: the label, else `<name>.sh` as sealos defaults.
    pub fn hook_label(&self, name: &str) -> String {
        self.labels
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("{name}.sh"))
    }

    /// The rootfs env of `host`.
    pub fn env_of(&self, host: &HostSpec) -> &Env {
        &self.env[&host.id]
    }

    /// Whether `host` runs the registry.
    pub fn is_registry(&self, host: &HostSpec) -> bool {
        self.registry_hosts.iter().any(|r| r.id == host.id)
    }

    /// A parallel stage.
    pub fn parallel(&self, phase: Phase, steps: Vec<Step>) -> Option<Stage> {
        (!steps.is_empty()).then(|| Stage {
            phase,
            steps,
            order: Order::Parallel(self.opts.parallel.max(1)),
            on_failure: OnFailure::Stop,
        })
    }
}

/// One-by-one stage (nothing when there are no steps).
pub(crate) fn one_by_one(phase: Phase, steps: Vec<Step>) -> Option<Stage> {
    (!steps.is_empty()).then_some(Stage {
        phase,
        steps,
        order: Order::OneByOne,
        on_failure: OnFailure::Stop,
    })
}

/// A run step.
pub(crate) fn run(
    phase: Phase,
    host: &HostSpec,
    key: &str,
    cmd: super::command::Command,
) -> Result<Step, CommandError> {
    Step::new(
        phase,
        host.id.clone(),
        key,
        Action::Run { cmd, timeout: None },
    )
}

/// A step skipped when `path` exists on its host.
pub(crate) fn unless_exists(step: Step, path: &str) -> Step {
    step.skip_when(Marker::FileExists(path.to_string()))
}

/// Plan the install of `spec`.
pub fn plan_install(
    spec: &ClusterSpec,
    opts: &InstallOptions,
) -> Result<InstallPlan, InstallError> {
    let (ctx, warnings) = Ctx::new(spec, opts)?;
    let deliveries = distribute::deliveries(&ctx);
    let mut stages: Vec<Option<Stage>> = Vec::new();
    if !opts.skip_checks {
        stages.extend(preflight::stages(&ctx, &deliveries)?);
    }
    stages.extend(distribute::stages(&ctx, &deliveries)?);
    stages.extend(bootstrap::stages(&ctx)?);
    stages.extend(join::stages(&ctx)?);
    stages.push(kubeconfig::stage(&ctx)?);
    stages.extend(apps::stages(&ctx)?);
    let plan = Plan {
        stages: stages.into_iter().flatten().collect(),
    };
    plan.validate()?;
    Ok(InstallPlan { plan, warnings })
}
