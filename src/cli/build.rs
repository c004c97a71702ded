//! `tug build`: a cluster image from a Kubefile, without running anything
//! (lite build). A missing FROM image is pulled into the store; discovered
//! container images are pulled into the build cache (`<data>/build-cache`,
//! an OCI layout) unless it already has them, a few at a time, and written
//! from there into the new image's `registry/`.

use super::Context;
use super::registry::{cancellable, progress};
use crate::app::registry::{client, summary};
use crate::build::builder::{self, Prepared};
use crate::build::kubefile::{self, Base, Kubefile};
use crate::build::{discover, fetch};
use crate::image::oci::Platform;
use crate::image::registry::{Progress, PulledImage, RegistryClient};
use crate::image::store::{StoreError, StoredImage};
use crate::image::{Reference, Store};
use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The build command.
#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Build a cluster image from a Kubefile (lite build: nothing is run).
    ///
    /// The FROM image is pulled when the local store lacks it. Container
    /// images found in manifests/, charts/, manifests/imageList and
    /// images/shim/ are pulled (4 at a time) into the build cache, unless it
    /// or the base image's registry already has them, and written into the
    /// new image's registry/ layer.
    Build(BuildArgs),
}

/// `tug build` flags.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name of the new image (NAME:TAG).
    #[arg(short = 't', long = "tag", value_name = "NAME:TAG")]
    pub tag: Option<String>,
    /// The Kubefile (default: Kubefile, Sealfile or Dockerfile in CONTEXT).
    #[arg(short = 'f', long = "file", value_name = "KUBEFILE")]
    pub file: Option<PathBuf>,
    /// Platforms of the images the cluster image carries, e.g.
    /// linux/amd64,linux/arm64 (default: the base image's, else this
    /// machine's). The first is the cluster image's own platform and the
    /// one a missing FROM image is pulled for.
    #[arg(long, value_delimiter = ',', value_name = "OS/ARCH")]
    pub platform: Vec<String>,
    /// Set an ARG (K=V, or K to take it from the environment); repeatable.
    #[arg(long = "build-arg", value_name = "K=V")]
    pub build_args: Vec<String>,
    /// Print the container images the build would carry, with where each
    /// was found, and build nothing.
    #[arg(long)]
    pub list_images: bool,
    /// The build context directory.
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,
}

impl BuildCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let BuildCommand::Build(args) = self;
        build(ctx, args).await
    }
}

fn build_args(raw: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    raw.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None if !a.is_empty() => std::env::var(a)
                .map(|v| (a.clone(), v))
                .with_context(|| format!("--build-arg {a}: no '=' and no {a} in the environment")),
            _ => bail!("--build-arg {a:?}: expected K=V"),
        })
        .collect()
}

fn parse_platform(p: &str, what: &str) -> anyhow::Result<Platform> {
    Platform::parse(p).with_context(|| format!("{what} {p:?}: expected OS/ARCH, e.g. linux/amd64"))
}

/// Run blocking work (file walks, helm, layer writing) off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// The Kubefile read and the context scanned.
struct Scanned {
    path: PathBuf,
    kf: Kubefile,
    prepared: Prepared,
}

fn scan(store: &Store, args: &BuildArgs) -> anyhow::Result<Scanned> {
    let path = kubefile::locate(&args.context, args.file.as_deref())?;
    let kf = kubefile::load(&path, &build_args(&args.build_args)?)?;
    for w in &kf.warnings {
        eprintln!("warning: {w}");
    }
    let prepared = builder::prepare(store, &args.context, &kf, &discover::Options::from_env())?;
    for w in &prepared.discovery.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Scanned { path, kf, prepared })
}

async fn build(ctx: &Context, args: BuildArgs) -> anyhow::Result<()> {
    if !args.context.is_dir() {
        bail!(
            "build context {} is not a directory",
            args.context.display()
        );
    }
    let name: Option<Reference> = args.tag.as_deref().map(str::parse).transpose()?;
    if name.is_none() && !args.list_images {
        bail!("tug build needs -t NAME:TAG (or --list-images to only list images)");
    }
    let platforms = args
        .platform
        .iter()
        .map(|p| parse_platform(p, "--platform"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = ctx.store()?;
    let (store, args, scanned) = blocking(move || {
        let scanned = scan(&store, &args)?;
        Ok((store, args, scanned))
    })
    .await?;
    let Scanned {
        path,
        kf,
        mut prepared,
    } = scanned;
    if args.list_images {
        for f in &prepared.discovery.images {
            let from: Vec<String> = f.origins.iter().map(|o| o.to_string()).collect();
            println!("{}\t{}", f.reference, from.join(", "));
        }
        return Ok(());
    }
    let name = name.expect("checked above");
    let wanted = match (platforms.first(), &kf.base) {
        (Some(p), _) => Some(p.clone()),
        (
            None,
            Base::Image {
                platform: Some(p), ..
            },
        ) => Some(parse_platform(p, "FROM --platform")?),
        _ => None,
    };
    let client = client(ctx, false);
    let reporter = progress(ctx);
    let base = match &kf.base {
        Base::Scratch => None,
        Base::Image { reference, .. } => {
            Some(base_image(ctx, &client, &store, reference, wanted.as_ref(), &reporter).await?)
        }
    };
    if let Some(b) = &base {
        let held = prepared.drop_held_by(&store, b)?;
        if !held.is_empty() {
            eprintln!(
                "{} images are already in the base image's registry",
                held.len()
            );
        }
    }
    let platform = wanted
        .or_else(|| {
            base.as_ref().map(|b| Platform {
                architecture: b.config.architecture.clone(),
                os: b.config.os.clone(),
                variant: b.config.variant.clone(),
                extra: Default::default(),
            })
        })
        .unwrap_or_else(Platform::current);
    let carried = if platforms.is_empty() {
        vec![platform.clone()]
    } else {
        platforms
    };
    let cache = Store::open(&ctx.paths.data.join("build-cache"))?;
    let missing = builder::missing_from(&cache, &prepared, &carried);
    if !missing.is_empty() {
        eprintln!(
            "pulling {} of {} container images into the build cache",
            missing.len(),
            prepared.discovery.images.len()
        );
        let fancy = ctx.fancy;
        let pulls = fetch::pull_missing(
            &client,
            &cache,
            &missing,
            &carried,
            fetch::PARALLEL_IMAGES,
            reporter.clone(),
            |p: &PulledImage| {
                if !fancy {
                    eprintln!("{}", summary(p));
                }
            },
        );
        cancellable(pulls).await??;
    }
    eprintln!(
        "building {name} from {} ({} container images)",
        path.display(),
        prepared.discovery.images.len()
    );
    let built = blocking(move || {
        Ok(builder::assemble(
            &store,
            &cache,
            &name,
            &kf,
            &prepared,
            base.as_ref(),
            &platform,
        )?)
    })
    .await?;
    println!("{}@{}", built.reference, built.manifest.digest);
    super::prescan::scan_new(ctx, std::slice::from_ref(&built.reference))
}

/// The FROM image from the store, pulled first when the store lacks it
/// (or lacks the wanted platform of it).
async fn base_image(
    ctx: &Context,
    client: &RegistryClient,
    store: &Store,
    reference: &Reference,
    platform: Option<&Platform>,
    reporter: &Arc<impl Progress + 'static>,
) -> anyhow::Result<StoredImage> {
    match store.image(reference, platform) {
        Ok(img) => return Ok(img),
        Err(StoreError::NotFound(_) | StoreError::NoPlatform { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let platforms: Vec<Platform> = platform.into_iter().cloned().collect();
    let pulled = cancellable(client.pull(reference, &platforms, store, reporter.clone()))
        .await?
        .with_context(|| format!("pull the base image {reference} (FROM)"))?;
    if !ctx.fancy {
        eprintln!("{}", summary(&pulled));
    }
    Ok(store.image(reference, platform)?)
}
