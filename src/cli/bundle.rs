//! `tug bundle create|verify|load`: air-gapped bundles for a USB stick.
//! The work runs on a blocking thread; Ctrl-C sets the job's cancel flag,
//! waits for it to clean up and exits 130.

use super::cluster::ClusterArgs;
use super::{Cancelled, Context};
use crate::bundle::{
    self, Bundle, BundleError, CLUSTERFILE, Job, PLACEHOLDER_MASTER, PLACEHOLDER_NODE, Progress,
};
use crate::cluster::create::generate;
use crate::cluster::hosts::parse_ip_list;
use crate::cluster::problem::Severity;
use crate::image::oci::Descriptor;
use crate::image::store::StoreError;
use crate::image::{Reference, Store};
use anyhow::Context as _;
use bytesize::ByteSize;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Air-gapped bundles.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Make, check and load air-gapped bundles (tug, images, Clusterfile, checksums).
    #[command(subcommand)]
    Bundle(BundleAction),
}

/// What to do with a bundle.
#[derive(Debug, Subcommand)]
pub enum BundleAction {
    /// Write a bundle for a USB stick: this tug binary, the images as an OCI
    /// archive, a Clusterfile template, a README and SHA256SUMS.
    #[command(
        long_about = "Write a bundle for a USB stick: this tug binary, the images as an OCI \
        archive (images.oci.tar), a Clusterfile template, README.txt and SHA256SUMS (checked \
        with `sha256sum -c SHA256SUMS`). An output ending in .tar gets one tar holding the \
        same files in a directory of that name. The bundle appears only once complete.\n\n\
        Host flags fill the Clusterfile; without --masters it holds placeholder addresses \
        (192.0.2.x) to replace. A password given with -p is never written into the bundle."
    )]
    Create(Box<CreateArgs>),
    /// Check every file of a bundle against its SHA256SUMS.
    Verify {
        /// The bundle directory or tar [default: the directory this tug runs from].
        #[arg(value_name = "DIR|FILE.tar")]
        path: Option<PathBuf>,
    },
    /// Verify a bundle, then load its images into the local store (no network).
    Load {
        /// The bundle directory or tar [default: the directory this tug runs from].
        #[arg(value_name = "DIR|FILE.tar")]
        path: Option<PathBuf>,
    },
}

/// `tug bundle create` flags.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The bundle to write: a directory, or FILE.tar for one tar.
    #[arg(short = 'o', long = "output", value_name = "DIR|FILE.tar")]
    pub output: PathBuf,
    /// Images from the local store, the Kubernetes (rootfs) image first.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
    /// Hosts, SSH and env for the Clusterfile template.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl BundleCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let BundleCommand::Bundle(action) = self;
        match action {
            BundleAction::Create(args) => create(ctx, *args).await,
            BundleAction::Verify { path } => {
                let path = bundle_path(path)?;
                let shown = path.clone();
                let v = run_job(ctx, move |job| bundle::verify(&path, job)).await?;
                for (name, size) in &v.files {
                    println!("ok      {name} ({})", ByteSize::b(*size).display().iec());
                }
                for name in &v.edited {
                    println!("edited  {name} (changed since the bundle was made; apply checks it)");
                }
                println!("bundle {} is intact", shown.display());
                Ok(())
            }
            BundleAction::Load { path } => {
                let path = bundle_path(path)?;
                let store = ctx.store()?;
                let at = path.clone();
                let loaded = run_job(ctx, move |job| bundle::load(&store, &at, job)).await?;
                for name in &loaded.images {
                    println!("loaded {name}");
                }
                super::prescan::scan_new(ctx, &loaded.images)?;
                println!("next: {}", next_step(&path));
                Ok(())
            }
        }
    }
}

/// The command to run after a load.
fn next_step(path: &Path) -> String {
    let exe = std::env::current_exe()
        .map(|e| e.display().to_string())
        .unwrap_or_else(|_| "tug".into());
    if path.is_dir() {
        let cf = path.join(CLUSTERFILE);
        format!(
            "edit the hosts in {}, then run: {exe} apply -f {}",
            cf.display(),
            cf.display()
        )
    } else {
        format!(
            "extract the bundle (tar xf {}), edit the hosts in its {CLUSTERFILE}, then run: {exe} apply -f <that {CLUSTERFILE}>",
            path.display()
        )
    }
}

/// The bundle named, or the directory of the running binary.
fn bundle_path(path: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match path {
        Some(p) => Ok(p),
        None => bundle::beside_binary().with_context(|| {
            let exe = std::env::current_exe().unwrap_or_default();
            format!(
                "{}: no bundle next to this tug (no {} and {}); give the bundle's path",
                exe.parent().unwrap_or(Path::new(".")).display(),
                bundle::SUMS,
                bundle::IMAGES
            )
        }),
    }
}

async fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let CreateArgs {
        output,
        images,
        cluster,
    } = args;
    let store = ctx.store()?;
    let picked = pick_images(&store, &images)?;
    let mut notes = Vec::new();
    let images = picked.iter().map(|(r, _)| r.to_string()).collect();
    let mut new = cluster.new_cluster(ctx, images, None)?;
    let ssh = &mut new.ssh;
    if ssh.passwd.take().is_some()
        | ssh.pk_passwd.take().is_some()
        | ssh.bastion_passwd.take().is_some()
    {
        let note = "the SSH password/passphrase given was left out: add spec.ssh.passwd (or pkPasswd) to the Clusterfile on the air-gapped side".to_string();
        eprintln!("note: {note}");
        notes.push(note);
    }
    let placeholders = new.masters.is_empty();
    if placeholders {
        new.masters = parse_ip_list(PLACEHOLDER_MASTER)?;
        if new.nodes.is_empty() {
            new.nodes = parse_ip_list(PLACEHOLDER_NODE)?;
        }
    }
    let clusterfile = generate(new)?;
    for p in clusterfile.problems() {
        match p.severity {
            Severity::Error => anyhow::bail!("{p}"),
            Severity::Warning => eprintln!("warning: {p}"),
        }
    }
    let binary = std::env::current_exe().context("cannot find the running tug binary")?;
    let bundle = Bundle {
        images: picked,
        clusterfile,
        placeholders,
        notes,
        binary,
    };
    let out = output.clone();
    let sums = run_job(ctx, move |job| bundle::create(&store, &bundle, &out, job)).await?;
    println!("wrote bundle {}:", output.display());
    for (_, name) in &sums.entries {
        println!("  {name}");
    }
    println!("  {}", bundle::SUMS);
    if output.is_dir() {
        println!(
            "on the air-gapped side: {}/tug bundle load",
            output.display()
        );
    } else {
        println!("on the air-gapped side: tar xf <the tar>, then <its directory>/tug bundle load");
    }
    Ok(())
}

/// Each image by name from the store, with the name it is stored under.
fn pick_images(store: &Store, images: &[String]) -> anyhow::Result<Vec<(Reference, Descriptor)>> {
    let names = store.names()?;
    let mut picked: Vec<(Reference, Descriptor)> = Vec::new();
    for arg in images {
        let r: Reference = arg.parse().with_context(|| format!("image {arg}"))?;
        let hit = names.iter().find(|(n, _)| *n == r).or_else(|| {
            let d = r.digest()?;
            names
                .iter()
                .find(|(n, desc)| n.name() == r.name() && desc.digest == *d)
        });
        let Some(hit) = hit else {
            return Err(StoreError::NotFound(r.to_string()))
                .with_context(|| format!("image {arg}: pull or build it before bundling"));
        };
        if !picked.iter().any(|(n, _)| *n == hit.0) {
            picked.push(hit.clone());
        }
    }
    Ok(picked)
}

/// Run a bundle job on a blocking thread with progress; Ctrl-C cancels it
/// and returns [`Cancelled`] once it has cleaned up.
async fn run_job<T: Send + 'static>(
    ctx: &Context,
    work: impl FnOnce(Job<'_>) -> Result<T, BundleError> + Send + 'static,
) -> anyhow::Result<T> {
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot watch for Ctrl-C")?;
    let cancel = Arc::new(AtomicBool::new(false));
    let shown = Arc::new(Shown::new(ctx.fancy));
    let (c, s) = (cancel.clone(), shown.clone());
    let mut task = tokio::task::spawn_blocking(move || {
        work(Job {
            progress: &*s,
            cancel: &c,
        })
    });
    let result = tokio::select! {
        done = &mut task => done?,
        _ = interrupt.recv() => {
            cancel.store(true, Ordering::Relaxed);
            let _ = task.await;
            Err(BundleError::Cancelled)
        }
    };
    shown.clear();
    match result {
        Err(BundleError::Cancelled) => Err(Cancelled.into()),
        other => Ok(other?),
    }
}

/// Progress on a terminal (a bar) or as plain lines (one per file).
pub(super) struct Shown {
    bar: Option<ProgressBar>,
}

impl Shown {
    pub(super) fn new(fancy: bool) -> Shown {
        let bar = fancy.then(|| {
            let style = ProgressStyle::with_template(
                "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            ProgressBar::new(0).with_style(style)
        });
        Shown { bar }
    }

    pub(super) fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Shown {
    fn start(&self, verb: &str, file: &str, total: u64) {
        match &self.bar {
            Some(b) => {
                b.set_length(total);
                b.set_position(0);
                b.set_message(format!("{verb} {file}"));
            }
            None => eprintln!("{verb} {file} ({})", ByteSize::b(total).display().iec()),
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }

    fn finish(&self, _file: &str) {}
}
