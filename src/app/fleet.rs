//! A cluster's hosts for day-2 work (`tug exec`, `tug scp`): chosen by
//! role and address from the cluster's saved Clusterfile, reached as a run
//! reaches them (known_hosts checked, unreachable hosts failing their own
//! steps), each run with a journal of its own that never makes a second
//! call skip anything.

use super::Context;
use super::session::{Hosts, Session};
use crate::cluster::hosts::parse_ip_list;
use crate::cluster::state::ClusterState;
use crate::engine::plan::Plan;
use crate::engine::resolve::SpecInputs;
use crate::engine::runner::RunOptions;
use crate::engine::spec::{HostSpec, Role};
use crate::engine::transport::select::Unreachable;
use anyhow::Context as _;
use std::net::IpAddr;

/// Which hosts to reach.
#[derive(Clone, Debug, Default)]
pub struct Pick {
    /// Only hosts with one of these roles (all when empty).
    pub roles: Vec<Role>,
    /// Only these addresses (`tug gen`'s lists and ranges), when given.
    pub ips: Option<String>,
}

/// Cluster `name`'s hosts that `pick` chooses, with their SSH settings.
pub fn hosts(
    ctx: &Context,
    name: &str,
    pick: &Pick,
) -> anyhow::Result<(ClusterState, Vec<HostSpec>)> {
    let state = ClusterState::new(&ctx.paths, name)?;
    let cf = state.load_existing()?;
    let mut inputs = SpecInputs::from_clusterfile(&cf, &[], state.dir().to_path_buf())?;
    ctx.bastion_over(&mut inputs.hosts);
    let only: Option<Vec<IpAddr>> = match &pick.ips {
        Some(list) => Some(
            parse_ip_list(list)
                .context("--ips")?
                .into_iter()
                .map(|a| a.ip)
                .collect(),
        ),
        None => None,
    };
    if let Some(ips) = &only
        && let Some(stranger) = ips
            .iter()
            .find(|ip| !inputs.hosts.iter().any(|h| h.ip == **ip))
    {
        anyhow::bail!("--ips: {stranger} is not a host of cluster {name}");
    }
    let chosen: Vec<HostSpec> = inputs
        .hosts
        .into_iter()
        .filter(|h| pick.roles.is_empty() || pick.roles.iter().any(|r| h.has(*r)))
        .filter(|h| only.as_ref().is_none_or(|ips| ips.contains(&h.ip)))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!("no host of cluster {name} has the roles and addresses asked for");
    }
    Ok((state, chosen))
}

/// A session running `plan` on `hosts` of the cluster in `state`.
pub fn session(ctx: &Context, state: &ClusterState, hosts: Vec<HostSpec>, plan: Plan) -> Session {
    let secrets = hosts
        .iter()
        .filter_map(|h| h.ssh.password.clone())
        .collect();
    Session {
        plan,
        hosts: Hosts::Ssh {
            hosts,
            known: ctx.known_hosts(),
            policy: ctx.host_key_policy(),
            unreachable: Unreachable::Tolerate,
        },
        logs: state.logs_dir(),
        journal: state.dir().join(FLEET_JOURNAL),
        options: RunOptions {
            secrets,
            ..RunOptions::default()
        },
        record: None,
        stops_early: false,
        versions: Vec::new(),
        upgrade: None,
    }
}

/// The journal of an exec or copy, removed when it ends.
pub const FLEET_JOURNAL: &str = "fleet.journal";
