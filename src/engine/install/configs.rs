//! The Clusterfile's `Config` files (see [`crate::engine::configs`]) written
//! into their image's tree after the templates are rendered and before any
//! hook or CMD runs: a rootfs or patch image's on every host, an
//! application's on master0, as sealos's images reach the hosts. Written
//! 0600: sealos's own example of a Config holds a password.

use super::{Ctx, InstallError};
use crate::engine::command::Value;
use crate::engine::plan::{Action, Phase, Step};
use crate::engine::spec::{HostSpec, ImageKind};

/// One write per Config file and host its image reaches.
pub(crate) fn steps(ctx: &Ctx<'_>) -> Result<Vec<Step>, InstallError> {
    let spec = ctx.spec;
    let mut steps = Vec::new();
    for file in &spec.configs {
        let Some(image) = spec.images.iter().find(|i| i.name == file.image) else {
            continue;
        };
        let (hosts, dir): (Vec<&HostSpec>, String) = match image.kind {
            ImageKind::Rootfs | ImageKind::Patch => {
                (spec.hosts.iter().collect(), spec.rootfs_dir())
            }
            ImageKind::Application => (vec![ctx.master0], spec.app_dir(image)),
        };
        for host in hosts {
            let write = Action::WriteFile {
                // `/./` marks the image's tree: no symlinked dir below it is followed.
                path: format!("{dir}/./{}", file.path),
                mode: 0o600,
                content: Value::Plain(file.content.clone()),
            };
            let key = format!("config:{}:{}", image.name, file.path);
            steps.push(Step::new(Phase::Render, host.id.clone(), &key, write)?);
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::spec;
    use super::super::{InstallOptions, plan_install};
    use crate::engine::configs::ConfigFile;

    #[test]
    fn config_files_reach_their_image_before_any_hook_or_cmd() {
        let mut s = spec(vec![]);
        let file = |image: &str, path: &str| ConfigFile {
            image: image.into(),
            path: path.into(),
            content: "a: 1\n".into(),
        };
        s.configs = vec![
            file(&s.images[0].name.clone(), "etc/extra.yaml"),
            file(&s.images[1].name.clone(), "values/x.yaml"),
        ];
        let plan = plan_install(&s, &InstallOptions::default()).unwrap().plan;
        let at = |needle: &str| -> Vec<(usize, String)> {
            let mut out = Vec::new();
            for (i, stage) in plan.stages.iter().enumerate() {
                for step in &stage.steps {
                    let shown = step.action.to_string();
                    if shown.contains(needle) {
                        out.push((i, step.host.as_str().to_string()));
                    }
                }
            }
            out
        };
        let rootfs = at("write /var/lib/sealos/data/default/rootfs/./etc/extra.yaml (mode 600");
        assert_eq!(rootfs.len(), 5, "every host: {rootfs:?}");
        let app = at("applications/calico-v3.24.1/workdir/./values/x.yaml (mode 600");
        assert_eq!(app.len(), 1);
        assert_eq!(app[0].1, "10.0.0.1", "master0 only");
        let first_hook = at("bash check.sh")[0].0;
        assert!(rootfs.iter().chain(&app).all(|(i, _)| *i < first_hook));
        let render = at("rootfs/./etc/registry.yml (mode")[0].0;
        assert!(rootfs[0].0 > render, "after the templates");
    }
}
