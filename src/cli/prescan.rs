//! After an image enters the store (build, pull, load), its layers are
//! scanned and checked for the installer ([`crate::app::prescan`]); the
//! command line shows notes and warnings, and fails when an image was
//! refused. It is the last thing those commands do, so it blocks.

use super::Context;
use crate::app::Notice;
use crate::image::Reference;

/// Scan and check the layers of these images that are not scanned yet;
/// notes and warnings go to stderr, a refused image fails the command.
pub fn scan_new(ctx: &Context, images: &[Reference]) -> anyhow::Result<()> {
    let checked = crate::app::prescan::check(ctx, images);
    for note in checked.notes {
        eprintln!("note: {note}");
    }
    for warning in checked.warnings {
        eprintln!("{}", Notice::Warning(warning));
    }
    match checked.refused.into_iter().next() {
        Some(first) => anyhow::bail!("{first}"),
        None => Ok(()),
    }
}
