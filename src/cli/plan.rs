//! `tug plan`: show what installing a Clusterfile will do before anything runs:
//! a summary (stages, hosts, bytes per host, what is skipped), then every
//! stage, host and command (secrets masked), or with `--kubeadm-config`
//! exactly the kubeadm configuration of one step. Hosts' facts not known
//! before install (the CRI socket, the cgroup driver) show the defaults they
//! fall back to.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use clap::{Subcommand, ValueEnum};

mod summary;

use super::{Context, notices};
use crate::app::session::INSTALL_JOURNAL;
use crate::app::spec::{install_plan, spec_of};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::journal::Journal;
use crate::engine::plan::Plan;
use crate::kubeadm::{self, JoinSecrets};

/// The plan command.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Show what installing a Clusterfile will do: every stage, host and
    /// command (secrets masked), or one kubeadm step's configuration.
    Plan {
        /// The Clusterfile; its images must be in the local store (`tug pull`).
        #[arg(short = 'f', long = "clusterfile", value_name = "FILE")]
        clusterfile: PathBuf,
        /// Print exactly the multi-document YAML this kubeadm step will be given.
        #[arg(long = "kubeadm-config", value_name = "STEP")]
        kubeadm_config: Option<KubeadmStep>,
        /// For join-master and join-node: the joining host (default: the second master,
        /// the first node).
        #[arg(long, value_name = "IP")]
        host: Option<IpAddr>,
    },
}

/// The kubeadm steps whose configuration `tug plan` can show.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KubeadmStep {
    /// `kubeadm init` on master0.
    Init,
    /// `kubeadm join --control-plane` on the other masters.
    JoinMaster,
    /// `kubeadm join` on nodes.
    JoinNode,
}

impl PlanCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let PlanCommand::Plan {
            clusterfile,
            kubeadm_config,
            host,
        } = self;
        let cf = Clusterfile::load(&clusterfile)?;
        for p in cf.warnings() {
            eprintln!("warning: {p}");
        }
        let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
        let Some(kubeadm_config) = kubeadm_config else {
            let plan = install_plan(ctx, &cf, false, notices().as_ref())?;
            return print_plan(&plan, Some(&state.dir().join(INSTALL_JOURNAL)));
        };
        let inputs = spec_of(ctx, &cf, &state, notices().as_ref())?.kubeadm;
        let effective = kubeadm::effective(&inputs)
            .with_context(|| format!("kubeadm configuration for {}", clusterfile.display()))?;
        let secrets = JoinSecrets::placeholders();
        let text = match kubeadm_config {
            KubeadmStep::Init => effective.init(),
            KubeadmStep::JoinNode => {
                let ip = joining(host, &inputs.nodes, "node", &clusterfile)?;
                effective.join_node(ip, &secrets)
            }
            KubeadmStep::JoinMaster => {
                let ip = joining(host, &inputs.masters[1..], "master", &clusterfile)?;
                effective.join_master(ip, &secrets)
            }
        };
        print!("{text}");
        Ok(())
    }
}

/// Print `plan`: its summary first (what `journal` holds counts as done),
/// then every stage.
pub(in crate::cli) fn print_plan(
    plan: &Plan,
    journal: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let journal = match journal {
        Some(path) => Journal::load(path)?,
        None => Journal::in_memory(),
    };
    print!("{}{plan}", summary::summary(plan, &journal));
    Ok(())
}

/// The host whose join config to show: `host` when it is one of `joining`, else the first.
fn joining(
    host: Option<IpAddr>,
    joining: &[IpAddr],
    role: &str,
    clusterfile: &std::path::Path,
) -> anyhow::Result<IpAddr> {
    match host {
        Some(ip) if joining.contains(&ip) => Ok(ip),
        Some(ip) if role == "master" => {
            bail!("{ip} is not a master that joins (master0 runs kubeadm init)")
        }
        Some(ip) => bail!("{ip} is not a node of {}", clusterfile.display()),
        None => joining
            .first()
            .copied()
            .ok_or_else(|| anyhow!("{} has no {role} that joins", clusterfile.display())),
    }
}
