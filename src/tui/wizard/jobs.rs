//! Running the wizard's jobs off the event loop: connection tests (all
//! hosts at once, each also asked its arch; or the simulated hosts' answers,
//! see [`Reach`]), fetching images (see
//! [`super::image::fetch`]), planning (resolve the images, make the plan, prepare
//! the launch) and saving the Clusterfile. Each answers with an action.

use super::config::job::{Previewed, preview};
use super::reach::Reach;
use super::ssh::Tested;
use super::{Job, Planned, Reply};
use crate::cli::Context;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::install::shell::is_secret_key;
use crate::engine::install::{InstallOptions, plan_install};
use crate::engine::resolve::{SpecInputs, resolve};
use crate::engine::runner::RunOptions;
use crate::engine::spec::{ClusterSpec, HostSpec, ImageKind, ImageSpec};
use crate::engine::transport::arch::arch_of;
use crate::engine::transport::ssh::SshTransport;
use crate::secret::Secret;
use crate::ssh::{HostKeyPolicy, KnownHosts, NewHostKey};
use crate::tui::action::Action;
use crate::tui::app::Target;
use crate::tui::launch::Launch;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// Where a planned launch waits for the install to start.
pub type LaunchSlot = Arc<Mutex<Option<Launch>>>;

/// The install journal in a cluster's state dir (as `tug apply` names it).
const INSTALL_JOURNAL: &str = "install.journal";

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
            Job::Test(cf, trust) => match (spec(&ctx, &cf), &reach) {
                (Ok(spec), Reach::Ssh) => test_all(&ctx, &spec.hosts, trust, &reply).await,
                (Ok(spec), Reach::Simulated(sim)) => {
                    for h in &spec.hosts {
                        reply(Reply::Tested(h.ip.to_string(), sim.test(h, &trust)));
                    }
                }
                (Err(e), _) => reply(Reply::Tested("clusterfile".into(), Tested::Failed(e))),
            },
            Job::Plan(cf) => {
                let planned =
                    tokio::task::spawn_blocking(move || plan(&ctx, &reach, *cf, &slot)).await;
                reply(Reply::Planned(
                    planned.unwrap_or_else(|e| Err(e.to_string())),
                ));
            }
            Job::Save(cf) => reply(Reply::Saved(save(&ctx, &cf))),
            Job::Fetch(source) => super::image::fetch::run(&ctx, source, &tx).await,
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

/// Resolve the Clusterfile's spec as the install will.
pub(super) fn spec(ctx: &Context, cf: &Clusterfile) -> Result<ClusterSpec, String> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name()).map_err(|e| e.to_string())?;
    let inputs = SpecInputs::from_clusterfile(cf, &[], state.dir().to_path_buf())
        .map_err(|e| e.to_string())?;
    let scans = ctx.paths.data.join("layer-scans");
    let store = ctx.store().map_err(|e| e.to_string())?;
    resolve(&store, inputs, Some(&scans))
        .map(|r| r.spec)
        .map_err(|e| e.to_string())
}

/// Connect to every host at once; a first-use key is trusted only when its
/// fingerprint is in `trust`, else reported for confirmation.
async fn test_all(ctx: &Context, hosts: &[HostSpec], trust: Vec<String>, reply: &impl Fn(Reply)) {
    let known = KnownHosts::new(ctx.paths.known_hosts());
    let seen: Arc<Mutex<HashMap<String, NewHostKey>>> = Arc::default();
    let trust = Arc::new(trust);
    let policy = {
        let seen = seen.clone();
        HostKeyPolicy::Ask(Arc::new(move |k: NewHostKey| {
            let ok = trust.contains(&k.fingerprint);
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(k.addr.clone(), k);
            Box::pin(async move { ok })
        }))
    };
    let tests = hosts.iter().map(|h| {
        let (known, policy, seen) = (known.clone(), policy.clone(), seen.clone());
        async move {
            let result = SshTransport::connect(h, known, policy).await;
            let arch = match &result {
                Ok(t) => arch_of(t).await.ok(),
                Err(_) => None,
            };
            let addr = format!("{}:{}", h.ip, h.port);
            let key = seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&addr)
                .cloned();
            let tested = match (result, key) {
                (Ok(_), Some(k)) => Tested::Ok {
                    key: format!("{} {} (trusted now)", k.algorithm, k.fingerprint),
                    arch,
                },
                (Ok(_), None) => Tested::Ok {
                    key: "key on record".into(),
                    arch,
                },
                (Err(_), Some(k)) => Tested::NewKey {
                    key: format!("{} {}", k.algorithm, k.fingerprint),
                    fingerprint: k.fingerprint,
                },
                (Err(e), None) => Tested::Failed(e.to_string()),
            };
            reply(Reply::Tested(h.ip.to_string(), tested));
        }
    });
    futures_util::future::join_all(tests).await;
}

fn plan(
    ctx: &Context,
    reach: &Reach,
    cf: Clusterfile,
    slot: &LaunchSlot,
) -> Result<Planned, String> {
    let spec = spec(ctx, &cf)?;
    let plan = plan_install(&spec, &InstallOptions::default())
        .map_err(|e| e.to_string())?
        .plan;
    let state = ClusterState::new(&ctx.paths, cf.cluster.name()).map_err(|e| e.to_string())?;
    let mut lines = vec!["# Clusterfile".to_string()];
    lines.extend(masked(&cf)?.lines().map(str::to_string));
    lines.push(String::new());
    lines.push("# Plan".into());
    lines.extend(plan.to_string().lines().map(str::to_string));
    let target = Target {
        cluster: spec.name.clone(),
        image: shown(&spec.images),
        plan: plan.clone(),
        roles: spec.role_names(),
        kubeconfig: state.admin_conf(),
    };
    let launch = Launch {
        plan,
        hosts: reach.hosts(&spec, ctx.paths.known_hosts()),
        logs: state.logs_dir(),
        journal: state.dir().join(INSTALL_JOURNAL),
        options: RunOptions {
            secrets: spec.login_passwords(),
            ..RunOptions::default()
        },
        record: Some((state, cf)),
    };
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(launch);
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
fn masked(cf: &Clusterfile) -> Result<String, String> {
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
    cf.to_yaml().map_err(|e| e.to_string())
}

fn save(ctx: &Context, cf: &Clusterfile) -> Result<String, String> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name()).map_err(|e| e.to_string())?;
    state.save(cf).map_err(|e| e.to_string())?;
    Ok(state.clusterfile_path().display().to_string())
}
