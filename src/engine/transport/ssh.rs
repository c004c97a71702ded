//! The engine's [`Transport`] over an SSH [`Session`]: every command is a
//! script `bash -s` reads on stdin (under sudo for non-root users, which
//! the session handles, its password fed to `sudo -S` first and never
//! shown), so the host's process list shows `bash -s` and nothing of the
//! command's values; uploads stream into the same stdin right after the
//! script. No length prefix or temp file is needed to keep the two apart:
//! a shell reading its program from a pipe reads it byte by byte and never
//! past the command it is about to run (POSIX requires this so commands can
//! read the rest), and [`Command::script`] is one compound command ending in
//! `exit`. Fetches `cat` the file with a size limit. A lost connection is a
//! [`TransportError::Connection`], so the runner retries the step over a
//! fresh connection. Hosts behind a bastion share one connection to it
//! per batch ([`Jumps`]).

use super::{BoxFuture, ByteStream, LineSink, Transport, TransportError};
use crate::cluster::hosts::BastionAddr;
use crate::engine::command::{Command, quote};
use crate::engine::event::Stream;
use crate::engine::spec::{BastionSpec, HostSpec};
use crate::ssh::{
    Auth, Exit, HostKeyPolicy, Jump, KnownHosts, Line, NewHostKey, Script, Session, SshError,
    Stream as SshStream, Target,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncRead;

/// The bastions of one batch of connections: one [`Jump`] per
/// `USER@HOST:PORT`, so every host behind a bastion shares its connection
/// (and its key is checked once).
#[derive(Default)]
pub struct Jumps(Mutex<HashMap<BastionAddr, Arc<Jump>>>);

impl Jumps {
    /// The jump for `b`, made on first ask (with `b`'s login; a later ask
    /// for the same address reuses the first).
    fn get(&self, b: &BastionSpec, known: &KnownHosts, policy: &HostKeyPolicy) -> Arc<Jump> {
        let mut jumps = self.0.lock().unwrap_or_else(|p| p.into_inner());
        jumps
            .entry(b.addr.clone())
            .or_insert_with(|| {
                let auth = match (&b.key, &b.password) {
                    (Some(path), _) => Auth::Key {
                        path: path.clone(),
                        passphrase: None,
                    },
                    (None, Some(pw)) => Auth::Password(pw.clone()),
                    (None, None) => Auth::Agent { socket: None },
                };
                let target = Target::new(b.addr.host.clone(), b.addr.user.clone(), auth);
                let target = target.port(b.addr.port);
                Arc::new(Jump::new(target, known.clone(), policy.clone()))
            })
            .clone()
    }

    /// Each bastion key trusted for the first time, with the bastion's `host:port`.
    pub fn new_keys(&self) -> Vec<NewHostKey> {
        let jumps = self.0.lock().unwrap_or_else(|p| p.into_inner());
        jumps.values().filter_map(|j| j.new_host_key()).collect()
    }
}

/// One host reached over SSH.
pub struct SshTransport {
    session: Session,
}

impl SshTransport {
    /// Connect to `host` with its SSH settings (inline key, key file, password, else
    /// the agent), through its bastion (from `jumps`) when it has one.
    pub async fn connect(
        host: &HostSpec,
        known: KnownHosts,
        policy: HostKeyPolicy,
        jumps: &Jumps,
    ) -> Result<SshTransport, SshError> {
        let auth = match (&host.ssh.key_data, &host.ssh.key, &host.ssh.password) {
            (Some(data), _, _) => Auth::KeyData {
                data: data.clone(),
                passphrase: host.ssh.key_passphrase.clone(),
            },
            (None, Some(path), _) => Auth::Key {
                path: path.clone(),
                passphrase: host.ssh.key_passphrase.clone(),
            },
            (None, None, Some(pw)) => Auth::Password(pw.clone()),
            (None, None, None) => Auth::Agent { socket: None },
        };
        let mut target =
            Target::new(host.ip.to_string(), host.ssh.user.clone(), auth).port(host.port);
        target.sudo_password = host.ssh.password.clone();
        if let Some(b) = &host.ssh.bastion {
            target = target.via(jumps.get(b, &known, &policy));
        }
        Ok(SshTransport {
            session: Session::connect(target, known, policy).await?,
        })
    }
}

impl SshTransport {
    /// The host key this connection trusted for the first time, if any.
    pub fn new_host_key(&self) -> Option<crate::ssh::NewHostKey> {
        self.session.new_host_key()
    }

    /// Run `cmd` as a script on stdin, `data` (if any) right after it.
    async fn script(
        &self,
        cmd: &Command,
        data: Option<&mut (dyn AsyncRead + Unpin + Send)>,
        out: LineSink<'_>,
    ) -> Result<i32, TransportError> {
        let script = Script {
            text: cmd.script()?,
            shown: cmd.brief(),
        };
        let exit = self
            .session
            .script(&script, data, forward(out))
            .await
            .map_err(error)?;
        Ok(code(exit))
    }
}

fn error(e: SshError) -> TransportError {
    if e.is_connection() {
        TransportError::Connection(e.to_string())
    } else {
        TransportError::Ssh(Box::new(e))
    }
}

fn code(exit: Exit) -> i32 {
    match exit {
        Exit::Code(c) => i32::try_from(c).unwrap_or(255),
        // A signal is reported like a shell does: 128 + its number is not known here.
        Exit::Signal(_) => 128,
    }
}

fn forward(out: LineSink<'_>) -> impl FnMut(Line) + Send + '_ {
    move |l: Line| {
        let stream = match l.stream {
            SshStream::Stdout => Stream::Stdout,
            SshStream::Stderr => Stream::Stderr,
        };
        out(stream, &l.text)
    }
}

impl Transport for SshTransport {
    fn run<'a>(
        &'a self,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(self.script(cmd, None, out))
    }

    fn send<'a>(
        &'a self,
        mut data: ByteStream<'a>,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { self.script(cmd, Some(&mut data), out).await })
    }

    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        Box::pin(async move {
            let line = format!("cat -- {}", quote(path));
            let max = usize::try_from(limit).unwrap_or(usize::MAX);
            let (exit, bytes, err) =
                self.session
                    .capture(&line, max)
                    .await
                    .map_err(|e| match e {
                        SshError::TooLarge { .. } => TransportError::TooLarge {
                            path: path.into(),
                            limit,
                        },
                        other => error(other),
                    })?;
            if !exit.success() {
                let why: Vec<String> = err.into_iter().map(|l| l.text).collect();
                return Err(TransportError::Unreadable {
                    path: path.into(),
                    reason: why.join("; "),
                });
            }
            Ok(bytes)
        })
    }
}
