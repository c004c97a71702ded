//! After an image enters the store (build, pull, load), its layers are
//! scanned once for the installer, so a first install starts sending at
//! once, and checked: an image that could reach outside its tree on a host
//! is refused and its name removed (its blobs go with it). A scan that
//! fails to read only warns: the install would name it again.

use super::Context;
use crate::engine::layer_scan::{ScanError, prescan};
use crate::image::Reference;

/// What the store-time check said about some images, one line each.
#[derive(Debug, Default)]
pub struct Checked {
    /// Worth saying (setuid/setgid bits the hosts will drop).
    pub notes: Vec<String>,
    /// Layers that could not be scanned.
    pub warnings: Vec<String>,
    /// Images refused and unnamed.
    pub refused: Vec<String>,
}

/// Scan and check these images (this machine's platform, or the only one
/// stored).
pub fn check(ctx: &Context, images: &[Reference]) -> Checked {
    let mut out = Checked::default();
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => {
            out.warnings.push(format!("layers not scanned: {e:#}"));
            return out;
        }
    };
    let cache = ctx.paths.layer_scans();
    for r in images {
        let img = match store.image(r, None) {
            Ok(img) => img,
            Err(e) => {
                out.warnings
                    .push(format!("{r}: layers not scanned for the installer: {e}"));
                continue;
            }
        };
        match prescan(&store, &cache, &img) {
            Ok(vetted) => out.notes.extend(
                vetted
                    .setuid
                    .iter()
                    .map(|s| format!("{r}: {s}: setuid/setgid bits are dropped on the hosts")),
            ),
            Err(e @ (ScanError::Refused(_) | ScanError::Escapes { .. })) => {
                // Unnamed, its blobs go too: the store is as it was.
                let _ = store.remove_name(r).map(|_| store.gc());
                out.refused.push(format!("image {r} refused: {e}"));
            }
            Err(e) => out
                .warnings
                .push(format!("{r}: layers not scanned for the installer: {e}")),
        }
    }
    out
}

/// [`check`] for faces that show one line each (the wizard): refusals
/// first, then warnings.
pub fn scan(ctx: &Context, images: &[Reference]) -> Vec<String> {
    let checked = check(ctx, images);
    checked
        .refused
        .into_iter()
        .chain(checked.warnings)
        .collect()
}
