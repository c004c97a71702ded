//! `tug exec` and `tug scp`, as sealos has them: a command run on a
//! cluster's hosts, or a local file or directory copied to them, chosen by
//! role and address, all at once. Each host's output comes back as plain
//! lines prefixed by the host; any host failing fails the command.

use super::Context;
use super::install::execute;
use crate::app::fleet::{self, FLEET_JOURNAL, Pick};
use crate::cluster::state::ClusterState;
use crate::engine::fleet::{plan_copy, plan_exec};
use crate::engine::plan::Plan;
use crate::engine::spec::{HostSpec, Role};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Day-2 commands on a cluster's hosts.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Run a shell command on the cluster's hosts, in parallel; output is
    /// prefixed by host, and any host failing fails the command.
    Exec {
        /// Which hosts.
        #[command(flatten)]
        pick: PickArgs,
        /// The command (one shell line; quote it or put it after `--`).
        #[arg(value_name = "CMD", required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Copy a local file or directory to the cluster's hosts: a file
    /// becomes REMOTE (or goes into it when it is a directory or ends in
    /// `/`), a directory's contents go into REMOTE.
    Scp {
        /// Which hosts.
        #[command(flatten)]
        pick: PickArgs,
        /// The local file or directory.
        local: PathBuf,
        /// Where it goes on each host.
        remote: String,
    },
}

/// Which of a cluster's hosts.
#[derive(Debug, Args)]
pub struct PickArgs {
    /// The cluster.
    #[arg(long = "cluster", value_name = "NAME", default_value = "default")]
    cluster: String,
    /// Only hosts with these roles (comma list of master, node).
    #[arg(long, value_name = "ROLES", value_delimiter = ',', value_parser = role)]
    roles: Vec<Role>,
    /// Only these addresses (IPs and ranges, like `gen`).
    #[arg(long, value_name = "IPS")]
    ips: Option<String>,
}

fn role(s: &str) -> Result<Role, String> {
    match s {
        "master" => Ok(Role::Master),
        "node" => Ok(Role::Node),
        other => Err(format!("{other:?} is not a role: master or node")),
    }
}

impl PickArgs {
    /// The chosen hosts of the cluster, and its state dir.
    fn hosts(self, ctx: &Context) -> anyhow::Result<(ClusterState, Vec<HostSpec>)> {
        let pick = Pick {
            roles: self.roles,
            ips: self.ips,
        };
        fleet::hosts(ctx, &self.cluster, &pick)
    }
}

impl FleetCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            FleetCommand::Exec { pick, command } => {
                let (state, hosts) = pick.hosts(ctx)?;
                let plan = plan_exec(&hosts, &command.join(" "))?;
                run_plan(ctx, &state, hosts, plan).await
            }
            FleetCommand::Scp {
                pick,
                local,
                remote,
            } => {
                let (state, hosts) = pick.hosts(ctx)?;
                let plan = plan_copy(&hosts, &local, &remote)
                    .with_context(|| format!("cannot read {}", local.display()))?;
                run_plan(ctx, &state, hosts, plan).await
            }
        }
    }
}

/// Run `plan` on `hosts`, printing plain lines (the output is what these
/// commands are for), its journal gone afterwards.
async fn run_plan(
    ctx: &Context,
    state: &ClusterState,
    hosts: Vec<HostSpec>,
    plan: Plan,
) -> anyhow::Result<()> {
    let session = fleet::session(ctx, state, hosts, plan);
    let plain = Context {
        fancy: false,
        verbose: true,
        ..ctx.clone()
    };
    let result = execute(&plain, &session.into()).await;
    let _ = std::fs::remove_file(state.dir().join(FLEET_JOURNAL));
    result.map(drop)
}
