//! Day-2 certificate work on the masters, planned like an install so it
//! runs with the same runner (logged per host, resumable): `tug cert
//! --renew` (`kubeadm certs renew all`, then the control-plane static pods
//! restarted, one master at a time) and `tug cert --alt-names` (the
//! ClusterConfiguration with the new certSANs uploaded, then on each master
//! in turn the API server certificate made again by `kubeadm init phase
//! certs apiserver` and the API server restarted).
//!
//! A static pod restarts the way the kubeadm docs say: its manifest moves
//! out of the kubelet's manifest dir, the kubelet stops it, the manifest
//! moves back. The next master is touched only once this one's API server
//! answers again, so etcd keeps its quorum and the API stays up.

use super::command::Command;
use super::install::InstallError;
use super::install::shell::{KUBECONFIG, script};
use super::plan::{Action, OnFailure, Order, Phase, Plan, Stage, Step};
use super::spec::{ClusterSpec, HostSpec};
use crate::engine::command::Value;
use std::path::Path;

/// The control-plane static pods, restarted after a renewal.
pub const CONTROL_PLANE: [&str; 4] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// Restart the static pods named in `$@`: manifests out, wait until the
/// kubelet stopped them (or its 20 s file check has surely passed when
/// crictl cannot tell), manifests back, then wait for this master's API
/// server. A run stopped half-way finds the manifests aside and puts them back.
const RESTART: &str = r#"set -e
dir=/etc/kubernetes/manifests away=/etc/kubernetes/tug-restart
mkdir -p "$away"
for p in "$@"; do
  if [ -f "$dir/$p.yaml" ]; then mv -f "$dir/$p.yaml" "$away/$p.yaml"; fi
done
names=$(printf '%s|' "$@"); names="^(${names%|})$"
if crictl ps -q >/dev/null 2>&1; then
  for i in $(seq 60); do
    [ -z "$(crictl ps -q --name "$names" 2>/dev/null)" ] && break
    sleep 2
  done
else
  sleep 25
fi
for p in "$@"; do
  if [ -f "$away/$p.yaml" ]; then mv -f "$away/$p.yaml" "$dir/$p.yaml"; fi
done
rmdir "$away" 2>/dev/null || true
for i in $(seq 90); do
  if kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw=/readyz >/dev/null 2>&1; then
    echo "restarted: $*"; exit 0
  fi
  sleep 2
done
echo "the API server on this master did not answer /readyz within 180s" >&2
exit 1"#;

/// Make the API server certificate again from the config `$1`: the old
/// certificate and key move aside (kubeadm keeps files it finds), and come
/// back when kubeadm fails.
const APISERVER_CERT: &str = r#"set -e
cfg=$1 pki=/etc/kubernetes/pki old=/etc/kubernetes/pki/tug-old-apiserver
mkdir -p "$old"
for f in apiserver.crt apiserver.key; do
  if [ -f "$pki/$f" ]; then mv -f "$pki/$f" "$old/$f"; fi
done
if ! kubeadm init phase certs apiserver --config "$cfg"; then
  for f in apiserver.crt apiserver.key; do
    if [ -f "$old/$f" ] && [ ! -f "$pki/$f" ]; then mv -f "$old/$f" "$pki/$f"; fi
  done
  echo "kubeadm could not make the API server certificate; the old one is back" >&2
  exit 1
fi
rm -rf "$old""#;

fn run(host: &HostSpec, key: &str, cmd: Command) -> Result<Step, InstallError> {
    let action = Action::Run { cmd, timeout: None };
    Ok(Step::new(Phase::Certs, host.id.clone(), key, action)?)
}

fn one_by_one(steps: Vec<Step>) -> Stage {
    Stage {
        phase: Phase::Certs,
        steps,
        order: Order::OneByOne,
        on_failure: OnFailure::Stop,
    }
}

/// `kubeadm certs renew all` on every master of `masters` (master0 first),
/// each followed by its control-plane restart and its `~/.kube/config`
/// refreshed, one master at a time; then master0's new admin.conf is
/// fetched to `admin_conf`. `tag` tells this renewal from an earlier one.
pub fn plan_renew(
    masters: &[HostSpec],
    admin_conf: &Path,
    tag: &str,
) -> Result<Plan, InstallError> {
    let mut steps = Vec::new();
    for m in masters {
        steps.push(run(
            m,
            &format!("renew@{tag}"),
            Command::new("kubeadm").args(["certs", "renew", "all"]),
        )?);
        steps.push(run(
            m,
            &format!("restart@{tag}"),
            script(RESTART, CONTROL_PLANE),
        )?);
        steps.push(run(
            m,
            &format!("kubeconfig@{tag}"),
            script(KUBECONFIG, Vec::<String>::new()),
        )?);
    }
    let mut stages = vec![one_by_one(steps)];
    if let Some(m0) = masters.first() {
        stages.push(one_by_one(vec![fetch_admin(m0, admin_conf, tag)?]));
    }
    let plan = Plan { stages };
    plan.validate()?;
    Ok(plan)
}

fn fetch_admin(m0: &HostSpec, to: &Path, tag: &str) -> Result<Step, InstallError> {
    let action = Action::Fetch {
        path: super::install::ADMIN_CONF.into(),
        to_local: to.to_path_buf(),
    };
    Ok(Step::new(
        Phase::Certs,
        m0.id.clone(),
        &format!("fetch-admin-conf@{tag}"),
        action,
    )?)
}

/// Put the certSANs of `spec`'s kubeadm configuration on every master's API
/// server certificate: the ClusterConfiguration uploaded from master0
/// (`kubeadm init phase upload-config kubeadm`, so a later `kubeadm
/// upgrade` keeps them), then each master in turn gets its certificate
/// config, a new certificate and an API server restart.
pub fn plan_alt_names(spec: &ClusterSpec) -> Result<Plan, InstallError> {
    let kubeadm = crate::kubeadm::effective(&spec.kubeadm)?;
    let etc = spec.etc_dir();
    let m0 = spec.master0()?;
    let upload_cfg = format!("{etc}/kubeadm-update.yaml");
    let write = |host: &HostSpec, path: &str, content: String| -> Result<Step, InstallError> {
        let action = Action::WriteFile {
            path: path.to_string(),
            mode: 0o600,
            content: Value::Plain(content),
        };
        let key = path.rsplit('/').next().unwrap_or(path);
        Ok(Step::new(Phase::Certs, host.id.clone(), key, action)?)
    };
    let upload = vec![
        write(m0, &upload_cfg, kubeadm.certs_config(m0.ip))?,
        run(
            m0,
            "upload-config",
            Command::new("kubeadm").args([
                "init",
                "phase",
                "upload-config",
                "kubeadm",
                "--config",
                upload_cfg.as_str(),
            ]),
        )?,
    ];
    let cfg = format!("{etc}/kubeadm-certs.yaml");
    let mut each = Vec::new();
    for m in spec.masters() {
        each.push(write(m, &cfg, kubeadm.certs_config(m.ip))?);
        each.push(run(
            m,
            "apiserver-cert",
            script(APISERVER_CERT, [cfg.as_str()]),
        )?);
        each.push(run(
            m,
            "restart-apiserver",
            script(RESTART, ["kube-apiserver"]),
        )?);
    }
    let plan = Plan {
        stages: vec![one_by_one(upload), one_by_one(each)],
    };
    plan.validate()?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::install::fixture::spec;

    #[test]
    fn renew_goes_master_by_master_renew_then_restart_then_kubeconfig() {
        let s = spec(vec![]);
        let masters: Vec<HostSpec> = s.masters().cloned().collect();
        let plan = plan_renew(&masters, Path::new("/tmp/admin.conf"), "t").unwrap();
        assert_eq!(plan.stages[0].order, Order::OneByOne);
        let order: Vec<(String, String)> = plan.stages[0]
            .steps
            .iter()
            .map(|st| {
                let what = st.action.to_string();
                let kind = if what.contains("certs renew all") {
                    "renew"
                } else if what.contains("tug-restart") {
                    "restart"
                } else {
                    "kubeconfig"
                };
                (st.host.to_string(), kind.to_string())
            })
            .collect();
        let mut want = Vec::new();
        for m in &masters {
            for k in ["renew", "restart", "kubeconfig"] {
                want.push((m.id.to_string(), k.to_string()));
            }
        }
        assert_eq!(order, want);
        assert!(
            plan.stages[1].steps[0]
                .action
                .to_string()
                .starts_with("fetch /etc/kubernetes/admin.conf")
        );
        let again = plan_renew(&masters, Path::new("/tmp/admin.conf"), "u").unwrap();
        assert_ne!(again.stages[0].steps[0].id, plan.stages[0].steps[0].id);
    }

    #[test]
    fn alt_names_reach_each_masters_certificate_config_with_its_own_address() {
        let mut s = spec(vec![]);
        s.kubeadm.clusterfile_docs.push(
            serde_yaml::from_str(
                "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n  certSANs: [api.example.com]\n",
            )
            .unwrap(),
        );
        let plan = plan_alt_names(&s).unwrap();
        let masters: Vec<&HostSpec> = s.masters().collect();
        let writes: Vec<(&str, &str)> = plan.stages[1]
            .steps
            .iter()
            .filter_map(|st| match &st.action {
                Action::WriteFile { content, .. } => Some((st.host.as_str(), content.expose())),
                _ => None,
            })
            .collect();
        assert_eq!(writes.len(), masters.len());
        for ((host, text), m) in writes.iter().zip(&masters) {
            assert_eq!(*host, m.id.as_str());
            assert!(text.contains("- api.example.com"), "{text}");
            assert!(
                text.contains(&format!("advertiseAddress: {}", m.ip)),
                "{text}"
            );
        }
        let upload = plan.stages[0].steps[1].action.to_string();
        assert!(
            upload.contains("kubeadm init phase upload-config kubeadm --config"),
            "{upload}"
        );
    }
}
