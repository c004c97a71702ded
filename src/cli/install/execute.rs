//! Running a plan from the command line: connect to the hosts, run the
//! plan with Ctrl-C as its cancellation, and show its events as a line per
//! host on a terminal or as plain lines otherwise.

use super::progress::{CANCELLING, Dashboard};
use crate::cli::Context;
use crate::engine::event::{PlainPrinter, StageDone};
use crate::engine::journal::Journal;
use crate::engine::plan::{HostId, Plan};
use crate::engine::runner::{RunError, RunOptions, Runner};
use crate::engine::spec::{ClusterSpec, HostSpec};
use crate::engine::transport::Transport;
use crate::engine::transport::select::{Unreachable, connect};
use crate::ssh::{HostKeyPolicy, KnownHosts};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A transport for every host of `hosts` plus the jump host, connected as
/// an install connects: this machine's addresses locally, the others over
/// SSH with the known_hosts policy of `ctx`, each newly trusted key said.
pub(super) async fn connect_hosts(
    ctx: &Context,
    hosts: &[HostSpec],
    unreachable: Unreachable,
) -> anyhow::Result<HashMap<HostId, Arc<dyn Transport>>> {
    let known = KnownHosts::new(ctx.paths.known_hosts());
    let policy = if ctx.strict_host_keys {
        HostKeyPolicy::Strict
    } else {
        HostKeyPolicy::AcceptNew
    };
    let transports = connect(hosts, known, policy, unreachable, |h, k| {
        eprintln!(
            "[{}] new host key {} {} recorded (trusted on first use)",
            h.id, k.algorithm, k.fingerprint
        );
    })
    .await?;
    Ok(transports)
}

/// Run `plan` over the hosts of `spec`, showing its events (a line per host
/// on a terminal, plain lines otherwise) and reporting finished stages to
/// `stages`.
pub(super) async fn execute(
    ctx: &Context,
    spec: &ClusterSpec,
    plan: &Plan,
    logs: PathBuf,
    mut journal: Journal,
    unreachable: Unreachable,
    stages: Option<UnboundedSender<StageDone>>,
) -> anyhow::Result<()> {
    let hosts = connect_hosts(ctx, &spec.hosts, unreachable).await?;
    // The sudo (login) passwords are masked in every line the hosts print.
    let options = RunOptions {
        secrets: spec.login_passwords(),
        ..RunOptions::default()
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    let fancy = ctx.fancy;
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            // On a terminal the dashboard says it above its lines.
            if !fancy {
                eprintln!("{CANCELLING}");
            }
            on_ctrl_c.cancel();
        }
    });
    let printer = if fancy {
        tokio::spawn(Dashboard::stderr(plan).show_all(rx, cancel.clone()))
    } else {
        tokio::spawn(async move { PlainPrinter::new(std::io::stderr()).print_all(rx).await })
    };
    let mut runner = Runner::new(hosts, logs, tx)
        .with_options(options)
        .with_cancel(cancel);
    if let Some(stages) = stages {
        runner = runner.with_stage_reports(stages);
    }
    let result = runner.run(plan, &mut journal).await;
    drop(runner);
    watcher.abort();
    printer.await??;
    match result {
        Ok(_) if fancy => Ok(()),
        Ok(report) => {
            for (host, bytes) in &report.bytes_sent {
                if *bytes > 0 {
                    eprintln!("sent {} to {host}", bytesize::ByteSize(*bytes));
                }
            }
            Ok(())
        }
        Err(RunError::Cancelled) => Err(crate::cli::Cancelled.into()),
        Err(e) => Err(e.into()),
    }
}
