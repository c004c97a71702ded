//! Images come to an install by themselves, as `sealos run` brings them:
//! an image archive named in place of an image (`tug run ./k8s.tar`) is
//! loaded and its names take its place; an image the store lacks comes
//! from the bundle next to the running `tug` when there is one (verified
//! first, no network: the air-gapped case), else it is pulled with tug's
//! saved login. Pulls take the platform the Clusterfile's arch roles name,
//! else this machine's.

use super::{Context, Notice, Notify, prescan, registry};
use crate::bundle::{self, Job};
use crate::cluster::clusterfile::Clusterfile;
use crate::image::oci::Platform;
use crate::image::registry::Progress;
use crate::image::{Reference, Store, archive};
use anyhow::Context as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// How the slow parts show their progress (each face its own way).
#[derive(Clone)]
pub struct Shown {
    /// Blobs pulled from a registry.
    pub pulls: Arc<dyn Progress>,
    /// A bundle verified and loaded.
    pub bundle: Arc<dyn bundle::Progress + Send>,
}

/// Bring every image `cf` names into the store, replacing an archive's
/// path by the names it holds; what was brought is told as notices.
pub async fn bring(
    ctx: &Context,
    cf: &mut Clusterfile,
    shown: &Shown,
    notify: Notify<'_>,
) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let mut names = Vec::new();
    let mut new = Vec::new();
    for image in cf.cluster.spec.image.clone() {
        if !Path::new(&image).is_file() {
            names.push(image);
            continue;
        }
        let loaded = load_archive(&store, &image).await?;
        notify(Notice::Note(format!(
            "loaded {} from the archive {image}",
            shown_list(&loaded)
        )));
        names.extend(loaded.iter().map(ToString::to_string));
        new.extend(loaded);
    }
    cf.cluster.spec.image = names;
    let mut missing = missing(&store, &cf.cluster.spec.image)?;
    if !missing.is_empty()
        && let Some(dir) = bundle::beside_binary()
    {
        let loaded = load_bundle(&store, &dir, shown.bundle.clone()).await?;
        notify(Notice::Note(format!(
            "loaded {} from the bundle at {} (verified)",
            shown_list(&loaded),
            dir.display()
        )));
        new.extend(loaded);
        missing = self::missing(&store, &cf.cluster.spec.image)?;
    }
    let platforms = platforms(cf);
    let client = registry::client(ctx, false);
    for r in missing {
        let pulled = registry::pull(ctx, &client, &r, &platforms, &store, shown.pulls.clone())
            .await
            .with_context(|| format!("{r} is not in the store and cannot be pulled"))?;
        notify(Notice::Note(registry::summary(&pulled)));
        new.push(r);
    }
    for w in prescan::scan(ctx, &new) {
        notify(Notice::Warning(w));
    }
    Ok(())
}

/// The images of `names` the store does not hold.
fn missing(store: &Store, names: &[String]) -> anyhow::Result<Vec<Reference>> {
    let mut out = Vec::new();
    for name in names {
        let r: Reference = name.parse().with_context(|| {
            format!("image {name:?} is neither a reference nor an archive file")
        })?;
        if store.resolve(&r).is_err() {
            out.push(r);
        }
    }
    Ok(out)
}

/// The platforms the Clusterfile's arch roles name; none means this
/// machine's (the registry client's default).
fn platforms(cf: &Clusterfile) -> Vec<Platform> {
    let mut out: Vec<Platform> = Vec::new();
    for role in cf.cluster.spec.hosts.iter().flat_map(|h| &h.roles) {
        if matches!(role.as_str(), "amd64" | "arm64")
            && let Some(p) = Platform::parse(&format!("linux/{role}"))
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

async fn load_archive(store: &Store, path: &str) -> anyhow::Result<Vec<Reference>> {
    let (store, at) = (store.clone(), path.to_string());
    let loaded = tokio::task::spawn_blocking(move || archive::load(&store, Path::new(&at)))
        .await?
        .with_context(|| format!("loading the image archive {path}"))?;
    if loaded.is_empty() {
        anyhow::bail!("the image archive {path} holds no named image");
    }
    Ok(loaded)
}

async fn load_bundle(
    store: &Store,
    dir: &Path,
    progress: Arc<dyn bundle::Progress + Send>,
) -> anyhow::Result<Vec<Reference>> {
    let (store, at) = (store.clone(), dir.to_path_buf());
    let loaded = tokio::task::spawn_blocking(move || {
        let cancel = AtomicBool::new(false);
        let job = Job {
            progress: &*progress,
            cancel: &cancel,
        };
        bundle::load(&store, &at, job)
    })
    .await?
    .with_context(|| format!("loading the bundle at {}", dir.display()))?;
    Ok(loaded.images)
}

fn shown_list(names: &[Reference]) -> String {
    names
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
