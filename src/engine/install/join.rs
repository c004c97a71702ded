//! kubeadm: init on master0, control-plane joins one at a time, nodes in
//! parallel behind an IPVS virtual server with the lvscare static pod.
//!
//! The join token, CA hash and certificate key exist only once master0 is
//! up. master0 writes them to a 0600 file (nothing printed), the jump host
//! fetches it into the cluster dir (0600), and each joining host reads it
//! on stdin to fill the placeholders of its join config. Plans, events and
//! logs never see the values.

use super::shell::{AUDIT_POLICY, KUBECONFIG, hosts_entry, script};
use super::{Ctx, InstallError, one_by_one, run, unless_exists};
use crate::engine::command::Value;
use crate::engine::plan::StepId;
use crate::engine::plan::{Action, Phase, Source, Stage, Step};
use crate::engine::spec::HostSpec;
use crate::kubeadm::{APISERVER_DOMAIN, JoinSecrets};
use std::net::SocketAddr;
use std::time::Duration;

/// Present on a host once it joined (or was initialised).
pub const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";
/// Present on master0 once `kubeadm init` ran.
pub const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
/// Where the lvscare static pod goes on nodes.
pub const LVSCARE_MANIFEST: &str = "/etc/kubernetes/manifests/kube-sealos-lvscare.yaml";
/// The lvscare image when the rootfs has no `image` label.
pub const DEFAULT_LVSCARE_IMAGE: &str = "sealos.hub:5000/sealos/lvscare:latest";

/// How long fetched join secrets are trusted: kubeadm deletes the uploaded
/// certificates after 2 h (the token lives 24 h), so a re-run after that
/// makes new ones for the joins still to do.
const SECRETS_FRESH_FOR: Duration = Duration::from_secs(3600);

const TOKEN: &str = "TUG_JOIN_TOKEN";
const CA_HASH: &str = "TUG_JOIN_CA_CERT_HASH";
const CERT_KEY: &str = "TUG_JOIN_CERTIFICATE_KEY";

/// On master0: upload the control-plane certs under a new key, create a
/// token, and write token, CA hash and key to `$2` (0600). Prints nothing
/// secret and passes no secret as an argument: the key reaches kubeadm as
/// `certificateKey` in a 0600 copy of the init config (`$1`), removed
/// afterwards. `$3…` name the hosts the token is for (unused by the script).
const JOIN_SECRETS: &str = r#"set -e
umask 077
cfg=$1 out=$2 certs=$2.certs.yaml
trap 'rm -f -- "$certs"' EXIT
key=$(kubeadm certs certificate-key)
found=
while IFS= read -r line || [ -n "$line" ]; do
  case $line in certificateKey:*) continue ;; esac
  printf '%s\n' "$line"
  if [ "$line" = "kind: InitConfiguration" ]; then printf 'certificateKey: %s\n' "$key"; found=1; fi
done < "$cfg" > "$certs"
if [ -z "$found" ]; then echo "$cfg has no InitConfiguration" >&2; exit 1; fi
kubeadm init phase upload-certs --upload-certs --config "$certs" >/dev/null
join=$(kubeadm token create --print-join-command --ttl 24h)
token=$(printf '%s\n' "$join" | sed -n 's/.*--token \([^ ]*\).*/\1/p')
hash=$(printf '%s\n' "$join" | sed -n 's/.*--discovery-token-ca-cert-hash \([^ ]*\).*/\1/p')
if [ -z "$token" ] || [ -z "$hash" ]; then echo "kubeadm token create printed no token and CA hash" >&2; exit 1; fi
printf '%s\n%s\n%s\n' "$token" "$hash" "$key" > "$out.tmp"
mv -f "$out.tmp" "$out""#;

/// On a joining host: read token, CA hash and key from stdin into the join
/// config, replacing the placeholders with bash's own substitution, so no
/// value is ever an argument of a program.
const FILL_JOIN: &str = r#"set -e
umask 077
read -r token; read -r hash; read -r key
while IFS= read -r line || [ -n "$line" ]; do
  line=${line//TUG_JOIN_TOKEN/"$token"}
  line=${line//TUG_JOIN_CA_CERT_HASH/"$hash"}
  printf '%s\n' "${line//TUG_JOIN_CERTIFICATE_KEY/"$key"}"
done < "$1" > "$2.tmp"
mv -f "$2.tmp" "$2""#;

/// The IPVS virtual server for the API before a node joins: the image's
/// `sealctl ipvs` when it has one, else ipvsadm.
const IPVS: &str = r#"set -e
sealctl=$1 vs=$2; shift 2
if [ -x "$sealctl" ]; then
  args=(); for rs in "$@"; do args+=(--rs "$rs"); done
  "$sealctl" ipvs --vs "$vs" "${args[@]}" --health-path /healthz --health-schem https --run-once
else
  ipvsadm -D -t "$vs" 2>/dev/null || true
  ipvsadm -A -t "$vs" -s rr
  for rs in "$@"; do ipvsadm -a -t "$vs" -r "$rs" -m -w 1; done
fi"#;

/// The kubeadm stages.
pub(crate) fn stages(ctx: &Ctx<'_>) -> Result<Vec<Option<Stage>>, InstallError> {
    let spec = ctx.spec;
    let etc = spec.etc_dir();
    let rootfs = spec.rootfs_dir();
    let m0 = ctx.master0;
    let init_cfg = format!("{etc}/kubeadm-init.yaml");
    let secrets_remote = format!("{etc}/kubeadm-join-secrets");
    let secrets_local = spec.local_dir.join("etc").join("kubeadm-join-secrets");
    let placeholders = JoinSecrets {
        token: TOKEN.into(),
        ca_cert_hash: CA_HASH.into(),
        certificate_key: CERT_KEY.into(),
    };
    let port = ctx.kubeadm.bind_port();

    let init = vec![
        write(Phase::KubeadmInit, m0, &init_cfg, ctx.kubeadm.init())?,
        run(
            Phase::KubeadmInit,
            m0,
            "audit-policy",
            script(AUDIT_POLICY, [rootfs.as_str()]),
        )?,
        unless_exists(
            run(
                Phase::KubeadmInit,
                m0,
                "kubeadm-init",
                kubeadm(&[
                    "init",
                    &format!("--config={init_cfg}"),
                    "--skip-certificate-key-print",
                    "--skip-token-print",
                ]),
            )?,
            ADMIN_CONF,
        ),
        run(
            Phase::KubeadmInit,
            m0,
            "kubeconfig",
            script(KUBECONFIG, Vec::<String>::new()),
        )?,
        Step::new(
            Phase::KubeadmInit,
            m0.id.clone(),
            "fetch-admin-conf",
            Action::Fetch {
                path: ADMIN_CONF.into(),
                to_local: spec.local_dir.join("admin.conf"),
            },
        )?,
    ];

    let masters: Vec<&HostSpec> = spec.masters().skip(1).collect();
    let nodes: Vec<&HostSpec> = spec.nodes().collect();
    if masters.is_empty() && nodes.is_empty() {
        return Ok(vec![one_by_one(Phase::KubeadmInit, init)]);
    }
    // The joining hosts are part of both steps' identity: a host added
    // later gets a fresh token instead of one that may have expired.
    let joining: Vec<String> = masters
        .iter()
        .chain(&nodes)
        .map(|h| h.id.to_string())
        .collect();
    let tag =
        crate::image::digest::Digest::of(joining.join(",").as_bytes()).hex()[..12].to_string();
    let mut args = vec![init_cfg.clone(), secrets_remote.clone()];
    args.extend(joining.iter().cloned());
    let secrets = vec![
        run(
            Phase::JoinMasters,
            m0,
            &format!("join-secrets@{tag}"),
            script(JOIN_SECRETS, args),
        )?,
        Step::new(
            Phase::JoinMasters,
            m0.id.clone(),
            &format!("fetch-join-secrets@{tag}"),
            Action::Fetch {
                path: secrets_remote.clone(),
                to_local: secrets_local.clone(),
            },
        )?,
    ];
    let fill =
        |phase, host: &HostSpec, kind: &str, join: &Step| -> Result<Vec<Step>, InstallError> {
            let cfg = format!("{etc}/kubeadm-join-{kind}.yaml");
            let template = match kind {
                "master" => ctx.kubeadm.join_master(host.ip, &placeholders),
                _ => ctx.kubeadm.join_node(host.ip, &placeholders),
            };
            let fill = Action::Send {
                source: Source::Fetched {
                    path: secrets_local.clone(),
                    identity: format!("join secrets of {}", spec.name),
                },
                to: script(FILL_JOIN, [format!("{cfg}.tug"), cfg.clone()]),
            };
            Ok(vec![
                write(phase, host, &format!("{cfg}.tug"), template)?,
                Step::new(phase, host.id.clone(), "join-config", fill)?
                    .fresh_for(SECRETS_FRESH_FOR)
                    .needed_by(vec![join.id.clone()]),
            ])
        };
    let mut joins: Vec<StepId> = Vec::new();

    let mut join_masters = Vec::new();
    for m in &masters {
        let cfg = format!("{etc}/kubeadm-join-master.yaml");
        let join = unless_exists(
            run(
                Phase::JoinMasters,
                m,
                "kubeadm-join",
                kubeadm(&["join", &format!("--config={cfg}")]),
            )?,
            KUBELET_CONF,
        );
        joins.push(join.id.clone());
        join_masters.extend(fill(Phase::JoinMasters, m, "master", &join)?);
        join_masters.push(run(
            Phase::JoinMasters,
            m,
            "audit-policy",
            script(AUDIT_POLICY, [rootfs.as_str()]),
        )?);
        join_masters.push(join);
        join_masters.push(run(
            Phase::JoinMasters,
            m,
            "apiserver-host",
            hosts_entry(&m.ip.to_string(), APISERVER_DOMAIN),
        )?);
        join_masters.push(run(
            Phase::JoinMasters,
            m,
            "kubeconfig",
            script(KUBECONFIG, Vec::<String>::new()),
        )?);
    }

    let vs = SocketAddr::new(ctx.kubeadm.vip(), port).to_string();
    let real: Vec<String> = spec
        .masters()
        .map(|m| SocketAddr::new(m.ip, port).to_string())
        .collect();
    let lvscare_image = ctx
        .rootfs
        .labels
        .get("image")
        .map(|i| crate::cluster::env::expand_label(i, ctx.rootfs.env.vars()))
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| DEFAULT_LVSCARE_IMAGE.into());
    let (mut templates, mut filled, mut ipvs, mut node_joins, mut pods) =
        (vec![], vec![], vec![], vec![], vec![]);
    for n in &nodes {
        let cfg = format!("{etc}/kubeadm-join-node.yaml");
        let join = unless_exists(
            run(
                Phase::JoinNodes,
                n,
                "kubeadm-join",
                kubeadm(&["join", &format!("--config={cfg}")]),
            )?,
            KUBELET_CONF,
        );
        joins.push(join.id.clone());
        let mut f = fill(Phase::JoinNodes, n, "node", &join)?.into_iter();
        templates.extend(f.next());
        filled.extend(f.next());
        let mut args = vec![format!("{rootfs}/opt/sealctl"), vs.clone()];
        args.extend(real.iter().cloned());
        ipvs.push(run(Phase::JoinNodes, n, "ipvs", script(IPVS, args))?);
        node_joins.push(join);
        let pod = lvscare_pod(&vs, &real, &lvscare_image, &n.ip.to_string());
        pods.push(Step::new(
            Phase::JoinNodes,
            n.id.clone(),
            "lvscare",
            Action::WriteFile {
                path: LVSCARE_MANIFEST.into(),
                mode: 0o644,
                content: Value::Plain(pod),
            },
        )?);
    }
    Ok(vec![
        one_by_one(Phase::KubeadmInit, init),
        one_by_one(
            Phase::JoinMasters,
            secrets
                .into_iter()
                .map(|s| s.fresh_for(SECRETS_FRESH_FOR).needed_by(joins.clone()))
                .collect(),
        ),
        one_by_one(Phase::JoinMasters, join_masters),
        ctx.parallel(Phase::JoinNodes, templates),
        ctx.parallel(Phase::JoinNodes, filled),
        ctx.parallel(Phase::JoinNodes, ipvs),
        ctx.parallel(Phase::JoinNodes, node_joins),
        ctx.parallel(Phase::JoinNodes, pods),
    ])
}

fn write(phase: Phase, host: &HostSpec, path: &str, content: String) -> Result<Step, InstallError> {
    let action = Action::WriteFile {
        path: path.into(),
        mode: 0o600,
        content: Value::Plain(content),
    };
    let key = path.rsplit('/').next().unwrap_or(path);
    Ok(Step::new(phase, host.id.clone(), key, action)?)
}

/// `kubeadm <args> -v 0 --ignore-preflight-errors=SystemVerification`, as sealos runs it.
fn kubeadm(args: &[&str]) -> crate::engine::command::Command {
    crate::engine::command::Command::new("kubeadm")
        .args(args.iter().copied())
        .args(["-v", "0", "--ignore-preflight-errors=SystemVerification"])
}

/// The lvscare static pod sealos writes on nodes (`sealctl static-pod lvscare`).
pub fn lvscare_pod(vs: &str, masters: &[String], image: &str, node_ip: &str) -> String {
    let mut args = vec!["care".to_string(), "--vs".into(), vs.into()];
    args.extend(["--health-path", "/healthz", "--health-schem", "https"].map(String::from));
    for m in masters {
        args.extend(["--rs".to_string(), m.clone()]);
    }
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kube-sealos-lvscare",
            "namespace": "kube-system",
            "labels": {"component": "kube-sealos-lvscare", "tier": "control-plane"},
        },
        "spec": {
            "hostNetwork": true,
            "priorityClassName": "system-node-critical",
            "containers": [{
                "name": "kube-sealos-lvscare",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["/usr/bin/lvscare"],
                "args": args,
                "env": [{"name": "LVSCARE_NODE_IP", "value": node_ip}],
                "securityContext": {"privileged": true},
                "volumeMounts": [{"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": true}],
            }],
            "volumes": [{"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}],
        },
    });
    serde_yaml::to_string(&pod).expect("JSON values serialise as YAML")
}
