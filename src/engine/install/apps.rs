//! Guest commands (labring-contract §7): after every host joined, each
//! image's ENTRYPOINT then CMD elements (`--cmd` replacing the first
//! image's CMD, as sealos does), in image order. Rootfs and patch images
//! run theirs on every host in the rootfs dir; application images run
//! theirs once, on master0, in their workdir, with their own env.

use super::cmdline::guest;
use super::{Ctx, InstallError, one_by_one, run};
use crate::engine::plan::{Phase, Stage};
use crate::engine::spec::{HostSpec, ImageKind};

/// The guest stages, one per image that has commands.
pub(crate) fn stages(ctx: &Ctx<'_>) -> Result<Vec<Option<Stage>>, InstallError> {
    let spec = ctx.spec;
    let mut stages = Vec::new();
    for (i, image) in spec.images.iter().enumerate() {
        let cmd = match (&spec.command, i) {
            (Some(c), 0) => c,
            _ => &image.cmd,
        };
        let elements: Vec<&String> = image.entrypoint.iter().chain(cmd).collect();
        if elements.is_empty() {
            continue;
        }
        let (hosts, dir): (Vec<&HostSpec>, String) = match image.kind {
            ImageKind::Application => (vec![ctx.master0], spec.app_dir(image)),
            ImageKind::Rootfs | ImageKind::Patch => {
                (spec.hosts.iter().collect(), spec.rootfs_dir())
            }
        };
        let mut steps = Vec::new();
        for host in &hosts {
            let env = if image.kind == ImageKind::Rootfs {
                ctx.env_of(host).clone()
            } else {
                image
                    .env
                    .for_host(host.id.as_str(), &host.env, &host.run_mode())?
                    .env
            };
            for (n, element) in elements.iter().enumerate() {
                let key = format!("{}#{n}", image.name);
                steps.push(run(
                    Phase::Applications,
                    host,
                    &key,
                    guest(&dir, &env, element),
                )?);
            }
        }
        stages.push(if image.kind == ImageKind::Application {
            one_by_one(Phase::Applications, steps)
        } else if elements.len() == 1 {
            ctx.parallel(Phase::Applications, steps)
        } else {
            // Several elements per host must keep their order.
            one_by_one(Phase::Applications, steps)
        });
    }
    Ok(stages)
}
