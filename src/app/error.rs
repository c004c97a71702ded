//! The application layer's error as faces receive it: cloneable (a
//! wizard's reply is), and keeping every cause, so a face can print the
//! message and each cause (`caused by:`) or list them on a screen.

use std::fmt;
use std::sync::Arc;

/// Why something the application layer was asked to do did not happen
/// (a run that did not get to its steps, a plan that could not be made),
/// with every cause kept and cheap to clone into a face's messages.
#[derive(Clone, Debug)]
pub struct AppError(Arc<anyhow::Error>);

impl AppError {
    /// The error with its causes, for a face that reports errors as
    /// `error:` and `caused by:` lines.
    pub fn error(&self) -> &anyhow::Error {
        &self.0
    }

    /// The message and each cause, one per line (a cause may span several,
    /// as an unreachable host each does).
    pub fn lines(&self) -> Vec<String> {
        self.0
            .chain()
            .flat_map(|c| {
                c.to_string()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The message alone; its causes are its sources, so a face that prints
/// `caused by:` lines shows each once.
impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError(Arc::new(e))
    }
}
