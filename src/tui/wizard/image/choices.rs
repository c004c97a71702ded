//! The store's images as the image screen lists them: each name with the
//! details `tug inspect` shows (type, Kubernetes version, platform, size,
//! hooks, env) and the architectures it can be installed on.

use crate::engine::install::shell::is_secret_key;
use crate::image::cluster_image::{ClusterImage, ImageType};
use crate::image::oci::{Descriptor, Index, media};
use crate::image::{Reference, Store};

/// One image of the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// Its full name.
    pub name: String,
    /// The lines of its details.
    pub details: Vec<String>,
    /// The architectures stored for it (`amd64`, `arm64`): one for a
    /// manifest, each platform present for a multi-arch index.
    pub archs: Vec<String>,
    /// Its type (rootfs, application, patch), which decides where it goes
    /// in the install's order; none when it cannot be read.
    pub kind: Option<ImageType>,
}

/// Read every named image of `store` (an unreadable one is listed with why).
pub fn choices(store: &Store) -> Vec<Choice> {
    let mut names = store.names().unwrap_or_default();
    names.sort_by_key(|(r, _)| r.to_string());
    names
        .into_iter()
        .map(|(r, desc)| choice(store, &r, &desc))
        .collect()
}

fn choice(store: &Store, r: &Reference, desc: &Descriptor) -> Choice {
    let image = store
        .image(r, None)
        .map_err(|e| e.to_string())
        .and_then(|i| Ok((ClusterImage::from_stored(&i).map_err(|e| e.to_string())?, i)));
    let (details, mut archs, kind) = match image {
        Ok((ci, stored)) => (
            details(&ci),
            vec![stored.config.architecture],
            Some(ci.image_type),
        ),
        Err(e) => (vec![format!("cannot read it: {e}")], Vec::new(), None),
    };
    if media::is_index(&desc.media_type)
        && let Ok(index) = store.read_json::<Index>(&desc.digest, "index")
    {
        archs = index
            .manifests
            .iter()
            .filter(|m| store.has_blob(&m.digest))
            .filter_map(|m| m.platform.as_ref().map(|p| p.architecture.clone()))
            .collect();
        archs.sort();
        archs.dedup();
    }
    Choice {
        name: r.to_string(),
        details,
        archs,
        kind,
    }
}

fn details(ci: &ClusterImage) -> Vec<String> {
    let mut out = vec![
        format!("type: {}", ci.image_type),
        format!("kubernetes: {}", ci.version.as_deref().unwrap_or("-")),
        format!("platform: {}", ci.platform),
        format!("size: {}", bytesize::ByteSize(ci.size)),
        format!("layers: {}", ci.layers.len()),
        format!("digest: {}", ci.digest),
    ];
    let hooks: Vec<&str> = ci.scripts.iter().map(|s| s.name.as_str()).collect();
    out.push(format!("hooks: {}", hooks.join(", ")));
    out.push("env:".to_string());
    out.extend(ci.env.0.iter().map(|(k, v)| {
        // Passwords are never shown, not even an image's defaults.
        let secret = is_secret_key(k);
        format!("  {k}={}", if secret { "<masked>" } else { v })
    }));
    out
}
