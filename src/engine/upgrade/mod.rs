//! The upgrade planner: an installed cluster and a rootfs image of the next
//! Kubernetes version → [`Plan`], with no I/O. Stages: preflight (arch,
//! tools, disk, clock: the ports are the cluster's own now) → the new
//! rootfs distributed and rendered → master0 (drain, new kubeadm, `kubeadm
//! upgrade apply` with the merged config, kubelet and kubectl, kubelet
//! restart, uncordon) → every other master the same way with `kubeadm
//! upgrade node`, one at a time → the nodes in bounded batches.
//!
//! Every step's id carries the host and the target version, so the journal
//! makes a re-run resume host by host; hosts whose status already records
//! the target version are left out altogether. Each host's last stage comes
//! with a [`VersionMark`], so the status records its version as soon as
//! it is done.

mod host;
pub mod rule;
#[cfg(test)]
mod tests;

use super::install::preflight::{CLOCK, MAX_CLOCK_SKEW, checks_command};
use super::install::{Ctx, InstallError, InstallOptions, one_by_one};
use super::plan::{Action, HostId, OnFailure, Phase, Plan, Source, Stage, Step};
use super::record::VersionMark;
use super::spec::{ClusterSpec, HostSpec};
use crate::engine::install::shell::script;
use crate::kubeadm::{ApiVersion, KubeVersion};
use host::Target;

/// How the upgrade is planned.
#[derive(Clone, Debug)]
pub struct UpgradeOptions {
    /// Leave out the preflight checks (`--skip-checks`).
    pub skip_checks: bool,
    /// How many steps of a parallel stage run at once.
    pub parallel: usize,
    /// Renew the control-plane certificates (kubeadm's default); tug keeps
    /// them unless asked (`--renew-certs`).
    pub renew_certs: bool,
    /// As [`InstallOptions::layer_cache`]: where mixed layers are split.
    pub layer_cache: Option<std::path::PathBuf>,
}

impl Default for UpgradeOptions {
    fn default() -> Self {
        UpgradeOptions {
            skip_checks: false,
            parallel: 16,
            renew_certs: false,
            layer_cache: None,
        }
    }
}

/// An upgrade plan and the versions its stages leave hosts at.
#[derive(Debug)]
pub struct UpgradePlan {
    /// The stages.
    pub plan: Plan,
    /// After which stage which hosts run the new version.
    pub versions: Vec<VersionMark>,
}

/// How many nodes are drained and upgraded at once: a tenth of them (at
/// least one), so most of the workload keeps running.
pub fn node_batch(nodes: usize) -> usize {
    nodes.div_ceil(10).max(1)
}

/// Plan the upgrade of `spec`'s cluster to its rootfs' version, for the
/// hosts in `pending` (the others already run it).
pub fn plan_upgrade(
    spec: &ClusterSpec,
    pending: &[HostId],
    opts: &UpgradeOptions,
) -> Result<UpgradePlan, InstallError> {
    let install_opts = InstallOptions {
        skip_checks: opts.skip_checks,
        parallel: opts.parallel,
        layer_cache: opts.layer_cache.clone(),
    };
    let (ctx, _) = Ctx::new(spec, &install_opts)?;
    let kube = target_version(spec)?;
    let version = kube.to_string();
    let deliveries = super::install::distribute::deliveries(&ctx);
    let mut stages: Vec<(Option<Stage>, Vec<HostId>)> = Vec::new();
    if !opts.skip_checks {
        stages.push((preflight(&ctx, &deliveries)?, vec![]));
    }
    for s in super::install::distribute::stages(&ctx, &deliveries)? {
        stages.push((s, vec![]));
    }
    let render = super::install::bootstrap::render_steps(&ctx)?;
    stages.push((ctx.parallel(Phase::Render, render), vec![]));

    let target = |host, phase| target(&ctx, host, &version, phase);
    let todo = |h: &HostSpec| pending.contains(&h.id);
    let m0 = ctx.master0;
    if todo(m0) {
        let t = target(m0, Phase::UpgradeMasters);
        let cfg = format!("{}/kubeadm-upgrade.yaml", spec.etc_dir());
        let steps = vec![
            t.drain()?,
            t.kubeadm_binary()?,
            Step::new(
                Phase::UpgradeMasters,
                m0.id.clone(),
                &format!("kubeadm-upgrade-config@{version}"),
                Action::WriteFile {
                    path: cfg.clone(),
                    mode: 0o600,
                    content: crate::engine::command::Value::Plain(ctx.kubeadm.init()),
                },
            )?,
            t.kubeadm(apply_args(&kube, &cfg, opts.renew_certs))?,
            t.binaries()?,
            t.restart_kubelet()?,
            t.uncordon()?,
        ];
        stages.push((
            one_by_one(Phase::UpgradeMasters, steps),
            vec![m0.id.clone()],
        ));
    }
    for m in spec.masters().filter(|m| m.id != m0.id && todo(m)) {
        let steps = host_steps(&target(m, Phase::UpgradeMasters), opts.renew_certs)?;
        stages.push((one_by_one(Phase::UpgradeMasters, steps), vec![m.id.clone()]));
    }
    let nodes: Vec<&HostSpec> = spec.nodes().filter(|n| todo(n)).collect();
    for batch in nodes.chunks(node_batch(spec.nodes().count())) {
        let ts: Vec<Target<'_>> = batch
            .iter()
            .map(|n| target(n, Phase::UpgradeNodes))
            .collect();
        let drains = ts.iter().map(Target::drain).collect::<Result<_, _>>()?;
        let mut work = Vec::new();
        for t in &ts {
            work.extend(node_work(t, opts.renew_certs)?);
        }
        let uncordons = ts.iter().map(Target::uncordon).collect::<Result<_, _>>()?;
        let ids: Vec<HostId> = batch.iter().map(|n| n.id.clone()).collect();
        stages.push((one_by_one(Phase::UpgradeNodes, drains), vec![]));
        stages.push((ctx.parallel(Phase::UpgradeNodes, work), vec![]));
        stages.push((one_by_one(Phase::UpgradeNodes, uncordons), ids));
    }

    let mut plan = Plan::default();
    let mut versions = Vec::new();
    for (stage, hosts) in stages {
        let Some(stage) = stage else { continue };
        plan.stages.push(stage);
        if !hosts.is_empty() {
            versions.push(VersionMark {
                stage: plan.stages.len(),
                hosts,
                version: version.clone(),
            });
        }
    }
    plan.validate()?;
    Ok(UpgradePlan { plan, versions })
}

/// What upgrading `host` to `version` needs to know.
fn target<'a>(ctx: &'a Ctx<'_>, host: &'a HostSpec, version: &'a str, phase: Phase) -> Target<'a> {
    Target {
        host,
        master0: ctx.master0,
        version,
        bin: format!("{}/bin", ctx.spec.rootfs_dir()),
        bin_dir: ctx
            .env_of(host)
            .get("BIN_DIR")
            .filter(|d| d.starts_with('/'))
            .unwrap_or("/usr/bin")
            .to_string(),
        phase,
    }
}

/// A master other than master0: drained, upgraded, uncordoned.
fn host_steps(t: &Target<'_>, renew: bool) -> Result<Vec<Step>, InstallError> {
    let mut steps = vec![t.drain()?];
    steps.extend(node_work(t, renew)?);
    steps.push(t.uncordon()?);
    Ok(steps)
}

/// What runs on a host between its drain and its uncordon.
fn node_work(t: &Target<'_>, renew: bool) -> Result<Vec<Step>, InstallError> {
    let mut args: Vec<String> = ["upgrade", "node", "--skip-phases", "preflight"]
        .map(String::from)
        .to_vec();
    if !renew {
        args.push("--certificate-renewal=false".into());
    }
    Ok(vec![
        t.kubeadm_binary()?,
        t.kubeadm(args)?,
        t.binaries()?,
        t.restart_kubelet()?,
    ])
}

/// `kubeadm upgrade apply` on master0, as sealos runs it. Up to v1.30 its
/// `--config` takes the merged InitConfiguration and ClusterConfiguration;
/// from v1.31 (v1beta4) it takes only an UpgradeConfiguration, so kubeadm
/// reads the cluster's configuration from the cluster itself.
fn apply_args(kube: &KubeVersion, cfg: &str, renew: bool) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "upgrade".into(),
        "apply".into(),
        kube.to_string(),
        "-y".into(),
    ];
    let v1beta4 = ApiVersion::for_kube(kube).ok() == Some(ApiVersion::V1beta4);
    if !v1beta4 {
        args.push(format!("--config={cfg}"));
    }
    if !renew {
        args.push("--certificate-renewal=false".into());
    }
    args.push(
        "--ignore-preflight-errors=SystemVerification,ControlPlaneNodesReady,CreateJob".into(),
    );
    args
}

/// Every host: arch, tools, disk for the new rootfs (no ports: the cluster
/// holds them), and its clock against the jump host's.
fn preflight(
    ctx: &Ctx<'_>,
    deliveries: &[(&HostSpec, Vec<super::install::distribute::Delivery<'_>>)],
) -> Result<Option<Stage>, InstallError> {
    let mut steps = Vec::new();
    for (host, ds) in deliveries {
        let need_kib = super::install::distribute::unpacked_size(ds) / 1024 + 64 * 1024;
        let cmd = checks_command(
            &ctx.rootfs.arch,
            &ctx.spec.data_root,
            need_kib,
            &host.ip.to_string(),
            false,
            &[],
        );
        steps.push(super::install::run(
            Phase::Preflight,
            host,
            "upgrade-checks",
            cmd,
        )?);
        steps.push(Step::new(
            Phase::Preflight,
            host.id.clone(),
            "upgrade-clock",
            Action::Send {
                source: Source::Clock,
                to: script(CLOCK, [MAX_CLOCK_SKEW.to_string()]),
            },
        )?);
    }
    Ok(ctx.parallel(Phase::Preflight, steps).map(|s| Stage {
        on_failure: OnFailure::FinishPhase,
        ..s
    }))
}

/// The version `spec`'s rootfs carries, parsed.
pub fn target_version(spec: &ClusterSpec) -> Result<KubeVersion, InstallError> {
    let rootfs = spec.rootfs()?;
    let label = rootfs.labels.get("version").map_or("", String::as_str);
    Ok(KubeVersion::parse(label)?)
}
