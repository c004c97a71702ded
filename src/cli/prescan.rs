//! After an image enters the store (build, pull, load), its layers are
//! scanned once for the installer, so a first install starts sending at
//! once. A scan that fails only warns: the install would name it again.
//! It is the last thing those commands do, so it blocks.

use super::Context;
use crate::engine::layer_scan::prescan;
use crate::image::Reference;

/// Scan the layers of these images (this machine's platform, or the only
/// one stored) that are not scanned yet; warnings go to stderr.
pub fn scan_new(ctx: &Context, images: &[Reference]) {
    for warning in scan(ctx, images) {
        eprintln!("warning: {warning}");
    }
}

/// [`scan_new`] for callers that own the screen (the wizard): the warnings
/// are returned, one line each, instead of printed.
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
