//! Builds a [`ClusterSpec`] from the images in the local store and the
//! cluster's inputs. This is the one impure step before planning: it reads
//! each image's manifest and config, scans each layer once (what it holds,
//! its templates and `etc/kubeadm.yml`), resolves the env and the kubeadm
//! inputs. Front-ends (Clusterfile, `tug run` flags, the wizard) fill in a
//! [`SpecInputs`].

use super::command::Secret;
use super::layer_scan::{KUBEADM_YML, ScanError, Scanned, scan_cached, tree_layer, vet_layers};
use super::spec::{
    ClusterSpec, HostSpec, ImageKind, ImageSpec, LayerSpec, RegistryAuth, Role, TemplateFile,
    image_dir_name,
};
use crate::cluster::env::{Env, EnvError, EnvInputs, EnvMap, EnvWarning};
use crate::image::Reference;
use crate::image::oci::Platform;
use crate::image::store::{Store, StoreError};
use crate::kubeadm;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the front-end knows about a cluster before its images are read.
#[derive(Clone, Debug)]
pub struct SpecInputs {
    /// The cluster's name.
    pub name: String,
    /// Its hosts; the first master is master0.
    pub hosts: Vec<HostSpec>,
    /// The images, in order (rootfs first).
    pub images: Vec<Reference>,
    /// Clusterfile `spec.env`.
    pub cluster_env: Vec<String>,
    /// `-e/--env`.
    pub flag_env: Vec<String>,
    /// `--cmd` / `spec.command`.
    pub command: Option<Vec<String>>,
    /// The Clusterfile's kubeadm documents.
    pub kubeadm_docs: Vec<serde_yaml::Value>,
    /// The Clusterfile's `Config` documents.
    pub configs: Vec<super::configs::ConfigDoc>,
    /// Copy the cluster-admin kubeconfig to the workers' `~/.kube/config` too.
    pub admin_kubeconfig_on_nodes: bool,
    /// The data root on the hosts.
    pub data_root: String,
    /// The cluster's dir on the jump host.
    pub local_dir: PathBuf,
}

/// Why the spec could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The store could not give the image.
    #[error("image {image}: {source}")]
    Store {
        /// The image.
        image: String,
        /// What failed.
        source: StoreError,
    },
    /// A layer could not be read.
    #[error("image {image}: {source}")]
    Layer {
        /// The image.
        image: String,
        /// What failed.
        source: ScanError,
    },
    /// The env is wrong.
    #[error("image {image}: {source}")]
    Env {
        /// The image.
        image: String,
        /// What is wrong.
        source: EnvError,
    },
    /// The kubeadm inputs are wrong.
    #[error("image {image}: {source}")]
    Kubeadm {
        /// The rootfs image.
        image: String,
        /// What is wrong.
        source: kubeadm::Error,
    },
    /// A value in the image's env is unusable.
    #[error("image {image}: env {key}={value:?} is not {what}")]
    BadEnv {
        /// The image.
        image: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// What it should be.
        what: &'static str,
    },
    /// A `Config` document cannot be applied to an image.
    #[error(transparent)]
    Config(#[from] super::configs::ConfigError),
    /// No rootfs image was given.
    #[error("no image is a rootfs (sealos.io.type=rootfs) image; the first image must be one")]
    NoRootfs,
}

/// The spec and the env pairs that were ignored while building it.
#[derive(Debug)]
pub struct Resolved {
    /// The spec.
    pub spec: ClusterSpec,
    /// Ignored env pairs, to show the user.
    pub warnings: Vec<EnvWarning>,
}

/// One image, read and scanned.
struct Read {
    image: ImageSpec,
    kubeadm_yml: Option<String>,
    noted: BTreeSet<String>,
    scans: Vec<Scanned>,
}

/// Read every image from `store` (for the hosts' arch) and build the spec;
/// layer scans are kept in `scan_cache` when given.
pub fn resolve(
    store: &Store,
    inputs: SpecInputs,
    scan_cache: Option<&Path>,
) -> Result<Resolved, ResolveError> {
    let arch = inputs
        .hosts
        .iter()
        .map(|h| h.arch.as_str())
        .find(|a| !a.is_empty())
        .unwrap_or("");
    let platform = (!arch.is_empty())
        .then(|| Platform::parse(&format!("linux/{arch}")))
        .flatten();
    let mut warnings = Vec::new();
    let mut reads = Vec::new();
    let mut names = BTreeSet::new();
    for reference in &inputs.images {
        let (read, w) = read_image(store, reference, platform.as_ref(), &inputs, scan_cache)?;
        for warning in w {
            // The cluster's env is resolved once per image: say it once.
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        let mut image = read.image;
        let base = image.name.clone();
        let mut n = 1;
        while !names.insert(image.name.clone()) {
            n += 1;
            image.name = format!("{base}-{n}");
        }
        reads.push(Read { image, ..read });
    }
    let rootfs = reads
        .iter()
        .find(|r| r.image.kind == ImageKind::Rootfs)
        .ok_or(ResolveError::NoRootfs)?;
    compose_rootfs(&reads)?;
    let shown = rootfs.image.reference.clone();
    let env = rootfs.image.env.vars().clone();
    let kerr = |source| ResolveError::Kubeadm {
        image: shown.clone(),
        source,
    };
    let vip = kubeadm::resolve_vip(rootfs.image.labels.get("vip").map(String::as_str), &env)
        .map_err(kerr)?;
    let port = env.get("registryPort").map_or("5000", String::as_str);
    let registry_port = port.parse().map_err(|_| ResolveError::BadEnv {
        image: shown.clone(),
        key: "registryPort".into(),
        value: port.into(),
        what: "a port",
    })?;
    let registry_auth = match (env.get("registryUsername"), env.get("registryPassword")) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some(RegistryAuth {
            username: u.clone(),
            password: Secret::new(p.as_str()),
        }),
        _ => None,
    };
    let kubeadm = kubeadm::Inputs {
        kube_version: rootfs
            .image
            .labels
            .get("version")
            .cloned()
            .unwrap_or_default(),
        image_kubeadm_yaml: rootfs.kubeadm_yml.clone(),
        clusterfile_docs: inputs.kubeadm_docs.clone(),
        masters: inputs
            .hosts
            .iter()
            .filter(|h| h.has(Role::Master))
            .map(|h| h.ip)
            .collect(),
        nodes: inputs
            .hosts
            .iter()
            .filter(|h| !h.has(Role::Master))
            .map(|h| h.ip)
            .collect(),
        vip,
        registry_domain: env
            .get("registryDomain")
            .cloned()
            .unwrap_or_else(|| "sealos.hub".into()),
        registry_port,
        has_image_cri_shim: rootfs.noted.contains("cri/image-cri-shim"),
        cri_socket: None,
        cgroup_driver: None,
        env,
    };
    let images: Vec<ImageSpec> = reads.into_iter().map(|r| r.image).collect();
    let configs = super::configs::resolve(&inputs.configs, &images)?;
    let spec = ClusterSpec {
        name: inputs.name,
        hosts: inputs.hosts,
        images,
        cluster_env: inputs.cluster_env,
        flag_env: inputs.flag_env,
        command: inputs.command,
        kubeadm,
        data_root: inputs.data_root,
        local_dir: inputs.local_dir,
        registry_auth,
        configs,
        admin_kubeconfig_on_nodes: inputs.admin_kubeconfig_on_nodes,
    };
    Ok(Resolved { spec, warnings })
}

/// The rootfs tree on a host gets the rootfs and patch images' layers and
/// the application images' registry data, in image order: refuse the set
/// when a layer would reach through a symlink an earlier image left.
fn compose_rootfs(reads: &[Read]) -> Result<(), ResolveError> {
    let layers = reads.iter().flat_map(|r| {
        let only = (r.image.kind == ImageKind::Application).then_some("registry");
        let image = r.image.reference.as_str();
        r.image
            .layers
            .iter()
            .zip(&r.scans)
            .map(move |(l, s)| (image, tree_layer(image, &l.digest, s, only)))
    });
    let mut last = String::new();
    let checked = crate::image::vet::compose(layers.map(|(image, l)| {
        last = image.to_string();
        l
    }));
    checked.map_err(|source| ResolveError::Layer {
        image: last,
        source: source.into(),
    })
}

fn read_image(
    store: &Store,
    reference: &Reference,
    platform: Option<&Platform>,
    inputs: &SpecInputs,
    scan_cache: Option<&Path>,
) -> Result<(Read, Vec<EnvWarning>), ResolveError> {
    let shown = reference.to_string();
    let stored = store
        .image(reference, platform)
        .map_err(|source| ResolveError::Store {
            image: shown.clone(),
            source,
        })?;
    let runtime = stored.config.config.clone().unwrap_or_default();
    let labels = runtime.labels.unwrap_or_default();
    let kind = match labels
        .get("sealos.io.type")
        .or_else(|| labels.get("apps.sealos.io/type"))
        .map(String::as_str)
    {
        Some("rootfs") => ImageKind::Rootfs,
        Some("patch") => ImageKind::Patch,
        _ => ImageKind::Application,
    };
    let image_env: EnvMap = runtime
        .env
        .unwrap_or_default()
        .iter()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let version = labels.get("version").cloned().unwrap_or_default();
    let resolved = Env::resolve(&EnvInputs {
        image_env: &image_env,
        rootfs_version: (kind == ImageKind::Rootfs).then_some(version.as_str()),
        cluster_env: &inputs.cluster_env,
        flags: &inputs.flag_env,
    })
    .map_err(|source| ResolveError::Env {
        image: shown.clone(),
        source,
    })?;
    let mut layers = Vec::new();
    let mut files: BTreeMap<String, TemplateFile> = BTreeMap::new();
    let mut noted = BTreeSet::new();
    let mut scans = Vec::new();
    for desc in &stored.manifest.layers {
        let path = store.blob_path(&desc.digest);
        let scanned =
            scan_cached(scan_cache, &desc.digest, &path, &desc.media_type).map_err(|source| {
                ResolveError::Layer {
                    image: shown.clone(),
                    source,
                }
            })?;
        let c = &scanned.content;
        let hidden = |p: &str| {
            c.whiteouts
                .iter()
                .any(|w| p == w || p.starts_with(&format!("{w}/")))
                || c.opaque_dirs
                    .iter()
                    .any(|d| d.is_empty() || p.starts_with(&format!("{d}/")))
        };
        files.retain(|p, _| !hidden(p));
        noted.retain(|p: &String| !hidden(p));
        noted.extend(scanned.noted.iter().cloned());
        files.extend(scanned.files.iter().map(|f| (f.path.clone(), f.clone())));
        let mut content = scanned.content.clone();
        content.setuid = scanned.facts.setuid.clone();
        layers.push(LayerSpec {
            digest: desc.digest.clone(),
            size: desc.size,
            media_type: desc.media_type.clone(),
            path,
            content,
        });
        scans.push(Scanned {
            files: Vec::new(),
            noted: Vec::new(),
            ..scanned
        });
    }
    let pairs: Vec<_> = layers.iter().map(|l| &l.digest).zip(&scans).collect();
    vet_layers(&stored.config.rootfs.diff_ids, &shown, &pairs).map_err(|e| {
        ResolveError::Layer {
            image: shown.clone(),
            source: e.into(),
        }
    })?;
    let kubeadm_yml = files.remove(KUBEADM_YML).map(|f| f.source);
    let drop_shell = |v: Option<Vec<String>>| -> Vec<String> {
        v.unwrap_or_default()
            .into_iter()
            .filter(|e| e != "/bin/sh" && e != "-c")
            .collect()
    };
    let image = ImageSpec {
        reference: shown.clone(),
        name: image_dir_name(&shown),
        kind,
        manifest: stored.manifest_digest.clone(),
        arch: stored.config.architecture.clone(),
        labels,
        image_env,
        env: resolved.env,
        entrypoint: drop_shell(runtime.entrypoint),
        cmd: drop_shell(runtime.cmd),
        layers,
        templates: files.into_values().collect(),
        has_sealctl: noted.contains("opt/sealctl"),
    };
    Ok((
        Read {
            image,
            kubeadm_yml,
            noted,
            scans,
        },
        resolved.warnings,
    ))
}
