//! The environment a cluster image's templates, label hooks and commands see,
//! built the way sealos builds it so official images run unchanged.
//!
//! Precedence, lowest first: the image's `ENV` < Clusterfile `spec.env` <
//! `-e/--env` flags < the host's `spec.hosts[].env`. Users cannot set
//! `SEALOS_SYS*` keys (they are refused with a warning, as sealos does);
//! tug sets `SEALOS_SYS_KUBE_VERSION` and `SEALOS_SYS_SEALOS_VERSION` for
//! rootfs images, `SEALOS_SYS_IMAGE_ENDPOINT` when the image lacks it, and
//! `SEALOS_SYS_RUN_MODE` per host. `SEALOS_SYS_CRI_ENDPOINT` comes from the
//! image's `ENV` only.
//!
//! Hooks (`engine::install::shell::hook`) get their env exported with
//! single-quoted values (sealos writes
//! `k="v"`, which lets `$(…)`, backquotes, `$x` and `"` in a value run or
//! break the command; single quotes pass every byte literally). The one
//! visible difference: a value that relied on the host shell expanding it
//! (e.g. `-e DIR=$HOME/x`) is now passed as written.

use crate::secret::MASK;
use std::collections::BTreeMap;
use std::fmt;

/// Keys users may not set (sealos filters this prefix).
pub const RESERVED_PREFIX: &str = "SEALOS_SYS";
/// The Kubernetes version: the rootfs image's `version` label.
pub const KUBE_VERSION: &str = "SEALOS_SYS_KUBE_VERSION";
/// The sealos version tug stands in for; see [`SEALOS_COMPAT_VERSION`].
pub const SEALOS_VERSION: &str = "SEALOS_SYS_SEALOS_VERSION";
/// The CRI socket, set by the image's `ENV`.
pub const CRI_ENDPOINT: &str = "SEALOS_SYS_CRI_ENDPOINT";
/// The image-cri-shim socket, set by the image's `ENV` (images built after
/// September 2023) or [`DEFAULT_IMAGE_ENDPOINT`].
pub const IMAGE_ENDPOINT: &str = "SEALOS_SYS_IMAGE_ENDPOINT";
/// The host's roles joined by `,` (e.g. `master,registry`); k3s images read it.
pub const RUN_MODE: &str = "SEALOS_SYS_RUN_MODE";
/// Where image-cri-shim listens when the image does not say.
pub const DEFAULT_IMAGE_ENDPOINT: &str = "/var/run/image-cri-shim.sock";
/// The value of `SEALOS_SYS_SEALOS_VERSION`: sealos's latest stable release
/// (v5.1.1, written without the `v` as sealos's goreleaser does), whose
/// image contract tug implements. No official image reads it; a script that
/// did would be asking "which sealos behaviour do I get", and the answer is
/// the 5.x contract.
pub const SEALOS_COMPAT_VERSION: &str = "5.1.1";

/// Variables by name, sorted so output (exports, plans) is stable.
pub type EnvMap = BTreeMap<String, String>;

/// Where a pair came from; named in errors and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    Image,
    Clusterfile,
    Flag,
    /// `spec.hosts[].env` of this host.
    Host(String),
}

impl fmt::Display for EnvSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvSource::Image => f.write_str("image ENV"),
            EnvSource::Clusterfile => f.write_str("Clusterfile spec.env"),
            EnvSource::Flag => f.write_str("-e/--env"),
            EnvSource::Host(h) => write!(f, "env of host {h}"),
        }
    }
}

/// A user-supplied pair tug cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("{origin}: {entry:?} is not KEY=VALUE")]
    MissingEquals { origin: EnvSource, entry: String },
    #[error(
        "{origin}: {key:?} is not a valid variable name (letters, digits and _, not starting with a digit)"
    )]
    BadKey { origin: EnvSource, key: String },
    #[error("{origin}: the value of {key} contains a NUL byte")]
    NulByte { origin: EnvSource, key: String },
}

/// A pair that was dropped, to be shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWarning {
    pub origin: EnvSource,
    pub key: String,
    pub reason: WarningReason,
}

/// Why a pair was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningReason {
    /// A user set a `SEALOS_SYS*` key.
    Reserved,
    /// The image's `ENV` has a key no shell can export, or a NUL in a value.
    Unexportable,
}

impl fmt::Display for EnvWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            WarningReason::Reserved => "SEALOS_SYS* variables are set by tug",
            WarningReason::Unexportable => "it cannot be exported to a shell",
        };
        write!(f, "ignoring {} from {}: {why}", self.key, self.origin)
    }
}

/// An env and what was dropped while building it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub env: Env,
    pub warnings: Vec<EnvWarning>,
}

/// The inputs of one image's env, in precedence order. No `Debug`: the
/// entries hold secret values as plain text.
#[derive(Clone, Copy)]
pub struct EnvInputs<'a> {
    /// The image config's `ENV` (`PATH` is ignored, as sealos does).
    pub image_env: &'a EnvMap,
    /// `Some(version label)` for a rootfs image ("" when the label is
    /// missing): tug's `SEALOS_SYS_*` built-ins are only set for rootfs.
    pub rootfs_version: Option<&'a str>,
    /// Clusterfile `spec.env` entries, `KEY=VALUE`.
    pub cluster_env: &'a [String],
    /// `-e/--env` entries, `KEY=VALUE`.
    pub flags: &'a [String],
}

/// A resolved environment: what templates get as data and hooks get exported.
/// Its `Debug` masks the values of secret-looking keys ([`is_secret_key`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: EnvMap,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.vars.iter().map(|(k, v)| {
            let v = if is_secret_key(k) { MASK } else { v.as_str() };
            (k, v)
        });
        f.debug_map().entries(shown).finish()
    }
}

/// Whether an env key holds a secret (`registryPassword`, `apiToken`…):
/// masked in plans, logs, events and screens.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "passwd", "token", "secret"]
        .iter()
        .any(|w| k.contains(w))
}

impl Env {
    /// Builds an image's env from its inputs.
    pub fn resolve(inputs: &EnvInputs<'_>) -> Result<Resolved, EnvError> {
        let mut vars = EnvMap::new();
        let mut warnings = Vec::new();
        for (key, value) in inputs.image_env {
            if key == "PATH" {
                continue;
            }
            if is_name(key) && !value.contains('\0') {
                vars.insert(key.clone(), value.clone());
            } else {
                warnings.push(EnvWarning {
                    origin: EnvSource::Image,
                    key: key.clone(),
                    reason: WarningReason::Unexportable,
                });
            }
        }
        apply(
            &mut vars,
            &mut warnings,
            EnvSource::Clusterfile,
            inputs.cluster_env,
        )?;
        apply(&mut vars, &mut warnings, EnvSource::Flag, inputs.flags)?;
        if let Some(version) = inputs.rootfs_version {
            vars.insert(KUBE_VERSION.into(), version.into());
            vars.insert(SEALOS_VERSION.into(), SEALOS_COMPAT_VERSION.into());
            vars.entry(IMAGE_ENDPOINT.into())
                .or_insert_with(|| DEFAULT_IMAGE_ENDPOINT.into());
        }
        Ok(Resolved {
            env: Env { vars },
            warnings,
        })
    }

    /// This env for one host: its `spec.hosts[].env` entries on top, and
    /// `SEALOS_SYS_RUN_MODE` = its roles joined by `,`.
    pub fn for_host(
        &self,
        host: &str,
        host_env: &[String],
        roles: &[String],
    ) -> Result<Resolved, EnvError> {
        let mut vars = self.vars.clone();
        let mut warnings = Vec::new();
        apply(
            &mut vars,
            &mut warnings,
            EnvSource::Host(host.into()),
            host_env,
        )?;
        vars.insert(RUN_MODE.into(), roles.join(","));
        Ok(Resolved {
            env: Env { vars },
            warnings,
        })
    }

    /// One variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// All variables: the data templates render with.
    pub fn vars(&self) -> &EnvMap {
        &self.vars
    }
}

/// Parses `KEY=VALUE` entries (split at the first `=`), refusing bad ones.
pub fn parse_pairs(
    origin: &EnvSource,
    entries: &[String],
) -> Result<Vec<(String, String)>, EnvError> {
    entries
        .iter()
        .map(|entry| {
            let (key, value) = entry
                .split_once('=')
                .ok_or_else(|| EnvError::MissingEquals {
                    origin: origin.clone(),
                    entry: entry.clone(),
                })?;
            if !is_name(key) {
                return Err(EnvError::BadKey {
                    origin: origin.clone(),
                    key: key.into(),
                });
            }
            if value.contains('\0') {
                return Err(EnvError::NulByte {
                    origin: origin.clone(),
                    key: key.into(),
                });
            }
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

fn apply(
    vars: &mut EnvMap,
    warnings: &mut Vec<EnvWarning>,
    origin: EnvSource,
    entries: &[String],
) -> Result<(), EnvError> {
    for (key, value) in parse_pairs(&origin, entries)? {
        if key.starts_with(RESERVED_PREFIX) {
            warnings.push(EnvWarning {
                origin: origin.clone(),
                key,
                reason: WarningReason::Reserved,
            });
        } else {
            vars.insert(key, value);
        }
    }
    Ok(())
}

/// A shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// Expands `$(K)`, `${K}` and `$K` in a label value (`vip`, `image`) from
/// `env`; references to unknown names stay as written.
pub fn expand_label(text: &str, env: &EnvMap) -> String {
    expand(text, env, false)
}

/// Expands an application's CMD/ENTRYPOINT element like sealos (Kubernetes'
/// expansion rules): `$(K)`, `${K}`, `$K` become the value, `$$` becomes
/// `$`, and an unknown name becomes `$(K)`.
pub fn expand_command(text: &str, env: &EnvMap) -> String {
    expand(text, env, true)
}

fn expand(text: &str, env: &EnvMap, command: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if command && after.starts_with('$') {
            out.push('$');
            rest = &after[1..];
            continue;
        }
        let Some((name, len)) = reference(after) else {
            out.push('$');
            rest = after;
            continue;
        };
        match env.get(name) {
            Some(value) => out.push_str(value),
            None if command => out.push_str(&format!("$({name})")),
            None => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// The name a `$` refers to (`(NAME)`, `{NAME}` or `NAME`) and how many
/// bytes after the `$` the reference spans; None when it is no reference.
/// Labels' `$vars` and an application CMD's `$(VAR)` are read alike.
pub fn reference(after: &str) -> Option<(&str, usize)> {
    let close = match after.chars().next()? {
        '(' => ')',
        '{' => '}',
        _ => {
            let len = after
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(after.len());
            return (len > 0).then(|| (&after[..len], len));
        }
    };
    let end = after.find(close)?;
    Some((&after[1..end], end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_secret_values() {
        let env = Env {
            vars: [("registryPassword", "hunter2"), ("registryPort", "5000")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        };
        let shown = format!("{env:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("5000"),
            "{shown}"
        );
        assert!(is_secret_key("apiToken") && !is_secret_key("registryPort"));
    }
}
