//! The spec of a Clusterfile: its inputs, the hosts' arch when an image
//! is stored for several platforms ([`super::arch`]), and the images read
//! from the store. Plans contact nothing; runs may ask the hosts.

use super::arch;
use crate::cli::Context;
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::install::{InstallOptions, plan_install};
use crate::engine::plan::Plan;
use crate::engine::resolve::{SpecInputs, resolve};
use crate::engine::spec::ClusterSpec;
use crate::engine::transport::select::Unreachable;
use crate::image::Store;

/// The spec of `cf`, its images read from the store. Contacts nothing: an
/// image stored for several platforms (and no arch role) resolves for this
/// machine's platform, with a warning.
pub fn spec_of(
    ctx: &Context,
    cf: &Clusterfile,
    state: &ClusterState,
) -> anyhow::Result<ClusterSpec> {
    let store = ctx.store()?;
    let mut inputs = SpecInputs::from_clusterfile(cf, &[], state.dir().to_path_buf())?;
    arch::assume(&store, &mut inputs);
    resolved(ctx, &store, inputs)
}

/// The spec of `cf` for a run: an image stored for several platforms (and
/// no arch role) resolves for the arch the hosts say they have.
pub(super) async fn spec_for_run(
    ctx: &Context,
    cf: &Clusterfile,
    state: &ClusterState,
    unreachable: Unreachable,
) -> anyhow::Result<ClusterSpec> {
    let store = ctx.store()?;
    let mut inputs = SpecInputs::from_clusterfile(cf, &[], state.dir().to_path_buf())?;
    arch::ask(ctx, &store, &mut inputs, unreachable).await?;
    resolved(ctx, &store, inputs)
}

/// Read the images and build the spec, showing the env warnings.
fn resolved(ctx: &Context, store: &Store, inputs: SpecInputs) -> anyhow::Result<ClusterSpec> {
    let scans = ctx.paths.layer_scans();
    let resolved = resolve(store, inputs, Some(&scans))?;
    for w in &resolved.warnings {
        eprintln!("warning: {w}");
    }
    Ok(resolved.spec)
}

/// The full install plan of a Clusterfile, as `tug plan -f` prints it.
pub fn install_plan(ctx: &Context, cf: &Clusterfile, skip_checks: bool) -> anyhow::Result<Plan> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    let spec = spec_of(ctx, cf, &state)?;
    let opts = InstallOptions {
        skip_checks,
        ..InstallOptions::default()
    };
    Ok(plan_install(&spec, &opts)?.plan)
}
