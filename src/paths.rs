//! Where tug keeps its files. `TUG_HOME` puts everything under one directory
//! (tests always set it); otherwise the platform's data, state and config dirs.

use std::path::{Path, PathBuf};

/// The three roots tug writes to. Every path tug uses is derived from these.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Image store and unpacked rootfs cache.
    pub data: PathBuf,
    /// Clusters: Clusterfile with status, logs, kubeconfig.
    pub state: PathBuf,
    /// Preferences, themes, registry credentials, known_hosts.
    pub config: PathBuf,
}

impl Paths {
    /// Resolve from `TUG_HOME` when set, else from the platform's directories.
    pub fn from_env() -> Self {
        if let Some(home) = std::env::var_os("TUG_HOME").filter(|h| !h.is_empty()) {
            return Self::under(Path::new(&home));
        }
        match directories::ProjectDirs::from("io", "tug", "tug") {
            Some(d) => Paths {
                data: d.data_dir().to_path_buf(),
                state: d
                    .state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .to_path_buf(),
                config: d.config_dir().to_path_buf(),
            },
            None => Self::under(Path::new(".tug")),
        }
    }

    /// Everything under one directory: `data/`, `state/`, `config/`.
    pub fn under(home: &Path) -> Self {
        Paths {
            data: home.join("data"),
            state: home.join("state"),
            config: home.join("config"),
        }
    }

    /// The local OCI image layout.
    pub fn image_store(&self) -> PathBuf {
        self.data.join("images")
    }

    /// Unpacked rootfs trees, one per image manifest digest.
    pub fn rootfs_cache(&self) -> PathBuf {
        self.data.join("rootfs")
    }

    /// The directory of one cluster's state.
    pub fn cluster_dir(&self, name: &str) -> PathBuf {
        self.state.join("clusters").join(name)
    }

    /// What each cluster-image layer holds (see `engine::layer_scan`),
    /// recorded once per layer digest.
    pub fn layer_scans(&self) -> PathBuf {
        self.data.join("layer-scans")
    }

    /// What the jump host derives from layers for the hosts (a mixed
    /// layer without its registry data), kept once per layer digest.
    pub fn layer_derived(&self) -> PathBuf {
        self.data.join("layer-derived")
    }

    /// tug's own log files (the wizard owns the terminal, so logs go here).
    pub fn log_dir(&self) -> PathBuf {
        self.state.join("logs")
    }

    /// Registry credentials in docker's config.json format (mode 0600).
    pub fn auth_file(&self) -> PathBuf {
        self.config.join("auth.json")
    }

    /// Preferences file (insecure registries, theme).
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.yaml")
    }

    /// Host keys tug has accepted.
    pub fn known_hosts(&self) -> PathBuf {
        self.config.join("known_hosts")
    }
}
