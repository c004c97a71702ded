//! Deciding whether to trust the key a host shows during the handshake:
//! the russh client handler, plus the host key algorithm order that makes a
//! host show the key we have on record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use russh::Preferred;
use russh::client;
use russh::keys::PublicKeyOrCertificate;
use russh::keys::ssh_key::{Algorithm, PublicKey};

use super::{HostKeyPolicy, KnownHosts, NewHostKey, Recorded, SshError, fingerprint};

/// russh's default host key algorithms with those we hold keys for first,
/// so a host with several keys shows the one on record (as OpenSSH does).
pub(super) fn host_key_order(recorded: &[Recorded]) -> Vec<Algorithm> {
    let mut order = Preferred::DEFAULT.key.to_vec();
    let known = |a: &Algorithm| {
        recorded.iter().any(|r| match (r.key.algorithm(), a) {
            (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
            (k, a) => &k == a,
        })
    };
    order.sort_by_key(|a| !known(a));
    order
}

/// The russh handler: decides whether to trust the host key.
pub(super) struct Checker {
    pub(super) addr: String,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) recorded: Vec<Recorded>,
    pub(super) known: KnownHosts,
    pub(super) policy: HostKeyPolicy,
    /// Why the key was refused, for `Session::open` to return.
    pub(super) verdict: Arc<Mutex<Option<SshError>>>,
    pub(super) new_key: Arc<Mutex<Option<NewHostKey>>>,
    /// Set while the Ask callback waits for a human: that time does not
    /// count against the connect timeout.
    pub(super) asking: Arc<AtomicBool>,
}

impl Checker {
    async fn check(&mut self, key: PublicKey) -> Result<bool, SshError> {
        let offered = fingerprint(&key);
        let revoked = self.known.revoked(&self.host, self.port);
        let revoked = revoked.map_err(|(file, reason)| SshError::KnownHosts {
            addr: self.addr.clone(),
            file,
            reason,
        })?;
        if let Some(r) = revoked.iter().find(|r| r.key.key_data() == key.key_data()) {
            return Err(SshError::HostKeyRevoked {
                addr: self.addr.clone(),
                fingerprint: offered,
                file: r.file.clone(),
                line: r.line,
            });
        }
        if self
            .recorded
            .iter()
            .any(|r| r.key.key_data() == key.key_data())
        {
            return Ok(true);
        }
        if let Some(r) = self
            .recorded
            .iter()
            .find(|r| r.key.algorithm() == key.algorithm())
            .or(self.recorded.first())
        {
            return Err(SshError::HostKeyChanged {
                addr: self.addr.clone(),
                offered,
                known: fingerprint(&r.key),
                file: r.file.clone(),
                line: r.line,
            });
        }
        let new = NewHostKey {
            addr: self.addr.clone(),
            algorithm: key.algorithm().to_string(),
            fingerprint: offered,
        };
        let trust = match &self.policy {
            HostKeyPolicy::AcceptNew => true,
            HostKeyPolicy::Strict => false,
            HostKeyPolicy::Ask(ask) => {
                self.asking.store(true, Ordering::SeqCst);
                let answer = ask(new.clone()).await;
                self.asking.store(false, Ordering::SeqCst);
                answer
            }
        };
        if !trust {
            return Err(SshError::HostKeyUnknown {
                addr: self.addr.clone(),
                fingerprint: new.fingerprint,
                file: self.known.file().to_path_buf(),
            });
        }
        self.known
            .record(&self.host, self.port, &key)
            .map_err(|e| SshError::KnownHosts {
                addr: self.addr.clone(),
                file: self.known.file().to_path_buf(),
                reason: e.to_string(),
            })?;
        tracing::info!(addr = %self.addr, fingerprint = %new.fingerprint, "recorded new host key");
        *self.new_key.lock().unwrap() = Some(new);
        Ok(true)
    }
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        match self.check(key).await {
            Ok(trusted) => Ok(trusted),
            Err(e) => {
                *self.verdict.lock().unwrap() = Some(e);
                Ok(false)
            }
        }
    }
}
