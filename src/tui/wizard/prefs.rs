//! What the SSH screen remembers between runs (the last user, port, key
//! path and bastion, in `<config>/wizard.yaml`) and the login key it finds on its own:
//! a running ssh-agent, else the first of `~/.ssh/id_ed25519`, `id_ecdsa`,
//! `id_rsa`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file the preferences live in, under tug's config dir.
pub fn file(config: &Path) -> PathBuf {
    config.join("wizard.yaml")
}

/// The SSH settings last used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefs {
    /// The login user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The SSH port of hosts given without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The private key's path, when one was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The bastion (`USER@HOST[:PORT]`), when one was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bastion: Option<String>,
}

impl Prefs {
    /// The preferences at `path`; none when the file is missing or bad
    /// (preferences only save keystrokes, so a bad file is not an error).
    pub fn load(path: &Path) -> Prefs {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Prefs::default();
        };
        serde_yaml::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("{}: {e}; ignoring the wizard's preferences", path.display());
            Prefs::default()
        })
    }

    /// Write them to `path`, creating its directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_yaml::to_string(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }
}

/// A login the SSH screen found without being told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// An ssh-agent runs (`SSH_AUTH_SOCK`): its keys are tried.
    Agent,
    /// A private key file.
    Key(String),
}

/// The login to use when no password and no key are typed: the agent when
/// `agent` runs, else the first default key under `home`.
pub fn find_login(home: Option<&Path>, agent: bool) -> Option<Found> {
    if agent {
        return Some(Found::Agent);
    }
    let ssh = home?.join(".ssh");
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| ssh.join(name))
        .find(|p| p.is_file())
        .map(|p| Found::Key(p.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::{Found, Prefs, file, find_login};

    #[test]
    fn the_agent_comes_first_then_the_default_keys_in_order() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(find_login(Some(home.path()), false), None);
        let ssh = home.path().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(ssh.join("id_rsa"), "k").unwrap();
        std::fs::write(ssh.join("id_ecdsa"), "k").unwrap();
        let found = find_login(Some(home.path()), false);
        assert_eq!(
            found,
            Some(Found::Key(ssh.join("id_ecdsa").display().to_string()))
        );
        assert_eq!(find_login(Some(home.path()), true), Some(Found::Agent));
    }

    #[test]
    fn preferences_round_trip_and_a_bad_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir.path().join("config"));
        assert_eq!(Prefs::load(&path), Prefs::default());
        let prefs = Prefs {
            user: Some("admin".into()),
            port: Some(2222),
            key: None,
            bastion: Some("ops@jump:2222".into()),
        };
        prefs.save(&path).unwrap();
        assert_eq!(Prefs::load(&path), prefs);
        std::fs::write(&path, "port: [not a port").unwrap();
        assert_eq!(Prefs::load(&path), Prefs::default());
    }
}
