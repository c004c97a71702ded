//! The interactive front-end (SPEC §6), Elm-style: [`app::App`] holds all
//! state; key presses, ticks and engine events become
//! [`action::Action`]s; `App::update` is the only mutator and returns
//! [`action::Effect`]s this loop performs (start or cancel a run, quit);
//! `App::view` draws from state alone. The terminal is restored on every
//! exit ([`terminal`]); logs go to tug's log file, never the screen. A face
//! over [`crate::app`]: it draws and never imports the command line.

pub mod action;
pub mod app;
pub mod dashboard;
pub mod demo;
pub mod done;
pub mod help;
pub mod launch;
pub mod target;
pub mod terminal;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
pub mod theme;
pub mod wizard;
pub mod wrap;

use crate::app::reach::Reach;
use crate::app::work::Work;
use crate::app::{Cancelled, Context};
use crate::cluster::clusterfile::Clusterfile;
use action::{Action, Effect};
use app::{App, Exit};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use wizard::planning::LaunchSlot;

/// How often the screen refreshes without input (elapsed time, rates).
const TICK: Duration = Duration::from_millis(250);
/// At most this many queued actions are taken before the next redraw.
const BATCH: usize = 512;

/// How the wizard ended, read once the terminal is restored.
#[derive(Debug)]
pub struct Left {
    /// How the user left.
    pub exit: Exit,
    /// What to print on the restored terminal (see [`App::farewell`]).
    pub farewell: Option<String>,
}

/// Run the wizard on the terminal until the user leaves. `launch` is the
/// run to start (the demo's); the wizard's screens plan their own, with
/// the paths and settings of `ctx`, over hosts reached as `reach` says.
pub async fn run(
    mut app: App,
    first: Vec<Effect>,
    ctx: &Context,
    reach: &Reach,
    launch: Option<Work>,
) -> anyhow::Result<Left> {
    let left = |app: &App, exit: Exit| {
        Ok(Left {
            exit,
            farewell: app.farewell(),
        })
    };
    let slot: LaunchSlot = Arc::new(Mutex::new(launch));
    let mut tui = terminal::Tui::enter()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut cancel: Option<CancellationToken> = None;
    let mut effects = first;
    loop {
        for effect in effects.drain(..) {
            match effect {
                Effect::Quit => return left(&app, app.exit()),
                Effect::StartRun => {
                    let work = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    if let Some(s) = work {
                        cancel = Some(launch::start(s, tx.clone()));
                    }
                }
                Effect::Wizard(job) => {
                    wizard::jobs::spawn(job, ctx, reach, tx.clone(), slot.clone())
                }
                Effect::Cancel => {
                    if let Some(c) = &cancel {
                        c.cancel();
                    }
                }
            }
        }
        tui.terminal.draw(|f| app.view(f))?;
        let first = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Action::Key(k),
                Some(Ok(TermEvent::Resize(..))) => Action::Resize,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return left(&app, Exit::Quit),
            },
            _ = tick.tick() => Action::Tick(chrono::Local::now()),
            Some(a) = rx.recv() => a,
        };
        effects = app.update(first);
        effects.extend(drain(&mut app, &mut rx));
    }
}

/// Take what else is queued (engine events come in bursts) before drawing.
fn drain(app: &mut App, rx: &mut UnboundedReceiver<Action>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for _ in 0..BATCH {
        match rx.try_recv() {
            Ok(a) => effects.extend(app.update(a)),
            Err(_) => break,
        }
    }
    effects
}

/// `tug` on a terminal: the wizard over the local store's images and this
/// machine's clusters, or over the Clusterfile `answers` (read before the
/// screen opens: a bad one is an error naming its file, line and field).
/// A ready cluster's kubeconfig is printed once the terminal is restored.
/// Leaving after a cancelled install is an error the binary turns into
/// exit 130.
pub async fn open_wizard(ctx: &Context, answers: Option<PathBuf>) -> anyhow::Result<()> {
    let opened = answers
        .map(|path| {
            let cf = Clusterfile::load(&path)?;
            anyhow::Ok(wizard::Opened {
                path,
                cf: Box::new(cf),
                opened: None,
            })
        })
        .transpose()?;
    let installed = crate::app::clusters::installed(&ctx.paths);
    let mut wizard = wizard::Wizard::over(wizard::image::choices(&ctx.store()?), installed);
    wizard.image.bundle = crate::bundle::beside_binary();
    wizard.ssh.remember(&ctx.paths.config);
    if let Some(o) = &opened {
        wizard.open(o).map_err(anyhow::Error::msg)?;
    }
    let app = App::wizard(wizard, theme::Theme::from_env()?);
    let left = run(app, Vec::new(), ctx, &Reach::Ssh, None).await?;
    if let Some(text) = left.farewell {
        println!("{text}");
    }
    match left.exit {
        Exit::Quit => Ok(()),
        Exit::Cancelled | Exit::Abandoned => Err(Cancelled.into()),
    }
}
