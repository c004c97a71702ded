//! `tug apply`, `tug run` and `tug reset`: a Clusterfile (or `gen`'s
//! flags) → spec → plan → runner, with the cluster's state dir holding the
//! Clusterfile with its status, the per-host logs, admin.conf and the
//! journal that makes a second `apply` a resume. An apply saves the
//! Clusterfile after every stage ([`record`]). [`execute`] runs a plan:
//! events show as a line per host on a terminal ([`progress`]), as plain
//! lines otherwise; Ctrl-C starts no new step and exits 130. The session
//! itself (spec, plan, journal, status) is the application layer's.

mod echo;
mod execute;
mod progress;
mod teardown;
pub(super) use execute::watch_ctrl_c;

use super::cluster::ClusterArgs;
use super::{Context, notices};
use crate::app::Cancelled;
use crate::app::images;
use crate::app::lock::ClusterLock;
use crate::app::session::{Hosts, How, Session};
use crate::app::spec::{spec_for_run, spec_of};
use crate::app::teardown::hosts_removed;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::create::generate;
use crate::cluster::hosts::parse_ip_list;
use crate::cluster::model::Host;
use crate::cluster::state::ClusterState;
use crate::engine::health;
use crate::engine::plan::Phase;
use crate::engine::transport::select::Unreachable;
use anyhow::Context as _;
use clap::{Args, Subcommand};
pub(super) use execute::execute;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use teardown::{Asked, apply_without, delete, reset};

/// Install, resume and tear down clusters.
#[derive(Debug, Subcommand)]
pub enum InstallCommand {
    /// Install (or resume, or change) the cluster a Clusterfile describes.
    Apply {
        /// The Clusterfile; its images must be in the local store.
        #[arg(short = 'f', long = "clusterfile", value_name = "FILE")]
        clusterfile: PathBuf,
        /// How to apply it.
        #[command(flatten)]
        args: ApplyArgs,
    },
    /// Write a Clusterfile from flags (as `gen`) and apply it.
    Run {
        /// Cluster images, the Kubernetes (rootfs) image first.
        #[arg(value_name = "IMAGE", required = true)]
        images: Vec<String>,
        /// Hosts, SSH and env.
        #[command(flatten)]
        cluster: Box<ClusterArgs>,
        /// How to apply it.
        #[command(flatten)]
        args: ApplyArgs,
    },
    /// Add masters or nodes to an installed cluster (a re-apply with more
    /// hosts: the existing ones receive and run nothing again).
    Add {
        /// The cluster.
        #[arg(long = "cluster", value_name = "NAME", default_value = "default")]
        cluster: String,
        /// Masters to add (IPs and ranges, like `gen`).
        #[arg(long, value_name = "IPS")]
        masters: Option<String>,
        /// Nodes to add.
        #[arg(long, value_name = "IPS")]
        nodes: Option<String>,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// How long to wait for every node to be Ready.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Remove masters or nodes: drained and deleted from Kubernetes, reset
    /// and cleaned, dropped from the Clusterfile; the rest is re-applied.
    Delete {
        /// The cluster.
        #[arg(long = "cluster", value_name = "NAME", default_value = "default")]
        cluster: String,
        /// Masters to remove.
        #[arg(long, value_name = "IPS")]
        masters: Option<String>,
        /// Nodes to remove.
        #[arg(long, value_name = "IPS")]
        nodes: Option<String>,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do it without asking (needed when there is no terminal to ask on).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Remove a cluster from its hosts: kubeadm reset, the image's clean
    /// scripts, everything tug put there; keeps going past hosts that are gone.
    Reset {
        /// The cluster.
        #[arg(long = "cluster", value_name = "NAME", default_value = "default")]
        cluster: String,
        /// Really do it (without it, only the plan is printed).
        #[arg(long)]
        force: bool,
    },
}

impl InstallCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            InstallCommand::Apply { clusterfile, args } => {
                let cf = Clusterfile::load(&clusterfile)?;
                for p in cf.warnings() {
                    eprintln!("warning: {p}");
                }
                apply(ctx, cf, args.how(), args.asked(), "tug apply").await
            }
            InstallCommand::Run {
                images,
                cluster,
                args,
            } => {
                let home = std::env::var_os("HOME").map(PathBuf::from);
                let cf = generate(cluster.new_cluster(ctx, images, home.as_deref())?)?;
                apply(ctx, cf, args.how(), args.asked(), "tug run").await
            }
            InstallCommand::Add {
                cluster,
                masters,
                nodes,
                dry_run,
                wait,
            } => {
                let state = ClusterState::new(&ctx.paths, &cluster)?;
                let mut cf = state.load_existing()?;
                add_hosts(&mut cf, masters.as_deref(), nodes.as_deref())?;
                let how = How {
                    wait: wait.wait(),
                    ..How::default()
                };
                apply(ctx, cf, how, Asked::of(dry_run, false), "tug add").await
            }
            InstallCommand::Delete {
                cluster,
                masters,
                nodes,
                dry_run,
                yes,
            } => {
                let asked = Asked::of(dry_run, yes);
                delete(ctx, &cluster, masters.as_deref(), nodes.as_deref(), asked).await
            }
            InstallCommand::Reset { cluster, force } => reset(ctx, &cluster, force).await,
        }
    }
}

/// The flags `apply` and `run` share: how the Clusterfile is applied.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Print every stage, host and command (secrets masked); change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Skip the preflight checks.
    #[arg(long)]
    skip_checks: bool,
    /// Stop after this phase (e.g. `distribute` to stage the image on
    /// every host before a maintenance window); a later apply finishes.
    #[arg(long, value_name = "PHASE", value_parser = Phase::install_named)]
    until: Option<Phase>,
    /// When the image upgrades the cluster: renew the control-plane
    /// certificates too (by default they are kept).
    #[arg(long)]
    renew_certs: bool,
    /// When hosts of the installed cluster are no longer listed: delete
    /// them (drained, reset) without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// How long to wait for every node to be Ready.
    #[command(flatten)]
    wait: WaitArgs,
}

impl ApplyArgs {
    /// How the run goes.
    fn how(&self) -> How {
        How {
            skip_checks: self.skip_checks,
            until: self.until,
            renew_certs: self.renew_certs,
            wait: self.wait.wait(),
        }
    }

    /// Whether it runs, and whether deleting hosts was agreed to already.
    fn asked(&self) -> Asked {
        Asked::of(self.dry_run, self.yes)
    }
}

/// `--wait DURATION` and `--no-wait`: how long a run waits at its end for
/// every node to be Ready.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Wait this long (e.g. 90s, 10m) at the end for every node to be Ready
    /// [default: 5m].
    #[arg(long = "wait", value_name = "DURATION", value_parser = health::parse_duration)]
    wait: Option<Duration>,
    /// Do not wait for the nodes to be Ready.
    #[arg(long, conflicts_with = "wait")]
    no_wait: bool,
}

impl WaitArgs {
    /// The wait asked for; `None` for `--no-wait`.
    pub fn wait(&self) -> Option<Duration> {
        (!self.no_wait).then(|| self.wait.unwrap_or(health::DEFAULT_WAIT))
    }
}

/// Append host entries for `masters` and `nodes`, refusing addresses the
/// cluster already has.
fn add_hosts(
    cf: &mut Clusterfile,
    masters: Option<&str>,
    nodes: Option<&str>,
) -> anyhow::Result<()> {
    let have: Vec<std::net::IpAddr> = cf.cluster.machines()?.iter().map(|m| m.ip()).collect();
    let mut added = 0;
    for (flag, list, role) in [("masters", masters, "master"), ("nodes", nodes, "node")] {
        let Some(list) = list else { continue };
        let addresses = parse_ip_list(list).with_context(|| format!("--{flag}"))?;
        if let Some(dup) = addresses.iter().find(|a| have.contains(&a.ip)) {
            anyhow::bail!("--{flag}: {} is already in the cluster", dup.ip);
        }
        added += addresses.len();
        cf.cluster.spec.hosts.push(Host {
            ips: addresses.iter().map(ToString::to_string).collect(),
            roles: vec![role.to_string()],
            ..Host::default()
        });
    }
    if added == 0 {
        anyhow::bail!("nothing to add: give --masters or --nodes");
    }
    Ok(())
}

/// Install (or resume, or change) `cf`'s cluster as `command`, holding
/// the cluster's lock unless it is a dry run. Hosts of the installed
/// cluster gone from `cf` are taken out first, as `tug delete` does
/// (asked as `asked` says).
async fn apply(
    ctx: &Context,
    cf: Clusterfile,
    how: How,
    asked: Asked,
    command: &str,
) -> anyhow::Result<()> {
    let gone = hosts_removed(ctx, &cf)?;
    if !gone.is_empty() {
        return apply_without(ctx, cf, &gone, how, asked, command).await;
    }
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    if asked == Asked::DryRun {
        return apply_locked(ctx, cf, how, true).await;
    }
    let _lock = ClusterLock::take(state.dir(), state.name(), command)?;
    let mut cf = cf;
    bring_images(ctx, &mut cf).await?;
    apply_locked(ctx, cf, how, false).await
}

/// Load, take from the bundle next to tug, or pull the images `cf` names
/// that the store lacks, with progress; Ctrl-C stops it.
async fn bring_images(ctx: &Context, cf: &mut Clusterfile) -> anyhow::Result<()> {
    let bundle = Arc::new(super::bundle::Shown::new(ctx.fancy));
    let shown = images::Shown {
        pulls: super::registry::progress(ctx),
        bundle: bundle.clone(),
    };
    let notify = notices();
    let brought = tokio::select! {
        done = images::bring(ctx, cf, &shown, notify.as_ref()) => done,
        _ = tokio::signal::ctrl_c() => Err(Cancelled.into()),
    };
    bundle.clear();
    brought
}

/// [`apply`] for a caller that holds the cluster's lock (or a dry run).
async fn apply_locked(
    ctx: &Context,
    cf: Clusterfile,
    how: How,
    dry_run: bool,
) -> anyhow::Result<()> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    let notify = notices();
    let spec = if dry_run {
        spec_of(ctx, &cf, &state, notify.as_ref())?
    } else {
        spec_for_run(ctx, &cf, &state, Unreachable::Refuse, notify.as_ref()).await?
    };
    let hosts = Hosts::ssh(ctx, &spec, Unreachable::Refuse);
    let session = Session::apply(ctx, cf, &spec, how, hosts)?;
    if dry_run {
        return super::plan::print_plan(&session.plan, Some(&session.journal));
    }
    let upgrade = session.upgrade.clone();
    execute(ctx, &session.into()).await?;
    if let Some(phase) = how.until {
        eprintln!(
            "cluster {}: stopped after {phase} as asked; `tug apply -f {}` finishes it",
            spec.name,
            state.clusterfile_path().display()
        );
        return Ok(());
    }
    match &upgrade {
        Some(up) => eprintln!(
            "cluster {} upgraded from {} to {} on every host; kubeconfig: {}",
            spec.name,
            up.from,
            up.to,
            state.admin_conf().display()
        ),
        None => eprintln!(
            "cluster {} is ready; kubeconfig: {}",
            spec.name,
            state.admin_conf().display()
        ),
    }
    Ok(())
}
