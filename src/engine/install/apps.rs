//! Guest commands (labring-contract §7): after every host joined, each
//! image's ENTRYPOINT then CMD elements (`--cmd` replacing the first
//! image's CMD, as sealos does), in image order. Rootfs and patch images
//! run theirs on every host in the rootfs dir; application images run
//! theirs once, on master0, in their workdir, with their own env.

use super::shell::{is_secret_key, with_env};
use super::{Ctx, InstallError, one_by_one, run};
use crate::cluster::env::{Env, EnvMap, expand_command};
use crate::engine::command::Command;
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

/// A CMD/ENTRYPOINT element as sealos expands it (`$(K)`, `${K}`, `$K`; `$$` is `$`;
/// unknown names stay `$(K)`): the value's text takes the reference's place and the
/// shell reads the line, so `HELM_OPTS='--set-string b="x y"'` reaches helm as the two
/// words `--set-string` and `b=x y`, as with sealos. Values under secret-looking keys
/// (passwords, tokens) become `${K}` references to the exported value instead: they
/// are never on a command line, at the cost of the shell not re-reading their quotes.
fn guest(dir: &str, env: &Env, element: &str) -> Command {
    let texts: EnvMap = env
        .vars()
        .iter()
        .map(|(k, v)| {
            let text = if is_secret_key(k) && !v.is_empty() {
                format!("${{{k}}}")
            } else {
                v.clone()
            };
            (k.clone(), text)
        })
        .collect();
    with_env(Command::shell(expand_command(element, &texts)), env).cwd(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::env::EnvInputs;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let map: EnvMap = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let inputs = EnvInputs {
            image_env: &map,
            rootfs_version: None,
            cluster_env: &[],
            flags: &[],
        };
        Env::resolve(&inputs).unwrap().env
    }

    /// What bash makes of a rendered command's line: its words, one per line.
    fn words(cmd: &Command) -> Vec<String> {
        let line = cmd.render().unwrap();
        let line = line.replace("helm ", "printf '%s\\n' ");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("cd() {{ :; }}; {line}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn values_are_read_by_the_shell_as_sealos_pastes_them() {
        let e = env(&[("HELM_OPTS", r#"--set-string b="x y""#), ("NAME", "n")]);
        let c = guest("/w", &e, "helm upgrade -i $(NAME) c ${HELM_OPTS}");
        assert_eq!(
            words(&c),
            ["upgrade", "-i", "n", "c", "--set-string", "b=x y"].map(String::from)
        );
        let c = guest("/w", &e, "helm $HELM_OPTS $UNKNOWN $$HOME");
        assert!(
            c.to_string()
                .ends_with(r#"helm --set-string b="x y" $(UNKNOWN) $HOME"#),
            "{c}"
        );
    }

    #[test]
    fn secrets_stay_references_off_the_command_line() {
        let e = env(&[("registryPassword", "s3 cret$(id)")]);
        let c = guest("/w", &e, "helm x $(registryPassword)");
        assert!(c.to_string().ends_with("helm x ${registryPassword}"), "{c}");
        assert!(!c.to_string().contains("s3 cret"), "{c}");
        assert_eq!(words(&c), ["x", "s3", "cret$(id)"].map(String::from));
    }
}
