//! Host key trust: OpenSSH `known_hosts` files and what to do with a key we
//! have never seen.
//!
//! We parse lines ourselves (through `ssh_key`'s entry parser) because russh's
//! own checker splits on single spaces and knows no wildcards or negations.
//! Supported: plain and `[host]:port` names, `*`/`?` globs, `!` negation,
//! hashed `|1|salt|hash` names. `@revoked` lines name keys refused for the
//! hosts they match, whatever the policy; `@cert-authority` lines name the
//! SSH CAs whose host certificates are trusted for the hosts they match.
//! Lines that do not parse are skipped.

use std::fmt;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use hmac::{KeyInit, Mac};
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use russh::keys::ssh_key::{HashAlg, PublicKey};

/// The files host keys are trusted from: one the caller owns (read and
/// appended to) and any number read-only (normally `~/.ssh/known_hosts`).
#[derive(Debug, Clone)]
pub struct KnownHosts {
    file: PathBuf,
    read_only: Vec<PathBuf>,
}

/// A host key found on record for a host.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The key.
    pub key: PublicKey,
    /// The file it is in.
    pub file: PathBuf,
    /// Its 1-based line number.
    pub line: usize,
}

/// Asks whether to trust a host key never seen before (the wizard shows the
/// fingerprint); resolves to `true` to trust and record it.
pub type AskFn =
    Arc<dyn Fn(NewHostKey) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// What to do with a host key that is not on record. A key that differs
/// from the recorded one is always refused, whatever the policy.
#[derive(Clone)]
pub enum HostKeyPolicy {
    /// Trust it, record it, and report its fingerprint (OpenSSH `accept-new`).
    AcceptNew,
    /// Refuse it (OpenSSH `StrictHostKeyChecking yes`).
    Strict,
    /// Ask the callback; record it when it says yes.
    Ask(AskFn),
}

impl fmt::Debug for HostKeyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostKeyPolicy::AcceptNew => "AcceptNew",
            HostKeyPolicy::Strict => "Strict",
            HostKeyPolicy::Ask(_) => "Ask",
        })
    }
}

/// A host key seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHostKey {
    /// `host:port`.
    pub addr: String,
    /// Key algorithm, e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// `SHA256:…` as OpenSSH prints it.
    pub fingerprint: String,
}

impl KnownHosts {
    /// `file` (created on first record) plus `~/.ssh/known_hosts` read-only.
    pub fn new(file: impl Into<PathBuf>) -> KnownHosts {
        let user =
            directories::BaseDirs::new().map(|b| b.home_dir().join(".ssh").join("known_hosts"));
        KnownHosts::with_files(file, user.into_iter().collect())
    }

    /// `file` plus exactly these read-only files.
    pub fn with_files(file: impl Into<PathBuf>, read_only: Vec<PathBuf>) -> KnownHosts {
        KnownHosts {
            file: file.into(),
            read_only,
        }
    }

    /// The file new keys are recorded in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Every key on record for `host` on `port`, across all files. A missing
    /// file counts as empty; an unreadable one is an error naming it.
    pub fn lookup(&self, host: &str, port: u16) -> Result<Vec<Recorded>, (PathBuf, String)> {
        self.entries(host, port, None)
    }

    /// Every key an `@revoked` line names for `host` on `port`: never to be
    /// accepted, whatever else is on record and whatever the policy.
    pub fn revoked(&self, host: &str, port: u16) -> Result<Vec<Recorded>, (PathBuf, String)> {
        self.entries(host, port, Some(&Marker::Revoked))
    }

    /// Every CA an `@cert-authority` line trusts for `host` on `port`: a
    /// host certificate one of them signed is trusted.
    pub fn authorities(&self, host: &str, port: u16) -> Result<Vec<Recorded>, (PathBuf, String)> {
        self.entries(host, port, Some(&Marker::CertAuthority))
    }

    /// The entries for a host with this marker (`None`: unmarked).
    fn entries(
        &self,
        host: &str,
        port: u16,
        marker: Option<&Marker>,
    ) -> Result<Vec<Recorded>, (PathBuf, String)> {
        let name = host_port(host, port);
        let mut found = Vec::new();
        for file in std::iter::once(&self.file).chain(&self.read_only) {
            let f = match std::fs::File::open(file) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err((file.clone(), e.to_string())),
            };
            for (i, line) in BufReader::new(f).lines().enumerate() {
                let line = line.map_err(|e| (file.clone(), e.to_string()))?;
                // ssh_key's parser wants single spaces; OpenSSH allows any run of blanks.
                let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Ok(entry) = line.parse::<Entry>() else {
                    continue;
                };
                if entry.marker() == marker && matches(entry.host_patterns(), &name) {
                    found.push(Recorded {
                        key: entry.public_key().clone(),
                        file: file.clone(),
                        line: i + 1,
                    });
                }
            }
        }
        Ok(found)
    }

    /// Append `host`'s key to the owned file (creating it and its folder),
    /// unless it is there already (two sessions may meet a new host at once).
    pub fn record(&self, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
        static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let on_record = KnownHosts::with_files(&self.file, vec![]).lookup(host, port);
        if on_record.is_ok_and(|r| r.iter().any(|r| r.key.key_data() == key.key_data())) {
            return Ok(());
        }
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let key = key.to_openssh().map_err(std::io::Error::other)?;
        let key = key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let line = format!("{} {key}\n", host_port(host, port));
        // One write of a whole line to an O_APPEND file: other processes' records do not interleave.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)?
            .write_all(line.as_bytes())
    }
}

/// `SHA256:…` fingerprint of a key, as OpenSSH prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The name a host is filed under: `host`, or `[host]:port` off port 22.
fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

fn matches(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::Patterns(list) => {
            let mut hit = false;
            for p in list {
                if let Some(negated) = p.strip_prefix('!') {
                    if glob(negated.as_bytes(), name.as_bytes()) {
                        return false;
                    }
                } else if glob(p.as_bytes(), name.as_bytes()) {
                    hit = true;
                }
            }
            hit
        }
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok()
        }
    }
}

/// OpenSSH pattern match: `*` any run, `?` any one character, ASCII case-insensitive.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((&p, rest)) => match name.split_first() {
            Some((&c, tail)) => (p == b'?' || p.eq_ignore_ascii_case(&c)) && glob(rest, tail),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPwnb7qwwCB0r3kgK5uz5RhdYVe6IvVUIrodPWv4QpQu";

    fn known(lines: &str) -> (tempfile::TempDir, KnownHosts) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kh"), lines).unwrap();
        let kh = KnownHosts::with_files(dir.path().join("kh"), vec![]);
        (dir, kh)
    }

    #[test]
    fn globs_negations_ports_and_spacing() {
        let (_d, kh) = known(&format!(
            "# comment\n\n10.0.0.*,!10.0.0.9  {KEY}\n[10.0.1.1]:2222\t{KEY}\n@revoked 10.0.0.1 {KEY}\nnot a key\n"
        ));
        let lines = |h, p| {
            kh.lookup(h, p)
                .unwrap()
                .iter()
                .map(|r| r.line)
                .collect::<Vec<_>>()
        };
        assert_eq!(lines("10.0.0.1", 22), vec![3]);
        assert!(lines("10.0.0.9", 22).is_empty());
        assert!(lines("10.0.0.1", 2222).is_empty());
        assert_eq!(lines("10.0.1.1", 2222), vec![4]);
        assert!(lines("10.0.1.1", 22).is_empty());
        let revoked: Vec<usize> = kh
            .revoked("10.0.0.1", 22)
            .unwrap()
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(revoked, vec![5]);
        assert!(kh.revoked("10.0.0.2", 22).unwrap().is_empty());
    }

    #[test]
    fn hashed_names_match_like_openssh() {
        let (d, kh) = known(&format!("10.0.0.5 {KEY}\n[10.0.0.5]:2222 {KEY}\n"));
        let hashed = std::process::Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(d.path().join("kh"))
            .output();
        assert!(hashed.unwrap().status.success(), "ssh-keygen -H failed");
        let text = std::fs::read_to_string(d.path().join("kh")).unwrap();
        assert!(
            text.starts_with("|1|") && !text.contains("10.0.0.5"),
            "{text}"
        );
        assert_eq!(kh.lookup("10.0.0.5", 22).unwrap().len(), 1);
        assert_eq!(kh.lookup("10.0.0.5", 2222).unwrap().len(), 1);
        assert!(kh.lookup("10.0.0.6", 22).unwrap().is_empty());
    }

    #[test]
    fn record_then_lookup_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let kh = KnownHosts::with_files(dir.path().join("sub/kh"), vec![]);
        let key = PublicKey::from_openssh(KEY).unwrap();
        kh.record("10.0.0.7", 2200, &key).unwrap();
        let found = kh.lookup("10.0.0.7", 2200).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, key);
        assert!(fingerprint(&key).starts_with("SHA256:"));
    }
}
