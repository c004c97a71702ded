//! Registry credentials in docker's `config.json` format. tug keeps its own
//! file (`Paths::auth_file()`, mode 0600, replaced atomically) and also reads
//! `REGISTRY_AUTH_FILE` and `~/.docker/config.json` (`DOCKER_CONFIG`), so a
//! `docker login` or `podman login` already done is honoured. Credential
//! helpers (`credsStore`, `credHelpers`) named there are asked too.

use base64::Engine;
use secrecy::SecretString;
use std::fs;
use std::path::{Path, PathBuf};

/// A user name and password for one registry.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password (never printed or logged).
    pub password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// What can go wrong with credential files.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What tug was doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not docker config.json.
    #[error("{path} is not a docker config.json: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the secret itself).
        reason: String,
    },
}

type Result<T> = std::result::Result<T, AuthError>;

/// The key credentials of `registry` are kept under: docker's historical
/// key for Docker Hub, the `host[:port]` for everything else.
pub fn key_for(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".to_string()
        }
        other => other.to_string(),
    }
}

/// The files credentials are read from, in order: tug's own, then
/// `REGISTRY_AUTH_FILE`, then docker's.
fn search_path(own: &Path) -> Vec<PathBuf> {
    let mut files = vec![own.to_path_buf()];
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|f| !f.is_empty()) {
        files.push(PathBuf::from(f));
    }
    let docker_dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")));
    if let Some(d) = docker_dir {
        files.push(d.join("config.json"));
    }
    files
}

/// The credentials for `registry` from the first file that has them.
/// Identity tokens (OAuth refresh tokens) are not used; such entries are
/// passed over.
pub fn lookup(own: &Path, registry: &str) -> Result<Option<Credentials>> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    for file in search_path(own) {
        let mut doc = match fs::read(&file) {
            Ok(_) => read_doc(&file)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(AuthError::Io {
                    action: "read",
                    path: file,
                    source,
                });
            }
        };
        // docker writes `"credsStore": ""` to mean none.
        if let Some(top) = doc.as_object_mut()
            && top.get("credsStore").and_then(|v| v.as_str()) == Some("")
        {
            top.remove("credsStore");
        }
        let bytes = serde_json::to_vec(&doc).expect("JSON value serialises");
        match docker_credential::get_credential_from_reader(&bytes[..], &key_for(registry)) {
            Ok(DockerCredential::UsernamePassword(username, password)) => {
                return Ok(Some(Credentials {
                    username,
                    password: SecretString::from(password),
                }));
            }
            Ok(DockerCredential::IdentityToken(_)) | Err(E::NoCredentialConfigured) => {}
            Err(
                e @ (E::HelperFailure { .. }
                | E::HelperCommunicationError
                | E::MalformedHelperResponse),
            ) => {
                tracing::warn!(
                    "credential helper named in {} gave nothing for {registry}: {}",
                    file.display(),
                    e.to_string().lines().next().unwrap_or_default()
                );
            }
            Err(e) => {
                return Err(AuthError::Malformed {
                    path: file,
                    reason: e.to_string().lines().next().unwrap_or_default().to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// Save credentials for `registry` into `file`, keeping its other entries.
pub fn save(file: &Path, registry: &str, creds: &Credentials) -> Result<()> {
    use secrecy::ExposeSecret;
    let mut doc = read_doc(file)?;
    let pair = zeroize::Zeroizing::new(format!(
        "{}:{}",
        creds.username,
        creds.password.expose_secret()
    ));
    let token = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
    auths(&mut doc, file)?.insert(key_for(registry), serde_json::json!({ "auth": token }));
    write_private(file, &doc)
}

/// Remove the credentials for `registry` from `file`; false if none were there.
pub fn remove(file: &Path, registry: &str) -> Result<bool> {
    let mut doc = read_doc(file)?;
    let removed = auths(&mut doc, file)?.remove(&key_for(registry)).is_some();
    if removed {
        write_private(file, &doc)?;
    }
    Ok(removed)
}

fn read_doc(file: &Path) -> Result<serde_json::Value> {
    match fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AuthError::Malformed {
            path: file.to_path_buf(),
            reason: format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                e.classify_name()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(source) => Err(AuthError::Io {
            action: "read",
            path: file.to_path_buf(),
            source,
        }),
    }
}

/// Short names for serde_json error categories (the message itself could
/// quote file content, i.e. a secret).
trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected value",
            serde_json::error::Category::Eof => "unexpected end of file",
        }
    }
}

fn auths<'a>(
    doc: &'a mut serde_json::Value,
    file: &Path,
) -> Result<&'a mut serde_json::Map<String, serde_json::Value>> {
    let malformed = |reason: &str| AuthError::Malformed {
        path: file.to_path_buf(),
        reason: reason.to_string(),
    };
    let top = doc
        .as_object_mut()
        .ok_or_else(|| malformed("the top level is not an object"))?;
    top.entry("auths")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .ok_or_else(|| malformed("\"auths\" is not an object"))
}

/// Write `doc` atomically with mode 0600 (see [`crate::fsutil`]).
fn write_private(file: &Path, doc: &serde_json::Value) -> Result<()> {
    let body = serde_json::to_vec_pretty(doc).expect("JSON value serialises");
    crate::fsutil::write_private(file, &body).map_err(|source| AuthError::Io {
        action: "write",
        path: file.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::os::unix::fs::PermissionsExt;

    fn creds(u: &str, p: &str) -> Credentials {
        Credentials {
            username: u.into(),
            password: SecretString::from(p.to_string()),
        }
    }

    #[test]
    fn saved_credentials_are_private_readable_and_removable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config").join("auth.json");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(
            &file,
            r#"{"auths":{"other:1":{"auth":"eDp5"}},"credsStore":""}"#,
        )
        .unwrap();
        save(&file, "127.0.0.1:5000", &creds("alice", "s3:cret")).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let got = lookup(&file, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(got.username, "alice");
        assert_eq!(got.password.expose_secret(), "s3:cret");
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("other:1") && !text.contains("s3:cret"),
            "{text}"
        );
        assert!(remove(&file, "127.0.0.1:5000").unwrap());
        assert!(!remove(&file, "127.0.0.1:5000").unwrap());
        assert!(lookup(&file, "127.0.0.1:5000").unwrap().is_none());
        assert!(lookup(&file, "other:1").unwrap().is_some());
    }

    #[test]
    fn docker_hub_uses_dockers_key() {
        assert_eq!(key_for("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(key_for("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn a_broken_file_is_named_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        fs::write(&file, "{\"auths\": {\"x\": secret").unwrap();
        let e = save(&file, "x", &creds("u", "p")).unwrap_err().to_string();
        assert!(e.contains("auth.json") && !e.contains("secret"), "{e}");
    }
}
