//! Render, check, registry, `/etc/hosts` and init: sealos's bootstrap
//! (labring-contract §3.2 step 6), every hook as
//! `cd <rootfs>/scripts && export … && bash <label>`.

use super::shell::{hook, hosts_entry, script, secret_values};
use super::{Ctx, DEFAULT_REGISTRY_DATA, InstallError, one_by_one, run};
use crate::engine::command::{Secret, Value};
use crate::engine::plan::{Action, Phase, Stage, Step};
use crate::engine::spec::{HostSpec, ImageKind, ImageSpec, Role};
use crate::kubeadm::APISERVER_DOMAIN;
use crate::template::Template;
use crate::template::render_dir::TEMPLATE_SUFFIXES;
use sha2::Digest as _;

/// Where nodes find their own address for lvscare.
pub const LVSCARE_NODE_IP: &str = "lvscare.node.ip";

/// `/var/lib/registry` (registryData) becomes a link to `<rootfs>/registry`;
/// data already in a real dir there is never deleted.
const REGISTRY_LINK: &str = r#"set -e
data=$1 target=$2
mkdir -p -- "$target"
if [ -L "$data" ]; then ln -sfn -- "$target" "$data"
elif [ -d "$data" ]; then
  if [ -n "$(ls -A -- "$data")" ]; then echo "$data holds data; move it away so tug can link it to $target" >&2; exit 1; fi
  rmdir -- "$data"; ln -s -- "$target" "$data"
elif [ -e "$data" ]; then echo "$data is not a directory; remove it" >&2; exit 1
else mkdir -p -- "$(dirname -- "$data")"; ln -s -- "$target" "$data"; fi"#;

/// Wait up to 120 s for the registry to accept connections, trying every
/// 0.2 s (it is usually up within a second).
const WAIT_PORT: &str = r#"for i in $(seq 600); do
  if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then exit 0; fi
  sleep 0.2
done
echo "the registry at $1:$2 did not answer within 120s" >&2
exit 1"#;

/// The bootstrap stages.
pub(crate) fn stages(ctx: &Ctx<'_>) -> Result<Vec<Option<Stage>>, InstallError> {
    let spec = ctx.spec;
    let rootfs = spec.rootfs_dir();
    let hosts = &spec.hosts;
    let each =
        |phase, key: &str, f: &dyn Fn(&HostSpec) -> Option<crate::engine::command::Command>| {
            hosts
                .iter()
                .filter_map(|h| f(h).map(|cmd| run(phase, h, key, cmd)))
                .collect::<Result<Vec<Step>, _>>()
        };
    let (domain, port, registry_ip) = &ctx.registry;
    let check_label = ctx.hook_label("check");
    let init_label = ctx.hook_label("init");
    let vip = ctx.kubeadm.vip().to_string();
    let master0_ip = ctx.master0.ip.to_string();

    let mut registry = Vec::new();
    for host in &ctx.registry_hosts {
        let env = ctx.env_of(host);
        let data = env
            .get("registryData")
            .filter(|d| !d.is_empty())
            .unwrap_or(DEFAULT_REGISTRY_DATA);
        let link = script(
            REGISTRY_LINK,
            [data.to_string(), format!("{rootfs}/registry")],
        );
        registry.push(run(Phase::Registry, host, "link", link)?);
        if let Some(auth) = &spec.registry_auth {
            let line = htpasswd(&spec.name, &auth.username, auth.password.expose())?;
            let write = Action::WriteFile {
                path: format!("{rootfs}/./etc/registry_htpasswd"),
                mode: 0o600,
                content: Value::Secret(Secret::new(line)),
            };
            registry.push(Step::new(
                Phase::Registry,
                host.id.clone(),
                "htpasswd",
                write,
            )?);
        }
        let init = hook(&rootfs, env, &ctx.hook_label("init-registry"));
        registry.push(run(Phase::Registry, host, "init-registry", init)?);
        let wait = script(WAIT_PORT, [domain.as_str(), port.as_str()]);
        registry.push(run(Phase::Registry, host, "wait", wait)?);
    }

    Ok(vec![
        ctx.parallel(Phase::Render, render_steps(ctx)?),
        ctx.parallel(Phase::Render, super::configs::steps(ctx)?),
        ctx.parallel(
            Phase::Check,
            each(Phase::Check, "check", &|h| {
                Some(hook(&rootfs, ctx.env_of(h), &check_label))
            })?,
        ),
        ctx.parallel(
            Phase::Registry,
            each(Phase::Registry, "hosts", &|_| {
                Some(hosts_entry(registry_ip, domain))
            })?,
        ),
        one_by_one(Phase::Registry, registry),
        // Only where the image names it, as sealos runs it (k3s images do).
        ctx.parallel(
            Phase::Init,
            each(Phase::Init, "init-cri", &|h| {
                let label = ctx.labels.get("init-cri")?;
                Some(hook(&rootfs, ctx.env_of(h), label))
            })?,
        ),
        ctx.parallel(
            Phase::Init,
            each(Phase::Init, "apiserver-host", &|h| {
                let ip = if h.has(Role::Master) {
                    &master0_ip
                } else {
                    &vip
                };
                Some(hosts_entry(ip, APISERVER_DOMAIN))
            })?,
        ),
        ctx.parallel(
            Phase::Init,
            each(Phase::Init, "lvscare-host", &|h| {
                (!h.has(Role::Master)).then(|| hosts_entry(&h.ip.to_string(), LVSCARE_NODE_IP))
            })?,
        ),
        ctx.parallel(
            Phase::Init,
            each(Phase::Init, "init", &|h| {
                Some(hook(&rootfs, ctx.env_of(h), &init_label))
            })?,
        ),
        ctx.parallel(
            Phase::Init,
            each(Phase::Init, "kubeadm-on-path", &|_| {
                Some(script(KUBEADM_ON_PATH, [init_label.as_str()]))
            })?,
        ),
    ])
}

/// Fails, naming the fix, when the image's init hook (`$1`) left no
/// `kubeadm` on PATH: kubeadm init or join would fail later, after the
/// registry and every host's init had run.
const KUBEADM_ON_PATH: &str = r#"command -v kubeadm >/dev/null 2>&1 && exit 0
echo "kubeadm is not on PATH ($PATH) after the image's init hook (bash $1); it should install kubeadm into BIN_DIR, or set BIN_DIR to a directory on PATH" >&2
exit 1"#;

/// Every template of every image, rendered on the jump host with each
/// receiving host's env and written beside the template, as `sealctl
/// render` does on the host.
pub(crate) fn render_steps(ctx: &Ctx<'_>) -> Result<Vec<Step>, InstallError> {
    let spec = ctx.spec;
    let mut steps = Vec::new();
    for image in &spec.images {
        let (hosts, dir): (Vec<&HostSpec>, String) = match image.kind {
            ImageKind::Rootfs | ImageKind::Patch => {
                (spec.hosts.iter().collect(), spec.rootfs_dir())
            }
            ImageKind::Application => (vec![ctx.master0], spec.app_dir(image)),
        };
        for host in hosts {
            steps.extend(render_image(ctx, image, host, &dir)?);
        }
    }
    Ok(steps)
}

fn render_image(
    ctx: &Ctx<'_>,
    image: &ImageSpec,
    host: &HostSpec,
    dir: &str,
) -> Result<Vec<Step>, InstallError> {
    let env = if image.kind == ImageKind::Rootfs {
        ctx.env_of(host).clone()
    } else {
        image
            .env
            .for_host(host.id.as_str(), &host.env, &host.run_mode())?
            .env
    };
    let secrets = secret_values(&env);
    let mut steps = Vec::new();
    for t in &image.templates {
        let Some(out) = TEMPLATE_SUFFIXES
            .iter()
            .find_map(|s| t.path.strip_suffix(s))
        else {
            continue;
        };
        let fail = |source| InstallError::Template {
            image: image.reference.clone(),
            host: host.id.to_string(),
            source,
        };
        let text = Template::parse(&t.path, &t.source)
            .and_then(|tpl| tpl.render(env.vars()))
            .map_err(fail)?;
        let content = if secrets.iter().any(|s| text.contains(s)) {
            Value::Secret(Secret::new(text))
        } else {
            Value::Plain(text)
        };
        // A rendered file holding a secret is readable by root alone; the
        // others are 0755, as sealos leaves every file of its trees.
        let mode = if content.secret().is_some() {
            0o600
        } else {
            0o755
        };
        let write = Action::WriteFile {
            path: format!("{dir}/./{out}"),
            mode,
            content,
        };
        let key = format!("{}:{out}", image.name);
        steps.push(Step::new(Phase::Render, host.id.clone(), &key, write)?);
    }
    Ok(steps)
}

/// bcrypt's cost for the htpasswd, as sealos uses (Go's `bcrypt.DefaultCost`).
const HTPASSWD_COST: u32 = 10;

/// `user:bcrypt(password)` for the registry's htpasswd. The salt is derived
/// from the cluster, user and password, so the same inputs give the same
/// line and a re-run does not rewrite the file (a random salt would make
/// every plan different); a changed password changes it.
pub fn htpasswd(cluster: &str, user: &str, password: &str) -> Result<String, InstallError> {
    let digest = sha2::Sha256::new()
        .chain_update(b"tug registry htpasswd\0")
        .chain_update(cluster.as_bytes())
        .chain_update(b"\0")
        .chain_update(user.as_bytes())
        .chain_update(b"\0")
        .chain_update(password.as_bytes())
        .finalize();
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&digest[..16]);
    let hash = bcrypt::hash_with_salt(password, HTPASSWD_COST, salt)
        .map_err(|e| InstallError::Htpasswd(e.to_string()))?;
    Ok(format!(
        "{user}:{}",
        hash.format_for_version(bcrypt::Version::TwoY)
    ))
}
