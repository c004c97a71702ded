//! The cluster-admin kubeconfig on the workers. sealos copies it to every
//! host's `~/.kube/config` (`copyKubeConfigFileToNodes`), so a compromised
//! worker holds cluster-admin. tug leaves it on the masters unless the
//! Clusterfile asks for the copy (annotation
//! [`crate::engine::inputs::ADMIN_KUBECONFIG_ON_NODES`]); then the copy
//! master0's admin.conf fetched at init goes to each worker on stdin,
//! written 0600.

use super::shell::script;
use super::{Ctx, InstallError};
use crate::engine::plan::{Action, Phase, Source, Stage, Step};

/// Write stdin to the login user's `~/.kube/config`, 0600, whole or not at all.
const NODE_KUBECONFIG: &str = r#"set -e
umask 077
mkdir -p "$HOME/.kube"
cat > "$HOME/.kube/config.tug-tmp"
chmod 600 "$HOME/.kube/config.tug-tmp"
mv -f "$HOME/.kube/config.tug-tmp" "$HOME/.kube/config""#;

/// The copies to the workers, when asked for.
pub(crate) fn stage(ctx: &Ctx<'_>) -> Result<Option<Stage>, InstallError> {
    let spec = ctx.spec;
    if !spec.admin_kubeconfig_on_nodes {
        return Ok(None);
    }
    let mut steps = Vec::new();
    for node in spec.nodes() {
        let send = Action::Send {
            source: Source::Fetched {
                path: spec.local_dir.join("admin.conf"),
                identity: format!("admin.conf of {}", spec.name),
            },
            to: script(NODE_KUBECONFIG, Vec::<String>::new()),
        };
        steps.push(Step::new(
            Phase::JoinNodes,
            node.id.clone(),
            "admin-kubeconfig",
            send,
        )?);
    }
    Ok(ctx.parallel(Phase::JoinNodes, steps))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::spec;
    use super::super::{InstallOptions, plan_install};

    fn copies(on_nodes: bool) -> Vec<String> {
        let mut s = spec(vec![]);
        s.admin_kubeconfig_on_nodes = on_nodes;
        let plan = plan_install(&s, &InstallOptions::default()).unwrap().plan;
        plan.stages
            .iter()
            .flat_map(|st| &st.steps)
            .filter(|st| st.action.to_string().contains(".kube/config"))
            .map(|st| st.host.as_str().to_string())
            .collect()
    }

    #[test]
    fn admin_credentials_stay_on_masters_unless_asked() {
        assert_eq!(copies(false), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            copies(true),
            ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]
        );
    }
}
