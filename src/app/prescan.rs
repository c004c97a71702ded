//! After an image enters the store (build, pull, load), its layers are
//! scanned once for the installer, so a first install starts sending at
//! once. A scan that fails only warns: the install would name it again.

use super::Context;
use crate::engine::layer_scan::prescan;
use crate::image::Reference;

/// Scan the layers of these images (this machine's platform, or the only
/// one stored) that are not scanned yet; each warning is one line for the
/// face to show.
pub fn scan(ctx: &Context, images: &[Reference]) -> Vec<String> {
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return vec![format!("layers not scanned: {e:#}")],
    };
    let cache = ctx.paths.layer_scans();
    let mut warnings = Vec::new();
    for r in images {
        let scanned = store
            .image(r, None)
            .map_err(anyhow::Error::from)
            .and_then(|img| Ok(prescan(&store, &cache, &img)?));
        if let Err(e) = scanned {
            warnings.push(format!("{r}: layers not scanned for the installer: {e:#}"));
        }
    }
    warnings
}
