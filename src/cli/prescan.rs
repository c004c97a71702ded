//! After an image enters the store (build, pull, load), its layers are
//! scanned for the installer ([`crate::app::prescan`]); the command line
//! shows what could not be scanned as warnings. It is the last thing those
//! commands do, so it blocks.

use super::Context;
use crate::app::Notice;
use crate::image::Reference;

/// Scan the layers of these images that are not scanned yet; warnings go
/// to stderr.
pub fn scan_new(ctx: &Context, images: &[Reference]) {
    for warning in crate::app::prescan::scan(ctx, images) {
        eprintln!("{}", Notice::Warning(warning));
    }
}
