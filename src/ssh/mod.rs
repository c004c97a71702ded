//! The SSH transport: one russh connection per host, reused for every
//! command and reopened when lost; host keys checked against known_hosts;
//! commands run with streamed output and exit status, as root directly or
//! through sudo for other users; or through a bastion ([`Jump`]) whose
//! own connection carries each host's as a `direct-tcpip` channel.

mod auth;
mod error;
mod exec;
mod jump;
mod known_hosts;
mod open;
mod trust;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::secret::Secret;
use russh::client::{self, Handle};
use tokio::io::AsyncRead;

pub use auth::Auth;
pub use error::SshError;
pub use exec::{Exit, Line, Script, Stream};
pub use jump::Jump;
pub use known_hosts::{AskFn, HostKeyPolicy, KnownHosts, NewHostKey, Recorded, fingerprint};

use exec::Sudo;
use trust::Checker;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host name or IP address.
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// Login user; anyone but `root` runs commands through sudo.
    pub user: String,
    /// How to log in.
    pub auth: Auth,
    /// Password for sudo (`sudo -S`); without one, `sudo -n` is used.
    pub sudo_password: Option<Secret>,
    /// Limit for TCP connect plus handshake (and for opening a channel).
    pub connect_timeout: Duration,
    /// The bastion this host is reached through, if any (shared by every
    /// host behind it).
    pub via: Option<Arc<Jump>>,
}

impl Target {
    /// Port 22, a 10 s connect timeout, and the login password (if any) for sudo.
    pub fn new(host: impl Into<String>, user: impl Into<String>, auth: Auth) -> Target {
        let sudo_password = match &auth {
            Auth::Password(pw) => Some(pw.clone()),
            _ => None,
        };
        Target {
            host: host.into(),
            port: 22,
            user: user.into(),
            auth,
            sudo_password,
            connect_timeout: Duration::from_secs(10),
            via: None,
        }
    }

    /// The same target reached through `jump`.
    pub fn via(mut self, jump: Arc<Jump>) -> Target {
        self.via = Some(jump);
        self
    }

    /// The same target on another port.
    pub fn port(mut self, port: u16) -> Target {
        self.port = port;
        self
    }

    /// `host:port` (`[v6]:port` for IPv6 literals), as errors name it.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A connection to one host, shared by concurrent commands (each gets its own
/// channel) and reopened on the next command after it was lost.
pub struct Session {
    target: Target,
    known: KnownHosts,
    policy: HostKeyPolicy,
    conn: tokio::sync::Mutex<Option<Handle<Checker>>>,
    new_key: Arc<Mutex<Option<NewHostKey>>>,
    /// Commands running at once (OpenSSH allows 10 channels per connection).
    channels: tokio::sync::Semaphore,
    /// Whether sudo asks this user for a password (probed once).
    sudo_asks: tokio::sync::OnceCell<bool>,
}

/// Concurrent commands per session; more wait their turn. Below OpenSSH's
/// default `MaxSessions 10`.
pub const MAX_CHANNELS: usize = 8;

impl Session {
    /// Connect, check the host key and log in; fails with a typed error
    /// naming the host.
    pub async fn connect(
        target: Target,
        known: KnownHosts,
        policy: HostKeyPolicy,
    ) -> Result<Session, SshError> {
        let session = Session {
            target,
            known,
            policy,
            conn: Default::default(),
            new_key: Default::default(),
            channels: tokio::sync::Semaphore::new(MAX_CHANNELS),
            sudo_asks: tokio::sync::OnceCell::new(),
        };
        let handle = session.open().await?;
        *session.conn.lock().await = Some(handle);
        Ok(session)
    }

    /// Who this session talks to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The host key this session trusted for the first time and recorded,
    /// if it did (for reporting its fingerprint).
    pub fn new_host_key(&self) -> Option<NewHostKey> {
        self.new_key.lock().unwrap().clone()
    }

    /// Run `command` (a shell command line the caller has quoted) with root
    /// rights: as is for root, else under sudo. `input` is streamed to its
    /// stdin, then EOF; output lines go to `on_line` as they arrive. A lost
    /// connection is reopened before the command starts, never re-running a
    /// command that had started. At most [`MAX_CHANNELS`] run at once.
    /// The line is visible in the host's process list: nothing secret in
    /// it; use [`Session::script`] for that.
    pub async fn exec(
        &self,
        command: &str,
        input: Option<&mut (dyn AsyncRead + Unpin + Send)>,
        mut on_line: impl FnMut(Line) + Send,
    ) -> Result<Exit, SshError> {
        let io = exec::Io {
            preface: None,
            input,
            on_line: &mut on_line,
            stdout: None,
        };
        self.run((command, command), io).await
    }

    /// Run `script` as [`Session::exec`] runs a command, but with its text
    /// read by `bash -s` from stdin (after the sudo password, before
    /// `input`): the host's process list shows only `bash -s`.
    pub async fn script(
        &self,
        script: &Script,
        input: Option<&mut (dyn AsyncRead + Unpin + Send)>,
        mut on_line: impl FnMut(Line) + Send,
    ) -> Result<Exit, SshError> {
        let io = exec::Io {
            preface: Some(&script.text),
            input,
            on_line: &mut on_line,
            stdout: None,
        };
        self.run((exec::SCRIPT_SHELL, &script.shown), io).await
    }

    /// Run `command` and collect its output lines; a convenience over [`Session::exec`].
    pub async fn output(&self, command: &str) -> Result<(Exit, Vec<Line>), SshError> {
        let mut lines = Vec::new();
        let exit = self.exec(command, None, |l| lines.push(l)).await?;
        Ok((exit, lines))
    }

    /// Run `command` and return its stdout as bytes (e.g. `cat` of a file to
    /// fetch), failing with [`SshError::TooLarge`] beyond `limit` bytes, plus
    /// its stderr lines.
    pub async fn capture(
        &self,
        command: &str,
        limit: usize,
    ) -> Result<(Exit, Vec<u8>, Vec<Line>), SshError> {
        let (mut bytes, mut lines) = (Vec::new(), Vec::new());
        let mut on_line = |l| lines.push(l);
        let io = exec::Io {
            preface: None,
            input: None,
            on_line: &mut on_line,
            stdout: Some((&mut bytes, limit)),
        };
        let exit = self.run((command, command), io).await?;
        Ok((exit, bytes, lines))
    }

    /// Run the command line `line`, named `shown` in errors.
    async fn run(
        &self,
        (line, shown): (&str, &str),
        io: exec::Io<'_, '_>,
    ) -> Result<Exit, SshError> {
        let _slot = self.channels.acquire().await.expect("never closed");
        let sudo = match (&*self.target.user, &self.target.sudo_password) {
            ("root", _) => Sudo::No,
            (_, Some(pw)) if self.sudo_asks().await? => Sudo::Password(pw),
            _ => Sudo::NoPassword,
        };
        let channel = self.channel(shown).await?;
        let addr = self.target.addr();
        exec::run(channel, (&addr, &self.target.user), (line, shown), sudo, io).await
    }

    /// Close the connection politely (a later command reconnects).
    pub async fn close(&self) {
        if let Some(h) = self.conn.lock().await.take() {
            let _ = h
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }

    /// Whether sudo wants a password from this user. Asked once, so that a
    /// password is only ever written to sudo when sudo reads it: with
    /// NOPASSWD it would reach the command's stdin instead.
    async fn sudo_asks(&self) -> Result<bool, SshError> {
        let probe = async {
            let probe = "sudo -k -n -- sh -c true";
            let channel = self.channel(probe).await?;
            let (addr, user) = (self.target.addr(), &self.target.user);
            let io = exec::Io {
                preface: None,
                input: None,
                on_line: &mut |_| {},
                stdout: None,
            };
            let exit = exec::run(channel, (&addr, user), (probe, probe), Sudo::No, io).await?;
            Ok(!exit.success())
        };
        self.sudo_asks.get_or_try_init(|| probe).await.copied()
    }

    /// A fresh channel on the live connection, reconnecting if it is gone;
    /// `command` (as shown) names what it is for in errors.
    async fn channel(&self, command: &str) -> Result<russh::Channel<client::Msg>, SshError> {
        let mut conn = self.conn.lock().await;
        if let Some(h) = conn.as_ref().filter(|h| !h.is_closed()) {
            match tokio::time::timeout(self.target.connect_timeout, h.channel_open_session()).await
            {
                Ok(Ok(ch)) => return Ok(ch),
                // The server is there but says no (e.g. too many sessions): keep the connection.
                Ok(Err(russh::Error::ChannelOpenFailure(reason))) => {
                    return Err(SshError::Start {
                        addr: self.target.addr(),
                        command: command.to_string(),
                        reason: format!("the server refused a new channel ({reason:?})"),
                    });
                }
                _ => {}
            }
        }
        *conn = None;
        let h = self.open().await?;
        let ch = tokio::time::timeout(self.target.connect_timeout, h.channel_open_session())
            .await
            .map_err(|_| self.timeout())?
            .map_err(|source| SshError::Protocol {
                addr: self.target.addr(),
                source,
            })?;
        *conn = Some(h);
        Ok(ch)
    }

    /// Connect, verify the host key, authenticate.
    async fn open(&self) -> Result<Handle<Checker>, SshError> {
        open::open(&self.target, &self.known, &self.policy, &self.new_key).await
    }

    fn timeout(&self) -> SshError {
        SshError::Timeout {
            addr: self.target.addr(),
            secs: self.target.connect_timeout.as_secs(),
        }
    }
}
