//! `tug demo`: the whole install flow with no hosts at all. Five simulated
//! hosts (3 masters, 2 nodes, [`DemoTransport`]) receive the demo cluster
//! image, which is built from the copy of `assets/demo` inside the binary
//! the first time (plus a generated payload, so distribution has bytes to
//! carry). The real planner and runner do the rest; the wizard's dashboard
//! shows it, or plain lines without a terminal.

use super::Context;
use super::build::{BuildArgs, BuildCommand};
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::hosts::parse_ip_list;
use crate::engine::event::PlainPrinter;
use crate::engine::install::{InstallOptions, JUMP_HOST, plan_install};
use crate::engine::plan::HostId;
use crate::engine::resolve::SpecInputs;
use crate::engine::resolve::resolve;
use crate::engine::spec::ClusterSpec;
use crate::engine::transport::Transport;
use crate::engine::transport::demo::DemoTransport;
use crate::engine::transport::local::LocalTransport;
use crate::image::Reference;
use crate::tui::action::{Action, RunOutcome};
use crate::tui::app::{App, Exit, Target};
use crate::tui::launch::{Hosts, Launch};
use crate::tui::theme::Theme;
use anyhow::Context as _;
use clap::Args;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
}

/// Run the demo.
pub async fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    ensure_image(ctx).await?;
    let dir = ctx.paths.state.join("demo");
    // Every demo starts from scratch: no journal, no logs of an earlier one.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = demo_spec(ctx, &dir)?;
    let plan = plan_install(&spec, &InstallOptions::default())?.plan;
    let launch = Launch {
        plan: plan.clone(),
        hosts: Hosts::Ready(transports(&spec, &args)),
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
    if ctx.fancy && std::io::stdout().is_terminal() {
        let (app, first) = App::installing(target, true, Theme::from_env()?);
        let exit = crate::tui::run(app, first, ctx, Some(launch)).await?;
        eprintln!(
            "demo: simulated hosts; logs in {}",
            dir.join("logs").display()
        );
        match exit {
            Exit::Quit => Ok(()),
            Exit::Cancelled | Exit::Abandoned => Err(super::Cancelled.into()),
        }
    } else {
        plain(launch, &dir).await
    }
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

/// A simulated host per spec host (named demo-master-N / demo-node-N,
/// links a little faster or slower than `speed`); the jump host is this
/// machine, where only the hostname comparison runs.
fn transports(spec: &ClusterSpec, args: &DemoArgs) -> HashMap<HostId, Arc<dyn Transport>> {
    let mut out: HashMap<HostId, Arc<dyn Transport>> = HashMap::new();
    out.insert(HostId::new(JUMP_HOST), Arc::new(LocalTransport::new()));
    let pace = Duration::from_millis(args.pace);
    let named = spec
        .masters()
        .enumerate()
        .map(|(i, h)| (h, format!("demo-master-{}", i + 1)))
        .chain(
            spec.nodes()
                .enumerate()
                .map(|(i, h)| (h, format!("demo-node-{}", i + 1))),
        );
    for (i, (h, name)) in named.enumerate() {
        let speed = args.speed.max(1) * 1024 * (7 + (i as u64 * 3) % 7) / 10;
        out.insert(
            h.id.clone(),
            Arc::new(DemoTransport::new(name, speed, pace)),
        );
    }
    out
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
