//! `tug demo` on a terminal: the demo's install on the dashboard, or with
//! `--wizard` the whole wizard over the simulated hosts. The demo itself
//! (its image, hosts and session) is the application layer's
//! ([`crate::app::demo`]).

use super::app::{App, Exit};
use super::target::Target;
use super::theme::Theme;
use super::wizard::Wizard;
use super::wizard::image::choices;
use crate::app::demo::{DEMO_IMAGE, Demo, MASTERS, NODES, fresh_dir, install};
use crate::app::reach::Reach;
use crate::app::{Cancelled, Context};
use crate::image::Reference;

/// The demo's install on the dashboard.
pub async fn dashboard(ctx: &Context, demo: Demo) -> anyhow::Result<()> {
    let run = install(ctx, demo)?;
    let target = Target {
        cluster: run.spec.name.clone(),
        image: DEMO_IMAGE.to_string(),
        plan: run.session.plan.clone(),
        roles: run.spec.role_names(),
        kubeconfig: run.dir.join("admin.conf"),
        doing: Default::default(),
    };
    let (app, first) = App::installing(target, true, Theme::from_env()?);
    let reach = Reach::Simulated(demo.simulated());
    let exit = super::run(app, first, ctx, &reach, Some(run.session.into()))
        .await?
        .exit;
    left(exit, &format!("logs in {}", run.dir.join("logs").display()))
}

/// The wizard over the store's images, the demo's selected, its hosts
/// screen listing the simulated hosts. Its clusters live under
/// `<state>/demo/` (saved Clusterfiles, logs, journal), never among the
/// user's; no host key is written anywhere.
pub async fn wizard(ctx: &Context, demo: Demo) -> anyhow::Result<()> {
    let dir = fresh_dir(ctx)?;
    let mut wizard = Wizard::new(choices(&ctx.store()?));
    let image = DEMO_IMAGE.parse::<Reference>()?.to_string();
    wizard.image.selected = wizard
        .image
        .choices
        .iter()
        .position(|c| c.name == image)
        .unwrap_or(0);
    wizard.hosts.add(MASTERS, true);
    wizard.hosts.add(NODES, false);
    let mut app = App::wizard(wizard, Theme::from_env()?);
    app.demo = true;
    let mut demo_ctx = ctx.clone();
    demo_ctx.paths.state = dir.clone();
    let reach = Reach::Simulated(demo.simulated());
    let exit = super::run(app, Vec::new(), &demo_ctx, &reach, None)
        .await?
        .exit;
    left(
        exit,
        &format!("clusters in {}", dir.join("clusters").display()),
    )
}

/// Say where the demo left its files (`files`), and how the user left.
fn left(exit: Exit, files: &str) -> anyhow::Result<()> {
    eprintln!("demo: simulated hosts; {files}");
    match exit {
        Exit::Quit => Ok(()),
        Exit::Cancelled | Exit::Abandoned => Err(Cancelled.into()),
    }
}
