//! Registry commands: pull, push, login, logout.

use super::{Cancelled, Context};
use crate::app::registry::{client, summary};
use crate::image::auth::{self, Credentials};
use crate::image::oci::Platform;
use crate::image::registry::Progress;
use crate::image::{Digest, Reference};
use anyhow::{Context as _, bail};
use bytesize::ByteSize;
use clap::Subcommand;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Commands that talk to registries.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Pull images from their registries into the local store.
    ///
    /// Blobs already in the store are not fetched again, so an interrupted
    /// pull resumes. A multi-arch image resolves to the platforms asked for
    /// (default: this machine's).
    Pull {
        /// Images, e.g. labring/kubernetes:v1.25.0 or 127.0.0.1:5000/a/b:v1.
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
        /// Platforms to pull from a multi-arch image, e.g. linux/amd64,linux/arm64.
        #[arg(long, value_delimiter = ',', value_name = "OS/ARCH")]
        platform: Vec<String>,
    },
    /// Push an image from the local store to a registry.
    ///
    /// Blobs the registry already has are not sent again; manifests keep
    /// their exact bytes, so the pushed digest equals the local one.
    Push {
        /// The local image.
        #[arg(value_name = "IMAGE")]
        image: String,
        /// Where to push it (default: the image's own name).
        #[arg(value_name = "DEST")]
        dest: Option<String>,
        /// Upload each blob in one request instead of in chunks (for
        /// registries that mishandle chunked uploads).
        #[arg(long)]
        monolithic: bool,
    },
    /// Log in to a registry; the credentials are checked before they are saved.
    Login {
        /// The registry, e.g. docker.io or 127.0.0.1:5000.
        registry: String,
        /// User name.
        #[arg(short, long)]
        username: String,
        /// Password (prefer --password-stdin: a flag is visible in `ps`).
        #[arg(short, long, conflicts_with = "password_stdin", value_parser = secret)]
        password: Option<SecretString>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove saved credentials for a registry.
    Logout {
        /// The registry.
        registry: String,
    },
}

impl RegistryCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            RegistryCommand::Pull { images, platform } => pull(ctx, &images, &platform).await,
            RegistryCommand::Push {
                image,
                dest,
                monolithic,
            } => push(ctx, &image, dest.as_deref(), monolithic).await,
            RegistryCommand::Login {
                registry,
                username,
                password,
                password_stdin,
            } => login(ctx, &registry, username, password, password_stdin).await,
            RegistryCommand::Logout { registry } => logout(ctx, &registry),
        }
    }
}

/// Progress for transfers: bars on a terminal, counting only otherwise.
pub(super) fn progress(ctx: &Context) -> Arc<Reporter> {
    Arc::new(Reporter {
        bars: ctx.fancy.then(MultiProgress::new),
        ..Default::default()
    })
}

async fn pull(ctx: &Context, images: &[String], platforms: &[String]) -> anyhow::Result<()> {
    let refs = images
        .iter()
        .map(|i| i.parse::<Reference>())
        .collect::<Result<Vec<_>, _>>()?;
    let platforms = platforms
        .iter()
        .map(|p| {
            Platform::parse(p)
                .with_context(|| format!("invalid --platform {p:?}: expected os/arch[/variant]"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = ctx.store()?;
    let client = client(ctx, false);
    for r in &refs {
        let pulled = cancellable(crate::app::registry::pull(
            ctx,
            &client,
            r,
            &platforms,
            &store,
            progress(ctx),
        ))
        .await??;
        println!("{}", summary(&pulled));
    }
    super::prescan::scan_new(ctx, &refs)
}

/// Run a transfer until it ends or Ctrl-C: then it is dropped, which stops
/// its downloads and removes their unfinished temp files.
pub(super) async fn cancellable<T>(work: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::select! {
        done = work => Ok(done),
        _ = tokio::signal::ctrl_c() => Err(Cancelled.into()),
    }
}

async fn push(
    ctx: &Context,
    image: &str,
    dest: Option<&str>,
    monolithic: bool,
) -> anyhow::Result<()> {
    let src: Reference = image.parse()?;
    let dest: Reference = match dest {
        Some(d) => d.parse()?,
        None => src.clone(),
    };
    let store = ctx.store()?;
    let reporter = progress(ctx);
    let client = client(ctx, monolithic);
    let digest: Digest = cancellable(client.push(&store, &src, &dest, reporter.clone())).await??;
    let sent = reporter.started.load(Ordering::Relaxed);
    let bytes = reporter.bytes.load(Ordering::Relaxed);
    println!(
        "pushed {dest} {digest} ({sent} blobs sent, {})",
        ByteSize::b(bytes).display().iec()
    );
    Ok(())
}

/// `host[:port]` from what the user typed (a scheme or path is tolerated).
fn registry_host(input: &str) -> anyhow::Result<String> {
    let host = input
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    let probe: Reference = format!("{host}/probe")
        .parse()
        .with_context(|| format!("invalid registry {input:?}"))?;
    if !matches!(probe.repository(), "probe" | "library/probe") {
        bail!("invalid registry {input:?}: expected a host name, e.g. docker.io or 127.0.0.1:5000");
    }
    Ok(probe.registry().to_string())
}

async fn login(
    ctx: &Context,
    registry: &str,
    username: String,
    password: Option<SecretString>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let registry = registry_host(registry)?;
    let password = match (password, password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            let mut p = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut p)
                .context("read the password from standard input")?;
            SecretString::from(p.trim_end_matches(['\n', '\r']))
        }
        (None, false) => bail!("give the password with -p PASSWORD or --password-stdin"),
    };
    if password.expose_secret().is_empty() {
        bail!("the password is empty");
    }
    let creds = Credentials { username, password };
    client(ctx, false).check_login(&registry, &creds).await?;
    let file = ctx.paths.auth_file();
    auth::save(&file, &registry, &creds)?;
    println!(
        "logged in to {registry} (credentials saved in {})",
        file.display()
    );
    Ok(())
}

fn logout(ctx: &Context, registry: &str) -> anyhow::Result<()> {
    let registry = registry_host(registry)?;
    if auth::remove(&ctx.paths.auth_file(), &registry)? {
        println!("logged out of {registry}");
    } else {
        println!("not logged in to {registry}");
    }
    Ok(())
}

/// `-p` values go straight into a secret (never shown by `Debug`).
fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(s))
}

/// Counts what moved, and on a terminal draws a bar per blob.
#[derive(Default)]
pub(super) struct Reporter {
    bars: Option<MultiProgress>,
    active: Mutex<HashMap<Digest, ProgressBar>>,
    started: AtomicUsize,
    bytes: AtomicU64,
}

impl Reporter {
    fn with_bar(&self, digest: &Digest, f: impl FnOnce(&ProgressBar)) {
        if let Some(b) = self
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
        {
            f(b);
        }
    }
}

impl Progress for Reporter {
    fn blob_started(&self, digest: &Digest, size: u64) {
        self.started.fetch_add(1, Ordering::Relaxed);
        let Some(multi) = &self.bars else { return };
        let bar = multi.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(digest.short().to_string());
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.clone(), bar);
    }

    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.with_bar(digest, |b| b.inc(bytes));
    }

    fn blob_finished(&self, digest: &Digest) {
        self.with_bar(digest, ProgressBar::finish_and_clear);
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts_are_normalised() {
        assert_eq!(registry_host("127.0.0.1:5000").unwrap(), "127.0.0.1:5000");
        assert_eq!(
            registry_host("https://index.docker.io/v1/").unwrap(),
            "docker.io"
        );
        assert!(registry_host("UPPER CASE").is_err());
    }
}
