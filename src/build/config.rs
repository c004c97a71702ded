//! The new image's config: the base config (or a fresh one for scratch)
//! with the Kubefile's labels, env, CMD, ENTRYPOINT and author applied, the
//! new layers' diff ids appended, and history entries for every step. No
//! wall-clock time goes in, so the same inputs give the same config bytes.

use super::kubefile::{Instruction, Kubefile};
use crate::image::Digest;
use crate::image::oci::{ImageConfig, Platform};
use serde_json::json;

/// The fixed creation time of built images (reproducible builds).
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// The label saying what kind of cluster image this is.
pub const TYPE_LABEL: &str = "sealos.io.type";

/// What the build added, for the config.
pub struct NewLayers {
    /// Diff id of the COPY layer, if any.
    pub copy: Option<Digest>,
    /// Diff id of the `registry/` layer and how many images it holds.
    pub registry: Option<(Digest, usize)>,
}

/// Compose the config. `scratch_rootfs` is true for FROM scratch contexts
/// holding `bin/kubeadm`, which default to `sealos.io.type=rootfs`.
pub fn compose(
    base: Option<&ImageConfig>,
    kubefile: &Kubefile,
    platform: &Platform,
    scratch_rootfs: bool,
    new: &NewLayers,
) -> ImageConfig {
    let mut cfg = base.cloned().unwrap_or_else(|| ImageConfig {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        ..Default::default()
    });
    cfg.created = Some(EPOCH.to_string());
    let mut rc = cfg.config.take().unwrap_or_default();
    let mut labels = rc.labels.take().unwrap_or_default();
    let mut env = rc.env.take().unwrap_or_default();
    let (mut cmd, mut entrypoint): (Option<Vec<String>>, Option<Vec<String>>) = (None, None);
    let mut history = std::mem::take(&mut cfg.history);
    for step in &kubefile.steps {
        match &step.instruction {
            Instruction::Env(pairs) => {
                for (k, v) in pairs {
                    let entry = format!("{k}={v}");
                    match env.iter_mut().find(|e| e.split('=').next() == Some(k)) {
                        Some(e) => *e = entry,
                        None => env.push(entry),
                    }
                }
            }
            Instruction::Label(pairs) => labels.extend(pairs.iter().cloned()),
            Instruction::Cmd(c) => cmd.get_or_insert_with(Vec::new).extend(c.elements()),
            Instruction::Entrypoint(c) => {
                entrypoint.get_or_insert_with(Vec::new).extend(c.elements())
            }
            Instruction::Maintainer(m) => cfg.author = Some(m.clone()),
            Instruction::Copy { .. } => {}
        }
        history.push(json!({"created": EPOCH, "created_by": format!("KUBEFILE {}", step.text.trim()), "empty_layer": true}));
    }
    if entrypoint.is_some() && cmd.is_none() {
        // As in Dockerfiles: a new ENTRYPOINT drops the inherited CMD.
        rc.cmd = None;
    }
    if let Some(c) = cmd {
        rc.cmd = Some(c);
    }
    if let Some(e) = entrypoint {
        rc.entrypoint = Some(e);
    }
    if !labels.contains_key(TYPE_LABEL) && !labels.contains_key("apps.sealos.io/type") {
        let kind = if base.is_none() && scratch_rootfs {
            "rootfs"
        } else {
            "application"
        };
        labels.insert(TYPE_LABEL.to_string(), kind.to_string());
    }
    rc.labels = Some(labels);
    rc.env = (!env.is_empty()).then_some(env);
    cfg.config = Some(rc);
    if let Some(d) = &new.copy {
        cfg.rootfs.diff_ids.push(d.clone());
        history.push(json!({"created": EPOCH, "created_by": "tug build: files added by COPY"}));
    }
    if let Some((d, n)) = &new.registry {
        cfg.rootfs.diff_ids.push(d.clone());
        history.push(json!({"created": EPOCH, "created_by": format!("tug build: registry/ with {n} container images")}));
    }
    cfg.history = history;
    cfg
}
