//! What can go wrong talking to a host over SSH. Every error names the host
//! (`addr` is `host:port`) so a failure among many nodes says which one;
//! none ever carries a password or passphrase.

use std::path::PathBuf;

/// An SSH failure on one host.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// TCP connect failed (refused, unreachable, no route).
    #[error("{addr}: cannot connect: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// Connect or handshake took longer than the connect timeout.
    #[error("{addr}: no answer within {secs} s (host down or port filtered?)")]
    Timeout {
        /// `host:port`.
        addr: String,
        /// The timeout that passed.
        secs: u64,
    },
    /// The server refused every credential we offered.
    #[error("{addr}: authentication failed for user {user} ({method})")]
    Auth {
        /// `host:port`.
        addr: String,
        /// The login user.
        user: String,
        /// What we tried: "password", "key /path", "ssh-agent (n keys)".
        method: String,
    },
    /// A private key file could not be used.
    #[error("{addr}: private key {}: {reason}", path.display())]
    Key {
        /// `host:port`.
        addr: String,
        /// The key file.
        path: PathBuf,
        /// Why (unreadable, wrong passphrase, needs a passphrase…).
        reason: String,
    },
    /// The ssh-agent could not be reached or used.
    #[error("{addr}: ssh-agent: {reason}")]
    Agent {
        /// `host:port`.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The host offered a different key than the one recorded: refused always.
    #[error(
        "{addr}: HOST KEY CHANGED: offered {offered}, but {} line {line} records {known}; \
         if the host was reinstalled, remove that line",
        file.display()
    )]
    HostKeyChanged {
        /// `host:port`.
        addr: String,
        /// SHA256 fingerprint the host offered now.
        offered: String,
        /// SHA256 fingerprint on record.
        known: String,
        /// The known_hosts file holding the record.
        file: PathBuf,
        /// Its line number (1-based).
        line: usize,
    },
    /// The host offered a key an `@revoked` line names: refused always.
    #[error("{addr}: host key {fingerprint} is revoked ({}:{line}); refused", file.display())]
    HostKeyRevoked {
        /// `host:port`.
        addr: String,
        /// SHA256 fingerprint the host offered.
        fingerprint: String,
        /// The known_hosts file with the `@revoked` line.
        file: PathBuf,
        /// Its 1-based line number.
        line: usize,
    },
    /// The host showed a certificate a `@cert-authority` CA does not vouch for.
    #[error("{addr}: host certificate for key {fingerprint} refused: {reason}")]
    HostCertificate {
        /// `host:port`.
        addr: String,
        /// SHA256 fingerprint of the certified key.
        fingerprint: String,
        /// Why.
        reason: String,
    },
    /// The host key is not on record and the policy does not accept new keys.
    #[error("{addr}: unknown host key {fingerprint} refused; add it to {} to trust it", file.display())]
    HostKeyUnknown {
        /// `host:port`.
        addr: String,
        /// SHA256 fingerprint the host offered.
        fingerprint: String,
        /// The known_hosts file it would be recorded in.
        file: PathBuf,
    },
    /// A known_hosts file could not be read or written.
    #[error("{addr}: known_hosts {}: {reason}", file.display())]
    KnownHosts {
        /// `host:port`.
        addr: String,
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The command could not be started on the host.
    #[error("{addr}: cannot start `{command}`: {reason}")]
    Start {
        /// `host:port`.
        addr: String,
        /// The command as it may be shown: secrets masked, never the script's text.
        command: String,
        /// Why.
        reason: String,
    },
    /// The connection broke while a command ran; it may or may not have finished.
    #[error("{addr}: connection lost while running `{command}`")]
    Lost {
        /// `host:port`.
        addr: String,
        /// The command as it may be shown: secrets masked, never the script's text.
        command: String,
    },
    /// sudo asked for a password and none was configured.
    #[error(
        "{addr}: sudo needs a password for user {user} (give the SSH password or allow NOPASSWD)"
    )]
    SudoNeedsPassword {
        /// `host:port`.
        addr: String,
        /// The login user.
        user: String,
    },
    /// sudo refused the configured password.
    #[error("{addr}: sudo refused the password of user {user}")]
    SudoRejected {
        /// `host:port`.
        addr: String,
        /// The login user.
        user: String,
    },
    /// A command's collected output was larger than the caller allowed.
    #[error("{addr}: output of `{command}` exceeds {limit} bytes")]
    TooLarge {
        /// `host:port`.
        addr: String,
        /// The command as it may be shown: secrets masked, never the script's text.
        command: String,
        /// The limit.
        limit: usize,
    },
    /// Reading the data to send to the command's stdin failed.
    #[error("{addr}: reading input for `{command}`: {source}")]
    Input {
        /// `host:port`.
        addr: String,
        /// The command as it may be shown: secrets masked, never the script's text.
        command: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The bastion in front of the host failed (could not connect, refused
    /// its host key, refused the login…): `source` names the bastion.
    #[error("{addr}: through bastion {source}")]
    Bastion {
        /// `host:port` of the host behind the bastion.
        addr: String,
        /// What went wrong on the bastion.
        source: Box<SshError>,
    },
    /// The bastion is up but would not open a connection to the host.
    #[error(
        "{addr}: bastion {bastion} could not open a connection to it ({reason}; is the host up, \
         and does the bastion allow TCP forwarding?)"
    )]
    Tunnel {
        /// `host:port` of the host behind the bastion.
        addr: String,
        /// `host:port` of the bastion.
        bastion: String,
        /// The bastion's answer.
        reason: String,
    },
    /// Any other SSH protocol failure.
    #[error("{addr}: ssh: {source}")]
    Protocol {
        /// `host:port`.
        addr: String,
        /// russh's error.
        source: russh::Error,
    },
}

impl SshError {
    /// Whether the host could not be reached or the connection broke, so a
    /// later try may work (as opposed to refused credentials or host keys).
    pub fn is_connection(&self) -> bool {
        if let SshError::Bastion { source, .. } = self {
            return source.is_connection();
        }
        matches!(
            self,
            SshError::Connect { .. }
                | SshError::Timeout { .. }
                | SshError::Lost { .. }
                | SshError::Protocol { .. }
                | SshError::Tunnel { .. }
        )
    }
}
