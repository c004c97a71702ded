//! `tug build`: a cluster image from a Kubefile, without running anything
//! (lite build). Discovered container images come from the build cache
//! (`<data>/build-cache`, an OCI layout); pulling into it is not wired in
//! yet, so a build that needs images the cache lacks stops and says so.

use super::Context;
use crate::build::{builder, discover, kubefile};
use crate::image::oci::Platform;
use crate::image::store::StoreError;
use crate::image::{Reference, Store};
use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The build command.
#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Build a cluster image from a Kubefile (lite build: nothing is run).
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
    /// Platform of the image and of the images it carries (os/arch).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
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
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || build(&ctx, args)).await?
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

const NO_PULL: &str = "needs the registry client, which tug build does not have yet";

fn build(ctx: &Context, args: BuildArgs) -> anyhow::Result<()> {
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
    let path = kubefile::locate(&args.context, args.file.as_deref())?;
    let kf = kubefile::load(&path, &build_args(&args.build_args)?)?;
    for w in &kf.warnings {
        eprintln!("warning: {w}");
    }
    let store = ctx.store()?;
    let mut prepared =
        builder::prepare(&store, &args.context, &kf, &discover::Options::from_env())?;
    for w in &prepared.discovery.warnings {
        eprintln!("warning: {w}");
    }
    if args.list_images {
        for f in &prepared.discovery.images {
            let from: Vec<String> = f.origins.iter().map(|o| o.to_string()).collect();
            println!("{}\t{}", f.reference, from.join(", "));
        }
        return Ok(());
    }
    let name = name.expect("checked above");
    let wanted = match (&args.platform, &kf.base) {
        (Some(p), _) => Some(parse_platform(p, "--platform")?),
        (
            None,
            kubefile::Base::Image {
                platform: Some(p), ..
            },
        ) => Some(parse_platform(p, "FROM --platform")?),
        _ => None,
    };
    let base = match &kf.base {
        kubefile::Base::Scratch => None,
        kubefile::Base::Image { reference, .. } => match store.image(reference, wanted.as_ref()) {
            Ok(img) => Some(img),
            Err(StoreError::NotFound(_)) => {
                bail!(
                    "the base image {reference} is not in the local store, and pulling it {NO_PULL}; load it first (tug load) or build FROM scratch"
                )
            }
            Err(e) => return Err(e.into()),
        },
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
    let cache = Store::open(&ctx.paths.data.join("build-cache"))?;
    let missing = builder::missing_from(&cache, &prepared);
    if !missing.is_empty() {
        let list: Vec<String> = missing.into_iter().map(builder::describe).collect();
        bail!("pulling {} {NO_PULL}", list.join("; "));
    }
    eprintln!(
        "building {name} from {} ({} container images)",
        path.display(),
        prepared.discovery.images.len()
    );
    let built = builder::assemble(
        &store,
        &cache,
        &name,
        &kf,
        &prepared,
        base.as_ref(),
        &platform,
    )?;
    println!("{}@{}", built.reference, built.manifest.digest);
    Ok(())
}
