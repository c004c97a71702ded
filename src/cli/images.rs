//! Local store commands: images, inspect, tag, rmi, save, load.

use super::Context;
use super::output::{print_json, table};
use crate::engine::layer_caches;
use crate::image::archive;
use crate::image::cluster_image::ClusterImage;
use crate::image::oci::{Descriptor, Platform};
use crate::image::rootfs::RootfsCache;
use crate::image::store::StoredImage;
use crate::image::{Reference, Store};
use anyhow::{Context as _, bail};
use clap::Subcommand;
use std::path::PathBuf;

mod view;

/// Commands on the local image store.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// List the images in the local store.
    Images {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show an image's cluster-image contract: type, versions, scripts, env, layers.
    Inspect {
        /// Image name (short forms like labring/kubernetes:v1.25.0 work).
        #[arg(value_name = "REF")]
        reference: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// For a multi-arch image, which platform (os/arch[/variant]); default: this machine's.
        #[arg(long)]
        platform: Option<String>,
    },
    /// Give an image in the store another name.
    Tag {
        /// Existing image name or id.
        #[arg(value_name = "SRC")]
        source: String,
        /// The new name.
        #[arg(value_name = "DST")]
        target: String,
    },
    /// Remove image names, then the blobs and unpacked trees no name needs.
    #[command(
        long_about = "Remove image names, then the blobs and unpacked rootfs trees no \
        remaining name needs.\n\n\
        Each REF is a name (labring/kubernetes:v1.25.0) or an image id (prefix) as `tug images` \
        shows it. A name removes just that name. An id removes the image's only name; when \
        several names share that id, tug refuses unless --force is given, which removes \
        every name of that id. Nothing is removed when any REF is unknown or refused."
    )]
    Rmi {
        /// Names or image ids.
        #[arg(value_name = "REF", required = true)]
        references: Vec<String>,
        /// Remove every name of an image id, even when there are several.
        #[arg(long, short)]
        force: bool,
    },
    /// Write images to an OCI archive (a tar of an OCI image layout).
    #[command(
        long_about = "Write images to an OCI archive: a tar of an OCI image layout that \
        skopeo (oci-archive:FILE[:NAME]), `tug load` and other OCI tools read. Each image is \
        named in the archive by its full reference."
    )]
    Save {
        /// The archive to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Images to put in it.
        #[arg(value_name = "REF", required = true)]
        references: Vec<String>,
    },
    /// Load images from an OCI archive, a `docker save` tar, or an OCI layout directory.
    #[command(
        long_about = "Load images from an OCI archive (tug save, skopeo oci-archive:), \
        a `docker save` tar (optionally gzip-compressed), or an OCI image layout directory. \
        Every blob is checked against its digest; names come from the \
        org.opencontainers.image.ref.name annotations or docker's RepoTags. A damaged \
        archive leaves the store as it was."
    )]
    Load {
        /// The archive or layout directory to read.
        #[arg(short, long, value_name = "FILE")]
        input: PathBuf,
    },
}

impl ImagesCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || self.run_blocking(&ctx)).await?
    }

    fn run_blocking(self, ctx: &Context) -> anyhow::Result<()> {
        let store = ctx.store()?;
        match self {
            ImagesCommand::Images { json } => list(&store, json),
            ImagesCommand::Inspect {
                reference,
                json,
                platform,
            } => inspect(&store, &reference, json, platform.as_deref()),
            ImagesCommand::Tag { source, target } => {
                let (_, desc) = find_one(&store, &source)?;
                let dst: Reference = target.parse()?;
                store.set_name(&dst, clean(desc))?;
                println!("tagged {dst}");
                Ok(())
            }
            ImagesCommand::Rmi { references, force } => rmi(ctx, &store, &references, force),
            ImagesCommand::Save { output, references } => {
                let mut picked = Vec::new();
                for r in &references {
                    picked.push(find_one(&store, r)?);
                }
                archive::save(&store, &picked, &output)?;
                println!("saved {} image(s) to {}", picked.len(), output.display());
                Ok(())
            }
            ImagesCommand::Load { input } => {
                let loaded = archive::load(&store, &input)?;
                for name in &loaded {
                    println!("loaded {name}");
                }
                super::prescan::scan_new(ctx, &loaded)
            }
        }
    }
}

/// A descriptor as it is stored under a new name (without the old name).
fn clean(mut d: Descriptor) -> Descriptor {
    d.annotations.remove(crate::image::oci::ANNOTATION_REF_NAME);
    d
}

/// One image by name, or by id prefix when it is no known name.
fn find_one(store: &Store, arg: &str) -> anyhow::Result<(Reference, Descriptor)> {
    let mut hits = find(store, arg)?;
    if hits.iter().any(|(_, d)| d.digest != hits[0].1.digest) {
        let names: Vec<String> = hits.iter().map(|(r, _)| r.to_string()).collect();
        bail!(
            "{arg} names several images ({}); use a name",
            names.join(", ")
        );
    }
    Ok(hits.remove(0))
}

/// Every name `arg` stands for: the name itself, or all names of an image id.
fn find(store: &Store, arg: &str) -> anyhow::Result<Vec<(Reference, Descriptor)>> {
    if let Ok(r) = arg.parse::<Reference>()
        && let Ok(d) = store.resolve(&r)
    {
        return Ok(vec![(r, d)]);
    }
    let prefix = arg.strip_prefix("sha256:").unwrap_or(arg);
    let hexish = prefix.len() >= 3 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
    if hexish {
        let mut hits = Vec::new();
        for (r, d) in store.names()? {
            let id_hit = store
                .image(&r, None)
                .map(|i| i.id().hex().starts_with(prefix));
            if id_hit.unwrap_or(false) || d.digest.hex().starts_with(prefix) {
                hits.push((r, d));
            }
        }
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    let r: Reference = arg.parse()?;
    Err(crate::image::store::StoreError::NotFound(r.to_string()).into())
}

fn load_image(
    store: &Store,
    r: &Reference,
    platform: Option<&Platform>,
) -> anyhow::Result<StoredImage> {
    match store.image(r, platform) {
        Ok(i) => Ok(i),
        // An index without this machine's platform: show the first one present.
        Err(crate::image::store::StoreError::NoPlatform { .. }) if platform.is_none() => {
            let top = store.resolve(r)?;
            let idx: crate::image::oci::Index = store.read_json(&top.digest, "index")?;
            let first = idx
                .manifests
                .iter()
                .find_map(|d| d.platform.clone().filter(|_| store.has_blob(&d.digest)))
                .with_context(|| format!("{r} has no manifest in the store"))?;
            Ok(store.image(r, Some(&first))?)
        }
        Err(e) => Err(e.into()),
    }
}

fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut docs = Vec::new();
    let mut names = store.names()?;
    names.sort_by_key(|(r, _)| r.to_string());
    for (r, _) in names {
        let img = match load_image(store, &r, None) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("warning: {r}: {e:#}");
                continue;
            }
        };
        let ci = ClusterImage::from_stored(&img);
        let (kind, version) = match &ci {
            Ok(c) => (c.image_type.to_string(), c.version.clone()),
            Err(e) => {
                eprintln!("warning: {e}");
                ("?".to_string(), None)
            }
        };
        let tag = r.tag().unwrap_or("<none>").to_string();
        let created = img.config.created.clone();
        docs.push(serde_json::json!({
            "name": r.to_string(),
            "repository": r.name(),
            "tag": tag,
            "digest": img.manifest_digest,
            "id": img.id(),
            "type": kind,
            "version": version,
            "size": img.size(),
            "created": created,
        }));
        rows.push(vec![
            r.name(),
            tag,
            img.id().short().to_string(),
            kind,
            version.unwrap_or_else(|| "-".into()),
            bytesize::ByteSize(img.size()).to_string(),
            created
                .as_deref()
                .map(short_time)
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    if json {
        return print_json(&docs);
    }
    print!(
        "{}",
        table(
            &[
                "REPOSITORY",
                "TAG",
                "IMAGE ID",
                "TYPE",
                "VERSION",
                "SIZE",
                "CREATED"
            ],
            &rows
        )
    );
    Ok(())
}

fn short_time(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| s.to_string())
}

fn inspect(store: &Store, arg: &str, json: bool, platform: Option<&str>) -> anyhow::Result<()> {
    let platform = platform
        .map(|p| {
            Platform::parse(p)
                .with_context(|| format!("--platform {p:?}: expected os/arch[/variant]"))
        })
        .transpose()?;
    let (r, _) = find_one(store, arg)?;
    let img = load_image(store, &r, platform.as_ref())?;
    let ci = ClusterImage::from_stored(&img)?;
    if json {
        return print_json(&ci);
    }
    print!("{}", view::render(&ci));
    Ok(())
}

fn rmi(ctx: &Context, store: &Store, args: &[String], force: bool) -> anyhow::Result<()> {
    let mut doomed: Vec<Reference> = Vec::new();
    for a in args {
        let hits = find(store, a)?;
        let by_name = a
            .parse::<Reference>()
            .is_ok_and(|r| hits.iter().any(|(h, _)| *h == r));
        if hits.len() > 1 && !by_name && !force {
            let names: Vec<String> = hits.iter().map(|(r, _)| r.to_string()).collect();
            bail!(
                "image {a} has {} names ({}); remove them by name, or use --force to remove them all",
                hits.len(),
                names.join(", ")
            );
        }
        doomed.extend(hits.into_iter().map(|(r, _)| r));
    }
    doomed.sort();
    doomed.dedup();
    for r in &doomed {
        store.remove_name(r)?;
        println!("untagged {r}");
    }
    let (blobs, bytes) = store.gc()?;
    let trees = RootfsCache::new(ctx.paths.rootfs_cache()).prune(store)?;
    let (cached, cached_bytes) = layer_caches::prune(
        &ctx.paths.layer_scans(),
        &ctx.paths.layer_derived(),
        &store.live()?,
    )?;
    println!(
        "removed {blobs} blob(s), {} freed; {trees} unpacked tree(s) removed; \
         {cached} file(s) derived from their layers removed, {} freed",
        bytesize::ByteSize(bytes),
        bytesize::ByteSize(cached_bytes)
    );
    Ok(())
}
