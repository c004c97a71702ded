//! The image screen's jobs, off the event loop: pull a reference the way
//! `tug pull` does (the same client: tug's credentials from `tug login`,
//! the insecure registries, the platform choice), or verify and load a
//! bundle the way `tug bundle load` does; progress goes to the screen as it
//! arrives. Then, as the CLI does, the new images' layers are scanned for
//! the installer, and the store's list is read again. A bundle's
//! Clusterfile template, when it names real hosts, comes back with it.

use super::{Fetched, FromBundle, Progress, Source, choices};
use crate::app::Context;
use crate::bundle::{self, Job};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::hosts::{Address, DEFAULT_SSH_PORT, Role};
use crate::image::digest::Digest;
use crate::image::oci::Platform;
use crate::image::{Reference, registry};
use crate::tui::action::Action;
use crate::tui::wizard::Reply;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Progress is sent at most this often (blobs arrive in many small reads).
const EVERY: Duration = Duration::from_millis(100);

/// Fetch from `source`; progress and then the outcome arrive on `tx`.
pub async fn run(ctx: &Context, source: Source, tx: &UnboundedSender<Action>) {
    let result = match source {
        Source::Pull {
            reference,
            platforms,
        } => pull(ctx, reference, platforms, tx).await,
        Source::Bundle(path) => {
            let (ctx, tx) = (ctx.clone(), tx.clone());
            tokio::task::spawn_blocking(move || load(&ctx, &path, tx))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }
    };
    let _ = tx.send(Action::Wizard(Reply::Fetched(result)));
}

async fn pull(
    ctx: &Context,
    reference: Reference,
    platforms: Vec<Platform>,
    tx: &UnboundedSender<Action>,
) -> Result<Fetched, String> {
    let failed = |e: String| one_line(&format!("cannot pull {reference}: {e}"));
    let store = ctx.store().map_err(|e| failed(format!("{e:#}")))?;
    let reporter = Arc::new(Reporter::new(
        format!("pulling {reference}"),
        tx.clone(),
        true,
    ));
    let client = crate::app::registry::client(ctx, false);
    let pulled = crate::app::registry::pull(ctx, &client, &reference, &platforms, &store, reporter)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let note = crate::app::registry::summary(&pulled);
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || {
        let select = pulled.reference.to_string();
        refreshed(&ctx, &[pulled.reference], select, note, None)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
}

fn load(ctx: &Context, path: &Path, tx: UnboundedSender<Action>) -> Result<Fetched, String> {
    // Every bundle error names the file (which is inside the bundle).
    let failed = |e: String| one_line(&format!("bundle not loaded: {e}"));
    let store = ctx.store().map_err(|e| failed(format!("{e:#}")))?;
    let reporter = Reporter::new("bundle".into(), tx, false);
    let job = Job {
        progress: &reporter,
        cancel: &reporter.cancel,
    };
    let loaded = bundle::load(&store, path, job).map_err(|e| failed(e.to_string()))?;
    let mut note = format!(
        "loaded {} image(s) from bundle {}",
        loaded.images.len(),
        path.display()
    );
    for name in &loaded.verified.edited {
        note.push_str(&format!("; {name} edited since the bundle was made"));
    }
    let template = bundle::read_template(path).map_err(|e| e.to_string());
    let hosts = match template.and_then(|cf| cf.as_ref().map(from_template).transpose()) {
        Ok(hosts) => hosts,
        Err(e) => {
            note.push_str(&format!("; its Clusterfile was not read: {e}"));
            None
        }
    };
    // The bundle's images in install order: the Kubernetes image first.
    let select = loaded
        .images
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    refreshed(ctx, &loaded.images, select, note, hosts)
}

/// The hosts (by role) and SSH settings of a bundle's Clusterfile.
fn from_template(cf: &Clusterfile) -> Result<FromBundle, String> {
    let mut hosts = FromBundle::default();
    let machines = cf
        .cluster
        .machines()
        .map_err(|e| format!("{}: {e}", bundle::CLUSTERFILE))?;
    for m in machines {
        let addr = Address {
            ip: m.ip(),
            port: Some(m.port()).filter(|p| *p != DEFAULT_SSH_PORT),
        };
        if m.has(Role::Master) {
            hosts.masters.push(addr);
        } else if m.has(Role::Node) {
            hosts.nodes.push(addr);
        }
    }
    let ssh = cf.cluster.spec.ssh.clone().unwrap_or_default();
    hosts.user = ssh.user;
    hosts.pk = ssh.pk;
    hosts.name = cf.cluster.metadata.name.clone();
    Ok(hosts)
}

/// Scan the new images for the installer, then read the store's list.
fn refreshed(
    ctx: &Context,
    images: &[Reference],
    select: String,
    mut note: String,
    hosts: Option<FromBundle>,
) -> Result<Fetched, String> {
    if let Some(w) = crate::app::prescan::scan(ctx, images).first() {
        note.push_str(&format!("; warning: {w}"));
    }
    let store = ctx.store().map_err(|e| format!("{e:#}"))?;
    Ok(Fetched {
        choices: choices(&store),
        select,
        note: one_line(&note),
        hosts,
    })
}

/// An error or note on one line of the screen.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Counts what a pull or a bundle job reports and sends it to the screen,
/// at most every [`EVERY`] (and whenever a blob or a file starts or ends).
/// Once the wizard is gone (its receiver dropped), a bundle job is
/// cancelled at its next read, so quitting never waits for a long load.
struct Reporter {
    tx: UnboundedSender<Action>,
    state: Mutex<(Progress, Option<Instant>)>,
    cancel: AtomicBool,
}

impl Reporter {
    fn new(phase: String, tx: UnboundedSender<Action>, blobs: bool) -> Reporter {
        let progress = Progress {
            phase,
            blobs: blobs.then_some((0, 0)),
            ..Progress::default()
        };
        Reporter {
            tx,
            state: Mutex::new((progress, None)),
            cancel: AtomicBool::new(false),
        }
    }

    fn update(&self, now: bool, change: impl FnOnce(&mut Progress)) {
        if self.tx.is_closed() {
            self.cancel.store(true, Ordering::Relaxed);
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (progress, sent) = &mut *state;
        change(progress);
        if now || sent.is_none_or(|t| t.elapsed() >= EVERY) {
            *sent = Some(Instant::now());
            let _ = self
                .tx
                .send(Action::Wizard(Reply::Fetching(progress.clone())));
        }
    }
}

impl registry::Progress for Reporter {
    fn blob_started(&self, _: &Digest, size: u64) {
        self.update(true, |p| {
            p.total += size;
            if let Some((_, started)) = &mut p.blobs {
                *started += 1;
            }
        });
    }

    fn blob_advanced(&self, _: &Digest, bytes: u64) {
        self.update(false, |p| p.done += bytes);
    }

    fn blob_finished(&self, _: &Digest) {
        self.update(true, |p| {
            if let Some((done, _)) = &mut p.blobs {
                *done += 1;
            }
        });
    }
}

impl bundle::Progress for Reporter {
    fn start(&self, verb: &str, file: &str, total: u64) {
        self.update(true, |p| {
            p.phase = format!("bundle: {verb} {file}");
            p.done = 0;
            p.total = total;
        });
    }

    fn advance(&self, bytes: u64) {
        self.update(false, |p| p.done += bytes);
    }

    fn finish(&self, _file: &str) {
        self.update(true, |p| p.done = p.total);
    }
}
