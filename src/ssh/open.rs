//! Opening one SSH connection: TCP (or a tunnel through the target's
//! bastion), the handshake with the host key checked against known_hosts,
//! then the login. Sessions and bastions both open theirs here.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::{Preferred, cipher};
use tokio::io::{AsyncRead, AsyncWrite};

use super::trust::{Checker, host_key_order};
use super::{HostKeyPolicy, KnownHosts, NewHostKey, SshError, Target, auth};

/// Connect to `t` (through its bastion when it has one), verify the host
/// key against `known` with `policy` (a first-use key trusted is put in
/// `new_key`), and log in.
pub(super) async fn open(
    t: &Target,
    known: &KnownHosts,
    policy: &HostKeyPolicy,
    new_key: &Arc<Mutex<Option<NewHostKey>>>,
) -> Result<Handle<Checker>, SshError> {
    let addr = t.addr();
    let known_err = |(file, reason)| SshError::KnownHosts {
        addr: addr.clone(),
        file,
        reason,
    };
    let recorded = known.lookup(&t.host, t.port).map_err(known_err)?;
    let authorities = known.authorities(&t.host, t.port).map_err(known_err)?;
    // Ask for a host certificate only when a CA is trusted for this host.
    let certificates = if authorities.is_empty() {
        Cow::Borrowed(&[][..])
    } else {
        Preferred::DEFAULT.key.clone()
    };
    let config = Arc::new(client::Config {
        preferred: Preferred {
            cipher: Cow::Owned(vec![
                cipher::AES_128_GCM,
                cipher::AES_256_GCM,
                cipher::CHACHA20_POLY1305,
            ]),
            key: Cow::Owned(host_key_order(&recorded)),
            host_key_certificates: certificates,
            ..Preferred::DEFAULT
        },
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        ..Default::default()
    });
    let verdict = Arc::new(Mutex::new(None));
    let asking = Arc::new(AtomicBool::new(false));
    let checker = Checker {
        asking: asking.clone(),
        addr: addr.clone(),
        host: t.host.clone(),
        port: t.port,
        recorded,
        authorities,
        known: known.clone(),
        policy: policy.clone(),
        verdict: verdict.clone(),
        new_key: new_key.clone(),
    };
    let timeout = || SshError::Timeout {
        addr: addr.clone(),
        secs: t.connect_timeout.as_secs(),
    };
    let mut handle = match &t.via {
        Some(jump) => {
            // The bastion has its own timeouts; the host's starts once the tunnel is open.
            let stream = Box::pin(jump.tunnel(&t.host, t.port, &addr)).await?;
            tokio::select! {
                connected = handshake(config, stream, checker, &verdict, &addr) => connected?,
                () = timer(t.connect_timeout, &asking) => return Err(timeout()),
            }
        }
        None => {
            let connect = async {
                let tcp = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
                    .await
                    .map_err(|source| SshError::Connect {
                        addr: addr.clone(),
                        source,
                    })?;
                let _ = tcp.set_nodelay(true);
                handshake(config, tcp, checker, &verdict, &addr).await
            };
            tokio::select! {
                connected = connect => connected?,
                () = timer(t.connect_timeout, &asking) => return Err(timeout()),
            }
        }
    };
    auth::login(&mut handle, &addr, &t.user, &t.auth).await?;
    Ok(handle)
}

/// The SSH handshake over `stream`; a refused host key fails with the
/// checker's verdict rather than russh's bare "unknown key".
async fn handshake<S>(
    config: Arc<client::Config>,
    stream: S,
    checker: Checker,
    verdict: &Mutex<Option<SshError>>,
    addr: &str,
) -> Result<Handle<Checker>, SshError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    client::connect_stream(config, stream, checker)
        .await
        .map_err(|source| {
            verdict
                .lock()
                .unwrap()
                .take()
                .unwrap_or(SshError::Protocol {
                    addr: addr.to_string(),
                    source,
                })
        })
}

/// Ends after `limit`, not counting time spent while `paused` is set.
async fn timer(limit: Duration, paused: &AtomicBool) {
    let step = Duration::from_millis(50);
    let mut left = limit;
    while !left.is_zero() {
        tokio::time::sleep(step).await;
        if !paused.load(Ordering::SeqCst) {
            left = left.saturating_sub(step);
        }
    }
}
