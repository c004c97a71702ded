//! What can go wrong making, checking or loading a bundle; each error names
//! the file (and, in SHA256SUMS, the line) concerned.

use super::CLUSTERFILE;
use crate::cluster::clusterfile::ClusterfileError;
use crate::image::archive::ArchiveError;
use crate::image::store::StoreError;
use std::io;
use std::path::PathBuf;

/// A bundle error.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The output is already there; tug never overwrites a bundle.
    #[error("{}: already exists; give the bundle a new name (a directory or FILE.tar inside it, say)", .0.display())]
    Exists(PathBuf),
    /// A filesystem operation failed.
    #[error("{}: cannot {action}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What tug was doing.
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The path holds no bundle (no SHA256SUMS: not one, or an unfinished one).
    #[error("{}: not a tug bundle ({reason})", path.display())]
    NotABundle {
        /// The path given.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// A line of SHA256SUMS is malformed.
    #[error("{}: line {line}: {reason}", path.display())]
    Sums {
        /// The SHA256SUMS file (or the bundle tar holding it).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A file SHA256SUMS lists (or a bundle needs) is not there.
    #[error("{}: missing from the bundle (damaged or incomplete copy?)", path.display())]
    Missing {
        /// The missing file, inside the bundle.
        path: PathBuf,
    },
    /// A file's content does not match its checksum.
    #[error("{}: checksum does not match SHA256SUMS (damaged copy?){}", path.display(), also(.others))]
    Mismatch {
        /// The first failing file, inside the bundle.
        path: PathBuf,
        /// Other failing files.
        others: Vec<String>,
    },
    /// The Clusterfile given to `create` holds a secret.
    #[error(
        "{CLUSTERFILE}: holds an SSH password, passphrase or key data; a bundle never carries one"
    )]
    Secret,
    /// The Clusterfile template could not be written out.
    #[error(transparent)]
    Clusterfile(#[from] ClusterfileError),
    /// The images could not be written or read.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stopped on request (Ctrl-C); nothing was left behind.
    #[error("cancelled")]
    Cancelled,
}

impl BundleError {
    /// Maps an OS error of `action` on `path` to [`BundleError::Io`]
    /// (for `map_err`).
    pub(super) fn io(
        path: &std::path::Path,
        action: &'static str,
    ) -> impl Fn(io::Error) -> BundleError + use<> {
        let path = path.to_path_buf();
        move |source| BundleError::Io {
            path: path.clone(),
            action,
            source,
        }
    }
}

fn also(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!("; also failing: {}", others.join(", "))
    }
}
