//! `tug demo` on the command line: its flags, building the demo image into
//! the store the first time, and the install printed as plain lines when
//! there is no terminal (on a terminal the binary hands the run to the
//! wizard's screens; see [`crate::app::demo`]).

use super::Context;
use super::build::{BuildArgs, BuildCommand};
use super::printer::PlainPrinter;
use crate::app::demo::{DEMO_IMAGE, Demo, install, write_context};
use crate::app::session::Outcome;
use crate::image::Reference;
use anyhow::Context as _;
use clap::Args;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `tug demo` flags.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated link speed to each host, in KiB/s (hosts vary around it).
    #[arg(long, value_name = "KIB", default_value_t = 2048)]
    pub speed: u64,
    /// About how long each simulated command takes, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub pace: u64,
    /// Walk the whole wizard (image, hosts, SSH, configuration, review,
    /// install) over the simulated hosts; needs a terminal.
    #[arg(long)]
    pub wizard: bool,
}

impl DemoArgs {
    /// The simulated hosts these flags describe.
    pub fn demo(&self) -> Demo {
        Demo {
            speed: self.speed,
            pace: Duration::from_millis(self.pace),
        }
    }
}

/// Build the demo image into the store unless it is there.
pub async fn ensure_image(ctx: &Context) -> anyhow::Result<()> {
    let name: Reference = DEMO_IMAGE.parse()?;
    if ctx.store()?.resolve(&name).is_ok() {
        return Ok(());
    }
    eprintln!("building the demo image {DEMO_IMAGE} (first run only)");
    let dir = ctx.paths.data.join("demo-context");
    write_context(&dir)?;
    let built = BuildCommand::Build(BuildArgs {
        tag: Some(DEMO_IMAGE.into()),
        file: None,
        platform: Vec::new(),
        build_args: Vec::new(),
        list_images: false,
        context: dir.clone(),
    })
    .run(ctx)
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    built.context("building the demo image")
}

/// Without a terminal: the demo's install, printed as plain lines.
pub async fn plain(ctx: &Context, demo: Demo) -> anyhow::Result<()> {
    let run = install(ctx, demo)?;
    eprintln!("demo: simulated hosts (nothing is contacted)");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let verbose = ctx.verbose;
    let printer = tokio::spawn(async move {
        PlainPrinter::new(std::io::stderr(), verbose)
            .print_all(rx)
            .await
    });
    let cancel = CancellationToken::new();
    let watcher = tokio::spawn(super::install::watch_ctrl_c(
        false,
        cancel.clone(),
        CancellationToken::new(),
    ));
    let outcome = run.session.run(tx, cancel, super::notices()).await;
    watcher.abort();
    printer.await??;
    match outcome {
        Outcome::Done(_) => {
            eprintln!(
                "demo cluster is ready (simulated); kubeconfig: {}",
                run.dir.join("admin.conf").display()
            );
            Ok(())
        }
        Outcome::Failed(f) => {
            let first = f.first().map(ToString::to_string).unwrap_or_default();
            anyhow::bail!("the demo failed: {first}");
        }
        Outcome::Cancelled => Err(crate::app::Cancelled.into()),
        Outcome::Error(e) => Err(anyhow::anyhow!("{e}").context("the demo did not finish")),
    }
}
