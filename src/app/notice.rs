//! What the application layer tells the user on its way — a warning, a
//! host key trusted for the first time — without printing: each face shows
//! notices its own way (a `warning:` line on stderr, a line on a screen).

use crate::ssh::NewHostKey;
use std::fmt;

/// One thing worth telling the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// What was done on the way (images loaded or pulled for a run).
    Note(String),
    /// Something went on, but not as asked (an assumed platform, a layer
    /// not scanned, an env key shadowed).
    Warning(String),
    /// A host's key was recorded on first use.
    NewHostKey {
        /// The host as the cluster names it.
        host: String,
        /// The key's algorithm.
        algorithm: String,
        /// Its SHA256 fingerprint.
        fingerprint: String,
    },
}

impl Notice {
    /// The notice of `host`'s newly trusted `key`.
    pub fn new_key(host: impl Into<String>, key: &NewHostKey) -> Self {
        Notice::NewHostKey {
            host: host.into(),
            algorithm: key.algorithm.clone(),
            fingerprint: key.fingerprint.clone(),
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Note(n) => f.write_str(n),
            Notice::Warning(w) => write!(f, "warning: {w}"),
            Notice::NewHostKey {
                host,
                algorithm,
                fingerprint,
            } => write!(
                f,
                "[{host}] new host key {algorithm} {fingerprint} recorded (trusted on first use)"
            ),
        }
    }
}

/// Where notices go: the face's printer or screen.
pub type Notify<'a> = &'a (dyn Fn(Notice) + Send + Sync);

/// A [`Notify`] that drops every notice (callers that own no output).
pub fn ignore(_: Notice) {}
