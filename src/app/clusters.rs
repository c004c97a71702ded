//! The clusters this machine has installed (or saved), for a face that
//! starts a new one: what each is, a name no other holds, and the one
//! rule both faces keep: a new cluster never takes an installed one's
//! name, so saving or installing never replaces its Clusterfile silently.

use crate::cluster::clusterfile::Clusterfile;
use crate::cluster::model::Phase;
use crate::cluster::state::ClusterState;
use crate::paths::Paths;
use std::path::PathBuf;

/// The name a new cluster gets when none is taken.
pub const DEFAULT_NAME: &str = "default";

/// One cluster with a saved Clusterfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    /// Its name.
    pub name: String,
    /// Where its Clusterfile is.
    pub clusterfile: PathBuf,
    /// Its first image (the rootfs), or why the Clusterfile cannot be read.
    pub image: Result<String, String>,
    /// How many hosts it lists.
    pub hosts: usize,
    /// Each host's address and roles, in the Clusterfile's order.
    pub members: Vec<Member>,
    /// Where its last apply got to, in a few words.
    pub phase: &'static str,
}

/// One host of an installed cluster, as its list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its address as the Clusterfile writes it (`ip` or `ip:port`).
    pub address: String,
    /// Its roles, joined by commas.
    pub roles: String,
}

/// Every cluster with a saved Clusterfile, by name.
pub fn installed(paths: &Paths) -> Vec<Installed> {
    ClusterState::list(paths)
        .into_iter()
        .filter_map(|name| {
            let state = ClusterState::new(paths, &name).ok()?;
            let clusterfile = state.clusterfile_path();
            let (image, members, phase) = match Clusterfile::load(&clusterfile) {
                Ok(cf) => {
                    let spec = &cf.cluster.spec;
                    let members = spec
                        .hosts
                        .iter()
                        .flat_map(|h| {
                            h.ips.iter().map(|ip| Member {
                                address: ip.clone(),
                                roles: h.roles.join(","),
                            })
                        })
                        .collect();
                    let phase = match cf.cluster.status.as_ref().and_then(|s| s.phase) {
                        Some(Phase::ClusterSuccess) => "installed",
                        Some(Phase::ClusterFailed) => "failed",
                        Some(Phase::ClusterInProcess) => "not finished",
                        None => "saved, not installed",
                    };
                    let image = spec.image.first().cloned().unwrap_or_default();
                    (Ok(image), members, phase)
                }
                Err(e) => (Err(e.to_string()), Vec::new(), "unreadable"),
            };
            Some(Installed {
                name,
                clusterfile,
                image,
                hosts: members.len(),
                members,
                phase,
            })
        })
        .collect()
}

/// The first of `default`, `default-2`, `default-3`… that no cluster
/// holds.
pub fn free_name(taken: &[String]) -> String {
    let held = |n: &str| taken.iter().any(|t| t == n);
    if !held(DEFAULT_NAME) {
        return DEFAULT_NAME.to_string();
    }
    (2..)
        .map(|i| format!("{DEFAULT_NAME}-{i}"))
        .find(|n| !held(n))
        .unwrap_or_default()
}

/// Refuse to save or install a cluster named `name` when another cluster
/// of that name has a saved Clusterfile, unless `opened` (the installed
/// cluster being changed) is that one.
pub fn claim(paths: &Paths, name: &str, opened: Option<&str>) -> Result<(), String> {
    if opened == Some(name) || !ClusterState::list(paths).iter().any(|n| n == name) {
        return Ok(());
    }
    Err(format!(
        "a cluster named {name} is already installed here ({}): open it from the list of \
         clusters to change it, or give this one another name",
        paths.cluster_dir(name).display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_new_name_is_the_first_free_one() {
        assert_eq!(free_name(&[]), "default");
        assert_eq!(free_name(&names(&["prod"])), "default");
        assert_eq!(free_name(&names(&["default"])), "default-2");
        assert_eq!(
            free_name(&names(&["default", "default-2", "default-3"])),
            "default-4"
        );
    }

    #[test]
    fn a_taken_name_is_refused_unless_that_cluster_was_opened() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let state = ClusterState::new(&paths, "default").unwrap();
        std::fs::create_dir_all(state.dir()).unwrap();
        std::fs::write(state.clusterfile_path(), "x").unwrap();
        let err = claim(&paths, "default", None).unwrap_err();
        assert!(
            err.starts_with("a cluster named default is already installed here (")
                && err.contains("open it from the list"),
            "{err}"
        );
        assert_eq!(claim(&paths, "default", Some("default")), Ok(()));
        assert_eq!(claim(&paths, "other", None), Ok(()));
        let listed = installed(&paths);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "default");
        assert_eq!(listed[0].phase, "unreadable");
    }
}
