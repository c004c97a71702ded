//! Air-gapped bundles: everything an install needs on a USB stick. A bundle
//! is a directory (or one tar of it) holding the `tug` binary, the chosen
//! images as an OCI archive, a Clusterfile template, a README and
//! `SHA256SUMS` (the format `sha256sum -c` reads). `create` streams every
//! file through a hasher into a temp name renamed into place at the end;
//! `verify` checks every file; `load` verifies, then loads the images into
//! the store without any network; `read_template` gives the hosts its
//! Clusterfile names (the wizard fills its screens with them).

mod checksums;
mod create;
mod error;
mod job;
mod layout;
mod load;
mod output;
mod read;
mod template;
mod verify;

pub use checksums::Sums;
pub use create::{Bundle, create};
pub use error::BundleError;
pub use job::{Job, Progress};
pub use layout::{BINARY, CLUSTERFILE, IMAGES, README, SUMS, beside_binary};
pub use load::{Loaded, load};
pub use read::read_template;
pub use template::{PLACEHOLDER_MASTER, PLACEHOLDER_NODE, is_placeholder};
pub use verify::{Verified, verify};
