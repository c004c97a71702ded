//! What makes a Clusterfile unusable (errors) or suspicious (warnings),
//! each finding named by file, line and field path.

use super::clusterfile::{CONFIG_KIND, Clusterfile};
use super::hosts::{Address, Arch, BastionAddr, Role, RoleEntry};
use super::model::Ssh;
use super::problem::{Problem, Severity};
use crate::image::Reference;
use serde_yaml::Value;
use std::collections::HashMap;

/// The strategies a sealos `Config` document may use.
pub const CONFIG_STRATEGIES: [&str; 4] = ["merge", "override", "insert", "append"];

/// Check a Clusterfile: no master, duplicate hosts, a host both master and
/// node, bad addresses, unknown roles, no image, env without `=`, bad
/// Config documents; an even number of masters is a warning.
pub fn check(cf: &Clusterfile) -> Vec<Problem> {
    let mut out = Vec::new();
    let err = |field: &str, msg: String| cf.cluster_problem(Severity::Error, field, msg);
    let spec = &cf.cluster.spec;

    if let Some(name) = &cf.cluster.metadata.name
        && let Err(msg) = check_name(name)
    {
        out.push(err("metadata.name", msg));
    }
    if spec.image.is_empty() {
        out.push(err(
            "spec.image",
            "no image: list at least the cluster image".into(),
        ));
    }
    for (i, image) in spec.image.iter().enumerate() {
        if let Err(e) = image.parse::<Reference>() {
            out.push(err(&format!("spec.image[{i}]"), e.to_string()));
        }
    }
    check_env_list(cf, "spec.env", &spec.env, &mut out);
    if !spec.command.is_empty() && spec.image.is_empty() {
        out.push(err(
            "spec.command",
            "replaces the first image's CMD, but there is no image".into(),
        ));
    }

    check_bastion(cf, "spec.ssh", spec.ssh.as_ref(), &mut out);
    let mut seen: HashMap<(std::net::IpAddr, u16), String> = HashMap::new();
    let mut masters = 0usize;
    let default_port = spec.ssh.as_ref().and_then(|s| s.port).unwrap_or(22);
    for (h, host) in spec.hosts.iter().enumerate() {
        let at = |f: &str| format!("spec.hosts[{h}]{f}");
        let port = host
            .ssh
            .as_ref()
            .and_then(|s| s.port)
            .unwrap_or(default_port);
        let (mut is_master, mut is_node, mut arch): (bool, bool, Option<Arch>) =
            (false, false, None);
        for (r, role) in host.roles.iter().enumerate() {
            match role.parse::<RoleEntry>() {
                Ok(RoleEntry::Role(Role::Master)) => is_master = true,
                Ok(RoleEntry::Role(Role::Node)) => is_node = true,
                Ok(RoleEntry::Role(Role::Registry)) => {}
                Ok(RoleEntry::Arch(a)) => {
                    if arch.is_some_and(|b| b != a) {
                        out.push(err(
                            &at(&format!(".roles[{r}]")),
                            "two architectures for one host".into(),
                        ));
                    }
                    arch = Some(a);
                }
                Err(e) => out.push(err(&at(&format!(".roles[{r}]")), e.to_string())),
            }
        }
        if host.roles.is_empty() {
            out.push(err(&at(".roles"), "no role: give master or node".into()));
        }
        if is_master && is_node {
            out.push(err(
                &at(".roles"),
                "a host is either master or node, not both".into(),
            ));
        }
        if host.ips.is_empty() {
            out.push(err(&at(".ips"), "no addresses".into()));
        }
        for (i, ip) in host.ips.iter().enumerate() {
            let field = at(&format!(".ips[{i}]"));
            match ip.parse::<Address>() {
                Ok(a) => {
                    let a = a.with_default_port(port);
                    let key = (a.ip, a.port_or(port));
                    if let Some(first) = seen.get(&key) {
                        out.push(err(&field, format!("duplicate host {a} (also at {first})")));
                    } else {
                        seen.insert(key, field);
                    }
                    masters += usize::from(is_master);
                }
                Err(e) => out.push(err(&field, e.to_string())),
            }
        }
        check_env_list(cf, &at(".env"), &host.env, &mut out);
        check_bastion(cf, &at(".ssh"), host.ssh.as_ref(), &mut out);
    }
    if masters == 0 {
        out.push(err(
            "spec.hosts",
            "no master: give at least one host the role master".into(),
        ));
    } else if masters.is_multiple_of(2) {
        out.push(cf.cluster_problem(
            Severity::Warning,
            "spec.hosts",
            format!("{masters} masters: etcd needs a majority, so an even count tolerates no more failures than one master fewer"),
        ));
    }

    for (d, doc) in cf.documents.iter().enumerate() {
        out.extend(check_document(cf, d, &doc.kind, &doc.value));
    }
    for (field, message) in super::typos::unknown_fields(spec) {
        out.push(cf.cluster_problem(Severity::Warning, &field, message));
    }
    out
}

/// A cluster name: it names a directory, so letters, digits, `-`, `_`, `.`,
/// at most 63, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if name.is_empty() || name.len() > 63 || name.starts_with('.') || !ok_chars {
        return Err(format!(
            "{name:?}: a cluster name is 1-63 letters, digits, '-', '_' or '.', not starting with '.'"
        ));
    }
    Ok(())
}

/// A `K=V` entry as [`super::env`] accepts it: a shell variable name
/// (`[A-Za-z_][A-Za-z0-9_]*`) before the first `=`, no NUL in the value.
pub fn check_env(kv: &str) -> Result<(), String> {
    let Some((key, value)) = kv.split_once('=') else {
        return Err(format!("{kv:?}: want NAME=VALUE"));
    };
    let mut bytes = key.bytes();
    let is_name = matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric());
    if !is_name {
        return Err(format!(
            "{key:?} is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    if value.contains('\0') {
        return Err(format!("the value of {key} contains a NUL byte"));
    }
    Ok(())
}

/// Env entries of `field` (`spec.env`, `spec.hosts[1].env`): errors for bad
/// entries, a warning for `SEALOS_SYS*` keys, which tug sets and ignores.
/// `ssh.bastion` of the block at `field` must be `USER@HOST[:PORT]`.
fn check_bastion(cf: &Clusterfile, field: &str, ssh: Option<&Ssh>, out: &mut Vec<Problem>) {
    if let Some(b) = ssh.and_then(|s| s.bastion.as_deref())
        && let Err(e) = b.parse::<BastionAddr>()
    {
        let field = format!("{field}.bastion");
        out.push(cf.cluster_problem(Severity::Error, &field, e.to_string()));
    }
}

fn check_env_list(cf: &Clusterfile, field: &str, list: &[String], out: &mut Vec<Problem>) {
    for (i, kv) in list.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match check_env(kv) {
            Err(msg) => out.push(cf.cluster_problem(Severity::Error, &at, msg)),
            Ok(()) if kv.starts_with(super::env::RESERVED_PREFIX) => {
                let key = kv.split('=').next().unwrap_or_default();
                let msg = format!("{key} is set by tug; this entry is ignored");
                out.push(cf.cluster_problem(Severity::Warning, &at, msg));
            }
            Ok(()) => {}
        }
    }
}

fn check_document(cf: &Clusterfile, d: usize, kind: &str, v: &Value) -> Vec<Problem> {
    let err = |field: &str, msg: String| cf.document_problem(Severity::Error, d, field, msg);
    let mut out = Vec::new();
    if v.get("apiVersion")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(err("apiVersion", format!("missing in the {kind} document")));
    }
    if kind != CONFIG_KIND {
        return out;
    }
    let spec = v.get("spec");
    if !spec.is_some_and(Value::is_mapping) {
        out.push(err(
            "spec",
            "a Config needs a spec with path and data".into(),
        ));
        return out;
    }
    let s = |k: &str| spec.and_then(|s| s.get(k));
    match s("path").and_then(Value::as_str) {
        Some(p) if !p.is_empty() && !p.starts_with('/') && !p.split('/').any(|c| c == "..") => {}
        Some(p) => out.push(err(
            "spec.path",
            format!("{p:?}: want a path inside the image"),
        )),
        None => out.push(err(
            "spec.path",
            "missing: the file to write, relative to the image".into(),
        )),
    }
    if !s("data").is_some_and(Value::is_string) {
        out.push(err("spec.data", "missing or not a string".into()));
    }
    match s("strategy") {
        None => {}
        Some(Value::String(st)) if CONFIG_STRATEGIES.contains(&st.as_str()) => {}
        Some(other) => {
            let shown = serde_yaml::to_string(other).unwrap_or_default();
            let msg = format!(
                "{} is not one of {}",
                shown.trim(),
                CONFIG_STRATEGIES.join(", ")
            );
            out.push(err("spec.strategy", msg));
        }
    }
    out
}
