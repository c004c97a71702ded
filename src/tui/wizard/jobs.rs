//! Running the wizard's jobs off the event loop, each through the
//! application layer: connection tests (all hosts at once, each also asked
//! its arch; or the simulated hosts' answers, see [`Reach`]), fetching
//! images (see [`super::image::fetch`]), planning (the install session the
//! CLI's `apply` makes too, or the teardown its `delete` and `reset`
//! make), saving the Clusterfile and reading one to open. Planning and saving refuse a name another installed cluster
//! holds, so nothing installed is replaced. Each answers with an action.

use super::config::job::{Previewed, preview};
use super::ssh::Tested;
use super::takedown::Takedown;
use super::{Ask, Job, Opened, Planned, Reply};
use crate::app::clusters::claim;
use crate::app::notice::ignore;
use crate::app::probe::test_all;
use crate::app::reach::Reach;
use crate::app::session::{How, Session};
use crate::app::spec::spec_as_written;
use crate::app::teardown::{Purpose, Teardown};
use crate::app::work::Work;
use crate::app::{AppError, Context};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::Phase;
use crate::cluster::state::ClusterState;
use crate::engine::install::shell::is_secret_key;
use crate::engine::spec::{ImageKind, ImageSpec};
use crate::secret::Secret;
use crate::tui::action::Action;
use crate::tui::target::{Doing, Target};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// Where a planned run waits for Enter to start it.
pub type LaunchSlot = Arc<Mutex<Option<Work>>>;

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
                let planned =
                    tokio::task::spawn_blocking(move || plan(&ctx, &reach, *cf, &ask, &slot)).await;
                reply(Reply::Planned(planned.unwrap_or_else(|e| {
                    Err(AppError::from(anyhow::Error::new(e)))
                })));
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
    if ask.opened.is_some()
        && let Some(saved) = state.load().map_err(anyhow::Error::new)?
        && saved.cluster.status.as_ref().and_then(|s| s.phase) == Some(Phase::ClusterSuccess)
    {
        kept_hosts(&saved, &cf).map_err(anyhow::Error::msg)?;
    }
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

/// Plan the delete or reset `t` asks for, as `tug delete` and `tug reset
/// --force` would, and leave it in `slot` for Enter to start.
async fn plan_teardown(ctx: &Context, t: Takedown, slot: &LaunchSlot) -> anyhow::Result<Planned> {
    let (teardown, doing, what) = match t {
        Takedown::Delete { cluster, hosts } => {
            let teardown = Teardown::delete(ctx, &cluster, &hosts, Purpose::Run, &ignore).await?;
            let list: Vec<String> = hosts.iter().map(ToString::to_string).collect();
            let list = list.join(", ");
            let what = format!(
                "# {list}: each drained and deleted from Kubernetes (kubectl on master0), \
                 then reset (kubeadm reset, the image's clean scripts, tug's files removed); \
                 the other hosts then follow the new set."
            );
            (teardown, Doing::Remove(list), what)
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
    let spec = teardown.spec();
    let mut lines = vec![what, String::new(), "# Plan".to_string()];
    lines.extend(teardown.plan().to_string().lines().map(str::to_string));
    if teardown.reapplies() {
        lines.push(
            "# Then the remaining hosts are re-applied; what they already have is skipped.".into(),
        );
    }
    let target = Target {
        cluster: spec.name.clone(),
        image: shown(&spec.images),
        plan: teardown.whole_plan(),
        roles: spec.role_names(),
        kubeconfig: teardown.kubeconfig(),
        doing,
    };
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(teardown.into());
    Ok(Planned { target, lines })
}

/// The images as the install's title names them: the first (the rootfs)
/// in full, then how many patches and applications follow it
/// (`REF + 1 patch + 2 apps`).
fn shown(images: &[ImageSpec]) -> String {
    let Some((first, rest)) = images.split_first() else {
        return String::new();
    };
    let patches = rest.iter().filter(|i| i.kind == ImageKind::Patch).count();
    let apps = rest.len() - patches;
    let mut out = first.reference.clone();
    for (n, one, many) in [(patches, "patch", "patches"), (apps, "app", "apps")] {
        match n {
            0 => {}
            1 => out.push_str(&format!(" + 1 {one}")),
            n => out.push_str(&format!(" + {n} {many}")),
        }
    }
    out
}

/// The Clusterfile as YAML with every secret (SSH, env passwords) masked.
fn masked(cf: &Clusterfile) -> anyhow::Result<String> {
    let mut cf = cf.clone();
    let hide = |s: &mut Option<Secret>| {
        if s.is_some() {
            *s = Some(Secret::new("******"));
        }
    };
    let spec = &mut cf.cluster.spec;
    for ssh in spec
        .ssh
        .iter_mut()
        .chain(spec.hosts.iter_mut().filter_map(|h| h.ssh.as_mut()))
    {
        hide(&mut ssh.passwd);
        hide(&mut ssh.pk_passwd);
        hide(&mut ssh.pk_data);
    }
    for kv in &mut spec.env {
        if let Some((k, _)) = kv.split_once('=')
            && is_secret_key(k)
        {
            *kv = format!("{k}=******");
        }
    }
    Ok(cf.to_yaml()?)
}

/// The hosts an installed cluster's `saved` Clusterfile lists are all in
/// `now`: the wizard adds hosts here; removing one drains it first, which
/// `d` on the clusters screen does. (A cluster whose install never finished may lose
/// hosts: a re-apply is how it gets its first finish.)
fn kept_hosts(saved: &Clusterfile, now: &Clusterfile) -> Result<(), String> {
    let ips = |cf: &Clusterfile| -> Vec<std::net::IpAddr> {
        cf.cluster
            .machines()
            .map(|ms| ms.iter().map(|m| m.ip()).collect())
            .unwrap_or_default()
    };
    let kept = ips(now);
    let gone: Vec<String> = ips(saved)
        .into_iter()
        .filter(|ip| !kept.contains(ip))
        .map(|ip| ip.to_string())
        .collect();
    if gone.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} left the host list: removing hosts drains them first, which d on the list of \
         clusters does (or `tug delete --cluster {} --nodes {}`)",
        gone.join(", "),
        saved.cluster.name(),
        gone.join(",")
    ))
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
