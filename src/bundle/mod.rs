//! Air-gapped bundles: everything an install needs on a USB stick. A bundle
//! is a directory (or one tar of it) holding the `tug` binary, the chosen
//! images as an OCI archive, a Clusterfile template, a README and
//! `SHA256SUMS` (the format `sha256sum -c` reads). `create` streams every
//! file through a hasher into a temp name renamed into place at the end;
//! `verify` checks every file; `load` verifies, then loads the images into
//! the store without any network.

mod checksums;
mod create;
mod error;
mod load;
mod output;
mod template;
mod verify;

pub use checksums::Sums;
pub use create::{Bundle, create};
pub use error::BundleError;
pub use load::{Loaded, load};
pub use template::{PLACEHOLDER_MASTER, PLACEHOLDER_NODE};
pub use verify::{Verified, verify};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The `tug` binary in a bundle.
pub const BINARY: &str = "tug";
/// The images, as an OCI archive (`skopeo inspect oci-archive:images.oci.tar`).
pub const IMAGES: &str = "images.oci.tar";
/// The Clusterfile template the engineer edits.
pub const CLUSTERFILE: &str = "Clusterfile";
/// What to do with the bundle, for a human.
pub const README: &str = "README.txt";
/// The checksums of every other file; written last, so a bundle without it
/// is an unfinished one.
pub const SUMS: &str = "SHA256SUMS";

/// Told about the slow parts (copying and hashing) as they go; the CLI
/// draws a bar or prints plain lines.
pub trait Progress: Sync {
    /// Work on `file` (about `total` bytes) begins; `verb` says what
    /// (writing, checking, loading).
    fn start(&self, verb: &str, file: &str, total: u64);
    /// `bytes` more of the current file are done.
    fn advance(&self, bytes: u64);
    /// The current file is done.
    fn finish(&self, file: &str);
}

/// Progress nobody watches.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &str) {}
}

/// How a long bundle operation reports and is stopped: set `cancel` (on
/// Ctrl-C) and the operation stops at its next write, cleans up and
/// returns [`BundleError::Cancelled`].
#[derive(Clone, Copy)]
pub struct Job<'a> {
    /// Where progress goes.
    pub progress: &'a dyn Progress,
    /// Set to stop.
    pub cancel: &'a AtomicBool,
}

impl Job<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The directory of the running binary when it is a bundle (holds
/// `SHA256SUMS` and `images.oci.tar`): `./tug bundle verify` on the stick,
/// and the wizard, find their bundle this way.
pub fn beside_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    is_bundle_dir(dir).then(|| dir.to_path_buf())
}

fn is_bundle_dir(dir: &Path) -> bool {
    dir.join(SUMS).is_file() && dir.join(IMAGES).is_file()
}
