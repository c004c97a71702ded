//! The sealos contract read from an image config: what kind of cluster image
//! it is (rootfs, application, patch), which Kubernetes version it carries,
//! the hook scripts the installer runs (with sealos's defaults for absent
//! ones), the lvscare image and VIP, env, cmd and entrypoint. `tug inspect`
//! prints it; the installer plans from it.

use super::digest::Digest;
use super::oci::{ImageConfig, Manifest};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Labels naming the image type; sealos reads either.
pub const TYPE_LABELS: [&str; 2] = ["sealos.io.type", "apps.sealos.io/type"];
/// Labels naming the sealos API version of the image; sealos reads either.
pub const SEALOS_VERSION_LABELS: [&str; 2] = ["sealos.io.version", "apps.sealos.io/version"];
/// The label carrying the Kubernetes version of a rootfs image.
pub const VERSION_LABEL: &str = "version";
/// The label carrying the lvscare (IPVS) image.
pub const LVSCARE_LABEL: &str = "image";
/// The label carrying the virtual IP of the API server.
pub const VIP_LABEL: &str = "vip";

/// Every script label the installer knows, in the order hooks run.
pub const SCRIPT_LABELS: [&str; 8] = [
    "check",
    "init-cri",
    "init",
    "init-registry",
    "auth",
    "clean",
    "clean-cri",
    "clean-registry",
];

/// Script labels sealos replaces with `bash <name>.sh` when absent.
pub const DEFAULTED_SCRIPTS: [&str; 5] =
    ["check", "init", "clean", "init-registry", "clean-registry"];

/// The kind of cluster image, which decides where it goes on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    /// The Kubernetes rootfs: goes to every node.
    Rootfs,
    /// An application: files and CMD on master0 only. Also the default.
    Application,
    /// Overlays the rootfs of the first image.
    Patch,
}

impl ImageType {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Rootfs => "rootfs",
            ImageType::Application => "application",
            ImageType::Patch => "patch",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an image config does not follow the contract.
#[derive(Debug, thiserror::Error)]
pub enum ClusterImageError {
    /// The type label holds something sealos does not know.
    #[error(
        "image {image}: label {label}={value:?} is not a cluster image type (rootfs, application or patch)"
    )]
    UnknownType {
        /// The image name.
        image: String,
        /// Which label.
        label: &'static str,
        /// Its value.
        value: String,
    },
}

/// A hook script: the command line from its label (or sealos's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The label name, e.g. `init-registry`.
    pub name: String,
    /// The command line, with `$var` references left for the remote shell.
    pub command: String,
    /// Whether the label was absent and sealos's default `bash <name>.sh` applies.
    pub defaulted: bool,
}

/// Environment variables in the order the image declares them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(pub Vec<(String, String)>);

impl Env {
    /// Parse `KEY=value` strings; a later duplicate replaces the earlier value
    /// in place, an entry without `=` has an empty value.
    pub fn parse(entries: &[String]) -> Env {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in entries {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            match out.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = v.to_string(),
                None => out.push((k.to_string(), v.to_string())),
            }
        }
        Env(out)
    }

    /// The value of one variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Serialize for Env {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One layer as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerInfo {
    /// The compressed blob's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The sealos contract of one image, read from its manifest and config.
#[derive(Debug, Clone)]
pub struct ClusterImage {
    /// The full reference it was read under.
    pub name: String,
    /// The single-platform manifest digest.
    pub digest: Digest,
    /// The config digest (the image id).
    pub id: Digest,
    /// rootfs, application or patch.
    pub image_type: ImageType,
    /// Kubernetes version (`version` label).
    pub version: Option<String>,
    /// sealos API version (`sealos.io.version` label).
    pub sealos_version: Option<String>,
    /// `os/arch[/variant]` from the config.
    pub platform: String,
    /// Creation time from the config (RFC 3339).
    pub created: Option<String>,
    /// Hook scripts in [`SCRIPT_LABELS`] order: present labels and sealos's defaults.
    pub scripts: Vec<Script>,
    /// The lvscare image (`image` label).
    pub lvscare_image: Option<String>,
    /// The VIP (`vip` label), usually `$defaultVIP`.
    pub vip: Option<String>,
    /// ENV in declaration order.
    pub env: Env,
    /// Every label.
    pub labels: BTreeMap<String, String>,
    /// CMD.
    pub cmd: Vec<String>,
    /// ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// Layers, bottom first.
    pub layers: Vec<LayerInfo>,
    /// Config plus layer bytes.
    pub size: u64,
}

impl ClusterImage {
    /// Read the contract from an image's manifest and config.
    pub fn from_parts(
        name: &str,
        digest: &Digest,
        manifest: &Manifest,
        config: &ImageConfig,
    ) -> Result<ClusterImage, ClusterImageError> {
        let rc = config.config.clone().unwrap_or_default();
        let labels = rc.labels.unwrap_or_default();
        let label = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k).cloned());
        let image_type = match TYPE_LABELS.iter().find_map(|k| Some((*k, labels.get(*k)?))) {
            None => ImageType::Application,
            Some((label, v)) => match v.trim().to_ascii_lowercase().as_str() {
                "rootfs" => ImageType::Rootfs,
                "application" | "" => ImageType::Application,
                "patch" => ImageType::Patch,
                _ => {
                    return Err(ClusterImageError::UnknownType {
                        image: name.to_string(),
                        label,
                        value: v.clone(),
                    });
                }
            },
        };
        let scripts = SCRIPT_LABELS
            .iter()
            .filter_map(|s| match labels.get(*s) {
                Some(cmd) => Some(Script {
                    name: s.to_string(),
                    command: cmd.clone(),
                    defaulted: false,
                }),
                None if DEFAULTED_SCRIPTS.contains(s) => Some(Script {
                    name: s.to_string(),
                    command: format!("bash {s}.sh"),
                    defaulted: true,
                }),
                None => None,
            })
            .collect();
        let mut platform = format!("{}/{}", config.os, config.architecture);
        if let Some(v) = &config.variant {
            platform = format!("{platform}/{v}");
        }
        Ok(ClusterImage {
            name: name.to_string(),
            digest: digest.clone(),
            id: manifest.config.digest.clone(),
            image_type,
            version: label(&[VERSION_LABEL]),
            sealos_version: label(&SEALOS_VERSION_LABELS),
            platform,
            created: config.created.clone(),
            scripts,
            lvscare_image: label(&[LVSCARE_LABEL]),
            vip: label(&[VIP_LABEL]),
            env: Env::parse(rc.env.as_deref().unwrap_or_default()),
            labels,
            cmd: rc.cmd.unwrap_or_default(),
            entrypoint: rc.entrypoint.unwrap_or_default(),
            layers: manifest
                .layers
                .iter()
                .map(|l| LayerInfo {
                    digest: l.digest.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                })
                .collect(),
            size: manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>(),
        })
    }

    /// Read the contract of an image loaded from the store.
    pub fn from_stored(img: &super::store::StoredImage) -> Result<ClusterImage, ClusterImageError> {
        Self::from_parts(
            &img.reference.to_string(),
            &img.manifest_digest,
            &img.manifest,
            &img.config,
        )
    }

    /// The command line of a hook (label or default), if it runs at all.
    pub fn script(&self, name: &str) -> Option<&Script> {
        self.scripts.iter().find(|s| s.name == name)
    }
}

impl Serialize for ClusterImage {
    /// The shape `tug inspect --json` prints (other tools and tests rely on it).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let scripts: serde_json::Map<String, serde_json::Value> = self
            .scripts
            .iter()
            .filter(|x| !x.defaulted)
            .map(|x| (x.name.clone(), x.command.clone().into()))
            .collect();
        let defaulted: Vec<&str> = self
            .scripts
            .iter()
            .filter(|x| x.defaulted)
            .map(|x| x.name.as_str())
            .collect();
        let mut m = s.serialize_map(Some(19))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("digest", &self.digest)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", &self.image_type)?;
        m.serialize_entry("version", &self.version)?;
        m.serialize_entry("sealosVersion", &self.sealos_version)?;
        m.serialize_entry("platform", &self.platform)?;
        m.serialize_entry("created", &self.created)?;
        m.serialize_entry("scripts", &scripts)?;
        m.serialize_entry("defaultedScripts", &defaulted)?;
        m.serialize_entry("lvscareImage", &self.lvscare_image)?;
        m.serialize_entry("vip", &self.vip)?;
        m.serialize_entry("env", &self.env)?;
        m.serialize_entry("labels", &self.labels)?;
        m.serialize_entry("cmd", &self.cmd)?;
        m.serialize_entry("entrypoint", &self.entrypoint)?;
        m.serialize_entry("layers", &self.layers)?;
        m.serialize_entry("size", &self.size)?;
        m.end()
    }
}

#[cfg(test)]
mod tests;
