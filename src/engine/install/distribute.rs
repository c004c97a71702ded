//! Distribution: each host gets, layer by layer, only what it needs, in the
//! layer's own compression, unpacked by the host's tar.
//!
//! Why layers and not a tar of the unpacked rootfs: the blobs are already
//! compressed, so streaming them costs the jump host no CPU per host and
//! puts at most their compressed size on the wire; a re-packed tree would
//! be compressed again for every host. Layers are applied in order, one
//! stage per layer position (a stage's steps may run at once, so two layers
//! of one host never share a stage). Whiteouts are applied on the host
//! before the layer's own files land: the layer was scanned on the jump
//! host ([`crate::engine::layer_scan`]), so the paths it deletes and the
//! dirs it makes opaque are known; `.wh.*` entries are not extracted.
//! That is exactly the OCI rule (a whiteout hides what the layers below
//! hold, never what its own layer adds).
//!
//! Registry data goes only to registry hosts: a layer holding only
//! `registry/` goes only there; a layer holding both is extracted without
//! `registry/` elsewhere. Application layers go to master0's workdir
//! (without `registry/`); their registry data is merged into the registry
//! hosts' `<rootfs>/registry`, as sealos's mirror step does.
//!
//! Each delivery leaves a marker named by the chain of layers applied to
//! its target so far: a re-run skips what a host already has, and a
//! changed lower layer changes every marker above it.

use super::{Ctx, InstallError};
use crate::engine::command::Value;
use crate::engine::install::shell::script;
use crate::engine::layer_scan::BlobCompression;
use crate::engine::plan::{Action, LocalFile, Phase, Source, Stage, Step};
use crate::engine::spec::{HostSpec, ImageKind, ImageSpec, LayerSpec};
use crate::image::digest::Hasher;

/// Which part of a layer a host extracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Everything.
    Full,
    /// Everything but `registry/`.
    WithoutRegistry,
    /// Only `registry/`, merged into the target's `registry/`.
    OnlyRegistry,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Full => "full",
            Part::WithoutRegistry => "no-registry",
            Part::OnlyRegistry => "only-registry",
        }
    }
}

/// One layer to one host.
pub(crate) struct Delivery<'a> {
    pub image: &'a ImageSpec,
    pub layer: &'a LayerSpec,
    pub target: String,
    pub part: Part,
}

/// What each host receives, hosts in spec order, layers in apply order.
pub(crate) fn deliveries<'a>(ctx: &Ctx<'a>) -> Vec<(&'a HostSpec, Vec<Delivery<'a>>)> {
    let spec = ctx.spec;
    spec.hosts
        .iter()
        .map(|host| {
            let registry = ctx.is_registry(host);
            let mut out = Vec::new();
            for image in &spec.images {
                for layer in &image.layers {
                    let c = &layer.content;
                    let mut add = |target: String, part| {
                        out.push(Delivery {
                            image,
                            layer,
                            target,
                            part,
                        })
                    };
                    match image.kind {
                        ImageKind::Rootfs | ImageKind::Patch => {
                            let part = match (registry, c.registry, c.other) {
                                (true, _, _) if c.registry || c.other => Some(Part::Full),
                                (false, true, true) => Some(Part::WithoutRegistry),
                                (false, false, true) => Some(Part::Full),
                                _ => None,
                            };
                            if let Some(part) = part {
                                add(spec.rootfs_dir(), part);
                            }
                        }
                        ImageKind::Application => {
                            if host.id == ctx.master0.id && c.other {
                                let part = if c.registry {
                                    Part::WithoutRegistry
                                } else {
                                    Part::Full
                                };
                                add(spec.app_dir(image), part);
                            }
                            if registry && c.registry {
                                add(spec.rootfs_dir(), Part::OnlyRegistry);
                            }
                        }
                    }
                }
            }
            (host, out)
        })
        .collect()
}

/// Bytes a host's deliveries unpack to.
pub(crate) fn unpacked_size(ds: &[Delivery<'_>]) -> u64 {
    ds.iter().map(|d| d.layer.content.unpacked_size).sum()
}

/// Unpack one layer from stdin into a target, whiteouts first, then mark it.
const UNPACK: &str = r#"set -e -o pipefail
target=$1 marker=$2 part=$3 comp=$4; shift 4
mkdir -p -- "$target" "$(dirname -- "$marker")"
for w in "$@"; do
  case $w in
    w:*) rm -rf -- "$target/${w#w:}" ;;
    o:*) d="$target/${w#o:}"
         if [ -d "$d" ] && [ ! -L "$d" ]; then find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +; fi ;;
  esac
done
case $comp in
  gzip) dec() { gzip -dc; } ;;
  zstd) dec() { zstd -dcq; } ;;
  *) dec() { cat; } ;;
esac
case $part in
  full) dec | tar -x -f - -C "$target" --no-anchored --exclude='.wh.*' ;;
  no-registry) dec | tar -x -f - -C "$target" --no-anchored --exclude='.wh.*' \
      --anchored --exclude=registry --exclude='registry/*' --exclude=./registry --exclude='./registry/*' ;;
  only-registry)
    tmp="$target/.tug-unpack"
    rm -rf -- "$tmp"; mkdir -p -- "$tmp" "$target/registry"
    dec | tar -x -f - -C "$tmp" --no-anchored --exclude='.wh.*'
    if [ -d "$tmp/registry" ]; then cp -a -- "$tmp/registry/." "$target/registry/"; fi
    rm -rf -- "$tmp" ;;
esac
touch -- "$marker""#;

/// One parallel stage: each host receives its layers in order (the runner
/// runs a host's steps one at a time), hosts in parallel, so a host that
/// fails stops only its own distribution.
pub(crate) fn stages(
    ctx: &Ctx<'_>,
    all: &[(&HostSpec, Vec<Delivery<'_>>)],
) -> Result<Vec<Option<Stage>>, InstallError> {
    let mut steps = Vec::new();
    for (host, ds) in all {
        let mut chains: Vec<(String, String)> = Vec::new();
        for (i, d) in ds.iter().enumerate() {
            let prev = chains
                .iter()
                .find(|(t, _)| *t == d.target)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            let mut h = Hasher::new();
            for field in [
                prev.as_str(),
                &d.layer.digest.to_string(),
                d.part.name(),
                &d.target,
            ] {
                h.update(&(field.len() as u64).to_le_bytes());
                h.update(field.as_bytes());
            }
            let chain = h.finish().hex()[..32].to_string();
            chains.retain(|(t, _)| *t != d.target);
            chains.push((d.target.clone(), chain.clone()));
            let marker = format!("{}/{chain}", ctx.spec.marker_dir());
            steps.push(send_step(host, d, &marker, i)?);
        }
    }
    Ok(vec![ctx.parallel(Phase::Distribute, steps)])
}

fn send_step(
    host: &HostSpec,
    d: &Delivery<'_>,
    marker: &str,
    position: usize,
) -> Result<Step, InstallError> {
    let comp = match BlobCompression::from_media_type(&d.layer.media_type) {
        Some(BlobCompression::Zstd) => "zstd",
        Some(BlobCompression::None) => "none",
        Some(BlobCompression::Gzip) | None => "gzip",
    };
    let mut args: Vec<Value> = vec![
        d.target.clone().into(),
        marker.into(),
        d.part.name().into(),
        comp.into(),
    ];
    let in_registry = |p: &str| p == "registry" || p.starts_with("registry/");
    if d.part != Part::OnlyRegistry {
        let keep = |p: &&String| d.part == Part::Full || !in_registry(p);
        let w = d.layer.content.whiteouts.iter().filter(keep);
        args.extend(w.map(|p| Value::Plain(format!("w:{p}"))));
        let o = d.layer.content.opaque_dirs.iter().filter(keep);
        args.extend(o.map(|p| Value::Plain(format!("o:{p}"))));
    }
    let source = Source::Files(vec![LocalFile {
        path: d.layer.path.clone(),
        size: d.layer.size,
        identity: d.layer.digest.to_string(),
    }]);
    let key = format!("{}#{position}", d.image.name);
    let step = Step::new(
        Phase::Distribute,
        host.id.clone(),
        &key,
        Action::Send {
            source,
            to: script(UNPACK, args),
        },
    )?;
    Ok(super::unless_exists(step, marker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Stdio;

    fn layer(dir: &Path, name: &str, entries: &[&str]) -> std::path::PathBuf {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, e, &b"x"[..]).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        path
    }

    fn unpack(blob: &Path, target: &Path, part: &str, extra: &[&str]) {
        let marker = target.join(".m").join(part);
        let mut args = vec![
            target.display().to_string(),
            marker.display().to_string(),
            part.to_string(),
            "gzip".to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let line = script(UNPACK, args).render().unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(line)
            .stdin(Stdio::from(std::fs::File::open(blob).unwrap()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(marker.exists());
    }

    #[test]
    fn the_host_side_applies_whiteouts_and_leaves_registry_data_out() {
        let dir = tempfile::tempdir().unwrap();
        let l1 = layer(
            dir.path(),
            "l1",
            &[
                "bin/old",
                "bin/keep",
                "opt/x/a",
                "registry/docker/r",
                "etc/registry/conf",
            ],
        );
        let l2 = layer(
            dir.path(),
            "l2",
            &["bin/.wh.old", "opt/x/.wh..wh..opq", "opt/x/b"],
        );
        let t = dir.path().join("rootfs");
        unpack(&l1, &t, "no-registry", &[]);
        unpack(&l2, &t, "full", &["w:bin/old", "o:opt/x"]);
        assert!(t.join("bin/keep").exists() && t.join("opt/x/b").exists());
        assert!(!t.join("bin/old").exists() && !t.join("opt/x/a").exists());
        assert!(!t.join("bin/.wh.old").exists() && !t.join("opt/x/.wh..wh..opq").exists());
        assert!(!t.join("registry").exists());
        assert!(t.join("etc/registry/conf").exists());
        let r = dir.path().join("registry-host");
        unpack(&l1, &r, "only-registry", &[]);
        assert!(r.join("registry/docker/r").exists());
        assert!(!r.join("bin").exists() && !r.join(".tug-unpack").exists());
    }
}
