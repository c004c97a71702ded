//! A host that could not be reached when a run began. A reset or delete
//! must go on past hosts that are gone, so such a host gets this transport:
//! every call fails at once as a lost connection carrying the reason, and
//! the runner's keep-going stages report its steps and carry on.

use super::{BoxFuture, ByteStream, LineSink, Transport, TransportError};
use crate::engine::command::Command;

/// Every call fails with [`TransportError::Connection`] and the reason the
/// host could not be reached.
pub struct GoneTransport {
    reason: String,
}

impl GoneTransport {
    /// A host that is gone for `reason` (e.g. the connect error).
    pub fn new(reason: impl Into<String>) -> Self {
        GoneTransport {
            reason: reason.into(),
        }
    }

    fn fail<T>(&self) -> Result<T, TransportError> {
        Err(TransportError::Connection(self.reason.clone()))
    }
}

impl Transport for GoneTransport {
    fn run<'a>(
        &'a self,
        _cmd: &'a Command,
        _out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { self.fail() })
    }

    fn send<'a>(
        &'a self,
        _data: ByteStream<'a>,
        _cmd: &'a Command,
        _out: LineSink<'a>,
    ) -> BoxFuture<'a, Result<i32, TransportError>> {
        Box::pin(async move { self.fail() })
    }

    fn fetch<'a>(
        &'a self,
        _path: &'a str,
        _limit: u64,
    ) -> BoxFuture<'a, Result<Vec<u8>, TransportError>> {
        Box::pin(async move { self.fail() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_fails_as_a_connection_error_with_the_reason() {
        let gone = GoneTransport::new("connection refused");
        let mut sink = |_: crate::engine::event::Stream, _: &str| {};
        let err = gone
            .run(&Command::new("true"), &mut sink)
            .await
            .unwrap_err();
        assert!(err.is_connection());
        assert_eq!(err.to_string(), "connection: connection refused");
        let data: ByteStream<'_> = Box::new(&b"x"[..]);
        assert!(
            gone.send(data, &Command::new("cat"), &mut sink)
                .await
                .unwrap_err()
                .is_connection()
        );
        assert!(
            gone.fetch("/etc/hosts", 10)
                .await
                .unwrap_err()
                .is_connection()
        );
    }
}
