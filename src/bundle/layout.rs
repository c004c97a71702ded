//! What a bundle is made of: its file names, and how to tell a directory
//! that holds one.

use std::path::{Path, PathBuf};

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
