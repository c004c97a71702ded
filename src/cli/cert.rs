//! `tug cert`: the control-plane certificates of a cluster's masters.
//! Without flags, every certificate's expiry on every master (fewer than 30
//! days left is a warning); `--renew` renews them all and restarts the
//! control plane one master at a time; `--alt-names` adds names to the API
//! server certificate on every master and keeps them in the Clusterfile.
//! Both ask first unless `--yes`.

use super::Context;
use super::install::execute;
use super::notices;
use super::output::{print_json, table};
use crate::app::fleet::{self, FLEET_JOURNAL, Pick};
use crate::app::inspect::{self, MasterCerts};
use crate::app::lock::ClusterLock;
use crate::app::spec::spec_of;
use crate::cluster::cert_sans::{add_cert_sans, check_san};
use crate::cluster::state::ClusterState;
use crate::engine::certs::{plan_alt_names, plan_renew};
use crate::engine::plan::Plan;
use crate::engine::spec::{HostSpec, Role};
use clap::Subcommand;
use serde::Serialize;

/// The cluster's certificates.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List the control-plane certificates' expiry on every master; renew
    /// them all (`--renew`) or add names to the API server certificate
    /// (`--alt-names`).
    Cert {
        /// The cluster.
        #[arg(long = "cluster", value_name = "NAME", default_value = "default")]
        cluster: String,
        /// Renew every certificate (`kubeadm certs renew all`) and restart
        /// the control plane, one master at a time.
        #[arg(long, conflicts_with = "alt_names")]
        renew: bool,
        /// Add these IPs or DNS names to the API server certificate on every
        /// master (comma list); later runs keep them.
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        alt_names: Vec<String>,
        /// Do it without asking (needed when there is no terminal to ask on).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the listing as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// One master's certificates, as listed.
#[derive(Debug, Serialize)]
struct Listed {
    host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    certificates: Vec<inspect::Expiry>,
}

impl CertCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let CertCommand::Cert {
            cluster,
            renew,
            alt_names,
            yes,
            json,
        } = self;
        let pick = Pick {
            roles: vec![Role::Master],
            ips: None,
        };
        let (state, masters) = fleet::hosts(ctx, &cluster, &pick)?;
        if renew {
            confirm(
                yes,
                &format!(
                    "renew every control-plane certificate of cluster {cluster} and restart its control plane, one master at a time"
                ),
            )?;
            let plan = plan_renew(&masters, &state.admin_conf(), "renew")?;
            run_plan(ctx, &state, masters.clone(), plan, "tug cert --renew").await?;
            eprintln!("certificates renewed on {} master(s)", masters.len());
        } else if !alt_names.is_empty() {
            for name in &alt_names {
                check_san(name).map_err(|e| anyhow::anyhow!("--alt-names: {e}"))?;
            }
            confirm(
                yes,
                &format!(
                    "add {} to the API server certificate of every master of cluster {cluster} and restart each API server in turn",
                    alt_names.join(", ")
                ),
            )?;
            alt(ctx, &state, &alt_names).await?;
        }
        list(ctx, &state, &masters, json).await
    }
}

/// Add `names` to the API server certificates, then to the saved Clusterfile.
async fn alt(ctx: &Context, state: &ClusterState, names: &[String]) -> anyhow::Result<()> {
    let notify = notices();
    let mut cf = state.load_existing()?;
    let before = spec_of(ctx, &cf, state, notify.as_ref())?;
    let api = crate::kubeadm::effective(&before.kubeadm)?.api_version();
    add_cert_sans(&mut cf, api.as_str(), names)
        .map_err(|e| anyhow::anyhow!("{}: {e}", state.clusterfile_path().display()))?;
    let spec = spec_of(ctx, &cf, state, notify.as_ref())?;
    let plan = plan_alt_names(&spec)?;
    let masters: Vec<HostSpec> = spec.masters().cloned().collect();
    run_plan(ctx, state, masters.clone(), plan, "tug cert --alt-names").await?;
    state.save(&cf)?;
    eprintln!(
        "the API server certificate of {} master(s) now also names {}; kept in {}",
        masters.len(),
        names.join(", "),
        state.clusterfile_path().display()
    );
    Ok(())
}

/// Run `plan` on `masters` holding the cluster's lock; its journal is kept
/// after a failure (a re-run resumes) and removed after a success.
async fn run_plan(
    ctx: &Context,
    state: &ClusterState,
    masters: Vec<HostSpec>,
    plan: Plan,
    command: &str,
) -> anyhow::Result<()> {
    let _lock = ClusterLock::take(state.dir(), state.name(), command)?;
    let session = fleet::session(ctx, state, masters, plan);
    execute(ctx, &session.into()).await?;
    let _ = std::fs::remove_file(state.dir().join(FLEET_JOURNAL));
    Ok(())
}

/// Ask on the terminal whether to `what`; `--yes` skips it, and without a
/// terminal `--yes` is needed.
fn confirm(yes: bool, what: &str) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("tug cert would {what}: add --yes to do it without a terminal to ask on");
    }
    eprint!("{what}. Go on? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        anyhow::bail!("nothing changed");
    }
    Ok(())
}

/// Every certificate of every master, soonest first per master.
async fn list(
    ctx: &Context,
    state: &ClusterState,
    masters: &[HostSpec],
    json: bool,
) -> anyhow::Result<()> {
    let all = inspect::certificates(ctx, state, masters).await?;
    let listed: Vec<Listed> = all
        .into_iter()
        .map(|MasterCerts { host, certs }| match certs {
            Ok(certificates) => Listed {
                host: host.to_string(),
                error: None,
                certificates,
            },
            Err(e) => Listed {
                host: host.to_string(),
                error: Some(e),
                certificates: Vec::new(),
            },
        })
        .collect();
    for l in &listed {
        for c in &l.certificates {
            let host = crate::engine::plan::HostId::new(l.host.clone());
            if let Some(w) = inspect::expiry_warning(&host, c, state.name()) {
                eprintln!("warning: {w}");
            }
        }
    }
    if json {
        return print_json(&listed);
    }
    let mut rows = Vec::new();
    for l in &listed {
        if let Some(e) = &l.error {
            rows.push(vec![l.host.clone(), "-".into(), "-".into(), e.clone()]);
        }
        for c in &l.certificates {
            rows.push(vec![
                l.host.clone(),
                c.name.clone(),
                c.expires.format("%Y-%m-%d %H:%M UTC").to_string(),
                c.days_left.to_string(),
            ]);
        }
    }
    print!(
        "{}",
        table(&["MASTER", "CERTIFICATE", "EXPIRES", "DAYS LEFT"], &rows)
    );
    let failed = listed.iter().filter(|l| l.error.is_some()).count();
    if failed > 0 {
        anyhow::bail!("{failed} master(s) did not list their certificates");
    }
    Ok(())
}
