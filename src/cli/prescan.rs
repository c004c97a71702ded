//! After an image enters the store (build, pull, load), its layers are
//! scanned once for the installer, so a first install starts sending at
//! once. A scan that fails only warns: the install would name it again.
//! It is the last thing those commands do, so it blocks.

use super::Context;
use crate::engine::layer_scan::prescan;
use crate::image::Reference;

/// Scan the layers of these images (this machine's platform, or the only
/// one stored) that are not scanned yet.
pub fn scan_new(ctx: &Context, images: &[Reference]) {
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return eprintln!("warning: layers not scanned: {e:#}"),
    };
    let cache = ctx.paths.layer_scans();
    for r in images {
        let scanned = store
            .image(r, None)
            .map_err(anyhow::Error::from)
            .and_then(|img| Ok(prescan(&store, &cache, &img)?));
        if let Err(e) = scanned {
            eprintln!("warning: {r}: layers not scanned for the installer: {e:#}");
        }
    }
}
