//! `tug delete` and `tug reset` on the command line: the flags read, the
//! user asked (or the plan printed), the cluster locked; the teardown
//! itself is the application layer's ([`crate::app::teardown`]).

use super::execute;
use crate::app::lock::ClusterLock;
use crate::app::session::How;
use crate::app::teardown::{Purpose, Teardown};
use crate::cli::{Context, notices};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::parse_ip_list;
use crate::cluster::state::ClusterState;
use anyhow::Context as _;
use std::net::IpAddr;

/// What follows a delete's own steps.
const REAPPLY: &str = "then the remaining hosts are re-applied (as `tug apply` would: \
                       what they already have is skipped) to follow the new set of hosts";

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

impl Asked {
    /// As `--dry-run` and `--yes` say.
    pub(super) fn of(dry_run: bool, yes: bool) -> Self {
        match (dry_run, yes) {
            (true, _) => Asked::DryRun,
            (false, true) => Asked::Yes,
            (false, false) => Asked::Ask,
        }
    }
}

/// Ask on the terminal whether `command` may drain and reset `hosts` of
/// cluster `name` (`why`, when it was not asked for by name); without a
/// terminal, say that `--yes` is needed.
fn confirm_delete(command: &str, why: &str, name: &str, hosts: &[IpAddr]) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let list: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    let list = list.join(", ");
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "{command} drains, deletes and resets {list}{why}: add --yes to do it without a terminal to ask on"
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

/// The addresses `--masters` and `--nodes` name.
fn named(masters: Option<&str>, nodes: Option<&str>) -> anyhow::Result<Vec<IpAddr>> {
    let mut gone = Vec::new();
    for (flag, list) in [("masters", masters), ("nodes", nodes)] {
        if let Some(list) = list {
            let addresses = parse_ip_list(list).with_context(|| format!("--{flag}"))?;
            gone.extend(addresses.into_iter().map(|a| a.ip));
        }
    }
    Ok(gone)
}

pub(super) async fn delete(
    ctx: &Context,
    name: &str,
    masters: Option<&str>,
    nodes: Option<&str>,
    asked: Asked,
) -> anyhow::Result<()> {
    let gone = named(masters, nodes)?;
    let notify = notices();
    if asked == Asked::DryRun {
        let teardown = Teardown::delete(ctx, name, &gone, Purpose::Show, notify.as_ref()).await?;
        return show(&teardown);
    }
    let state = ClusterState::new(&ctx.paths, name)?;
    state.load_existing()?;
    if gone.is_empty() {
        anyhow::bail!("nothing to delete: give --masters or --nodes");
    }
    if asked == Asked::Ask {
        confirm_delete("tug delete", "", name, &gone)?;
    }
    let _lock = ClusterLock::take(state.dir(), name, "tug delete")?;
    let teardown = Teardown::delete(ctx, name, &gone, Purpose::Run, notify.as_ref()).await?;
    execute(ctx, &teardown.into()).await?;
    deleted(&gone, &state);
    Ok(())
}

/// Apply `cf` of an installed cluster whose hosts no longer list `gone`:
/// they are drained, deleted and reset first (asked, as `tug delete`
/// asks), then `cf` applies to the hosts it lists.
pub(super) async fn apply_without(
    ctx: &Context,
    cf: Clusterfile,
    gone: &[IpAddr],
    how: How,
    asked: Asked,
    command: &str,
) -> anyhow::Result<()> {
    let name = cf.cluster.name().to_string();
    let notify = notices();
    if asked == Asked::DryRun {
        let t = Teardown::delete_then(ctx, gone, cf, how, Purpose::Show, notify.as_ref()).await?;
        return show(&t);
    }
    if asked == Asked::Ask {
        let why = " (no longer among the Clusterfile's hosts)";
        confirm_delete(command, why, &name, gone)?;
    }
    let state = ClusterState::new(&ctx.paths, &name)?;
    let _lock = ClusterLock::take(state.dir(), &name, command)?;
    let mut cf = cf;
    super::bring_images(ctx, &mut cf).await?;
    let t = Teardown::delete_then(ctx, gone, cf, how, Purpose::Run, notify.as_ref()).await?;
    execute(ctx, &t.into()).await?;
    deleted(gone, &state);
    Ok(())
}

/// Print what a delete would do: its own steps, then that the rest is
/// re-applied.
fn show(teardown: &Teardown) -> anyhow::Result<()> {
    crate::cli::plan::print_plan(teardown.plan(), None)?;
    eprintln!("{REAPPLY}");
    Ok(())
}

/// Say that `gone` left the cluster of `state`, and where its kubeconfig is.
fn deleted(gone: &[IpAddr], state: &ClusterState) {
    let list: Vec<String> = gone.iter().map(ToString::to_string).collect();
    eprintln!(
        "{} deleted from cluster {}, which is ready; kubeconfig: {}",
        list.join(", "),
        state.name(),
        state.admin_conf().display()
    );
}

pub(super) async fn reset(ctx: &Context, name: &str, force: bool) -> anyhow::Result<()> {
    let notify = notices();
    if !force {
        let teardown = Teardown::reset(ctx, name, Purpose::Show, notify.as_ref()).await?;
        print!("{}", teardown.plan());
        eprintln!("this is what `tug reset --cluster {name} --force` would do");
        return Ok(());
    }
    let _lock = ClusterLock::take(
        ClusterState::new(&ctx.paths, name)?.dir(),
        name,
        "tug reset",
    )?;
    let teardown = Teardown::reset(ctx, name, Purpose::Run, notify.as_ref()).await?;
    execute(ctx, &teardown.into()).await.map(drop)
}
