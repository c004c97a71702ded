//! `tug demo`: the whole install flow with no hosts at all. Five simulated
//! hosts (3 masters, 2 nodes, [`DemoTransport`]) receive the demo cluster
//! image, which is built from the copy of `assets/demo` inside the binary
//! the first time (plus a generated payload, so distribution has bytes to
//! carry). The real planner and runner do the rest; the wizard's dashboard
//! shows it, or plain lines without a terminal. With `--wizard` the whole
//! wizard opens instead, its hosts the simulated ones ([`Reach::Simulated`]).

use super::Context;
use super::build::{BuildArgs, BuildCommand};
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::hosts::parse_ip_list;
use crate::engine::event::PlainPrinter;
use crate::engine::install::{InstallOptions, plan_install};
use crate::engine::resolve::SpecInputs;
use crate::engine::resolve::resolve;
use crate::engine::spec::ClusterSpec;
use crate::image::Reference;
use crate::tui::action::{Action, RunOutcome};
use crate::tui::app::{App, Exit, Target};
use crate::tui::launch::{Hosts, Launch};
use crate::tui::theme::Theme;
use crate::tui::wizard::Wizard;
use crate::tui::wizard::image::choices;
use crate::tui::wizard::reach::{Reach, Simulated};
use anyhow::Context as _;
use clap::Args;
use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The image the demo installs.
pub const DEMO_IMAGE: &str = "tug/demo:v1.28.9";
/// The simulated masters and nodes.
const MASTERS: &str = "192.168.64.11-192.168.64.13";
const NODES: &str = "192.168.64.21-192.168.64.22";
/// Size of the generated payload that gives distribution something to send.
const PAYLOAD: usize = 8 << 20;

/// The demo image's build context (`assets/demo`), inside the binary so
/// `tug demo` works from anywhere: (path, content, executable).
const CONTEXT: &[(&str, &[u8], bool)] = &[
    (
        "Kubefile",
        include_bytes!("../../assets/demo/Kubefile"),
        false,
    ),
    (
        "README.md",
        include_bytes!("../../assets/demo/README.md"),
        false,
    ),
    (
        "bin/crictl",
        include_bytes!("../../assets/demo/bin/crictl"),
        true,
    ),
    (
        "bin/kubeadm",
        include_bytes!("../../assets/demo/bin/kubeadm"),
        true,
    ),
    (
        "bin/kubectl",
        include_bytes!("../../assets/demo/bin/kubectl"),
        true,
    ),
    (
        "bin/kubelet",
        include_bytes!("../../assets/demo/bin/kubelet"),
        true,
    ),
    (
        "etc/kubeadm.yml",
        include_bytes!("../../assets/demo/etc/kubeadm.yml"),
        false,
    ),
    (
        "etc/kubelet.service.tmpl",
        include_bytes!("../../assets/demo/etc/kubelet.service.tmpl"),
        false,
    ),
    (
        "etc/registry_config.yml.tmpl",
        include_bytes!("../../assets/demo/etc/registry_config.yml.tmpl"),
        false,
    ),
    (
        "scripts/check.sh",
        include_bytes!("../../assets/demo/scripts/check.sh"),
        true,
    ),
    (
        "scripts/clean-cri.sh",
        include_bytes!("../../assets/demo/scripts/clean-cri.sh"),
        true,
    ),
    (
        "scripts/clean-registry.sh",
        include_bytes!("../../assets/demo/scripts/clean-registry.sh"),
        true,
    ),
    (
        "scripts/clean.sh",
        include_bytes!("../../assets/demo/scripts/clean.sh"),
        true,
    ),
    (
        "scripts/init-cri.sh",
        include_bytes!("../../assets/demo/scripts/init-cri.sh"),
        true,
    ),
    (
        "scripts/init-registry.sh",
        include_bytes!("../../assets/demo/scripts/init-registry.sh"),
        true,
    ),
    (
        "scripts/init.sh",
        include_bytes!("../../assets/demo/scripts/init.sh"),
        true,
    ),
];

/// `tug demo` flags.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated link speed to each host, in KiB/s (hosts vary around it).
    #[arg(long, value_name = "KIB", default_value_t = 2048)]
    pub speed: u64,
    /// About how long each simulated command takes, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub pace: u64,
    /// Walk the whole wizard (image, hosts, SSH, configuration, review,
    /// install) over the simulated hosts; needs a terminal.
    #[arg(long)]
    pub wizard: bool,
}

impl DemoArgs {
    /// The simulated hosts these flags describe.
    fn simulated(&self) -> Simulated {
        Simulated::new(self.speed, Duration::from_millis(self.pace))
    }
}

/// Whether the demo can draw on a terminal.
fn on_terminal(ctx: &Context) -> bool {
    ctx.fancy && std::io::stdout().is_terminal()
}

/// Run the demo.
pub async fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    if args.wizard {
        return wizard(ctx, &args).await;
    }
    ensure_image(ctx).await?;
    let dir = fresh_dir(ctx)?;
    let spec = demo_spec(ctx, &dir)?;
    let plan = plan_install(&spec, &InstallOptions::default())?.plan;
    let sim = args.simulated();
    let launch = Launch {
        plan: plan.clone(),
        hosts: Hosts::Ready(sim.transports(&spec)),
        logs: dir.join("logs"),
        journal: dir.join("install.journal"),
        options: Default::default(),
        record: None,
    };
    let target = Target {
        cluster: spec.name.clone(),
        image: DEMO_IMAGE.to_string(),
        plan,
        roles: spec.role_names(),
        kubeconfig: dir.join("admin.conf"),
    };
    if on_terminal(ctx) {
        let (app, first) = App::installing(target, true, Theme::from_env()?);
        let exit = crate::tui::run(app, first, ctx, &Reach::Simulated(sim), Some(launch)).await?;
        left(exit, &format!("logs in {}", dir.join("logs").display()))
    } else {
        plain(launch, &dir).await
    }
}

/// `tug demo --wizard`: the wizard over the store's images, the demo's
/// selected, its hosts screen listing the simulated hosts. Its clusters
/// live under `<state>/demo/` (saved Clusterfiles, logs, journal), never
/// among the user's; no host key is written anywhere.
async fn wizard(ctx: &Context, args: &DemoArgs) -> anyhow::Result<()> {
    if !on_terminal(ctx) {
        anyhow::bail!(
            "tug demo --wizard needs a terminal (plain `tug demo` prints its install as lines)"
        );
    }
    ensure_image(ctx).await?;
    let dir = fresh_dir(ctx)?;
    let mut wizard = Wizard::new(choices(&ctx.store()?));
    let demo = DEMO_IMAGE.parse::<Reference>()?.to_string();
    wizard.image.selected = wizard
        .image
        .choices
        .iter()
        .position(|c| c.name == demo)
        .unwrap_or(0);
    wizard.hosts.add(MASTERS, true);
    wizard.hosts.add(NODES, false);
    let mut app = App::wizard(wizard, Theme::from_env()?);
    app.demo = true;
    let mut demo_ctx = ctx.clone();
    demo_ctx.paths.state = dir.clone();
    let reach = Reach::Simulated(args.simulated());
    let exit = crate::tui::run(app, Vec::new(), &demo_ctx, &reach, None).await?;
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
        Exit::Cancelled | Exit::Abandoned => Err(super::Cancelled.into()),
    }
}

/// `<state>/demo`, emptied: every demo starts from scratch, with no
/// journal and no logs of an earlier one.
fn fresh_dir(ctx: &Context) -> anyhow::Result<PathBuf> {
    let dir = ctx.paths.state.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Without a terminal: the same run, printed as plain lines.
async fn plain(launch: Launch, dir: &Path) -> anyhow::Result<()> {
    eprintln!("demo: simulated hosts (nothing is contacted)");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _cancel = launch.start(tx);
    let mut printer = PlainPrinter::new(std::io::stderr());
    while let Some(action) = rx.recv().await {
        match action {
            Action::Engine(ev) => printer.print(&ev)?,
            Action::RunDone(RunOutcome::Done) => {
                eprintln!(
                    "demo cluster is ready (simulated); kubeconfig: {}",
                    dir.join("admin.conf").display()
                );
                return Ok(());
            }
            Action::RunDone(RunOutcome::Failed(f)) => {
                let first = f.first().map(ToString::to_string).unwrap_or_default();
                anyhow::bail!("the demo failed: {first}");
            }
            Action::RunDone(other) => anyhow::bail!("the demo did not finish: {other:?}"),
            _ => {}
        }
    }
    anyhow::bail!("the demo run stopped without a result")
}

/// The demo cluster's spec: its Clusterfile (as `gen` writes it) resolved
/// against the store, its files under `dir`.
fn demo_spec(ctx: &Context, dir: &Path) -> anyhow::Result<ClusterSpec> {
    let cf = generate(NewCluster {
        name: "demo".into(),
        images: vec![DEMO_IMAGE.into()],
        masters: parse_ip_list(MASTERS)?,
        nodes: parse_ip_list(NODES)?,
        ..NewCluster::default()
    })?;
    let inputs = SpecInputs::from_clusterfile(&cf, &[], dir.to_path_buf())?;
    let scans = ctx.paths.data.join("layer-scans");
    Ok(resolve(&ctx.store()?, inputs, Some(&scans))?.spec)
}

/// Build the demo image into the store unless it is there.
async fn ensure_image(ctx: &Context) -> anyhow::Result<()> {
    let name: Reference = DEMO_IMAGE.parse()?;
    if ctx.store()?.resolve(&name).is_ok() {
        return Ok(());
    }
    eprintln!("building the demo image {DEMO_IMAGE} (first run only)");
    let dir = ctx.paths.data.join("demo-context");
    write_context(&dir)?;
    let built = BuildCommand::Build(BuildArgs {
        tag: Some(DEMO_IMAGE.into()),
        file: None,
        platform: Vec::new(),
        build_args: Vec::new(),
        list_images: false,
        context: dir.clone(),
    })
    .run(ctx)
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    built.context("building the demo image")
}

/// Write the embedded context and the payload into `dir`.
fn write_context(dir: &PathBuf) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    for (path, content, exec) in CONTEXT {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, content).with_context(|| format!("writing {}", file.display()))?;
        let mode = if *exec { 0o755 } else { 0o644 };
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))?;
    }
    let payload = dir.join("cri/demo-payload");
    std::fs::create_dir_all(dir.join("cri"))?;
    std::fs::write(&payload, payload_bytes(PAYLOAD))
        .with_context(|| format!("writing {}", payload.display()))?;
    Ok(())
}

/// `n` bytes that do not compress (xorshift), the same on every build so
/// the image's digest is stable.
fn payload_bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_context_is_all_of_assets_demo() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    on_disk.push(p.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = CONTEXT.iter().map(|(p, _, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        for (p, content, exec) in CONTEXT {
            let file = root.join(p);
            assert_eq!(std::fs::read(&file).unwrap(), *content, "{p}");
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o111 != 0, *exec, "{p}");
        }
    }
}
