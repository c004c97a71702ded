//! How a long bundle operation reports progress and is stopped.

use std::sync::atomic::{AtomicBool, Ordering};

/// Told about the slow parts (copying and hashing) as they go; the CLI
/// draws a bar or prints plain lines.
pub trait Progress: Sync {
    /// Work on `file` (about `total` bytes) begins; `verb` says what
    /// (writing, checking, loading).
    fn start(&self, verb: &str, file: &str, total: u64);
    /// `bytes` more of the current file are done.
    fn advance(&self, bytes: u64);
    /// The current file is done.
    fn finish(&self, file: &str);
}

/// How a long bundle operation reports and is stopped: set `cancel` (on
/// Ctrl-C) and the operation stops at its next write, cleans up and
/// returns [`BundleError::Cancelled`](super::BundleError::Cancelled).
#[derive(Clone, Copy)]
pub struct Job<'a> {
    /// Where progress goes.
    pub progress: &'a dyn Progress,
    /// Set to stop.
    pub cancel: &'a AtomicBool,
}

impl Job<'_> {
    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
