//! `tug plan`: show what installing a Clusterfile will do before anything runs.
//! So far it prints the exact kubeadm configuration of one step; hosts' facts not known
//! before install (the CRI socket, the cgroup driver) show the defaults they fall back to.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use serde::Deserialize;
use serde_yaml::Value;

use super::Context;
use crate::image::oci::media;
use crate::image::store::StoredImage;
use crate::image::{Reference, Store};
use crate::kubeadm::{self, JoinSecrets};

/// The plan command.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Show what installing a Clusterfile will do (for now: the kubeadm configuration).
    Plan {
        /// The Clusterfile; its images must be in the local store (`tug pull`).
        #[arg(short = 'f', long = "clusterfile", value_name = "FILE")]
        clusterfile: PathBuf,
        /// Print exactly the multi-document YAML this kubeadm step will be given.
        #[arg(long = "kubeadm-config", value_name = "STEP")]
        kubeadm_config: KubeadmStep,
        /// For join-master: the joining master (default: the second master).
        #[arg(long, value_name = "IP")]
        host: Option<IpAddr>,
    },
}

/// The kubeadm steps whose configuration `tug plan` can show.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KubeadmStep {
    /// `kubeadm init` on master0.
    Init,
    /// `kubeadm join --control-plane` on the other masters.
    JoinMaster,
    /// `kubeadm join` on nodes.
    JoinNode,
}

impl PlanCommand {
    /// Run the command.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let PlanCommand::Plan {
            clusterfile,
            kubeadm_config,
            host,
        } = self;
        let plan = Clusterfile::read(&clusterfile)?;
        let inputs = plan.kubeadm_inputs(&ctx.store()?)?;
        let effective = kubeadm::effective(&inputs)
            .with_context(|| format!("kubeadm configuration for {}", clusterfile.display()))?;
        let secrets = JoinSecrets::placeholders();
        let text = match kubeadm_config {
            KubeadmStep::Init => effective.init(),
            KubeadmStep::JoinNode => effective.join_node(&secrets),
            KubeadmStep::JoinMaster => {
                let ip = match host {
                    Some(ip) if inputs.masters[1..].contains(&ip) => ip,
                    Some(ip) => {
                        bail!("{ip} is not a master that joins (master0 runs kubeadm init)")
                    }
                    None => *inputs.masters.get(1).ok_or_else(|| {
                        anyhow!(
                            "{} has a single master: no master joins",
                            clusterfile.display()
                        )
                    })?,
                };
                effective.join_master(ip, &secrets)
            }
        };
        print!("{text}");
        Ok(())
    }
}

/// What `tug plan` needs from a Clusterfile.
struct Clusterfile {
    path: PathBuf,
    images: Vec<String>,
    masters: Vec<IpAddr>,
    env: Vec<(String, String)>,
    kubeadm_docs: Vec<Value>,
}

impl Clusterfile {
    /// Splits the documents: the `Cluster`, sealos `Config` documents (not kubeadm's
    /// business) and everything else, which goes to kubeadm as it is.
    fn read(path: &Path) -> anyhow::Result<Self> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
        let mut cluster = None;
        let mut kubeadm_docs = Vec::new();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let doc = Value::deserialize(document).map_err(|e| anyhow!("{shown}: {e}"))?;
            match doc.get("kind").and_then(Value::as_str) {
                Some("Cluster") => cluster = Some(doc),
                Some("Config") => {}
                _ if doc.is_null() => {}
                _ => kubeadm_docs.push(doc),
            }
        }
        let cluster = cluster.ok_or_else(|| anyhow!("{shown}: no `kind: Cluster` document"))?;
        let spec = &cluster["spec"];
        let strings = |field: &str| -> anyhow::Result<Vec<String>> {
            match &spec[field] {
                Value::Null => Ok(Vec::new()),
                Value::Sequence(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| anyhow!("{shown}: spec.{field}: expected a list of strings")),
                _ => bail!("{shown}: spec.{field}: expected a list"),
            }
        };
        let images = strings("image")?;
        let env = strings("env")?
            .into_iter()
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => Ok((k.to_string(), v.to_string())),
                None => Err(anyhow!("{shown}: spec.env: {pair:?} has no `=`")),
            })
            .collect::<anyhow::Result<_>>()?;
        let mut masters = Vec::new();
        for (i, host) in spec["hosts"]
            .as_sequence()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let is_master = host["roles"]
                .as_sequence()
                .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some("master")));
            for ip in host["ips"].as_sequence().into_iter().flatten() {
                let text = ip.as_str().unwrap_or_default();
                let parsed = parse_host_ip(text).ok_or_else(|| {
                    anyhow!("{shown}: spec.hosts[{i}].ips: {text:?} is not an IP")
                })?;
                if is_master {
                    masters.push(parsed);
                }
            }
        }
        if masters.is_empty() {
            bail!("{shown}: spec.hosts has no host with the master role");
        }
        Ok(Self {
            path: path.to_path_buf(),
            images,
            masters,
            env,
            kubeadm_docs,
        })
    }

    /// The kubeadm inputs: version, VIP, env and rootfs facts from the rootfs image.
    fn kubeadm_inputs(&self, store: &Store) -> anyhow::Result<kubeadm::Inputs> {
        let image = self.rootfs_image(store)?;
        let name = image.reference.to_string();
        let runtime = image.config.config.clone().unwrap_or_default();
        let labels = runtime.labels.unwrap_or_default();
        let version = labels
            .get("version")
            .ok_or_else(|| anyhow!("image {name} has no `version` label"))?;
        let mut env: BTreeMap<String, String> = runtime
            .env
            .unwrap_or_default()
            .iter()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend(self.env.iter().cloned());
        let vip = kubeadm::resolve_vip(labels.get("vip").map(String::as_str), &env)
            .with_context(|| format!("image {name}"))?;
        let rootfs = RootfsFacts::read(store, &image).with_context(|| format!("image {name}"))?;
        let registry_port = match env.get("registryPort") {
            Some(port) => port
                .parse()
                .with_context(|| format!("env registryPort {port:?} is not a port"))?,
            None => 5000,
        };
        Ok(kubeadm::Inputs {
            kube_version: version.clone(),
            image_kubeadm_yaml: rootfs.kubeadm_yml,
            clusterfile_docs: self.kubeadm_docs.clone(),
            masters: self.masters.clone(),
            vip,
            registry_domain: env
                .get("registryDomain")
                .cloned()
                .unwrap_or("sealos.hub".into()),
            registry_port,
            has_image_cri_shim: rootfs.image_cri_shim,
            cri_socket: None,
            cgroup_driver: None,
            env,
        })
    }

    /// The first image labelled `sealos.io.type: rootfs`, else the first image.
    fn rootfs_image(&self, store: &Store) -> anyhow::Result<StoredImage> {
        let shown = self.path.display();
        let mut first = None;
        for name in &self.images {
            let reference: Reference = name
                .parse()
                .with_context(|| format!("{shown}: spec.image: {name:?}"))?;
            let image = store
                .image(&reference, None)
                .with_context(|| format!("image {name} (pull it first)"))?;
            let labels = image.config.config.as_ref().and_then(|c| c.labels.as_ref());
            if labels
                .and_then(|l| l.get("sealos.io.type"))
                .map(String::as_str)
                == Some("rootfs")
            {
                return Ok(image);
            }
            first.get_or_insert(image);
        }
        first.ok_or_else(|| anyhow!("{shown}: spec.image lists no image"))
    }
}

/// `10.0.0.2`, `10.0.0.2:22`, `[fd00::2]:22` or `fd00::2` → the IP.
fn parse_host_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| text.rsplit_once(':')?.0.parse().ok())
}

/// What the rootfs layers say about kubeadm: the image's own kubeadm.yml and whether
/// image-cri-shim ships (sealos-style images).
#[derive(Debug, Default)]
struct RootfsFacts {
    kubeadm_yml: Option<String>,
    image_cri_shim: bool,
}

const KUBEADM_YML: &str = "etc/kubeadm.yml";
const IMAGE_CRI_SHIM: &str = "cri/image-cri-shim";
/// A kubeadm.yml larger than this is not a kubeadm configuration.
const MAX_KUBEADM_YML: u64 = 1 << 20;

impl RootfsFacts {
    /// Streams the layers bottom up, applying whiteouts, looking only at two paths.
    fn read(store: &Store, image: &StoredImage) -> anyhow::Result<Self> {
        let mut facts = Self::default();
        for layer in &image.manifest.layers {
            let blob = store.open_blob(&layer.digest)?;
            let reader: Box<dyn Read> = match layer.media_type.as_str() {
                media::OCI_LAYER_GZIP | media::DOCKER_LAYER_GZIP => {
                    Box::new(flate2::read::GzDecoder::new(blob))
                }
                media::OCI_LAYER_ZSTD => Box::new(zstd::stream::read::Decoder::new(blob)?),
                media::OCI_LAYER_TAR => Box::new(blob),
                other => bail!(
                    "layer {} has media type {other}, not a tar layer",
                    layer.digest
                ),
            };
            let (mut removed, mut kubeadm_yml, mut shim) = (Vec::new(), None, false);
            let mut archive = tar::Archive::new(reader);
            for entry in archive.entries()? {
                let mut entry = entry?;
                let raw = entry.path()?.to_string_lossy().into_owned();
                let path = raw.trim_start_matches("./").trim_start_matches('/');
                let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
                if let Some(hidden) = file.strip_prefix(".wh.") {
                    let target = if hidden == ".wh..opq" {
                        String::new()
                    } else {
                        hidden.into()
                    };
                    removed.push(if dir.is_empty() {
                        target
                    } else {
                        format!("{dir}/{target}")
                    });
                } else if path == KUBEADM_YML && entry.header().entry_type().is_file() {
                    if entry.size() > MAX_KUBEADM_YML {
                        bail!("{KUBEADM_YML} is larger than {MAX_KUBEADM_YML} bytes");
                    }
                    let mut text = String::new();
                    entry
                        .read_to_string(&mut text)
                        .with_context(|| format!("{KUBEADM_YML} is not UTF-8 text"))?;
                    kubeadm_yml = Some(text);
                } else if path == IMAGE_CRI_SHIM {
                    shim = true;
                }
            }
            let hidden = |file: &str| {
                removed.iter().any(|r| {
                    let r = r.trim_end_matches('/');
                    r.is_empty() || file == r || file.starts_with(&format!("{r}/"))
                })
            };
            if hidden(KUBEADM_YML) {
                facts.kubeadm_yml = None;
            }
            if hidden(IMAGE_CRI_SHIM) {
                facts.image_cri_shim = false;
            }
            facts.kubeadm_yml = kubeadm_yml.or(facts.kubeadm_yml);
            facts.image_cri_shim |= shim;
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ips_with_and_without_ports() {
        assert_eq!(
            parse_host_ip("10.0.4.3:22"),
            Some("10.0.4.3".parse().unwrap())
        );
        assert_eq!(parse_host_ip("10.0.4.3"), Some("10.0.4.3".parse().unwrap()));
        assert_eq!(
            parse_host_ip("[fd00::3]:22"),
            Some("fd00::3".parse().unwrap())
        );
        assert_eq!(parse_host_ip("fd00::3"), Some("fd00::3".parse().unwrap()));
        assert_eq!(parse_host_ip("host.example:22"), None);
    }
}
