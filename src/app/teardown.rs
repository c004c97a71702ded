//! Taking hosts out of a cluster and a cluster down, the same for both
//! faces: a delete drains the chosen hosts, deletes them from Kubernetes
//! and resets them, then re-applies the rest (the remaining hosts follow
//! the new master set); a reset marks the cluster's record first, keeps it
//! until every host is clean, then archives it. Hosts that cannot be
//! reached are left to fail their own steps; a re-run goes on from there.

use super::lock::{ClusterLock, LockError};
use super::session::{Hosts, How, INSTALL_JOURNAL, Notifier, Outcome, RESET_JOURNAL, Session};
use super::spec::{spec_for_run, spec_of};
use super::{Context, Notice, Notify};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::Address;
use crate::cluster::model::Phase;
use crate::cluster::state::ClusterState;
use crate::engine::event::Event;
use crate::engine::install::InstallOptions;
use crate::engine::plan::{HostId, Plan};
use crate::engine::reset::{plan_delete, plan_reset};
use crate::engine::spec::ClusterSpec;
use crate::engine::transport::select::Unreachable;
use std::net::IpAddr;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Whether a teardown is only shown or about to run: a run asks the hosts
/// their arch when an image is stored for several platforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Print the plan; contact nothing.
    Show,
    /// Run it.
    Run,
}

/// What follows the teardown's own steps.
#[derive(Clone)]
enum Then {
    /// A reset: the record is archived once every host is clean.
    Archive,
    /// A delete: the remaining hosts re-applied.
    Reapply(Box<Session>),
}

/// A delete or reset, planned and ready to run.
#[derive(Clone)]
pub struct Teardown {
    /// The teardown's own steps (no record; its journal lives only as
    /// long as the run).
    session: Session,
    /// The cluster's state dir.
    state: ClusterState,
    /// The saved Clusterfile, as the teardown found it.
    saved: Clusterfile,
    /// Its spec (every host, as before the teardown).
    spec: ClusterSpec,
    then: Then,
}

impl Teardown {
    /// Plan removing `gone` from cluster `name`: each drained, deleted
    /// from Kubernetes and reset, then the rest re-applied.
    pub async fn delete(
        ctx: &Context,
        name: &str,
        gone: &[IpAddr],
        purpose: Purpose,
        notify: Notify<'_>,
    ) -> anyhow::Result<Teardown> {
        let state = ClusterState::new(&ctx.paths, name)?;
        let rest = without(&state.load_existing()?, gone);
        // The remaining hosts follow the new master set (IPVS rules,
        // lvscare); they passed their checks when they were installed.
        let how = How {
            skip_checks: true,
            ..How::default()
        };
        Teardown::delete_then(ctx, gone, rest, how, purpose, notify).await
    }

    /// Plan removing `gone` from the cluster `next` names, then applying
    /// `next` (the saved Clusterfile as the wizard changed it: hosts
    /// removed, maybe others added) as `how` says.
    pub async fn delete_then(
        ctx: &Context,
        gone: &[IpAddr],
        next: Clusterfile,
        how: How,
        purpose: Purpose,
        notify: Notify<'_>,
    ) -> anyhow::Result<Teardown> {
        if gone.is_empty() {
            anyhow::bail!("nothing to delete: give --masters or --nodes");
        }
        let state = ClusterState::new(&ctx.paths, next.cluster.name())?;
        let saved = state.load_existing()?;
        let spec = spec_of_purpose(ctx, &saved, &state, purpose, notify).await?;
        let ids: Vec<HostId> = gone.iter().map(|ip| HostId::new(ip.to_string())).collect();
        let plan = plan_delete(&spec, &ids, InstallOptions::default().parallel)?;
        let next_spec = spec_of_purpose(ctx, &next, &state, purpose, notify).await?;
        let hosts = Hosts::ssh(ctx, &next_spec, Unreachable::Refuse);
        let reapply = Session::apply(ctx, next, &next_spec, how, hosts)?;
        Ok(Teardown {
            session: Session::teardown(ctx, &spec, plan, &state),
            state,
            saved,
            spec,
            then: Then::Reapply(Box::new(reapply)),
        })
    }

    /// Plan resetting cluster `name` on every host.
    pub async fn reset(
        ctx: &Context,
        name: &str,
        purpose: Purpose,
        notify: Notify<'_>,
    ) -> anyhow::Result<Teardown> {
        let state = ClusterState::new(&ctx.paths, name)?;
        let saved = state.load_existing()?;
        let spec = spec_of_purpose(ctx, &saved, &state, purpose, notify).await?;
        let plan = plan_reset(&spec, InstallOptions::default().parallel)?;
        Ok(Teardown {
            session: Session::teardown(ctx, &spec, plan, &state),
            state,
            saved,
            spec,
            then: Then::Archive,
        })
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        self.state.name()
    }

    /// The cluster's spec, every host as before the teardown.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// Where the cluster's kubeconfig is.
    pub fn kubeconfig(&self) -> std::path::PathBuf {
        self.state.admin_conf()
    }

    /// The teardown's own steps, as it is shown before it runs.
    pub fn plan(&self) -> &Plan {
        &self.session.plan
    }

    /// Whether the remaining hosts are re-applied after the teardown.
    pub fn reapplies(&self) -> bool {
        matches!(self.then, Then::Reapply(_))
    }

    /// Everything the run does: the teardown's stages, then (for a
    /// delete) the re-apply's, as a dashboard counts them.
    pub fn whole_plan(&self) -> Plan {
        let mut plan = self.session.plan.clone();
        if let Then::Reapply(rest) = &self.then {
            plan.stages.extend(rest.plan.stages.iter().cloned());
        }
        plan
    }

    /// Hold the cluster's lock as `command` for the run.
    pub fn lock(&self, command: &str) -> Result<ClusterLock, LockError> {
        ClusterLock::take(self.state.dir(), self.state.name(), command)
    }

    /// Run the teardown, then what follows it; events go to `events`,
    /// notices to `notify`, and cancelling `cancel` starts no new step.
    pub async fn run(
        &self,
        events: UnboundedSender<Event>,
        cancel: CancellationToken,
        notify: Notifier,
    ) -> Outcome {
        if matches!(self.then, Then::Archive)
            && let Err(e) = self.mark_resetting()
        {
            return Outcome::Error(e.into());
        }
        let outcome = self
            .session
            .run(events.clone(), cancel.clone(), notify.clone())
            .await;
        let _ = std::fs::remove_file(self.state.dir().join(RESET_JOURNAL));
        let name = self.name();
        match (&self.then, outcome) {
            (Then::Reapply(rest), Outcome::Done(_)) => rest.run(events, cancel, notify).await,
            (Then::Archive, Outcome::Done(report)) => {
                match self.state.archive() {
                    Ok(Some(kept)) => notify(Notice::Note(format!(
                        "cluster {name} is reset; its Clusterfile is kept as {}",
                        kept.display()
                    ))),
                    Ok(None) => {}
                    Err(e) => return Outcome::Error(anyhow::Error::new(e).into()),
                }
                Outcome::Done(report)
            }
            (Then::Archive, other) => {
                notify(Notice::Note(format!(
                    "cluster {name} is kept, marked resetting, until every host is clean: \
                     `tug reset --cluster {name} --force` continues the reset"
                )));
                other
            }
            (Then::Reapply(_), other) => other,
        }
    }

    /// Mark the record as resetting: from here the install journal no
    /// longer describes the hosts, and no apply may start until the reset
    /// finishes.
    fn mark_resetting(&self) -> anyhow::Result<()> {
        let mut cf = self.saved.clone();
        cf.cluster
            .status
            .get_or_insert_with(Default::default)
            .reset_started(&chrono::Local::now());
        self.state.save(&cf)?;
        let _ = std::fs::remove_file(self.state.dir().join(INSTALL_JOURNAL));
        Ok(())
    }
}

/// The hosts of the installed cluster `cf` names that `cf` no longer
/// lists: applying it must take them out first (drained, deleted, reset).
/// None when the cluster's install never finished: a re-apply is how it
/// gets its first finish, and hosts may leave its list freely until then.
pub fn hosts_removed(ctx: &Context, cf: &Clusterfile) -> anyhow::Result<Vec<IpAddr>> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    let Some(saved) = state.load()? else {
        return Ok(Vec::new());
    };
    if saved.cluster.status.as_ref().and_then(|s| s.phase) != Some(Phase::ClusterSuccess) {
        return Ok(Vec::new());
    }
    let ips = |cf: &Clusterfile| -> Vec<IpAddr> {
        cf.cluster
            .machines()
            .map(|ms| ms.iter().map(|m| m.ip()).collect())
            .unwrap_or_default()
    };
    let kept = ips(cf);
    Ok(ips(&saved)
        .into_iter()
        .filter(|ip| !kept.contains(ip))
        .collect())
}

/// The spec of `cf` as `purpose` needs it: hosts that cannot be reached
/// are tolerated (their own steps fail).
async fn spec_of_purpose(
    ctx: &Context,
    cf: &Clusterfile,
    state: &ClusterState,
    purpose: Purpose,
    notify: Notify<'_>,
) -> anyhow::Result<ClusterSpec> {
    match purpose {
        Purpose::Show => spec_of(ctx, cf, state, notify),
        Purpose::Run => spec_for_run(ctx, cf, state, Unreachable::Tolerate, notify).await,
    }
}

/// `cf` without the hosts at `gone` (a host entry left with no address
/// goes too).
fn without(cf: &Clusterfile, gone: &[IpAddr]) -> Clusterfile {
    let mut cf = cf.clone();
    for host in &mut cf.cluster.spec.hosts {
        host.ips
            .retain(|a| a.parse::<Address>().map_or(true, |a| !gone.contains(&a.ip)));
    }
    cf.cluster.spec.hosts.retain(|h| !h.ips.is_empty());
    cf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::model::Host;

    #[test]
    fn without_drops_the_addresses_and_the_entries_left_empty() {
        let mut cluster = crate::cluster::model::Cluster::default();
        cluster.spec.hosts = vec![
            Host {
                ips: vec!["10.0.0.1:2222".into()],
                roles: vec!["master".into()],
                ..Host::default()
            },
            Host {
                ips: vec!["10.0.0.2".into(), "10.0.0.3:22".into()],
                roles: vec!["node".into()],
                ..Host::default()
            },
            Host {
                ips: vec!["10.0.0.4".into()],
                roles: vec!["node".into()],
                ..Host::default()
            },
        ];
        let cf = Clusterfile::new(cluster);
        let gone: Vec<IpAddr> = ["10.0.0.3", "10.0.0.4"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let rest = without(&cf, &gone);
        let ips: Vec<&Vec<String>> = rest.cluster.spec.hosts.iter().map(|h| &h.ips).collect();
        assert_eq!(
            ips,
            [&vec!["10.0.0.1:2222".to_string()], &vec!["10.0.0.2".into()]]
        );
    }
}
