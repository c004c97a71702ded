//! Running the wizard's jobs off the event loop, each through the
//! application layer: connection tests (all hosts at once, each also asked
//! its arch; or the simulated hosts' answers, see [`Reach`]), fetching
//! images (see [`super::image::fetch`]), planning (the install session the
//! CLI's `apply` makes too; teardowns in [`super::teardown_job`]), saving
//! the Clusterfile and reading one to open. Planning and saving refuse a
//! name another installed cluster holds, so nothing installed is replaced.
//! Each answers with an action.

use super::config::job::{Previewed, preview};
use super::planning::{LaunchSlot, masked, shown};
use super::ssh::Tested;
use super::teardown_job::{plan_removal, plan_teardown, removed};
use super::{Ask, Job, Opened, Planned, Reply};
use crate::app::clusters::claim;
use crate::app::notice::ignore;
use crate::app::probe::test_all;
use crate::app::reach::Reach;
use crate::app::session::{How, Session};
use crate::app::spec::spec_as_written;
use crate::app::{AppError, Context};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::tui::action::Action;
use crate::tui::target::{Doing, Target};
use std::path::PathBuf;
use tokio::sync::mpsc::UnboundedSender;

/// Start `job` over hosts reached as `reach` says; its reply arrives on `tx`.
pub fn spawn(
    job: Job,
    ctx: &Context,
    reach: &Reach,
    tx: UnboundedSender<Action>,
    slot: LaunchSlot,
) {
    let ctx = ctx.clone();
    let reach = reach.clone();
    tokio::spawn(async move {
        let reply = |r| {
            let _ = tx.send(Action::Wizard(r));
        };
        match job {
            Job::Test(cf, trust) => match (spec_as_written(&ctx, &cf, &ignore), &reach) {
                (Ok(spec), Reach::Ssh) => {
                    let tested = |ip, t| reply(Reply::Tested(ip, t));
                    test_all(&ctx, &spec.hosts, trust, &tested).await
                }
                (Ok(spec), Reach::Simulated(sim)) => {
                    for h in &spec.hosts {
                        reply(Reply::Tested(h.ip.to_string(), sim.test(h, &trust)));
                    }
                }
                (Err(e), _) => reply(Reply::Tested(
                    "clusterfile".into(),
                    Tested::Failed(e.to_string()),
                )),
            },
            Job::Plan(cf, ask) => {
                let planned = match removed(&ctx, &cf, &ask) {
                    Ok(gone) if !gone.is_empty() => {
                        plan_removal(&ctx, *cf, &gone, &ask, &slot).await
                    }
                    Ok(_) => {
                        tokio::task::spawn_blocking(move || plan(&ctx, &reach, *cf, &ask, &slot))
                            .await
                            .unwrap_or_else(|e| Err(AppError::from(anyhow::Error::new(e))))
                    }
                    Err(e) => Err(e),
                };
                reply(Reply::Planned(planned));
            }
            Job::Save(cf, opened) => reply(Reply::Saved(save(&ctx, &cf, opened.as_deref()))),
            Job::Open(path, opened) => reply(Reply::Opened(open(path, opened))),
            Job::Fetch(source) => super::image::fetch::run(&ctx, source, &tx).await,
            Job::Teardown(t) => {
                reply(Reply::TeardownPlanned(
                    plan_teardown(&ctx, t, &slot).await.map_err(AppError::from),
                ));
            }
            Job::Preview(cf) => {
                let image = cf.cluster.spec.image.first().cloned().unwrap_or_default();
                let p = tokio::task::spawn_blocking(move || preview(&ctx, &cf)).await;
                reply(Reply::Previewed(
                    p.unwrap_or_else(|e| Previewed::failed(image, e.to_string())),
                ));
            }
        }
    });
}

/// Plan the install of `cf` as `tug apply` would, and leave its session
/// in `slot` for the install to start.
fn plan(
    ctx: &Context,
    reach: &Reach,
    cf: Clusterfile,
    ask: &Ask,
    slot: &LaunchSlot,
) -> Result<Planned, AppError> {
    let name = cf.cluster.name();
    claim(&ctx.paths, name, ask.opened.as_deref()).map_err(anyhow::Error::msg)?;
    let spec = spec_as_written(ctx, &cf, &ignore)?;
    let state = ClusterState::new(&ctx.paths, name).map_err(anyhow::Error::new)?;
    let mut lines = vec!["# Clusterfile".to_string()];
    lines.extend(masked(&cf)?.lines().map(str::to_string));
    let hosts = reach.hosts(&spec, ctx.paths.known_hosts());
    let how = How {
        skip_checks: ask.skip_checks,
        ..How::default()
    };
    let session = Session::apply(ctx, cf, &spec, how, hosts)?;
    if let Some(up) = &session.upgrade {
        lines.insert(0, format!("# Upgrade: {up}; Enter confirms"));
    }
    lines.push(String::new());
    lines.push("# Plan".into());
    lines.extend(session.plan.to_string().lines().map(str::to_string));
    let target = Target {
        cluster: spec.name.clone(),
        image: shown(&spec.images),
        plan: session.plan.clone(),
        roles: spec.role_names(),
        kubeconfig: state.admin_conf(),
        doing: session
            .upgrade
            .as_ref()
            .map_or(Doing::Install, |up| Doing::Upgrade(up.to.clone())),
    };
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.into());
    Ok(Planned { target, lines })
}

/// Read the Clusterfile at `path` to open it in the wizard.
fn open(path: PathBuf, opened: Option<String>) -> Result<Opened, String> {
    let cf = Clusterfile::load(&path).map_err(|e| e.to_string())?;
    Ok(Opened {
        path,
        cf: Box::new(cf),
        opened,
    })
}

fn save(ctx: &Context, cf: &Clusterfile, opened: Option<&str>) -> Result<String, String> {
    claim(&ctx.paths, cf.cluster.name(), opened)?;
    let state = ClusterState::new(&ctx.paths, cf.cluster.name()).map_err(|e| e.to_string())?;
    state.save(cf).map_err(|e| e.to_string())?;
    Ok(state.clusterfile_path().display().to_string())
}
