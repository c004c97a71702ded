//! Distribution: each host gets, layer by layer, only what it needs, in the
//! layer's own compression, unpacked by the host's tar.
//!
//! Why layers and not a tar of the unpacked rootfs: the blobs are already
//! compressed, so streaming them costs the jump host no CPU per host and
//! puts at most their compressed size on the wire; a re-packed tree would
//! be compressed again for every host. A host's layers are applied in
//! order; hosts receive theirs in parallel. gzip layers are inflated by
//! Python's zlib where the host has it (GNU gzip is ~1.5x slower, and
//! inflating is most of a host's work). Whiteouts are applied on the host
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
use crate::engine::plan::{Action, Compression, LocalFile, Phase, Source, Stage, Step};
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

/// Unpack one layer from stdin into a target, whiteouts first, then mark
/// it. The whiteouts, opaque dirs and setuid files come in a NUL-separated
/// list file (`w:`, `o:`, `s:` records) written by the step before: a layer
/// may white out tens of thousands of paths, far more than a command line
/// holds. The jump host has checked that none of them, and no entry, goes
/// through a symlink ([`crate::image::vet`]).
const UNPACK: &str = r#"set -e -o pipefail
target=$1 marker=$2 part=$3 list=$4 comp=$5
# zlib inflates ~1.5x faster than GNU gzip; concatenated members, the CRC
# and a cut-off stream are handled as gzip -dc does.
inflate='import sys, zlib
r, w = sys.stdin.buffer, sys.stdout.buffer
d = zlib.decompressobj(47)
while True:
    b = r.read1(1 << 20)
    if not b:
        break
    while b:
        if d.eof:
            d = zlib.decompressobj(47)
        w.write(d.decompress(b, 1 << 22))
        b = d.unused_data if d.eof else d.unconsumed_tail
w.write(d.flush())
w.flush()
d.eof or sys.exit("gzip: unexpected end of file")'
mkdir -p -- "$target" "$(dirname -- "$marker")"
wh=() op=() su=()
if [ -n "$list" ]; then
  while IFS= read -r -d '' r; do
    case $r in
      w:*) wh+=("$target/${r#w:}") ;;
      o:*) op+=("$target/${r#o:}") ;;
      s:*) su+=("${r#s:}") ;;
    esac
  done < "$list"
fi
if [ ${#wh[@]} -gt 0 ]; then printf '%s\0' "${wh[@]}" | xargs -0 -r rm -rf --; fi
for d in "${op[@]}"; do
  if [ -d "$d" ] && [ ! -L "$d" ]; then find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +; fi
done
# setuid/setgid bits are dropped: the jump host said so when the image came in.
unsuid() {
  if [ ${#su[@]} -gt 0 ]; then
    for f in "${su[@]}"; do printf '%s/%s\0' "$1" "$f"; done | xargs -0 -r sh -c 'for f; do if [ -f "$f" ] && [ ! -L "$f" ]; then chmod ug-s -- "$f"; fi; done' sh
  fi
}
# tar reads the pipe 128 KiB at a time (-b 256 -B), not 10 KiB: less CPU per GiB.
case $comp in
  gzip) if python3 -c 'import zlib' 2>/dev/null; then dec() { python3 -c "$inflate"; }; else dec() { gzip -dc; }; fi ;;
  zstd) dec() { zstd -dcq; } ;;
  *) dec() { cat; } ;;
esac
case $part in
  full) dec | tar -x -b 256 -B -f - -C "$target" --no-anchored --exclude='.wh.*'
      unsuid "$target" ;;
  no-registry) dec | tar -x -b 256 -B -f - -C "$target" --no-anchored --exclude='.wh.*' \
      --anchored --exclude=registry --exclude='registry/*' --exclude=./registry --exclude='./registry/*'
      unsuid "$target" ;;
  only-registry)
    tmp="$target/.tug-unpack"
    rm -rf -- "$tmp"; mkdir -p -- "$tmp" "$target/registry"
    dec | tar -x -b 256 -B -f - -C "$tmp" --no-anchored --exclude='.wh.*'
    unsuid "$tmp"
    if [ -d "$tmp/registry" ]; then cp -a -- "$tmp/registry/." "$target/registry/"; fi
    rm -rf -- "$tmp" ;;
esac
if [ -n "$list" ]; then rm -f -- "$list"; fi
# What the image brought is left 0755, as sealos leaves its trees (chmod -R
# 0755): hooks and the kubelet's ExecStartPre helpers can run. A 0600 file
# stays private (the secrets tug writes, an image's own); links are never
# followed; registry data needs no mode.
case $part in
  full|no-registry) find "$target" -path "$target/registry" -prune -o \
      ! -type l ! -perm 0600 ! -perm 0755 -exec chmod 0755 -- {} + ;;
esac
touch -- "$marker""#;

/// Whether a layer path lies in the registry data.
fn in_registry(p: &str) -> bool {
    p == "registry" || p.starts_with("registry/")
}

/// One parallel stage: each host receives its layers in order (the runner
/// runs a host's steps one at a time), hosts in parallel, so a host that
/// fails stops only its own distribution and never waits for another's.
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
            let cache = ctx.opts.layer_cache.as_deref();
            steps.extend(send_steps(host, d, &marker, i, cache)?);
        }
    }
    Ok(vec![ctx.parallel(Phase::Distribute, steps)])
}

/// The list file's records for one delivery (see [`UNPACK`]).
pub(crate) fn list_records(d: &Delivery<'_>) -> String {
    let c = &d.layer.content;
    let keep = |p: &&String| d.part == Part::Full || !in_registry(p);
    let mut out = String::new();
    if d.part != Part::OnlyRegistry {
        for w in c.whiteouts.iter().filter(keep) {
            out.extend(["w:", w.as_str(), "\0"]);
        }
        for o in c.opaque_dirs.iter().filter(keep) {
            out.extend(["o:", o.as_str(), "\0"]);
        }
    }
    let only = |p: &&String| d.part != Part::OnlyRegistry || in_registry(p);
    for s in c.setuid.iter().filter(keep).filter(only) {
        out.extend(["s:", s.as_str(), "\0"]);
    }
    out
}

/// The steps that put one layer on one host: its list file, when it has
/// whiteouts or setuid files, then the unpack. With a `cache`, a mixed
/// layer reaches a host without a registry as only what it keeps.
fn send_steps(
    host: &HostSpec,
    d: &Delivery<'_>,
    marker: &str,
    position: usize,
    cache: Option<&std::path::Path>,
) -> Result<Vec<Step>, InstallError> {
    let stored = BlobCompression::from_media_type(&d.layer.media_type);
    let split = match (cache, stored) {
        (Some(cache), Some(stored))
            if d.part == Part::WithoutRegistry && d.layer.content.registry =>
        {
            let stored = match stored {
                BlobCompression::None => Compression::None,
                BlobCompression::Gzip => Compression::Gzip,
                BlobCompression::Zstd => Compression::Zstd,
            };
            Some((cache.to_path_buf(), stored))
        }
        _ => None,
    };
    // A plain-tar layer with files besides registry data (whose blobs are
    // compressed already) is gzipped on the wire: every host can inflate it.
    let squeeze = stored == Some(BlobCompression::None)
        && d.part != Part::OnlyRegistry
        && d.layer.content.other;
    let comp = match stored {
        _ if split.is_some() => "gzip",
        Some(BlobCompression::Zstd) => "zstd",
        Some(BlobCompression::None) if !squeeze => "none",
        Some(BlobCompression::Gzip | BlobCompression::None) | None => "gzip",
    };
    let key = format!("{}#{position}", d.image.name);
    let mut steps = Vec::new();
    let records = list_records(d);
    let list = if records.is_empty() {
        String::new()
    } else {
        let path = format!("{marker}.list");
        let write = Action::WriteFile {
            path: path.clone(),
            mode: 0o600,
            content: Value::Plain(records),
        };
        let step = Step::new(
            Phase::Distribute,
            host.id.clone(),
            &format!("{}.list#{position}", d.image.name),
            write,
        )?;
        steps.push(super::unless_exists(step, marker));
        path
    };
    let args: Vec<Value> = vec![
        d.target.clone().into(),
        marker.into(),
        d.part.name().into(),
        list.into(),
        comp.into(),
    ];
    let file = LocalFile {
        path: d.layer.path.clone(),
        size: d.layer.size,
        identity: d.layer.digest.to_string(),
    };
    let source = if let Some((cache, stored)) = split {
        Source::WithoutRegistry {
            file,
            stored,
            cache,
        }
    } else if squeeze {
        Source::Compressed {
            file,
            with: Compression::Gzip,
        }
    } else {
        Source::Files(vec![file])
    };
    let step = Step::new(
        Phase::Distribute,
        host.id.clone(),
        &key,
        Action::Send {
            source,
            to: script(UNPACK, args),
        },
    )?;
    steps.push(super::unless_exists(step, marker));
    Ok(steps)
}

#[cfg(test)]
mod tests;
