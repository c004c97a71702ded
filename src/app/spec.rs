//! The spec of a Clusterfile, as every command and the wizard read it:
//! its inputs, the hosts' arch when an image is stored for several
//! platforms ([`super::arch`]), and the images read from the store (with
//! their layer scans). Plans contact nothing; runs may ask the hosts.

use super::session::{Hosts, How, Session};
use super::{Context, Notice, Notify, arch};
use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::state::ClusterState;
use crate::engine::plan::Plan;
use crate::engine::resolve::{SpecInputs, resolve};
use crate::engine::spec::ClusterSpec;
use crate::engine::transport::select::Unreachable;
use crate::image::Store;

/// The inputs of `cf`, its local files in `state`'s dir, `--bastion` in
/// front of its hosts.
fn inputs(ctx: &Context, cf: &Clusterfile, state: &ClusterState) -> anyhow::Result<SpecInputs> {
    let mut inputs = SpecInputs::from_clusterfile(cf, &[], state.dir().to_path_buf())?;
    ctx.bastion_over(&mut inputs.hosts);
    Ok(inputs)
}

/// The spec of `cf` exactly as written: an image stored for several
/// platforms needs an arch role (the wizard sets them from its
/// connection test).
pub fn spec_as_written(
    ctx: &Context,
    cf: &Clusterfile,
    notify: Notify<'_>,
) -> anyhow::Result<ClusterSpec> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    let store = ctx.store()?;
    resolved(ctx, &store, inputs(ctx, cf, &state)?, notify)
}

/// The spec of `cf`, its images read from the store. Contacts nothing: an
/// image stored for several platforms (and no arch role) resolves for this
/// machine's platform, with a warning.
pub fn spec_of(
    ctx: &Context,
    cf: &Clusterfile,
    state: &ClusterState,
    notify: Notify<'_>,
) -> anyhow::Result<ClusterSpec> {
    let store = ctx.store()?;
    let mut inputs = inputs(ctx, cf, state)?;
    arch::assume(&store, &mut inputs, notify);
    resolved(ctx, &store, inputs, notify)
}

/// The spec of `cf` for a run: an image stored for several platforms (and
/// no arch role) resolves for the arch the hosts say they have.
pub async fn spec_for_run(
    ctx: &Context,
    cf: &Clusterfile,
    state: &ClusterState,
    unreachable: Unreachable,
    notify: Notify<'_>,
) -> anyhow::Result<ClusterSpec> {
    let store = ctx.store()?;
    let mut inputs = inputs(ctx, cf, state)?;
    arch::ask(ctx, &store, &mut inputs, unreachable, notify).await?;
    resolved(ctx, &store, inputs, notify)
}

/// Read the images and build the spec; its warnings are told.
fn resolved(
    ctx: &Context,
    store: &Store,
    inputs: SpecInputs,
    notify: Notify<'_>,
) -> anyhow::Result<ClusterSpec> {
    let scans = ctx.paths.layer_scans();
    let resolved = resolve(store, inputs, Some(&scans))?;
    for w in resolved.warnings {
        notify(Notice::Warning(w.to_string()));
    }
    Ok(resolved.spec)
}

/// The full plan of applying a Clusterfile, as `tug plan -f` prints it:
/// an install, or the upgrade of the saved cluster to a newer image (a
/// change tug does not make is an error here too).
pub fn install_plan(
    ctx: &Context,
    cf: &Clusterfile,
    skip_checks: bool,
    notify: Notify<'_>,
) -> anyhow::Result<Plan> {
    let state = ClusterState::new(&ctx.paths, cf.cluster.name())?;
    let spec = spec_of(ctx, cf, &state, notify)?;
    let how = How {
        skip_checks,
        ..How::default()
    };
    let none = Hosts::Ready(Default::default());
    Ok(Session::apply(ctx, cf.clone(), &spec, how, none)?.plan)
}
