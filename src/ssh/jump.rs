//! A bastion (jump host): one SSH connection, opened on first use and
//! reopened when lost, through which every host behind it is reached as a
//! `direct-tcpip` channel. Its host key is checked like any host's and it
//! logs in with its own credentials.

use std::fmt;
use std::sync::{Arc, Mutex};

use russh::ChannelStream;
use russh::client::{self, Handle};

use super::trust::Checker;
use super::{HostKeyPolicy, KnownHosts, NewHostKey, SshError, Target};

/// A bastion shared by the sessions of every host behind it.
pub struct Jump {
    target: Target,
    known: KnownHosts,
    policy: HostKeyPolicy,
    conn: tokio::sync::Mutex<Option<Handle<Checker>>>,
    new_key: Arc<Mutex<Option<NewHostKey>>>,
}

impl fmt::Debug for Jump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jump({}@{})", self.target.user, self.target.addr())
    }
}

impl Jump {
    /// A bastion at `target` (its own `via` is ignored: one hop only), its
    /// key checked against `known` with `policy`. Nothing is contacted yet.
    pub fn new(target: Target, known: KnownHosts, policy: HostKeyPolicy) -> Jump {
        Jump {
            target: Target {
                via: None,
                ..target
            },
            known,
            policy,
            conn: Default::default(),
            new_key: Default::default(),
        }
    }

    /// `host:port` of the bastion.
    pub fn addr(&self) -> String {
        self.target.addr()
    }

    /// The bastion's key if this connection trusted it for the first time.
    pub fn new_host_key(&self) -> Option<NewHostKey> {
        self.new_key.lock().unwrap().clone()
    }

    /// A byte stream to `host:port` opened by the bastion; `addr` (the
    /// host's) names the failure. Connects to the bastion when there is no
    /// live connection yet.
    pub(super) async fn tunnel(
        &self,
        host: &str,
        port: u16,
        addr: &str,
    ) -> Result<ChannelStream<client::Msg>, SshError> {
        let mut conn = self.conn.lock().await;
        if let Some(h) = conn.as_ref().filter(|h| !h.is_closed()) {
            match self.forward(h, host, port, addr).await {
                Ok(stream) => return Ok(stream),
                Err(e @ SshError::Tunnel { .. }) => return Err(e),
                Err(_) => {}
            }
        }
        *conn = None;
        let h = super::open::open(&self.target, &self.known, &self.policy, &self.new_key)
            .await
            .map_err(|e| SshError::Bastion {
                addr: addr.to_string(),
                source: Box::new(e),
            })?;
        let stream = self.forward(&h, host, port, addr).await?;
        *conn = Some(h);
        Ok(stream)
    }

    /// Ask the bastion over `h` to connect to `host:port`.
    async fn forward(
        &self,
        h: &Handle<Checker>,
        host: &str,
        port: u16,
        addr: &str,
    ) -> Result<ChannelStream<client::Msg>, SshError> {
        let open = h.channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0);
        let bastion = || SshError::Bastion {
            addr: addr.to_string(),
            source: Box::new(SshError::Timeout {
                addr: self.addr(),
                secs: self.target.connect_timeout.as_secs(),
            }),
        };
        match tokio::time::timeout(self.target.connect_timeout, open).await {
            Ok(Ok(channel)) => Ok(channel.into_stream()),
            Ok(Err(russh::Error::ChannelOpenFailure(reason))) => Err(SshError::Tunnel {
                addr: addr.to_string(),
                bastion: self.addr(),
                reason: format!("{reason:?}"),
            }),
            Ok(Err(source)) => Err(SshError::Bastion {
                addr: addr.to_string(),
                source: Box::new(SshError::Protocol {
                    addr: self.addr(),
                    source,
                }),
            }),
            Err(_) => Err(bastion()),
        }
    }
}
