//! How a plan names a host: a leaf of its own, so what plans, actions and
//! specs carry about hosts imports nothing of theirs.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A host as the plan names it (its address as written in the Clusterfile).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostId(String);

impl HostId {
    /// Name a host.
    pub fn new(name: impl Into<String>) -> Self {
        HostId(name.into())
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A file name for this host's log: anything but `[A-Za-z0-9._:-]`
    /// becomes `_`, and it never starts with a dot, so a hostile name cannot
    /// leave the log dir.
    pub fn file_stem(&self) -> String {
        let mut s: String = self
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._:-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.is_empty() || s.starts_with('.') {
            s.insert(0, '_');
        }
        s
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
