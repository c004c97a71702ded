//! `tug status`: what tug knows of its clusters. Without `--cluster`, one
//! line per cluster from its saved Clusterfile; with it, that cluster's
//! phase, last condition, images and kubeconfig, and (unless `--offline`)
//! each host asked over SSH ([`inspect`]): whether it holds the cluster's
//! files and has joined, its Kubernetes version, whether its node is Ready,
//! and on masters the soonest certificate expiry (a warning when fewer
//! than 30 days are left). Asking changes nothing: unknown host keys are
//! refused, not recorded.

use super::Context;
use super::output::{print_json, table};
use crate::app::inspect::{self, Answer};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::plan::HostId;
use crate::engine::resolve::SpecInputs;
use clap::Subcommand;
use serde::Serialize;

/// Show clusters and their hosts.
#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Show the clusters tug installed, or one cluster with its hosts asked over SSH.
    Status {
        /// The cluster to show in detail (without it: every cluster, one line each).
        #[arg(long = "cluster", value_name = "NAME")]
        cluster: Option<String>,
        /// Do not contact the hosts; show only what the saved Clusterfile says.
        #[arg(long)]
        offline: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// One cluster, as `tug status` shows it.
#[derive(Debug, Serialize)]
struct ClusterView {
    name: String,
    phase: String,
    images: Vec<String>,
    /// The latest condition: `type status: reason: message`.
    condition: Option<String>,
    kubeconfig: Option<String>,
    hosts: Vec<HostView>,
    /// Where the hosts' answers contradict the saved phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    disagreement: Option<String>,
}

/// One host of a cluster.
#[derive(Debug, Serialize)]
struct HostView {
    ip: String,
    roles: Vec<String>,
    /// `None` when not asked (`--offline` or the cluster list).
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<Answer>,
}

impl StatusCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let StatusCommand::Status {
            cluster,
            offline,
            json,
        } = self;
        match cluster {
            None => list(ctx, json),
            Some(name) => show(ctx, &name, offline, json).await,
        }
    }
}

fn list(ctx: &Context, json: bool) -> anyhow::Result<()> {
    let mut views = Vec::new();
    for name in ClusterState::list(&ctx.paths) {
        let state = ClusterState::new(&ctx.paths, &name)?;
        if let Some(cf) = state.load()? {
            views.push(view(&state, &cf)?);
        }
    }
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        eprintln!("no clusters yet: `tug run` or `tug apply` installs one");
        return Ok(());
    }
    let count = |v: &ClusterView, role: &str| {
        v.hosts
            .iter()
            .filter(|h| h.roles.iter().any(|r| r == role))
            .count()
            .to_string()
    };
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.phase.clone(),
                count(v, "master"),
                count(v, "node"),
                v.images.first().cloned().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(&["NAME", "PHASE", "MASTERS", "NODES", "IMAGE"], &rows)
    );
    Ok(())
}

async fn show(ctx: &Context, name: &str, offline: bool, json: bool) -> anyhow::Result<()> {
    let state = ClusterState::new(&ctx.paths, name)?;
    let cf = state.load_existing()?;
    let mut v = view(&state, &cf)?;
    if !offline {
        let mut inputs = SpecInputs::from_clusterfile(&cf, &[], state.dir().to_path_buf())?;
        ctx.bastion_over(&mut inputs.hosts);
        let dir = format!("{}/data/{name}", inputs.data_root.trim_end_matches('/'));
        let answers = inspect::hosts(ctx, &state, &inputs.hosts, &dir).await?;
        for (host, answer) in v.hosts.iter_mut().zip(answers) {
            host.answer = Some(answer);
        }
        v.disagreement = disagreement(&v, &state.clusterfile_path());
    }
    if json {
        return print_json(&v);
    }
    for h in &v.hosts {
        if let Some(Answer::Reachable {
            cert_expiry: Some(e),
            ..
        }) = &h.answer
            && let Some(w) = inspect::expiry_warning(&HostId::new(h.ip.clone()), e, name)
        {
            eprintln!("warning: {w}");
        }
    }
    match &v.disagreement {
        Some(why) => println!("cluster {}: {} as saved, but {why}", v.name, v.phase),
        None => println!("cluster {}: {}", v.name, v.phase),
    }
    if let Some(c) = &v.condition {
        println!("last: {c}");
    }
    println!("images: {}", v.images.join(", "));
    if let Some(k) = &v.kubeconfig {
        println!("kubeconfig: {k}");
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows: Vec<Vec<String>> = v
        .hosts
        .iter()
        .map(|h| {
            let mut row = vec![h.ip.clone(), h.roles.join(",")];
            let dash = || "-".to_string();
            row.extend(match &h.answer {
                None => [
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    "not asked (--offline)".into(),
                ],
                Some(Answer::Reachable {
                    data,
                    joined,
                    version,
                    ready,
                    cert_expiry,
                    ..
                }) => [
                    yes_no(*data),
                    yes_no(*joined),
                    version.clone().unwrap_or_else(dash),
                    ready.map_or_else(|| "unknown".into(), yes_no),
                    cert_expiry.as_ref().map_or_else(dash, |e| {
                        format!(
                            "{} ({}d, {})",
                            e.expires.format("%Y-%m-%d"),
                            e.days_left,
                            e.name
                        )
                    }),
                    "answered".into(),
                ],
                Some(Answer::Unreachable { error }) => {
                    [dash(), dash(), dash(), dash(), dash(), error.clone()]
                }
            });
            row
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "HOST",
                "ROLES",
                "DATA",
                "JOINED",
                "VERSION",
                "READY",
                "CERTS EXPIRE",
                "SSH"
            ],
            &rows
        )
    );
    for h in &v.hosts {
        if let Some(Answer::Reachable {
            ready: Some(false),
            problems: Some(p),
            ..
        }) = &h.answer
        {
            println!("{} is not Ready: {p}", h.ip);
        }
    }
    Ok(())
}

/// Why the hosts' answers contradict a saved `ClusterSuccess`: hosts that
/// answered without the cluster's files (reset or replaced by hand).
fn disagreement(v: &ClusterView, clusterfile: &std::path::Path) -> Option<String> {
    if v.phase != "ClusterSuccess" {
        return None;
    }
    let answered: Vec<bool> = v
        .hosts
        .iter()
        .filter_map(|h| match &h.answer {
            Some(Answer::Reachable { data, .. }) => Some(*data),
            _ => None,
        })
        .collect();
    let missing = answered.iter().filter(|d| !**d).count();
    if missing == 0 {
        return None;
    }
    let which = if missing == answered.len() {
        "no host that answered".to_string()
    } else {
        format!("{missing} of {} hosts that answered do not", answered.len())
    };
    Some(format!(
        "{which} {} its files now (reset or replaced?); `tug apply -f {}` installs them again",
        if missing == answered.len() {
            "holds"
        } else {
            "hold"
        },
        clusterfile.display()
    ))
}

/// The saved facts of a cluster.
fn view(state: &ClusterState, cf: &Clusterfile) -> anyhow::Result<ClusterView> {
    let cluster = &cf.cluster;
    let status = cluster.status.as_ref();
    let phase = status
        .and_then(|s| s.phase.as_ref())
        .map(|p| {
            serde_yaml::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "not applied".into());
    let condition = status.and_then(|s| s.conditions.last()).map(|c| {
        let mut line = format!("{} {}", c.kind, c.status);
        for part in [&c.reason, &c.message].into_iter().flatten() {
            line.push_str(": ");
            line.push_str(part);
        }
        if let Some(t) = &c.last_heartbeat_time {
            line.push_str(&format!(" ({t})"));
        }
        line
    });
    let hosts = cluster
        .machines()?
        .into_iter()
        .map(|m| HostView {
            ip: m.ip().to_string(),
            roles: m.roles.iter().map(|r| r.as_str().to_string()).collect(),
            answer: None,
        })
        .collect();
    let admin = state.admin_conf();
    Ok(ClusterView {
        name: cluster.name().to_string(),
        phase,
        images: cluster.spec.image.clone(),
        condition,
        kubeconfig: admin.is_file().then(|| admin.display().to_string()),
        hosts,
        disagreement: None,
    })
}
