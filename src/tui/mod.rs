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

use crate::app::reach::Reach;
use crate::app::session::Session;
use crate::app::{Cancelled, Context};
use action::{Action, Effect};
use app::{App, Exit};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use wizard::jobs::LaunchSlot;

/// How often the screen refreshes without input (elapsed time, rates).
const TICK: Duration = Duration::from_millis(250);
/// At most this many queued actions are taken before the next redraw.
const BATCH: usize = 512;

/// Run the wizard on the terminal until the user leaves. `launch` is the
/// session to start (the demo's); the wizard's screens plan their own, with
/// the paths and settings of `ctx`, over hosts reached as `reach` says.
pub async fn run(
    mut app: App,
    first: Vec<Effect>,
    ctx: &Context,
    reach: &Reach,
    launch: Option<Session>,
) -> anyhow::Result<Exit> {
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
                Effect::Quit => return Ok(app.exit()),
                Effect::StartRun => {
                    let session = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    if let Some(s) = session {
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
                None => return Ok(Exit::Quit),
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

/// `tug` on a terminal: the wizard over the local store's images. Leaving
/// after a cancelled install is an error the binary turns into exit 130.
pub async fn open_wizard(ctx: &Context) -> anyhow::Result<()> {
    let mut wizard = wizard::Wizard::new(wizard::image::choices(&ctx.store()?));
    wizard.image.bundle = crate::bundle::beside_binary();
    wizard.ssh.remember(&ctx.paths.config);
    let app = App::wizard(wizard, theme::Theme::from_env()?);
    match run(app, Vec::new(), ctx, &Reach::Ssh, None).await? {
        Exit::Quit => Ok(()),
        Exit::Cancelled | Exit::Abandoned => Err(Cancelled.into()),
    }
}
