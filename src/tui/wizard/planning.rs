//! What a plan job leaves for the review and the start of a run: the slot
//! the planned run waits in, and how the review shows the images and the
//! Clusterfile (every secret masked).

use crate::app::work::Work;
use crate::cluster::clusterfile::Clusterfile;
use crate::engine::install::shell::is_secret_key;
use crate::engine::spec::{ImageKind, ImageSpec};
use crate::secret::Secret;
use std::sync::{Arc, Mutex};

/// Where a planned run waits for Enter to start it.
pub type LaunchSlot = Arc<Mutex<Option<Work>>>;

/// The images as the install's title names them: the first (the rootfs)
/// in full, then how many patches and applications follow it
/// (`REF + 1 patch + 2 apps`).
pub fn shown(images: &[ImageSpec]) -> String {
    let Some((first, rest)) = images.split_first() else {
        return String::new();
    };
    let patches = rest.iter().filter(|i| i.kind == ImageKind::Patch).count();
    let apps = rest.len() - patches;
    let mut out = first.reference.clone();
    for (n, one, many) in [(patches, "patch", "patches"), (apps, "app", "apps")] {
        match n {
            0 => {}
            1 => out.push_str(&format!(" + 1 {one}")),
            n => out.push_str(&format!(" + {n} {many}")),
        }
    }
    out
}

/// The Clusterfile as YAML with every secret (SSH, env passwords) masked.
pub fn masked(cf: &Clusterfile) -> anyhow::Result<String> {
    let mut cf = cf.clone();
    let hide = |s: &mut Option<Secret>| {
        if s.is_some() {
            *s = Some(Secret::new("******"));
        }
    };
    let spec = &mut cf.cluster.spec;
    for ssh in spec
        .ssh
        .iter_mut()
        .chain(spec.hosts.iter_mut().filter_map(|h| h.ssh.as_mut()))
    {
        hide(&mut ssh.passwd);
        hide(&mut ssh.pk_passwd);
        hide(&mut ssh.pk_data);
    }
    for kv in &mut spec.env {
        if let Some((k, _)) = kv.split_once('=')
            && is_secret_key(k)
        {
            *kv = format!("{k}=******");
        }
    }
    Ok(cf.to_yaml()?)
}
