//! Logging in: password, private key file or key text (optionally with a
//! passphrase), or the keys of a running ssh-agent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::secret::Secret;
use russh::client::Handle;
use russh::keys::PrivateKeyWithHashAlg;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use zeroize::Zeroizing;

use super::SshError;

/// How to log in to a host. Secrets are [`Secret`]s (zeroed on drop, masked
/// in `Debug`).
#[derive(Clone, Debug)]
pub enum Auth {
    /// Password authentication.
    Password(Secret),
    /// A private key file (OpenSSH, PKCS#8 or PPK), with its passphrase if it has one.
    Key {
        /// The private key file.
        path: PathBuf,
        /// Its passphrase.
        passphrase: Option<Secret>,
    },
    /// A private key given as text (a Clusterfile's `pkData`), held in memory only.
    KeyData {
        /// The key's text (OpenSSH, PKCS#8 or PPK).
        data: Secret,
        /// Its passphrase.
        passphrase: Option<Secret>,
    },
    /// Every key of an ssh-agent, in the agent's order.
    Agent {
        /// The agent's socket; `None` reads `SSH_AUTH_SOCK`.
        socket: Option<PathBuf>,
    },
}

/// Authenticate `user` on an open connection; `Ok` only when the server accepted.
pub(super) async fn login<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    addr: &str,
    user: &str,
    auth: &Auth,
) -> Result<(), SshError> {
    let protocol = |source| SshError::Protocol {
        addr: addr.to_string(),
        source,
    };
    let failed = |method: String| SshError::Auth {
        addr: addr.to_string(),
        user: user.to_string(),
        method,
    };
    match auth {
        Auth::Password(pw) => {
            let r = handle
                .authenticate_password(user, pw.expose())
                .await
                .map_err(protocol)?;
            r.success()
                .then_some(())
                .ok_or_else(|| failed("password".into()))
        }
        Auth::Key { path, passphrase } => {
            let text = std::fs::read_to_string(path).map_err(|e| SshError::Key {
                addr: addr.to_string(),
                path: path.clone(),
                reason: e.to_string(),
            });
            let text = Zeroizing::new(text?);
            key_login(handle, addr, user, &text, passphrase.as_ref(), path).await
        }
        Auth::KeyData { data, passphrase } => {
            let shown = Path::new("pkData");
            key_login(
                handle,
                addr,
                user,
                data.expose(),
                passphrase.as_ref(),
                shown,
            )
            .await
        }
        Auth::Agent { socket } => agent_login(handle, addr, user, socket.as_deref()).await,
    }
}

/// Logs in with the private key `text`; `shown` names it in errors.
async fn key_login<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    addr: &str,
    user: &str,
    text: &str,
    passphrase: Option<&Secret>,
    shown: &Path,
) -> Result<(), SshError> {
    let key_err = |reason: String| SshError::Key {
        addr: addr.to_string(),
        path: shown.to_path_buf(),
        reason,
    };
    let pass = passphrase.map(|p| p.expose());
    let key = russh::keys::decode_secret_key(text, pass).map_err(|e| match e {
        russh::keys::Error::KeyIsEncrypted => {
            key_err("is encrypted and no passphrase was given".into())
        }
        e if pass.is_some() => key_err(format!("wrong passphrase or damaged key ({e})")),
        e => key_err(e.to_string()),
    })?;
    let protocol = |source| SshError::Protocol {
        addr: addr.to_string(),
        source,
    };
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(protocol)?
        .flatten();
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    let r = handle
        .authenticate_publickey(user, key)
        .await
        .map_err(protocol)?;
    r.success().then_some(()).ok_or_else(|| SshError::Auth {
        addr: addr.to_string(),
        user: user.to_string(),
        method: format!("key {}", shown.display()),
    })
}

async fn agent_login<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    addr: &str,
    user: &str,
    socket: Option<&Path>,
) -> Result<(), SshError> {
    let agent_err = |reason: String| SshError::Agent {
        addr: addr.to_string(),
        reason,
    };
    let agent = match socket {
        Some(path) => AgentClient::connect_uds(path).await,
        None => AgentClient::connect_env().await,
    };
    let mut agent = agent.map_err(|e| agent_err(format!("cannot connect ({e})")))?;
    if let Some(binding) = handle.agent_session_binding() {
        // Only destination-constrained keys need this; older agents refuse it harmlessly.
        let _ = agent.bind_session(binding, false).await;
    }
    let ids = agent
        .request_identities()
        .await
        .map_err(|e| agent_err(e.to_string()))?;
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(|source| SshError::Protocol {
            addr: addr.to_string(),
            source,
        })?
        .flatten();
    for id in &ids {
        let AgentIdentity::PublicKey { key, .. } = id else {
            continue;
        };
        match handle
            .authenticate_publickey_with(user, key.clone(), hash, &mut agent)
            .await
        {
            Ok(r) if r.success() => return Ok(()),
            Ok(_) => {}
            Err(e) => tracing::debug!(%addr, "agent key refused: {e}"),
        }
    }
    Err(SshError::Auth {
        addr: addr.to_string(),
        user: user.to_string(),
        method: format!("ssh-agent, {} keys", ids.len()),
    })
}
