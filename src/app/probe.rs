//! The connection test: every host at once, each logged into with its SSH
//! settings and asked its arch. A host key never seen before is trusted
//! only when the user confirmed its fingerprint, else reported for
//! confirmation, so nothing is recorded behind the user's back.

use super::Context;
use crate::engine::spec::HostSpec;
use crate::engine::transport::arch::arch_of;
use crate::engine::transport::ssh::{Jumps, SshTransport};
use crate::ssh::{HostKeyPolicy, NewHostKey, SshError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What testing one host found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tested {
    /// Under way.
    Testing,
    /// Logged in; the key was known or has just been trusted.
    Ok {
        /// `algorithm SHA256:…`.
        key: String,
        /// Its CPU architecture (`uname -m` as OCI names it), when known.
        arch: Option<String>,
    },
    /// The host's key is not on record: confirm it to trust it.
    NewKey {
        /// `algorithm SHA256:…`.
        key: String,
        /// The fingerprint alone.
        fingerprint: String,
    },
    /// Could not connect or log in.
    Failed(String),
}

/// Connect to every host at once; a first-use key is trusted only when
/// its fingerprint is in `trust`. Each host's answer goes to `reply` with
/// its IP as soon as it is known.
pub async fn test_all(
    ctx: &Context,
    hosts: &[HostSpec],
    trust: Vec<String>,
    reply: &(dyn Fn(String, Tested) + Sync),
) {
    let known = ctx.known_hosts();
    let seen: Arc<Mutex<HashMap<String, NewHostKey>>> = Arc::default();
    let trust = Arc::new(trust);
    let policy = {
        let seen = seen.clone();
        HostKeyPolicy::Ask(Arc::new(move |k: NewHostKey| {
            let ok = trust.contains(&k.fingerprint);
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(k.addr.clone(), k);
            Box::pin(async move { ok })
        }))
    };
    let jumps = Jumps::default();
    let tests = hosts.iter().map(|h| {
        let (known, policy, seen) = (known.clone(), policy.clone(), seen.clone());
        let jumps = &jumps;
        async move {
            let result = SshTransport::connect(h, known, policy, jumps).await;
            let arch = match &result {
                Ok(t) => arch_of(t).await.ok(),
                Err(_) => None,
            };
            let addr = format!("{}:{}", h.ip, h.port);
            let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            let key = seen.get(&addr).cloned();
            // A bastion's first-use key is confirmed like a host's, named as the bastion's.
            let bastion_key = match &result {
                Err(SshError::Bastion { source, .. }) => match source.as_ref() {
                    SshError::HostKeyUnknown { addr, .. } => seen.get(addr).cloned(),
                    _ => None,
                },
                _ => None,
            };
            drop(seen);
            let tested = match (result, key) {
                (Ok(_), Some(k)) => Tested::Ok {
                    key: format!("{} {} (trusted now)", k.algorithm, k.fingerprint),
                    arch,
                },
                (Ok(_), None) => Tested::Ok {
                    key: "key on record".into(),
                    arch,
                },
                (Err(_), Some(k)) => Tested::NewKey {
                    key: format!("{} {}", k.algorithm, k.fingerprint),
                    fingerprint: k.fingerprint,
                },
                (Err(e), None) => match bastion_key {
                    Some(k) => Tested::NewKey {
                        key: format!("bastion {}: {} {}", k.addr, k.algorithm, k.fingerprint),
                        fingerprint: k.fingerprint,
                    },
                    None => Tested::Failed(e.to_string()),
                },
            };
            reply(h.ip.to_string(), tested);
        }
    });
    futures_util::future::join_all(tests).await;
}
