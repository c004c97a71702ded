//! One cluster's own directory under `Paths::cluster_dir(name)`: the applied
//! Clusterfile with its status, the install logs and the admin kubeconfig.
//! A second apply reads it to resume or change the cluster.

use super::clusterfile::{Clusterfile, ClusterfileError};
use super::validate::check_name;
use crate::fsutil::write_private;
use crate::paths::Paths;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Why a cluster's state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The name cannot be a directory name.
    #[error("invalid cluster name: {0}")]
    Name(String),
    /// No Clusterfile is saved under that name.
    #[error("no cluster named {name} (nothing under {})", dir.display())]
    NoCluster {
        /// The name asked for.
        name: String,
        /// Where its state would be.
        dir: PathBuf,
    },
    /// Reading or writing the Clusterfile failed.
    #[error(transparent)]
    Clusterfile(#[from] ClusterfileError),
    /// A file or directory of the state could not be written or moved.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The state directory of one named cluster.
#[derive(Debug, Clone)]
pub struct ClusterState {
    name: String,
    dir: PathBuf,
}

impl ClusterState {
    /// The state of cluster `name` (nothing is created yet).
    pub fn new(paths: &Paths, name: &str) -> Result<ClusterState, StateError> {
        check_name(name).map_err(StateError::Name)?;
        Ok(ClusterState {
            name: name.to_string(),
            dir: paths.cluster_dir(name),
        })
    }

    /// The names of every cluster with a saved Clusterfile, sorted.
    pub fn list(paths: &Paths) -> Vec<String> {
        let root = paths.state.join("clusters");
        let mut names: Vec<String> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("Clusterfile").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The applied Clusterfile (with status).
    pub fn clusterfile_path(&self) -> PathBuf {
        self.dir.join("Clusterfile")
    }

    /// Per-host install logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// The admin kubeconfig fetched from master0.
    pub fn admin_conf(&self) -> PathBuf {
        self.dir.join("admin.conf")
    }

    /// The saved Clusterfile, or `None` when this cluster was never applied.
    pub fn load(&self) -> Result<Option<Clusterfile>, StateError> {
        let path = self.clusterfile_path();
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(Clusterfile::load(&path)?))
    }

    /// Load the saved Clusterfile of a cluster that must exist.
    pub fn load_existing(&self) -> Result<Clusterfile, StateError> {
        self.load()?.ok_or_else(|| StateError::NoCluster {
            name: self.name.clone(),
            dir: self.dir.clone(),
        })
    }

    /// Save the Clusterfile (mode 0600, atomically), creating the directory
    /// (mode 0700) and its `logs/`.
    pub fn save(&self, cf: &Clusterfile) -> Result<(), StateError> {
        self.create_dirs()?;
        cf.save(&self.clusterfile_path())?;
        Ok(())
    }

    /// Store the admin kubeconfig (mode 0600, atomically).
    pub fn save_admin_conf(&self, kubeconfig: &[u8]) -> Result<(), StateError> {
        self.create_dirs()?;
        let path = self.admin_conf();
        write_private(&path, kubeconfig).map_err(|source| StateError::Io { path, source })
    }

    /// After a reset: keep the Clusterfile as `Clusterfile.<unix time>` (as
    /// sealos does) so the name is free for a new cluster. Returns the new
    /// path, or `None` if there was nothing to keep.
    pub fn archive(&self) -> Result<Option<PathBuf>, StateError> {
        let from = self.clusterfile_path();
        if !from.exists() {
            return Ok(None);
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let to = self.dir.join(format!("Clusterfile.{secs}"));
        std::fs::rename(&from, &to).map_err(|source| StateError::Io {
            path: to.clone(),
            source,
        })?;
        Ok(Some(to))
    }

    fn create_dirs(&self) -> Result<(), StateError> {
        for dir in [self.dir.clone(), self.logs_dir()] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| StateError::Io { path: dir, source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::create::{NewCluster, generate};
    use crate::cluster::hosts::parse_ip_list;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn save_load_archive() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        assert!(matches!(
            ClusterState::new(&paths, "../x"),
            Err(StateError::Name(_))
        ));
        let st = ClusterState::new(&paths, "lab").unwrap();
        assert!(st.load().unwrap().is_none());
        let cf = generate(NewCluster {
            name: "lab".into(),
            images: vec!["labring/kubernetes:v1.25.0".into()],
            masters: parse_ip_list("10.0.0.2").unwrap(),
            ..NewCluster::default()
        })
        .unwrap();
        st.save(&cf).unwrap();
        st.save_admin_conf(b"apiVersion: v1\n").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(st.dir()), 0o700);
        assert_eq!(mode(&st.admin_conf()), 0o600);
        assert!(st.logs_dir().is_dir());
        assert_eq!(st.load().unwrap().unwrap().cluster, cf.cluster);
        assert_eq!(ClusterState::list(&paths), ["lab"]);
        let kept = st.archive().unwrap().unwrap();
        assert!(kept.is_file());
        assert!(st.load().unwrap().is_none());
        assert!(ClusterState::list(&paths).is_empty());
    }
}
