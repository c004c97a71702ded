//! The demo (`tug demo`): the whole install flow with no hosts at all.
//! Five simulated hosts (3 masters, 2 nodes, [`Simulated`]) receive the
//! demo cluster image, built from the copy of `assets/demo` inside the
//! binary the first time (plus a generated payload, so distribution has
//! bytes to carry). The real planner and runner do the rest. Both faces
//! show it: the CLI as plain lines, the wizard's dashboard on a terminal,
//! and the whole wizard with `--wizard`.

use super::Context;
use super::reach::Simulated;
use super::session::{Hosts, Session};
use crate::cluster::create::{NewCluster, generate};
use crate::cluster::hosts::parse_ip_list;
use crate::engine::install::{InstallOptions, plan_install};
use crate::engine::resolve::{SpecInputs, resolve};
use crate::engine::runner::RunOptions;
use crate::engine::spec::ClusterSpec;
use anyhow::Context as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The image the demo installs.
pub const DEMO_IMAGE: &str = "tug/demo:v1.28.9";
/// The simulated masters.
pub const MASTERS: &str = "192.168.64.11-192.168.64.13";
/// The simulated nodes.
pub const NODES: &str = "192.168.64.21-192.168.64.22";
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

/// How the simulated hosts behave.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// Simulated link speed to each host, in KiB/s (hosts vary around it).
    pub speed: u64,
    /// About how long each simulated command takes.
    pub pace: Duration,
}

impl Demo {
    /// The simulated hosts these settings describe.
    pub fn simulated(&self) -> Simulated {
        Simulated::new(self.speed, self.pace)
    }
}

/// The demo's install, ready to run on the simulated hosts: its session,
/// its spec, and the dir holding its files (logs, journal).
pub struct DemoRun {
    /// The session to run.
    pub session: Session,
    /// The demo cluster's spec.
    pub spec: ClusterSpec,
    /// `<state>/demo`, where the run's files go.
    pub dir: PathBuf,
}

/// Plan the demo's install over `demo`'s simulated hosts, in a fresh dir.
/// The demo image must be in the store.
pub fn install(ctx: &Context, demo: Demo) -> anyhow::Result<DemoRun> {
    let dir = fresh_dir(ctx)?;
    let spec = demo_spec(ctx, &dir)?;
    let plan = plan_install(&spec, &InstallOptions::default())?.plan;
    let session = Session {
        plan,
        hosts: Hosts::Ready(demo.simulated().transports(&spec)),
        logs: dir.join("logs"),
        journal: dir.join("install.journal"),
        // Simulated hosts keep no files for a resume to find.
        options: RunOptions {
            verify_hosts: false,
            ..RunOptions::default()
        },
        record: None,
        stops_early: false,
        versions: Vec::new(),
        upgrade: None,
    };
    Ok(DemoRun { session, spec, dir })
}

/// `<state>/demo`, emptied: every demo starts from scratch, with no
/// journal and no logs of an earlier one.
pub fn fresh_dir(ctx: &Context) -> anyhow::Result<PathBuf> {
    let dir = ctx.paths.state.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
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
    Ok(resolve(&ctx.store()?, inputs, Some(&ctx.paths.layer_scans()))?.spec)
}

/// Write the embedded context and the payload into `dir`.
pub fn write_context(dir: &Path) -> anyhow::Result<()> {
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
