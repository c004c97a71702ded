//! Planning the wizard's teardowns, as `tug delete` and `tug reset --force`
//! plan them: from the clusters screen (hosts marked with `d`, or `r`), and
//! from an installed cluster opened in the wizard whose host list lost
//! hosts: those are drained, deleted and reset first, then the Clusterfile
//! as edited (other hosts maybe added) is applied. Each plan waits in the
//! launch slot for Enter on its review.

use super::planning::{LaunchSlot, masked, shown};
use super::takedown::Takedown;
use super::{Ask, Planned};
use crate::app::clusters::claim;
use crate::app::notice::ignore;
use crate::app::session::How;
use crate::app::spec::spec_as_written;
use crate::app::teardown::{Purpose, Teardown, hosts_removed};
use crate::app::{AppError, Context};
use crate::cluster::clusterfile::Clusterfile;
use crate::tui::target::{Doing, Target};
use std::net::IpAddr;

/// What a delete does to the hosts, as its review's first line says it.
fn removal_line(list: &str) -> String {
    format!(
        "# {list}: each drained and deleted from Kubernetes (kubectl on master0), \
         then reset (kubeadm reset, the image's clean scripts, tug's files removed)"
    )
}

/// The last line of a delete's review.
const THEN_APPLIED: &str =
    "# Then the cluster is applied without them; what its hosts already have is skipped.";

/// Plan the delete or reset `t` asks for, and leave it in `slot`.
pub async fn plan_teardown(
    ctx: &Context,
    t: Takedown,
    slot: &LaunchSlot,
) -> anyhow::Result<Planned> {
    let (teardown, doing, what) = match t {
        Takedown::Delete { cluster, hosts } => {
            let teardown = Teardown::delete(ctx, &cluster, &hosts, Purpose::Run, &ignore).await?;
            let list = listed(&hosts);
            (teardown, Doing::Remove(list.clone()), removal_line(&list))
        }
        Takedown::Reset { cluster } => {
            let teardown = Teardown::reset(ctx, &cluster, Purpose::Run, &ignore).await?;
            let what = format!(
                "# Every host of cluster {cluster}: kubeadm reset, the image's clean scripts, \
                 tug's files removed. Its workloads and data are gone; the Clusterfile is archived."
            );
            (teardown, Doing::Reset, what)
        }
    };
    let mut lines = vec![what, String::new(), "# Plan".to_string()];
    lines.extend(teardown.plan().to_string().lines().map(str::to_string));
    if teardown.reapplies() {
        lines.push(THEN_APPLIED.into());
    }
    let target = target_of(&teardown, teardown.spec().role_names(), doing);
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(teardown.into());
    Ok(Planned { target, lines })
}

/// The hosts an installed cluster opened in the wizard (`ask.opened`)
/// lost in `cf`: they are drained and reset before the rest is applied.
/// None for a new cluster.
pub fn removed(ctx: &Context, cf: &Clusterfile, ask: &Ask) -> Result<Vec<IpAddr>, AppError> {
    if ask.opened.is_none() {
        return Ok(Vec::new());
    }
    Ok(hosts_removed(ctx, cf)?)
}

/// Plan taking `gone` out of the opened cluster, then applying `cf`.
pub async fn plan_removal(
    ctx: &Context,
    cf: Clusterfile,
    gone: &[IpAddr],
    ask: &Ask,
    slot: &LaunchSlot,
) -> Result<Planned, AppError> {
    claim(&ctx.paths, cf.cluster.name(), ask.opened.as_deref()).map_err(anyhow::Error::msg)?;
    let roles_after = spec_as_written(ctx, &cf, &ignore)?.role_names();
    let how = How {
        skip_checks: ask.skip_checks,
        ..How::default()
    };
    let mut lines = vec![
        format!("{} left the host list.", removal_line(&listed(gone))),
        String::new(),
        "# Clusterfile".to_string(),
    ];
    lines.extend(masked(&cf)?.lines().map(str::to_string));
    let teardown = Teardown::delete_then(ctx, gone, cf, how, Purpose::Run, &ignore).await?;
    lines.extend([String::new(), "# Plan".to_string()]);
    lines.extend(teardown.plan().to_string().lines().map(str::to_string));
    lines.push(THEN_APPLIED.into());
    let mut roles = teardown.spec().role_names();
    roles.extend(roles_after);
    let target = target_of(&teardown, roles, Doing::Remove(listed(gone)));
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(teardown.into());
    Ok(Planned { target, lines })
}

/// What the dashboard shows of `teardown`.
fn target_of(
    teardown: &Teardown,
    roles: std::collections::BTreeMap<crate::engine::plan::HostId, String>,
    doing: Doing,
) -> Target {
    let spec = teardown.spec();
    Target {
        cluster: spec.name.clone(),
        image: shown(&spec.images),
        plan: teardown.whole_plan(),
        roles,
        kubeconfig: teardown.kubeconfig(),
        doing,
    }
}

/// Addresses as a review lists them.
fn listed(hosts: &[IpAddr]) -> String {
    let list: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    list.join(", ")
}
