//! Deciding whether to trust the key a host shows during the handshake:
//! the russh client handler, plus the host key algorithm order that makes a
//! host show the key we have on record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use russh::Preferred;
use russh::client;
use russh::keys::PublicKeyOrCertificate;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::{Algorithm, Certificate, HashAlg, PublicKey};

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
    /// CAs (`@cert-authority`) whose host certificates are trusted here.
    pub(super) authorities: Vec<Recorded>,
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

impl Checker {
    /// Trust a host certificate signed by one of [`Checker::authorities`],
    /// valid now, for this host, with neither its key nor its CA revoked.
    fn check_certificate(&self, cert: &Certificate) -> Result<(), SshError> {
        let key = PublicKey::from(cert.public_key().clone());
        let refuse = |reason: String| SshError::HostCertificate {
            addr: self.addr.clone(),
            fingerprint: fingerprint(&key),
            reason,
        };
        let revoked = self.known.revoked(&self.host, self.port);
        let revoked = revoked.map_err(|(file, reason)| SshError::KnownHosts {
            addr: self.addr.clone(),
            file,
            reason,
        })?;
        let ca = PublicKey::from(cert.signature_key().clone());
        for k in [&key, &ca] {
            if let Some(r) = revoked.iter().find(|r| r.key.key_data() == k.key_data()) {
                return Err(SshError::HostKeyRevoked {
                    addr: self.addr.clone(),
                    fingerprint: fingerprint(k),
                    file: r.file.clone(),
                    line: r.line,
                });
            }
        }
        if cert.cert_type() != CertType::Host {
            return Err(refuse("it is a user certificate".into()));
        }
        if !cert.valid_principals().contains(&self.host) {
            let names = cert.valid_principals().join(", ");
            return Err(refuse(format!("it names {names:?}, not {}", self.host)));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let cas: Vec<_> = self
            .authorities
            .iter()
            .map(|a| a.key.fingerprint(HashAlg::Sha256))
            .collect();
        cert.validate_at(now, &cas).map_err(|e| {
            refuse(format!(
                "not signed by a @cert-authority of this host, or not valid now ({e})"
            ))
        })
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
            PublicKeyOrCertificate::Certificate(cert) if !self.authorities.is_empty() => {
                return match self.check_certificate(cert) {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        *self.verdict.lock().unwrap() = Some(e);
                        Ok(false)
                    }
                };
            }
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
