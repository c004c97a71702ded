//! The configuration screen's job: read the picked image's env, resolve the
//! cluster as the install will (it reads the store and the layer scans),
//! and merge the effective kubeadm configuration `tug plan
//! --kubeadm-config init` prints.

use crate::app::Context;
use crate::app::notice::ignore;
use crate::app::spec::spec_as_written;
use crate::cluster::clusterfile::Clusterfile;
use crate::image::Reference;
use crate::image::cluster_image::ClusterImage;
use crate::kubeadm::{self, Kind};
use crate::secret::Secret;
use serde_yaml::Value;

/// What the job found for one state of the screen.
#[derive(Clone, Debug)]
pub struct Previewed {
    /// The image it was made for.
    pub image: String,
    /// The image's env, in its order, or why it could not be read.
    pub env: Result<Vec<(String, Secret)>, String>,
    /// The cluster's kubeadm inputs, when the cluster resolved: the editor
    /// checks against them.
    pub inputs: Option<Box<kubeadm::Inputs>>,
    /// The merged configuration, or why there is none.
    pub preview: Result<Preview, String>,
}

impl Previewed {
    /// A job that ended without an answer (it panicked).
    pub fn failed(image: String, why: String) -> Self {
        Previewed {
            image,
            env: Err(why.clone()),
            inputs: None,
            preview: Err(why),
        }
    }
}

/// The merged kubeadm configuration.
#[derive(Clone, Debug)]
pub struct Preview {
    /// `kubeadm init`'s configuration, as lines.
    pub lines: Vec<String>,
    /// The merged `networking.podSubnet` and `serviceSubnet`.
    pub subnets: [Option<String>; 2],
}

/// Read the image, resolve the cluster and merge its kubeadm configuration.
pub fn preview(ctx: &Context, cf: &Clusterfile) -> Previewed {
    let image = cf.cluster.spec.image.first().cloned().unwrap_or_default();
    let env = image_env(ctx, &image);
    let spec = spec_as_written(ctx, cf, &ignore).map_err(|e| e.to_string());
    let inputs = spec.as_ref().ok().map(|s| Box::new(s.kubeadm.clone()));
    let preview = spec.and_then(|s| {
        let effective = kubeadm::effective(&s.kubeadm).map_err(|e| e.to_string())?;
        let net = effective.doc(Kind::Cluster).get("networking");
        let subnet = |k: &str| {
            net.and_then(|n| n.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(Preview {
            lines: effective.init().lines().map(str::to_string).collect(),
            subnets: [subnet("podSubnet"), subnet("serviceSubnet")],
        })
    });
    Previewed {
        image,
        env,
        inputs,
        preview,
    }
}

fn image_env(ctx: &Context, image: &str) -> Result<Vec<(String, Secret)>, String> {
    let reference: Reference = image.parse().map_err(|e| format!("{image}: {e}"))?;
    let store = ctx.store().map_err(|e| e.to_string())?;
    let stored = store
        .image(&reference, None)
        .map_err(|e| format!("{image}: {e}"))?;
    let ci = ClusterImage::from_stored(&stored).map_err(|e| format!("{image}: {e}"))?;
    Ok(ci
        .env
        .0
        .into_iter()
        .map(|(k, v)| (k, Secret::new(v)))
        .collect())
}
