//! The one thing the runner needs from a host: run a command with its
//! output streamed, stream bytes into a command's stdin, and read a small
//! file. SSH, the jump host itself ([`local::LocalTransport`]) and the demo
//! implement it. Object-safe, so the runner holds `Arc<dyn Transport>`.
//!
//! Commands arrive as data ([`Command`]), not as rendered lines: a transport
//! that runs them hands [`Command::script`] to `bash -s` on stdin, so no
//! value (secret or long) is ever on a command line on the host.

pub mod arch;
pub mod demo;
pub mod gone;
pub mod local;
pub mod select;
pub mod ssh;

use super::command::{Command, CommandError};
use super::event::Stream;
use std::future::Future;
use std::pin::Pin;
use tokio::io::AsyncRead;

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives each line of output (without its newline) as it arrives.
pub type LineSink<'a> = &'a mut (dyn FnMut(Stream, &str) + Send);

/// A stream of bytes to send.
pub type ByteStream<'a> = Box<dyn AsyncRead + Send + Unpin + 'a>;

/// Lines longer than this are cut into pieces, so output never grows memory.
pub const MAX_LINE: usize = 64 * 1024;

/// What can go wrong talking to a host.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host could not be reached, or the connection broke: worth a retry.
    #[error("connection: {0}")]
    Connection(String),
    /// Reading the local data to send failed.
    #[error("reading what to send: {0}")]
    Source(std::io::Error),
    /// A fetched file is larger than the caller allows.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The remote path.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The command cannot be turned into a script (a NUL byte, a bad env name).
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A local process or pipe failed (the jump host's own bash).
    #[error("{what}: {source}")]
    Local {
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The host refused or failed something that is not a lost connection
    /// (sudo refused, a channel refused); the SSH error is kept whole.
    #[error(transparent)]
    Ssh(Box<crate::ssh::SshError>),
    /// A file to fetch could not be read on the host.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The remote path.
        path: String,
        /// What the host said.
        reason: String,
    },
}

impl TransportError {
    /// Whether trying again could help.
    pub fn is_connection(&self) -> bool {
        matches!(self, TransportError::Connection(_))
    }
}

/// A host the runner can drive. Commands arrive as data, secrets marked;
/// implementations deliver them without putting any value on a command
/// line, and never log them (only [`Command::masked`] may be shown).
pub trait Transport: Send + Sync {
    /// Run `cmd` with bash, stdin empty, feeding output lines to `out`;
    /// returns the exit code.
    fn run<'a>(
        &'a self,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>>;

    /// Run `cmd` with `data` streamed into its stdin (closed at the end),
    /// feeding output lines to `out`; returns the exit code. When the
    /// command exits before reading everything, the rest is not sent.
    fn send<'a>(
        &'a self,
        data: ByteStream<'a>,
        cmd: &'a Command,
        out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>>;

    /// Read a small file, refusing one larger than `limit` bytes.
    fn fetch<'a>(
        &'a self,
        path: &'a str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>>;
}

/// Splits a byte stream into lines for a [`LineSink`], lossily decoding
/// UTF-8 and cutting lines at [`MAX_LINE`]. Transports feed it chunks.
#[derive(Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// Feed a chunk; complete lines go to `emit`.
    pub fn feed(&mut self, chunk: &[u8], mut emit: impl FnMut(&str)) {
        for &b in chunk {
            if b == b'\n' {
                self.flush(&mut emit);
            } else {
                self.buf.push(b);
                if self.buf.len() >= MAX_LINE {
                    self.flush(&mut emit);
                }
            }
        }
    }

    /// Emit what is left (a last line without a newline).
    pub fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if !self.buf.is_empty() {
            self.flush(&mut emit);
        }
    }

    fn flush(&mut self, emit: &mut impl FnMut(&str)) {
        let line = String::from_utf8_lossy(&self.buf);
        emit(line.strip_suffix('\r').unwrap_or(&line));
        self.buf.clear();
    }
}
