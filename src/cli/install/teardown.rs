//! Taking hosts out and clusters down: `tug delete` (asked first, then
//! drained, deleted and reset, the rest re-applied) and `tug reset` (the
//! record kept, marked, until every host is clean).

use super::{How, apply_locked, execute};
use crate::app::lock::ClusterLock;
use crate::app::session::{INSTALL_JOURNAL, RESET_JOURNAL, Session};
use crate::app::spec::{spec_for_run, spec_of};
use crate::cli::{Context, notices};
use crate::cluster::hosts::parse_ip_list;
use crate::cluster::state::ClusterState;
use crate::engine::install::InstallOptions;
use crate::engine::plan::{HostId, Plan};
use crate::engine::reset::{plan_delete, plan_reset};
use crate::engine::spec::ClusterSpec;
use crate::engine::transport::select::Unreachable;
use anyhow::Context as _;

/// Whether a delete runs, and whether the user said yes already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Asked {
    /// Print the plan only.
    DryRun,
    /// `--yes`.
    Yes,
    /// Ask on the terminal first.
    Ask,
}

/// Ask on the terminal whether to drain and reset `hosts` of cluster
/// `name`; without a terminal, say that `--yes` is needed.
fn confirm_delete(name: &str, hosts: &[std::net::IpAddr]) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let list: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    let list = list.join(", ");
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "tug delete drains, deletes and resets {list}: add --yes to do it without a terminal to ask on"
        );
    }
    eprint!(
        "delete {list} from cluster {name}: each is drained, deleted from Kubernetes and reset. Go on? [y/N] "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        anyhow::bail!("nothing deleted");
    }
    Ok(())
}

pub(super) async fn delete(
    ctx: &Context,
    name: &str,
    masters: Option<&str>,
    nodes: Option<&str>,
    asked: Asked,
) -> anyhow::Result<()> {
    let dry_run = asked == Asked::DryRun;
    let state = ClusterState::new(&ctx.paths, name)?;
    let mut cf = state.load_existing()?;
    let mut gone = Vec::new();
    for (flag, list) in [("masters", masters), ("nodes", nodes)] {
        if let Some(list) = list {
            let addresses = parse_ip_list(list).with_context(|| format!("--{flag}"))?;
            gone.extend(addresses.into_iter().map(|a| a.ip));
        }
    }
    if gone.is_empty() {
        anyhow::bail!("nothing to delete: give --masters or --nodes");
    }
    if asked == Asked::Ask {
        confirm_delete(name, &gone)?;
    }
    let _lock = (!dry_run)
        .then(|| ClusterLock::take(state.dir(), name, "tug delete"))
        .transpose()?;
    let notify = notices();
    let spec = if dry_run {
        spec_of(ctx, &cf, &state, notify.as_ref())?
    } else {
        spec_for_run(ctx, &cf, &state, Unreachable::Tolerate, notify.as_ref()).await?
    };
    let ids: Vec<HostId> = gone.iter().map(|ip| HostId::new(ip.to_string())).collect();
    let plan = plan_delete(&spec, &ids, InstallOptions::default().parallel)?;
    if dry_run {
        return crate::cli::plan::print_plan(&plan, None);
    }
    teardown(ctx, &spec, plan, &state).await?;
    for host in &mut cf.cluster.spec.hosts {
        host.ips.retain(|a| {
            a.parse::<crate::cluster::hosts::Address>()
                .map_or(true, |a| !gone.contains(&a.ip))
        });
    }
    cf.cluster.spec.hosts.retain(|h| !h.ips.is_empty());
    // The remaining hosts follow the new master set (IPVS rules, lvscare).
    let how = How {
        skip_checks: true,
        ..How::default()
    };
    apply_locked(ctx, cf, how, false).await
}

/// Run a delete or reset plan, going on past hosts that cannot be
/// reached; its journal lasts only as long as the run.
async fn teardown(
    ctx: &Context,
    spec: &ClusterSpec,
    plan: Plan,
    state: &ClusterState,
) -> anyhow::Result<()> {
    let session = Session::teardown(ctx, spec, plan, state);
    let result = execute(ctx, &session).await;
    let _ = std::fs::remove_file(state.dir().join(RESET_JOURNAL));
    result.map(drop)
}

pub(super) async fn reset(ctx: &Context, name: &str, force: bool) -> anyhow::Result<()> {
    let state = ClusterState::new(&ctx.paths, name)?;
    let cf = state.load_existing()?;
    let notify = notices();
    let spec = if force {
        spec_for_run(ctx, &cf, &state, Unreachable::Tolerate, notify.as_ref()).await?
    } else {
        spec_of(ctx, &cf, &state, notify.as_ref())?
    };
    let plan = plan_reset(&spec, InstallOptions::default().parallel)?;
    if !force {
        print!("{plan}");
        eprintln!("this is what `tug reset --cluster {name} --force` would do");
        return Ok(());
    }
    let _lock = ClusterLock::take(state.dir(), name, "tug reset")?;
    // The record stays, marked, until every host is clean; from here the
    // install journal no longer describes the hosts.
    let mut cf = cf;
    cf.cluster
        .status
        .get_or_insert_with(Default::default)
        .reset_started(&chrono::Local::now());
    state.save(&cf)?;
    let _ = std::fs::remove_file(state.dir().join(INSTALL_JOURNAL));
    if let Err(e) = teardown(ctx, &spec, plan, &state).await {
        eprintln!(
            "cluster {name} is kept, marked resetting, until every host is clean: \
             `tug reset --cluster {name} --force` continues the reset"
        );
        return Err(e);
    }
    if let Some(kept) = state.archive()? {
        eprintln!("the Clusterfile is kept as {}", kept.display());
    }
    Ok(())
}
